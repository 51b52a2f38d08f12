"""PyTorch's tensor vocabulary as composites: clamp, cumsum, sort, gather, split, einsum, norm ...

Size budget: 350 code lines

Each function takes its tensor first as `input` (torch's name) and is both `mg.<name>` and the
body of the Tensor method of that name. Everything differentiable is built from Tensor
operations, so gradients (and gradients of gradients) come from the primitives; index arithmetic
(sort orders, masks, scatter keys) is done on constant arrays. Rounding, sign and the is* tests
return constants: their gradient is zero wherever it exists.
"""
import math
import string
from collections import namedtuple

from . import functions as F
from . import ops
from .backend import xp
from .tensor import Tensor

values_indices = namedtuple("values_indices", "values indices")


def _t(x, op):
    """`x` as a Tensor (numbers and arrays become constants)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (list, tuple, int, float, bool)) or isinstance(F.unwrap(x, op), xp.ndarray):
        return F.tensor(x)
    raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")


def _const(array):
    return Tensor._wrap(xp.asarray(array))


def _dim(x, dim, op):
    """One dimension as a non-negative int (negative dims count from the end)."""
    return F.axes(dim, x.ndim, op)[0] if x.ndim else 0


def _index(x, dim, key):
    """x[..., key, ...] with `key` at dimension `dim`."""
    return x[(slice(None),) * dim + (key,)]


def _broadcastable(op, *shapes):
    try:
        return xp.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"{op}: shapes {', '.join(map(str, shapes))} cannot be broadcast "
                         "together") from None


def _idx(index, op):
    idx = xp.asarray(F.unwrap(index, op))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers, got {idx.dtype} (shape {idx.shape})")
    return idx


# elementwise

def abs(input) -> Tensor:
    return input.abs()


cat = F.concatenate         # torch's two names for one function

def clamp(input, min=None, max=None) -> Tensor:
    """Elementwise min(max(input, min), max); `min` and `max` may be numbers or tensors."""
    if min is None and max is None:
        raise ValueError(f"clamp: give at least one of min and max (input {input.shape})")
    _broadcastable("clamp", *(xp.shape(F.unwrap(v, "clamp")) for v in (input, min, max)
                              if v is not None))
    out = input if min is None else input.maximum(min)
    return out if max is None else out.minimum(max)


clip = clamp


def _constant(fn):
    def op(input) -> Tensor:
        return _const(fn(input.data))
    op.__name__ = fn.__name__
    op.__doc__ = f"Elementwise {fn.__name__}, as a constant (no gradient flows through it)."
    return op


def _primitive(prim):
    def op(input) -> Tensor:
        return prim.apply(input)
    op.__name__ = prim.__name__.lower()
    op.__doc__ = f"Elementwise {op.__name__} (the primitive ops.{prim.__name__})."
    return op


floor, ceil, trunc, sign, isnan, isinf, isfinite = (_constant(f) for f in (
    xp.floor, xp.ceil, xp.trunc, xp.sign, xp.isnan, xp.isinf, xp.isfinite))
sin, cos, log1p, expm1 = (_primitive(p) for p in (ops.Sin, ops.Cos, ops.Log1p, ops.Expm1))


def round(input, decimals: int = 0) -> Tensor:
    """Round half to even to `decimals` places, as a constant."""
    return _const(xp.round(input.data, decimals))


def rsqrt(input) -> Tensor:
    return 1 / input.sqrt()


def pow(input, exponent) -> Tensor:
    return input ** exponent if isinstance(input, Tensor) else _t(input, "pow") ** exponent


def nan_to_num(input, nan: float = 0.0, posinf=None, neginf=None) -> Tensor:
    """nan, +inf and -inf replaced (by default with 0 and the largest finite values)."""
    big = float(xp.finfo(input.dtype).max) if input.dtype.kind == "f" else 0
    data = input.data
    out = F.where(data == -xp.inf, -big if neginf is None else neginf, input)
    out = F.where(data == xp.inf, big if posinf is None else posinf, out)
    return F.where(xp.isnan(data), nan, out)


def logaddexp(input, other) -> Tensor:
    """log(exp(input) + exp(other)), computed stably."""
    other = _t(other, "logaddexp")
    _broadcastable("logaddexp", input.shape, other.shape)
    m = F.maximum(input.detach(), other.detach()).maximum(-xp.finfo(input.dtype).max)
    return ((input - m).exp() + (other - m).exp()).log() + m


def masked_fill(input, mask, value) -> Tensor:
    """`value` where the boolean `mask` (broadcast to input) is true, else input."""
    mask = xp.asarray(F.unwrap(mask, "masked_fill"))
    if mask.dtype != xp.bool_:
        raise TypeError(f"masked_fill: the mask must be boolean, got {mask.dtype}")
    if _broadcastable("masked_fill", mask.shape, input.shape) != input.shape:
        raise ValueError(f"masked_fill: mask {mask.shape} does not broadcast to input "
                         f"{input.shape}")
    return F.where(mask, F.lift(value, input, "masked_fill"), input)


# reductions and scans

def std(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """The square root of var (Bessel's correction 1 by default, as torch.std)."""
    return input.var(dim, unbiased, keepdim, correction=correction).sqrt()


def amax(input, dim=(), keepdim: bool = False) -> Tensor:
    """Maximum over `dim` (all dims when empty); ties share the gradient evenly."""
    return input.max(dim=dim or None, keepdim=keepdim)


def amin(input, dim=(), keepdim: bool = False) -> Tensor:
    return input.min(dim=dim or None, keepdim=keepdim)


def prod(input, dim=None, keepdim: bool = False) -> Tensor:
    """Product over one dim (all when None): halves pairwise, so log2(n) multiplications."""
    if dim is None:
        out = prod(input.reshape(-1), 0)
        return out.reshape((1,) * input.ndim) if keepdim else out
    dim = _dim(input, dim, "prod")
    if input.ndim == 0:
        return input
    out = input
    if out.shape[dim] == 0:
        out = out.sum(dim, keepdim=True) * 0 + 1
    while out.shape[dim] > 1:
        if out.shape[dim] % 2:
            out = out.pad([(0, 1) if i == dim else (0, 0) for i in range(out.ndim)], 1.0)
        out = _index(out, dim, slice(0, None, 2)) * _index(out, dim, slice(1, None, 2))
    return out if keepdim else out.squeeze(dim)


def cumsum(input, dim: int) -> Tensor:
    """Running sums along `dim`: a matmul with an upper-triangular matrix of ones."""
    dim = _dim(input, dim, "cumsum")
    if input.ndim == 0:
        return input * 1
    n = input.shape[dim]
    x = input.swapaxes(dim, -1)
    return (x @ _const(xp.triu(xp.ones((n, n), x.dtype)))).swapaxes(dim, -1)


def cumprod(input, dim: int) -> Tensor:
    """Running products along `dim`: log2(n) rounds of multiplying by a shifted copy."""
    dim = _dim(input, dim, "cumprod")
    out, shift, n = input * 1, 1, input.shape[dim] if input.ndim else 1
    while shift < n:
        moved = _index(out, dim, slice(0, n - shift))
        out = out * moved.pad([(shift, 0) if i == dim else (0, 0) for i in range(out.ndim)], 1.0)
        shift *= 2
    return out


def argsort(input, dim: int = -1, descending: bool = False) -> Tensor:
    """The indices that sort `input` along `dim` (stable)."""
    dim = _dim(input, dim, "argsort")
    data = input.data if input.ndim else input.data.reshape(1)
    order = xp.argsort(-data if descending else data, axis=dim, kind="stable")
    return _const(order.reshape(input.shape))


def sort(input, dim: int = -1, descending: bool = False):
    """(values, indices) sorted along `dim`; the gradient flows back to the picked entries."""
    idx = argsort(input, dim, descending)
    return values_indices(input.take_along_axis(idx, dim) if input.ndim else input * 1, idx)


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """(values, indices) of the k largest (or smallest) entries along `dim`."""
    d = _dim(input, dim, "topk")
    n = input.shape[d] if input.ndim else 1
    if not 0 <= k <= n:
        raise ValueError(f"topk: k={k} is out of range for dim {dim} of shape {input.shape}")
    idx = _const(xp.take(argsort(input, dim, largest).data, range(k), axis=d))
    return values_indices(input.take_along_axis(idx, d), idx)


# indexing

def _along(input, dim, index, op):
    """(index array, dim) for gather and scatter: index has input's dims, no larger outside dim."""
    idx, dim = _idx(index, op), _dim(input, dim, op)
    if idx.ndim != input.ndim or any(i > n for d, (i, n) in enumerate(zip(idx.shape, input.shape))
                                     if d != dim):
        raise ValueError(f"{op}: index {idx.shape} must have the dims of input {input.shape} and "
                         f"be no larger outside dim {dim}")
    return idx, dim


def gather(input, dim: int, index) -> Tensor:
    """`out[i, j] = input[index[i, j], j]` for dim 0 (and so on); index may be smaller elsewhere."""
    idx, dim = _along(input, dim, index, "gather")
    part = input[tuple(slice(0, n) if d != dim else slice(None) for d, n in enumerate(idx.shape))]
    return part.take_along_axis(idx, dim)


def _scatter_key(input, dim, index, op):
    idx, dim = _along(input, dim, index, op)
    if idx.size and not (-input.shape[dim] <= idx.min() and idx.max() < input.shape[dim]):
        raise IndexError(f"{op}: index out of range for dim {dim} of shape {input.shape}")
    grid = xp.ogrid[tuple(slice(n) for n in idx.shape)]
    return tuple(idx if d == dim else g for d, g in enumerate(grid)), idx.shape


def _source(src, shape, like, op):
    src = F.lift(src, like, op) if not isinstance(src, Tensor) else src
    if src.ndim == 0:
        return src.expand(shape)
    if src.ndim != len(shape) or any(s < n for s, n in zip(src.shape, shape)):
        raise ValueError(f"{op}: src {src.shape} is smaller than index {shape}")
    return src[tuple(slice(0, n) for n in shape)]


def scatter_add(input, dim: int, index, src) -> Tensor:
    """input with `src[i, j]` added at `input[index[i, j], j]` (for dim 0); repeats accumulate."""
    key, shape = _scatter_key(input, dim, index, "scatter_add")
    src = _source(src, shape, input, "scatter_add")
    return input + ops.IndexAdd.apply(src.astype(input.dtype), key=key, shape=input.shape)


def scatter(input, dim: int, index, src=None, value=None) -> Tensor:
    """input with `src[i, j]` (or `value`) written at `input[index[i, j], j]` (for dim 0)."""
    key, shape = _scatter_key(input, dim, index, "scatter")
    src = _source(value if src is None else src, shape, input, "scatter").astype(input.dtype)
    hit = xp.zeros(input.shape, bool)
    hit[key] = True
    return F.where(hit, ops.IndexAdd.apply(src, key=key, shape=input.shape), input)


def index_select(input, dim: int, index) -> Tensor:
    """The entries at the 1-D `index` along `dim`."""
    idx = _idx(index, "index_select")
    if idx.ndim != 1:
        raise ValueError(f"index_select: index must be 1-D, got {idx.shape} (input {input.shape})")
    return _index(input, _dim(input, dim, "index_select"), idx)


def take_along_dim(input, indices, dim=None) -> Tensor:
    """torch.take_along_dim: the flattened input when dim is None."""
    if dim is None:
        return input.reshape(-1).take_along_axis(_idx(indices, "take_along_dim").reshape(-1), 0)
    return input.take_along_axis(indices, dim)


# pieces and copies

def split(input, split_size_or_sections, dim: int = 0):
    """Pieces of `split_size_or_sections` (the last may be smaller) or of the given sizes."""
    d = _dim(input, dim, "split")
    n = input.shape[d]
    sizes = split_size_or_sections
    if isinstance(sizes, int):
        if sizes < 1 and n:
            raise ValueError(f"split: split size must be positive, got {sizes}")
        sizes = [min(sizes, n - i) for i in range(0, n, max(sizes, 1))] or [0]
    if sum(sizes) != n:
        raise ValueError(f"split: sizes {list(sizes)} do not add up to {n} (dim {dim} of shape "
                         f"{input.shape})")
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    return tuple(_index(input, d, slice(s, s + k)) for s, k in zip(starts, sizes))


def chunk(input, chunks: int, dim: int = 0):
    """At most `chunks` pieces of equal size (the last may be smaller)."""
    if chunks < 1:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    n = input.shape[_dim(input, dim, "chunk")]
    return split(input, max(-(-n // chunks), 1), dim)


def unbind(input, dim: int = 0):
    """The slices along `dim`, that dim removed."""
    d = _dim(input, dim, "unbind")
    return tuple(_index(input, d, i) for i in range(input.shape[d]))


def repeat(input, *sizes) -> Tensor:
    """torch's Tensor.repeat: the whole tensor tiled `sizes` times (at least input.ndim sizes)."""
    sizes = F.shape_args(sizes)
    if len(sizes) < input.ndim:
        raise ValueError(f"repeat: {len(sizes)} sizes for a tensor of shape {input.shape}")
    shape = (1,) * (len(sizes) - input.ndim) + input.shape
    x = input.reshape([v for n in shape for v in (1, n)])
    x = x.expand([v for r, n in zip(sizes, shape) for v in (r, n)])
    return x.reshape([r * n for r, n in zip(sizes, shape)])


def tile(input, dims) -> Tensor:
    """Like repeat, with missing leading sizes taken as 1."""
    dims = tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def repeat_interleave(input, repeats, dim=None) -> Tensor:
    """Each entry repeated `repeats` times (an int or one count per entry) along `dim`."""
    if dim is None:
        input, dim = input.reshape(-1), 0
    d = _dim(input, dim, "repeat_interleave")
    counts = xp.asarray(F.unwrap(repeats, "repeat_interleave"))
    if counts.ndim and counts.shape != (input.shape[d],):
        raise ValueError(f"repeat_interleave: {counts.shape[0]} repeats for dim {dim} of shape "
                         f"{input.shape}")
    return _index(input, d, xp.repeat(xp.arange(input.shape[d]), counts))


def expand_as(input, other) -> Tensor:
    return input.expand(other.shape)


def _triangle(input, keep, op):
    if input.ndim < 2:
        raise ValueError(f"{op}: needs at least 2 dims, got shape {input.shape}")
    return F.where(keep, input, 0)


def tril(input, diagonal: int = 0) -> Tensor:
    """Zeros above the `diagonal`-th diagonal of the last two dims."""
    return _triangle(input, xp.tri(*input.shape[-2:], k=diagonal, dtype=bool), "tril")


def triu(input, diagonal: int = 0) -> Tensor:
    """Zeros below the `diagonal`-th diagonal of the last two dims."""
    return _triangle(input, ~xp.tri(*input.shape[-2:], k=diagonal - 1, dtype=bool), "triu")


def flip(input, dims) -> Tensor:
    dims = F.axes(dims, input.ndim, "flip")
    return input[tuple(slice(None, None, -1) if d in dims else slice(None)
                       for d in range(input.ndim))]


def roll(input, shifts, dims=None) -> Tensor:
    """Entries shifted cyclically by `shifts` along `dims` (the flattened tensor when None)."""
    if dims is None:
        return roll(input.reshape(-1), shifts, 0).reshape(input.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: {len(shifts)} shifts for {len(dims)} dims")
    for s, d in zip(shifts, dims):
        n = input.shape[_dim(input, d, "roll")]
        input = _index(input, _dim(input, d, "roll"), (xp.arange(n) - s) % max(n, 1))
    return input


# products

def bmm(input, mat2) -> Tensor:
    """(B, N, K) @ (B, K, M) -> (B, N, M), without broadcasting."""
    if input.ndim != 3 or mat2.ndim != 3 or input.shape[0] != mat2.shape[0]:
        raise ValueError(f"bmm: expected (B, N, K) and (B, K, M), got {input.shape} and "
                         f"{mat2.shape}")
    return F.matmul(input, mat2)


def outer(input, vec2) -> Tensor:
    """(N,) x (M,) -> (N, M)."""
    if input.ndim != 1 or vec2.ndim != 1:
        raise ValueError(f"outer: expected two 1-D tensors, got {input.shape} and {vec2.shape}")
    return input.reshape(-1, 1) * vec2


def norm(input, p="fro", dim=None, keepdim: bool = False) -> Tensor:
    """The p-norm over `dim` (all dims when None): 'fro'/2, 1, inf, -inf, 0 or any p."""
    if p in ("fro", 2):
        return (input * input).sum(dim, keepdim).sqrt()
    if p in (math.inf, -math.inf):
        return input.abs().max(dim=dim, keepdim=keepdim) if p > 0 else \
            input.abs().min(dim=dim, keepdim=keepdim)
    if p == 0:
        return (input != 0).astype(input.dtype).sum(dim, keepdim)
    if not isinstance(p, (int, float)):
        raise ValueError(f"norm: unknown p {p!r} (input {input.shape})")
    return (input.abs() ** p).sum(dim, keepdim) ** (1 / p)


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation with any subscripts (and '...'): diagonals by indexing, lone indices
    summed, then each pair of operands contracted by one batched matmul."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = operands[0]
    xs = [_t(x, "einsum") for x in operands]
    lhs, arrow, out = equation.replace(" ", "").partition("->")
    terms = lhs.split(",")
    if len(terms) != len(xs):
        raise ValueError(f"einsum: {equation!r} names {len(terms)} operands, got {len(xs)}")
    spare = [c for c in string.ascii_letters if c not in equation]
    rank = max([x.ndim - len(t) + 3 for t, x in zip(terms, xs) if "..." in t], default=0)
    ell = "".join(spare[:rank])
    terms = [t.replace("...", ell[len(ell) - (x.ndim - len(t) + 3):]) for t, x in zip(terms, xs)]
    sizes = {}
    for t, x in zip(terms, xs):
        if len(t) != x.ndim or not t.isalpha():
            raise ValueError(f"einsum: subscripts {t!r} do not fit an operand of shape {x.shape}")
        for c, n in zip(t, x.shape):
            if sizes.setdefault(c, n) != n and 1 not in (n, sizes[c]):
                raise ValueError(f"einsum: index {c!r} has sizes {sizes[c]} and {n} in "
                                 f"{equation!r} (shapes {[x.shape for x in xs]})")
            sizes[c] = max(sizes[c], n)
    letters = "".join(terms)
    if not arrow:
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1
                                   and c not in ell))
    out = out.replace("...", ell)
    if any(c not in letters for c in out) or len(set(out)) != len(out):
        raise ValueError(f"einsum: bad output subscripts {out!r} in {equation!r}")
    for i, (t, x) in enumerate(zip(terms, xs)):
        while len(set(t)) != len(t):        # a repeated index: take the diagonal
            c = next(c for c in t if t.count(c) > 1)
            a, b = t.index(c), t.index(c, t.index(c) + 1)
            rest = [j for j in range(len(t)) if j not in (a, b)]
            x = x.permute(rest + [a, b])
            n = xp.arange(min(x.shape[-2:]))
            x, t = x[..., n, n], "".join(t[j] for j in rest) + c
        others = out + "".join(terms[:i] + terms[i + 1:])
        lone = [j for j, c in enumerate(t) if c not in others]
        terms[i], xs[i] = "".join(c for c in t if c in others), x.sum(tuple(lone)) if lone else x
    t, x = terms[0], xs[0]
    for i in range(1, len(xs)):
        t, x = _contract(t, x, terms[i], xs[i], out + "".join(terms[i + 1:]), sizes)
    x = x.permute([t.index(c) for c in out]) if out else x
    return x.expand(tuple(sizes[c] for c in out))


def _contract(ta, a, tb, b, keep, sizes):
    """Two operands of einsum as one: (batch, left, inner) @ (batch, inner, right)."""
    batch = [c for c in ta if c in tb and c in keep]
    inner = [c for c in ta if c in tb and c not in keep]
    left, right = [c for c in ta if c not in tb], [c for c in tb if c not in ta]

    def arrange(t, x, order, first, second):
        x = x.permute([t.index(c) for c in order]) if order else x
        x = x.expand(tuple(sizes[c] if c in batch + inner else x.shape[i]
                           for i, c in enumerate(order)))
        shape = [x.shape[order.index(c)] for c in order]
        nb = len(batch)
        return x.reshape((math.prod(shape[:nb]), math.prod(shape[nb:nb + first]),
                          math.prod(shape[nb + first:nb + first + second]))), shape

    a3, sa = arrange(ta, a, batch + left + inner, len(left), len(inner))
    b3, sb = arrange(tb, b, batch + inner + right, len(inner), len(right))
    y = F.matmul(a3, b3)
    shape = sa[:len(batch) + len(left)] + sb[len(batch) + len(inner):]
    return "".join(batch + left + right), y.reshape(tuple(shape))


def tensordot(a, b, dims=2) -> Tensor:
    """Sum over the last `dims` dims of a and the first of b, or over the given pairs of dims."""
    if isinstance(dims, int):
        dims = (list(range(a.ndim - dims, a.ndim)), list(range(dims)))
    da, db = ([d % x.ndim for d in ([ds] if isinstance(ds, int) else ds)]
              for ds, x in zip(dims, (a, b)))
    letters = iter(string.ascii_letters)
    ta = [next(letters) for _ in range(a.ndim)]
    tb = [ta[da[db.index(j)]] if j in db else next(letters) for j in range(b.ndim)]
    out = [c for i, c in enumerate(ta) if i not in da] + [c for j, c in enumerate(tb)
                                                          if j not in db]
    return einsum(f"{''.join(ta)},{''.join(tb)}->{''.join(out)}", a, b)
