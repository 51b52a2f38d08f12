"""keras.losses: Keras's loss classes and names, mapped onto the losses fit knows (nn/metrics.py).

A loss object is called Keras's way, loss(y_true, y_pred) -> 0-d Tensor. With from_logits=False
the prediction is a probability; a model ending in a softmax (sigmoid) trained with it has the
loss taken from the logits instead, for stability.
"""
from ..metrics import LOSSES, METRICS, _SIGMOID, _pick, lookup
from .layers import Configurable, as_tensor


class Loss(Configurable):
    """`key` is what fit uses: a name in nn/metrics.py's LOSSES or a function(output, target)."""

    def __init__(self, from_logits=False, name=None):
        self.from_logits, self.name = from_logits, name

    def __call__(self, y_true, y_pred):
        return lookup(self.key, LOSSES, "loss")(as_tensor(y_pred), as_tensor(y_true))


class CategoricalCrossentropy(Loss):
    """Against one-hot rows."""

    key = property(lambda self: "cross_entropy" if self.from_logits else "categorical_crossentropy")


class SparseCategoricalCrossentropy(Loss):
    """Against integer class indices."""

    key = property(lambda self: "cross_entropy" if self.from_logits else
                   "sparse_categorical_crossentropy")


class BinaryCrossentropy(Loss):
    # from_logits: the loss of logits that fit uses where a final sigmoid meets this one
    key = property(lambda self: _SIGMOID[1] if self.from_logits else "binary_crossentropy")


class MeanSquaredError(Loss):
    key = "mse"


class MeanAbsoluteError(Loss):
    key = staticmethod(METRICS["mae"])


_NAMES = {"categorical_crossentropy": CategoricalCrossentropy, "binary_crossentropy":
          BinaryCrossentropy, "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
          "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
          "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError}


def get(identifier):
    """What Model.compile hands to fit: a name from nn/metrics.py's LOSSES or a function
    (output, target); a function of Keras's (y_true, y_pred) is turned around."""
    if isinstance(identifier, str):
        identifier = _pick(_NAMES, identifier, "loss", also=" or a function(y_true, y_pred)")()
    if isinstance(identifier, Loss):
        return identifier.key
    if not callable(identifier):
        raise TypeError(f"compile: loss must be a name, a keras.losses object or a function, got "
                        f"{type(identifier).__name__}")
    return lambda out, y: identifier(y, out)
