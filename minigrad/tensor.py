"""The Tensor: an array that remembers the primitive that made it, so gradients can flow back.

Each method hands its work to one primitive (minigrad/ops.py) or, when there are arguments to read
and check or a composite to build, to the function of the same name in minigrad/functions.py; the
torch-vocabulary methods listed in METHODS at the end are tensor_ops.<name> itself.
"""
from . import autograd, ops
from . import backend as B
from .backend import xp


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
        autograd.untraceable("numpy()")
        return self.data

    def item(self):
        autograd.untraceable("item()")
        if self.size != 1:
            raise ValueError(f"item: tensor has shape {self.shape}; only one-element tensors "
                             "convert")
        return self.data.item()

    def tolist(self):
        autograd.untraceable("tolist()")
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        """The data for NumPy (np.asarray(t, dtype, copy=...)), copied only when asked or needed."""
        autograd.untraceable("numpy.asarray(tensor)")
        if copy is False and dtype is not None and xp.dtype(dtype) != self.dtype:
            raise ValueError(f"__array__: copy=False, but a {self.dtype} tensor must be copied to "
                             f"become {xp.dtype(dtype)}")
        out = self.data if dtype is None else self.data.astype(dtype, copy=False)
        return out.copy() if copy and out is self.data else out

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
        autograd.untraceable("bool(tensor) (Python control flow on a tensor's value)")
        return bool(self.data)

    __float__ = lambda self: float(self.item())
    __int__ = lambda self: int(self.item())

    def __index__(self):
        """An integer one-element tensor as a Python index (lists, range, slices), as in torch."""
        if self.size != 1 or self.dtype.kind not in "iu":
            raise TypeError(f"__index__: only integer tensors of one element can be an index; got "
                            f"shape {self.shape}, dtype {self.dtype}")
        return int(self.data.item())

    def __format__(self, spec):
        """A 0-d tensor formats as its number (f"{loss:.4f}"); others as their repr."""
        return format(self.item() if self.ndim == 0 else repr(self), spec)

    __round__ = lambda self, ndigits=None: TO.round(self, ndigits or 0)     # half to even
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
    __truediv__ = lambda self, o: F.binary(F.floating(self), o, ops.Div)   # ints: floats, as torch
    __rtruediv__ = lambda self, o: F.binary(F.floating(self), o, ops.Div, True)
    __pow__ = lambda self, o: F.binary(self, o, ops.Pow)
    __rpow__ = lambda self, o: F.binary(self, o, ops.Pow, True)
    __neg__ = lambda self: ops.Neg.apply(F.not_bool(self, "neg"))
    __pos__ = lambda self: F.not_bool(self, "pos")
    __abs__ = lambda self: self.abs()
    __floordiv__ = lambda self, o: F.floor_divide(self, o)
    __rfloordiv__ = lambda self, o: F.floor_divide(self, o, True)
    __mod__ = lambda self, o: F.remainder(self, o)
    __rmod__ = lambda self, o: F.remainder(self, o, True)
    __matmul__ = lambda self, o: F.matmul(self, o)
    __rmatmul__ = lambda self, o: F.matmul(o, self)

    def maximum(self, other) -> "Tensor":
        """Elementwise maximum; ties split the gradient evenly."""
        return F.binary(self, other, ops.Maximum)

    def minimum(self, other) -> "Tensor":
        """Elementwise minimum; ties split the gradient evenly."""
        return F.binary(self, other, ops.Minimum)

    def abs(self) -> "Tensor":
        return ops.Abs.apply(F.not_bool(self, "abs"))

    def relu(self) -> "Tensor":
        """max(0, x) as torch.relu: gradient 0 at 0, nan stays nan."""
        return ops.Relu.apply(F.not_bool(self, "relu"))

    def sigmoid(self) -> "Tensor":
        """1 / (1 + exp(-x)), with relative precision in both tails (value and gradient)."""
        return F.sigmoid(self)

    def astype(self, dtype) -> "Tensor":
        """Cast to `dtype`; the gradient is cast back. Integer and bool results carry none."""
        try:
            dtype = xp.dtype(dtype)
        except TypeError:
            raise TypeError(f"astype: {dtype!r} is not a dtype (tensor {self.shape})") from None
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
        """A comparison or bitwise op by NumPy's `fn`: a constant."""
        other = F.unwrap(other, fn.__name__)
        try:
            return Tensor._wrap(xp.asarray(autograd.host(fn, self.data, other)))
        except ValueError:
            raise ValueError(f"{fn.__name__}: shapes {self.shape} and {xp.shape(other)} cannot be "
                             "broadcast together") from None
        except TypeError:
            raise TypeError(f"{fn.__name__}: not defined for a {self.dtype} tensor and "
                            f"{type(other).__name__} {xp.asarray(other).dtype}") from None

    __lt__ = lambda self, o: self._compare(o, xp.less)
    __le__ = lambda self, o: self._compare(o, xp.less_equal)
    __gt__ = lambda self, o: self._compare(o, xp.greater)
    __ge__ = lambda self, o: self._compare(o, xp.greater_equal)
    __eq__ = lambda self, o: self._compare(o, xp.equal)
    __ne__ = lambda self, o: self._compare(o, xp.not_equal)
    def __invert__(self):
        if self.dtype.kind not in "biu":
            raise TypeError(f"invert (~): only bool and integer tensors, got dtype {self.dtype}")
        return Tensor._wrap(~self.data)

    __and__ = lambda self, o: self._compare(o, xp.bitwise_and)     # as torch: ints bitwise
    __or__ = lambda self, o: self._compare(o, xp.bitwise_or)

    # Reductions take torch's dim= and keepdim=, with NumPy's axis= and keepdims= as aliases.
    def any(self, dim=None, keepdim: bool = False, **numpy) -> "Tensor":
        return F.constant_reduction(self, xp.ndarray.any, dim, keepdim, numpy)

    def all(self, dim=None, keepdim: bool = False, **numpy) -> "Tensor":
        return F.constant_reduction(self, xp.ndarray.all, dim, keepdim, numpy)

    def argmax(self, dim=None, keepdim: bool = False, **numpy) -> "Tensor":
        return F.constant_reduction(self, xp.ndarray.argmax, dim, keepdim, numpy)

    def argmin(self, dim=None, keepdim: bool = False, **numpy) -> "Tensor":
        return F.constant_reduction(self, xp.ndarray.argmin, dim, keepdim, numpy)

    def sum(self, dim=None, keepdim: bool = False, **numpy) -> "Tensor":
        dim, keepdim = F.reduction_args(dim, keepdim, numpy)
        return ops.Sum.apply(self, axis=F.axes(dim, self.shape, "sum"), keepdims=keepdim)

    def mean(self, dim=None, keepdim: bool = False, **numpy) -> "Tensor":
        return F.mean(self, *F.reduction_args(dim, keepdim, numpy))

    def logsumexp(self, dim=None, keepdim: bool = False, **numpy) -> "Tensor":
        """log(sum(exp(x))) over `dim`, computed stably."""
        return F.logsumexp(self, *F.reduction_args(dim, keepdim, numpy))

    def softmax(self, dim: int = -1, **numpy) -> "Tensor":
        return F.softmax(self, F.reduction_args(dim, False, numpy)[0])

    def log_softmax(self, dim: int = -1, **numpy) -> "Tensor":
        return F.log_softmax(self, F.reduction_args(dim, False, numpy)[0])

    def reshape(self, *shape) -> "Tensor":
        return F.reshape(self, F.shape_args(shape))

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor":
        """Merge the dims from `start_dim` to `end_dim` (both included) into one."""
        return F.flatten(self, start_dim, end_dim)

    def squeeze(self, dim=None) -> "Tensor":
        return F.squeeze(self, dim)

    def unsqueeze(self, dim: int) -> "Tensor":
        dim = F.dim_index(dim, self.shape, "unsqueeze", new=1)
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def transpose(self, *dims) -> "Tensor":
        """torch's transpose(dim0, dim1) swaps two dims; no argument reverses them all and a full
        permutation permutes (NumPy's transpose, which permute and .T also give)."""
        if len(dims) == 2 and all(isinstance(d, int) for d in dims):
            return self.swapaxes(*dims)
        return F.transpose(self, F.shape_args(dims))

    def permute(self, *dims) -> "Tensor":
        return F.transpose(self, F.shape_args(dims))

    def swapaxes(self, axis0: int, axis1: int) -> "Tensor":
        return F.swapaxes(self, axis0, axis1)

    swapdims = swapaxes

    @property
    def mT(self) -> "Tensor":
        """The last two dims swapped (torch's .mT: a batch of transposed matrices)."""
        return self.swapaxes(-2, -1)

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
            autograd.host(update, self.data, value)
        except (TypeError, ValueError) as e:       # a shape or a cast NumPy refuses
            raise (TypeError if isinstance(e, TypeError) else ValueError)(
                f"{op}: {e} (tensor of shape {self.shape}, {self.dtype})") from None
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
        return self._inplace("zero_", lambda a, v: a.fill(v), 0)

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

    view = reshape
    dim = lambda self: self.ndim
    contiguous = lambda self: self      # NumPy arrays need no contiguous copy


from . import functions as F  # noqa: E402  (circular: bound after Tensor, which it imports)
from . import tensor_ops as TO  # noqa: E402  (the same)

# torch's vocabulary: each of these methods is the function of the same name in tensor_ops.py,
# which takes the tensor first as torch.<name> does (`x.sort(1)` is `tensor_ops.sort(x, 1)`)
METHODS = """clamp clip floor ceil trunc sign isnan isinf isfinite round exp log sqrt tanh sin
    cos log1p expm1 rsqrt pow square nan_to_num logaddexp max min var std prod cumsum cumprod
    norm argsort sort topk take_along_dim gather scatter_add scatter index_select masked_fill tril
    triu flip roll split chunk unbind repeat tile repeat_interleave expand_as unflatten movedim bmm
    outer matmul numel clone type_as to new_zeros where lerp diagonal narrow amax amin""".split()
for _name in METHODS:
    setattr(Tensor, _name, getattr(TO, _name))
