"""PyTorch's tensor vocabulary beyond the core: clamp, rounding, trigonometry, cumulative and
product reductions, sorting, gathering and scattering, splitting, repeating, triangles, einsum.

Each is a composite of the primitives (minigrad/ops.py), so its gradient comes from the engine;
the few that need a primitive for exactness (sin, cos, log1p, expm1, cumsum) have one there. Every
function here takes the tensor first under torch's name and parameter names, and is bound both as
a Tensor method and as `mg.<name>` (the two lists at the end), as in torch. Rounding, sign,
comparisons and index results are piecewise constant: they carry no gradient.

Size budget: 380 code lines
"""
import builtins
import collections
import functools
import math
import numbers
import string

from . import autograd, ops
from . import functions as F
from .backend import default_float, xp
from .tensor import Tensor

ValuesIndices = collections.namedtuple("ValuesIndices", "values indices")


def _const(array):
    return Tensor._wrap(xp.asarray(array))


# --- elementwise ---------------------------------------------------------------------------------

def clamp(input, min=None, max=None) -> Tensor:
    """min(max(input, min), max) as torch.clamp: the gradient reaches input where
    min <= input <= max (both ends included) and a tensor bound where it is the result."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    out = input
    if min is not None:
        out = F.where(F.unwrap(out < min, "clamp"), min, out)
    if max is not None:
        out = F.where(F.unwrap(out > max, "clamp"), max, out)
    return out


def _constant(fn, bools=False):
    def op(input) -> Tensor:            # a bool tensor is refused unless `bools`, as in torch
        x = input if bools else F.not_bool(input, fn.__name__)
        return _const(autograd.host(fn, x.data))      # so a compiled step recomputes it
    op.__name__ = fn.__name__
    op.__doc__ = f"numpy.{fn.__name__} of the values: a constant (zero gradient where defined)."
    return op


def sign(a):            # as torch: 0 at nan, and a bool is its own sign
    return a.copy() if a.dtype == xp.bool_ else ops._sign(a, a.dtype)


floor, ceil, trunc = (_constant(f) for f in (xp.floor, xp.ceil, xp.trunc))
sign, isnan, isinf, isfinite = (_constant(f, True) for f in (sign, xp.isnan, xp.isinf, xp.isfinite))


def round(input, decimals: int = 0) -> Tensor:
    """Half to even, as torch.round; a constant."""
    if not isinstance(decimals, numbers.Integral):
        raise TypeError(f"round: decimals must be an int, got {decimals!r} (shape {input.shape})")
    return _const(autograd.host(xp.round, F.not_bool(input, "round").data, decimals))


def _primitive(prim):
    def op(input) -> Tensor:
        return prim.apply(F.floating(input))
    op.__name__ = op.__qualname__ = prim.__name__.lower()
    op.__doc__ = (f"{op.__name__} by its primitive, ops.{prim.__name__}; of an integer or bool "
                  "tensor, in the default float dtype (as torch).")
    return op


exp, log, sqrt, tanh, sin, cos, log1p, expm1 = (_primitive(p) for p in (
    ops.Exp, ops.Log, ops.Sqrt, ops.Tanh, ops.Sin, ops.Cos, ops.Log1p, ops.Expm1))


def rsqrt(input) -> Tensor:
    return 1 / input.sqrt()


def pow(input, exponent) -> Tensor:
    return input ** exponent


def square(input) -> Tensor:
    return input * input


def nan_to_num(input, nan: float = 0.0, posinf=None, neginf=None) -> Tensor:
    """nan, +inf and -inf replaced (by default with 0 and the dtype's largest and lowest finite
    values); the gradient flows where the input was finite."""
    if input.dtype.kind != "f":
        return _const(autograd.host(xp.copy, input.data))     # ints and bools: nothing to replace
    info = xp.finfo(input.dtype)
    out = F.where(isnan(input), nan, input)
    out = F.where(input == xp.inf, info.max if posinf is None else posinf, out)
    return F.where(input == -xp.inf, info.min if neginf is None else neginf, out)


def logaddexp(input, other) -> Tensor:
    """log(exp(input) + exp(other)) without overflow."""
    other = other if isinstance(other, Tensor) else F.lift(other, input, "logaddexp")
    a, b = F.broadcast(*F.promote(input, other), "logaddexp")   # names both shapes if they clash
    shape = xp.broadcast_shapes(a.shape, b.shape)
    return F.logsumexp(F.stack([a.expand(shape), b.expand(shape)], 0), 0, False)


# --- reductions ----------------------------------------------------------------------------------

def std(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None,
        **numpy) -> Tensor:
    """The square root of Tensor.var, with its arguments (correction 1 by default, as torch)."""
    return input.var(dim, unbiased, keepdim, correction=correction, **numpy).sqrt()


def amax(input, dim=(), keepdim: bool = False, op: str = "amax") -> Tensor:
    """The maximum over `dim` (all dims when () or None); tied maxima share the gradient evenly."""
    axis = F.axes(None if dim == () else dim, input.shape, op)
    _nonempty(input, axis, op)
    return ops.Max.apply(input, axis=axis, keepdims=keepdim)


def amin(input, dim=(), keepdim: bool = False, op: str = "amin") -> Tensor:
    return -amax(-input, dim, keepdim, op)


def _nonempty(input, axis, op):
    if any(input.shape[ax] == 0 for ax in axis) or (input.size == 0 and not axis):
        raise ValueError(f"{op}: cannot reduce a zero-size axis (tensor of shape {input.shape})")


def max(input, dim=None, keepdim: bool = False, **numpy):
    """torch.max: the maximum of all values when `dim` is None; (values, indices) along an int
    `dim` (the first maximum's index; the gradient reaches that element, as torch's); the
    elementwise maximum when `dim` is a Tensor. A tuple of dims, or NumPy's axis=/keepdims=,
    gives the values only, as amax and numpy.max do."""
    return _extremum(input, dim, keepdim, numpy, "max")


def min(input, dim=None, keepdim: bool = False, **numpy):
    """torch.min, the mirror image of max."""
    return _extremum(input, dim, keepdim, numpy, "min")


def _extremum(input, dim, keepdim, numpy, op):
    if isinstance(dim, Tensor):
        return (F.maximum if op == "max" else F.minimum)(input, dim)
    if numpy or not isinstance(dim, numbers.Integral):
        return (amax if op == "max" else amin)(input, *F.reduction_args(dim, keepdim, numpy), op=op)
    d = F.dim_index(dim, input.shape, op)
    if input.ndim == 0:
        return ValuesIndices(input.clone(), _const(xp.zeros((), xp.int64)))
    _nonempty(input, (d,), op)
    idx = input.argmax(d, keepdim=True) if op == "max" else input.argmin(d, keepdim=True)
    values = take_along_dim(input, idx, d)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return ValuesIndices(values, idx)


def prod(input, dim=None, keepdim: bool = False) -> Tensor:
    """Product over `dim` (all when None) as a tree of pairwise products: exact gradients, zeros
    included (no division by the input)."""
    if dim is None:
        return prod(input.reshape(-1), 0, keepdim).reshape((1,) * input.ndim if keepdim else ())
    dim = F.dim_index(dim, input.shape, "prod")
    x = input.unsqueeze(dim) if input.ndim == 0 else input
    while x.shape[dim] > 1:
        if x.shape[dim] % 2:
            one = F.lift(1, x, "prod").expand(x.shape[:dim] + (1,) + x.shape[dim + 1:])
            x = F.concatenate([x, one], dim)
        half = x.shape[dim] // 2
        x = _slice(x, dim, 0, half) * _slice(x, dim, half, 2 * half)
    return x if keepdim else F.squeeze(x, dim)


def _slice(x, dim, start, stop, step=1):
    return x[(slice(None),) * dim + (slice(start, stop, step),)]


def cumsum(input, dim: int) -> Tensor:
    return ops.Cumsum.apply(input, axis=F.dim_index(dim, input.shape, "cumsum"))


def cumprod(input, dim: int) -> Tensor:
    """Running products along dim: log2(n) rounds of multiplying by a copy shifted by 1, 2, 4 ...
    (exact with zeros and signs, unlike exp(cumsum(log)))."""
    d = F.dim_index(dim, input.shape, "cumprod")
    out, shift, n = input * 1, 1, input.shape[d] if input.ndim else 1
    while shift < n:
        pad = [(shift, 0) if i == d else (0, 0) for i in range(out.ndim)]
        out, shift = out * _slice(out, d, 0, n - shift).pad(pad, 1.0), shift * 2
    return out


def norm(input, p=2, dim=None, keepdim: bool = False) -> Tensor:
    """The p-norm over `dim` (all elements when None): p = 2, 1, inf, -inf, 0 or any other."""
    a = input.abs()
    F.axes(dim, input.shape, "norm")
    if p in (2, "fro"):
        return (input * input).sum(dim, keepdim).sqrt()
    if p == 1:
        return a.sum(dim, keepdim)
    if p in (math.inf, -math.inf):
        return (amax if p > 0 else amin)(a, dim, keepdim)
    if p == 0:
        return (input != 0).sum(dim, keepdim).astype(input.dtype)
    return (a ** p).sum(dim, keepdim) ** (1 / p)


# --- sorting -------------------------------------------------------------------------------------

def argsort(input, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Indices that sort along `dim` (ties in their original order)."""
    dim = F.dim_index(dim, input.shape, "argsort")
    return _const(autograd.host(_argsort, input.data, dim, descending))


