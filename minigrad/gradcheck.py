"""Finite-difference gradient checks in float64, for users and for the test suite."""
from . import autograd
from .backend import xp
from .tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with central finite differences."""


class _Weighted:
    """fn reduced to a scalar by a fixed random weighting of its outputs (a plain sum would hide
    gradients that land in the wrong place)."""

    def __init__(self, fn, seed):
        self.fn, self.rng, self.weights = fn, xp.random.default_rng(seed), None

    def __call__(self, *inputs):
        outs = [o for o in autograd._listed(self.fn(*inputs))
                if isinstance(o, Tensor) and o.dtype.kind == "f"]
        if self.weights is None:
            self.weights = [self.rng.standard_normal(o.shape) for o in outs]
        terms = [(o * Tensor._wrap(w.astype(o.dtype))).sum() for o, w in zip(outs, self.weights)]
        return sum(terms[1:], terms[0]) if terms else None


def _check_inputs(inputs, caller):
    """(the inputs as a list, the indices of those that require grad), after checking them."""
    inputs = autograd._listed(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"{caller}: input {i} is a {type(x).__name__}, not a Tensor")
        if x.requires_grad and x.dtype != xp.float64:
            raise TypeError(f"{caller}: input {i} is {x.dtype}; finite differences need float64 "
                            "inputs (use .double())")
    return inputs, [i for i, x in enumerate(inputs) if x.requires_grad]


def _grads(scalar, inputs, wrt, create_graph=False):
    """The gradients of scalar(*inputs) with respect to inputs[i], i in wrt (None: unused)."""
    out = scalar(*inputs)
    if out is None or not out.requires_grad:
        return [None] * len(wrt)
    return autograd.grad(out, [inputs[i] for i in wrt], create_graph=create_graph,
                         allow_unused=True)


def _numeric(scalar, inputs, i, eps):
    x, grad = inputs[i].data, xp.zeros(inputs[i].shape)
    for k in xp.ndindex(x.shape):   # indices, not x.reshape(-1): that copies an x in F order
        orig = x[k]                 # (with grad enabled: gradgradcheck's fn takes gradients)
        x[k] = orig + eps
        hi = scalar(*inputs)
        x[k] = orig - eps
        lo = scalar(*inputs)
        x[k] = orig
        grad[k] = 0.0 if hi is None else (hi.item() - lo.item()) / (2 * eps)
    return grad


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              seed: int = 0) -> bool:
    """Compare the gradient of `fn` at `inputs` (float64 tensors) with central finite differences.

    Outputs are reduced to a scalar with fixed random weights. Raises GradcheckError naming the
    input and its worst element on a mismatch; returns True otherwise.
    """
    inputs, wrt = _check_inputs(inputs, "gradcheck")
    if not wrt:
        raise ValueError("gradcheck: no input has requires_grad=True")
    scalar = _Weighted(fn, seed)
    for i, g in zip(wrt, _grads(scalar, inputs, wrt)):
        analytic = xp.zeros(inputs[i].shape) if g is None else g.data
        numeric = _numeric(scalar, inputs, i, eps)
        err = xp.abs(analytic - numeric) - (atol + rtol * xp.abs(numeric))
        if err.size and not (err <= 0).all():
            bad = xp.unravel_index(xp.nanargmax(xp.where(xp.isnan(err), xp.inf, err)), err.shape)
            raise GradcheckError(
                f"gradcheck: input {i} (shape {inputs[i].shape}) disagrees with finite differences; "
                f"worst element {tuple(int(k) for k in bad)}: analytic {analytic[bad]:.8g}, numeric "
                f"{numeric[bad]:.8g} (atol={atol}, rtol={rtol}, eps={eps})")
    return True


def gradgradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  seed: int = 0) -> bool:
    """gradcheck of the (create_graph=True) gradient of `fn`: checks second derivatives."""
    inputs, wrt = _check_inputs(inputs, "gradgradcheck")
    scalar = _Weighted(fn, seed)

    def first_grads(*xs):
        return tuple(g for g in _grads(scalar, xs, wrt, create_graph=True) if g is not None)

    return gradcheck(first_grads, inputs, eps, atol, rtol, seed + 1)
