"""The op functions behind the Tensor methods: how operands are read (Python scalars, dtypes,
broadcasting), the argument checks whose errors name the shapes, and the composites. Also the free
functions of the API: mg.tensor, mg.matmul, mg.where, mg.maximum, mg.minimum, mg.concatenate and
mg.stack.

Each Tensor method with more to do than handing its operands to one primitive calls the function of
the same name here, as DeZero's `Variable.reshape` calls `dezero.functions.reshape`.
"""
import math

from . import autograd, ops
from . import backend as B
from .backend import xp
from .tensor import Tensor


def unwrap(value, op):
    """A Tensor's array, or `value` itself; objects of other array libraries are refused rather
    than silently copied."""
    if isinstance(value, Tensor):
        return value.data
    module = type(value).__module__.split(".")[0]
    if module in ("torch", "cupy", "jax", "jaxlib", "tensorflow"):
        raise TypeError(f"{op}: got a {module} {type(value).__name__}; minigrad runs on NumPy "
                        "arrays on the CPU. Convert it first, e.g. with .cpu().numpy()")
    return value


def lift(value, like, op):
    """A Python number or NumPy value as a Tensor. Numbers and 0-d NumPy values are weak, as Python
    scalars are in PyTorch: they take `like`'s dtype (float32 stays float32), or the default float
    or int dtype when they are of a higher kind (a float meeting an integer tensor)."""
    if isinstance(value, (xp.ndarray, xp.generic)) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, int, float)):
        dtype = like.data.dtype         # a float tensor takes any Python number as it is
        if dtype.kind != "f" and B.kind(type(value)) > B.kind(dtype):
            dtype = B.default_float if isinstance(value, float) else B.default_int
        return Tensor._wrap(xp.asarray(value, dtype))
    if isinstance(value, Tensor):       # a subclass, such as nn.Parameter
        return value
    if isinstance(unwrap(value, op), xp.ndarray):
        return Tensor._wrap(value)
    raise TypeError(f"{op}: cannot combine a Tensor with a {type(value).__name__}")


def promote(a, b):
    """Cast a and b to one dtype, as PyTorch does: the higher kind wins (bool < int < float); within
    a kind, a 0-d tensor does not widen a higher-dimensional one, and otherwise the wider wins."""
    ka, kb = B.kind(a.dtype), B.kind(b.dtype)
    if ka != kb:
        dtype = a.dtype if ka > kb else b.dtype
    elif (a.ndim == 0) != (b.ndim == 0):
        dtype = b.dtype if a.ndim == 0 else a.dtype
    else:
        dtype = xp.result_type(a.dtype, b.dtype)
    return a.astype(dtype), b.astype(dtype)


def broadcast(a, b, op):
    """Expand whichever operand needs a gradient to the common shape. A constant operand is left
    to numpy's own broadcasting in forward: it needs no gradient, so the graph needs no Expand."""
    sa, sb = a.data.shape, b.data.shape
    try:
        shape = sa if not sb else sb if not sa else xp.broadcast_shapes(sa, sb)
    except ValueError:
        raise ValueError(f"{op}: shapes {sa} and {sb} cannot be broadcast together") from None
    grad = autograd.is_grad_enabled()
    if sa != shape and (a._requires_grad and grad or sb != shape):
        a = a.expand(shape)
    if sb != shape and (b._requires_grad and grad or a.data.shape != shape):
        b = b.expand(shape)
    return a, b


def binary(x, other, prim, reverse=False):
    """x (a Tensor) combined with `other` by a binary primitive, after lifting, promoting and
    broadcasting; `reverse` puts `other` on the left."""
    if type(other) is not Tensor:
        other = lift(other, x, prim.__name__.lower())
    a, b = (other, x) if reverse else (x, other)
    if a.data.dtype != b.data.dtype:
        a, b = promote(a, b)
    if a.data.shape != b.data.shape:
        a, b = broadcast(a, b, prim.__name__.lower())
    return prim.apply(a, b)


def floating(x):
    """x, or x cast to the default float dtype when it holds integers or bools: as in torch, ops
    whose results are not whole numbers (division, exp, log, sqrt, tanh, sin, ...) give floats."""
    return x if x.data.dtype.kind == "f" else x.astype(B.default_float)


