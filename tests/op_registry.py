"""The op registry: one entry per public op, Tensor method and mg.* function that computes.

Each entry names what it covers and gives the minigrad call, a NumPy reference, a PyTorch
reference, the sample shapes for finite differences (0-d, size-1, broadcast and zero-size cases),
a hypothesis strategy for shapes compared against PyTorch, the value domain, and bad inputs with
the words their error message must contain. tests/test_ops.py runs every entry through the same
checks; a meta-test there fails when a public name has no entry here (or in NOT_OPS).

Inputs come from `make_inputs`: all values of one case are distinct (no ties for max, maximum,
abs ...) and at least 0.2 away from zero (no kinks for relu and abs, no division by ~0).
"""
import operator
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes
from numpy.lib.stride_tricks import sliding_window_view

import minigrad as mg


def T():
    """PyTorch, imported only by the oracle tests (the finite-difference tests never need it)."""
    import torch
    return torch


def make_inputs(shapes, domain="real", seed=0, dtype=np.float64):
    """Arrays of `shapes` with distinct values: 'real' has |x| in [0.2, 2.1] with random signs,
    'positive' lies in [0.5, 2.4]. `domain` is one name or one per input."""
    rng = np.random.default_rng(seed)
    domains = (domain,) * len(shapes) if isinstance(domain, str) else domain
    sizes = [int(np.prod(s)) for s in shapes]
    total = max(sum(sizes), 1)
    spacing = min(0.1, 1.9 / total)
    # distinct magnitudes in [0, 1.9): a shuffled grid plus jitter smaller than its spacing
    magnitude = rng.permutation(total) * spacing + rng.uniform(0, 0.3 * spacing, total)
    arrays, start = [], 0
    for shape, size, dom in zip(shapes, sizes, domains):
        m = magnitude[start:start + size]
        start += size
        if dom == "real":
            values = (0.2 + m) * rng.choice([-1.0, 1.0], size)
        else:
            values = 0.5 + m
        arrays.append(values.reshape(shape).astype(dtype))
    return arrays


SAME = object()     # the PyTorch reference is the minigrad call itself (same syntax)


@dataclass
class Op:
    name: str                                   # unique id of the case
    covers: tuple                               # public names: Tensor attributes or "mg.name"
    fn: Callable                                # minigrad: fn(*tensors) -> Tensor
    ref: Callable                               # NumPy: ref(*arrays) -> array
    torch: Callable | None = SAME               # PyTorch: torch(*tensors) -> tensor
    shapes: list = field(default_factory=list)  # input shapes for finite differences
    hyp: object = None                          # strategy of input shapes for the oracle
    domain: object = "real"
    grad: bool = True                           # differentiable (else forward-only checks)
    errors: list = field(default_factory=list)  # (thunk, exception, [words in the message])
    fd_eps: float = 1e-6                        # a larger step for linear ops that round
    out_dtype: object = None                    # a fixed output dtype (casts, comparisons)
    inplace: bool = False                       # fn mutates its first input and returns it

    def __post_init__(self):
        if self.torch is SAME:
            self.torch = self.fn

    def __repr__(self):
        return self.name


UNARY = [((),), ((1,),), ((4,),), ((2, 3),), ((2, 1, 3),), ((0, 3),)]
UNARY1 = [s for s in UNARY if len(s[0]) >= 1]                       # at least one axis
UNARY2 = [s for s in UNARY if len(s[0]) >= 2]
BINARY = [((), ()), ((3,), ()), ((), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)),
          ((1, 3), (2, 3)), ((2, 3), (2, 3)), ((0, 3), (1, 3))]


def h_unary(min_dims=0, max_dims=3, min_side=1, max_side=4):
    return array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                        max_side=max_side).map(lambda s: (s,))


def h_broadcast(n=2, min_dims=0):
    return mutually_broadcastable_shapes(num_shapes=n, min_dims=min_dims, max_dims=3,
                                         min_side=1, max_side=4).map(lambda r: r.input_shapes)


@st.composite
def h_matmul(draw):
    """(a, b) shapes for matmul: batched with broadcasting, or 1-D on either side."""
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    lead = draw(mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3)).input_shapes
    a = (k,) if draw(st.booleans()) else lead[0] + (n, k)
    b = (k,) if draw(st.booleans()) else lead[1] + (k, m)
    return a, b


@st.composite
def h_concat(draw, stack=False):
    """1 to 3 shapes that differ only in their first axis (or not at all, for stack)."""
    base = draw(array_shapes(min_dims=1 - stack, max_dims=3, min_side=1, max_side=3))
    count = draw(st.integers(1, 3))
    if stack:
        return (base,) * count
    return tuple((draw(st.integers(0, 3)),) + base[1:] for _ in range(count))


def h_leading_one():
    """A shape with a size-1 first axis (for squeeze(0))."""
    return array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=4).map(lambda s: ((1,) + s,))


def k_array(shape, dtype=np.float64):
    """A fixed, tie-free array used as a constant operand (positive, away from zero)."""
    n = int(np.prod(shape))
    return (0.6 + 0.9 * (np.arange(n) * 7 % max(n, 1)) / max(n, 1)).reshape(shape).astype(dtype)


def t_of(array, like):
    """A NumPy constant as a torch tensor with the dtype of `like`."""
    return T().as_tensor(np.asarray(array)).to(like.dtype)


def dt(x):
    """x's dtype as a NumPy dtype (for minigrad tensors and torch tensors alike)."""
    return x.dtype if isinstance(x.dtype, np.dtype) else np.dtype(str(x.dtype).split(".")[-1])


def np_windows(a, axes, size, stride, dilation):
    """numpy.sliding_window_view plus stride and dilation: the reference for sliding_window."""
    axes = [ax % a.ndim for ax in axes]          # before window axes are appended
    for ax, k, s, d in zip(axes, size, stride, dilation):
        a = sliding_window_view(a, d * (k - 1) + 1, axis=ax)[..., ::d]
        a = a[(slice(None),) * ax + (slice(None, None, s),)]
    return a


def torch_windows(a, axes, size, stride, dilation):
    axes = [ax % a.ndim for ax in axes]
    for ax, k, s, d in zip(axes, size, stride, dilation):
        a = a.unfold(ax, d * (k - 1) + 1, s)[..., ::d]
    return a


def torch_pad(a, widths, value=0.0):
    flat = [w for pair in reversed(widths) for w in pair]
    return T().nn.functional.pad(a, flat, value=value)


def k_left(a, dtype=np.float64):
    """A constant (2, n) left operand for `k @ a`."""
    return k_array((2, a.shape[0] if a.ndim == 1 else a.shape[-2]), dtype)


def pad_widths(shape):
    """A shape-dependent pad_width that pads each axis differently."""
    return tuple((i % 2, (i + 1) % 3) for i in range(len(shape)))


def gather_index(shape, axis, k=3):
    """Integer indices along `axis` with repeats, for take_along_axis."""
    idx_shape = shape[:axis % len(shape)] + (k,) + shape[axis % len(shape) + 1:]
    n = shape[axis]
    return (np.arange(int(np.prod(idx_shape))).reshape(idx_shape) * 5 + 1) % n


def keep_axes(shape, axes):
    return tuple(n for i, n in enumerate(shape) if i not in [a % len(shape) for a in axes])


def expand_target(shape):
    return (2,) + tuple(3 if n == 1 else n for n in shape)