def _argsort(a, axis, descending):
    return xp.argsort(-a if descending else a, axis=axis, kind="stable").astype(xp.int64)


def sort(input, dim: int = -1, descending: bool = False, stable: bool = False) -> ValuesIndices:
    """(values, indices) as torch.sort; values gather the input, so the gradient reaches it."""
    idx = argsort(input, dim, descending)
    return ValuesIndices(take_along_dim(input, idx, dim), idx)


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> ValuesIndices:
    """The k largest (or smallest) along `dim`, sorted, as (values, indices)."""
    d = F.dim_index(dim, input.shape, "topk")
    if not 0 <= k <= (input.shape[d] if input.ndim else 1):
        raise ValueError(f"topk: k = {k} is out of range for dim {dim} of shape {input.shape}")
    idx = _slice(argsort(input, d, descending=largest), d, 0, k)
    return ValuesIndices(take_along_dim(input, idx, d), idx)


# --- indexing ------------------------------------------------------------------------------------

def take_along_dim(input, indices, dim=None) -> Tensor:
    if dim is None:
        flat = xp.asarray(F.unwrap(indices, "take_along_dim")).reshape(-1)
        return F.take_along_axis(input.reshape(-1), flat, 0)
    return F.take_along_axis(input, indices, dim)


def _index(index, op, input):
    idx = xp.asarray(F.unwrap(index, op))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor, got {idx.dtype} "
                        f"(input of shape {input.shape})")
    return idx


