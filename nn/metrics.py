"""The names compile accepts (Keras's strings for optimizers, losses and metrics), and the pairs of
a final activation and a loss that fit folds together so that the loss is taken from the logits."""
import minigrad as mg
from minigrad import optim

from . import functional as F


def _like(y, out):
    """Targets shaped and typed like the output, for element-wise losses ((N,) labels for an
    (N, 1) output)."""
    return y.reshape(out.shape).astype(out.dtype) if y.size == out.size else y


def accuracy(out, y):
    """The fraction predicted right: (N, classes) scores against class indices or one-hot rows, or
    probabilities against 0/1 labels (threshold 0.5)."""
    if out.ndim > 1 and out.shape[1] > 1:
        pred, true = out.argmax(1), (y.argmax(1) if y.shape == out.shape else y)
    else:
        pred, true = out.reshape(-1) > 0.5, y.reshape(-1) > 0.5
    return (pred == true.reshape(pred.shape)).float().mean()


def categorical_crossentropy(out, y):
    """Keras's cross-entropy of probabilities (N, classes), each row renormalised and clipped at
    1e-7, against one-hot rows or class indices."""
    return F.cross_entropy(mg.maximum(out, 1e-7).log(), y)     # log_softmax renormalises


# name -> (class, Keras's default learning rate)
OPTIMIZERS = {"sgd": (optim.SGD, 0.01), "adam": (optim.Adam, 1e-3), "adamw": (optim.AdamW, 1e-3),
              "rmsprop": (optim.RMSprop, 1e-3), "adagrad": (optim.Adagrad, 1e-3)}
LOSSES = {"cross_entropy": F.cross_entropy,           # logits against class indices or one-hot rows
          "binary_cross_entropy": lambda out, y: F.binary_cross_entropy(out, _like(y, out)),
          "mse": lambda out, y: F.mse_loss(out, _like(y, out)),
          "categorical_crossentropy": categorical_crossentropy,    # Keras's: of probabilities
          "sparse_categorical_crossentropy": categorical_crossentropy}
LOSSES["binary_crossentropy"] = LOSSES["binary_cross_entropy"]
METRICS = {"accuracy": accuracy, "mse": LOSSES["mse"],
           "mae": lambda out, y: (out - _like(y, out)).abs().mean()}
# (final activation, loss) -> (the activation, the loss computed from the logits instead)
_SOFTMAX = (lambda z: F.softmax(z, 1), F.cross_entropy)
_SIGMOID = (F.sigmoid, lambda z, y: F.binary_cross_entropy_with_logits(z, _like(y, z)))
FUSED = {("softmax", "cross_entropy"): _SOFTMAX, ("softmax", "categorical_crossentropy"): _SOFTMAX,
         ("softmax", "sparse_categorical_crossentropy"): _SOFTMAX,
         ("sigmoid", "binary_cross_entropy"): _SIGMOID, ("sigmoid", "binary_crossentropy"): _SIGMOID}
_KERAS_NAMES = {"mean_squared_error": "mse", "acc": "accuracy"}


def _pick(table, key, what, caller="compile", also="", hint=""):
    """table[key]; an unknown key is a ValueError naming the known ones (and `also`, what else
    would do)."""
    if key not in table:
        raise ValueError(f"{caller}: unknown {what} {key!r}{hint}; expected one of "
                         f"{', '.join(map(repr, table))}{also}")
    return table[key]


def lookup(value, table, what):
    """table[value] for a name; a callable passes through; anything else is a ValueError."""
    if callable(value) and not isinstance(value, str):
        return value
    hint = f"; minigrad calls it {_KERAS_NAMES[value]!r}" if value in _KERAS_NAMES else ""
    return _pick(table, value, what, also=" or a callable", hint=hint)
