"""The primitive ops: each a `forward` over arrays beside a `backward` over Tensors.

Elementwise:   Add, Sub, Mul, Div, Remainder, Neg, Pow, Exp, Log, Sqrt, Tanh, Sin, Cos, Log1p,
               Expm1, Abs, Relu, Maximum, Minimum, Where, Cast
Reductions:    Sum, Max (ties share the gradient evenly, like torch.amax), Cumsum
Shape:         Reshape, Permute, Expand, Pad, Concat
Indexing:      Index (basic, integer-array and boolean keys) and its adjoint IndexAdd
Linear:        MatMul (batched, equal leading dims)
Windows:       Windows (sliding-window view, under conv and pooling) and its adjoint WindowsAdd

Backward passes call primitives directly where the shapes are known to be right, and Tensor
methods where broadcasting or checks are wanted. Binary primitives take equal dtypes, and every
input that needs a gradient already has the output's shape: Tensor promotes (Cast) and
broadcasts (Expand) first, so no backward has to "unbroadcast". A constant operand (one that
needs no gradient) is left to numpy's broadcasting: its gradient is never asked for. Backward
runs under no_grad unless create_graph=True, so it builds a graph only when asked.
"""
import itertools

from .autograd import Primitive, host, tracing
from .backend import strided_view, xp


def _const(array):
    """A Tensor that is a constant of the gradient graph (masks, signs)."""
    from .tensor import Tensor
    return Tensor._wrap(array)


def _unless(mask, t):
    """t with 0 where the constant `mask` holds: a select, so that inf or nan in t stay out."""
    if not tracing() and not mask.any():      # a compiled step must not depend on data
        return t
    return Where.apply(_const(xp.zeros_like(t.data)), t, cond=xp.broadcast_to(mask, t.shape))


# Reshape and broadcast that skip no-ops, for backward and behind Tensor.reshape/.expand (which
# parse and check their arguments first: backward calling those made a batch-1 step 2-4% slower).
def reshape(g, shape):
    return g if g.shape == shape else Reshape.apply(g, shape=shape)


def expand(g, shape):
    return g if g.shape == shape else Expand.apply(g, shape=shape)


class Add(Primitive):
    def forward(self, a, b):
        return a + b

    def backward(self, g):
        return g, g


class Sub(Primitive):
    def forward(self, a, b):
        return a - b

    def backward(self, g):
        return g, -g if self.inputs[1].requires_grad else None


class Mul(Primitive):
    def forward(self, a, b):
        return a * b

    def backward(self, g):
        a, b = self.inputs
        if a is b:              # x * x: one product for both (the engine adds them)
            ga = g * a
            return ga, ga
        return g * b if a.requires_grad else None, g * a if b.requires_grad else None


class Div(Primitive):
    save_output = True

    def forward(self, a, b):
        return a / b

    def backward(self, g):
        a, b = self.inputs     # -g * (a / b) / b: at a = 0 and a subnormal b, 0 (not inf * 0)
        return (g / b if a.requires_grad else None,
                -(g * self.output()) / b if b.requires_grad else None)


def nonzero_divisor(a, b, op):
    """torch's ZeroDivisionError for an integer divisor that holds a zero."""
    if a.dtype.kind in "iu" and not b.all():
        raise ZeroDivisionError(f"{op}: integer division by zero")


class Remainder(Primitive):
    """a % b as torch.remainder: the sign of the divisor. Floats use fmod, which is exact, and add b
    where fmod's sign (the dividend's) differs from b's; so -1 % 1 is -0.0, as in torch."""

    def forward(self, a, b):
        if a.dtype.kind != "f":
            nonzero_divisor(a, b, "remainder")
            return xp.remainder(a, b)
        with xp.errstate(invalid="ignore", divide="ignore"):      # b = 0: nan, as torch
            mod = xp.fmod(a, b)
            return xp.where((mod != 0) & ((b < 0) != (mod < 0)), mod + b, mod)

    def backward(self, g):      # a - b * floor(a / b): 1 for a, -floor(a / b) for b
        a, b = self.inputs
        if not b.requires_grad:
            return g, None
        with xp.errstate(divide="ignore", invalid="ignore"):    # b = 0, inf or nan: nan, as torch
            return g, -g * _const(host(xp.floor_divide, a.data, b.data))


class Neg(Primitive):
    def forward(self, a):
        return -a

    def backward(self, g):
        return (-g,)