def gather(input, dim: int, index) -> Tensor:
    """out[i][j] = input[index[i][j]][j] (dim 0), index no larger than input off `dim`."""
    idx, d = _index(index, "gather", input), F.dim_index(dim, input.shape, "gather")
    if idx.ndim != input.ndim or any(i > n for k, (i, n) in enumerate(zip(idx.shape, input.shape))
                                     if k != d):
        raise ValueError(f"gather: index of shape {idx.shape} does not fit input of shape "
                         f"{input.shape} along dim {dim}")
    return F.getitem(input, F.grid_key(idx, d))


def scatter_add(input, dim: int, index, src) -> Tensor:
    """input with src[i][j] added at [index[i][j]][j] (dim 0); repeated indices accumulate."""
    idx, d = _index(index, "scatter_add", input), F.dim_index(dim, input.shape, "scatter_add")
    src = src if isinstance(src, Tensor) else F.lift(src, input, "scatter_add").expand(idx.shape)
    try:
        src = src[tuple(slice(n) for n in idx.shape)]
        added = ops.IndexAdd.apply(src, key=F.grid_key(idx, d), shape=input.shape)
    except (IndexError, ValueError) as e:
        raise ValueError(f"scatter_add: index {idx.shape} and src {src.shape} do not fit input "
                         f"{input.shape} along dim {dim}: {e}") from None
    return input + added


def scatter(input, dim: int, index, src=None, value=None) -> Tensor:
    """input with src (or `value`) written at the index positions; with repeated indices the
    written values are summed (torch leaves which one wins unspecified)."""
    src = value if src is None else src
    idx = _index(index, "scatter", input)
    hit = xp.zeros(input.shape, bool)
    hit[F.grid_key(idx, F.dim_index(dim, input.shape, "scatter"))] = True
    return F.where(hit, scatter_add(_const(xp.zeros_like(input.data)), dim, index, src), input)


def index_select(input, dim: int, index) -> Tensor:
    idx = _index(index, "index_select", input)
    if idx.ndim > 1:
        raise IndexError(f"index_select: index must be 0-d or 1-D, got {idx.shape} (input "
                         f"{input.shape})")
    d = F.dim_index(dim, input.shape, "index_select")
    return F.getitem(input, (slice(None),) * d + (idx.reshape(-1),))


