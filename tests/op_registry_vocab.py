"""Registry entries for PyTorch's tensor vocabulary (minigrad/tensor_ops.py): each covers the
Tensor method and the mg.<name> function, with a NumPy reference, the torch call, finite-difference
shapes, a hypothesis strategy and bad inputs. tests/op_registry.py appends them to OPS."""
import numpy as np

import minigrad as mg
from op_registry import (BINARY, UNARY, UNARY1, UNARY2, O32, Op, T, err, gather_index, h_broadcast,
                         h_unary)


def both(*names):
    return tuple(names) + tuple(f"mg.{n}" for n in names)


def special(a):
    """A constant with inf, -inf and nan where a is large, very negative or near 0.6: added to a
    tensor it makes the special values without a warning."""
    data = np.asarray(a.data if isinstance(a, mg.Tensor) else a)
    out = np.where(data > 1.2, np.inf, np.where(data < -1.2, -np.inf, 0.0))
    out = np.where(np.abs(data - 0.6) < 0.3, np.nan, out)
    return mg.tensor(out.astype(data.dtype)) if isinstance(a, mg.Tensor) else out.astype(data.dtype)


def t_special(a):
    return T().tensor(special(a.detach().numpy()))


def np_prod(a, axis):
    return np.prod(a, axis=axis)


def np_sort_values(a, descending=False):
    s = np.sort(a, axis=-1)
    return s[..., ::-1] if descending else s


def np_tile(a, reps):
    return np.tile(a, reps)


SQUARE = [((3, 3),), ((2, 3, 3),), ((2, 4),)]
MAT = [((2, 3), (4, 3)), ((1, 2), (3, 2))]