def not_bool(x, op):
    """x itself, or torch's refusal of arithmetic on a bool tensor."""
    if x.data.dtype == xp.bool_:
        raise TypeError(f"{op}: not supported for a bool tensor (shape {x.shape})")
    return x


def _division_operands(x, other, reverse, op):
    """x and `other` lifted, promoted to one dtype and broadcast, `other` first when `reverse`."""
    other = other if isinstance(other, Tensor) else lift(other, x, op)
    a, b = (other, x) if reverse else (x, other)
    if a.dtype.kind == "b" and b.dtype.kind == "b":
        raise TypeError(f"{op}: not defined for two bool tensors")
    return broadcast(*promote(a, b), op)


def _floor_divide(a, b):
    """Run through host(), so that a compiled step recomputes it and checks every call's divisor."""
    ops.nonzero_divisor(a, b, "floor_divide")
    with xp.errstate(divide="ignore", invalid="ignore"):
        return xp.asarray(xp.floor_divide(a, b))


def floor_divide(x, other, reverse=False) -> Tensor:
    """x // other as in torch: floor(x / other). Piecewise constant, so it carries no gradient."""
    a, b = _division_operands(x, other, reverse, "floor_divide")
    return Tensor._wrap(autograd.host(_floor_divide, a.data, b.data))


def remainder(x, other, reverse=False) -> Tensor:
    """x % other as in torch: the result takes the sign of the divisor (the Remainder primitive)."""
    a, b = _division_operands(x, other, reverse, "remainder")
    return ops.Remainder.apply(a, b)


def dim_index(dim, shape, op, new=0):
    """One dim of a tensor of `shape` (plus `new` dims, for unsqueeze) as a non-negative int; a
    0-d tensor takes 0 and -1, as in torch."""
    n = max(len(shape) + new, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: dim {dim} is out of range [{-n}, {n - 1}] for shape {shape}")
    return dim % n


def axes(dims, shape, op):
    """None, an int or a sequence of ints -> a sorted tuple of non-negative axes (none for 0-d)."""
    ndim = len(shape)
    if dims is None:
        return tuple(range(ndim))
    if type(dims) is int and -ndim <= dims < ndim:     # the common case, checked cheaply
        return (dims + ndim if dims < 0 else dims,)
    given = (dims,) if isinstance(dims, (int, xp.integer)) else tuple(dims)
    out = tuple(sorted(dim_index(d, shape, op) for d in given))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated dim in {dims}")
    return out if ndim else ()


def shape_args(args):
    """f(2, 3) and f((2, 3)) both mean the shape (2, 3)."""
    return tuple(args[0]) if len(args) == 1 and not isinstance(args[0], int) else tuple(args)


def reduction_args(dim, keepdim, numpy):
    """torch's (dim, keepdim) from a reduction's arguments, NumPy's axis= and keepdims= allowed."""
    unknown = set(numpy) - {"axis", "keepdims"}
    if unknown:
        raise TypeError(f"unexpected keyword argument {sorted(unknown)[0]!r}")
    return numpy.get("axis", dim), numpy.get("keepdims", keepdim)


def constant_reduction(input, fn, dim, keepdim, numpy) -> Tensor:
    """any, all, argmax or argmin (the array method `fn`) over torch's dim: a constant."""
    dim, keepdim = reduction_args(dim, keepdim, numpy)
    axes(dim, input.shape, fn.__name__)
    return Tensor._wrap(xp.asarray(fn(input.data, axis=dim, keepdims=keepdim)))


def flatten(input, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    start, end = (dim_index(d, input.shape, "flatten") for d in (start_dim, end_dim))
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} (shape "
                         f"{input.shape})")
    merged = (math.prod(input.shape[start:end + 1]),)
    return input.reshape(input.shape[:start] + merged + input.shape[end + 1:])


def swapaxes(input, axis0: int, axis1: int) -> Tensor:
    a, b = (dim_index(d, input.shape, "transpose") for d in (axis0, axis1))
    return transpose(input, [b if i == a else a if i == b else i for i in range(input.ndim)])


def mean(x, axis, keepdims):
    axis = axes(axis, x.shape, "mean")
    return ops.Sum.apply(x, axis=axis, keepdims=keepdims) / math.prod(x.shape[ax] for ax in axis)


def var(x, axis, keepdims, correction):
    """Variance with Bessel's `correction` (1 like torch.var; 0 like numpy.var)."""
    axis = axes(axis, x.shape, "var")
    d = x - x.mean(axis, keepdims=True)
    return (d * d).sum(axis, keepdims) / max(math.prod(x.shape[ax] for ax in axis) - correction, 0)


@autograd.scope("sigmoid")
def sigmoid(x):
    """1 / (1 + exp(-x)) for x >= 0 and e / (1 + e) with e = exp(x) below: exp never overflows, and
    both tails keep their relative precision, in value and gradient (0.5 + tanh(x / 2) / 2 rounded
    sigmoid(-40) to 0). The branch is a constant 0/1 mask mixed in arithmetically (a select runs
    ten times slower), and the sign that makes -|x| comes with it, so the gradient at 0 is the
    branch's (abs would give 0 there)."""
    x = floating(x)
    below = (x < 0).astype(x.dtype)
    e = (x * (below * 2 - 1)).exp()                    # exp(-|x|) in (0, 1]
    r = 1 / (e + 1)
    return r * (e * below + (1 - below))               # r above 0, e * r below


def _shift(x, axis):
    """The detached maximum over `axis` (kept): subtracting it keeps exp from overflowing. It is
    clipped to the lowest finite value, so rows of -inf stay -inf instead of becoming nan."""
    return x.detach().amax(axis, keepdim=True).maximum(-xp.finfo(x.dtype).max)


def logsumexp(x, axis, keepdims):
    axis = axes(axis, x.shape, "logsumexp")
    m = _shift(x, axis)
    out = (x - m).exp().sum(axis, keepdims=True).log() + m
    return out if keepdims else out.squeeze(axis)


def softmax(x, axis):
    e = (x - _shift(x, axes(axis, x.shape, "softmax"))).exp()
    return e / e.sum(axis, keepdims=True)


def log_softmax(x, axis):
    """(x - max) - log(sum(exp(x - max))): shifting first keeps the result exact for large logits
    (x - logsumexp(x) would round logsumexp at the magnitude of x)."""
    shifted = x - _shift(x, axes(axis, x.shape, "log_softmax"))
    return shifted - shifted.exp().sum(axis, keepdims=True).log()


def reshape(x, shape):
    try:
        return ops.reshape(x, shape)
    except (ValueError, TypeError):
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) "
                         f"into {shape}") from None


