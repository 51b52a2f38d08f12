"""The array backend. NumPy today; this is the only file that names numpy, so a CuPy port starts here."""
import ctypes
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


def strided_view(a, shape, strides):
    """A read-only view of a's memory with the given shape and strides: numpy's as_strided, minus
    the few microseconds its generality costs on every conv, pooling window and broadcast."""
    if a.flags.c_contiguous and a.size:
        view = ndarray(shape, a.dtype, a, 0, strides)      # the buffer protocol checks the bounds
    else:
        view = as_strided(a, shape, strides)
    view.flags.writeable = False
    return view


# BLAS threads behind matmul. One: on the 2-core machines measured idle, a second thread gained
# 0.8-1.3x a step, and whenever another process wants the other core OpenBLAS's second thread
# spins and waits, 2-4x slower (docs/benchmarks.md). $MINIGRAD_NUM_THREADS=n opts in to more.
DEFAULT_NUM_THREADS = 1


def set_num_threads(n: int) -> bool:
    """Use `n` threads for the BLAS behind matmul (through threadpoolctl, an optional dependency);
    returns False when threadpoolctl is missing, so BLAS keeps its own setting."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    threadpool_limits(int(n), user_api="blas")
    return True


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory for reuse rather than hand it back to the OS: every
    block comes from the heap (none from its own mmap, which free() unmaps at once) and the heap is
    not trimmed. numpy allocates every temporary afresh, and faulting those pages in again took
    half the time of a LeNet-5 step and a third of a ResNet one (docs/benchmarks.md). Returns
    False, changing nothing, where malloc is not glibc's."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    return bool(mallopt(-4, 0)) and bool(mallopt(-1, 2**31 - 1))      # M_MMAP_MAX, M_TRIM_THRESHOLD


def _configure():
    """The defaults above, unless the environment says otherwise: $MINIGRAD_NUM_THREADS (0 leaves
    BLAS alone; so do the BLAS libraries' own variables) and $MINIGRAD_KEEP_MEMORY=0."""
    threads = os.environ.get("MINIGRAD_NUM_THREADS")
    if threads is None and not {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"} & \
            set(os.environ):
        threads = str(DEFAULT_NUM_THREADS)
    if threads is not None and not threads.strip().isdigit():
        raise ValueError(f"MINIGRAD_NUM_THREADS must be a whole number (0: leave BLAS alone), "
                         f"got {threads!r}")
    if threads and int(threads):
        set_num_threads(int(threads))
    if os.environ.get("MINIGRAD_KEEP_MEMORY", "1") != "0":
        keep_freed_memory()


_configure()
