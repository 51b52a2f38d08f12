"""Embeddings and recurrent layers (RNN, LSTM, GRU and their cells) as composites of Tensor ops,
with PyTorch's arguments, parameter names, gate order and layout, so a torch state_dict loads.

Nothing here has a backward pass: backprop through time is the engine walking the unrolled loop
(its walk is iterative, so a long sequence meets no recursion limit). Each layer computes the
input projection of all time steps in one matmul; only the hidden-to-hidden product runs per step.
Gate order: LSTM (input, forget, cell, output), GRU (reset, update, new), as in torch.

Size budget: 260 code lines
"""
import math

import minigrad as mg
from minigrad import Tensor

from . import functional as F
from . import init
from .conv import _check_tensor
from .layers import _int
from .module import Module, Parameter

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_WEIGHTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")    # the order of a layer's parameters


def _check_rows(idx, shape):
    """embedding's check, run through host() so that a compiled step makes it on every call."""
    if idx.size and not -shape[0] <= idx.min() <= idx.max() < shape[0]:
        raise IndexError(f"embedding: indices from {idx.min()} to {idx.max()} are out of range "
                         f"for a weight of shape {shape}")


@mg.scope("embedding")
def embedding(input, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of weight (num_embeddings, D) picked by integer input of any shape -> input.shape + (D,).
    Entries equal to padding_idx pick their row as a constant, so that row gets no gradient."""
    _check_tensor(weight, "weight", "embedding", 2, "(num_embeddings, embedding_dim)")
    idx = input if isinstance(input, Tensor) else mg.tensor(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: input must hold integers, got {idx.dtype} (shape "
                        f"{idx.shape})")
    mg.autograd.host(_check_rows, idx.data, weight.shape)
    out = weight[idx]
    if padding_idx is None:
        return out
    pad = (idx == padding_idx % weight.shape[0]).unsqueeze(-1)
    return mg.where(pad, weight.detach()[idx], out)


class Embedding(Module):
    """A lookup table (num_embeddings, embedding_dim) drawn from N(0, 1), as torch.nn.Embedding;
    the row padding_idx starts at zero and gets no gradient."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 _weight: Tensor | None = None):
        super().__init__()
        self.num_embeddings = _int(num_embeddings, "num_embeddings", "Embedding", 1)
        self.embedding_dim = _int(embedding_dim, "embedding_dim", "Embedding", 0)
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(f"Embedding: padding_idx must lie in [-{num_embeddings}, "
                             f"{num_embeddings}), got {padding_idx}")
        self.padding_idx = None if padding_idx is None else padding_idx % num_embeddings
        if _weight is not None:
            self.weight = Parameter(mg.tensor(_weight.detach()))       # a copy
            return
        self.weight = init.normal_(Parameter(mg.zeros(num_embeddings, embedding_dim)))
        if self.padding_idx is not None:
            with mg.no_grad():
                self.weight[self.padding_idx] = 0.0

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True,
                        padding_idx: int | None = None) -> "Embedding":
        """An Embedding holding a copy of embeddings (V, D); freeze=True keeps it out of training."""
        _check_tensor(embeddings, "embeddings", "Embedding.from_pretrained", 2, "(V, D)")
        m = cls(*embeddings.shape, padding_idx=padding_idx, _weight=embeddings)
        m.weight.requires_grad = not freeze
        return m

    def forward(self, input):
        return embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"


def _step(mode, gi, state, w_hh_t, b_hh):
    """One time step: gi (N, G*H) is the input's projection, w_hh_t (H, G*H) the transposed
    hidden weight, state (h,) or (h, c) -> new state."""
    h = state[0]
    gh = h @ w_hh_t
    gh = gh if b_hh is None else gh + b_hh
    H = h.shape[-1]
    if mode == "RNN_TANH":
        return ((gi + gh).tanh(),)
    if mode == "RNN_RELU":
        return ((gi + gh).relu(),)
    if mode == "LSTM":
        with mg.scope("lstm_cell"):
            g = gi + gh
            i, f = g[:, :H].sigmoid(), g[:, H:2 * H].sigmoid()
            c = f * state[1] + i * g[:, 2 * H:3 * H].tanh()
            return g[:, 3 * H:].sigmoid() * c.tanh(), c
    with mg.scope("gru_cell"):
        r = (gi[:, :H] + gh[:, :H]).sigmoid()
        z = (gi[:, H:2 * H] + gh[:, H:2 * H]).sigmoid()
        n = (gi[:, 2 * H:] + r * gh[:, 2 * H:]).tanh()
        return ((1 - z) * n + z * h,)


