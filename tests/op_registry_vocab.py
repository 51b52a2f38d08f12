"""Registry entries for PyTorch's tensor vocabulary (minigrad/tensor_ops.py and the torch-style
signatures of the Tensor), in the format of tests/op_registry.py, which appends VOCAB to OPS.

`V` makes the entry for a Tensor method and, where torch has the same function, the entry for
`mg.<name>` beside it: both are checked against numpy and against torch's method or function.
"""
import types

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import minigrad as mg

UNARY = [((),), ((1,),), ((4,),), ((2, 3),), ((2, 1, 3),), ((0, 3),)]
UNARY1 = [s for s in UNARY if len(s[0]) >= 1]
UNARY2 = [s for s in UNARY if len(s[0]) >= 2]
BINARY = [((), ()), ((3,), ()), ((2, 3), (3,)), ((2, 1), (1, 3)), ((0, 3), (1, 3))]
O32 = mg.ones


def T():
    import torch
    return torch


def unary(min_dims=0, max_dims=3, min_side=1, max_side=4):
    return array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                        max_side=max_side).map(lambda s: (s,))


def binary():
    from hypothesis.extra.numpy import mutually_broadcastable_shapes
    return mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4).map(
        lambda r: r.input_shapes)


def square(min_dims=2):
    """A shape whose last two sides are at least 2 (for tril, triu, diagonals)."""
    return array_shapes(min_dims=min_dims, max_dims=3, min_side=2, max_side=4).map(lambda s: (s,))


def err(thunk, exc, *words):
    return (thunk, exc, list(words))


def _torch_arg(v):
    return T().as_tensor(v) if isinstance(v, np.ndarray) else v


MG = types.SimpleNamespace(cat=lambda ps: mg.concatenate(ps, -1), lib=mg)
TORCH = types.SimpleNamespace(cat=lambda ps: T().cat(ps, -1), lib=None)


def V(case, method, argf, ref, free=True, post=None, **kw):
    """Entries for `x.method(*args)` (and `mg.method(x, *args)` when `free`): `argf(*inputs)`
    gives (args, kwargs), its arrays become torch tensors on the torch side; `post(result, lib)`
    turns a tuple result into one tensor."""
    from op_registry import Op

    def call(free_fn, lib):
        def fn(*xs):
            args, kwargs = argf(*xs)
            if lib is TORCH:
                args = [_torch_arg(a) for a in args]
                kwargs = {k: _torch_arg(v) for k, v in kwargs.items()}
            f = getattr(lib.lib or T(), method) if free_fn else getattr(xs[0], method)
            out = f(xs[0], *args, **kwargs) if free_fn else f(*args, **kwargs)
            return post(out, lib) if post else out
        return fn

    torch_fn = kw.pop("torch", None) or call(False, TORCH)
    entries = [Op(case, (method,), call(False, MG), ref, torch_fn, **kw)]
    if free:
        kw = {k: v for k, v in kw.items() if k != "errors"}
        entries.append(Op(f"mg.{case}", (f"mg.{method}",), call(True, MG), ref, call(True, TORCH),
                          **kw))
    return entries


def n_of(a):
    """The number of elements of a minigrad or torch tensor."""
    return int(np.prod(a.shape))


def none(*xs):
    return (), {}


def pos(*args, **kwargs):
    """argf for fixed arguments after the tensor inputs (which are passed first)."""
    return lambda x, *rest: (tuple(rest) + args, kwargs)


def specials(shape, dtype=np.float64, values=(np.nan, np.inf, -np.inf, 0.0)):
    """nan, inf, -inf and 0 (or `values`) repeating through an array of `shape`."""
    n = int(np.prod(shape))
    return np.resize(np.array(values), n).reshape(shape).astype(dtype)


def nans(shape, dtype=np.float64):
    """nan and 0: nan_to_num's default +-inf replacements would overflow a weighted sum."""
    return specials(shape, dtype, (np.nan, 0.0))