class Pow(Primitive):
    save_output = True

    def forward(self, a, b):
        return a ** b

    def backward(self, g):
        a, b = self.inputs
        ga = gb = None
        if a.requires_grad:     # like torch, 0 where b == 0, even where a is 0, inf or nan
            ga = _unless(host(xp.equal, b.data, 0), g * b * a ** (b - 1))
        if b.requires_grad:     # log(a), differentiable in a; like torch, 0 where a == 0 and b >= 0
            base_0 = host(_zero_base, a.data, b.data)
            gb = _unless(base_0, g * self.output() * (a + _const(host(_astype, base_0, a.dtype))).log())
        return ga, gb


class Exp(Primitive):
    save_output = True

    def forward(self, a):
        return xp.exp(a)

    def backward(self, g):
        return (g * self.output(),)


class Sin(Primitive):
    def forward(self, a):
        return xp.sin(a)

    def backward(self, g):
        return (g * self.inputs[0].cos(),)


class Cos(Primitive):
    def forward(self, a):
        return xp.cos(a)

    def backward(self, g):
        return (-g * self.inputs[0].sin(),)


class Log1p(Primitive):
    """log(1 + a), exact for small a (a composite log(1 + a) rounds 1 + a first)."""

    def forward(self, a):
        return xp.log1p(a)

    def backward(self, g):
        return (g / (self.inputs[0] + 1),)


class Expm1(Primitive):
    """exp(a) - 1, exact for small a."""

    save_output = True

    def forward(self, a):
        return xp.expm1(a)

    def backward(self, g):
        return (g * (self.output() + 1),)


class Cumsum(Primitive):
    """Running sum along `axis`; its adjoint is the running sum from the other end."""

    def forward(self, a, axis):
        self.axis = axis
        return xp.cumsum(a, axis=axis)

    def backward(self, g):
        flip = (slice(None),) * self.axis + (slice(None, None, -1),)
        return (Cumsum.apply(g[flip], axis=self.axis)[flip],)


class Log(Primitive):
    def forward(self, a):
        return xp.log(a)

    def backward(self, g):
        return (g / self.inputs[0],)


class Sqrt(Primitive):
    save_output = True

    def forward(self, a):
        return xp.sqrt(a)

    def backward(self, g):
        return (g / (self.output() * 2),)


class Tanh(Primitive):
    save_output = True

    def forward(self, a):
        return xp.tanh(a)

    def backward(self, g):
        y = self.output()
        return (g * (1 - y * y),)


class Abs(Primitive):
    def forward(self, a):
        return xp.abs(a)

    def backward(self, g):
        return (g * _const(host(_sign, self.inputs[0].data, g.dtype)),)    # 0 at nan, as torch


class Relu(Primitive):
    """max(0, x) with torch's values (-0.0 and nan pass through, -inf gives 0) and gradient (0 at
    x <= 0, g at nan). A primitive for speed: one numpy pass forward, where the mask product
    `x * (x > 0)` took two and gave nan at -inf, and a select (`where`) ran ten times slower."""

    def forward(self, a):
        return xp.maximum(0, a)     # maximum(0, -0.0) keeps -0.0, as torch.relu does

    def backward(self, g):
        keep = host(_keep, self.inputs[0].data, g.dtype)      # nan keeps g, as in torch
        return (Mul.apply(g, _const(keep)),)


class Maximum(Primitive):
    """Elementwise maximum; where a == b the gradient is split evenly, as in torch.maximum."""

    def forward(self, a, b):
        return xp.maximum(a, b)

    def backward(self, g):
        a, b = self.inputs          # host: recorded for replay
        return tuple(g * _const(host(self._share, a.data, b.data, g.dtype, i)) for i in (0, 1))

    def _share(self, a, b, dtype, i):
        """a's (i = 0) or b's (i = 1) part of the gradient: half each at a tie, and all of it to
        both where one is nan (torch's rule: an input gets none only where it lost)."""
        lost = a < b if i == 0 else a > b
        return (1 - lost - 0.5 * (a == b)).astype(dtype)


class Minimum(Maximum):
    def forward(self, a, b):
        return xp.minimum(a, b)

    def _share(self, a, b, dtype, i):
        return super()._share(a, b, dtype, 1 - i)   # mirrored: b's share of max is a's of min


class Where(Primitive):
    """cond ? a : b with a constant boolean `cond`."""

    def forward(self, a, b, cond):
        self.cond = cond
        return select(a, b, cond)

    def backward(self, g):
        a, b = self.inputs
        zero = _const(xp.zeros_like(g.data))
        return (Where.apply(g, zero, cond=self.cond) if a.requires_grad else None,
                Where.apply(zero, g, cond=self.cond) if b.requires_grad else None)


