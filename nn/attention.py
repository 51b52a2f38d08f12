"""Attention, normalisation and smooth activations as composites over Tensor methods, with
torch.nn.functional's names; nn.functional re-exports them.

Nothing here has a backward pass or touches arrays: every gradient comes from the engine. Each
public op runs inside `mg.scope(name)`, so a graph picture draws it as one box (attention's box
is opened by `_attend`, which MultiheadAttention shares).

Size budget: 110 code lines
"""
import math

import minigrad as mg
from minigrad import Tensor

from .conv import _check_affine, _check_tensor

# Abramowitz & Stegun 7.1.26: |erf(x) - approximation| < 1.5e-7 for every x
_ERF_P = 0.3275911
_ERF_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


@mg.scope("erf")
def _erf(x):
    """erf(x) to within 1.5e-7 as sign(x) (1 - t poly(t) exp(-x^2)), t = 1 / (1 + p |x|): a
    composite, because numpy has no erf; float32 rounding (6e-8) is of the same size."""
    sign = mg.where(x.detach() < 0, -1.0, 1.0).astype(x.dtype)         # a constant
    t = 1 / (x * sign * _ERF_P + 1)
    poly = t * (_ERF_A[0] + t * (_ERF_A[1] + t * (_ERF_A[2] + t * (_ERF_A[3] + t * _ERF_A[4]))))
    return sign * (1 - poly * (-x * x).exp())


@mg.scope("gelu")
def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the standard normal CDF; approximate='tanh' uses
    0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), as torch.nn.functional.gelu."""
    _check_tensor(x, "input", "gelu")
    if approximate == "tanh":
        return 0.5 * x * (1 + (math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)).tanh())
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return 0.5 * x * (1 + _erf(x * (1 / math.sqrt(2))))


@mg.scope("silu")
def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    _check_tensor(x, "input", "silu")
    return x * x.sigmoid()


def _normalize(x, axes, eps):
    """(x - mean) / sqrt(var + eps) over `axes`, with the biased variance."""
    d = x - x.mean(axes, keepdims=True)
    return d * (1 / ((d * d).mean(axes, keepdims=True) + eps).sqrt())


@mg.scope("layer_norm")
def layer_norm(x: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing dims `normalized_shape` (an int or a tuple), then scale by
    weight and shift by bias (both of that shape), as torch.nn.functional.layer_norm."""
    _check_tensor(x, "input", "layer_norm")
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not shape or x.shape[x.ndim - len(shape):] != shape or len(shape) > x.ndim:
        raise ValueError(f"layer_norm: normalized_shape {shape} must be the trailing dims of the "
                         f"input {x.shape}")
    _check_affine(weight, "weight", shape, "layer_norm", x)
    _check_affine(bias, "bias", shape, "layer_norm", x)
    y = _normalize(x, tuple(range(x.ndim - len(shape), x.ndim)), eps)
    y = y if weight is None else y * weight
    return y if bias is None else y + bias


@mg.scope("group_norm")
def group_norm(x: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """(N, C, ...) -> same: normalise each of num_groups groups of C / num_groups channels over
    its channels and positions, then a per-channel scale and shift (weight, bias of shape (C,))."""
    _check_tensor(x, "input", "group_norm")
    if x.ndim < 2 or not isinstance(num_groups, int) or num_groups < 1 or \
            x.shape[1] % num_groups:
        raise ValueError(f"group_norm: expected input (N, C, ...) with C divisible by num_groups "
                         f"{num_groups!r}, got shape {x.shape}")
    C = x.shape[1]
    _check_affine(weight, "weight", (C,), "group_norm", x)
    _check_affine(bias, "bias", (C,), "group_norm", x)
    y = _normalize(x.reshape(x.shape[0], num_groups, -1), (2,), eps).reshape(x.shape)
    shape = (1, C) + (1,) * (x.ndim - 2)
    y = y if weight is None else y * weight.reshape(shape)
    return y if bias is None else y + bias.reshape(shape)


def _causal(L, S):
    """The (L, S) boolean mask that lets query i see keys 0..i, as torch's is_causal."""
    return mg.tensor([[j <= i for j in range(S)] for i in range(L)])


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None) -> Tensor:
    """softmax(q k^T * scale + mask) v, as torch.nn.functional.scaled_dot_product_attention.

    Parameters
    ----------
    query : (..., L, E);  key : (..., S, E);  value : (..., S, Ev)
    attn_mask : boolean (True: the query may attend to that key) or float (added to the
        scores), broadcastable to (..., L, S)
    dropout_p : dropout on the attention weights (always applied when > 0, as torch does)
    is_causal : a lower-triangular mask; not together with attn_mask
    scale : defaults to 1 / sqrt(E)

    Returns
    -------
    (..., L, Ev)
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        _check_tensor(t, name, "scaled_dot_product_attention")
    if min(query.ndim, key.ndim, value.ndim) < 2 or query.shape[-1] != key.shape[-1] or \
            key.shape[-2] != value.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: query {query.shape}, key {key.shape} and "
                         f"value {value.shape} must be (..., L, E), (..., S, E) and (..., S, Ev)")
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: pass attn_mask or is_causal, not both")
    mask = _causal(query.shape[-2], key.shape[-2]) if is_causal else attn_mask
    return _attend(query, key, value, mask, dropout_p, scale)[0]


@mg.scope("scaled_dot_product_attention")
def _attend(q, k, v, mask, dropout_p, scale=None):
    """(softmax(q k^T * scale + mask) v, the weights): the work of scaled_dot_product_attention
    and MultiheadAttention, mask boolean (True attends) or float (added). A query that may see
    no key gets zero weights and output, as torch's scaled_dot_product_attention gives."""
    scores = (q @ k.swapaxes(-2, -1)) * (1 / math.sqrt(q.shape[-1]) if scale is None else scale)
    if mask is not None:
        if mask.ndim > scores.ndim or any(m not in (1, s) for m, s in
                                          zip(mask.shape[::-1], scores.shape[::-1])):
            raise ValueError(f"scaled_dot_product_attention: attn_mask {mask.shape} does not "
                             f"broadcast to the scores (..., L, S) = {scores.shape}")
        scores = mg.where(mask, scores, -math.inf) if mask.dtype == mg.bool_ else scores + mask
        dead = (scores.detach() == -math.inf).all(-1).unsqueeze(-1)    # rows that see no key
        weights = mg.where(dead, 0.0, scores).softmax(-1) * (~dead).astype(scores.dtype)
    else:
        weights = scores.softmax(-1)
    if dropout_p > 0:
        from .functional import dropout
        weights = dropout(weights, dropout_p)
    return weights @ v, weights