VOCAB = [
    # elementwise
    Op("clamp", both("clamp", "clip"), lambda a: a.clamp(-0.5, 0.9) + mg.clip(a, min=0.3),
       lambda a: np.clip(a, -0.5, 0.9) + np.maximum(a, 0.3),
       lambda a: a.clamp(-0.5, 0.9) + T().clip(a, min=0.3), shapes=UNARY, hyp=h_unary(),
       errors=[err(lambda: O32(2).clamp(), ValueError, "clamp", "min and max")]),
    Op("clamp_tensor", ("clamp",), lambda a, b: a.clamp(min=b), lambda a, b: np.maximum(a, b),
       lambda a, b: T().clamp(a, min=b), shapes=[s for s in BINARY if len(s[0]) >= len(s[1])],
       hyp=h_broadcast().filter(lambda s: len(s[0]) >= len(s[1]) and
                                all(x >= y for x, y in zip(s[0][::-1], s[1][::-1])))),
    Op("rounding", both("floor", "ceil", "trunc", "sign", "round"),
       lambda a: (a * 3).floor() + mg.ceil(a * 3) * 10 + (a * 3).trunc() * 100 + a.sign() * 1000 +
       mg.round(a * 3) * 1e4,
       lambda a: np.floor(a * 3) + np.ceil(a * 3) * 10 + np.trunc(a * 3) * 100 + np.sign(a) * 1000 +
       np.round(a * 3) * 1e4,
       lambda a: (a * 3).floor() + T().ceil(a * 3) * 10 + (a * 3).trunc() * 100 + a.sign() * 1000 +
       T().round(a * 3) * 1e4, shapes=UNARY, hyp=h_unary(), grad=False,
       errors=[err(lambda: mg.floor([1.0]), TypeError, "floor()", "must be Tensor", "list"),
               err(lambda: mg.ceil([1.0]), TypeError, "ceil()", "must be Tensor", "list"),
               err(lambda: mg.trunc([1.0]), TypeError, "trunc()", "must be Tensor", "list"),
               err(lambda: mg.sign([1.0]), TypeError, "sign()", "must be Tensor", "list"),
               err(lambda: mg.round([1.0]), TypeError, "round()", "must be Tensor", "list"),
               err(lambda: O32(2).round(decimals=0.5), TypeError, "round", "decimals", "(2,)")]),
    Op("isnan_isinf_isfinite", both("isnan", "isinf", "isfinite"),
       lambda a: (a + special(a)).isnan() * 1 + mg.isinf(a + special(a)) * 2 +
       (a + special(a)).isfinite() * 4,
       lambda a: np.isnan(a + special(a)) * 1 + np.isinf(a + special(a)) * 2 +
       np.isfinite(a + special(a)) * 4,
       lambda a: (a + t_special(a)).isnan() * 1 + T().isinf(a + t_special(a)) * 2 +
       (a + t_special(a)).isfinite() * 4, shapes=UNARY, hyp=h_unary(), grad=False,
       out_dtype=np.int64,
       errors=[err(lambda: mg.isnan([1.0]), TypeError, "isnan()", "must be Tensor", "list"),
               err(lambda: mg.isinf([1.0]), TypeError, "isinf()", "must be Tensor", "list"),
               err(lambda: mg.isfinite([1.0]), TypeError, "isfinite()", "must be Tensor", "list")]),
    Op("sin_cos", both("sin", "cos"), lambda a: a.sin() * mg.cos(a * 2), lambda a: np.sin(a) *
       np.cos(a * 2), lambda a: a.sin() * T().cos(a * 2), shapes=UNARY, hyp=h_unary(),
       errors=[err(lambda: mg.sin([1.0]), TypeError, "sin()", "must be Tensor", "list"),
               err(lambda: mg.cos([1.0]), TypeError, "cos()", "must be Tensor", "list")]),
    Op("log1p_expm1", both("log1p", "expm1"), lambda a: a.log1p() + mg.expm1(a * 1e-9) * 1e9,
       lambda a: np.log1p(a) + np.expm1(a * 1e-9) * 1e9,
       lambda a: a.log1p() + T().expm1(a * 1e-9) * 1e9, shapes=UNARY, hyp=h_unary(),
       domain="positive",
       errors=[err(lambda: mg.log1p([1.0]), TypeError, "log1p()", "must be Tensor", "list"),
               err(lambda: mg.expm1([1.0]), TypeError, "expm1()", "must be Tensor", "list")]),
    Op("rsqrt_pow_square", both("rsqrt", "pow", "square"),
       lambda a: a.rsqrt() + mg.pow(a, 1.5) + a.square(), lambda a: a ** -0.5 + a ** 1.5 + a * a,
       lambda a: a.rsqrt() + T().pow(a, 1.5) + a.square(), shapes=UNARY, hyp=h_unary(),
       domain="positive",
       errors=[err(lambda: mg.rsqrt([1.0]), TypeError, "rsqrt()", "must be Tensor", "list"),
               err(lambda: mg.pow([1.0], 2), TypeError, "pow()", "must be Tensor", "list"),
               err(lambda: mg.square([1.0]), TypeError, "square()", "must be Tensor", "list"),
               err(lambda: O32(2).pow(O32(3)), ValueError, "pow", "(2,)", "(3,)")]),
    Op("nan_to_num", both("nan_to_num"), lambda a: (a + special(a)).nan_to_num(0.5) * 1e-30 +
       mg.nan_to_num(a + special(a), posinf=7.0, neginf=-8.0),
       lambda a: np.nan_to_num(a + special(a), nan=0.5) * 1e-30 +
       np.nan_to_num(a + special(a), nan=0.0, posinf=7.0, neginf=-8.0),
       lambda a: (a + t_special(a)).nan_to_num(0.5) * 1e-30 +
       T().nan_to_num(a + t_special(a), posinf=7.0, neginf=-8.0), shapes=UNARY, hyp=h_unary(),
       errors=[err(lambda: mg.nan_to_num([1.0]), TypeError, "nan_to_num()", "must be Tensor",
                   "list")]),
    Op("logaddexp", both("logaddexp"), lambda a, b: a.logaddexp(b) + mg.logaddexp(a * 300, b),
       lambda a, b: np.logaddexp(a, b) + np.logaddexp(a * 300, b),
       lambda a, b: a.logaddexp(b) + T().logaddexp(a * 300, b), shapes=BINARY, hyp=h_broadcast(),
       errors=[err(lambda: O32(2).logaddexp(O32(3)), ValueError, "logaddexp", "(2,)", "(3,)"),
               err(lambda: mg.logaddexp([1.0], O32(1)), TypeError, "logaddexp()", "must be Tensor",
                   "list")]),

    # reductions
    Op("std", both("std"), lambda a: a.std() + mg.std(a, -1, keepdim=True) + a.std(0, correction=0),
       lambda a: np.std(a, ddof=1) + np.std(a, -1, ddof=1, keepdims=True) + np.std(a, 0),
       lambda a: a.std() + T().std(a, -1, keepdim=True) + a.std(0, correction=0),
       shapes=[((3, 4),), ((2, 3),)], hyp=h_unary(2, 2, 2),
       errors=[err(lambda: O32(2, 3).std(2), IndexError, "var", "dim 2", "(2, 3)"),
               err(lambda: mg.std([1.0]), TypeError, "std()", "must be Tensor", "list")]),
    Op("amax_amin", both("amax", "amin"), lambda a: a.amax(-1) + mg.amin(a, (0, -1), keepdim=True),
       lambda a: a.max(-1) + a.min((0, a.ndim - 1), keepdims=True),
       lambda a: a.amax(-1) + T().amin(a, (0, -1), keepdim=True), shapes=UNARY2[:-1],
       hyp=h_unary(2, 2),
       errors=[err(lambda: O32(2, 3).amax(2), IndexError, "amax", "dim 2", "(2, 3)"),
               err(lambda: mg.amin(O32(2, 3), (0, -2)), ValueError, "amin", "repeated"),
               err(lambda: mg.amax([1.0]), TypeError, "amax()", "must be Tensor", "list")]),
    Op("prod", both("prod"), lambda a: a.prod(-1) + mg.prod(a * 0.8) + a.prod(0, keepdim=True).sum(),
       lambda a: np.prod(a, -1) + np.prod(a * 0.8) + np.prod(a, 0, keepdims=True).sum(),
       lambda a: a.prod(-1) + T().prod(a * 0.8) + a.prod(0, keepdim=True).sum(),
       shapes=[((5,),), ((2, 3),), ((3, 1),), ((2, 7),)], hyp=h_unary(1),
       errors=[err(lambda: O32(2).prod(3), IndexError, "prod", "dim 3")]),
    Op("prod_with_zero", ("prod",), lambda a: (a * mg.tensor([1.0, 0.0, 1.0], dtype=a.dtype)).prod(-1),
       lambda a: (a * np.array([1.0, 0.0, 1.0])).prod(-1),
       lambda a: (a * T().tensor([1.0, 0.0, 1.0], dtype=a.dtype)).prod(-1),
       shapes=[((3,),), ((2, 3),)], hyp=h_unary(1).map(lambda s: (s[0][:-1] + (3,),))),
    Op("cumprod", both("cumprod"), lambda a: a.cumprod(-1) + mg.cumprod(a, 0),
       lambda a: (np.cumprod(a, -1) + np.cumprod(a, 0)) if a.ndim else a * 2,
       lambda a: a.cumprod(-1) + T().cumprod(a, 0), shapes=UNARY + [((2, 5),)], hyp=h_unary(),
       errors=[err(lambda: O32(2, 3).cumprod(2), IndexError, "cumprod", "dim 2")]),
    Op("swapdims", ("swapdims",), lambda a: a.swapdims(0, -1), lambda a: np.swapaxes(a, 0, -1),
       shapes=UNARY1, hyp=h_unary(1),
       errors=[err(lambda: O32(2, 3).swapdims(0, 2), IndexError, "transpose", "(2, 3)")]),
    Op("cumsum", both("cumsum"), lambda a: a.cumsum(-1) + mg.cumsum(a, 0),
       lambda a: np.cumsum(a, -1) + np.cumsum(a, 0), lambda a: a.cumsum(-1) + T().cumsum(a, 0),
       shapes=UNARY1, hyp=h_unary(1),
       errors=[err(lambda: O32(2, 3).cumsum(2), IndexError, "cumsum", "dim 2", "(2, 3)")]),
    Op("norm", both("norm"), lambda a: a.norm() + mg.norm(a, 1, -1).sum() +
       a.norm(3, 0, keepdim=True).sum() + a.norm(float("inf"), -1).sum(),
       lambda a: np.sqrt((a * a).sum()) + np.abs(a).sum() + ((np.abs(a) ** 3).sum(0) ** (1 / 3)).sum()
       + np.abs(a).max(-1).sum(),
       lambda a: a.norm() + T().norm(a, 1, -1).sum() + a.norm(3, 0, keepdim=True).sum() +
       a.norm(float("inf"), -1).sum(), shapes=UNARY2[:-1], hyp=h_unary(2),
       errors=[err(lambda: O32(2, 3).norm(2, 2), IndexError, "norm", "dim 2", "(2, 3)"),
               err(lambda: mg.norm([1.0]), TypeError, "norm()", "must be Tensor", "list")]),

    # sorting
    Op("sort", both("sort", "argsort"), lambda a: a.sort().values + mg.sort(a, -1, True).values * 2 +
       a.argsort(-1) * 10,
       lambda a: np_sort_values(a) + np_sort_values(a, True) * 2 + np.argsort(a, -1) * 10,
       lambda a: a.sort().values + T().sort(a, -1, True).values * 2 + a.argsort(-1) * 10,
       shapes=UNARY1, hyp=h_unary(1),
       errors=[err(lambda: O32(2, 3).sort(2), IndexError, "argsort", "dim 2", "(2, 3)"),
               err(lambda: O32(2, 3).argsort(-3), IndexError, "argsort", "dim -3", "(2, 3)"),
               err(lambda: mg.sort([1.0]), TypeError, "sort()", "must be Tensor", "list"),
               err(lambda: mg.argsort([1.0]), TypeError, "argsort()", "must be Tensor", "list")]),
    Op("topk", both("topk"), lambda a: a.topk(2).values + mg.topk(a, 1, largest=False).indices,
       lambda a: np_sort_values(a, True)[..., :2] + np.argsort(a, -1)[..., :1],
       lambda a: a.topk(2).values + T().topk(a, 1, largest=False).indices,
       shapes=[((3,),), ((2, 4),), ((2, 1, 3),)], hyp=h_unary(1, min_side=2),
       errors=[err(lambda: O32(3).topk(4), ValueError, "topk", "k = 4", "(3,)")]),

    # indexing
    Op("gather", both("gather", "take_along_dim"),
       lambda a: a.gather(-1, gather_index(a.shape, -1)) + mg.take_along_dim(
           a, gather_index(a.shape, -1), -1),
       lambda a: 2 * np.take_along_axis(a, gather_index(a.shape, -1), -1),
       lambda a: a.gather(-1, T().tensor(gather_index(a.shape, -1))) + T().take_along_dim(
           a, T().tensor(gather_index(a.shape, -1)), -1), shapes=UNARY1[:-1], hyp=h_unary(1),
       errors=[err(lambda: O32(2, 3).gather(1, np.zeros((3, 1), int)), ValueError, "gather",
                   "(3, 1)", "(2, 3)"),
               err(lambda: O32(2, 3).gather(1, np.zeros((2, 1))), TypeError, "gather", "float")]),
    Op("scatter_add", both("scatter_add", "scatter"),
       lambda a, s: a.scatter_add(-1, gather_index(s.shape, -1, 3), s) +
       mg.scatter(a, -1, gather_index(s.shape, -1, 3)[..., :1], s[..., :1]),
       lambda a, s: np_scatter_add(a, s) + np_scatter_first(a, s),
       lambda a, s: a.scatter_add(-1, T().tensor(gather_index(s.shape, -1, 3)), s) +
       T().scatter(a, -1, T().tensor(gather_index(s.shape, -1, 3)[..., :1]), s[..., :1]),
       shapes=[((4,), (3,)), ((2, 4), (2, 3))], hyp=h_unary(1, min_side=1).map(
           lambda s: (s[0][:-1] + (4,), s[0][:-1] + (3,))),
       errors=[err(lambda: O32(2).scatter_add(0, np.array([5]), O32(1)), ValueError,
                   "scatter_add", "(2,)")]),
    Op("index_select", both("index_select", "repeat_interleave"),
       lambda a: a.index_select(-1, np.array([0, 0, a.shape[-1] - 1])) + mg.repeat_interleave(
           a, 2, -1)[..., :3],
       lambda a: a[..., [0, 0, -1]] + np.repeat(a, 2, -1)[..., :3],
       lambda a: a.index_select(-1, T().tensor([0, 0, a.shape[-1] - 1])) + T().repeat_interleave(
           a, 2, -1)[..., :3], shapes=[((3,),), ((2, 4),)], hyp=h_unary(1, min_side=2),
       errors=[err(lambda: O32(2, 3).index_select(1, np.array([[0]])), IndexError, "index_select",
                   "(1, 1)", "(2, 3)"),
               err(lambda: mg.index_select(O32(2, 3), 2, np.array([0])), IndexError, "index_select",
                   "dim 2", "(2, 3)"),
               err(lambda: O32(2, 3).repeat_interleave(mg.tensor([1, 2]), 1), ValueError,
                   "repeat_interleave", "(2,)", "(2, 3)"),
               err(lambda: mg.repeat_interleave(O32(2), -1, 0), ValueError, "repeat_interleave",
                   "(2,)"),
               err(lambda: mg.index_select([1.0]), TypeError, "index_select()", "must be Tensor",
                   "list"),
               err(lambda: mg.repeat_interleave([1.0], 2), TypeError, "repeat_interleave()",
                   "must be Tensor", "list")]),
    Op("masked_fill", both("masked_fill", "tril", "triu"),
       lambda a: a.masked_fill(a.data > 0.5, -1.0) + a.tril() * 2 + mg.triu(a, 1) * 3,
       lambda a: np.where(a > 0.5, -1.0, a) + np.tril(a) * 2 + np.triu(a, 1) * 3,
       lambda a: a.masked_fill(a > 0.5, -1.0) + a.tril() * 2 + T().triu(a, 1) * 3,
       shapes=UNARY2, hyp=h_unary(2),
       errors=[err(lambda: O32(2).masked_fill(np.ones(2), 0.0), TypeError, "masked_fill", "bool")]),

    # shape
    Op("flip_roll", both("flip", "roll"), lambda a: a.flip(-1) + mg.roll(a, 1, 0) + a.roll(2) +
       a.flip((0, -1)),
       lambda a: np.flip(a, -1) + np.roll(a, 1, 0) + np.roll(a, 2) + np.flip(a, (0, -1)),
       lambda a: a.flip(-1) + T().roll(a, 1, 0) + a.roll(2) + a.flip((0, -1)),
       shapes=UNARY2, hyp=h_unary(2),
       errors=[err(lambda: O32(2, 3).flip((0, -2)), ValueError, "flip", "repeated"),
               err(lambda: mg.flip(O32(2, 3), 2), IndexError, "flip", "dim 2", "(2, 3)"),
               err(lambda: O32(2, 3).roll((1, 2), 0), ValueError, "roll", "(1, 2)", "(0,)",
                   "(2, 3)"),
               err(lambda: mg.roll(O32(2, 3), 1, 2), IndexError, "roll", "dim 2", "(2, 3)"),
               err(lambda: mg.flip([1.0], 0), TypeError, "flip()", "must be Tensor", "list"),
               err(lambda: mg.roll([1.0], 1), TypeError, "roll()", "must be Tensor", "list")]),
    Op("split_chunk_unbind", both("split", "chunk", "unbind"),
       lambda a: mg.concatenate(list(a.split(2, -1)) + list(mg.chunk(a, 2, -1)) +
                                [mg.stack(mg.unbind(a, -1), -1)], -1),
       lambda a: np.concatenate([a, a, a], -1),
       lambda a: T().cat(list(a.split(2, -1)) + list(T().chunk(a, 2, -1)) +
                         [T().stack(T().unbind(a, -1), -1)], -1), shapes=UNARY1[:-1],
       hyp=h_unary(1),
       errors=[err(lambda: O32(5).split([2, 2]), ValueError, "split", "[2, 2]", "(5,)")]),
    Op("repeat_tile", ("repeat", "expand_as", "view") + both("tile", "unflatten", "movedim"),
       lambda a: a.repeat(2, 1, 3).sum(0) + mg.tile(a, (1, 3)).view(-1).reshape(a.shape[:-1] +
       (3 * a.shape[-1],)) + a.expand_as(mg.zeros((2,) + a.shape)).sum(0).repeat(1, 3) +
       mg.movedim(a.unflatten(-1, (a.shape[-1], 1)), -1, 0)[0].repeat(1, 3),
       lambda a: np.tile(a, (2, 1, 3)).sum(0) + np.tile(a, (1, 3)) + 2 * np.tile(a, (1, 3)) +
       np.tile(a, (1, 3)),
       lambda a: a.repeat(2, 1, 3).sum(0) + T().tile(a, (1, 3)).view(-1).reshape(a.shape[:-1] +
       (3 * a.shape[-1],)) + a.expand_as(T().zeros((2,) + a.shape)).sum(0).repeat(1, 3) +
       T().movedim(a.unflatten(-1, (a.shape[-1], 1)), -1, 0)[0].repeat(1, 3),
       shapes=[((2, 3),), ((1, 2),)], hyp=h_unary(2, 2),
       errors=[err(lambda: O32(2, 3).repeat(2), ValueError, "repeat", "(2, 3)")]),

    # the rest of the everyday Tensor API
    Op("clone_lerp", both("clone", "lerp"), lambda a, b: a.clone() * 2 + mg.lerp(a, b, 0.3),
       lambda a, b: a * 2 + a + 0.3 * (b - a), lambda a, b: a.clone() * 2 + T().lerp(a, b, 0.3),
       shapes=BINARY, hyp=h_broadcast(),
       errors=[err(lambda: mg.clone([1.0]), TypeError, "clone()", "must be Tensor", "list"),
               err(lambda: mg.lerp([1.0], O32(1), 0.5), TypeError, "lerp()", "must be Tensor",
                   "list")]),
    Op("diagonal_narrow", both("diagonal", "narrow"), lambda a: a.diagonal(1, 0, -1).sum() +
       mg.narrow(a, -1, 1, 1).sum() + a.diagonal().sum(),
       lambda a: np.diagonal(a, 1, 0, -1).sum() + a[..., 1:2].sum() + np.diagonal(a).sum(),
       lambda a: a.diagonal(1, 0, -1).sum() + T().narrow(a, -1, 1, 1).sum() + a.diagonal().sum(),
       shapes=[((3, 3),), ((2, 3, 4),)], hyp=h_unary(2, 3, 2),
       errors=[err(lambda: O32(2, 3).diagonal(0, 1, -1), ValueError, "diagonal", "both 1",
                   "(2, 3)"),
               err(lambda: mg.diagonal(O32(2, 3), 0, 0, 2), IndexError, "diagonal", "dim 2",
                   "(2, 3)"),
               err(lambda: O32(2, 3).narrow(0, 1, 5), IndexError, "narrow", "length 5", "(2, 3)"),
               err(lambda: mg.narrow(O32(2, 3), 1, -4, 1), IndexError, "narrow", "start -4",
                   "(2, 3)"),
               err(lambda: O32(2, 3).narrow(1, 0, -1), IndexError, "narrow", "length -1", "(2, 3)"),
               err(lambda: mg.diagonal([1.0]), TypeError, "diagonal()", "must be Tensor", "list"),
               err(lambda: mg.narrow([1.0], 0, 0, 1), TypeError, "narrow()", "must be Tensor",
                   "list")]),
    Op("matmul_where_methods", ("matmul", "where"), lambda a, b: a.matmul(b.mT) +
       a.where(a.data > 0, 0.5).sum(), lambda a, b: a @ b.T + np.where(a > 0, a, 0.5).sum(),
       lambda a, b: a.matmul(b.mT) + a.where(a > 0, 0.5).sum(), shapes=MAT,
       hyp=h_unary(2, 2).map(lambda s: (s[0], (3,) + s[0][1:])),
       errors=[err(lambda: O32(2, 3).matmul(O32(4, 5)), ValueError, "matmul", "(2, 3)", "(4, 5)"),
               err(lambda: O32(2).where(O32(3) > 0, 0.0), ValueError, "where", "(3,)", "(2,)")]),
    Op("cat_stack", ("mg.cat", "mg.stack"), lambda a, b: mg.cat([a, b], -1).sum(-1) +
       mg.stack([a, b], dim=0).sum(0).sum(-1), lambda a, b: 2 * (a.sum(-1) + b.sum(-1)),
       lambda a, b: T().cat([a, b], -1).sum(-1) + T().stack([a, b], dim=0).sum(0).sum(-1),
       shapes=[((2, 3), (2, 3)), ((4,), (4,))], hyp=h_unary(1).map(lambda s: (s[0], s[0])),
       errors=[err(lambda: mg.cat([O32(2, 3), O32(2, 4)]), ValueError, "concatenate", "(2, 3)",
                   "(2, 4)"),
               err(lambda: mg.cat([O32(2, 3), O32(2, 3)], 2), IndexError, "concatenate", "dim 2",
                   "(2, 3)")]),

    # products
    Op("bmm_outer", both("bmm", "outer"), lambda a, b: a.bmm(b) + mg.outer(a[0, 0], b[0, :, 0]),
       lambda a, b: a @ b + np.outer(a[0, 0], b[0, :, 0]),
       lambda a, b: a.bmm(b) + T().outer(a[0, 0], b[0, :, 0]),
       shapes=[((2, 3, 3), (2, 3, 3)), ((1, 2, 2), (1, 2, 2))], hyp=h_unary(1, 1, 2, 3).map(
           lambda s: ((2, s[0][0], s[0][0]), (2, s[0][0], s[0][0]))),
       errors=[err(lambda: O32(2, 3).bmm(O32(2, 3, 1)), ValueError, "bmm", "(2, 3)")]),
    Op("einsum", ("mg.einsum",), lambda a, b: mg.einsum("ij,kj->ik", a, b).sum() +
       mg.einsum("ij->", a) + mg.einsum("ij,ij->i", a, a).sum() + mg.einsum("ji", a).sum(),
       lambda a, b: np.einsum("ij,kj->ik", a, b).sum() + a.sum() + (a * a).sum() + a.sum(),
       lambda a, b: T().einsum("ij,kj->ik", a, b).sum() + T().einsum("ij->", a) +
       T().einsum("ij,ij->i", a, a).sum() + T().einsum("ji", a).sum(), shapes=MAT,
       hyp=h_unary(2, 2).map(lambda s: (s[0], (3,) + s[0][1:])),
       errors=[err(lambda: mg.einsum("ij,j->i", O32(2, 3)), ValueError, "einsum", "(2, 3)")]),
    Op("einsum_batched", ("mg.einsum",), lambda a, b: mg.einsum("bij,bjk->bik", a, b) +
       mg.einsum("bii->bi", a).sum() + mg.einsum(["bij", "bjk"][0] + "->b", a).sum(),
       lambda a, b: a @ b + np.einsum("bii->bi", a).sum() + a.sum(),
       lambda a, b: T().einsum("bij,bjk->bik", a, b) + T().einsum("bii->bi", a).sum() +
       T().einsum("bij->b", a).sum(), shapes=[((2, 3, 3), (2, 3, 2))],
       hyp=h_unary(1, 1, 1, 3).map(lambda s: ((2, s[0][0], s[0][0]), (2, s[0][0], 2)))),
]


def np_scatter_add(a, s):
    out = a.copy()
    np.add.at(out, tuple(np.indices(s.shape)[:-1]) + (gather_index(s.shape, -1, 3),), s)
    return out


def np_scatter_first(a, s):
    out = a.copy()
    idx = gather_index(s.shape, -1, 3)[..., :1]
    np.put_along_axis(out, idx, s[..., :1], -1)
    return out


NOT_OPS_VOCAB = {name: "test_vocab.py::test_tensor_api_helpers" for name in (
    "dim", "numel", "mg.numel", "contiguous", "type_as", "to", "new_zeros", "mg.linspace")}
