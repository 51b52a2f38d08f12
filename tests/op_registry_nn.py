"""Registry cases for the torch.nn.functional ops of nn/functional_ext.py, named "F.<op>".

tests/op_registry.py adds NN_OPS to its OPS and NN_NAMES to the public names, so tests/test_ops.py
runs these through the same checks as the Tensor methods: NumPy forward, float64 gradcheck and
gradgradcheck, PyTorch forward and backward on hypothesis shapes, and the bad-input messages.
Scaled inputs (a * 40, a * 400) reach the saturated and extreme ends of the activations.
"""
import numpy as np
from hypothesis import strategies as st
from op_registry import UNARY, UNARY1, Op, T, err, h_broadcast, h_unary, np_windows

import minigrad as mg
from nn import functional as F
from nn import functional_ext

NN_NAMES = {f"F.{name}" for name, value in vars(functional_ext).items()
            if callable(value) and not name.startswith("_")
            and getattr(value, "__module__", "") == "nn.functional_ext"}
O32 = mg.ones
SA, SS = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def TF():
    return T().nn.functional


def np_elu(a, alpha=1.0, scale=1.0, input_scale=1.0):
    return scale * np.where(a > 0, a, alpha * (np.exp(np.minimum(a, 0) * input_scale) - 1))


def np_norm(a, p, axis):
    return (np.abs(a) ** p).sum(axis, keepdims=True) ** (1 / p)


