"""Regenerate the pictures of docs/sequence-models.md: python docs/gallery/sequence/make_sequence.py

Needs Graphviz (`dot`) and the graphviz Python package (pip install "minigrad[viz]").
"""
from pathlib import Path

import minigrad as mg
import nn
from minigrad import viz

HERE = Path(__file__).parent


def lstm_step():
    """One step of nn.LSTMCell: the input and hidden projections (Linear boxes) and the gates,
    drawn inside the lstm_cell box."""
    mg.manual_seed(0)
    cell = nn.LSTMCell(3, 4)
    x, h, c = mg.randn(2, 3), mg.randn(2, 4, requires_grad=True), mg.randn(2, 4, requires_grad=True)
    h1, c1 = cell(x, (h, c))
    viz.draw(h1.sum() + c1.sum(), path=HERE / "lstm_step.svg",
             inputs={"x": x, "h": h, "c": c}, expand="lstm_cell")


def lstm_unrolled():
    """nn.LSTM over three time steps with its lstm box opened, each step one lstm_cell box: the
    unrolled loop that backpropagation through time walks."""
    mg.manual_seed(0)
    lstm = nn.LSTM(3, 4)
    x = mg.randn(3, 2, 3, requires_grad=True)
    out, (h_n, c_n) = lstm(x)
    viz.draw(out.sum(), path=HERE / "lstm_unrolled.svg", inputs={"x": x}, expand="lstm")


if __name__ == "__main__":
    lstm_step()
    lstm_unrolled()