def _run_direction(mode, x, state, w_ih, w_hh, b_ih, b_hh, reverse):
    """x (T, N, I), state of (N, H) tensors -> outputs (T, N, H) and the final state.

    The loop is one composite ("lstm", "gru_reverse" ...: ONNX export writes it as one LSTM / GRU
    / RNN operator); its one output stacks the outputs and, for an LSTM, the final cell state."""
    T = x.shape[0]
    with mg.scope(mode.lower() + "_reverse" * reverse):
        outputs, w_hh_t = [None] * T, w_hh.T                                 # one transpose
        for t in (reversed(range(T)) if reverse else range(T)):
            # projected step by step: the gradient of x[t] is x-sized, that of a projection of all
            # steps at once would be (T, N, G*H) per step, T of them added up (the MNIST-rows LSTM
            # step took 1.2-1.5x as long eager, 1.6-1.9x compiled: docs/benchmarks.md)
            state = _step(mode, F.linear(x[t], w_ih, b_ih), state, w_hh_t, b_hh)
            outputs[t] = state[0]
        stacked = mg.stack(outputs + list(state[1:]), 0)
    if mode != "LSTM":         # counted from the end, so that an export's T may vary
        return stacked, (stacked[0 if reverse else -1],)
    return stacked[:-1], (stacked[0 if reverse else -2], stacked[-1])


class _RNNBase(Module):
    """Shared by RNN, LSTM and GRU: per layer and direction weight_ih_l{k}{_reverse} (G*H, in),
    weight_hh_l{k} (G*H, H), bias_ih_l{k}, bias_hh_l{k} (G*H,), all U(-1/sqrt(H), 1/sqrt(H))."""

    mode = "RNN_TANH"       # LSTM and GRU set theirs; RNN its own after __init__ (one gate)

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False):
        super().__init__()
        cls = type(self).__name__
        self.input_size = _int(input_size, "input_size", cls, 1)
        self.hidden_size = _int(hidden_size, "hidden_size", cls, 1)
        self.num_layers = _int(num_layers, "num_layers", cls, 1)
        if isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(f"{cls}: dropout must be a number in [0, 1], got {dropout!r}")
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional = bool(bidirectional)
        D, G, H = 1 + self.bidirectional, _GATES[self.mode], hidden_size
        for k in range(num_layers):
            for sfx in ("", "_reverse")[:D]:
                shapes = [(G * H, input_size if k == 0 else H * D), (G * H, H), (G * H,), (G * H,)]
                for name, shape in zip(_WEIGHTS[:4 if bias else 2], shapes):
                    setattr(self, f"{name}_l{k}{sfx}", Parameter(mg.zeros(shape)))
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def forward(self, input, hx=None):
        cls, I = type(self).__name__, self.input_size
        _check_tensor(input, "input", cls)
        if input.ndim not in (2, 3) or input.shape[-1] != I:
            layout = "(N, T, I)" if self.batch_first else "(T, N, I)"
            raise ValueError(f"{cls}: input has shape {input.shape}; expected {layout} or "
                             f"(T, I) with I = input_size = {I}")
        batched = input.ndim == 3
        x = input if batched else input.unsqueeze(1)
        x = x.transpose(1, 0, 2) if self.batch_first and batched else x
        D, L, H, N = 1 + self.bidirectional, self.num_layers, self.hidden_size, x.shape[1]
        n_state = 2 if self.mode == "LSTM" else 1
        if hx is None:
            states = [mg.zeros(L * D, N, H, dtype=x.dtype)] * n_state
        else:
            hx = hx if isinstance(hx, (tuple, list)) else (hx,)
            if len(hx) != n_state:
                raise ValueError(f"{cls}: hx must be {'(h_0, c_0)' if n_state == 2 else 'h_0'}, "
                                 f"got {len(hx)} tensors")
            shape = (L * D, N, H) if batched else (L * D, H)
            for h, name in zip(hx, ("h_0", "c_0")):
                _check_tensor(h, name, cls)
                if h.shape != shape:
                    raise ValueError(f"{cls}: {name} has shape {h.shape}; expected {shape} "
                                     "(num_layers * num_directions, batch, hidden_size)")
            states = [h if batched else h.unsqueeze(1) for h in hx]
        finals = []
        for k in range(L):
            if k and self.dropout:
                x = F.dropout(x, self.dropout, self.training)
            outs = []
            for d, sfx in enumerate(("", "_reverse")[:D]):
                state = tuple(s[k * D + d] for s in states)
                weights = [getattr(self, f"{n}_l{k}{sfx}", None) for n in _WEIGHTS]
                out, state = _run_direction(self.mode, x, state, *weights, d == 1)
                outs.append(out)
                finals.append(state)
            x = outs[0] if D == 1 else mg.concatenate(outs, 2)
        output = x.transpose(1, 0, 2) if self.batch_first and batched else x
        h_n = [mg.stack([f[j] for f in finals], 0) for j in range(n_state)]
        if not batched:
            output, h_n = output.squeeze(1), [h.squeeze(1) for h in h_n]
        return (output, tuple(h_n)) if n_state == 2 else (output, h_n[0])

    def extra_repr(self):
        default = dict(num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False)
        changed = [f"{k}={getattr(self, k)}" for k, v in default.items() if getattr(self, k) != v]
        return ", ".join([str(self.input_size), str(self.hidden_size), *changed])


