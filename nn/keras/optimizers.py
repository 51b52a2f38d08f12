"""keras.optimizers: Keras's optimizer classes and defaults, made before the model has parameters.

Each is a minigrad optimizer (minigrad.optim) whose parameters arrive later: fit calls
`build(params)` once the lazy layers exist. `learning_rate=` (or `lr=`, as older Keras took it)
and the other hyperparameters are checked when the object is made.
"""
import inspect

from minigrad import optim

from ..metrics import _pick
from .layers import Configurable


class Optimizer(Configurable):
    """Holds the hyperparameters (in minigrad's names) until build(params)."""

    built = False

    def _defer(self, learning_rate, lr, **hyper):
        self._hyper = dict(lr=learning_rate if lr is None else lr, **hyper)
        base = next(c for c in type(self).__mro__ if c.__module__.startswith("minigrad.optim"))
        defaults = {name: p.default for name, p in inspect.signature(base).parameters.items()
                    if p.default is not p.empty}
        self._validate({**defaults, **self._hyper})

    def build(self, params):
        """Become the minigrad optimizer over `params` (fit calls it)."""
        super(Optimizer, self).__init__(list(params), **self._hyper)
        self.built = True

    @property
    def learning_rate(self):
        """The rate now (param_groups[0]["lr"] once built; a LearningRateScheduler sets it)."""
        return self.param_groups[0]["lr"] if self.built else self._hyper["lr"]


class SGD(Optimizer, optim.SGD):
    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, lr=None):
        self._defer(learning_rate, lr, momentum=momentum, nesterov=nesterov)


class Adam(Optimizer, optim.Adam):
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, lr=None):
        self._defer(learning_rate, lr, betas=(beta_1, beta_2), eps=epsilon, amsgrad=amsgrad)


class AdamW(Optimizer, optim.AdamW):
    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, lr=None):
        self._defer(learning_rate, lr, weight_decay=weight_decay, betas=(beta_1, beta_2),
                    eps=epsilon, amsgrad=amsgrad)


class RMSprop(Optimizer, optim.RMSprop):
    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 lr=None):
        self._defer(learning_rate, lr, alpha=rho, momentum=momentum, eps=epsilon, centered=centered)


class Adagrad(Optimizer, optim.Adagrad):
    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 lr=None):
        self._defer(learning_rate, lr, initial_accumulator_value=initial_accumulator_value,
                    eps=epsilon)


_NAMES = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad}


def get(identifier):
    """An optimizer from Keras's name (with Keras's defaults) or an optimizer object."""
    if isinstance(identifier, str):
        return _pick(_NAMES, identifier.lower(), "optimizer", also=" or an optimizer object")()
    return identifier
