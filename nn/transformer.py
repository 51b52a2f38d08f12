"""Multi-head attention and the Transformer encoder and decoder layers, with torch.nn's
constructor arguments, parameter names and layouts, so a torch state_dict loads unchanged.

Every module is a composite of linear, layer_norm, dropout and the attention in nn/attention.py;
the gradients come from the engine.

Size budget: 160 code lines
"""
import copy
import math

import minigrad as mg

from . import functional as F
from . import init
from .attention import _attend, _causal
from .layers import Dropout, Linear
from .layers_ext import LayerNorm
from .module import Module, ModuleList, Parameter


def _additive(mask, dtype, what, shape):
    """A boolean mask (True: may NOT attend, torch.nn's convention) or a float one as a float
    mask to add to the scores, checked against `shape`."""
    if mask.shape != shape:
        raise ValueError(f"MultiheadAttention: {what} has shape {mask.shape}, expected {shape}")
    if mask.dtype == mg.bool_:
        return mg.where(mask, -math.inf, 0.0).astype(dtype)
    return mask.astype(dtype)


class MultiheadAttention(Module):
    """Attention with num_heads heads, as torch.nn.MultiheadAttention (query, key and value of
    the same embed_dim): in_proj_weight (3 E, E) stacks the query, key and value projections,
    out_proj is a Linear. Inputs are (L, N, E), or (N, L, E) with batch_first, or unbatched
    (L, E); forward returns (output, weights), weights averaged over the heads (N, L, S) unless
    average_attn_weights=False (N, H, L, S), or None with need_weights=False."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 batch_first: bool = False):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim={embed_dim} is not divisible by "
                             f"num_heads={num_heads}")
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.batch_first = batch_first
        self.in_proj_weight = Parameter(mg.zeros(3 * embed_dim, embed_dim))
        self.in_proj_bias = Parameter(mg.zeros(3 * embed_dim)) if bias else None
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias)
        init.xavier_uniform_(self.in_proj_weight)
        if bias:
            init.zeros_(self.out_proj.bias)

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False):
        E, H = self.embed_dim, self.num_heads
        batched = query.ndim == 3
        if query.ndim not in (2, 3) or query.shape[-1] != E or key.shape != value.shape or \
                key.ndim != query.ndim or key.shape[-1] != E:
            raise ValueError(f"MultiheadAttention: query {query.shape}, key {key.shape} and value "
                             f"{value.shape} must be (L, N, {E}), (S, N, {E}) and (S, N, {E}) "
                             f"(or batch-first, or unbatched) for embed_dim={E}")
        q, k, v = ((t if self.batch_first else t.swapaxes(0, 1)) if batched else t.unsqueeze(0)
                   for t in (query, key, value))                              # (N, L or S, E)
        (N, L, _), S = q.shape, k.shape[1]
        w, b = self.in_proj_weight, self.in_proj_bias
        heads = [F.linear(t, w[i * E:(i + 1) * E], None if b is None else b[i * E:(i + 1) * E])
                 .reshape(N, -1, H, E // H).permute(0, 2, 1, 3) for i, t in enumerate((q, k, v))]
        mask = None
        if attn_mask is None and is_causal:
            attn_mask = ~_causal(L, S)
        if attn_mask is not None:
            shape = (L, S) if attn_mask.ndim == 2 else (N * H, L, S)
            mask = _additive(attn_mask, q.dtype, "attn_mask", shape)
            mask = mask if attn_mask.ndim == 2 else mask.reshape(N, H, L, S)
        if key_padding_mask is not None:
            pad = _additive(key_padding_mask, q.dtype, "key_padding_mask", (N, S) if batched
                            else (S,)).reshape(N, 1, 1, S)
            mask = pad if mask is None else mask + pad
        p = self.dropout if self.training else 0.0
        out, weights = _attend(*heads, mask, p)                              # (N, H, L, E / H)
        out = self.out_proj(out.permute(0, 2, 1, 3).reshape(N, L, E))
        out = (out if self.batch_first else out.swapaxes(0, 1)) if batched else out[0]
        if not need_weights:
            return out, None
        weights = weights.mean(1) if average_attn_weights else weights
        return out, weights if batched else weights[0]

    def extra_repr(self):
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}"


class _TransformerLayer(Module):
    """The encoder and decoder layers' shared parts: torch's submodules, in torch's order (the
    decoder's `multihead_attn`, `norm3` and `dropout3` where _cross is set), and the residual
    blocks, each followed by its LayerNorm (or preceded, with norm_first)."""

    _cross = False      # True: the decoder's attention over the encoder's memory

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation="relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout, bias, batch_first)
        if self._cross:
            self.multihead_attn = MultiheadAttention(d_model, nhead, dropout, bias, batch_first)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        self.norms = [LayerNorm(d_model, layer_norm_eps, bias=bias) for _ in range(2 + self._cross)]
        self.dropouts = [Dropout(dropout) for _ in range(2 + self._cross)]
        for name, modules in (("norm", self.norms), ("dropout", self.dropouts)):
            for n, module in enumerate(modules, 1):
                setattr(self, f"{name}{n}", module)         # norm1, norm2, dropout1, ...
        if not (callable(activation) or activation in ("relu", "gelu")):
            raise ValueError(f"Transformer layer: activation must be 'relu', 'gelu' or a callable, "
                             f"got {activation!r}")
        self.activation = activation if callable(activation) else getattr(F, activation)

    def _residual(self, x, blocks):
        for block, norm, dropout in zip(blocks, self.norms, self.dropouts):
            x = x + dropout(block(norm(x))) if self.norm_first else \
                norm(x + dropout(block(x)))
        return x

    def _attend(self, attention, x, memory, mask, padding, is_causal):
        return attention(x, memory, memory, attn_mask=mask, key_padding_mask=padding,
                         need_weights=False, is_causal=is_causal)[0]

    def _feed_forward(self, x):
        return self.linear2(self.dropout(self.activation(self.linear1(x))))


class TransformerEncoderLayer(_TransformerLayer):
    """Self-attention then a feed-forward block, each with a residual connection and LayerNorm
    (after it, or before it with norm_first), as torch.nn.TransformerEncoderLayer."""

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        return self._residual(src, [
            lambda y: self._attend(self.self_attn, y, y, src_mask, src_key_padding_mask, is_causal),
            self._feed_forward])


class TransformerEncoder(Module):
    """num_layers copies of encoder_layer applied in turn, then an optional norm."""

    def __init__(self, encoder_layer, num_layers: int, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers, self.norm = num_layers, norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal: bool | None = None):
        for layer in self.layers:
            src = layer(src, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                        is_causal=bool(is_causal))
        return src if self.norm is None else self.norm(src)


class TransformerDecoderLayer(_TransformerLayer):
    """Self-attention, attention over the encoder's memory, then a feed-forward block, each with
    a residual connection and LayerNorm, as torch.nn.TransformerDecoderLayer."""

    _cross = True

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False):
        return self._residual(tgt, [
            lambda y: self._attend(self.self_attn, y, y, tgt_mask, tgt_key_padding_mask,
                                   tgt_is_causal),
            lambda y: self._attend(self.multihead_attn, y, memory, memory_mask,
                                   memory_key_padding_mask, memory_is_causal),
            self._feed_forward])
