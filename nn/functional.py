"""Composite ops with torch.nn.functional's names and NCHW layout, each a short composition of
Tensor operations; convolution and pooling live in nn/conv.py and are re-exported here.

Nothing here has a backward pass or touches arrays: every gradient comes from the engine. Each
public op runs inside `mg.scope(name)`, so a graph picture draws it as one box. Arguments are
checked first and errors name the shapes involved.
"""
import math

import minigrad as mg
from minigrad import Tensor

from .conv import _check_tensor, adaptive_avg_pool2d, avg_pool2d, conv2d, max_pool2d  # noqa: F401

# --- attention, normalisation and upsampling (nn/attention.py, nn/resample.py) ---
from .attention import (_check_affine, gelu, group_norm, layer_norm,  # noqa: F401
                        scaled_dot_product_attention, silu)
from .resample import conv_transpose2d, interpolate  # noqa: F401

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction, op, allowed=_REDUCTIONS):
    if reduction not in allowed:
        raise ValueError(f"{op}: reduction must be {', '.join(map(repr, allowed[:-1]))} or "
                         f"{allowed[-1]!r}, got {reduction!r}")


def _reduce(loss, reduction):
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def _check_loss(input, target, reduction, op, allowed=_REDUCTIONS):
    """A loss's arguments: input and target tensors of one shape, and a known reduction."""
    _check_tensor(input, "input", op)
    _check_tensor(target, "target", op)
    if input.shape != target.shape:
        raise ValueError(f"{op}: target has shape {target.shape} but input has shape {input.shape}")
    _check_reduction(reduction, op, allowed)


@mg.scope("linear")
def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """(..., I) @ (O, I).T + (O,) -> (..., O), weight laid out as in PyTorch."""
    _check_tensor(x, "input", "linear")
    _check_tensor(weight, "weight", "linear", 2, "(out_features, in_features)")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input {x.shape} and weight {weight.shape} disagree on the inner "
                         "size (weight is (out_features, in_features))")
    _check_affine(bias, "bias", weight.shape[:1], "linear", weight, "weight")
    if x.ndim > 2:
        y = (x.reshape(-1, x.shape[-1]) @ weight.T).reshape(x.shape[:-1] + weight.shape[:1])
    else:
        y = x @ weight.T
    return y if bias is None else y + bias


@mg.scope("relu")
def relu(x: Tensor) -> Tensor:
    """max(x, 0) as torch.relu (Tensor.relu): gradient 0 at x == 0, nan and -0.0 pass through."""
    _check_tensor(x, "input", "relu")
    return x.relu()


@mg.scope("leaky_relu")
def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else negative_slope * x: x times a constant per-element slope."""
    _check_tensor(x, "input", "leaky_relu")
    return x * ((x > 0).astype(x.dtype) * (1 - negative_slope) + negative_slope)


@mg.scope("sigmoid")
def sigmoid(x: Tensor) -> Tensor:
    return x.sigmoid()


def _log1p(e: Tensor) -> Tensor:
    """log(1 + e) for e >= 0 to full relative precision: log(u) for u = 1 + e rounded, plus the
    rounding error of u over u (a term that is zero in exact arithmetic, so the gradient is the
    exact 1 / (1 + e))."""
    u = e + 1
    return u.log() + (e - (u - 1)) / u


def _softplus(z: Tensor) -> Tensor:
    """log(1 + exp(z)) = relu(z) + log1p(exp(-|z|)): no exp overflows and both tails are exact.
    The sign that makes -|z| is a constant taken with relu's branch (z <= 0 counts as below), so
    the gradient at 0 is right (abs would give 0 there)."""
    below = (z <= 0).astype(z.dtype)
    return z.relu() + _log1p((z * (below * 2 - 1)).exp())


@mg.scope("softplus")
def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold, as in PyTorch."""
    _check_tensor(x, "input", "softplus")
    z = x * beta
    soft = _softplus(z) / beta
    linear = z > threshold
    return mg.where(linear, x, soft) if mg.autograd.tracing() or linear.any() else soft


@mg.scope("logsigmoid")
def logsigmoid(x: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), exact in both tails; 0 - s rather than -s, so that large x
    give +0.0 as in PyTorch."""
    _check_tensor(x, "input", "logsigmoid")
    return 0 - _softplus(-x)


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
        _check_affine(t, name, (C,), "batch_norm", x)
    if (running_mean is None) != (running_var is None) or (running_mean is None and not training):
        raise ValueError("batch_norm: evaluation needs both running_mean and running_var")
    axes, shape = (0,) + tuple(range(2, x.ndim)), (1, C) + (1,) * (x.ndim - 2)
    if training:
        count = x.size // C
        if count < 2:
            raise ValueError(f"batch_norm: training needs more than 1 value per channel, got input "
                             f"of shape {x.shape}")
        mean = x.mean(axes, keepdims=True)
        d = x + -mean           # backward negates the (1, C, 1, 1) gradient, not a full one
        var = (d * d).mean(axes, keepdims=True)
        if running_mean is not None:
            with mg.no_grad():
                running_mean.mul_(1 - momentum).add_(mean.reshape(C) * momentum)
                unbiased = var.reshape(C) * (count / (count - 1))
                running_var.mul_(1 - momentum).add_(unbiased * momentum)
    else:
        d, var = x - running_mean.reshape(shape), running_var.reshape(shape)
    scale = 1 / (var + eps).sqrt()
    if weight is not None:
        scale = scale * weight.reshape(shape)
    y = d * scale
    return y if bias is None else y + bias.reshape(shape)


def _dropout(x, p, training, op, shape, dtype=mg.float32):
    """x times a constant mask of `shape` (broadcast to x) from uniform noise of `dtype`: 0 where
    the noise is below p, else 1 / (1 - p)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: p must be between 0 and 1, got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    return x * ((mg.rand(shape, dtype=dtype) >= p).astype(x.dtype) * (1.0 / (1.0 - p)))


