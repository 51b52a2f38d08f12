"""The array backend. NumPy today; this is the only file that names numpy, so a CuPy port starts here."""
import os

import numpy as xp
from numpy.lib.stride_tricks import as_strided

ndarray = xp.ndarray
float16, float32, float64 = xp.float16, xp.float32, xp.float64
int8, int16, int32, int64, uint8, bool_ = xp.int8, xp.int16, xp.int32, xp.int64, xp.uint8, xp.bool_
default_float = xp.dtype(xp.float32)
default_int = xp.dtype(xp.int64)

_rng = xp.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed the generator behind randn, rand, initialisers and dropout."""
    global _rng
    _rng = xp.random.default_rng(seed)


def rng():
    """The current random generator (a numpy Generator)."""
    return _rng


def get_rng_state() -> dict:
    """The generator's state as a plain dict, for checkpoints."""
    return _rng.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state taken with get_rng_state."""
    _rng.bit_generator.state = state


def kind(dtype) -> int:
    """0 for bool, 1 for integers, 2 for floating point: the order in which dtypes promote."""
    dtype = xp.dtype(dtype)
    return 0 if dtype == xp.bool_ else 2 if dtype.kind in "fc" else 1


def is_float(dtype) -> bool:
    return xp.dtype(dtype).kind == "f"


def windows(a, axes, size, stride, dilation):
    """A read-only strided view of sliding windows: each axis in `axes` becomes its output count, and
    one trailing axis per window dimension is appended (the layout of numpy's sliding_window_view)."""
    shape, strides = list(a.shape), list(a.strides)
    for ax, k, s, d in zip(axes, size, stride, dilation):
        shape[ax] = (a.shape[ax] - d * (k - 1) - 1) // s + 1
        strides[ax] = a.strides[ax] * s
        shape.append(k)
        strides.append(a.strides[ax] * d)
    return as_strided(a, tuple(shape), tuple(strides), writeable=False)


# BLAS threads behind matmul. One was the fastest setting on a 2-core machine for every workload
# measured (docs/benchmarks.md): a second thread rarely pays for its start-up on these matrix
# sizes, and it stalls badly whenever another process needs the other core.
DEFAULT_NUM_THREADS = 1


def set_num_threads(n: int) -> bool:
    """Limit the BLAS threads behind matmul to `n` through threadpoolctl (an optional dependency);
    returns False, changing nothing, when threadpoolctl is missing."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    threadpool_limits(int(n), user_api="blas")
    return True


def _default_num_threads():
    """$MINIGRAD_NUM_THREADS (0 leaves BLAS alone), else DEFAULT_NUM_THREADS unless one of the
    BLAS libraries' own variables is set."""
    value = os.environ.get("MINIGRAD_NUM_THREADS")
    if value is None:
        own = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
        return None if any(name in os.environ for name in own) else DEFAULT_NUM_THREADS
    if not value.strip().isdigit():
        raise ValueError(f"MINIGRAD_NUM_THREADS must be a whole number (0: leave BLAS alone), "
                         f"got {value!r}")
    return int(value) or None


_threads = _default_num_threads()
if _threads is not None:
    set_num_threads(_threads)
