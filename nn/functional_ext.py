"""More of torch.nn.functional as composites over Tensor methods: piecewise activations, padding,
distances, regression and divergence losses, one-hot, channel dropout and unfold/fold; nn.functional
re-exports them.

Nothing here has a backward pass or touches arrays: every gradient comes from the engine, and each
op's gradient matches PyTorch's at the kinks too (a `where` picks the side PyTorch picks). Each
public op runs inside `mg.scope(name)`. `inplace=` is accepted for torch's signatures; the result
is always a new tensor, since an in-place update would break the recorded graph.

Size budget: 255 code lines
"""
import math

import minigrad as mg
from minigrad import Tensor
from minigrad.backend import xp
from minigrad.functions import sliding_window_add

from .conv import _check_tensor, _pair
from .functional import _check_loss, _dropout, _reduce, _softplus

_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _elu(x, alpha, scale=1.0, input_scale=1.0):
    """scale * (x where x > 0, else alpha (exp(input_scale x) - 1)); exp sees only x <= 0."""
    positive = x > 0
    negative = alpha * ((mg.where(positive, 0.0, x) * input_scale).exp() - 1)
    y = mg.where(positive, x, negative)
    return y * scale if scale != 1.0 else y


@mg.scope("elu")
def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, else alpha (exp(x) - 1)."""
    _check_tensor(input, "input", "elu")
    return _elu(input, alpha)


@mg.scope("selu")
def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants of Klambauer et al. (2017)."""
    _check_tensor(input, "input", "selu")
    return _elu(input, _SELU_ALPHA, _SELU_SCALE)


@mg.scope("celu")
def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, else alpha (exp(x / alpha) - 1)."""
    _check_tensor(input, "input", "celu")
    if alpha == 0:
        raise ValueError(f"celu: alpha must not be 0 (input {input.shape})")
    return _elu(input, alpha, input_scale=1 / alpha)


def _clip(x, low, high):
    """x limited to [low, high]; the gradient is 1 strictly inside and 0 elsewhere (also on the
    ends), as PyTorch has it for hardtanh, relu6, hardsigmoid and hardswish."""
    inside = (x > low) & (x < high)
    return mg.where(inside, x, x.detach().maximum(low).minimum(high))


@mg.scope("hardtanh")
def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """x limited to [min_val, max_val]."""
    _check_tensor(input, "input", "hardtanh")
    if max_val < min_val:
        raise ValueError(f"hardtanh: max_val {max_val} is below min_val {min_val} (input "
                         f"{input.shape})")
    return _clip(input, min_val, max_val)


@mg.scope("relu6")
def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6)."""
    _check_tensor(input, "input", "relu6")
    return _clip(input, 0.0, 6.0)


@mg.scope("hardsigmoid")
def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x + 3, 0), 6) / 6: 0 below -3, 1 above 3, linear between."""
    _check_tensor(input, "input", "hardsigmoid")
    return _clip(input + 3, 0.0, 6.0) / 6


@mg.scope("hardswish")
def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * min(max(x + 3, 0), 6) / 6 (Howard et al., MobileNetV3)."""
    _check_tensor(input, "input", "hardswish")
    return input * _clip(input + 3, 0.0, 6.0) / 6


@mg.scope("mish")
def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x tanh(softplus(x)), with nn.functional's stable softplus (exact in both tails)."""
    _check_tensor(input, "input", "mish")
    return input * _softplus(input).tanh()


def _norm(x, p, dim, keepdim, op):
    """The p-norm over `dim`, with gradient 0 (not nan) where the norm is 0, as PyTorch's."""
    if p == math.inf:
        return x.abs().amax(() if dim is None else dim, keepdim)
    if not p > 0:
        raise ValueError(f"{op}: p must be positive or inf, got {p} (input {x.shape})")
    s = (x * x if p == 2 else x.abs() if p == 1 else x.abs() ** p).sum(dim, keepdim)
    if p == 1:
        return s
    nonzero = s.detach() > 0
    return mg.where(nonzero, mg.where(nonzero, s, 1.0) ** (1 / p), 0.0)


def _dims(dim, x, op):
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if not all(-max(x.ndim, 1) <= d < max(x.ndim, 1) for d in dims):
        raise ValueError(f"{op}: dim {dim} is out of range for input of shape {x.shape}")
    return dims if x.ndim else None


@mg.scope("normalize")
def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out=None) -> Tensor:
    """x / max(||x||_p, eps) along `dim` (an int or a tuple)."""
    _check_tensor(input, "input", "normalize")
    if out is not None:
        raise TypeError("normalize: out= is not supported; use the returned tensor")
    dims = _dims(dim, input, "normalize")
    return input / _norm(input, p, dims, True, "normalize").maximum(eps)


def _broadcast_pair(x1, x2, op):
    """The shape x1 and x2 broadcast to."""
    _check_tensor(x1, "x1", op)
    _check_tensor(x2, "x2", op)
    try:
        return (mg.zeros(x1.shape) + mg.zeros(x2.shape)).shape
    except ValueError:
        raise ValueError(f"{op}: x1 {x1.shape} and x2 {x2.shape} cannot be broadcast "
                         "together") from None