@mg.scope("dropout")
def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (inverted dropout),
    drawing from minigrad's generator; the identity when not training."""
    _check_tensor(x, "input", "dropout")
    return _dropout(x, p, training, "dropout", x.shape, x.dtype)


def _target_distribution(input, target, label_smoothing, reduction, op):
    """The target as a constant distribution over the class axis, shaped like input: the one-hot
    of integer class indices, or the given class probabilities, mixed with the uniform
    distribution by label_smoothing. Returns it with the class axis, once the reduction is
    checked too."""
    _check_tensor(input, "input", op)
    if input.ndim == 0:
        raise ValueError(f"{op}: input must be (C,) or (N, C, ...), got shape {input.shape}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    axis = 1 if input.ndim > 1 else 0
    C = input.shape[axis]
    if target.dtype.kind == "f":
        if target.shape != input.shape:
            raise ValueError(f"{op}: probability target has shape {target.shape}, expected the "
                             f"input's shape {input.shape}")
        q = target
    else:
        expected = input.shape[:1] + input.shape[2:] if axis else ()
        if target.dtype.kind not in "iu" or target.shape != expected:
            raise ValueError(f"{op}: target has shape {target.shape} ({target.dtype}), expected "
                             f"integer class indices of shape {expected} for input {input.shape}")
        mg.autograd.host(_check_classes, target.data, C, input.shape, op)
        q = mg.one_hot(target, C, axis=axis, dtype=input.dtype)
    _check_reduction(reduction, op)
    return (q * (1 - label_smoothing) + label_smoothing / C if label_smoothing else q), axis


@mg.scope("cross_entropy")
def cross_entropy(input: Tensor, target, *, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits, as torch.nn.functional.cross_entropy.

    Parameters
    ----------
    input : logits (N, C), (N, C, d1, ...) or unbatched (C,); they must be finite
    target : integer class indices (N,), (N, d1, ...) or (), or class probabilities shaped like
        input
    reduction : 'mean' (over all losses), 'sum' or 'none' (one loss per sample and position)
    label_smoothing : mixes the target with the uniform distribution: q = (1 - s) q + s / C

    Notes
    -----
    With z = input - max (a constant shift, so exp never overflows) the loss is
    logsumexp(z) - sum(q z), which is exact for logits of any magnitude.
    """
    target = target if isinstance(target, Tensor) else mg.tensor(target)
    q, axis = _target_distribution(input, target, label_smoothing, reduction, "cross_entropy")
    z = input - input.detach().amax(axis, keepdim=True)
    lse = z.exp().sum(axis).log()
    if target.dtype.kind == "f":            # probabilities need not sum to 1, as in PyTorch
        lse = lse * q.sum(axis)
    return _reduce(lse - (z * q).sum(axis), reduction)


@mg.scope("nll_loss")
def nll_loss(input: Tensor, target, *, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities (N, C, ...) at integer classes (N, ...)."""
    target = target if isinstance(target, Tensor) else mg.tensor(target)
    if target.dtype.kind == "f":
        raise TypeError(f"nll_loss: target must hold integer class indices, got {target.dtype}")
    q, axis = _target_distribution(input, target, 0.0, reduction, "nll_loss")
    return _reduce(-(input * q).sum(axis), reduction)


def _check_classes(idx, C, shape, op):
    """The losses' class-index check, run through host() so that a compiled step makes it (and
    raises this message, not one_hot's) on every call."""
    if idx.size and (idx.min() < 0 or idx.max() >= C):
        raise ValueError(f"{op}: target values must lie in [0, {C}) for input {shape}, got "
                         f"values from {idx.min()} to {idx.max()}")


def _check_probabilities(p):
    """binary_cross_entropy's check, run through host() so that a compiled step makes it on every
    call."""
    if p.size and ((p < 0).any() or (p > 1).any()):
        raise ValueError(f"binary_cross_entropy: input must hold probabilities in [0, 1] (shape "
                         f"{p.shape}); for logits use binary_cross_entropy_with_logits")


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
    flat; a zero-valued quadratic term supplies that slope there. The gradient in t uses the
    clamped logs, so it stays finite where PyTorch's is infinite (p at 0 or 1).
    """
    _check_loss(input, target, reduction, "binary_cross_entropy")
    mg.autograd.host(_check_probabilities, input.data)
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
    _check_loss(input, target, reduction, "binary_cross_entropy_with_logits")
    x, t = input, target
    softplus_neg = (-x).maximum(0.0) + ((-x.abs()).exp() + 1).log()
    if pos_weight is not None:
        softplus_neg = softplus_neg * ((pos_weight - 1) * t + 1)
    loss = (1 - t) * x + softplus_neg
    return _reduce(loss if weight is None else loss * weight, reduction)


@mg.scope("mse_loss")
def mse_loss(input: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:
    """(input - target) ** 2, reduced."""
    _check_loss(input, target, reduction, "mse_loss")
    d = input - target
    return _reduce(d * d, reduction)


# --- more activations, padding, distances, losses, one_hot, unfold/fold (nn/functional_ext.py) ---
from .functional_ext import (celu, cosine_similarity, dropout2d, elu, fold, hardsigmoid,  # noqa
                             hardswish, hardtanh, huber_loss, kl_div, l1_loss, mish, normalize,
                             one_hot, pad, pairwise_distance, relu6, selu, smooth_l1_loss, unfold)

# --- embeddings (nn/recurrent.py) ------------------------------------------------------------------
from .recurrent import embedding  # noqa: E402,F401