def gather_idx(shape, dim, k=3, smaller=False):
    """Integer indices along `dim` (with repeats); one row less elsewhere when `smaller`."""
    d = dim % len(shape)
    idx_shape = tuple(k if i == d else max(n - smaller, 1) for i, n in enumerate(shape))
    return (np.arange(int(np.prod(idx_shape))).reshape(idx_shape) * 5 + 1) % shape[d]


def unique_idx(shape, k):
    """(k, m) indices into dim 0 of `shape`, distinct within each column (for scatter)."""
    return (np.arange(k)[:, None] + np.arange(shape[1])) % shape[0]


def np_gather(a, dim, idx):
    d = dim % a.ndim
    part = a[tuple(slice(0, n) if i != d else slice(None) for i, n in enumerate(idx.shape))]
    return np.take_along_axis(part, idx, d)


def np_scatter(a, idx, src, add):
    out, key = a.copy(), (idx,) + tuple(np.ogrid[tuple(slice(n) for n in idx.shape)][1:])
    src = np.broadcast_to(src, idx.shape)[tuple(slice(0, n) for n in idx.shape)]
    if add:
        np.add.at(out, key, src)
    else:
        out[key] = src
    return out


def np_triangle(a, k, lower):
    mask = np.tri(*a.shape[-2:], k=k, dtype=bool) if lower else \
        ~np.tri(*a.shape[-2:], k=k - 1, dtype=bool)
    return np.where(mask, a, 0.0)


def np_prod(a, axis=None, keepdims=False):
    return np.prod(a, axis=axis, keepdims=keepdims)


def pieces(out, lib):
    """A tuple of tensors as one, each piece weighted by its position."""
    return lib.cat([(p * (i + 1)).reshape(-1) for i, p in enumerate(out)])


def np_pieces(parts):
    return np.concatenate([(p * (i + 1)).reshape(-1) for i, p in enumerate(parts)])