@mg.scope("cosine_similarity")
def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum((x1 / ||x1||) (x2 / ||x2||)) along `dim`, each norm at least eps. As in PyTorch the
    floor is applied outside the graph, so the gradient flows through the norm unclamped."""
    shape = _broadcast_pair(x1, x2, "cosine_similarity")
    dims = _dims(dim, mg.zeros(shape), "cosine_similarity")
    x1, x2 = x1.expand(shape), x2.expand(shape)
    n1, n2 = (_norm(x, 2, dims, True, "cosine_similarity") for x in (x1, x2))
    n1, n2 = (n + (n.detach().maximum(eps) - n.detach()) for n in (n1, n2))
    return ((x1 / n1) * (x2 / n2)).sum(dims)


@mg.scope("pairwise_distance")
def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p along the last dim."""
    _broadcast_pair(x1, x2, "pairwise_distance")
    d = x1 - x2 + eps
    return _norm(d, p, (-1,) if d.ndim else None, keepdim, "pairwise_distance")


@mg.scope("pad")
def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last len(pad) // 2 dims, pad given as (left, right) of the last dim first, then
    of the one before, as torch.nn.functional.pad. Modes: 'constant' (value, default 0; negative
    widths crop), 'reflect' (mirror without the edge), 'replicate' (repeat the edge) and
    'circular' (wrap around)."""
    _check_tensor(input, "input", "pad")
    pad = tuple(pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim or not all(isinstance(w, int) for w in pad):
        raise ValueError(f"pad: pad {pad} must hold an even number of ints, at most 2 per dim of "
                         f"the input {input.shape}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', "
                         f"got {mode!r}")
    if mode != "constant" and value is not None:
        raise ValueError(f"pad: mode {mode!r} takes no value (input {input.shape})")
    # (before, after) per dim, first dim first: pad lists the last dim's pair first
    widths = [(0, 0)] * (input.ndim - len(pad) // 2) + list(zip(pad[-2::-2], pad[::-2]))
    if mode == "constant":
        crop = tuple(slice(-min(l, 0), n + min(r, 0)) for (l, r), n in zip(widths, input.shape))
        if any(n + min(l, 0) + min(r, 0) < 0 for (l, r), n in zip(widths, input.shape)):
            raise ValueError(f"pad: pad {pad} crops more than the input {input.shape} holds")
        x = input[crop] if any(min(w) < 0 for w in widths) else input
        return x.pad([(max(l, 0), max(r, 0)) for l, r in widths], 0.0 if value is None else value)
    x = input
    for axis, ((left, right), n) in enumerate(zip(widths, input.shape)):
        if left or right:
            x = x[(slice(None),) * axis + (_pad_index(mode, left, right, n, pad, input),)]
    return x


def _pad_index(mode, left, right, n, pad, x):
    """The source index of every padded position along one axis of length n."""
    limit = {"reflect": n - 1, "replicate": math.inf if n else -1, "circular": n}[mode]
    if min(left, right) < 0 or max(left, right) > limit:
        raise ValueError(f"pad: {mode} padding {pad} needs widths in [0, {limit}] for input "
                         f"{x.shape}")
    positions = range(-left, n + right)
    if mode == "reflect":
        return [n - 1 - abs(n - 1 - abs(i)) for i in positions]
    if mode == "replicate":
        return [min(max(i, 0), n - 1) for i in positions]
    return [i % n for i in positions]


@mg.scope("one_hot")
def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding of integer classes in a new last dim of size num_classes
    (max + 1 when -1)."""
    _check_tensor(tensor, "tensor", "one_hot")
    if tensor.dtype.kind not in "iu":
        raise TypeError(f"one_hot: tensor must hold integer class indices, got {tensor.dtype} "
                        f"(shape {tensor.shape})")
    if num_classes == -1:
        if not tensor.size:
            raise ValueError(f"one_hot: cannot infer num_classes from an empty tensor "
                             f"{tensor.shape}; pass num_classes")
        num_classes = int(tensor.max().item()) + 1
    return mg.one_hot(tensor, num_classes, dtype=mg.int64)


@mg.scope("dropout2d")
def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, ...) input with probability p and scale the rest by
    1 / (1 - p). A 3-D input is read as (N, C, L), as PyTorch does today."""
    _check_tensor(input, "input", "dropout2d")
    if input.ndim < 2:
        raise ValueError(f"dropout2d: expected input (N, C, H, W) or (N, C, L), got shape "
                         f"{input.shape}")
    return _dropout(input, p, training, "dropout2d", input.shape[:2] + (1,) * (input.ndim - 2))


def _weighted(loss, weight, reduction, op, weight_mean):
    if weight is None:
        return _reduce(loss, reduction)
    if not isinstance(weight, Tensor) or weight.shape != loss.shape:
        raise ValueError(f"{op}: weight must have the input's shape {loss.shape}, got "
                         f"{getattr(weight, 'shape', type(weight).__name__)}")
    loss = loss * weight
    return loss.sum() / weight.sum() if reduction == "mean" and weight_mean else \
        _reduce(loss, reduction)


@mg.scope("l1_loss")
def l1_loss(input: Tensor, target: Tensor, *, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """|input - target|, reduced; with a weight, 'mean' is sum(w loss) / sum(w) as in PyTorch."""
    _check_loss(input, target, reduction, "l1_loss")
    return _weighted((input - target).abs(), weight, reduction, "l1_loss", True)


@mg.scope("smooth_l1_loss")
def smooth_l1_loss(input: Tensor, target: Tensor, *, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta, for d = input - target."""
    _check_loss(input, target, reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta} (input {input.shape})")
    d = input - target
    return _reduce(_huber(d, beta) / beta if beta else d.abs(), reduction)