def select(a, b, cond, out=None):
    """numpy.where(cond, a, b) for a, b, cond of one shape, a and b of one dtype, bit for bit as
    ((a ^ b) & mask) ^ b on the raw bits, mask all ones where cond: numpy's where branches on each
    element, 4x slower where cond is random (docs/benchmarks.md)."""
    if a.dtype.kind not in "fiub" or not a.ndim:
        return xp.where(cond, a, b) if out is None else xp.copyto(out, xp.where(cond, a, b))
    u = xp.dtype(f"u{a.dtype.itemsize}")
    bits = xp.bitwise_and(a.view(u) ^ b.view(u), xp.subtract(0, cond, dtype=u),
                          out=None if out is None else out.view(u))
    return xp.bitwise_xor(bits, b.view(u), out=bits).view(a.dtype)


class Cast(Primitive):
    def forward(self, a, dtype):
        self.dtype_in = a.dtype
        return a.astype(dtype)

    def backward(self, g):
        return (Cast.apply(g, dtype=self.dtype_in),)


class Sum(Primitive):
    def forward(self, a, axis, keepdims):
        self.shape_in = a.shape
        self.shape_kept = tuple(1 if i in axis else n for i, n in enumerate(a.shape))
        return a.sum(axis=axis, keepdims=keepdims)

    def backward(self, g):
        return (expand(reshape(g, self.shape_kept), self.shape_in),)


class Max(Primitive):
    """Maximum over `axis`; tied maxima share the gradient evenly (the torch.amax rule)."""

    save_output = True

    def forward(self, a, axis, keepdims):
        self.axis = axis
        self.shape_kept = tuple(1 if i in axis else n for i, n in enumerate(a.shape))
        return a.max(axis=axis, keepdims=keepdims)

    def backward(self, g):
        a = self.inputs[0].data
        share = host(_ties, a, self.output().data.reshape(self.shape_kept))
        share = host(xp.divide, share, host(_kept_sum, share, self.axis), share)    # in place
        return (Mul.apply(expand(reshape(g, self.shape_kept), a.shape), _const(share)),)


class Reshape(Primitive):
    def forward(self, a, shape):
        self.shape_in = a.shape
        return a.reshape(shape)

    def backward(self, g):
        return (Reshape.apply(g, shape=self.shape_in),)


class Permute(Primitive):
    def forward(self, a, axes):
        self.axes = axes
        return a.transpose(axes)

    def backward(self, g):
        return (Permute.apply(g, axes=tuple(sorted(range(g.ndim), key=self.axes.__getitem__))),)


class Expand(Primitive):
    """Broadcast to `shape` (a read-only view); the gradient sums over the broadcast axes."""

    def forward(self, a, shape):
        self.shape_in, lead = a.shape, len(shape) - a.ndim
        dims = list(zip((1,) * lead + a.shape, shape, (0,) * lead + a.strides))
        if lead < 0 or any(n not in (1, m) for n, m, _ in dims):
            raise ValueError(f"cannot broadcast shape {a.shape} to {shape}")
        strides = tuple(s if n == m else 0 for n, m, s in dims)     # 0: a new or stretched axis
        return strided_view(a, tuple(shape), strides)

    def backward(self, g):
        lead = g.ndim - len(self.shape_in)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(self.shape_in) if n == 1 and g.shape[lead + i] != 1)
        return (reshape(Sum.apply(g, axis=axes, keepdims=False), self.shape_in),)


class Pad(Primitive):
    """Constant padding; `widths` holds one (before, after) pair per axis."""

    def forward(self, a, widths, value):
        self.inner = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, a.shape))
        out = xp.full([n + lo + hi for n, (lo, hi) in zip(a.shape, widths)], value, a.dtype)
        out[self.inner] = a
        return out

    def backward(self, g):
        return (g[self.inner],)


class Concat(Primitive):
    def forward(self, *arrays, axis):
        self.axis = axis
        self.bounds = list(itertools.accumulate([0] + [a.shape[axis] for a in arrays]))
        return xp.concatenate(arrays, axis=axis)

    def backward(self, g):
        lead = (slice(None),) * self.axis
        return tuple(g[lead + (slice(lo, hi),)] for lo, hi in zip(self.bounds, self.bounds[1:]))