def np_split(a, size, dim):
    n = a.shape[dim]
    sizes = [size] * (n // size) + ([n % size] if n % size else [])
    return np.split(a, np.cumsum(sizes)[:-1], axis=dim)


def repeat_sizes(a):
    return tuple(i % 3 + 1 for i in range(a.ndim + 1))


def cumulative(fn, a, dim):
    return fn(a, axis=dim % a.ndim) if a.ndim else a.copy()


VOCAB = [
    # elementwise
    *V("clamp", "clamp", pos(-0.95, 1.05), lambda a: np.clip(a, -0.95, 1.05), shapes=UNARY,
       hyp=unary(),
       errors=[err(lambda: O32(2).clamp(), ValueError, "clamp", "(2,)"),
               err(lambda: O32(2).clamp(O32(3)), ValueError, "clamp", "(2,)", "(3,)")]),
    *V("clamp_min", "clamp", lambda a: ((), {"min": 0.5}), lambda a: np.maximum(a, 0.5),
       shapes=UNARY, hyp=unary()),
    *V("clamp_tensors", "clamp", lambda a, lo, hi: ((lo, hi), {}),
       lambda a, lo, hi: np.minimum(np.maximum(a, lo), hi), free=False,
       shapes=[((2, 3), (3,), (2, 1)), ((4,), (), (4,))],
       hyp=unary(0, 2).map(lambda s: s * 3)),
    *V("clip", "clip", pos(max=0.7), lambda a: np.minimum(a, 0.7), shapes=UNARY, hyp=unary()),
    *V("floor", "floor", none, np.floor, shapes=UNARY, hyp=unary(), grad=False),
    *V("ceil", "ceil", none, np.ceil, shapes=UNARY, hyp=unary(), grad=False),
    *V("trunc", "trunc", none, np.trunc, shapes=UNARY, hyp=unary(), grad=False),
    *V("round", "round", none, np.round, shapes=UNARY, hyp=unary(), grad=False),
    *V("round_decimals", "round", pos(decimals=1), lambda a: np.round(a, 1), free=False,
       shapes=UNARY, hyp=unary(), grad=False),
    *V("sign", "sign", none, np.sign, shapes=UNARY, hyp=unary(), grad=False),
    *V("sin", "sin", none, np.sin, shapes=UNARY, hyp=unary()),
    *V("cos", "cos", none, np.cos, shapes=UNARY, hyp=unary()),
    *V("rsqrt", "rsqrt", none, lambda a: 1 / np.sqrt(a), shapes=UNARY, hyp=unary(),
       domain="positive"),
    *V("log1p", "log1p", none, np.log1p, shapes=UNARY, hyp=unary(), domain="positive"),
    *V("expm1", "expm1", none, np.expm1, shapes=UNARY, hyp=unary()),
    *V("pow_method", "pow", pos(3), lambda a: a ** 3, shapes=UNARY, hyp=unary()),
    *V("pow_tensor", "pow", lambda a, b: ((b,), {}), lambda a, b: a ** b, free=False,
       shapes=BINARY, hyp=binary(), domain=("positive", "real")),
    *V("logaddexp", "logaddexp", lambda a, b: ((b,), {}), np.logaddexp, shapes=BINARY,
       hyp=binary(),
       errors=[err(lambda: O32(2).logaddexp(O32(3)), ValueError, "logaddexp", "(2,)", "(3,)")]),
    *V("masked_fill", "masked_fill", lambda a: ((a.detach() > 0.5, -1.5), {}),
       lambda a: np.where(a > 0.5, -1.5, a), shapes=UNARY, hyp=unary(),
       errors=[err(lambda: O32(2, 3).masked_fill(O32(2, 3), 1.0), TypeError, "masked_fill",
                   "float32"),
               err(lambda: O32(3).masked_fill(O32(2, 3) > 2, 1.0), ValueError, "masked_fill",
                   "(2, 3)", "(3,)")]),

    *V("add_method", "add", lambda a, b: ((b,), {}), np.add, free=False, shapes=BINARY, hyp=binary()),
    *V("sub_method", "sub", lambda a, b: ((b,), {}), np.subtract, free=False, shapes=BINARY,
       hyp=binary()),
    *V("mul_method", "mul", lambda a, b: ((b,), {}), np.multiply, free=False, shapes=BINARY,
       hyp=binary()),
    *V("div_method", "div", lambda a, b: ((b,), {}), np.divide, free=False, shapes=BINARY,
       hyp=binary()),
    *V("matmul_method", "matmul", lambda a, b: ((b,), {}), np.matmul, free=False,
       shapes=[((2, 3), (3, 4)), ((3,), (3, 2))],
       hyp=st.just(((2, 3), (3, 1))),
       errors=[err(lambda: O32(2, 3).matmul(O32(2)), ValueError, "matmul", "(2, 3)", "(2,)")]),
    *V("neg_method", "neg", none, np.negative, free=False, shapes=UNARY, hyp=unary()),
    *V("square", "square", none, np.square, free=False, shapes=UNARY, hyp=unary()),
    *V("clone", "clone", none, np.copy, free=False, shapes=UNARY, hyp=unary()),
    *V("where_method", "where", lambda a, b: ((a.detach() > 0, b), {}),
       lambda a, b: np.where(a > 0, a, b), free=False, shapes=BINARY, hyp=binary()),
    *V("abs_fn", "abs", none, np.abs, shapes=UNARY, hyp=unary()),

    # reductions with torch's dim/keepdim, and the new ones
    *V("sum_dim_keepdim", "sum", pos(dim=-1, keepdim=True), lambda a: a.sum(-1, keepdims=True),
       free=False, shapes=UNARY1, hyp=unary(1)),
    *V("mean_dims", "mean", pos(dim=(0, -1)), lambda a: a.mean((0, -1)), free=False,
       shapes=UNARY2[:-1], hyp=unary(2)),
    *V("var_dim_keepdim", "var", pos(1, keepdim=True), lambda a: a.var(1, ddof=1, keepdims=True),
       free=False, shapes=[((2, 3),), ((3, 2, 2),)], hyp=unary(2, min_side=2)),
    *V("var_unbiased_false", "var", pos(unbiased=False), lambda a: a.var(), free=False,
       shapes=[((4,),), ((2, 3),)], hyp=unary(1)),
    *V("std", "std", none, lambda a: a.std(ddof=1), shapes=[((4,),), ((2, 3),), ((2, 1, 3),)],
       hyp=unary(1, min_side=2)),
    *V("std_dim", "std", pos(-1, keepdim=True, correction=0),
       lambda a: a.std(-1, keepdims=True), shapes=[((4,),), ((2, 3),), ((3, 2),)],
       hyp=unary(1, min_side=2)),
    *V("amax", "amax", pos(-1), lambda a: a.max(-1), shapes=UNARY1[:-1], hyp=unary(1)),
    *V("amin", "amin", pos((0, 1), keepdim=True), lambda a: a.min((0, 1), keepdims=True),
       shapes=UNARY2[:-1], hyp=unary(2)),
    *V("max_dim", "max", pos(dim=0, keepdim=True), lambda a: a.max(0, keepdims=True), free=False,
       torch=lambda a: a.amax(dim=0, keepdim=True), shapes=UNARY1[:-1], hyp=unary(1)),
    *V("prod", "prod", none, np_prod, shapes=UNARY, hyp=unary()),
    *V("prod_dim", "prod", pos(-1, keepdim=True), lambda a: np_prod(a, -1, True),
       shapes=UNARY1 + [((3, 0),), ((2, 5),)], hyp=unary(1, max_side=5),
       errors=[err(lambda: O32(2, 3).prod(2), ValueError, "prod", "axis 2")]),
    *V("cumsum", "cumsum", pos(-1), lambda a: cumulative(np.cumsum, a, -1),
       shapes=UNARY + [((3, 5),)], hyp=unary(),
       errors=[err(lambda: O32(2, 3).cumsum(3), ValueError, "cumsum", "axis 3")]),
    *V("cumsum_dim0", "cumsum", pos(0), lambda a: cumulative(np.cumsum, a, 0),
       shapes=UNARY1, hyp=unary(1)),
    *V("cumprod", "cumprod", pos(-1), lambda a: cumulative(np.cumprod, a, -1),
       shapes=UNARY + [((2, 5),)], hyp=unary(max_side=5)),
    *V("cumprod_dim0", "cumprod", pos(0), lambda a: cumulative(np.cumprod, a, 0),
       shapes=UNARY1, hyp=unary(1)),
    *V("norm", "norm", none, lambda a: np.sqrt((a * a).sum()), shapes=UNARY[1:-1], hyp=unary()),
    *V("norm_1_dim", "norm", pos(1, -1, True), lambda a: np.abs(a).sum(-1, keepdims=True),
       shapes=UNARY1, hyp=unary(1)),
    *V("norm_inf", "norm", pos(float("inf"), 0), lambda a: np.abs(a).max(0),
       shapes=UNARY1[:-1], hyp=unary(1)),
    *V("norm_3", "norm", pos(3, dim=-1), lambda a: (np.abs(a) ** 3).sum(-1) ** (1 / 3),
       shapes=UNARY1, hyp=unary(1),
       errors=[err(lambda: O32(2).norm("nuc"), ValueError, "norm", "(2,)")]),

    # sorting
    *V("sort", "sort", none, lambda a: np.sort(a, -1), post=lambda r, lib: r.values,
       shapes=UNARY1[:-1], hyp=unary(1)),
    *V("sort_desc", "sort", pos(0, True), lambda a: -np.sort(-a, 0), post=lambda r, lib: r[0],
       shapes=UNARY1[:-1], hyp=unary(1)),
    *V("sort_indices", "sort", pos(-1), lambda a: np.argsort(a, -1), post=lambda r, lib: r[1],
       shapes=UNARY1[:-1], hyp=unary(1), grad=False, out_dtype=np.int64),
    *V("argsort", "argsort", pos(0, descending=True), lambda a: np.argsort(-a, 0),
       shapes=UNARY1[:-1], hyp=unary(1), grad=False, out_dtype=np.int64),
    *V("topk", "topk", pos(2), lambda a: -np.sort(-a, -1)[..., :2],
       post=lambda r, lib: r.values, shapes=[((2,),), ((3, 4),), ((2, 1, 3),)],
       hyp=unary(1, min_side=2),
       errors=[err(lambda: O32(2, 3).topk(4), ValueError, "topk", "(2, 3)")]),
    *V("topk_smallest", "topk", pos(1, 0, largest=False), lambda a: np.sort(a, 0)[:1] + np.argsort(a, 0)[:1],
       post=lambda r, lib: r.values + r.indices, shapes=UNARY1[:-1], hyp=unary(1)),

    # indexing
    *V("gather", "gather", lambda a: ((-1, gather_idx(a.shape, -1)), {}),
       lambda a: np_gather(a, -1, gather_idx(a.shape, -1)), shapes=UNARY1[:-1], hyp=unary(1),
       errors=[err(lambda: O32(2, 3).gather(1, np.zeros((3, 1), int)), ValueError, "gather",
                   "(3, 1)", "(2, 3)"),
               err(lambda: O32(2, 3).gather(1, np.zeros((2, 1))), TypeError, "gather")]),
    *V("gather_smaller", "gather", lambda a: ((0, gather_idx(a.shape, 0, 2, True)), {}),
       lambda a: np_gather(a, 0, gather_idx(a.shape, 0, 2, True)),
       shapes=[((2, 3),), ((3, 2, 2),)], hyp=unary(2, min_side=2)),
    *V("scatter_add", "scatter_add", lambda a, b: ((0, gather_idx(a.shape, 0, b.shape[0]), b), {}),
       lambda a, b: np_scatter(a, gather_idx(a.shape, 0, b.shape[0]), b, True),
       shapes=[((3, 4), (2, 4)), ((2, 3), (4, 3)), ((1, 2), (3, 2))],
       hyp=st.tuples(array_shapes(min_dims=2, max_dims=2, max_side=4), st.integers(1, 4)).map(
           lambda p: (p[0], (p[1],) + p[0][1:])),
       errors=[err(lambda: O32(2, 3).scatter_add(0, np.array([[5, 0, 0]]), O32(1, 3)),
                   IndexError, "scatter_add", "(2, 3)"),
               err(lambda: O32(2, 3).scatter_add(0, np.zeros((1, 3), int), O32(1, 2)),
                   ValueError, "scatter_add", "(1, 2)", "(1, 3)")]),
    *V("scatter", "scatter", lambda a, b: ((0, unique_idx(a.shape, b.shape[0]), b), {}),
       lambda a, b: np_scatter(a, unique_idx(a.shape, b.shape[0]), b, False),
       shapes=[((3, 4), (2, 4)), ((2, 3), (2, 3))],
       hyp=array_shapes(min_dims=2, max_dims=2, max_side=4).map(
           lambda s: (s, (max(s[0] - 1, 1),) + s[1:])),
       errors=[err(lambda: O32(2, 3).scatter(0, np.zeros((1, 3, 1), int), 1.0), ValueError,
                   "scatter", "(1, 3, 1)", "(2, 3)")]),
    *V("scatter_value", "scatter", lambda a: ((0, unique_idx(a.shape, 1)), {"value": 2.5}),
       lambda a: np_scatter(a, unique_idx(a.shape, 1), 2.5, False), free=False,
       shapes=[((3, 4),), ((2, 1),)], hyp=unary(2, 2)),
    *V("index_select", "index_select", lambda a: ((-1, np.array([0, a.shape[-1] - 1, 0])), {}),
       lambda a: a[..., [0, a.shape[-1] - 1, 0]], shapes=UNARY1[:-1], hyp=unary(1),
       errors=[err(lambda: O32(2, 3).index_select(0, np.zeros((1, 1), int)), ValueError,
                   "index_select", "(1, 1)")]),
    *V("take_along_dim", "take_along_dim",
       lambda a: ((gather_idx(a.shape, -1),), {"dim": -1}),
       lambda a: np.take_along_axis(a, gather_idx(a.shape, -1), -1), shapes=UNARY1[:-1],
       hyp=unary(1)),
    *V("take_along_dim_flat", "take_along_dim", lambda a: ((np.array([0, n_of(a) - 1, 0]),), {}),
       lambda a: a.reshape(-1)[[0, a.size - 1, 0]], shapes=UNARY[:-1], hyp=unary()),

    # pieces and copies
    *V("split", "split", pos(2, -1), lambda a: np_pieces(np_split(a, 2, -1)), post=pieces,
       shapes=[((1,),), ((5,),), ((2, 4),), ((2, 1, 3),)], hyp=unary(1)),
    *V("split_sections", "split", lambda a: (([1, a.shape[0] - 1], 0), {}),
       lambda a: np_pieces(np.split(a, [1], 0)), post=pieces, shapes=UNARY1[:-1], hyp=unary(1),
       errors=[err(lambda: O32(3, 2).split([1, 1]), ValueError, "split", "[1, 1]", "(3, 2)")]),
    *V("chunk", "chunk", pos(2, -1), lambda a: np_pieces(np_split(a, -(-a.shape[-1] // 2), -1)),
       post=pieces, shapes=[((1,),), ((5,),), ((2, 4),)], hyp=unary(1),
       errors=[err(lambda: O32(3).chunk(0), ValueError, "chunk", "0")]),
    *V("unbind", "unbind", pos(-1), lambda a: np_pieces(np.moveaxis(a, -1, 0)), post=pieces,
       shapes=UNARY1[:-1], hyp=unary(1)),
    *V("repeat", "repeat", lambda a: (repeat_sizes(a), {}),
       lambda a: np.tile(a, repeat_sizes(a)), free=False, shapes=UNARY, hyp=unary(),
       errors=[err(lambda: O32(2, 3).repeat(2), ValueError, "repeat", "(2, 3)")]),
    *V("tile", "tile", pos((2,)), lambda a: np.tile(a, (2,)), shapes=UNARY, hyp=unary()),
    *V("repeat_interleave", "repeat_interleave", pos(2), lambda a: np.repeat(a, 2),
       shapes=UNARY, hyp=unary()),
    *V("repeat_interleave_counts", "repeat_interleave",
       lambda a: ((np.arange(a.shape[0]) % 3,), {"dim": 0}),
       lambda a: np.repeat(a, np.arange(a.shape[0]) % 3, 0), shapes=UNARY1[:-1], hyp=unary(1),
       errors=[err(lambda: O32(2, 3).repeat_interleave(np.array([1, 2, 3]), 0), ValueError,
                   "repeat_interleave", "(2, 3)")]),
    *V("expand_as", "expand_as", lambda a: ((mg.ones(2, *a.shape) if isinstance(a, mg.Tensor)
                                             else T().ones(2, *a.shape),), {}),
       lambda a: np.broadcast_to(a, (2,) + a.shape), free=False, shapes=UNARY, hyp=unary()),
    *V("tril", "tril", none, lambda a: np_triangle(a, 0, True), shapes=UNARY2 + [((3, 2),)],
       hyp=square(),
       errors=[err(lambda: O32(3).tril(), ValueError, "tril", "(3,)")]),
    *V("triu", "triu", pos(1), lambda a: np_triangle(a, 1, False), shapes=UNARY2 + [((3, 3),)],
       hyp=square()),
    *V("flip", "flip", pos((0, -1)), lambda a: np.flip(a, (0, -1)), shapes=UNARY2, hyp=unary(2),
       errors=[err(lambda: O32(2).flip(1), ValueError, "flip", "axis 1")]),
    *V("roll", "roll", pos((1, -2), (0, -1)), lambda a: np.roll(a, (1, -2), (0, -1)),
       shapes=UNARY1, hyp=unary(1),
       errors=[err(lambda: O32(2, 3).roll((1, 2), 0), ValueError, "roll")]),
    *V("roll_flat", "roll", pos(2), lambda a: np.roll(a, 2), shapes=UNARY, hyp=unary()),

    # torch-style shape methods
    *V("transpose_dims", "transpose", pos(0, -1), lambda a: np.swapaxes(a, 0, -1), free=False,
       shapes=UNARY1, hyp=unary(1),
       errors=[err(lambda: O32(2, 3, 4).transpose(0, 3), ValueError, "transpose", "(2, 3, 4)")]),
    *V("swapdims", "swapdims", pos(1, 0), lambda a: np.swapaxes(a, 1, 0), free=False,
       shapes=UNARY2, hyp=unary(2)),
    *V("view", "view", pos(-1), lambda a: a.reshape(-1), free=False, shapes=UNARY, hyp=unary()),
    *V("flatten_range", "flatten", pos(1, -2),
       lambda a: a.reshape(a.shape[:1] + (int(np.prod(a.shape[1:-1])),) + a.shape[-1:]),
       free=False, shapes=[((2, 1, 3),), ((2, 3, 2, 2),)], hyp=unary(3, 4)),
    *V("unflatten", "unflatten", lambda a: ((-1, (2, -1)), {}),
       lambda a: a.reshape(a.shape[:-1] + (2, a.shape[-1] // 2)), free=False,
       shapes=[((4,),), ((3, 2),)], hyp=unary(1).map(lambda s: (s[0] + (2,),)),
       errors=[err(lambda: O32(3).unflatten(0, (2, -1)), ValueError, "reshape", "(3,)")]),

    # products
    *V("bmm", "bmm", lambda a, b: ((b,), {}), np.matmul,
       shapes=[((2, 3, 4), (2, 4, 2)), ((1, 1, 2), (1, 2, 3))],
       hyp=st.tuples(*(st.integers(1, 3) for _ in range(4))).map(
           lambda p: ((p[0], p[1], p[2]), (p[0], p[2], p[3]))),
       errors=[err(lambda: O32(2, 3, 4).bmm(O32(3, 4, 2)), ValueError, "bmm", "(2, 3, 4)",
                   "(3, 4, 2)")]),
    *V("outer", "outer", lambda a, b: ((b,), {}), np.outer, shapes=[((3,), (2,)), ((1,), (4,))],
       hyp=st.tuples(array_shapes(min_dims=1, max_dims=1), array_shapes(min_dims=1,
                                                                         max_dims=1)),
       errors=[err(lambda: O32(2, 2).outer(O32(2)), ValueError, "outer", "(2, 2)")]),
]

EINSUM = [("ij,jk->ik", [(2, 3), (3, 4)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 1)]),
          ("ii->i", [(3, 3)]), ("ij->", [(2, 3)]), ("i,j->ij", [(2,), (3,)]),
          ("...ij,...jk", [(2, 1, 2, 3), (3, 3, 2)]), ("ij,ij->i", [(2, 3), (1, 3)]),
          ("bhqd,bhkd->bhqk", [(1, 2, 3, 2), (1, 2, 4, 2)]), ("ijk,kji", [(2, 3, 2), (2, 3, 2)]),
          ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]), ("iij->j", [(2, 2, 3)])]


def _einsum_entries():
    from op_registry import Op
    out = []
    for k, (eq, shapes) in enumerate(EINSUM):
        out.append(Op(f"einsum_{k}", ("mg.einsum",), lambda *xs, eq=eq: mg.einsum(eq, *xs),
                      lambda *xs, eq=eq: np.einsum(eq, *xs),
                      lambda *xs, eq=eq: T().einsum(eq, *xs), shapes=[tuple(shapes)],
                      hyp=st.just(tuple(shapes)),
                      errors=[] if k else [
                          err(lambda: mg.einsum("ij,jk", O32(2, 3), O32(4, 2)), ValueError,
                              "einsum", "'j'", "(2, 3)", "(4, 2)"),
                          err(lambda: mg.einsum("ij", O32(2, 3), O32(3)), ValueError, "einsum",
                              "1 operands"),
                          err(lambda: mg.einsum("ijk", O32(2, 3)), ValueError, "einsum",
                              "'ijk'", "(2, 3)")]))
    out.append(Op("tensordot", ("mg.tensordot",), lambda a, b: mg.tensordot(a, b, 1),
                  lambda a, b: np.tensordot(a, b, 1), lambda a, b: T().tensordot(a, b, 1),
                  shapes=[((2, 3), (3, 4)), ((2, 2, 3), (3,))],
                  hyp=st.just(((2, 3), (3, 2)))))
    out.append(Op("tensordot_pairs", ("mg.tensordot",),
                  lambda a, b: mg.tensordot(a, b, ([1, 0], [0, 2])),
                  lambda a, b: np.tensordot(a, b, ([1, 0], [0, 2])),
                  lambda a, b: T().tensordot(a, b, ([1, 0], [0, 2])),
                  shapes=[((2, 3, 2), (3, 4, 2))], hyp=st.just(((2, 3, 2), (3, 4, 2)))))
    return out


def _special_entries():
    from op_registry import Op
    out = []
    for name in ("isnan", "isinf", "isfinite"):
        npf = getattr(np, name)
        out += [Op(name, (name,), lambda a, n=name: getattr(a + specials(a.shape, a.dtype), n)(),
                   lambda a, f=npf: f(a + specials(a.shape)),
                   lambda a, n=name: getattr(a + T().as_tensor(specials(a.shape)), n)(),
                   shapes=UNARY, hyp=unary(), grad=False, out_dtype=np.bool_),
                Op(f"mg.{name}", (f"mg.{name}",),
                   lambda a, n=name: getattr(mg, n)(a + specials(a.shape, a.dtype)),
                   lambda a, f=npf: f(a + specials(a.shape)),
                   lambda a, n=name: getattr(T(), n)(a + T().as_tensor(specials(a.shape))),
                   shapes=UNARY, hyp=unary(), grad=False, out_dtype=np.bool_)]
    for prefix, call in (("", lambda x, **k: x.nan_to_num(**k)),
                         ("mg.", lambda x, **k: getattr(mg if isinstance(x, mg.Tensor) else T(),
                                                        "nan_to_num")(x, **k))):
        cover = f"{prefix}nan_to_num"
        out += [Op(cover, (cover,), lambda a, c=call: c(a + nans(a.shape, a.dtype)),
                   lambda a: np.nan_to_num(a + nans(a.shape)),
                   lambda a, c=call: c(a + T().as_tensor(nans(a.shape))),
                   shapes=UNARY, hyp=unary()),
                Op(f"{cover}_values", (cover,),
                   lambda a, c=call: c(a + specials(a.shape, a.dtype), nan=1.5, posinf=9.0,
                                       neginf=-9.0),
                   lambda a: np.nan_to_num(a + specials(a.shape), nan=1.5, posinf=9.0,
                                           neginf=-9.0),
                   lambda a, c=call: c(a + T().as_tensor(specials(a.shape)), nan=1.5, posinf=9.0,
                                       neginf=-9.0),
                   shapes=UNARY, hyp=unary())]
    out.append(Op("cat", ("mg.cat",), lambda a, b: mg.cat([a, b], dim=-1),
                  lambda a, b: np.concatenate([a, b], -1), lambda a, b: T().cat([a, b], dim=-1),
                  shapes=[((2, 1), (2, 3)), ((3,), (0,))], hyp=st.just(((2, 2), (2, 1)))))
    out.append(Op("mT", ("mT",), lambda a: a.mT, lambda a: np.swapaxes(a, -1, -2),
                  shapes=UNARY2, hyp=unary(2)))
    return out


VOCAB += _einsum_entries() + _special_entries()