class RNN(_RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu.
    forward(input, h_0=None) -> (output, h_n), as torch.nn.RNN."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional)
        self.nonlinearity, self.mode = nonlinearity, f"RNN_{nonlinearity.upper()}"


class LSTM(_RNNBase):
    """Long short-term memory; forward(input, (h_0, c_0)=None) -> (output, (h_n, c_n))."""

    mode = "LSTM"


class GRU(_RNNBase):
    """Gated recurrent unit; forward(input, h_0=None) -> (output, h_n)."""

    mode = "GRU"


class _CellBase(Module):
    """One step of a recurrent layer: weight_ih (G*H, I), weight_hh (G*H, H), bias_ih, bias_hh."""

    mode = "RNN_TANH"
    reset_parameters = _RNNBase.reset_parameters

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True):
        super().__init__()
        cls, G = type(self).__name__, _GATES[self.mode]
        self.input_size = _int(input_size, "input_size", cls, 1)
        self.hidden_size = H = _int(hidden_size, "hidden_size", cls, 1)
        self.weight_ih = Parameter(mg.zeros(G * H, input_size))
        self.weight_hh = Parameter(mg.zeros(G * H, H))
        self.bias_ih = Parameter(mg.zeros(G * H)) if bias else None
        self.bias_hh = Parameter(mg.zeros(G * H)) if bias else None
        self.reset_parameters()

    def forward(self, input, hx=None):
        cls, I, H = type(self).__name__, self.input_size, self.hidden_size
        _check_tensor(input, "input", cls)
        if input.ndim not in (1, 2) or input.shape[-1] != I:
            raise ValueError(f"{cls}: input has shape {input.shape}; expected (N, {I}) or ({I},)")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        n_state = 2 if self.mode == "LSTM" else 1
        if hx is None:
            state = (mg.zeros(x.shape[0], H, dtype=x.dtype),) * n_state
        else:
            state = tuple(hx) if isinstance(hx, (tuple, list)) else (hx,)
            expected = (x.shape[0], H) if batched else (H,)
            got = [getattr(s, "shape", type(s).__name__) for s in state]
            if got != [expected] * n_state or not all(isinstance(s, Tensor) for s in state):
                raise ValueError(f"{cls}: hx must be {n_state} tensor(s) of shape {expected} "
                                 f"for input {input.shape}, got {got}")
            state = state if batched else tuple(s.unsqueeze(0) for s in state)
        state = _step(self.mode, F.linear(x, self.weight_ih, self.bias_ih), state,
                      self.weight_hh.T, self.bias_hh)
        state = state if batched else tuple(s.squeeze(0) for s in state)
        return state if n_state == 2 else state[0]

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias_ih is not None}"


class RNNCell(_CellBase):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act tanh or relu."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh"):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias)
        self.nonlinearity, self.mode = nonlinearity, f"RNN_{nonlinearity.upper()}"


class LSTMCell(_CellBase):
    """forward(input, (h, c)=None) -> (h', c')."""

    mode = "LSTM"


class GRUCell(_CellBase):
    """forward(input, h=None) -> h'."""

    mode = "GRU"