def masked_fill(input, mask, value) -> Tensor:
    m = xp.asarray(F.unwrap(mask, "masked_fill"))
    if m.dtype != bool:
        raise TypeError(f"masked_fill: mask must be bool, got {m.dtype} (input {input.shape})")
    pairs = zip(m.shape[::-1], input.shape[::-1])
    if m.ndim > input.ndim or any(a not in (1, b) for a, b in pairs):
        raise ValueError(f"masked_fill: mask {m.shape} does not broadcast to input {input.shape}")
    return F.where(m, value, input)


def tril(input, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (zeros above `diagonal`), by a select."""
    n, m = input.shape[-2:]
    return F.where(xp.tri(n, m, diagonal, bool), input, 0.0)


def triu(input, diagonal: int = 0) -> Tensor:
    n, m = input.shape[-2:]
    return F.where(~xp.tri(n, m, diagonal - 1, bool), input, 0.0)


# --- shape ---------------------------------------------------------------------------------------

def flip(input, dims) -> Tensor:
    dims = F.axes(dims, input.shape, "flip")
    return input[tuple(slice(None, None, -1 if i in dims else 1) for i in range(input.ndim))]


def roll(input, shifts, dims=None) -> Tensor:
    if dims is None:
        return roll(input.reshape(-1), shifts, 0).reshape(input.shape)
    shifts, dims = (tuple(v) if isinstance(v, (tuple, list)) else (v,) for v in (shifts, dims))
    if len(shifts) != len(dims):
        raise ValueError(f"roll: shifts {shifts} and dims {dims} must align (shape {input.shape})")
    for s, d in zip(shifts, dims):
        d = F.dim_index(d, input.shape, "roll")
        n = input.shape[d]
        s = s % n if n else 0
        input = F.concatenate([_slice(input, d, n - s, n), _slice(input, d, 0, n - s)], d)
    return input


def split(input, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces of `split_size` along dim (the last may be smaller), or of the listed sizes."""
    d, sizes = F.dim_index(dim, input.shape, "split"), split_size_or_sections
    n = input.shape[d]
    if isinstance(sizes, int):
        sizes = [builtins.min(sizes, n - i) for i in range(0, n, sizes)] if sizes > 0 else None
    if sizes is None or sum(sizes) != n:
        raise ValueError(f"split: sizes {split_size_or_sections} do not split dim {dim} of shape "
                         f"{input.shape}")
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    return tuple(_slice(input, d, a, a + k) for a, k in zip(starts, sizes))


def chunk(input, chunks: int, dim: int = 0) -> tuple:
    n = input.shape[F.dim_index(dim, input.shape, "chunk")]
    return split(input, builtins.max(-(-n // chunks), 1), dim)


def unbind(input, dim: int = 0) -> tuple:
    d = F.dim_index(dim, input.shape, "unbind")
    return tuple(input[(slice(None),) * d + (i,)] for i in range(input.shape[d]))


def repeat(input, *sizes) -> Tensor:
    """torch.Tensor.repeat (numpy.tile): the whole tensor repeated sizes[i] times along dim i."""
    sizes = F.shape_args(sizes)
    if len(sizes) < input.ndim:
        raise ValueError(f"repeat: {len(sizes)} sizes for a tensor of shape {input.shape}")
    x = input.reshape((1,) * (len(sizes) - input.ndim) + input.shape)
    inter = tuple(v for n in x.shape for v in (1, n))
    wide = tuple(v for r, n in zip(sizes, x.shape) for v in (r, n))
    return x.reshape(inter).expand(wide).reshape(tuple(r * n for r, n in zip(sizes, x.shape)))


def tile(input, dims) -> Tensor:
    dims = tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def repeat_interleave(input, repeats, dim=None) -> Tensor:
    """Each element (dim None: of the flattened tensor) repeated `repeats` times in place."""
    if dim is None:
        return repeat_interleave(input.reshape(-1), repeats, 0)
    d = F.dim_index(dim, input.shape, "repeat_interleave")
    if isinstance(repeats, Tensor):     # the counts set the output's shape
        autograd.untraceable("repeat_interleave with tensor repeats (the shape depends on them)")
    counts = xp.asarray(F.unwrap(repeats, "repeat_interleave"))
    if counts.ndim > 1 or counts.size not in (1, input.shape[d]) or (counts < 0).any():
        raise ValueError(f"repeat_interleave: repeats {counts.shape} must be one count >= 0 or "
                         f"one per position along dim {dim} of shape {input.shape}")
    return index_select(input, d, xp.repeat(xp.arange(input.shape[d]), counts.reshape(-1)))


def expand_as(input, other) -> Tensor:
    return input.expand(other.shape)


def unflatten(input, dim: int, sizes) -> Tensor:
    d = F.dim_index(dim, input.shape, "unflatten")
    return input.reshape(input.shape[:d] + tuple(sizes) + input.shape[d + 1:])


def movedim(input, source: int, destination: int) -> Tensor:
    order = [i for i in range(input.ndim) if i != F.dim_index(source, input.shape, "movedim")]
    order.insert(F.dim_index(destination, input.shape, "movedim"), source % input.ndim)
    return input.permute(*order)


# --- products ------------------------------------------------------------------------------------

def bmm(input, mat2) -> Tensor:
    if input.ndim != 3 or mat2.ndim != 3 or input.shape[0] != mat2.shape[0]:
        raise ValueError(f"bmm: expected two 3-D tensors with the same batch, got {input.shape} "
                         f"and {mat2.shape}")
    return F.matmul(input, mat2)


def outer(input, vec2) -> Tensor:
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation: diagonals by indexing, sums, and one batched matmul per pair of
    operands (left to right), never a Python loop over elements."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = operands[0]
    eq = equation.replace(" ", "")
    ins, out = eq.split("->") if "->" in eq else (eq, None)
    terms = ins.split(",")
    if len(terms) != len(operands) or any(len(t) != x.ndim for t, x in zip(terms, operands)) or \
            any(c not in string.ascii_letters for c in "".join(terms) + (out or "")):
        raise ValueError(f"einsum: equation {equation!r} does not fit operands of shapes "
                         f"{[tuple(x.shape) for x in operands]} (letters only, no '...')")
    if out is None:
        letters = "".join(terms)
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    xs = [_diagonal(x, t) for x, t in zip(operands, terms)]
    x, t = xs[0]
    for y, u in xs[1:]:
        rest = "".join(t2 for _, t2 in xs) + out
        x, t = _contract(x, t, y, u, rest)
    gone = [i for i, c in enumerate(t) if c not in out]
    if gone:
        x, t = x.sum(tuple(gone)), "".join(c for c in t if c in out)
    return x.permute(*[t.index(c) for c in out]) if len(out) > 1 else x


def _diagonal(x, term):
    """Repeated letters in one term (einsum 'ii->i') become one axis: the diagonal."""
    while len(set(term)) < len(term):
        c = next(c for c in term if term.count(c) > 1)
        i, j = term.index(c), term.index(c, term.index(c) + 1)
        n = xp.arange(x.shape[i])
        key = tuple(n if k in (i, j) else slice(None) for k in range(x.ndim))
        x = x[key]          # the advanced axes move to the front
        term = c + "".join(t for k, t in enumerate(term) if k not in (i, j))
    return x, term


def _contract(x, t, y, u, rest):
    """x (letters t) times y (letters u), summing the shared letters not needed later."""
    later = rest.replace(t, "", 1).replace(u, "", 1)
    batch = [c for c in t if c in u and c in later]
    summed = [c for c in t if c in u and c not in later]
    left = [c for c in t if c not in u]
    right = [c for c in u if c not in t]
    size = dict(zip(t, x.shape)) | dict(zip(u, y.shape))
    n = lambda cs: math.prod(size[c] for c in cs)
    a = x.permute(*[t.index(c) for c in batch + left + summed])
    b = y.permute(*[u.index(c) for c in batch + summed + right])
    a = a.reshape(n(batch), n(left), n(summed))         # (B, M, K) @ (B, K, N)
    b = b.reshape(n(batch), n(summed), n(right))
    z = F.matmul(a, b).reshape(tuple(size[c] for c in batch + left + right))
    return z, "".join(batch + left + right)


# --- the rest of torch's everyday Tensor API ----------------------------------------------------

matmul = F.matmul


def numel(input) -> int:
    return input.size


def clone(input) -> Tensor:
    """A copy that stays in the graph (times 1 keeps -0.0, inf and nan)."""
    return input * 1


def type_as(input, other) -> Tensor:
    return input.astype(other.dtype)


def to(input, *args, **kwargs) -> Tensor:
    """to(dtype) casts; to('cpu') and device='cpu' change nothing; minigrad runs on the CPU only,
    so another device is refused."""
    for device in [a for a in args if isinstance(a, str)] + [str(kwargs.get("device") or "cpu")]:
        if device.split(":")[0] != "cpu":
            raise ValueError(f"to: minigrad runs on the CPU only, got device {device!r}")
    dtype = kwargs.get("dtype", next((a for a in args if not isinstance(a, str)), None))
    return input if dtype is None else input.astype(dtype)


def new_zeros(input, size, dtype=None) -> Tensor:
    return _const(xp.zeros(F.shape_args((size,)), dtype or input.dtype))


def where(input, condition, other) -> Tensor:
    """Tensor.where(condition, other): input where condition, else other (torch's method form)."""
    return F.where(condition, input, other)


def lerp(input, end, weight) -> Tensor:
    return input + weight * (end - input)


def diagonal(input, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of dims dim1 and dim2 as the last dim, as torch.diagonal."""
    d1, d2 = F.dim_index(dim1, input.shape, "diagonal"), F.dim_index(dim2, input.shape, "diagonal")
    if d1 == d2:
        raise ValueError(f"diagonal: dim1 and dim2 are both {d1} (shape {input.shape})")
    x = movedim(movedim(input, d1, -1), d2 - (d2 > d1), -1)
    low, high = builtins.min(offset, 0), builtins.max(offset, 0)
    n = builtins.max(0, builtins.min(x.shape[-2] + low, x.shape[-1] - high))
    rows = xp.arange(n) - low
    return x[..., rows, rows + offset]


def narrow(input, dim: int, start: int, length: int) -> Tensor:
    d = F.dim_index(dim, input.shape, "narrow")
    n = input.shape[d]
    begin = start + n if start < 0 else start
    if not (-n <= start <= n and 0 <= length <= n - begin):
        raise IndexError(f"narrow: start {start} and length {length} do not fit dim {dim} of "
                         f"shape {input.shape}")
    return _slice(input, d, begin, begin + length)


def cat(tensors, dim: int = 0, *, axis=None) -> Tensor:
    return F.concatenate(tensors, dim if axis is None else axis)


def stack(tensors, dim: int = 0, *, axis=None) -> Tensor:
    return F.stack(tensors, dim if axis is None else axis)


def linspace(start, end, steps: int, dtype=None) -> Tensor:
    return _const(xp.linspace(start, end, steps, dtype=dtype or default_float))


# --- argument handling behind Tensor's own methods ----------------------------------------------

def var(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None,
        **numpy) -> Tensor:
    """Variance over `dim` with Bessel's `correction` (default 1 as torch; 0 as numpy.var;
    unbiased=False is correction 0)."""
    if isinstance(unbiased, (int, tuple, list)) and not isinstance(unbiased, bool):
        raise TypeError(f"var: unbiased must be a bool, got {unbiased!r} (use correction=)")
    correction = (1 if unbiased in (None, True) else 0) if correction is None else correction
    return F.var(input, *F.reduction_args(dim, keepdim, numpy), correction)


# --- the mg.<name> functions (torch has each as torch.<name>; Tensor's methods are in tensor.py) --

FUNCTIONS = """clamp floor ceil trunc sign isnan isinf isfinite round exp log sqrt tanh sin cos
    log1p expm1 rsqrt pow square nan_to_num logaddexp std amax amin max min prod cumsum cumprod
    norm argsort sort topk take_along_dim gather scatter_add scatter index_select masked_fill tril
    triu flip roll split chunk unbind tile repeat_interleave unflatten movedim bmm outer matmul
    numel clone lerp diagonal narrow einsum clip cat stack linspace""".split()
clip = clamp
__all__ = FUNCTIONS


def _tensor_first(name, fn):
    """fn as mg.<name>: a first argument that is not a Tensor gets torch's TypeError. (Tensor's
    methods call fn itself: they pay nothing for the check.)"""
    def checked(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        return fn(input, *args, **kwargs)
    return functools.update_wrapper(checked, fn)


# what minigrad/__init__.py exports; einsum, cat, stack and linspace check their own arguments
PUBLIC = {name: globals()[name] if name in ("einsum", "cat", "stack", "linspace") else
          _tensor_first(name, globals()[name]) for name in FUNCTIONS}
