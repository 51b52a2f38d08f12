"""keras.utils: to_categorical and set_random_seed."""
import random

import minigrad as mg
from minigrad.backend import xp


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot rows (N, num_classes) of integer labels (N,) or (N, 1); num_classes defaults to
    the largest label + 1. Returns a NumPy array."""
    y = xp.asarray(y)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    if y.dtype.kind not in "iu" or y.size == 0:
        raise ValueError(f"to_categorical: expected integer labels, got {y.dtype} of shape "
                         f"{y.shape}")
    num_classes = int(y.max()) + 1 if num_classes is None else num_classes
    return mg.one_hot(y, num_classes, dtype=dtype).numpy()


def set_random_seed(seed):
    """Seed Python's, NumPy's and minigrad's generators (weights, data order, dropout)."""
    random.seed(seed)
    xp.random.seed(seed)
    mg.manual_seed(seed)
