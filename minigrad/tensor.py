"""The Tensor: an array that remembers the primitive that made it, so gradients can flow back."""
from . import autograd, ops
from . import backend as B
from .backend import xp


def _normalize_axis(axis, ndim, op):
    """None, an int or a sequence of ints -> a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, xp.integer)) else tuple(axis)
    out = []
    for ax in axes:
        if not -ndim <= ax < max(ndim, 1):
            raise ValueError(f"{op}: axis {ax} is out of range for a tensor with {ndim} dimensions")
        out.append(int(ax) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(out))


def _check_array(data, caller):
    """Refuse objects from other array libraries instead of silently copying them."""
    module = type(data).__module__.split(".")[0]
    if module in ("torch", "cupy", "jax", "jaxlib", "tensorflow"):
        raise TypeError(f"{caller}: got a {module} {type(data).__name__}; minigrad runs on NumPy "
                        "arrays on the CPU. Convert it first, e.g. with .cpu().numpy()")


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation."""

    __slots__ = ("data", "grad", "_requires_grad", "_ctx", "_version", "_retains_grad", "name",
                 "__weakref__")
    __array_ufunc__ = None      # numpy defers to our operators, so `array * tensor` is a Tensor

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        _check_array(data, "Tensor")
        if isinstance(data, Tensor):
            data = data.data
        arr = xp.asarray(data, dtype=dtype)
        if dtype is None and not isinstance(data, (xp.ndarray, xp.generic)) and arr.dtype == xp.float64:
            arr = arr.astype(B.default_float)       # Python floats default to float32
        self.data, self.grad, self._ctx, self._version = arr, None, None, 0
        self._retains_grad, self.name, self._requires_grad = False, None, False
        self.requires_grad = requires_grad

    @staticmethod
    def _wrap(array):
        """A Tensor around an existing array, without checks or copies (the engine's fast path)."""
        t = object.__new__(Tensor)
        t.data, t.grad, t._ctx, t._version = array, None, None, 0
        t._requires_grad, t._retains_grad, t.name = False, False, None
        return t

    # --- attributes -----------------------------------------------------------------------------
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
            raise TypeError(f"requires_grad: only floating-point tensors can require grad; this one "
                            f"is {self.dtype}. Convert it first, e.g. x.astype(mg.float32)")
        if not value and self._ctx is not None:
            raise RuntimeError("requires_grad: cannot turn it off on a non-leaf tensor; use detach()")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> "Tensor":
        """Keep .grad on this non-leaf tensor after backward."""
        self._retains_grad = True
        return self

    def numpy(self):
        return self.data

    def item(self):
        if self.size != 1:
            raise ValueError(f"item: tensor has shape {self.shape}; only one-element tensors convert")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def detach(self) -> "Tensor":
        """The same data, cut from the graph."""
        return Tensor._wrap(self.data)

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
        extra = "" if self.dtype in (B.default_float, B.default_int, xp.bool_) else f", dtype={self.dtype}"
        if self._ctx is not None:
            extra += f", grad_fn=<{type(self._ctx).__name__}>"
        elif self._requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # --- autograd -------------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph: bool = False, create_graph: bool = False):
        """Accumulate the gradient of this tensor into the .grad of every leaf it depends on."""
        autograd.backward(self, gradient, retain_graph, create_graph)

    # --- elementwise arithmetic (broadcasting, dtype promotion) ----------------------------------
    def _binary(self, other, prim, reverse=False):
        if type(other) is not Tensor:
            other = _lift(other, self, prim.__name__.lower())
        a, b = (other, self) if reverse else (self, other)
        if a.data.dtype != b.data.dtype:
            a, b = _promote(a, b)
        if a.data.shape != b.data.shape:
            a, b = _broadcast(a, b, prim.__name__.lower())
        return prim.apply(a, b)

    __add__ = lambda self, o: self._binary(o, ops.Add)
    __radd__ = lambda self, o: self._binary(o, ops.Add, True)
    __sub__ = lambda self, o: self._binary(o, ops.Sub)
    __rsub__ = lambda self, o: self._binary(o, ops.Sub, True)
    __mul__ = lambda self, o: self._binary(o, ops.Mul)
    __rmul__ = lambda self, o: self._binary(o, ops.Mul, True)
    __truediv__ = lambda self, o: self._binary(o, ops.Div)
    __rtruediv__ = lambda self, o: self._binary(o, ops.Div, True)
    __pow__ = lambda self, o: self._binary(o, ops.Pow)
    __rpow__ = lambda self, o: self._binary(o, ops.Pow, True)
    __neg__ = lambda self: ops.Neg.apply(self)
    __matmul__ = lambda self, o: matmul(self, o)
    __rmatmul__ = lambda self, o: matmul(o, self)

    def maximum(self, other) -> "Tensor":
        """Elementwise maximum; ties split the gradient evenly."""
        return self._binary(other, ops.Maximum)

    def minimum(self, other) -> "Tensor":
        """Elementwise minimum; ties split the gradient evenly."""
        return self._binary(other, ops.Minimum)

    def exp(self) -> "Tensor":
        return ops.Exp.apply(self)

    def log(self) -> "Tensor":
        return ops.Log.apply(self)

    def sqrt(self) -> "Tensor":
        return ops.Sqrt.apply(self)

    def tanh(self) -> "Tensor":
        return ops.Tanh.apply(self)

    def abs(self) -> "Tensor":
        return ops.Abs.apply(self)

    def astype(self, dtype) -> "Tensor":
        """Cast to `dtype`; the gradient is cast back."""
        dtype = xp.dtype(dtype)
        if dtype == self.dtype:
            return self
        if self._requires_grad and autograd.is_grad_enabled() and not B.is_float(dtype):
            return Tensor._wrap(self.data.astype(dtype))       # integer results carry no gradient
        return ops.Cast.apply(self, dtype=dtype)

    def float(self) -> "Tensor":
        return self.astype(B.float32)

    def double(self) -> "Tensor":
        return self.astype(B.float64)

    # --- comparisons: boolean results, no gradient -----------------------------------------------
    def _compare(self, other, fn):
        other = other.data if isinstance(other, Tensor) else other
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

    def any(self, axis=None) -> "Tensor":
        return Tensor._wrap(xp.asarray(self.data.any(axis=axis)))

    def all(self, axis=None) -> "Tensor":
        return Tensor._wrap(xp.asarray(self.data.all(axis=axis)))

    def argmax(self, axis=None, keepdims: bool = False) -> "Tensor":
        return Tensor._wrap(xp.asarray(self.data.argmax(axis=axis, keepdims=keepdims)))

    def argmin(self, axis=None, keepdims: bool = False) -> "Tensor":
        return Tensor._wrap(xp.asarray(self.data.argmin(axis=axis, keepdims=keepdims)))

    # --- reductions --------------------------------------------------------------------------------
    def sum(self, axis=None, keepdims: bool = False) -> "Tensor":
        axis = _normalize_axis(axis, self.ndim, "sum")
        return ops.Sum.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims: bool = False) -> "Tensor":
        """Maximum over `axis`; tied maxima share the gradient evenly (like torch.amax)."""
        axis = _normalize_axis(axis, self.ndim, "max")
        if any(self.shape[ax] == 0 for ax in axis) or (self.size == 0 and not axis):
            raise ValueError(f"max: cannot reduce a zero-size axis (tensor of shape {self.shape})")
        return ops.Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims: bool = False) -> "Tensor":
        """Minimum over `axis`; tied minima share the gradient evenly."""
        return -((-self).max(axis, keepdims))

    def mean(self, axis=None, keepdims: bool = False) -> "Tensor":
        axes = _normalize_axis(axis, self.ndim, "mean")
        count = int(xp.prod([self.shape[ax] for ax in axes]))
        return self.sum(axes, keepdims) / count

    def var(self, axis=None, keepdims: bool = False, correction: int = 1) -> "Tensor":
        """Variance over `axis` with Bessel's `correction` (1 like torch.var; 0 like numpy.var)."""
        axes = _normalize_axis(axis, self.ndim, "var")
        count = int(xp.prod([self.shape[ax] for ax in axes]))
        d = self - self.mean(axes, keepdims=True)
        return (d * d).sum(axes, keepdims) / max(count - correction, 0)

    def logsumexp(self, axis=None, keepdims: bool = False) -> "Tensor":
        """log(sum(exp(x))) computed stably by shifting by the (constant) maximum."""
        axes = _normalize_axis(axis, self.ndim, "logsumexp")
        m = self.detach().max(axes, keepdims=True)
        m = m.maximum(-xp.finfo(self.dtype).max) if self.size else m     # all -inf rows stay finite
        out = (self - m).exp().sum(axes, keepdims=True).log() + m
        return out if keepdims else out.reshape([n for i, n in enumerate(out.shape) if i not in axes])

    # --- activations (composites) --------------------------------------------------------------
    def relu(self) -> "Tensor":
        return where(self > 0, self, 0.0)

    def sigmoid(self) -> "Tensor":
        """1 / (1 + exp(-x)), written with tanh so it never overflows."""
        return (self * 0.5).tanh() * 0.5 + 0.5

    def softmax(self, axis: int = -1) -> "Tensor":
        e = (self - self.detach().max(axis, keepdims=True)).exp()
        return e / e.sum(axis, keepdims=True)

    def log_softmax(self, axis: int = -1) -> "Tensor":
        """(x - max) - log(sum(exp(x - max))): shifting first keeps the result exact for large
        logits (x - logsumexp(x) would round logsumexp at the magnitude of x)."""
        m = self.detach().max(axis, keepdims=True)
        shifted = self - (m.maximum(-xp.finfo(self.dtype).max) if self.size else m)
        return shifted - shifted.exp().sum(axis, keepdims=True).log()

    # --- shape -------------------------------------------------------------------------------------
    def reshape(self, *shape) -> "Tensor":
        shape = tuple(shape[0]) if len(shape) == 1 and not isinstance(shape[0], int) else shape
        if shape == self.shape:
            return self
        known = int(xp.prod([n for n in shape if n != -1]))
        if shape.count(-1) == 1 and known and self.size % known == 0:
            shape = tuple(self.size // known if n == -1 else n for n in shape)
        if int(xp.prod(shape)) != self.size or any(n < 0 for n in shape):
            raise ValueError(f"reshape: cannot reshape a tensor of shape {self.shape} ({self.size} "
                             f"elements) into {shape}")
        return ops.Reshape.apply(self, shape=tuple(int(n) for n in shape))

    def flatten(self, start_axis: int = 0) -> "Tensor":
        """Merge the axes from `start_axis` on into one."""
        return self.reshape(self.shape[:start_axis] + (-1,)) if self.size else \
            self.reshape(self.shape[:start_axis] + (int(xp.prod(self.shape[start_axis:])),))

    def squeeze(self, axis=None) -> "Tensor":
        axes = _normalize_axis(axis, self.ndim, "squeeze") if axis is not None else \
            tuple(i for i, n in enumerate(self.shape) if n == 1)
        if any(self.shape[ax] != 1 for ax in axes):
            raise ValueError(f"squeeze: axes {axes} of shape {self.shape} are not all of size 1")
        return self.reshape([n for i, n in enumerate(self.shape) if i not in axes])

    def unsqueeze(self, axis: int) -> "Tensor":
        axis = axis % (self.ndim + 1)
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def transpose(self, *axes) -> "Tensor":
        """Permute axes with NumPy semantics: no argument reverses them all."""
        axes = tuple(axes[0]) if len(axes) == 1 and not isinstance(axes[0], int) else axes
        axes = axes or tuple(reversed(range(self.ndim)))
        if sorted(a % max(self.ndim, 1) for a in axes) != list(range(self.ndim)):
            raise ValueError(f"transpose: {axes} is not a permutation of the axes of shape {self.shape}")
        axes = tuple(a % self.ndim for a in axes)
        return self if axes == tuple(range(self.ndim)) else ops.Permute.apply(self, axes=axes)

    permute = transpose

    def swapaxes(self, axis1: int, axis2: int) -> "Tensor":
        axes = list(range(self.ndim))
        axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
        return self.transpose(axes)

    def expand(self, *shape) -> "Tensor":
        """Broadcast to `shape`, as numpy.broadcast_to (a view; the gradient sums back)."""
        shape = tuple(shape[0]) if len(shape) == 1 and not isinstance(shape[0], int) else shape
        if shape == self.shape:
            return self
        try:
            if xp.broadcast_shapes(self.shape, shape) != shape:
                raise ValueError
        except ValueError:
            raise ValueError(f"broadcast_to: cannot broadcast shape {self.shape} to {shape}") from None
        return ops.Expand.apply(self, shape=shape)

    broadcast_to = expand

    def pad(self, pad_width, value=0.0) -> "Tensor":
        """Constant padding with numpy.pad's `pad_width`: an int, a (before, after) pair, or a pair
        per axis."""
        widths = xp.broadcast_to(xp.asarray(pad_width, dtype=int), (self.ndim, 2)).tolist()
        if any(w < 0 for pair in widths for w in pair):
            raise ValueError(f"pad: widths must be non-negative, got {pad_width}")
        return ops.Pad.apply(self, widths=tuple(map(tuple, widths)), value=value)

    def sliding_window(self, window_shape, axis, stride=1, dilation=1) -> "Tensor":
        """Windows of `window_shape` over `axis` as a view: each of those axes becomes the number of
        window positions and the window axes are appended at the end (numpy's
        sliding_window_view, plus stride and dilation)."""
        axes = (axis,) if isinstance(axis, int) else tuple(axis)
        n = len(axes)
        size, stride, dilation = (tuple(v) if isinstance(v, (tuple, list)) else (v,) * n
                                  for v in (window_shape, stride, dilation))
        axes = tuple(a % self.ndim for a in axes)
        for ax, k, s, d in zip(axes, size, stride, dilation):
            if k < 1 or s < 1 or d < 1 or d * (k - 1) + 1 > self.shape[ax]:
                raise ValueError(f"sliding_window: window {k} (dilation {d}, stride {s}) does not "
                                 f"fit axis {ax} of shape {self.shape}")
        return ops.Windows.apply(self, axes=axes, size=size, stride=stride, dilation=dilation)

    def __getitem__(self, key) -> "Tensor":
        key = key if isinstance(key, tuple) else (key,)
        key = tuple(k.data if isinstance(k, Tensor) else xp.asarray(k) if isinstance(k, list) else k
                    for k in key)
        for k in key:
            if isinstance(k, xp.ndarray) and k.dtype.kind not in "biu":
                raise IndexError(f"getitem: index arrays must be integer or boolean, got {k.dtype}")
        try:
            self.data[key]       # cheap for views; validates bounds before the graph sees the key
        except IndexError as e:
            raise IndexError(f"getitem: {e} (tensor of shape {self.shape})") from None
        if any(isinstance(k, xp.ndarray) and k.dtype == xp.bool_ for k in key):
            key = tuple(xp.nonzero(k) if isinstance(k, xp.ndarray) and k.dtype == xp.bool_ else (k,)
                        for k in key)
            key = tuple(part for group in key for part in group)    # boolean masks -> int arrays
        return ops.Index.apply(self, key=key)

    def take_along_axis(self, indices, axis: int) -> "Tensor":
        """numpy.take_along_axis (torch.gather): pick `indices` along `axis`, broadcasting the rest."""
        idx = indices.data if isinstance(indices, Tensor) else xp.asarray(indices)
        if idx.ndim != self.ndim or idx.dtype.kind not in "iu":
            raise ValueError(f"take_along_axis: indices {idx.shape} {idx.dtype} must be integers with "
                             f"the same number of dimensions as the tensor {self.shape}")
        axis = axis % self.ndim
        if idx.size and (idx.min() < -self.shape[axis] or idx.max() >= self.shape[axis]):
            raise IndexError(f"take_along_axis: an index is out of range for axis {axis} of shape "
                             f"{self.shape}")
        grid = xp.ogrid[tuple(slice(n) for n in idx.shape)]
        key = tuple(idx if i == axis else g for i, g in enumerate(grid))
        return ops.Index.apply(self, key=tuple(xp.broadcast_arrays(*key)))

    # --- in place (never recorded; refused while a graph is being built) --------------------------
    def _inplace(self, fn, value, op):
        if self._requires_grad and autograd.is_grad_enabled():
            raise RuntimeError(f"{op}: in-place update of a tensor that requires grad; do it inside "
                               "mg.no_grad(), or use the out-of-place form")
        value = value.data if isinstance(value, Tensor) else value
        if not self.data.flags.writeable:
            self.data = self.data.copy()
        fn(self.data, value)
        autograd.bump_version(self)
        return self

    def __setitem__(self, key, value):
        key = key.data if isinstance(key, Tensor) else key
        self._inplace(lambda a, v: a.__setitem__(key, v), value, "setitem")

    def add_(self, other) -> "Tensor":
        return self._inplace(lambda a, v: xp.add(a, v, out=a, casting="same_kind"), other, "add_")

    def sub_(self, other) -> "Tensor":
        return self._inplace(lambda a, v: xp.subtract(a, v, out=a, casting="same_kind"), other, "sub_")

    def mul_(self, other) -> "Tensor":
        return self._inplace(lambda a, v: xp.multiply(a, v, out=a, casting="same_kind"), other, "mul_")

    def div_(self, other) -> "Tensor":
        return self._inplace(lambda a, v: xp.divide(a, v, out=a, casting="same_kind"), other, "div_")

    def copy_(self, src) -> "Tensor":
        return self._inplace(lambda a, v: xp.copyto(a, v, casting="same_kind"), src, "copy_")

    def fill_(self, value) -> "Tensor":
        return self._inplace(lambda a, v: a.fill(v), value, "fill_")

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


def _lift(value, like, op):
    """A Python number or array as a Tensor; Python numbers take `like`'s dtype (so float32 stays
    float32), or float32 when a float meets an integer tensor."""
    if isinstance(value, (bool, int, float)):
        if isinstance(value, float) and like.data.dtype.kind == "f":
            return Tensor._wrap(xp.asarray(value, like.data.dtype))
        if isinstance(value, float):
            return Tensor._wrap(xp.asarray(value, B.default_float))
        dtype = like.dtype if B.kind(like.dtype) >= B.kind(type(value)) else B.default_int
        return Tensor._wrap(xp.asarray(value, dtype))
    if isinstance(value, Tensor):       # a subclass, such as nn.Parameter
        return value
    _check_array(value, op)
    if isinstance(value, (xp.ndarray, xp.generic)):
        return Tensor._wrap(xp.asarray(value))
    raise TypeError(f"{op}: cannot combine a Tensor with a {type(value).__name__}")


def _broadcast(a, b, op):
    """Expand whichever operand needs a gradient to the common shape. A constant operand is left to
    numpy's own broadcasting in forward: it needs no gradient, so the graph needs no Expand for it."""
    sa, sb = a.data.shape, b.data.shape
    try:
        shape = sa if not sb else sb if not sa else xp.broadcast_shapes(sa, sb)
    except ValueError:
        raise ValueError(f"{op}: shapes {sa} and {sb} cannot be broadcast together") from None
    grad = autograd.is_grad_enabled()
    if a.data.shape != shape and (a._requires_grad and grad or b.data.shape != shape):
        a = a.expand(shape)
    if b.data.shape != shape and (b._requires_grad and grad or a.data.shape != shape):
        b = b.expand(shape)
    return a, b


def _promote(a, b):
    """Cast a and b to one dtype. A 0-d operand does not widen a higher-dimensional one of the same
    kind (float32 tensor * 0-d float64 array stays float32), as in PyTorch."""
    if (a.ndim == 0) != (b.ndim == 0):
        weak, strong = (a, b) if a.ndim == 0 else (b, a)
        kw, ks = B.kind(weak.dtype), B.kind(strong.dtype)
        dtype = strong.dtype if kw <= ks else B.default_float if kw == 2 else B.default_int
    else:
        dtype = xp.result_type(a.dtype, b.dtype)
    return a.astype(dtype), b.astype(dtype)


def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """A new tensor holding a copy of `data`. Python floats become float32; arrays keep their dtype."""
    _check_array(data, "tensor")
    data = data.data if isinstance(data, Tensor) else data
    return Tensor(xp.array(data, dtype=dtype) if isinstance(data, xp.ndarray) else data,
                  requires_grad=requires_grad, dtype=dtype)


def matmul(a, b) -> Tensor:
    """a @ b with NumPy's rules: 1-D operands gain (and lose) an axis, leading dims broadcast."""
    a = a if isinstance(a, Tensor) else _lift(a, b, "matmul")
    b = b if isinstance(b, Tensor) else _lift(b, a, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have at least one dimension, got {a.shape} and "
                         f"{b.shape}; use * for scalars")
    if a.shape[-1] != b.shape[max(b.ndim - 2, 0)]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} disagree on the inner size "
                         f"({a.shape[-1]} vs {b.shape[max(b.ndim - 2, 0)]})")
    if a.dtype != b.dtype:
        a, b = _promote(a, b)
    a2 = a.reshape(1, -1) if a.ndim == 1 else a
    b2 = b.reshape(-1, 1) if b.ndim == 1 else b
    if a2.ndim > 2 or b2.ndim > 2:
        lead = xp.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        a2, b2 = a2.expand(lead + a2.shape[-2:]), b2.expand(lead + b2.shape[-2:])
    out = ops.MatMul.apply(a2, b2)
    if a.ndim == 1 or b.ndim == 1:
        out = out.reshape(out.shape[:-2] + out.shape[-2:][a.ndim == 1: 2 - (b.ndim == 1)])
    return out