def _huber(d, delta):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), written with m = min(|d|, delta)
    as 0.5 m^2 + delta (|d| - m) rather than with a mask of the data, so that it exports."""
    a = d.abs()
    m = a.minimum(delta)
    return 0.5 * m * m + delta * (a - m)


@mg.scope("huber_loss")
def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), for d = input - target."""
    _check_loss(input, target, reduction, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta} (input {input.shape})")
    return _weighted(_huber(input - target, delta), weight, reduction, "huber_loss", False)


@mg.scope("kl_div")
def kl_div(input: Tensor, target: Tensor, *, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """target (log target - input) for log-probabilities `input`, 0 where target is 0;
    log_target=True takes the target as log-probabilities. reduction 'batchmean' divides the sum
    by the batch size (the true KL divergence); 'mean' divides by the number of elements."""
    _check_loss(input, target, reduction, "kl_div", ("batchmean", "mean", "sum", "none"))
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # log of at least the smallest normal number: 0 log 0 = 0, and no data mask (exports)
        loss = target * (target.maximum(float(xp.finfo(target.dtype).tiny)).log() - input)
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


def _blocks(x_shape, spatial, kernel_size, dilation, padding, stride, op):
    """The four pairs and the number of blocks (OH, OW) for an input of spatial size (H, W)."""
    k, d = _pair(kernel_size, "kernel_size", op), _pair(dilation, "dilation", op)
    p, s = _pair(padding, "padding", op, low=0), _pair(stride, "stride", op)
    blocks = tuple((n + 2 * pi - di * (ki - 1) - 1) // si + 1
                   for n, ki, di, pi, si in zip(spatial, k, d, p, s))
    if min(blocks) < 1:
        raise ValueError(f"{op}: kernel_size {k} with dilation {d} and padding {p} does not fit "
                         f"the spatial size {tuple(spatial)} (input {x_shape})")
    return k, d, p, s, blocks


@mg.scope("unfold")
def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sliding blocks of (N, C, H, W) as columns: (N, C*KH*KW, L), L the number of blocks
    (im2col); (C, H, W) gives (C*KH*KW, L)."""
    _check_tensor(input, "input", "unfold", (3, 4), "(N, C, H, W) or (C, H, W)")
    x = input if input.ndim == 4 else input.unsqueeze(0)
    k, d, p, s, (OH, OW) = _blocks(input.shape, x.shape[2:], kernel_size, dilation, padding,
                                   stride, "unfold")
    if p != (0, 0):
        x = x.pad(((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    N, C = x.shape[:2]
    win = x.sliding_window(k, (2, 3), s, d)                            # (N, C, OH, OW, KH, KW)
    y = win.permute(0, 1, 4, 5, 2, 3).reshape(N, C * k[0] * k[1], OH * OW)
    return y if input.ndim == 4 else y.reshape(y.shape[1:])


@mg.scope("fold")
def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """The adjoint of unfold: columns (N, C*KH*KW, L) summed back into (N, C, H, W) at their
    blocks, overlaps adding up (col2im); (C*KH*KW, L) gives (C, H, W)."""
    _check_tensor(input, "input", "fold", (2, 3), "(N, C*KH*KW, L) or (C*KH*KW, L)")
    x = input if input.ndim == 3 else input.unsqueeze(0)
    size = _pair(output_size, "output_size", "fold")
    k, d, p, s, (OH, OW) = _blocks(input.shape, size, kernel_size, dilation, padding, stride,
                                   "fold")
    N, CK, L = x.shape
    if CK % (k[0] * k[1]) or L != OH * OW:
        raise ValueError(f"fold: input {input.shape} must be (N, C*{k[0]}*{k[1]}, {OH * OW}) "
                         f"for output_size {size}, kernel_size {k}, dilation {d}, padding {p}, "
                         f"stride {s}")
    C = CK // (k[0] * k[1])
    win = x.reshape(N, C, k[0], k[1], OH, OW).permute(0, 1, 4, 5, 2, 3)
    H, W = size[0] + 2 * p[0], size[1] + 2 * p[1]
    y = sliding_window_add(win, (N, C, H, W), (2, 3), s, d)[:, :, p[0]:H - p[0], p[1]:W - p[1]]
    return y if input.ndim == 3 else y.reshape(y.shape[1:])
