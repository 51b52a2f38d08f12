"""Regenerate the pictures of docs/attention.md: python docs/gallery/attention/make_attention.py

Needs Graphviz (`dot`) and the graphviz Python package (pip install "minigrad[viz]").
"""
from pathlib import Path

import minigrad as mg
import nn
from minigrad import viz
from nn import functional as F

HERE = Path(__file__).parent


def attention_expanded():
    """Causal scaled dot-product attention with its primitives drawn inside the box."""
    mg.manual_seed(0)
    q, k, v = (mg.randn(2, 4, 8, requires_grad=True) for _ in range(3))
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    viz.draw(out.sum(), path=HERE / "attention_expanded.svg", inputs={"q": q, "k": k, "v": v},
             expand="scaled_dot_product_attention")


class Block(nn.Module):
    """One pre-LayerNorm GPT block, as in examples/char_gpt.py."""

    def __init__(self, C=16, heads=2):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.qkv, self.proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.fc, self.out = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def forward(self, x):
        N, T, C = x.shape
        qkv = self.qkv(self.ln1(x)).reshape(N, T, 3, self.heads, C // self.heads)
        q, k, v = (qkv[:, :, i].permute(0, 2, 1, 3) for i in range(3))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.permute(0, 2, 1, 3).reshape(N, T, C))
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


def gpt_block():
    """The block with every composite as one box."""
    mg.manual_seed(0)
    x = mg.randn(2, 6, 16, requires_grad=True)
    viz.draw(Block()(x).sum(), path=HERE / "gpt_block.svg", inputs={"x": x})


def encoder_layer():
    """nn.TransformerEncoderLayer at module level."""
    mg.manual_seed(0)
    layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)
    x = mg.randn(2, 6, 16, requires_grad=True)
    viz.draw(layer(x).sum(), path=HERE / "encoder_layer.svg", inputs={"x": x}, depth=2)


if __name__ == "__main__":
    attention_expanded()
    gpt_block()
    encoder_layer()
