"""PyTorch's tensor vocabulary as composites of the existing primitives: clamp, the rounding
family, cumsum, flip, roll, masked_fill, tril/triu, split/chunk, repeat, bmm/outer, logaddexp and
the other ops behind the Tensor methods and `mg.` functions of the same name.

None of these defines a backward; each is written with Tensor operations, so gradients (and
gradients of gradients) come from the primitives they use.

Size budget: 200 code lines
"""
import math

from . import functions as F
from .backend import xp
from .tensor import Tensor


def _dim(dim, ndim, op):
    """A single dim in range, counted from the end when negative."""
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise ValueError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dims")
    return dim % max(ndim, 1)


def dims(dim, keepdim, axis, keepdims):
    """torch's `dim`/`keepdim`, with NumPy's `axis`/`keepdims` accepted as aliases."""
    if axis is not None:
        if dim is not None:
            raise TypeError("give dim or its alias axis, not both")
        dim = axis
    return dim, keepdim if keepdims is None else keepdims


def _const(x, array):
    """An array of values with no gradient, as a Tensor of x's dtype."""
    return Tensor._wrap(xp.asarray(array, dtype=x.data.dtype))


def clamp(x, min=None, max=None) -> Tensor:
    """Limit x to [min, max]; either bound may be a number or a tensor (torch.clamp)."""
    if min is None and max is None:
        raise ValueError(f"clamp: give at least one of min and max (input {x.shape})")
    if min is not None:
        x = F.maximum(x, min)
    if max is not None:
        x = F.minimum(x, max)
    return x


def rounded(x, fn) -> Tensor:
    """A step function of x (round, floor, ceil, trunc, sign): gradient zero almost everywhere."""
    return x * 0 + _const(x, fn(x.data))


def cumsum(x, dim: int) -> Tensor:
    """Running sum along `dim`, as a matmul with an upper-triangular matrix of ones."""
    dim = _dim(dim, x.ndim, "cumsum")
    n = x.shape[dim]
    ones = _const(x, xp.triu(xp.ones((n, n))))
    return (x.swapaxes(dim, -1) @ ones).swapaxes(dim, -1)


def flip(x, dims) -> Tensor:
    """Reverse the order of elements along `dims`."""
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    key = [slice(None)] * x.ndim
    for d in dims:
        key[_dim(d, x.ndim, "flip")] = slice(None, None, -1)
    return x[tuple(key)]


def roll(x, shifts, dims=None) -> Tensor:
    """Shift elements circularly along `dims` (the flattened tensor when dims is None)."""
    if dims is None:
        return roll(x.reshape(-1), shifts, 0).reshape(x.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: {len(shifts)} shifts for {len(dims)} dims (input {x.shape})")
    for shift, d in zip(shifts, dims):
        d = _dim(d, x.ndim, "roll")
        n = x.shape[d]
        if n == 0:
            continue
        cut = (n - shift % n) % n
        key = [slice(None)] * x.ndim
        head, tail = list(key), list(key)
        head[d], tail[d] = slice(cut, None), slice(None, cut)
        x = F.concatenate([x[tuple(head)], x[tuple(tail)]], d)
    return x


def masked_fill(x, mask, value) -> Tensor:
    """x with `value` where `mask` is True; mask broadcasts against x."""
    mask = xp.asarray(F.unwrap(mask, "masked_fill"))
    if mask.dtype != xp.bool_:
        raise TypeError(f"masked_fill: mask must be bool, got {mask.dtype} (input {x.shape})")
    try:
        xp.broadcast_shapes(mask.shape, x.shape)
    except ValueError:
        raise ValueError(f"masked_fill: mask {mask.shape} does not broadcast to input "
                         f"{x.shape}") from None
    return F.where(mask, value, x)


def _tri(x, diagonal, upper, op):
    if x.ndim < 2:
        raise ValueError(f"{op}: input must have at least 2 dims, got shape {x.shape}")
    rows, cols = x.shape[-2:]
    keep = xp.triu(xp.ones((rows, cols), bool), diagonal) if upper else \
        xp.tril(xp.ones((rows, cols), bool), diagonal)
    return F.where(keep, x, 0.0)


def tril(x, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims; the rest is zero."""
    return _tri(x, diagonal, False, "tril")


def triu(x, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims; the rest is zero."""
    return _tri(x, diagonal, True, "triu")


def split(x, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces of `split_size` along `dim` (the last may be smaller), or of the listed sizes."""
    d = _dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0:
            raise ValueError(f"split: split_size must be positive, got {size} (input {x.shape})")
        sizes = [min(size, n - start) for start in range(0, n, size)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n}, the size of dim "
                             f"{dim} of input {x.shape}")
    pieces, start = [], 0
    for size in sizes:
        key = [slice(None)] * x.ndim
        key[d] = slice(start, start + size)
        pieces.append(x[tuple(key)])
        start += size
    return tuple(pieces)


def chunk(x, chunks: int, dim: int = 0) -> tuple:
    """At most `chunks` pieces of equal size (the last may be smaller) along `dim`."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks} (input {x.shape})")
    n = x.shape[_dim(dim, x.ndim, "chunk")]
    return split(x, max(math.ceil(n / chunks), 1), dim)


def unbind(x, dim: int = 0) -> tuple:
    """The slices along `dim`, with that dim removed."""
    d = _dim(dim, x.ndim, "unbind")
    return tuple(piece.squeeze(d) for piece in split(x, 1, d)) if x.shape[d] else ()


def repeat(x, sizes) -> Tensor:
    """Tile x `sizes` times along each dim (torch.Tensor.repeat; new leading dims allowed)."""
    sizes = tuple(sizes)
    if len(sizes) < x.ndim:
        raise ValueError(f"repeat: {len(sizes)} repeat counts for a tensor of shape {x.shape}")
    shape = (1,) * (len(sizes) - x.ndim) + x.shape
    x = x.reshape(sum(((1, s) for s in shape), ()))
    x = x.expand(sum(((r, s) for r, s in zip(sizes, shape)), ()))
    return x.reshape(tuple(r * s for r, s in zip(sizes, shape)))


def tile(x, dims) -> Tensor:
    """torch.tile: repeat, with missing leading counts taken as 1."""
    dims = tuple(dims)
    return repeat(x, (1,) * (x.ndim - len(dims)) + dims)


def bmm(a, b) -> Tensor:
    """(B, N, M) @ (B, M, P) -> (B, N, P), with no broadcasting (torch.bmm)."""
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise ValueError(f"bmm: expected (B, N, M) and (B, M, P), got {a.shape} and {b.shape}")
    return a @ b


def outer(a, b) -> Tensor:
    """(N,) and (M,) -> (N, M)."""
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"outer: expected two 1-D tensors, got {a.shape} and {b.shape}")
    return a.reshape(-1, 1) * b.reshape(1, -1)


def logaddexp(a, b) -> Tensor:
    """log(exp(a) + exp(b)) without overflow."""
    hi = F.maximum(a, b).detach()
    return hi + ((a - hi).exp() + (b - hi).exp()).log()