def np_reduce(loss, reduction):
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def np_unfold(a, k, d, p, s):
    a = np.pad(a, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    w = np_windows(a, (2, 3), k, s, d)                          # (N, C, OH, OW, KH, KW)
    N, C, OH, OW = w.shape[:4]
    return w.transpose(0, 1, 4, 5, 2, 3).reshape(N, C * k[0] * k[1], OH * OW)


def np_fold(a, size, k, d, p, s):
    """col2im by loops: each column entry added at its place in the padded output."""
    N, CK, L = a.shape
    C, (H, W) = CK // (k[0] * k[1]), (size[0] + 2 * p[0], size[1] + 2 * p[1])
    OW = (W - d[1] * (k[1] - 1) - 1) // s[1] + 1
    out = np.zeros((N, C, H, W))
    cols = a.reshape(N, C, k[0], k[1], L)
    for b in range(L):
        i, j = b // OW * s[0], b % OW * s[1]
        for u in range(k[0]):
            for v in range(k[1]):
                out[:, :, i + u * d[0], j + v * d[1]] += cols[:, :, u, v, b]
    return out[:, :, p[0]:H - p[0], p[1]:W - p[1]]


def classes(a):
    """Integer classes 0..4 from a float tensor or array (|a| is in [0.2, 2.1])."""
    return (a.abs() * 2).astype(mg.int64) if isinstance(a, mg.Tensor) else \
        (np.abs(a) * 2).astype(np.int64) if isinstance(a, np.ndarray) else (a.abs() * 2).long()


def h_nd(min_dims, max_dims, min_side=1):
    return h_unary(min_dims, max_dims, min_side=min_side)


PAIRS = [((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((2, 1, 3), (2, 1, 3))]
H_PAIR = h_unary().map(lambda s: s * 2)
UNFOLD = dict(kernel_size=(2, 2), dilation=(1, 2), padding=(1, 0), stride=(2, 1))
FOLD_ARGS = ((2, 2), (1, 2), (1, 0), (2, 1))                  # k, d, p, s as pairs
LOSSES = {
    "l1_loss": (lambda a, b, r: F.l1_loss(a, b, reduction=r),
                lambda a, b, r: np_reduce(np.abs(a - b), r),
                lambda a, b, r: TF().l1_loss(a, b, reduction=r)),
    "smooth_l1_loss": (lambda a, b, r: F.smooth_l1_loss(a, b, reduction=r, beta=0.8),
                       lambda a, b, r: np_reduce(np.where(np.abs(a - b) < 0.8,
                                                          0.5 * (a - b) ** 2 / 0.8,
                                                          np.abs(a - b) - 0.4), r),
                       lambda a, b, r: TF().smooth_l1_loss(a, b, reduction=r, beta=0.8)),
    "huber_loss": (lambda a, b, r: F.huber_loss(a, b, r, 0.8),
                   lambda a, b, r: np_reduce(np.where(np.abs(a - b) < 0.8, 0.5 * (a - b) ** 2,
                                                      0.8 * (np.abs(a - b) - 0.4)), r),
                   lambda a, b, r: TF().huber_loss(a, b, r, 0.8)),
    "kl_div": (lambda a, b, r: F.kl_div(a, b, reduction=r),
               lambda a, b, r: np_reduce(b * (np.log(b) - a), r),
               lambda a, b, r: TF().kl_div(a, b, reduction=r)),
    "kl_div_log_target": (lambda a, b, r: F.kl_div(a, b, reduction=r, log_target=True),
                          lambda a, b, r: np_reduce(np.exp(b) * (b - a), r),
                          lambda a, b, r: TF().kl_div(a, b, reduction=r, log_target=True)),
}


def _loss_ops():
    ops = []
    for name, (fn, ref, tfn) in LOSSES.items():
        cover = "F." + name.removesuffix("_log_target")
        domain = ("real", "positive") if name == "kl_div" else "real"
        for r in ("mean", "sum", "none"):
            shapes = PAIRS + ([((0, 3), (0, 3))] if r != "mean" else [])
            ops.append(Op(f"{name}_{r}", (cover,), lambda a, b, r=r, fn=fn: fn(a, b, r),
                          lambda a, b, r=r, ref=ref: ref(a, b, r),
                          lambda a, b, r=r, tfn=tfn: tfn(a, b, r), shapes=shapes, hyp=H_PAIR,
                          domain=domain))
        ops[-1].errors = [
            err(lambda fn=fn: fn(O32(2, 3), O32(3, 2), "mean"), ValueError, cover[2:], "(2, 3)",
                "(3, 2)"),
            err(lambda fn=fn: fn(O32(2), O32(2), "avg"), ValueError, cover[2:], "'avg'")]
    ops.append(Op("kl_div_batchmean", ("F.kl_div",),
                  lambda a, b: F.kl_div(a, b, reduction="batchmean"),
                  lambda a, b: (b * (np.log(b) - a)).sum() / (a.shape[0] if a.ndim else 1),
                  lambda a, b: TF().kl_div(a, b, reduction="batchmean"), shapes=PAIRS,
                  hyp=H_PAIR, domain=("real", "positive")))
    weighted = dict(l1=(lambda a, b, w: F.l1_loss(a, b, weight=w),
                        lambda a, b, w: (np.abs(a - b) * w).sum() / w.sum(),
                        lambda a, b, w: TF().l1_loss(a, b, weight=w)),
                    huber=(lambda a, b, w: F.huber_loss(a, b, weight=w),
                           lambda a, b, w: np.where(np.abs(a - b) < 1, 0.5 * (a - b) ** 2,
                                                    np.abs(a - b) - 0.5).__mul__(w).mean(),
                           lambda a, b, w: TF().huber_loss(a, b, weight=w)))
    for name, (fn, ref, tfn) in weighted.items():
        ops.append(Op(f"{name}_loss_weight", (f"F.{name}_loss",), fn, ref, tfn,
                      shapes=[s * 3 for s in UNARY1[:-1] if len(s) == 1 and s[0]],
                      hyp=h_unary().map(lambda s: s * 3), domain=("real", "real", "positive"),
                      errors=[err(lambda fn=fn: fn(O32(2), O32(2), O32(3)), ValueError,
                                  f"{name}_loss", "(2,)", "(3,)")]))
    return ops


NN_OPS = [
    # activations, also at extreme inputs (a * 40 and a * 400 saturate exp and tanh)
    Op("F.elu", ("F.elu",), lambda a: F.elu(a, 0.7), lambda a: np_elu(a, 0.7),
       lambda a: TF().elu(a, 0.7), shapes=UNARY, hyp=h_unary(),
       errors=[err(lambda: F.elu(np.ones(2)), TypeError, "elu", "ndarray")]),
    Op("F.elu_extreme", ("F.elu",), lambda a: F.elu(a * 400), lambda a: np_elu(a * 400),
       lambda a: TF().elu(a * 400), shapes=UNARY[:4], hyp=h_unary()),
    Op("F.selu", ("F.selu",), F.selu, lambda a: np_elu(a, SA, SS), lambda a: TF().selu(a),
       shapes=UNARY, hyp=h_unary(), errors=[err(lambda: F.selu([1.0]), TypeError, "selu")]),
    Op("F.celu", ("F.celu",), lambda a: F.celu(a, 1.5), lambda a: np_elu(a, 1.5, 1, 1 / 1.5),
       lambda a: TF().celu(a, 1.5), shapes=UNARY, hyp=h_unary(),
       errors=[err(lambda: F.celu(O32(2, 3), 0.0), ValueError, "celu", "alpha", "(2, 3)")]),
    Op("F.hardtanh", ("F.hardtanh",), lambda a: F.hardtanh(a, -0.9, 1.3),
       lambda a: np.clip(a, -0.9, 1.3), lambda a: TF().hardtanh(a, -0.9, 1.3), shapes=UNARY,
       hyp=h_unary(),
       errors=[err(lambda: F.hardtanh(O32(2, 3), 1.0, -1.0), ValueError, "hardtanh", "max_val",
                   "(2, 3)")]),
    Op("F.relu6", ("F.relu6",), lambda a: F.relu6(a * 4), lambda a: np.clip(a * 4, 0, 6),
       lambda a: TF().relu6(a * 4), shapes=UNARY, hyp=h_unary(),
       errors=[err(lambda: F.relu6(2.0), TypeError, "relu6", "float")]),
    # PyTorch's hardsigmoid backward multiplies by 1/6 rounded to float32 even for float64, so
    # the oracle is its forward formula with an exact gradient
    Op("F.hardsigmoid", ("F.hardsigmoid",), lambda a: F.hardsigmoid(a * 2),
       lambda a: np.clip(a * 2 + 3, 0, 6) / 6, lambda a: TF().relu6(a * 2 + 3) / 6, shapes=UNARY,
       hyp=h_unary(), errors=[err(lambda: F.hardsigmoid(None), TypeError, "hardsigmoid")]),
    Op("F.hardswish", ("F.hardswish",), lambda a: F.hardswish(a * 2),
       lambda a: a * 2 * np.clip(a * 2 + 3, 0, 6) / 6, lambda a: TF().hardswish(a * 2),
       shapes=UNARY, hyp=h_unary(), errors=[err(lambda: F.hardswish(1), TypeError, "hardswish")]),
    Op("F.mish", ("F.mish",), lambda a: F.mish(a * 40),
       lambda a: a * 40 * np.tanh(np.logaddexp(0, a * 40)), lambda a: TF().mish(a * 40),
       shapes=UNARY, hyp=h_unary(), errors=[err(lambda: F.mish("x"), TypeError, "mish", "str")]),
    Op("F.mish_small", ("F.mish",), F.mish, lambda a: a * np.tanh(np.logaddexp(0, a)),
       lambda a: TF().mish(a), shapes=UNARY[:4], hyp=h_unary()),

    # norms and distances, with negative dims and broadcasting
    Op("F.normalize", ("F.normalize",), lambda a: F.normalize(a, dim=-1),
       lambda a: a / np.maximum(np_norm(a, 2, -1), 1e-12), lambda a: TF().normalize(a, dim=-1),
       shapes=UNARY1, hyp=h_unary(1),
       errors=[err(lambda: F.normalize(O32(2, 3), dim=2), ValueError, "normalize", "dim 2",
                   "(2, 3)"),
               err(lambda: F.normalize(O32(2, 3), p=-1), ValueError, "normalize", "-1")]),
    Op("F.normalize_p3_dims", ("F.normalize",), lambda a: F.normalize(a, 3.0, (0, -1)),
       lambda a: a / np.maximum(np_norm(a, 3, (0, -1)), 1e-12),
       lambda a: TF().normalize(a, 3.0, (0, -1)), shapes=UNARY1[2:], hyp=h_unary(2)),
    Op("F.normalize_p1", ("F.normalize",), lambda a: F.normalize(a, 1),
       lambda a: a / np.maximum(np_norm(a, 1, 1), 1e-12), lambda a: TF().normalize(a, 1),
       shapes=UNARY1[2:], hyp=h_unary(2)),
    Op("F.cosine_similarity", ("F.cosine_similarity",),
       lambda a, b: F.cosine_similarity(a, b, -1),
       lambda a, b: (a * b).sum(-1) / (np.maximum(np_norm(a, 2, -1), 1e-8) *
                                       np.maximum(np_norm(b, 2, -1), 1e-8))[..., 0],
       lambda a, b: TF().cosine_similarity(a, b, -1),
       shapes=[((3,), (3,)), ((2, 3), (3,)), ((2, 1, 3), (1, 4, 3)), ((1,), (2, 1))],
       hyp=h_broadcast(min_dims=1),
       errors=[err(lambda: F.cosine_similarity(O32(2, 3), O32(4, 3)), ValueError,
                   "cosine_similarity", "(2, 3)", "(4, 3)"),
               err(lambda: F.cosine_similarity(O32(2, 3), O32(2, 3), 2), ValueError,
                   "cosine_similarity", "dim 2", "(2, 3)")]),
    Op("F.pairwise_distance", ("F.pairwise_distance",), F.pairwise_distance,
       lambda a, b: np_norm(a - b + 1e-6, 2, -1)[..., 0], lambda a, b: TF().pairwise_distance(a, b),
       shapes=[((3,), (3,)), ((2, 3), (3,)), ((2, 1, 3), (1, 4, 3))],
       hyp=h_broadcast(min_dims=1),
       errors=[err(lambda: F.pairwise_distance(O32(2, 3), O32(2, 4)), ValueError,
                   "pairwise_distance", "(2, 3)", "(2, 4)")]),
    Op("F.pairwise_distance_p1", ("F.pairwise_distance",),
       lambda a, b: F.pairwise_distance(a, b, 1.0, keepdim=True),
       lambda a, b: np_norm(a - b + 1e-6, 1, -1),
       lambda a, b: TF().pairwise_distance(a, b, 1.0, keepdim=True),
       shapes=[((3,), (3,)), ((2, 3), (2, 3))], hyp=h_broadcast(min_dims=2)),

    # padding in torch's order (last dim first) and its four modes
    Op("F.pad", ("F.pad",), lambda a: F.pad(a, (1, 2, 0, 1), value=0.5),
       lambda a: np.pad(a, [(0, 0)] * (a.ndim - 2) + [(0, 1), (1, 2)], constant_values=0.5),
       lambda a: TF().pad(a, (1, 2, 0, 1), value=0.5), shapes=UNARY[3:], hyp=h_nd(2, 3),
       errors=[err(lambda: F.pad(O32(2, 3), (1, 1, 1)), ValueError, "pad", "(1, 1, 1)",
                   "(2, 3)"),
               err(lambda: F.pad(O32(2, 3), (1, 1), "mirror"), ValueError, "pad", "'mirror'"),
               err(lambda: F.pad(O32(2, 3), (3, 0), "reflect"), ValueError, "pad", "reflect",
                   "(2, 3)"),
               err(lambda: F.pad(O32(2, 3), (1, 1), "reflect", 0.0), ValueError, "pad",
                   "reflect")]),
    Op("F.pad_crop", ("F.pad",), lambda a: F.pad(a, (-1, 1)),
       lambda a: np.pad(a[..., 1:], [(0, 0)] * (a.ndim - 1) + [(0, 1)]),
       lambda a: TF().pad(a, (-1, 1)), shapes=UNARY1[:-1], hyp=h_unary(1)),
    Op("F.pad_reflect", ("F.pad",), lambda a: F.pad(a, (2, 1), "reflect"),
       lambda a: np.pad(a, [(0, 0)] * (a.ndim - 1) + [(2, 1)], "reflect"),
       lambda a: TF().pad(a, (2, 1), "reflect"), shapes=[((2, 3),), ((2, 1, 4),)],
       hyp=h_nd(2, 3, min_side=3)),
    Op("F.pad_replicate", ("F.pad",), lambda a: F.pad(a, (1, 2, 2, 0), "replicate"),
       lambda a: np.pad(a, [(0, 0)] * (a.ndim - 2) + [(2, 0), (1, 2)], "edge"),
       lambda a: TF().pad(a, (1, 2, 2, 0), "replicate"), shapes=[((1, 1, 1),), ((2, 2, 3),)],
       hyp=h_nd(3, 4)),
    Op("F.pad_circular", ("F.pad",), lambda a: F.pad(a, (1, 2, 2, 1), "circular"),
       lambda a: np.pad(a, [(0, 0)] * (a.ndim - 2) + [(2, 1), (1, 2)], "wrap"),
       lambda a: TF().pad(a, (1, 2, 2, 1), "circular"), shapes=[((1, 2, 2),), ((2, 1, 3, 4),)],
       hyp=h_nd(3, 4, min_side=2)),

    # one_hot (int64, no gradient) and channel dropout (its training mode: tests/test_nn_ext.py)
    Op("F.one_hot", ("F.one_hot",), lambda a: F.one_hot(classes(a)),
       lambda a: np.eye(classes(a).max() + 1, dtype=np.int64)[classes(a)],
       lambda a: TF().one_hot(classes(a)), shapes=UNARY[:-1], hyp=h_unary(), grad=False,
       out_dtype=np.int64,
       errors=[err(lambda: F.one_hot(O32(2)), TypeError, "one_hot", "float32", "(2,)"),
               err(lambda: F.one_hot(mg.tensor([0, 3]), 2), ValueError, "one_hot", "(2,)"),
               err(lambda: F.one_hot(mg.zeros(0, dtype=mg.int64)), ValueError, "one_hot",
                   "(0,)")]),
    Op("F.one_hot_classes", ("F.one_hot",), lambda a: F.one_hot(classes(a), 5),
       lambda a: np.eye(5, dtype=np.int64)[classes(a)], lambda a: TF().one_hot(classes(a), 5),
       shapes=UNARY, hyp=h_unary(), grad=False, out_dtype=np.int64),
    Op("F.dropout2d_identity", ("F.dropout2d",),
       lambda a: F.dropout2d(a, 0.5, training=False) + F.dropout2d(a, 0.0),
       lambda a: a + a, lambda a: TF().dropout2d(a, 0.5, False) + TF().dropout2d(a, 0.0),
       shapes=UNARY[3:], hyp=h_nd(3, 4),
       errors=[err(lambda: F.dropout2d(O32(3)), ValueError, "dropout2d", "(3,)"),
               err(lambda: F.dropout2d(O32(2, 3, 4), 1.5), ValueError, "dropout2d", "1.5")]),

    # unfold / fold: im2col and its adjoint on the sliding-window primitives
    Op("F.unfold", ("F.unfold",), lambda a: F.unfold(a, **UNFOLD),
       lambda a: np_unfold(a, *FOLD_ARGS), lambda a: TF().unfold(a, **UNFOLD),
       shapes=[((1, 1, 1, 3),), ((2, 3, 4, 5),), ((1, 2, 3, 3),)],
       hyp=st.tuples(*(st.integers(lo, 4) for lo in (1, 1, 1, 3))).map(lambda s: (s,)),
       errors=[err(lambda: F.unfold(O32(2, 3), 2), ValueError, "unfold", "(2, 3)"),
               err(lambda: F.unfold(O32(1, 1, 2, 2), 3), ValueError, "unfold", "(1, 1, 2, 2)")]),
    Op("F.unfold_unbatched", ("F.unfold",), lambda a: F.unfold(a, 2),
       lambda a: np_unfold(a[None], (2, 2), (1, 1), (0, 0), (1, 1))[0],
       lambda a: TF().unfold(a, 2), shapes=[((1, 2, 2),), ((2, 3, 4),)],
       hyp=h_nd(3, 3, min_side=2)),
    Op("F.fold", ("F.fold",), lambda a: F.fold(a, (4, 5), **UNFOLD),
       lambda a: np_fold(a, (4, 5), *FOLD_ARGS), lambda a: TF().fold(a, (4, 5), **UNFOLD),
       shapes=[((1, 4, 9),), ((2, 8, 9),)],
       hyp=st.tuples(st.integers(1, 3), st.integers(1, 3)).map(lambda s: ((s[0], 4 * s[1], 9),)),
       errors=[err(lambda: F.fold(O32(1, 4, 8), (4, 5), **UNFOLD), ValueError, "fold",
                   "(1, 4, 8)", "(4, 5)"),
               err(lambda: F.fold(O32(1, 5, 9), (4, 5), **UNFOLD), ValueError, "fold",
                   "(1, 5, 9)")]),
    Op("F.fold_unbatched", ("F.fold",), lambda a: F.fold(a, 3, 2),
       lambda a: np_fold(a[None], (3, 3), (2, 2), (1, 1), (0, 0), (1, 1))[0],
       lambda a: TF().fold(a, 3, 2), shapes=[((4, 4),), ((8, 4),)],
       hyp=st.integers(1, 3).map(lambda c: ((4 * c, 4),))),
] + _loss_ops()