class Index(Primitive):
    """a[key] for a normalised key (slices, ints, None, Ellipsis, integer or boolean arrays)."""

    def forward(self, a, key):
        self.key, self.shape_in = key, a.shape
        return a[key]

    def backward(self, g):
        return (IndexAdd.apply(g, key=self.key, shape=self.shape_in),)


class IndexAdd(Primitive):
    """The adjoint of Index: zeros of `shape` with g added at `key` (repeated indices accumulate)."""

    def forward(self, g, key, shape):
        self.key = key
        out = xp.zeros(shape, g.dtype)
        if any(isinstance(k, xp.ndarray) for k in key):
            xp.add.at(out, key, g)
        else:                                   # basic indexing never repeats an element
            out[key] = g
        return out

    def backward(self, g):
        return (g[self.key],)


class MatMul(Primitive):
    """a @ b for a (..., n, k) and b (..., k, m) with equal leading dims."""

    def forward(self, a, b):
        # on matrices numpy's dot runs as fast as @ (within noise), 4x faster on outer products
        return xp.dot(a, b) if a.ndim == 2 == b.ndim else a @ b

    def backward(self, g):
        a, b = self.inputs        # skip the product for an input that needs no gradient
        swap = tuple(range(g.ndim - 2)) + (g.ndim - 1, g.ndim - 2)
        return (MatMul.apply(g, Permute.apply(b, axes=swap)) if a.requires_grad else None,
                MatMul.apply(Permute.apply(a, axes=swap), g) if b.requires_grad else None)


class Windows(Primitive):
    """Sliding windows over `axes` as a strided view: each axis becomes its output count and a
    trailing axis of the window's size is appended for each, as numpy.sliding_window_view does."""

    def forward(self, a, axes, size, stride, dilation):
        self.params = dict(axes=axes, size=size, stride=stride, dilation=dilation)
        self.shape_in = a.shape
        shape, strides = list(a.shape), list(a.strides)
        for ax, k, s, d in zip(axes, size, stride, dilation):
            shape[ax] = (a.shape[ax] - d * (k - 1) - 1) // s + 1
            strides[ax] = a.strides[ax] * s
            shape.append(k)
            strides.append(a.strides[ax] * d)
        return strided_view(a, tuple(shape), tuple(strides))

    def backward(self, g):
        return (WindowsAdd.apply(g, shape=self.shape_in, **self.params),)


class WindowsAdd(Primitive):
    """The adjoint of Windows: scatter-add each window back, one strided slice per window offset."""

    def forward(self, g, shape, axes, size, stride, dilation):
        self.params = dict(axes=axes, size=size, stride=stride, dilation=dilation)
        order = sorted(range(len(shape)), key=lambda i: -abs(g.strides[i]))
        out = xp.zeros([shape[i] for i in order], g.dtype).transpose(xp.argsort(order))
        # ^ laid out in g's memory order, so every strided add below walks both arrays alike
        return scatter_windows(out, g, axes, stride, dilation)

    def backward(self, g):
        return (Windows.apply(g, **self.params),)


def scatter_windows(out, g, axes, stride, dilation):
    """Add each window of g (..., k1, k2 ...) into `out` at its place; returns out."""
    counts = g.shape[g.ndim - len(axes):]            # window offsets
    outs = [g.shape[ax] for ax in axes]              # window positions per axis
    bufsize = xp.setbufsize(1024)       # at NumPy's 8,192 its iterator copies the rows through
    try:                                # its buffers, up to 2.6x slower (docs/benchmarks.md)
        for offset in itertools.product(*[range(k) for k in counts]):
            dst = [slice(None)] * out.ndim
            for ax, o, s, d, n in zip(axes, offset, stride, dilation, outs):
                dst[ax] = slice(o * d, o * d + s * (n - 1) + 1, s)
            out[tuple(dst)] += g[(Ellipsis,) + offset]
    finally:
        xp.setbufsize(bufsize)
    return out


# Masks that backward computes from values, run through host() so a compiled step recomputes them
def _zero_base(a, b):
    return (a == 0) & (b >= 0)


def _astype(a, dtype):
    return a.astype(dtype)


def _sign(a, dtype):
    return (a > 0).astype(dtype) - (a < 0)      # sign, with 0 at nan as torch


def _keep(a, dtype):
    return (~(a <= 0)).astype(dtype)


def _ties(a, top):
    return xp.asarray(a == top, a.dtype)


def _kept_sum(a, axis):
    return a.sum(axis=axis, keepdims=True)      # in a's dtype, not float64