def squeeze(x, axis):
    axis = tuple(i for i, n in enumerate(x.shape) if n == 1) if axis is None else \
        axes(axis, x.shape, "squeeze")
    if any(x.shape[ax] != 1 for ax in axis):
        raise ValueError(f"squeeze: axes {axis} of shape {x.shape} are not all of size 1")
    return x.reshape([n for i, n in enumerate(x.shape) if i not in axis])


def transpose(x, order):
    """Permute axes with NumPy semantics: an empty `order` reverses them all."""
    n = x.ndim
    given, order = order, tuple(a + n if a < 0 else a for a in order) or tuple(range(n - 1, -1, -1))
    if len(order) != n or set(order) != set(range(n)):
        raise ValueError(f"transpose: {given} is not a permutation of the axes of shape {x.shape}")
    return x if order == tuple(range(n)) else ops.Permute.apply(x, axes=order)


def expand(x, shape):
    try:
        return ops.expand(x, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None


def pad(x, pad_width, value):
    widths = xp.broadcast_to(xp.asarray(pad_width, dtype=int), (x.ndim, 2)).tolist()
    if any(w < 0 for pair in widths for w in pair):
        raise ValueError(f"pad: widths must be non-negative, got {pad_width}")
    return ops.Pad.apply(x, widths=tuple(map(tuple, widths)), value=value)


def sliding_window(x, window_shape, axis, stride, dilation):
    axis = tuple(a % x.ndim for a in ((axis,) if isinstance(axis, int) else axis))
    size, stride, dilation = (tuple(v) if isinstance(v, (tuple, list)) else (v,) * len(axis)
                              for v in (window_shape, stride, dilation))
    for ax, k, s, d in zip(axis, size, stride, dilation):
        if k < 1 or s < 1 or d < 1 or d * (k - 1) + 1 > x.shape[ax]:
            raise ValueError(f"sliding_window: window {k} (dilation {d}, stride {s}) does not fit "
                             f"axis {ax} of shape {x.shape}")
    return ops.Windows.apply(x, axes=axis, size=size, stride=stride, dilation=dilation)


def sliding_window_add(x, shape, axis, stride=1, dilation=1):
    """The adjoint of sliding_window: x shaped like the windows of an input of `shape` over `axis`
    (window positions there, window offsets appended); each window is added back at its place.
    Transposed convolution is this applied to a matmul."""
    axis = tuple(a % len(shape) for a in ((axis,) if isinstance(axis, int) else axis))
    size = x.shape[len(shape):]
    stride, dilation = (tuple(v) if isinstance(v, (tuple, list)) else (v,) * len(axis)
                        for v in (stride, dilation))
    expected = list(shape)
    for ax, k, s, d in zip(axis, size, stride, dilation):
        expected[ax] = (shape[ax] - d * (k - 1) - 1) // s + 1 if shape[ax] >= d * (k - 1) + 1 else 0
    if len(size) != len(axis) or x.shape[:len(shape)] != tuple(expected) or 0 in expected:
        raise ValueError(f"sliding_window_add: windows {x.shape} do not fit an input of shape "
                         f"{tuple(shape)} over axes {axis} (stride {stride}, dilation {dilation})")
    return ops.WindowsAdd.apply(x, shape=tuple(shape), axes=axis, size=tuple(size), stride=stride,
                                dilation=dilation)


def index_key(key):
    """An index key as a tuple, with Tensors and lists turned into arrays."""
    return tuple(xp.asarray(k) if isinstance(k, list) else unwrap(k, "getitem")
                 for k in (key if isinstance(key, tuple) else (key,)))


def getitem(x, key):
    try:
        return ops.Index.apply(x, key=index_key(key))    # numpy checks the key before a node exists
    except IndexError as e:
        raise IndexError(f"getitem: {e} (tensor of shape {x.shape})") from None


def take_along_axis(x, indices, axis):
    """numpy.take_along_axis (torch.take_along_dim): `indices` along `axis`, broadcast elsewhere."""
    idx = xp.asarray(unwrap(indices, "take_along_axis"))
    if idx.ndim != x.ndim or idx.dtype.kind not in "iu":
        raise ValueError(f"take_along_axis: indices {idx.shape} {idx.dtype} must be integers with "
                         f"the same number of dimensions as the tensor {x.shape}")
    axis = axis % x.ndim
    try:
        idx = xp.broadcast_to(idx, x.shape[:axis] + idx.shape[axis:axis + 1] + x.shape[axis + 1:])
        return ops.Index.apply(x, key=grid_key(idx, axis))
    except (IndexError, ValueError) as e:
        raise type(e)(f"take_along_axis: {e} (tensor {x.shape}, indices {idx.shape})") from None


def grid_key(idx, axis):
    """The full index key of take_along_axis and torch's gather/scatter: `idx` along `axis`, each
    position elsewhere."""
    grid = xp.ogrid[tuple(slice(n) for n in idx.shape)]
    return tuple(idx if i == axis else g for i, g in enumerate(grid))


def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """A new tensor holding a copy of `data`. Python floats become float32; arrays keep their
    dtype."""
    data = unwrap(data, "tensor")
    return Tensor(xp.array(data, dtype=dtype) if isinstance(data, xp.ndarray) else data,
                  requires_grad=requires_grad, dtype=dtype)


def matmul(input, other) -> Tensor:
    """input @ other with NumPy's rules: 1-D operands gain (and lose) an axis, leading dims
    broadcast."""
    a = input if isinstance(input, Tensor) else lift(input, other, "matmul")
    b = other if isinstance(other, Tensor) else lift(other, a, "matmul")
    if a.ndim == b.ndim >= 2 and a.shape[:-2] == b.shape[:-2] and a.shape[-1] == b.shape[-2] \
            and a.dtype == b.dtype:
        return ops.MatMul.apply(a, b)           # the common case, without the general checks
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have at least one dimension, got {a.shape} and "
                         f"{b.shape}; use * for scalars")
    if a.shape[-1] != b.shape[max(b.ndim - 2, 0)]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} disagree on the inner size "
                         f"({a.shape[-1]} vs {b.shape[max(b.ndim - 2, 0)]})")
    try:
        lead = xp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: the batch dimensions of {a.shape} and {b.shape} cannot be "
                         "broadcast together") from None
    a, b = promote(a, b)                    # each stays as it is when the dtypes agree
    a2 = a.reshape(1, -1) if a.ndim == 1 else a
    b2 = b.reshape(-1, 1) if b.ndim == 1 else b
    out = ops.MatMul.apply(a2.expand(lead + a2.shape[-2:]), b2.expand(lead + b2.shape[-2:]))
    if a.ndim == 1 or b.ndim == 1:
        out = out.reshape(out.shape[:-2] + out.shape[-2:][a.ndim == 1: 2 - (b.ndim == 1)])
    return out


