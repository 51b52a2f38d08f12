"""keras.metrics: Keras's metric names and classes for compile(metrics=[...]). Every accuracy is
minigrad's `accuracy` (class indices, one-hot rows, or a sigmoid output with a 0.5 threshold)."""
from ..metrics import METRICS, _pick
from .layers import Configurable, as_tensor, snake_case

_ALIASES = {"accuracy": "accuracy", "acc": "accuracy", "categorical_accuracy": "accuracy",
            "sparse_categorical_accuracy": "accuracy", "binary_accuracy": "accuracy",
            "mse": "mse", "mean_squared_error": "mse", "mae": "mae", "mean_absolute_error": "mae"}


class Metric(Configurable):
    """A metric object for compile; called Keras's way, metric(y_true, y_pred) -> its value."""

    kind = "accuracy"

    def __init__(self, name=None):
        self.name = name or snake_case(type(self).__name__)

    def __call__(self, y_true, y_pred):
        return METRICS[self.kind](as_tensor(y_pred), as_tensor(y_true))


class CategoricalAccuracy(Metric):
    """The fraction of rows whose largest score is at the one-hot target's class."""


class SparseCategoricalAccuracy(Metric):
    """The fraction of rows whose largest score is at the target class index."""


class BinaryAccuracy(Metric):
    """The fraction of probabilities on the right side of 0.5."""


class MeanSquaredError(Metric):
    kind = "mse"


class MeanAbsoluteError(Metric):
    kind = "mae"


def get(identifier):
    """What Model.compile hands to fit: a name fit knows, or a named function(output, target)."""
    if isinstance(identifier, Metric):
        fn, name = METRICS[identifier.kind], identifier.name
    elif callable(identifier):
        fn, name = (lambda out, y: identifier(y, out)), identifier.__name__
    else:
        alias = _pick(_ALIASES, identifier, "metric", also=", a keras.metrics object or a function")
        fn, name = METRICS[alias], identifier

    def metric(out, y):
        return fn(out, y)
    metric.__name__ = name
    return metric