def where(cond, a, b) -> Tensor:
    """Elementwise `a` where `cond` else `b`; the gradient flows to the chosen side only."""
    cond = cond.data if isinstance(cond, Tensor) else xp.asarray(cond)
    if cond.dtype != xp.bool_:
        raise TypeError(f"where: the condition must be boolean, got {cond.dtype}")
    if not isinstance(a, Tensor):
        a = _lift(a, b, "where") if isinstance(b, Tensor) else tensor(a)
    b = b if isinstance(b, Tensor) else _lift(b, a, "where")
    if a.dtype != b.dtype:
        a, b = _promote(a, b)
    try:
        shape = xp.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError(f"where: shapes {cond.shape}, {a.shape} and {b.shape} cannot be broadcast "
                         "together") from None
    return ops.Where.apply(a.expand(shape), b.expand(shape), cond=xp.broadcast_to(cond, shape))


def maximum(a, b) -> Tensor:
    return a.maximum(b) if isinstance(a, Tensor) else _lift(a, b, "maximum").maximum(b)


def minimum(a, b) -> Tensor:
    return a.minimum(b) if isinstance(a, Tensor) else _lift(a, b, "minimum").minimum(b)


def concatenate(tensors, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    tensors = [t if isinstance(t, Tensor) else tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    ndim = tensors[0].ndim
    axis = _normalize_axis(axis, ndim, "concatenate")[0]
    for t in tensors:
        if t.ndim != ndim or t.shape[:axis] + t.shape[axis + 1:] != \
                tensors[0].shape[:axis] + tensors[0].shape[axis + 1:]:
            raise ValueError(f"concatenate: shapes {[t.shape for t in tensors]} differ outside "
                             f"axis {axis}")
    dtype = xp.result_type(*[t.dtype for t in tensors])
    return ops.Concat.apply(*[t.astype(dtype) for t in tensors], axis=axis)


def stack(tensors, axis: int = 0) -> Tensor:
    """Join equally shaped tensors along a new axis."""
    tensors = [t if isinstance(t, Tensor) else tensor(t) for t in tensors]
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors must have one shape, got {[t.shape for t in tensors]}")
    return concatenate([t.unsqueeze(axis) for t in tensors], axis)