def _one_hot(idx, num_classes, dtype, out=None):
    """Run through host(), so that a compiled step checks every call's indices too (and writes
    the encoding into its buffer, `out`)."""
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise ValueError(f"one_hot: indices must lie in [0, {num_classes}), got values from "
                         f"{idx.min()} to {idx.max()} (shape {idx.shape})")
    if out is None:
        out = xp.empty(idx.shape + (num_classes,), dtype)
    out.fill(0)
    xp.put_along_axis(out, idx[..., None], 1, -1)  # a broadcast == made 17 KiB of buffers
    return out


def one_hot(indices, num_classes: int, axis: int = -1, dtype=B.float32) -> Tensor:
    """The one-hot encoding of integer `indices` as a constant: a new axis of size `num_classes` at
    `axis` (the last by default), 1 at each index and 0 elsewhere."""
    idx = xp.asarray(unwrap(indices, "one_hot"))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: indices must be integers, got {idx.dtype}")
    hot = autograd.host(_one_hot, idx, num_classes, dtype)
    return Tensor._wrap(hot if axis in (-1, idx.ndim) else xp.moveaxis(hot, -1, axis))


def where(condition, input, other) -> Tensor:
    """Elementwise `input` where `condition` else `other`; the gradient flows to the chosen side
    only."""
    cond, a, b = xp.asarray(unwrap(condition, "where")), input, other
    if cond.dtype != xp.bool_:
        raise TypeError(f"where: the condition must be boolean, got {cond.dtype}")
    if not isinstance(a, Tensor):
        a = lift(a, b, "where") if isinstance(b, Tensor) else tensor(a)
    b = b if isinstance(b, Tensor) else lift(b, a, "where")
    a, b = promote(a, b)                    # unchanged when the dtypes agree
    try:
        shape = xp.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError(f"where: shapes {cond.shape}, {a.shape} and {b.shape} cannot be broadcast "
                         "together") from None
    return ops.Where.apply(a.expand(shape), b.expand(shape), cond=xp.broadcast_to(cond, shape))


