"""Functions that make new tensors: constants, ranges and random draws."""
from . import backend as B
from .backend import xp
from .functions import shape_args as _shape
from .tensor import Tensor


def zeros(*shape, dtype=B.float32, requires_grad: bool = False) -> Tensor:
    return Tensor(xp.zeros(_shape(shape), dtype), requires_grad=requires_grad)


def ones(*shape, dtype=B.float32, requires_grad: bool = False) -> Tensor:
    return Tensor(xp.ones(_shape(shape), dtype), requires_grad=requires_grad)


def full(shape, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of `fill_value`; a float fill defaults to float32, an int to int64."""
    if dtype is None:
        dtype = B.default_float if isinstance(fill_value, float) else xp.asarray(fill_value).dtype
    return Tensor(xp.full(_shape((shape,)), fill_value, dtype), requires_grad=requires_grad)


def arange(start, stop=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, stop); float arguments give float32."""
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        floats = any(isinstance(v, float) for v in (start, stop, step))
        dtype = B.default_float if floats else B.default_int
    return Tensor(xp.arange(start, stop, step, dtype=dtype), requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype=B.float32, requires_grad: bool = False) -> Tensor:
    return Tensor(xp.eye(n, m, dtype=dtype), requires_grad=requires_grad)


def randn(*shape, dtype=B.float32, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the generator seeded by mg.manual_seed."""
    return Tensor(B.rng().standard_normal(_shape(shape)).astype(dtype), requires_grad=requires_grad)


def rand(*shape, dtype=B.float32, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) from the generator seeded by mg.manual_seed."""
    return Tensor(B.rng().random(_shape(shape)).astype(dtype), requires_grad=requires_grad)


def full_like(t: Tensor, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    return full(t.shape, fill_value, dtype=dtype or t.dtype, requires_grad=requires_grad)


def _like(make):
    def like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
        return make(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)
    like.__name__ = like.__qualname__ = f"{make.__name__}_like"
    like.__doc__ = f"{make.__name__} of t's shape, and of its dtype unless `dtype` is given."
    return like


zeros_like, ones_like, randn_like, rand_like = map(_like, (zeros, ones, randn, rand))
