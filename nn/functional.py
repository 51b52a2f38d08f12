"""Composite ops with torch.nn.functional's names and NCHW layout, each a short composition of
Tensor operations.

Nothing here has a backward pass or touches arrays: every gradient comes from the engine. Each
public op runs inside `mg.scope(name)`, so a graph picture draws it as one box. Arguments are
checked first and errors name the shapes involved.
"""
import math
import operator

import minigrad as mg
from minigrad import Tensor

_REDUCTIONS = ("mean", "sum", "none")


def _check_tensor(x, name, op, ndim=None, layout=""):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    if ndim is not None and x.ndim not in ((ndim,) if isinstance(ndim, int) else ndim):
        raise ValueError(f"{op}: expected {name} of {ndim} dimensions {layout}, got shape {x.shape}")


def _pair(value, name, op, low=1):
    """An int or a pair of ints -> a pair, each at least `low`."""
    try:
        pair = tuple(map(operator.index, value)) if isinstance(value, (tuple, list)) else \
            (operator.index(value),) * 2
    except TypeError:
        pair = ()
    if len(pair) != 2 or min(pair) < low:
        raise ValueError(f"{op}: {name} must be an int or a pair of ints >= {low}, got {value!r}")
    return pair


def _check_reduction(reduction, op):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss, reduction):
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def _same_shape(input, target, op):
    _check_tensor(input, "input", op)
    _check_tensor(target, "target", op)
    if input.shape != target.shape:
        raise ValueError(f"{op}: target has shape {target.shape} but input has shape {input.shape}")


# --- convolution -------------------------------------------------------------------------------