def maximum(input, other) -> Tensor:
    """Elementwise maximum; ties split the gradient evenly."""
    return lift(input, other, "maximum").maximum(other)     # a Tensor input is lifted as it is


def minimum(input, other) -> Tensor:
    """Elementwise minimum; ties split the gradient evenly."""
    return lift(input, other, "minimum").minimum(other)


def concatenate(tensors, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    tensors = [t if isinstance(t, Tensor) else tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    axis = axes(axis, tensors[0].shape, "concatenate")[0]
    if len({t.shape[:axis] + (None,) + t.shape[axis + 1:] for t in tensors}) > 1:
        raise ValueError(f"concatenate: shapes {[t.shape for t in tensors]} differ outside axis "
                         f"{axis}")
    dtype = xp.result_type(*[t.dtype for t in tensors])
    return ops.Concat.apply(*[t.astype(dtype) for t in tensors], axis=axis)


def stack(tensors, axis: int = 0) -> Tensor:
    """Join equally shaped tensors along a new axis."""
    tensors = [t if isinstance(t, Tensor) else tensor(t) for t in tensors]
    if len({t.shape for t in tensors}) != 1:
        raise ValueError(f"stack: all tensors must have one shape, got "
                         f"{[t.shape for t in tensors]}")
    return concatenate([t.unsqueeze(axis) for t in tensors], axis)
