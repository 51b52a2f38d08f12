"""The Tensor: an array that remembers the primitive that made it, so gradients can flow back.

Each method hands its work to one primitive (minigrad/ops.py) or, when there are arguments to read
and check or a composite to build, to the function of the same name in minigrad/functions.py.
"""
import math

from . import autograd, ops
from . import backend as B
from .backend import xp


def _dims(dim, keepdim, axis, keepdims):
    """torch's (dim, keepdim), or NumPy's (axis, keepdims) when those are given."""
    return (dim if axis is None else axis), (keepdim if keepdims is None else keepdims)


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation."""

    __slots__ = ("data", "grad", "_requires_grad", "_ctx", "_version", "_retains_grad", "name",
                 "__weakref__")
    __array_ufunc__ = None      # numpy defers to our operators, so `array * tensor` is a Tensor

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        data = F.unwrap(data, "Tensor")
        array = xp.asarray(data, dtype=dtype)
        if dtype is None and array.dtype == xp.float64 and not isinstance(data, (xp.ndarray,
                                                                                 xp.generic)):
            array = array.astype(B.default_float)       # Python floats default to float32
        self.data, self.grad, self._ctx, self._version = array, None, None, 0
        self._retains_grad, self.name, self._requires_grad = False, None, False
        self.requires_grad = requires_grad

    @staticmethod
    def _wrap(array):
        """A Tensor around an existing array, without checks or copies (the engine's fast path)."""
        t = object.__new__(Tensor)
        t.data, t.grad, t._ctx, t._version = array, None, None, 0
        t._requires_grad, t._retains_grad, t.name = False, False, None
        return t

    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    is_leaf = property(lambda self: self._ctx is None)
    grad_fn = property(lambda self: self._ctx)
    T = property(lambda self: self.transpose())

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool):
        if value and not B.is_float(self.dtype):
            raise TypeError(f"requires_grad: only floating-point tensors can require grad; this "
                            f"one is {self.dtype}. Convert it first, e.g. x.astype(mg.float32)")
        if not value and self._ctx is not None:
            raise RuntimeError("requires_grad: cannot turn it off on a non-leaf tensor; use "
                               "detach()")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> "Tensor":
        """Keep .grad on this non-leaf tensor after backward."""
        self._retains_grad = True
        return self

    def backward(self, gradient=None, retain_graph: bool = False, create_graph: bool = False):
        """Accumulate the gradient of this tensor into the .grad of every leaf it depends on."""
        autograd.backward(self, gradient, retain_graph, create_graph)

    def detach(self) -> "Tensor":
        """The same data, cut from the graph."""
        return Tensor._wrap(self.data)

    def numpy(self):
        return self.data

    def item(self):
        if self.size != 1:
            raise ValueError(f"item: tensor has shape {self.shape}; only one-element tensors "
                             "convert")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self):
        if self.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                             "use .any() or .all()")
        return bool(self.data)

    __float__ = lambda self: float(self.item())
    __int__ = lambda self: int(self.item())
    __hash__ = object.__hash__

    def __repr__(self):
        body = xp.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
        plain = self.dtype in (B.default_float, B.default_int, xp.bool_)
        extra = "" if plain else f", dtype={self.dtype}"
        if self._ctx is not None:
            extra += f", grad_fn=<{type(self._ctx).__name__}>"
        elif self._requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    __add__ = lambda self, o: F.binary(self, o, ops.Add)
    __radd__ = lambda self, o: F.binary(self, o, ops.Add, True)
    __sub__ = lambda self, o: F.binary(self, o, ops.Sub)
    __rsub__ = lambda self, o: F.binary(self, o, ops.Sub, True)
    __mul__ = lambda self, o: F.binary(self, o, ops.Mul)
    __rmul__ = lambda self, o: F.binary(self, o, ops.Mul, True)
    __truediv__ = lambda self, o: F.binary(self, o, ops.Div)
    __rtruediv__ = lambda self, o: F.binary(self, o, ops.Div, True)
    __pow__ = lambda self, o: F.binary(self, o, ops.Pow)
    __rpow__ = lambda self, o: F.binary(self, o, ops.Pow, True)
    __neg__ = lambda self: ops.Neg.apply(self)
    __matmul__ = lambda self, o: F.matmul(self, o)
    __rmatmul__ = lambda self, o: F.matmul(o, self)

    def maximum(self, other) -> "Tensor":
        """Elementwise maximum; ties split the gradient evenly."""
        return F.binary(self, other, ops.Maximum)

    def minimum(self, other) -> "Tensor":
        """Elementwise minimum; ties split the gradient evenly."""
        return F.binary(self, other, ops.Minimum)

    def exp(self) -> "Tensor":
        return ops.Exp.apply(self)

    def log(self) -> "Tensor":
        return ops.Log.apply(self)

    def sqrt(self) -> "Tensor":
        return ops.Sqrt.apply(self)

    def tanh(self) -> "Tensor":
        return ops.Tanh.apply(self)

    def relu(self) -> "Tensor":
        return F.where(self > 0, self, 0.0)

    def sigmoid(self) -> "Tensor":
        """1 / (1 + exp(-x)), written with tanh so it never overflows."""
        return (self * 0.5).tanh() * 0.5 + 0.5

    def astype(self, dtype) -> "Tensor":
        """Cast to `dtype`; the gradient is cast back. Integer and bool results carry none."""
        dtype = xp.dtype(dtype)
        if dtype == self.dtype:
            return self
        if not B.is_float(dtype):
            return Tensor._wrap(self.data.astype(dtype))
        return ops.Cast.apply(self, dtype=dtype)

    def float(self) -> "Tensor":
        return self.astype(B.float32)

    def double(self) -> "Tensor":
        return self.astype(B.float64)

    def _compare(self, other, fn):
        other = F.unwrap(other, "compare")
        try:
            return Tensor._wrap(xp.asarray(fn(self.data, other)))
        except ValueError:
            raise ValueError(f"compare: shapes {self.shape} and {xp.shape(other)} cannot be "
                             "broadcast together") from None

    __lt__ = lambda self, o: self._compare(o, xp.less)
    __le__ = lambda self, o: self._compare(o, xp.less_equal)
    __gt__ = lambda self, o: self._compare(o, xp.greater)
    __ge__ = lambda self, o: self._compare(o, xp.greater_equal)
    __eq__ = lambda self, o: self._compare(o, xp.equal)
    __ne__ = lambda self, o: self._compare(o, xp.not_equal)
    __invert__ = lambda self: Tensor._wrap(~self.data)
    __and__ = lambda self, o: self._compare(o, xp.logical_and)
    __or__ = lambda self, o: self._compare(o, xp.logical_or)

    # Reductions take torch's dim= and keepdim=, and NumPy's axis= and keepdims= as aliases.
    def any(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> "Tensor":
        dim, keepdim = _dims(dim, keepdim, axis, keepdims)
        return Tensor._wrap(xp.asarray(self.data.any(axis=dim, keepdims=keepdim)))

    def all(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> "Tensor":
        dim, keepdim = _dims(dim, keepdim, axis, keepdims)
        return Tensor._wrap(xp.asarray(self.data.all(axis=dim, keepdims=keepdim)))

    def argmax(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> "Tensor":
        dim, keepdim = _dims(dim, keepdim, axis, keepdims)
        return Tensor._wrap(xp.asarray(self.data.argmax(axis=dim, keepdims=keepdim)))

    def argmin(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> "Tensor":
        dim, keepdim = _dims(dim, keepdim, axis, keepdims)
        return Tensor._wrap(xp.asarray(self.data.argmin(axis=dim, keepdims=keepdim)))

    def sum(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> "Tensor":
        dim, keepdim = _dims(dim, keepdim, axis, keepdims)
        return ops.Sum.apply(self, axis=F.axes(dim, self.ndim, "sum"), keepdims=keepdim)

    def max(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> "Tensor":
        """Maximum over `dim`; tied maxima share the gradient evenly (like torch.amax)."""
        dim, keepdims = _dims(dim, keepdim, axis, keepdims)
        axis = F.axes(dim, self.ndim, "max")
        if any(self.shape[ax] == 0 for ax in axis) or (self.size == 0 and not axis):
            raise ValueError(f"max: cannot reduce a zero-size axis (tensor of shape {self.shape})")
        return ops.Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> "Tensor":
        """Minimum over `dim`; tied minima share the gradient evenly."""
        return -((-self).max(*_dims(dim, keepdim, axis, keepdims)))

    def mean(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> "Tensor":
        return F.mean(self, *_dims(dim, keepdim, axis, keepdims))

    def var(self, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, axis=None,
            keepdims=None) -> "Tensor":
        """Variance over `dim` with Bessel's `correction` (1 like torch.var, or 0 when
        unbiased=False; correction=0 is numpy.var)."""
        correction = (1 if unbiased in (None, True) else 0) if correction is None else correction
        return F.var(self, *_dims(dim, keepdim, axis, keepdims), correction)

    def logsumexp(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> "Tensor":
        """log(sum(exp(x))) over `dim`, computed stably."""
        return F.logsumexp(self, *_dims(dim, keepdim, axis, keepdims))

    def softmax(self, dim: int = -1, *, axis=None) -> "Tensor":
        return F.softmax(self, dim if axis is None else axis)

    def log_softmax(self, dim: int = -1, *, axis=None) -> "Tensor":
        return F.log_softmax(self, dim if axis is None else axis)

    def reshape(self, *shape) -> "Tensor":
        return F.reshape(self, F.shape_args(shape))

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor":
        """Merge the dims from `start_dim` to `end_dim` (both included) into one."""
        if self.ndim == 0:
            return self.reshape(1)
        a, b = (F.axes(d, self.ndim, "flatten")[0] for d in (start_dim, end_dim))
        return self.reshape(self.shape[:a] + (math.prod(self.shape[a:b + 1]),) +
                            self.shape[b + 1:])

    def unflatten(self, dim: int, sizes) -> "Tensor":
        """Split dim `dim` into `sizes` (one may be -1)."""
        d = F.axes(dim, self.ndim, "unflatten")[0]
        return self.reshape(self.shape[:d] + tuple(sizes) + self.shape[d + 1:])

    def squeeze(self, dim=None, *, axis=None) -> "Tensor":
        return F.squeeze(self, dim if axis is None else axis)

    def unsqueeze(self, dim: int) -> "Tensor":
        dim = dim % (self.ndim + 1)
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def transpose(self, *dims) -> "Tensor":
        """transpose(dim0, dim1) swaps two dims, as in torch; any other number of dims is a full
        permutation with NumPy semantics (none reverses them all)."""
        if len(dims) == 2 and all(isinstance(d, int) for d in dims):
            return self.swapaxes(*dims)
        return F.transpose(self, F.shape_args(dims))

    def permute(self, *dims) -> "Tensor":
        return F.transpose(self, F.shape_args(dims))

    mT = property(lambda self: self.swapaxes(-2, -1))

    def swapaxes(self, axis0: int, axis1: int) -> "Tensor":
        axes = list(range(self.ndim))
        for d in (axis0, axis1):
            if not -self.ndim <= d < self.ndim:
                raise ValueError(f"transpose: dim {d} is out of range for shape {self.shape}")
        axes[axis0], axes[axis1] = axes[axis1], axes[axis0]
        return F.transpose(self, axes)

    swapdims = lambda self, dim0, dim1: self.swapaxes(dim0, dim1)

    def expand(self, *shape) -> "Tensor":
        """Broadcast to `shape`, as numpy.broadcast_to (a view; the gradient sums back)."""
        return F.expand(self, F.shape_args(shape))

    broadcast_to = expand

    def pad(self, pad_width, value=0.0) -> "Tensor":
        """Constant padding with numpy.pad's `pad_width`: an int, a (before, after) pair, or a pair
        per axis."""
        return F.pad(self, pad_width, value)

    def sliding_window(self, window_shape, axis, stride=1, dilation=1) -> "Tensor":
        """Windows of `window_shape` over `axis` as a view: each of those axes becomes the number of
        window positions and the window axes are appended at the end (numpy's
        sliding_window_view, plus stride and dilation)."""
        return F.sliding_window(self, window_shape, axis, stride, dilation)

    def __getitem__(self, key) -> "Tensor":
        return F.getitem(self, key)

    def take_along_axis(self, indices, axis: int) -> "Tensor":
        """numpy.take_along_axis (torch.take_along_dim): pick `indices` along `axis`, broadcasting
        the other axes."""
        return F.take_along_axis(self, indices, axis)

    # PyTorch's vocabulary, each the function of the same name in minigrad/tensor_ops.py
    add = lambda self, other: self + other
    sub = lambda self, other: self - other
    mul = lambda self, other: self * other
    div = lambda self, other: self / other
    matmul = lambda self, other: F.matmul(self, other)
    neg = lambda self: -self
    square = lambda self: self * self
    clone = lambda self: self * 1
    where = lambda self, condition, other: F.where(condition, self, other)
    abs = lambda self: ops.Abs.apply(self)
    clamp = lambda self, min=None, max=None: O.clamp(self, min, max)
    clip = lambda self, min=None, max=None: O.clamp(self, min, max)
    floor = lambda self: O.floor(self)
    ceil = lambda self: O.ceil(self)
    trunc = lambda self: O.trunc(self)
    round = lambda self, decimals=0: O.round(self, decimals)
    sign = lambda self: O.sign(self)
    isnan = lambda self: O.isnan(self)
    isinf = lambda self: O.isinf(self)
    isfinite = lambda self: O.isfinite(self)
    sin = lambda self: O.sin(self)
    cos = lambda self: O.cos(self)
    rsqrt = lambda self: O.rsqrt(self)
    log1p = lambda self: O.log1p(self)
    expm1 = lambda self: O.expm1(self)
    pow = lambda self, exponent: O.pow(self, exponent)
    nan_to_num = lambda self, nan=0.0, posinf=None, neginf=None: O.nan_to_num(self, nan, posinf,
                                                                              neginf)
    logaddexp = lambda self, other: O.logaddexp(self, other)
    masked_fill = lambda self, mask, value: O.masked_fill(self, mask, value)
    std = lambda self, dim=None, unbiased=None, keepdim=False, *, correction=None: O.std(
        self, dim, unbiased, keepdim, correction=correction)
    amax = lambda self, dim=(), keepdim=False: O.amax(self, dim, keepdim)
    amin = lambda self, dim=(), keepdim=False: O.amin(self, dim, keepdim)
    prod = lambda self, dim=None, keepdim=False: O.prod(self, dim, keepdim)
    cumsum = lambda self, dim: O.cumsum(self, dim)
    cumprod = lambda self, dim: O.cumprod(self, dim)
    argsort = lambda self, dim=-1, descending=False: O.argsort(self, dim, descending)
    sort = lambda self, dim=-1, descending=False: O.sort(self, dim, descending)
    topk = lambda self, k, dim=-1, largest=True, sorted=True: O.topk(self, k, dim, largest, sorted)
    gather = lambda self, dim, index: O.gather(self, dim, index)
    scatter_add = lambda self, dim, index, src: O.scatter_add(self, dim, index, src)
    scatter = lambda self, dim, index, src=None, value=None: O.scatter(self, dim, index, src, value)
    index_select = lambda self, dim, index: O.index_select(self, dim, index)
    take_along_dim = lambda self, indices, dim=None: O.take_along_dim(self, indices, dim)
    split = lambda self, split_size, dim=0: O.split(self, split_size, dim)
    chunk = lambda self, chunks, dim=0: O.chunk(self, chunks, dim)
    unbind = lambda self, dim=0: O.unbind(self, dim)
    repeat = lambda self, *sizes: O.repeat(self, *sizes)
    tile = lambda self, dims: O.tile(self, dims)
    repeat_interleave = lambda self, repeats, dim=None: O.repeat_interleave(self, repeats, dim)
    expand_as = lambda self, other: O.expand_as(self, other)
    tril = lambda self, diagonal=0: O.tril(self, diagonal)
    triu = lambda self, diagonal=0: O.triu(self, diagonal)
    flip = lambda self, dims: O.flip(self, dims)
    roll = lambda self, shifts, dims=None: O.roll(self, shifts, dims)
    bmm = lambda self, mat2: O.bmm(self, mat2)
    outer = lambda self, vec2: O.outer(self, vec2)
    norm = lambda self, p="fro", dim=None, keepdim=False: O.norm(self, p, dim, keepdim)

    def _inplace(self, op, update, value):
        """update(array, value) on this tensor's array: never recorded, and refused while a graph
        that could need the old values is being built."""
        if self._requires_grad and autograd.is_grad_enabled():
            raise RuntimeError(f"{op}: in-place update of a tensor that requires grad; do it "
                               "inside mg.no_grad(), or use the out-of-place form")
        value = F.unwrap(value, op)
        if not self.data.flags.writeable:
            self.data = self.data.copy()
        try:
            update(self.data, value)
        except ValueError as e:
            raise ValueError(f"{op}: {e} (tensor of shape {self.shape})") from None
        autograd.bump_version(self)
        return self

    def __setitem__(self, key, value):
        self._inplace("setitem", lambda a, v: a.__setitem__(F.index_key(key), v), value)

    def _inplace_ufunc(self, op, ufunc, value):
        return self._inplace(op, lambda a, v: ufunc(a, v, out=a, casting="same_kind"), value)

    def add_(self, other) -> "Tensor":
        return self._inplace_ufunc("add_", xp.add, other)

    def sub_(self, other) -> "Tensor":
        return self._inplace_ufunc("sub_", xp.subtract, other)

    def mul_(self, other) -> "Tensor":
        return self._inplace_ufunc("mul_", xp.multiply, other)

    def div_(self, other) -> "Tensor":
        return self._inplace_ufunc("div_", xp.divide, other)

    def copy_(self, src) -> "Tensor":
        return self._inplace("copy_", lambda a, v: xp.copyto(a, v, casting="same_kind"), src)

    def fill_(self, value) -> "Tensor":
        return self._inplace("fill_", lambda a, v: a.fill(v), value)

    def zero_(self) -> "Tensor":
        return self.fill_(0)

    def _augmented(self, other, inplace, outofplace):
        """`x += y`: in place when no graph is being built, otherwise a new tensor (so code such as
        `h += b` inside a model stays differentiable)."""
        needs_graph = autograd.is_grad_enabled() and (
            self._requires_grad or (isinstance(other, Tensor) and other._requires_grad))
        return outofplace(self, other) if needs_graph else inplace(self, other)

    __iadd__ = lambda self, o: self._augmented(o, Tensor.add_, Tensor.__add__)
    __isub__ = lambda self, o: self._augmented(o, Tensor.sub_, Tensor.__sub__)
    __imul__ = lambda self, o: self._augmented(o, Tensor.mul_, Tensor.__mul__)
    __itruediv__ = lambda self, o: self._augmented(o, Tensor.div_, Tensor.__truediv__)


from . import functions as F  # noqa: E402  (circular: bound after Tensor, which it imports)
from . import tensor_ops as O  # noqa: E402