def _conv_padding(padding, kernel, dilation, stride, op):
    """padding -> ((top, bottom), (left, right)); 'same' pads the extra pixel at the end, as
    PyTorch does when the total is odd."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        if stride != (1, 1):
            raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be 'valid', 'same', an int or a pair, got {padding!r}")
    ph, pw = _pair(padding, "padding", op, low=0)
    return (ph, ph), (pw, pw)


@mg.scope("conv2d")
def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """2-D cross-correlation, as torch.nn.functional.conv2d.

    Parameters
    ----------
    x : (N, C, H, W)
    weight : (OC, C // groups, KH, KW)
    bias : (OC,) or None
    stride, dilation : int or (int, int)
    padding : int, (int, int), 'valid' or 'same' (stride 1 only; an odd total puts the extra
        row and column at the bottom and right)
    groups : splits the channels into groups convolved separately; groups == C is depthwise

    Returns
    -------
    (N, OC, OH, OW) with OH = (H + pad_h - dilation_h * (KH - 1) - 1) // stride_h + 1
    """
    _check_tensor(x, "input", "conv2d", 4, "(N, C, H, W)")
    _check_tensor(weight, "weight", "conv2d", 4, "(OC, C // groups, KH, KW)")
    (N, C, H, W), (OC, Cg, KH, KW) = x.shape, weight.shape
    shapes = f"(input {x.shape}, weight {weight.shape})"
    if not isinstance(groups, int) or groups < 1:
        raise ValueError(f"conv2d: groups must be a positive int, got {groups!r}")
    if C != Cg * groups:
        raise ValueError(f"conv2d: input has {C} channels, weight expects {Cg * groups} {shapes}")
    if OC % groups:
        raise ValueError(f"conv2d: {OC} output channels do not split into {groups} groups {shapes}")
    if bias is not None and (not isinstance(bias, Tensor) or bias.shape != (OC,)):
        raise ValueError(f"conv2d: bias must have shape ({OC},), got "
                         f"{getattr(bias, 'shape', type(bias).__name__)} {shapes}")
    stride, dilation = _pair(stride, "stride", "conv2d"), _pair(dilation, "dilation", "conv2d")
    (top, bottom), (left, right) = _conv_padding(padding, (KH, KW), dilation, stride, "conv2d")
    if any(d * (k - 1) + 1 > n for k, d, n in
           zip((KH, KW), dilation, (H + top + bottom, W + left + right))):
        raise ValueError(f"conv2d: kernel {(KH, KW)} with dilation {dilation} is larger than the "
                         f"padded input {(H + top + bottom, W + left + right)} {shapes}")
    if top or bottom or left or right:
        x = x.pad(((0, 0), (0, 0), (top, bottom), (left, right)))
    if (KH, KW) == (1, 1) and stride == (1, 1):
        y = _conv2d_1x1(x, weight, groups)
    else:
        y = _conv2d_im2col(x, weight, stride, dilation, groups)
    return y if bias is None else y + bias.reshape(1, OC, 1, 1)


def _conv2d_im2col(x, w, stride, dilation, groups):
    """Windows laid out as columns (C*KH*KW, N*OH*OW), then one matmul per group -> (N, OC, OH, OW).
    The columns are ordered so that the one big copy reads rows of the input contiguously."""
    N, C, OC, (KH, KW), G = x.shape[0], x.shape[1], w.shape[0], w.shape[2:], groups
    win = x.sliding_window((KH, KW), (2, 3), stride, dilation)          # (N, C, OH, OW, KH, KW)
    OH, OW = win.shape[2:4]
    if G == 1:
        cols = win.permute(1, 4, 5, 0, 2, 3).reshape(C * KH * KW, N * OH * OW)
        y = w.reshape(OC, C * KH * KW) @ cols                              # (OC, N*OH*OW)
    else:
        win = win.reshape(N, G, C // G, OH, OW, KH, KW)
        cols = win.permute(1, 2, 5, 6, 0, 3, 4).reshape(G, C // G * KH * KW, N * OH * OW)
        y = w.reshape(G, OC // G, C // G * KH * KW) @ cols                # (G, OC/G, N*OH*OW)
    return y.reshape(OC, N, OH, OW).permute(1, 0, 2, 3)


def _conv2d_1x1(x, w, groups):
    """A 1x1, stride-1 convolution is a matmul over channels: (G, OC/G, C/G) @ (N, G, C/G, H*W)."""
    (N, C, H, W), OC, G = x.shape, w.shape[0], groups
    y = w.reshape(G, OC // G, C // G) @ x.reshape(N, G, C // G, H * W)    # (N, G, OC/G, H*W)
    return y.reshape(N, OC, H, W)


# --- pooling -----------------------------------------------------------------------------------

def _pool_args(x, kernel_size, stride, padding, dilation, op):
    _check_tensor(x, "input", op, 4, "(N, C, H, W)")
    kernel = _pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None else _pair(stride, "stride", op)
    padding, dilation = _pair(padding, "padding", op, low=0), _pair(dilation, "dilation", op)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel {kernel}")
    for n, p, k, d in zip(x.shape[2:], padding, kernel, dilation):
        if d * (k - 1) + 1 > n + 2 * p:
            raise ValueError(f"{op}: kernel {kernel} with dilation {dilation} is larger than the "
                             f"padded input {(x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1])}"
                             f" (input {x.shape})")
    return kernel, stride, padding, dilation


def _windows(x, kernel, stride, dilation, tile=True):
    """x's pooling windows and the two axes that index inside a window. Windows that tile the
    input (stride == kernel, no dilation) come from a reshape, which needs no strided scatter in
    the backward pass."""
    (N, C, H, W), (KH, KW) = x.shape, kernel
    if tile and stride == kernel and dilation == (1, 1):
        OH, OW = H // KH, W // KW
        if (OH * KH, OW * KW) != (H, W):
            x = x[:, :, :OH * KH, :OW * KW]          # the rows and columns PyTorch drops too
        return x.reshape(N, C, OH, KH, OW, KW), (3, 5)
    return x.sliding_window(kernel, (2, 3), stride, dilation), (4, 5)


@mg.scope("max_pool2d")
def max_pool2d(x: Tensor, kernel_size, stride=None, padding=0, dilation=1) -> Tensor:
    """(N, C, H, W) -> (N, C, OH, OW), the maximum of each window; padding adds -inf, and stride
    defaults to kernel_size (as torch.nn.functional.max_pool2d). Ties share the gradient."""
    kernel, stride, (ph, pw), dilation = _pool_args(x, kernel_size, stride, padding, dilation,
                                                    "max_pool2d")
    if ph or pw:
        x = x.pad(((0, 0), (0, 0), (ph, ph), (pw, pw)), value=-math.inf)
    win, axes = _windows(x, kernel, stride, dilation)
    return win.max(axes)


@mg.scope("avg_pool2d")
def avg_pool2d(x: Tensor, kernel_size, stride=None, padding=0, *,
               count_include_pad: bool = True) -> Tensor:
    """(N, C, H, W) -> (N, C, OH, OW), the mean of each window. Padding adds zeros, which count in
    the mean unless count_include_pad=False (as torch.nn.functional.avg_pool2d)."""
    kernel, stride, (ph, pw), _ = _pool_args(x, kernel_size, stride, padding, 1, "avg_pool2d")
    if ph or pw:
        x = x.pad(((0, 0), (0, 0), (ph, ph), (pw, pw)))
    win, axes = _windows(x, kernel, stride, (1, 1))
    if count_include_pad or not (ph or pw):
        return win.mean(axes)
    inside = mg.zeros((1, 1) + x.shape[2:], dtype=x.dtype)         # 1 inside, 0 on the padding
    inside[:, :, ph:x.shape[2] - ph, pw:x.shape[3] - pw] = 1
    return win.sum(axes) / inside.sliding_window(kernel, (2, 3), stride).sum((4, 5))


def _bins(n, m):
    """PyTorch's adaptive pooling as an (m, n) averaging matrix: row i averages
    [floor(i*n/m), ceil((i+1)*n/m))."""
    rows = []
    for i in range(m):
        lo, hi = i * n // m, -(-(i + 1) * n // m)
        rows.append([1.0 / (hi - lo) if lo <= j < hi else 0.0 for j in range(n)])
    return rows


@mg.scope("adaptive_avg_pool2d")
def adaptive_avg_pool2d(x: Tensor, output_size) -> Tensor:
    """(N, C, H, W) -> (N, C, *output_size) by averaging PyTorch's adaptive bins; output_size 1
    is global average pooling, and None keeps that input size."""
    _check_tensor(x, "input", "adaptive_avg_pool2d", 4, "(N, C, H, W)")
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    H, W = x.shape[2:]
    sizes = tuple(n if s is None else s for s, n in zip(sizes, (H, W)))
    OH, OW = _pair(sizes, "output_size", "adaptive_avg_pool2d")
    if H % OH == 0 and W % OW == 0:
        win, axes = _windows(x, (H // OH, W // OW), (H // OH, W // OW), (1, 1))
        return win.mean(axes)
    return _adaptive_matmul(x, OH, OW)


def _adaptive_matmul(x, OH, OW):
    """Bins that overlap or differ in size: (OH, H) @ (N, C, H, W) @ (W, OW)."""
    rows = mg.tensor(_bins(x.shape[2], OH), dtype=x.dtype)
    cols = mg.tensor(_bins(x.shape[3], OW), dtype=x.dtype)
    return rows @ x @ cols.T


# --- dense layers and activations --------------------------------------------------------------

@mg.scope("linear")
def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """(..., I) @ (O, I).T + (O,) -> (..., O), weight laid out as in PyTorch."""
    _check_tensor(x, "input", "linear")
    _check_tensor(weight, "weight", "linear", 2, "(out_features, in_features)")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input {x.shape} and weight {weight.shape} disagree on the inner "
                         "size (weight is (out_features, in_features))")
    if bias is not None and (not isinstance(bias, Tensor) or bias.shape != weight.shape[:1]):
        raise ValueError(f"linear: bias must have shape {weight.shape[:1]}, got "
                         f"{getattr(bias, 'shape', type(bias).__name__)} (weight {weight.shape})")
    if x.ndim > 2:
        y = (x.reshape(-1, x.shape[-1]) @ weight.T).reshape(x.shape[:-1] + weight.shape[:1])
    else:
        y = x @ weight.T
    return y if bias is None else y + bias


@mg.scope("relu")
def relu(x: Tensor) -> Tensor:
    return x.relu()


@mg.scope("leaky_relu")
def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else negative_slope * x."""
    return mg.where(x > 0, x, x * negative_slope)


@mg.scope("sigmoid")
def sigmoid(x: Tensor) -> Tensor:
    return x.sigmoid()


@mg.scope("tanh")
def tanh(x: Tensor) -> Tensor:
    return x.tanh()


@mg.scope("softmax")
def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along `dim`, shifted by the maximum so large logits stay finite."""
    return x.softmax(dim)


@mg.scope("log_softmax")
def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """x - logsumexp(x) along `dim`, computed stably."""
    return x.log_softmax(dim)


# --- normalisation and dropout -----------------------------------------------------------------

@mg.scope("batch_norm")
def batch_norm(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel of (N, C) or (N, C, ...) input, as torch.nn.functional.batch_norm.

    Training normalises with the batch mean and biased variance, and (when running stats are
    given) updates them in place: running = (1 - momentum) * running + momentum * batch, with the
    unbiased variance. Evaluation normalises with the running statistics.
    """
    _check_tensor(x, "input", "batch_norm")
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected input (N, C) or (N, C, ...), got shape {x.shape}")
    C = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and (not isinstance(t, Tensor) or t.shape != (C,)):
            raise ValueError(f"batch_norm: {name} must have shape ({C},), got "
                             f"{getattr(t, 'shape', type(t).__name__)} (input {x.shape})")
    if (running_mean is None) != (running_var is None) or (running_mean is None and not training):
        raise ValueError("batch_norm: evaluation needs both running_mean and running_var")
    axes, shape = (0,) + tuple(range(2, x.ndim)), (1, C) + (1,) * (x.ndim - 2)
    if training:
        count = x.size // C
        if count < 2:
            raise ValueError(f"batch_norm: training needs more than 1 value per channel, got input "
                             f"of shape {x.shape}")
        mean = x.mean(axes, keepdims=True)
        d = x - mean
        var = (d * d).mean(axes, keepdims=True)
        if running_mean is not None:
            with mg.no_grad():
                running_mean.mul_(1 - momentum).add_(mean.reshape(C) * momentum)
                running_var.mul_(1 - momentum).add_(var.reshape(C) * (momentum * count / (count - 1)))
    else:
        d, var = x - running_mean.reshape(shape), running_var.reshape(shape)
    scale = 1 / (var + eps).sqrt()
    if weight is not None:
        scale = scale * weight.reshape(shape)
    y = d * scale
    return y if bias is None else y + bias.reshape(shape)


@mg.scope("dropout")
def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (inverted dropout),
    drawing from minigrad's generator; the identity when not training."""
    _check_tensor(x, "input", "dropout")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be between 0 and 1, got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    keep = (mg.rand_like(x) >= p).astype(x.dtype) * (1.0 / (1.0 - p))     # a constant mask
    return x * keep


# --- losses ------------------------------------------------------------------------------------

def _nll(logp, target, reduction, label_smoothing, op):
    """-sum(q * logp) over the class axis, with q the (smoothed) target distribution."""
    _check_tensor(logp, "input", op)
    _check_reduction(reduction, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    target = target if isinstance(target, Tensor) else mg.tensor(target)
    if logp.ndim == 0:
        raise ValueError(f"{op}: input must be (C,) or (N, C, ...), got shape {logp.shape}")
    axis = 1 if logp.ndim > 1 else 0
    C = logp.shape[axis]
    if target.dtype.kind == "f":                        # class probabilities, shaped like input
        if target.shape != logp.shape:
            raise ValueError(f"{op}: probability target has shape {target.shape}, expected the "
                             f"input's shape {logp.shape}")
        q = target * (1 - label_smoothing) + label_smoothing / C if label_smoothing else target
        return _reduce(-(logp * q).sum(axis), reduction)
    expected = logp.shape[:1] + logp.shape[2:] if axis else ()
    if target.dtype.kind not in "iu" or target.shape != expected:
        raise ValueError(f"{op}: target has shape {target.shape} ({target.dtype}), expected integer "
                         f"class indices of shape {expected} for input {logp.shape}")
    if target.size and (bool((target < 0).any()) or bool((target >= C).any())):
        raise ValueError(f"{op}: target values must lie in [0, {C}) for input {logp.shape}")
    hit = target.unsqueeze(axis) == mg.arange(C).reshape((C,) + (1,) * (target.ndim - axis))
    loss = -mg.where(hit, logp, 0.0).sum(axis)
    if label_smoothing:
        loss = loss * (1 - label_smoothing) - logp.sum(axis) * (label_smoothing / C)
    return _reduce(loss, reduction)


@mg.scope("cross_entropy")
def cross_entropy(input: Tensor, target, *, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits, as torch.nn.functional.cross_entropy.

    Parameters
    ----------
    input : logits (N, C), (N, C, d1, ...) or unbatched (C,)
    target : integer class indices (N,), (N, d1, ...) or (), or class probabilities shaped like
        input
    reduction : 'mean' (over all losses), 'sum' or 'none' (one loss per sample and position)
    label_smoothing : mixes the target with the uniform distribution: q = (1 - s) q + s / C
    """
    _check_tensor(input, "input", "cross_entropy")
    logp = input.log_softmax(1 if input.ndim > 1 else 0) if input.ndim else input
    return _nll(logp, target, reduction, label_smoothing, "cross_entropy")


@mg.scope("nll_loss")
def nll_loss(input: Tensor, target, *, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities (N, C, ...) at integer class targets (N, ...)."""
    return _nll(input, target, reduction, 0.0, "nll_loss")


def _clamped_log(c):
    """log(c) clamped below at -100, as PyTorch's binary_cross_entropy does (c is a constant >= 0;
    the floor inside keeps log(0) from being evaluated)."""
    return c.maximum(math.exp(-101)).log().maximum(-100.0)


@mg.scope("binary_cross_entropy")
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, *,
                         reduction: str = "mean") -> Tensor:
    """-(t log p + (1 - t) log(1 - p)) for probabilities p, logs clamped at -100 like PyTorch.

    The gradient in p is PyTorch's (p - t) / max(p (1 - p), 1e-12): the plain derivative where
    p (1 - p) >= 1e-12, and (p - t) / 1e-12 at the saturated ends, where the clamped logs are
    flat; a zero-valued quadratic term supplies that slope there.
    """
    _same_shape(input, target, "binary_cross_entropy")
    _check_reduction(reduction, "binary_cross_entropy")
    if input.size and (bool((input < 0).any()) or bool((input > 1).any())):
        raise ValueError(f"binary_cross_entropy: input must hold probabilities in [0, 1] (shape "
                         f"{input.shape}); for logits use binary_cross_entropy_with_logits")
    p, t, pc, eps = input, target, input.detach(), 1e-12
    plain = pc * (1 - pc) >= eps
    ps = mg.where(plain, p, 0.5)                                     # keeps log away from 0
    inner = -(t * ps.log() + (1 - t) * (1 - ps).log())
    slope = (p - t.detach()) * (p - t.detach()) / (2 * eps)        # d/dp = (p - t) / eps
    edge = -(t * _clamped_log(pc) + (1 - t) * _clamped_log(1 - pc)) + (slope - slope.detach())
    loss = mg.where(plain, inner, edge)
    return _reduce(loss if weight is None else loss * weight, reduction)


@mg.scope("binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     *, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Binary cross-entropy of logits x: (1 - t) x + (1 + (pos_weight - 1) t) softplus(-x), with
    softplus(-x) = max(-x, 0) + log(1 + exp(-|x|)) so that no exp overflows."""
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    x, t = input, target
    softplus_neg = (-x).maximum(0.0) + ((-x.abs()).exp() + 1).log()
    if pos_weight is not None:
        softplus_neg = softplus_neg * ((pos_weight - 1) * t + 1)
    loss = (1 - t) * x + softplus_neg
    return _reduce(loss if weight is None else loss * weight, reduction)


@mg.scope("mse_loss")
def mse_loss(input: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:
    """(input - target) ** 2, reduced."""
    _same_shape(input, target, "mse_loss")
    _check_reduction(reduction, "mse_loss")
    d = input - target
    return _reduce(d * d, reduction)