def err(thunk, exc, *words):
    return (thunk, exc, list(words))


O32 = mg.ones            # O32(2, 3): a float32 tensor of ones, for the bad-input cases


OPS = [
    # elementwise binary: broadcasting, reverse operands, Python scalars and NumPy arrays
    Op("add", ("__add__",), lambda a, b: a + b, lambda a, b: a + b, shapes=BINARY,
       hyp=h_broadcast(), errors=[err(lambda: O32(2, 3) + O32(4), ValueError, "add", "(2, 3)",
                                      "(4,)")]),
    Op("radd_scalar", ("__radd__",), lambda a: 1.5 + a, lambda a: 1.5 + a, shapes=UNARY,
       hyp=h_unary(),
       errors=[err(lambda: np.ones(4) + O32(2, 3), ValueError, "add", "(4,)", "(2, 3)")]),
    Op("radd_array", ("__radd__",), lambda a: k_array(a.shape[-1:], dt(a)) + a,
       lambda a: k_array(a.shape[-1:]) + a, lambda a: t_of(k_array(a.shape[-1:]), a) + a,
       shapes=UNARY, hyp=h_unary()),
    Op("sub", ("__sub__",), lambda a, b: a - b, lambda a, b: a - b, shapes=BINARY,
       hyp=h_broadcast(), errors=[err(lambda: O32(2) - O32(3), ValueError, "sub", "(2,)", "(3,)")]),
    Op("rsub", ("__rsub__",), lambda a: 1.5 - a, lambda a: 1.5 - a, shapes=UNARY, hyp=h_unary(),
       errors=[err(lambda: np.ones(4) - O32(2, 3), ValueError, "sub", "(4,)", "(2, 3)")]),
    Op("rsub_array", ("__rsub__",), lambda a: k_array(a.shape, dt(a)) - a,
       lambda a: k_array(a.shape) - a, lambda a: t_of(k_array(a.shape), a) - a, shapes=UNARY,
       hyp=h_unary()),
    Op("mul", ("__mul__",), lambda a, b: a * b, lambda a, b: a * b, shapes=BINARY,
       hyp=h_broadcast(), errors=[err(lambda: O32(2, 3) * O32(3, 2), ValueError, "mul",
                                      "(2, 3)", "(3, 2)")]),
    Op("mul_int", ("__mul__",), lambda a: a * 3, lambda a: a * 3, shapes=UNARY, hyp=h_unary()),
    Op("rmul", ("__rmul__",), lambda a: 2.5 * a, lambda a: 2.5 * a, shapes=UNARY, hyp=h_unary(),
       errors=[err(lambda: np.ones(4) * O32(2, 3), ValueError, "mul", "(4,)", "(2, 3)")]),
    Op("rmul_array0d", ("__rmul__",), lambda a: np.array(2.5) * a, lambda a: np.array(2.5) * a,
       lambda a: 2.5 * a, shapes=UNARY, hyp=h_unary()),
    Op("div", ("__truediv__",), lambda a, b: a / b, lambda a, b: a / b, shapes=BINARY,
       hyp=h_broadcast(), errors=[err(lambda: O32(2) / O32(3), ValueError, "div", "(2,)")]),
    Op("rdiv", ("__rtruediv__",), lambda a: 2.0 / a, lambda a: 2.0 / a, shapes=UNARY,
       hyp=h_unary(),
       errors=[err(lambda: np.ones(4) / O32(2, 3), ValueError, "div", "(4,)", "(2, 3)")]),
    Op("rdiv_array", ("__rtruediv__",), lambda a: k_array(a.shape, dt(a)) / a,
       lambda a: k_array(a.shape) / a, lambda a: t_of(k_array(a.shape), a) / a, shapes=UNARY,
       hyp=h_unary()),
    Op("pow", ("__pow__",), lambda a, b: a ** b, lambda a, b: a ** b, shapes=BINARY,
       hyp=h_broadcast(), domain=("positive", "real"),
       errors=[err(lambda: O32(2) ** O32(3), ValueError, "pow", "(2,)", "(3,)")]),
    Op("pow_int", ("__pow__",), lambda a: a ** 3, lambda a: a ** 3, shapes=UNARY, hyp=h_unary()),
    Op("pow_float", ("__pow__",), lambda a: a ** -1.5, lambda a: a ** -1.5, shapes=UNARY,
       hyp=h_unary(), domain="positive"),
    Op("rpow", ("__rpow__",), lambda a: 2.0 ** a, lambda a: 2.0 ** a, shapes=UNARY,
       hyp=h_unary(),
       errors=[err(lambda: np.ones(4) ** O32(2, 3), ValueError, "pow", "(4,)", "(2, 3)")]),
    Op("rpow_array", ("__rpow__",), lambda a: k_array(a.shape, dt(a)) ** a,
       lambda a: k_array(a.shape) ** a, lambda a: t_of(k_array(a.shape), a) ** a, shapes=UNARY,
       hyp=h_unary()),
    Op("neg", ("__neg__",), lambda a: -a, lambda a: -a, shapes=UNARY, hyp=h_unary(),
       errors=[err(lambda: -(O32(2) > 0), TypeError, "neg", "bool", "(2,)")]),
    Op("maximum", ("maximum",), lambda a, b: a.maximum(b), np.maximum,
       lambda a, b: T().maximum(a, b), shapes=BINARY, hyp=h_broadcast(),
       errors=[err(lambda: O32(2).maximum(O32(3)), ValueError, "maximum", "(2,)", "(3,)")]),
    Op("mg.maximum", ("mg.maximum",), lambda a, b: mg.maximum(0.0, a) + mg.maximum(a, b),
       lambda a, b: np.maximum(0.0, a) + np.maximum(a, b),
       lambda a, b: T().clamp(a, min=0.0) + T().maximum(a, b), shapes=BINARY, hyp=h_broadcast(),
       errors=[err(lambda: mg.maximum(O32(2), O32(3)), ValueError, "maximum", "(2,)", "(3,)")]),
    Op("minimum", ("minimum",), lambda a, b: a.minimum(b), np.minimum,
       lambda a, b: T().minimum(a, b), shapes=BINARY, hyp=h_broadcast(),
       errors=[err(lambda: O32(2).minimum(O32(3)), ValueError, "minimum", "(2,)", "(3,)")]),
    Op("mg.minimum", ("mg.minimum",), lambda a, b: mg.minimum(0.0, a) + mg.minimum(a, b),
       lambda a, b: np.minimum(0.0, a) + np.minimum(a, b),
       lambda a, b: T().clamp(a, max=0.0) + T().minimum(a, b), shapes=BINARY, hyp=h_broadcast(),
       errors=[err(lambda: mg.minimum(O32(2), O32(3)), ValueError, "minimum", "(2,)", "(3,)")]),
    Op("where", ("mg.where",), lambda c, a, b: mg.where(c > 0, a, b),
       lambda c, a, b: np.where(c > 0, a, b), lambda c, a, b: T().where(c > 0, a, b),
       shapes=[((), (), ()), ((3,), (), (3,)), ((2, 1), (1, 3), (3,)), ((0, 3), (3,), (1, 3))],
       hyp=h_broadcast(3),
       errors=[err(lambda: mg.where(O32(2) > 0, O32(3), O32(2)), ValueError, "where", "(2,)",
                   "(3,)"),
               err(lambda: mg.where(O32(2), O32(2), O32(2)), TypeError, "where", "bool")]),
    Op("where_scalar", ("mg.where",), lambda a: mg.where(a > 0, a, 0.0) + mg.where(a < 0, -1, a),
       lambda a: np.where(a > 0, a, 0.0) + np.where(a < 0, -1, a),
       lambda a: T().where(a > 0, a, 0.0) + T().where(a < 0, -1.0, a), shapes=UNARY,
       hyp=h_unary()),

    # matmul (@, mg.matmul): batched, broadcast leading dims, 1-D operands as in NumPy
    Op("matmul", ("__matmul__",), lambda a, b: a @ b, lambda a, b: a @ b,
       shapes=[((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)),
               ((2, 2, 3), (3, 2)), ((2, 1, 2, 3), (3, 3, 2)), ((1,), (1, 1)), ((0, 3), (3, 2)),
               ((2, 0), (0, 3))],
       hyp=h_matmul(),
       errors=[err(lambda: O32(2, 3) @ O32(4, 5), ValueError, "matmul", "(2, 3)", "(4, 5)"),
               err(lambda: O32(()) @ O32(3), ValueError, "matmul", "()"),
               err(lambda: O32(2, 2, 3) @ O32(3, 3, 2), ValueError, "matmul", "(2, 2, 3)")]),
    Op("rmatmul", ("__rmatmul__",), lambda a: k_left(a, dt(a)) @ a, lambda a: k_left(a) @ a,
       lambda a: t_of(k_left(a), a) @ a,
       shapes=[((3,),), ((3, 2),), ((2, 3, 4),)], hyp=h_unary(1, 3),
       errors=[err(lambda: np.ones((4, 5)) @ O32(2, 3), ValueError, "matmul", "(4, 5)", "(2, 3)")]),
    Op("mg.matmul", ("mg.matmul",), mg.matmul, np.matmul, lambda a, b: T().matmul(a, b),
       shapes=[((2, 3), (3, 4)), ((3,), (3,))], hyp=h_matmul(),
       errors=[err(lambda: mg.matmul(O32(3), O32(4)), ValueError, "matmul", "(3,)", "(4,)"),
               err(lambda: mg.matmul([1.0], O32(1)), TypeError, "matmul()", "must be Tensor",
                   "list")]),

    # elementwise unary
    Op("exp", ("exp", "mg.exp"), lambda a: a.exp(), np.exp, shapes=UNARY, hyp=h_unary(),
       errors=[err(lambda: O32(2).exp(0), TypeError, "exp()", "positional argument"),
               err(lambda: mg.exp([1.0]), TypeError, "exp()", "must be Tensor", "list")]),
    Op("log", ("log", "mg.log"), lambda a: a.log(), np.log, shapes=UNARY, hyp=h_unary(),
       domain="positive",
       errors=[err(lambda: O32(2).log(0), TypeError, "log()", "positional argument"),
               err(lambda: mg.log([1.0]), TypeError, "log()", "must be Tensor", "list")]),
    Op("sqrt", ("sqrt", "mg.sqrt"), lambda a: a.sqrt(), np.sqrt, shapes=UNARY, hyp=h_unary(),
       domain="positive",
       errors=[err(lambda: O32(2).sqrt(0), TypeError, "sqrt()", "positional argument"),
               err(lambda: mg.sqrt([1.0]), TypeError, "sqrt()", "must be Tensor", "list")]),
    Op("tanh", ("tanh", "mg.tanh"), lambda a: a.tanh(), np.tanh, shapes=UNARY, hyp=h_unary(),
       errors=[err(lambda: O32(2).tanh(0), TypeError, "tanh()", "positional argument"),
               err(lambda: mg.tanh([1.0]), TypeError, "tanh()", "must be Tensor", "list")]),
    Op("abs", ("abs",), lambda a: a.abs(), np.abs, shapes=UNARY, hyp=h_unary(),
       errors=[err(lambda: (O32(2) > 0).abs(), TypeError, "abs", "bool", "(2,)")]),
    Op("abs_builtin", ("__abs__",), lambda a: abs(a), np.abs, shapes=UNARY, hyp=h_unary(),
       errors=[err(lambda: abs(O32(2) > 0), TypeError, "abs", "bool", "(2,)")]),
    Op("pos", ("__pos__",), lambda a: +a, lambda a: +a, shapes=UNARY, hyp=h_unary(),
       errors=[err(lambda: +(O32(2) > 0), TypeError, "pos", "bool", "(2,)")]),
    Op("floordiv", ("__floordiv__",), lambda a, b: a // b, lambda a, b: a // b, shapes=BINARY,
       hyp=h_broadcast(), grad=False,
       errors=[err(lambda: O32(2) // O32(3), ValueError, "floor_divide", "(2,)", "(3,)"),
               err(lambda: mg.tensor([3, 4]) // 0, ZeroDivisionError, "floor_divide"),
               err(lambda: (O32(2) > 0) // (O32(2) > 0), TypeError, "floor_divide", "bool")]),
    Op("rfloordiv", ("__rfloordiv__",), lambda a: 3.5 // a, lambda a: 3.5 // a, shapes=UNARY,
       hyp=h_unary(), grad=False,
       errors=[err(lambda: np.ones(4) // O32(2, 3), ValueError, "floor_divide", "(4,)", "(2, 3)")]),
    Op("mod", ("__mod__",), lambda a, b: a % b, lambda a, b: a % b, shapes=BINARY,
       hyp=h_broadcast(), domain=("real", "positive"),
       errors=[err(lambda: O32(2) % O32(3), ValueError, "remainder", "(2,)", "(3,)"),
               err(lambda: mg.tensor([3, 4]) % 0, ZeroDivisionError, "remainder")]),
    Op("mod_negative_divisor", ("__mod__",), lambda a: a % -0.7, lambda a: a % -0.7,
       shapes=UNARY, hyp=h_unary()),
    Op("rmod", ("__rmod__",), lambda a: 3.5 % a, lambda a: 3.5 % a,
       lambda a: T().full_like(a, 3.5) % a, shapes=UNARY, hyp=h_unary(),
       errors=[err(lambda: np.ones(4) % O32(2, 3), ValueError, "remainder", "(4,)",
                   "(2, 3)")]),   # torch's 3.5 % a has no grad
    Op("round", ("__round__",), lambda a: round(a * 3), lambda a: np.round(a * 3),
       lambda a: (a * 3).round(), shapes=UNARY, hyp=h_unary(), grad=False,
       errors=[err(lambda: round(O32(2), 1.5), TypeError, "round", "decimals", "1.5", "(2,)")]),
    Op("relu", ("relu",), lambda a: a.relu(), lambda a: np.maximum(a, 0), shapes=UNARY,
       hyp=h_unary(),
       errors=[err(lambda: (O32(2) > 0).relu(), TypeError, "relu", "bool", "(2,)")]),
    Op("sigmoid", ("sigmoid",), lambda a: a.sigmoid(), lambda a: 1 / (1 + np.exp(-a)),
       shapes=UNARY, hyp=h_unary(),
       errors=[err(lambda: O32(2).sigmoid(0), TypeError, "sigmoid()", "positional argument")]),
    # casts are linear, so a large finite-difference step is exact despite float32 rounding
    Op("astype", ("astype",), lambda a: a.astype(mg.float32), lambda a: a.astype(np.float32),
       lambda a: a.to(T().float32), shapes=UNARY, hyp=h_unary(), fd_eps=1e-3,
       out_dtype=np.float32,
       errors=[err(lambda: O32(2).astype("foo"), TypeError, "astype", "'foo'", "(2,)")]),
    Op("float", ("float",), lambda a: a.float(), lambda a: a.astype(np.float32), shapes=UNARY,
       hyp=h_unary(), fd_eps=1e-3, out_dtype=np.float32,
       errors=[err(lambda: O32(2).float(0), TypeError, "float()", "positional argument")]),
    Op("double", ("double",), lambda a: a.float().double(),
       lambda a: a.astype(np.float32).astype(np.float64), shapes=UNARY, hyp=h_unary(), fd_eps=1e-3,
       out_dtype=np.float64,
       errors=[err(lambda: O32(2).double(0), TypeError, "double()", "positional argument")]),

    # reductions
    Op("sum", ("sum",), lambda a: a.sum(), lambda a: a.sum(), shapes=UNARY, hyp=h_unary()),
    Op("sum_axis", ("sum",), lambda a: a.sum(-1), lambda a: a.sum(-1), lambda a: a.sum(-1),
       shapes=UNARY1 + [((3, 0),)], hyp=h_unary(1),
       errors=[err(lambda: O32(2, 3).sum(2), IndexError, "sum", "dim 2", "(2, 3)")]),
    Op("sum_axes_keepdims", ("sum",), lambda a: a.sum((0, -1), keepdims=True),
       lambda a: a.sum((0, -1), keepdims=True), lambda a: a.sum((0, -1), keepdim=True),
       shapes=UNARY2, hyp=h_unary(2),
       errors=[err(lambda: O32(2, 3).sum((0, -2)), ValueError, "sum", "repeated")]),
    Op("max", ("max",), lambda a: a.max(), lambda a: a.max(), lambda a: a.amax(),
       shapes=UNARY[:-1], hyp=h_unary(),
       errors=[err(lambda: O32(0, 3).max(), ValueError, "max", "(0, 3)"),
               err(lambda: O32(0, 3).max(0), ValueError, "max", "(0, 3)")]),
    Op("max_axis", ("max",), lambda a: a.max(axis=-1), lambda a: a.max(-1),
       lambda a: a.amax(-1), shapes=UNARY1, hyp=h_unary(1)),
    Op("max_dim", ("max", "mg.max"), lambda a: a.max(-1, True).values + mg.max(a, 0, True)[0],
       lambda a: a.max(-1, keepdims=True) + a.max(0, keepdims=True),
       lambda a: a.max(-1, True).values + T().max(a, 0, True)[0], shapes=UNARY2[:-1], hyp=h_unary(2),
       errors=[err(lambda: O32(2, 3).max(2), IndexError, "max", "dim 2", "(2, 3)"),
               err(lambda: O32(3, 0).max(1), ValueError, "max", "(3, 0)")]),
    Op("min_dim", ("min", "mg.min"), lambda a: a.min(0).values * mg.min(a, -1, True).values,
       lambda a: a.min(0) * a.min(-1, keepdims=True),
       lambda a: a.min(0).values * T().min(a, -1, True).values, shapes=UNARY2[:-1],
       hyp=h_unary(2), errors=[err(lambda: O32(0, 2).min(0), ValueError, "min", "(0, 2)")]),
    Op("max_axes_keepdims", ("max",), lambda a: a.max((0, 1), keepdims=True),
       lambda a: a.max((0, 1), keepdims=True), lambda a: a.amax((0, 1), keepdim=True),
       shapes=UNARY2[:-1], hyp=h_unary(2)),
    Op("min", ("min",), lambda a: a.min(), lambda a: a.min(), lambda a: a.amin(),
       shapes=UNARY[:-1], hyp=h_unary(),
       errors=[err(lambda: O32(0).min(), ValueError, "min", "(0,)")]),
    Op("min_axis_keepdims", ("min",), lambda a: a.min(0, keepdims=True),
       lambda a: a.min(0, keepdims=True), lambda a: a.amin(0, keepdim=True),
       shapes=UNARY1[:-1] + [((3, 0),)], hyp=h_unary(1)),
    Op("mean", ("mean",), lambda a: a.mean(), lambda a: a.mean(), shapes=UNARY[:-1],
       hyp=h_unary(),
       errors=[err(lambda: O32(2, 3).mean(2), IndexError, "mean", "dim 2", "(2, 3)")]),
    Op("mean_axis", ("mean",), lambda a: a.mean(-1, keepdims=True),
       lambda a: a.mean(-1, keepdims=True), lambda a: a.mean(-1, keepdim=True), shapes=UNARY1,
       hyp=h_unary(1)),
    Op("var", ("var",), lambda a: a.var(), lambda a: a.var(ddof=1), lambda a: a.var(),
       shapes=[((4,),), ((2, 3),), ((2, 1, 3),)], hyp=h_unary(1, min_side=2),
       errors=[err(lambda: O32(2, 3).var(2), IndexError, "var", "dim 2", "(2, 3)"),
               err(lambda: O32(2, 3).var(0, 1), TypeError, "var", "unbiased", "bool")]),
    Op("var_axis", ("var",), lambda a: a.var(0, correction=0),
       lambda a: a.var(0), lambda a: a.var(0, correction=0), shapes=UNARY1[:-1] + [((3, 0),)],
       hyp=h_unary(1)),
    Op("logsumexp", ("logsumexp",), lambda a: a.logsumexp(),
       lambda a: np.log(np.exp(a).sum()), lambda a: a.reshape(-1).logsumexp(0),
       shapes=UNARY[:-1], hyp=h_unary(),
       errors=[err(lambda: O32(2, 3).logsumexp(-3), IndexError, "logsumexp", "dim -3", "(2, 3)")]),
    Op("logsumexp_axis", ("logsumexp",), lambda a: a.logsumexp(-1, keepdims=True),
       lambda a: np.log(np.exp(a).sum(-1, keepdims=True)),
       lambda a: a.logsumexp(-1, keepdim=True), shapes=UNARY1, hyp=h_unary(1)),
    Op("softmax", ("softmax",), lambda a: a.softmax(),
       lambda a: np.exp(a) / np.exp(a).sum(-1, keepdims=True), lambda a: a.softmax(-1),
       shapes=UNARY1, hyp=h_unary(1),
       errors=[err(lambda: O32(2, 3).softmax(2), IndexError, "softmax", "dim 2", "(2, 3)")]),
    Op("softmax_axis0", ("softmax",), lambda a: a.softmax(0),
       lambda a: np.exp(a) / np.exp(a).sum(0, keepdims=True), lambda a: a.softmax(0),
       shapes=UNARY1[:-1] + [((3, 0),)], hyp=h_unary(1)),
    Op("log_softmax", ("log_softmax",), lambda a: a.log_softmax(),
       lambda a: a - np.log(np.exp(a).sum(-1, keepdims=True)), lambda a: a.log_softmax(-1),
       shapes=UNARY1, hyp=h_unary(1),
       errors=[err(lambda: O32(2, 3).log_softmax(2), IndexError, "log_softmax", "dim 2",
                   "(2, 3)")]),

    # shape
    Op("reshape", ("reshape",), lambda a: a.reshape(-1, 1), lambda a: a.reshape(-1, 1),
       shapes=UNARY, hyp=h_unary(),
       errors=[err(lambda: O32(2, 3).reshape(4, 2), ValueError, "reshape", "(2, 3)", "(4, 2)"),
               err(lambda: O32(2, 3).reshape(-1, 4), ValueError, "reshape", "(2, 3)", "(-1, 4)")]),
    Op("reshape_tuple", ("reshape",), lambda a: a.reshape(a.shape[::-1]),
       lambda a: a.reshape(a.shape[::-1]), shapes=UNARY, hyp=h_unary()),
    Op("flatten", ("flatten",), lambda a: a.flatten(), lambda a: a.reshape(-1),
       lambda a: a.flatten(), shapes=UNARY, hyp=h_unary(),
       errors=[err(lambda: O32(2, 3).flatten(3), IndexError, "flatten", "dim 3", "(2, 3)"),
               err(lambda: O32(2, 3, 4).flatten(2, 1), ValueError, "flatten", "start_dim 2",
                   "(2, 3, 4)")]),
    Op("flatten_start", ("flatten",), lambda a: a.flatten(1),
       lambda a: a.reshape(a.shape[:1] + (int(np.prod(a.shape[1:])),)), lambda a: a.flatten(1),
       shapes=UNARY2, hyp=h_unary(2)),
    Op("squeeze", ("squeeze",), lambda a: a.squeeze(), lambda a: a.squeeze(),
       shapes=UNARY + [((1, 1),)], hyp=h_unary()),
    Op("squeeze_axis", ("squeeze",), lambda a: a.squeeze(0), lambda a: a.squeeze(0),
       shapes=[((1,),), ((1, 3),), ((1, 1, 2),), ((1, 0),)], hyp=h_leading_one(),
       errors=[err(lambda: O32(2, 3).squeeze(1), ValueError, "squeeze", "(2, 3)")]),
    Op("unsqueeze", ("unsqueeze",), lambda a: a.unsqueeze(-1).unsqueeze(0),
       lambda a: a[None, ..., None], lambda a: a.unsqueeze(-1).unsqueeze(0), shapes=UNARY,
       hyp=h_unary(),
       errors=[err(lambda: O32(2, 3).unsqueeze(4), IndexError, "unsqueeze", "dim 4", "[-3, 2]",
                   "(2, 3)"),
               err(lambda: O32(2, 3).unsqueeze(-4), IndexError, "unsqueeze", "dim -4", "(2, 3)")]),
    Op("transpose", ("transpose",), lambda a: a.transpose(), lambda a: a.transpose(),
       lambda a: a.permute(tuple(reversed(range(a.ndim)))), shapes=UNARY, hyp=h_unary(),
       errors=[err(lambda: O32(2, 3).transpose(0, 1, 1), ValueError, "transpose", "(2, 3)"),
               err(lambda: O32(2, 3).transpose(0, 2), IndexError, "transpose", "dim 2", "(2, 3)")]),
    Op("transpose_two_dims", ("transpose", "mT"), lambda a: a.transpose(0, -1) * 2 + a.mT.transpose(-1, -2),
       lambda a: np.swapaxes(a, 0, -1) * 2 + a, lambda a: a.transpose(0, -1) * 2 + a.mT.transpose(-1, -2),
       shapes=[((3, 3),), ((1, 1),)], hyp=h_unary(2, 2).filter(lambda s: s[0][0] == s[0][1]),
       errors=[err(lambda: O32(3).mT, IndexError, "transpose", "dim -2", "(3,)")]),
    Op("transpose_axes", ("transpose",), lambda a: a.transpose(1, 2, 0),
       lambda a: a.transpose(1, 2, 0), lambda a: a.permute(1, 2, 0),
       shapes=[((2, 1, 3),), ((2, 3, 4),), ((0, 2, 1),)], hyp=h_unary(3)),
    Op("permute", ("permute",), lambda a: a.permute((2, 0, 1)), lambda a: a.transpose(2, 0, 1),
       lambda a: a.permute(2, 0, 1), shapes=[((2, 1, 3),), ((2, 3, 4),)], hyp=h_unary(3),
       errors=[err(lambda: O32(2, 3).permute(0, 0), ValueError, "transpose", "(0, 0)", "(2, 3)")]),
    Op("swapaxes", ("swapaxes",), lambda a: a.swapaxes(0, -1), lambda a: a.swapaxes(0, -1),
       lambda a: a.swapaxes(0, -1), shapes=UNARY1, hyp=h_unary(1),
       errors=[err(lambda: O32(2, 3).swapaxes(0, 2), IndexError, "transpose", "dim 2", "(2, 3)")]),
    Op("T", ("T",), lambda a: a.T, lambda a: a.T,
       lambda a: a.permute(tuple(reversed(range(a.ndim)))),
       shapes=UNARY, hyp=h_unary()),
    Op("expand", ("expand",), lambda a: a.expand(expand_target(a.shape)),
       lambda a: np.broadcast_to(a, expand_target(a.shape)),
       lambda a: a.expand(expand_target(a.shape)), shapes=UNARY, hyp=h_unary(),
       errors=[err(lambda: O32(2, 3).expand(4, 3), ValueError, "broadcast_to", "(2, 3)",
                   "(4, 3)")]),
    Op("broadcast_to", ("broadcast_to",), lambda a: a.broadcast_to((3,) + a.shape),
       lambda a: np.broadcast_to(a, (3,) + a.shape),
       lambda a: T().broadcast_to(a, (3,) + a.shape), shapes=UNARY, hyp=h_unary(),
       errors=[err(lambda: O32(2, 3).broadcast_to((4, 3)), ValueError, "broadcast_to", "(2, 3)",
                   "(4, 3)")]),
    Op("pad", ("pad",), lambda a: a.pad(pad_width=pad_widths(a.shape), value=0.5),
       lambda a: np.pad(a, pad_widths(a.shape), constant_values=0.5),
       lambda a: torch_pad(a, pad_widths(a.shape), 0.5), shapes=UNARY1, hyp=h_unary(1),
       errors=[err(lambda: O32(2).pad(-1), ValueError, "pad", "-1")]),
    Op("pad_int", ("pad",), lambda a: a.pad(1), lambda a: np.pad(a, 1),
       lambda a: torch_pad(a, [(1, 1)] * a.ndim), shapes=UNARY1, hyp=h_unary(1)),
    Op("sliding_window", ("sliding_window",), lambda a: a.sliding_window(2, -1),
       lambda a: np_windows(a, (-1,), (2,), (1,), (1,)),
       lambda a: torch_windows(a, (-1,), (2,), (1,), (1,)),
       shapes=[((2,),), ((4,),), ((2, 3),), ((0, 3),)], hyp=h_unary(1, min_side=2),
       errors=[err(lambda: O32(2, 3).sliding_window(4, 1), ValueError, "sliding_window",
                   "(2, 3)", "4")]),
    Op("sliding_window_2d", ("sliding_window",),
       lambda a: a.sliding_window((2, 2), (-2, -1), stride=(1, 2), dilation=(2, 1)),
       lambda a: np_windows(a, (-2, -1), (2, 2), (1, 2), (2, 1)),
       lambda a: torch_windows(a, (-2, -1), (2, 2), (1, 2), (2, 1)),
       shapes=[((3, 2),), ((1, 4, 5),), ((2, 3, 3),)], hyp=h_unary(2, min_side=3, max_side=5),
       errors=[err(lambda: O32(3, 3).sliding_window(2, 0, dilation=3), ValueError,
                   "sliding_window", "dilation 3", "(3, 3)")]),
    Op("getitem_basic", ("__getitem__",), lambda a: a[1:, ::2],
       lambda a: a[1:, ::2], shapes=UNARY2 + [((3, 5),)], hyp=h_unary(2),
       errors=[err(lambda: O32(2, 3)[2], IndexError, "(2, 3)"),
               err(lambda: O32(2, 3)[0, 0, 0], IndexError, "(2, 3)")]),
    Op("getitem_int", ("__getitem__",), lambda a: a[..., -1], lambda a: a[..., -1],
       shapes=UNARY1, hyp=h_unary(1)),
    Op("getitem_none", ("__getitem__",), lambda a: a[None, 0], lambda a: a[None, 0],
       shapes=UNARY1[:-1], hyp=h_unary(1)),
    Op("getitem_reverse", ("__getitem__",), lambda a: a[::-1], lambda a: a[::-1],
       lambda a: a.flip(0), shapes=UNARY1, hyp=h_unary(1)),
    Op("getitem_array", ("__getitem__",), lambda a: a[[0, 0, -1]], lambda a: a[[0, 0, -1]],
       shapes=UNARY1[:-1], hyp=h_unary(1),
       errors=[err(lambda: O32(2, 3)[[0, 5]], IndexError, "(2, 3)"),
               err(lambda: O32(3)[np.array([0.5])], IndexError, "integer", "(3,)")]),
    Op("getitem_arrays", ("__getitem__",), lambda a: a[:, [1, 0, 1]] + a[[1, 0, 1], [0, 0, 1]],
       lambda a: a[:, [1, 0, 1]] + a[[1, 0, 1], [0, 0, 1]],
       shapes=[((2, 2),), ((3, 2, 1),)], hyp=h_unary(2, min_side=2)),
    Op("getitem_mask", ("__getitem__",), lambda a: a[a > 0], lambda a: a[a > 0], shapes=UNARY,
       hyp=h_unary(),
       errors=[err(lambda: O32(2, 3)[np.ones(3, bool)], IndexError, "(2, 3)")]),
    Op("getitem_tensor", ("__getitem__",), lambda a: a[mg.tensor([1, 0]), 1:],
       lambda a: a[[1, 0], 1:], lambda a: a[T().tensor([1, 0]), 1:],
       shapes=[((2, 3),), ((3, 1, 2),)],
       hyp=h_unary(2, min_side=2)),
    Op("take_along_axis", ("take_along_axis",),
       lambda a: a.take_along_axis(gather_index(a.shape, -1), -1),
       lambda a: np.take_along_axis(a, gather_index(a.shape, -1), -1),
       lambda a: T().take_along_dim(a, T().as_tensor(gather_index(a.shape, -1)), -1),
       shapes=UNARY1[:-1], hyp=h_unary(1),
       errors=[err(lambda: O32(2, 3).take_along_axis(np.array([[3]]), 1), IndexError,
                   "take_along_axis", "(2, 3)"),
               err(lambda: O32(2, 3).take_along_axis(np.array([1]), 1), ValueError,
                   "take_along_axis", "(1,)", "(2, 3)")]),
    Op("take_along_axis_broadcast", ("take_along_axis",),
       lambda a: a.take_along_axis(gather_index(a.shape, -1)[:1], -1),
       lambda a: np.take_along_axis(a, gather_index(a.shape, -1)[:1], -1),
       lambda a: T().take_along_dim(a, T().as_tensor(gather_index(a.shape, -1)[:1]), -1),
       shapes=[((2, 3),), ((3, 1, 2),)], hyp=h_unary(2)),
    Op("concatenate", ("mg.concatenate",), lambda *xs: mg.concatenate(xs, axis=0),
       lambda *xs: np.concatenate(xs, 0), lambda *xs: T().cat(xs, 0),
       shapes=[((1,), (2,)), ((2, 3), (1, 3), (0, 3)), ((2,),)], hyp=h_concat(),
       errors=[err(lambda: mg.concatenate([O32(2, 3), O32(2, 4)]), ValueError, "concatenate",
                   "(2, 3)", "(2, 4)"),
               err(lambda: mg.concatenate([]), ValueError, "concatenate")]),
    Op("concatenate_last", ("mg.concatenate",), lambda a, b: mg.concatenate([a, b], -1),
       lambda a, b: np.concatenate([a, b], -1), lambda a, b: T().cat([a, b], -1),
       shapes=[((2, 1), (2, 3)), ((1, 2, 2), (1, 2, 1))],
       hyp=st.tuples(array_shapes(min_dims=1, max_dims=3, max_side=3),
                     st.integers(0, 3)).map(lambda p: (p[0], p[0][:-1] + (p[1],)))),
    Op("stack", ("mg.stack",), lambda *xs: mg.stack(xs, axis=-1),
       lambda *xs: np.stack(xs, -1), lambda *xs: T().stack(xs, -1),
       shapes=[((), ()), ((2, 3), (2, 3), (2, 3)), ((0, 2), (0, 2))],
       hyp=h_concat(stack=True),
       errors=[err(lambda: mg.stack([O32(2), O32(3)]), ValueError, "stack", "(2,)", "(3,)")]),

    # comparisons and other results without a gradient
    Op("lt", ("__lt__",), lambda a, b: a < b, lambda a, b: a < b, shapes=BINARY,
       hyp=h_broadcast(), grad=False, out_dtype=np.bool_,
       errors=[err(lambda: O32(2) < O32(3), ValueError, "(2,)", "(3,)"),
               err(lambda: O32(2) < "a", TypeError, "less", "float32", "str")]),
    Op("le", ("__le__",), lambda a, b: a <= b, lambda a, b: a <= b, shapes=BINARY,
       hyp=h_broadcast(), grad=False, out_dtype=np.bool_,
       errors=[err(lambda: O32(2) <= O32(3), ValueError, "less_equal", "(2,)", "(3,)")]),
    Op("gt", ("__gt__",), lambda a: a > 0.5, lambda a: a > 0.5, shapes=UNARY, hyp=h_unary(),
       grad=False, out_dtype=np.bool_,
       errors=[err(lambda: O32(2) > O32(3), ValueError, "greater", "(2,)", "(3,)")]),
    Op("ge", ("__ge__",), lambda a, b: a >= b, lambda a, b: a >= b, shapes=BINARY,
       hyp=h_broadcast(), grad=False, out_dtype=np.bool_,
       errors=[err(lambda: O32(2) >= O32(3), ValueError, "greater_equal", "(2,)", "(3,)")]),
    Op("eq", ("__eq__",), lambda a: a == a[..., :1], lambda a: a == a[..., :1],
       shapes=UNARY1[:-1], hyp=h_unary(1), grad=False, out_dtype=np.bool_,
       errors=[err(lambda: O32(2) == O32(3), ValueError, "equal", "(2,)", "(3,)")]),
    Op("ne", ("__ne__",), lambda a: a != a[..., :1], lambda a: a != a[..., :1],
       shapes=UNARY1[:-1], hyp=h_unary(1), grad=False, out_dtype=np.bool_,
       errors=[err(lambda: O32(2) != O32(3), ValueError, "not_equal", "(2,)", "(3,)")]),
    Op("invert", ("__invert__",), lambda a: ~(a > 0), lambda a: ~(a > 0), shapes=UNARY,
       hyp=h_unary(), grad=False, out_dtype=np.bool_,
       errors=[err(lambda: ~O32(2), TypeError, "invert", "float32")]),
    Op("and", ("__and__",), lambda a, b: (a > 0) & (b > 0), lambda a, b: (a > 0) & (b > 0),
       shapes=BINARY, hyp=h_broadcast(), grad=False, out_dtype=np.bool_,
       errors=[err(lambda: O32(2) & O32(2), TypeError, "bitwise_and", "float32"),
               err(lambda: (O32(2) > 0) & (O32(3) > 0), ValueError, "bitwise_and", "(2,)",
                   "(3,)")]),
    Op("or", ("__or__",), lambda a, b: (a > 0) | (b > 0), lambda a, b: (a > 0) | (b > 0),
       shapes=BINARY, hyp=h_broadcast(), grad=False, out_dtype=np.bool_,
       errors=[err(lambda: (O32(2) > 0) | 0.5, TypeError, "bitwise_or", "bool", "float")]),
    Op("and_or_int", ("__and__", "__or__"), lambda a: ((a * 10).astype(mg.int64) & 6) | 1,
       lambda a: ((a * 10).astype(np.int64) & 6) | 1, lambda a: ((a * 10).to(T().int64) & 6) | 1,
       shapes=UNARY, hyp=h_unary(), grad=False, out_dtype=np.int64),     # bitwise, as in torch
    Op("any", ("any",), lambda a: (a > 0).any(), lambda a: (a > 0).any(), shapes=UNARY,
       hyp=h_unary(), grad=False, out_dtype=np.bool_,
       errors=[err(lambda: (O32(2, 3) > 0).any(3), IndexError, "any", "dim 3", "(2, 3)")]),
    Op("all_axis", ("all",), lambda a: (a > 0).all(0), lambda a: (a > 0).all(0),
       lambda a: (a > 0).all(0), shapes=UNARY1, hyp=h_unary(1), grad=False, out_dtype=np.bool_,
       errors=[err(lambda: (O32(2, 3) > 0).all(-3), IndexError, "all", "dim -3", "(2, 3)")]),
    Op("argmax", ("argmax",), lambda a: a.argmax(-1), lambda a: a.argmax(-1),
       shapes=UNARY1[:-1], hyp=h_unary(1), grad=False, out_dtype=np.int64,
       errors=[err(lambda: O32(2, 3).argmax(3), IndexError, "argmax", "dim 3", "(2, 3)")]),
    Op("argmin", ("argmin",), lambda a: a.argmin(), lambda a: a.argmin(), shapes=UNARY[:-1],
       hyp=h_unary(), grad=False, out_dtype=np.int64,
       errors=[err(lambda: O32(2, 3).argmin(-3), IndexError, "argmin", "dim -3", "(2, 3)")]),

    # in place: never recorded; checked forward-only on tensors that do not require grad
    Op("add_", ("add_",), lambda a, b: a.add_(b), lambda a, b: a + b, lambda a, b: a.add_(b),
       shapes=[((2, 3), (3,)), ((), ())], hyp=h_unary().map(lambda s: s * 2), grad=False,
       inplace=True,
       errors=[err(lambda: mg.ones(2, requires_grad=True).add_(1.0), RuntimeError, "add_",
                   "requires grad"),
               err(lambda: mg.tensor([1, 2]).add_(0.5), TypeError, "add_", "int64", "(2,)")]),
    Op("sub_", ("sub_",), lambda a: a.sub_(0.5), lambda a: a - 0.5, shapes=UNARY, hyp=h_unary(),
       grad=False, inplace=True,
       errors=[err(lambda: mg.ones(2, requires_grad=True).sub_(1.0), RuntimeError, "sub_",
                   "requires grad")]),
    Op("mul_", ("mul_",), lambda a, b: a.mul_(b), lambda a, b: a * b, shapes=[((2, 3), (2, 1))],
       hyp=h_unary().map(lambda s: s * 2), grad=False, inplace=True,
       errors=[err(lambda: O32(2).mul_(O32(3)), ValueError, "mul_", "(2,)", "(3,)")]),
    Op("div_", ("div_",), lambda a: a.div_(np.array(4.0)), lambda a: a / 4,
       lambda a: a.div_(4.0), shapes=UNARY,
       hyp=h_unary(), grad=False, inplace=True,
       errors=[err(lambda: mg.tensor([1, 2]).div_(2), TypeError, "div_", "int64", "(2,)")]),
    Op("copy_", ("copy_",), lambda a, b: a.copy_(b), lambda a, b: a * 0 + b,
       shapes=[((2, 3), (3,))], hyp=h_unary().map(lambda s: s * 2), grad=False, inplace=True,
       errors=[err(lambda: O32(2, 3).copy_(O32(4)), ValueError, "copy_", "(4,)", "(2, 3)")]),
    Op("fill_", ("fill_",), lambda a: a.fill_(1.5), lambda a: a * 0 + 1.5, shapes=UNARY,
       hyp=h_unary(), grad=False, inplace=True,
       errors=[err(lambda: O32(2, 3).fill_(O32(2)), ValueError, "fill_", "(2, 3)")]),
    Op("zero_", ("zero_",), lambda a: a.zero_(), lambda a: a * 0, shapes=UNARY, hyp=h_unary(),
       grad=False, inplace=True,
       errors=[err(lambda: mg.ones(2, requires_grad=True).zero_(), RuntimeError, "zero_",
                   "requires grad")]),
    Op("setitem", ("__setitem__",), lambda a: (a.__setitem__((..., 0), 2.0), a)[1],
       lambda a: np.concatenate([np.full(a.shape[:-1] + (1,), 2.0), a[..., 1:]], -1),
       shapes=UNARY1[:-1], hyp=h_unary(1), grad=False, inplace=True,
       errors=[err(lambda: O32(2, 3).__setitem__(0, O32(4)), ValueError, "setitem", "(4,)",
                   "(2, 3)"),
               err(lambda: mg.ones(2, requires_grad=True).__setitem__(0, 1.0), RuntimeError,
                   "setitem", "requires grad")]),
    Op("iadd", ("__iadd__",), lambda a, b: a.__iadd__(b), lambda a, b: a + b,
       shapes=[((2, 3), (3,))], hyp=h_unary().map(lambda s: s * 2), grad=False, inplace=True,
       errors=[err(lambda: O32(3).__iadd__(O32(2, 3)), ValueError, "add_", "(3,)", "broadcast"),
               err(lambda: mg.tensor([1, 2]).__iadd__(0.5), TypeError, "add_", "int64")]),
    Op("isub", ("__isub__",), lambda a: a.__isub__(1.0), lambda a: a - 1.0, shapes=UNARY,
       hyp=h_unary(), grad=False, inplace=True,
       errors=[err(lambda: O32(3).__isub__(O32(2, 3)), ValueError, "sub_", "(3,)", "broadcast")]),
    Op("imul", ("__imul__",), lambda a: a.__imul__(3.0), lambda a: a * 3.0, shapes=UNARY,
       hyp=h_unary(), grad=False, inplace=True,
       errors=[err(lambda: O32(3).__imul__(O32(2, 3)), ValueError, "mul_", "(3,)", "broadcast")]),
    Op("itruediv", ("__itruediv__",), lambda a: a.__itruediv__(2.0), lambda a: a / 2.0,
       shapes=UNARY, hyp=h_unary(), grad=False, inplace=True,
       errors=[err(lambda: mg.tensor([1, 2]).__itruediv__(2), TypeError, "div_", "int64")]),
]


def _augmented(op):
    """`x op= y` while a graph is being built: a new, differentiable tensor, x left unchanged."""
    def fn(a, b):
        c = a * 1.0             # a non-leaf that requires grad
        before = c
        c = op(c, b)
        if c is before:
            raise AssertionError(f"{op} updated a tensor in place while recording a graph")
        return c
    return fn


for _name, _op in [("__iadd__", operator.iadd), ("__isub__", operator.isub),
                   ("__imul__", operator.imul), ("__itruediv__", operator.itruediv)]:
    _plain = getattr(operator, _name.strip("_").removeprefix("i"))
    OPS.append(Op(f"{_name.strip('_')}_graph", (_name,), _augmented(_op), _plain, _plain,
                  shapes=BINARY, hyp=h_broadcast()))

from op_registry_vocab import NOT_OPS_VOCAB, VOCAB  # noqa: E402  (it imports from here)

OPS += VOCAB


# Elementwise entries also run on extreme values against torch, forward and backward
# (tests/test_ops.py::test_extreme_values_match_torch): every pair of the values below.
# mg.maximum / mg.minimum are left out: their torch reference is clamp, whose gradient at a tie
# and at nan differs from torch.maximum's (the primitive is covered by maximum / minimum).
def extreme_values(dtype):
    tiny = np.finfo(dtype).smallest_subnormal
    return np.array([np.inf, -np.inf, np.nan, -0.0, 0.0, 1e4, -1e4, tiny, -tiny, 1.0, -1.0, 0.5,
                     -2.5, 3.0], dtype)


EXTREME = ["add", "radd_scalar", "sub", "rsub", "mul", "mul_int", "rmul", "div", "rdiv", "pow",
           "pow_int", "pow_float", "rpow", "neg", "maximum", "minimum", "where_scalar", "exp",
           "log", "sqrt", "tanh", "abs", "abs_builtin", "pos", "floordiv", "rfloordiv", "mod",
           "mod_negative_divisor", "rmod", "round", "relu", "sigmoid"]


# Public names that are not computations, each with the test that covers it.
NOT_OPS = {
    "__init__": "test_dtype.py::test_tensor_constructor_dtypes",
    "__array__": "test_dtype.py::test_numpy_interop",
    "__array_ufunc__": "test_dtype.py::test_numpy_interop",
    "__bool__": "test_core_errors.py::test_bool_of_many_elements",
    "__float__": "test_dtype.py::test_python_conversions",
    "__int__": "test_dtype.py::test_python_conversions",
    "__index__": "test_dtype.py::test_index_and_format",
    "__format__": "test_dtype.py::test_index_and_format",
    "__len__": "test_dtype.py::test_python_conversions",
    "__iter__": "test_dtype.py::test_python_conversions",
    "__hash__": "test_dtype.py::test_python_conversions",
    "__repr__": "test_dtype.py::test_repr",
    "numpy": "test_dtype.py::test_numpy_interop",
    "item": "test_dtype.py::test_python_conversions",
    "tolist": "test_dtype.py::test_python_conversions",
    "detach": "test_autograd.py::test_detach_cuts_the_graph",
    "backward": "test_autograd.py",
    "requires_grad": "test_autograd.py::test_requires_grad_rules",
    "requires_grad_": "test_autograd.py::test_requires_grad_rules",
    "retain_grad": "test_autograd.py::test_retain_grad_on_non_leaf",
    "is_leaf": "test_autograd.py::test_retain_grad_on_non_leaf",
    "grad_fn": "test_autograd.py::test_graph_attributes",
    "grad": "test_autograd.py::test_accumulation_across_calls",
    "data": "test_dtype.py::test_numpy_interop",
    "name": "test_autograd.py::test_graph_attributes",
    "shape": "test_dtype.py::test_tensor_constructor_dtypes",
    "dtype": "test_dtype.py::test_tensor_constructor_dtypes",
    "ndim": "test_dtype.py::test_tensor_constructor_dtypes",
    "size": "test_dtype.py::test_tensor_constructor_dtypes",
    "mg.Tensor": "test_dtype.py::test_tensor_constructor_dtypes",
    "mg.tensor": "test_dtype.py::test_tensor_constructor_dtypes",
    "mg.zeros": "test_dtype.py::test_creation",
    "mg.ones": "test_dtype.py::test_creation",
    "mg.full": "test_dtype.py::test_creation",
    "mg.arange": "test_dtype.py::test_creation",
    "mg.eye": "test_dtype.py::test_creation",
    "mg.randn": "test_dtype.py::test_random_creation",
    "mg.rand": "test_dtype.py::test_random_creation",
    "mg.zeros_like": "test_dtype.py::test_creation",
    "mg.ones_like": "test_dtype.py::test_creation",
    "mg.full_like": "test_dtype.py::test_creation",
    "mg.randn_like": "test_dtype.py::test_random_creation",
    "mg.rand_like": "test_dtype.py::test_random_creation",
    "mg.manual_seed": "test_dtype.py::test_random_creation",
    "mg.get_rng_state": "test_dtype.py::test_random_creation",
    "mg.set_rng_state": "test_dtype.py::test_random_creation",
    "mg.no_grad": "test_autograd.py::test_no_grad",
    "mg.enable_grad": "test_autograd.py::test_enable_grad",
    "mg.is_grad_enabled": "test_autograd.py::test_no_grad",
    "mg.grad": "test_autograd.py::test_grad_allow_unused",
    "mg.scope": "test_autograd.py::test_scope",
    "mg.gradcheck": "test_autograd.py::test_gradcheck_reports_the_worst_element",
    "mg.gradgradcheck": "test_autograd.py::test_gradgradcheck_catches_a_wrong_second_derivative",
    "mg.GradcheckError": "test_autograd.py::test_gradcheck_reports_the_worst_element",
    "mg.optim": "test_optim.py",
    "mg.data": "test_data.py",
    "mg.one_hot": "test_core_errors.py::test_one_hot",
    "mg.viz": "test_viz.py",
    "mg.onnx": "test_onnx.py",
    "mg.distributed": "test_distributed.py",
    "mg.save": "test_serialize.py",
    "mg.load": "test_serialize.py",
    "mg.compile": "test_compile.py",
    "mg.CompileError": "test_compile.py",
    **{f"mg.{d}": "test_dtype.py::test_dtype_names" for d in (
        "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool_")},
}


NOT_OPS.update(NOT_OPS_VOCAB)


# Public names that every tensor is a valid input to (in torch too), so no entry has a bad input.
NO_BAD_INPUT = {"T": "reverses the dims of any tensor; torch accepts every shape as well"}


def public_api():
    """Every public Tensor attribute and dunder it defines, and every name in mg.__all__."""
    skip = {"__doc__", "__module__", "__slots__", "__weakref__", "__dict__", "__qualname__"}
    names = set()
    for cls in mg.Tensor.__mro__[:-1]:                       # all but object
        for name in vars(cls):
            dunder = name.startswith("__") and name.endswith("__")
            if (dunder or not name.startswith("_")) and name not in skip:
                names.add(name)
    return names | {f"mg.{name}" for name in mg.__all__} | NN_NAMES


# the torch.nn.functional ops of nn/functional_ext.py, named "F.<op>" (tests/op_registry_nn.py)
from op_registry_nn import NN_NAMES, NN_OPS  # noqa: E402
OPS += NN_OPS
