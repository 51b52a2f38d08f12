"""keras.layers Embedding, SimpleRNN, LSTM and GRU over nn.recurrent's composites.

The weights keep Keras's names, layout and gate order, so get_weights, set_weights and the
parameter counts are Keras's: `kernel` (features, G * units), `recurrent_kernel` (units, G * units)
and `bias` (G * units,), which for GRU (reset_after=True, Keras's default) is (2, 3 * units): the
input and the recurrent bias. Gates: LSTM (i, f, c, o) as torch; GRU (z, r, h) where torch has
(r, z, n). Each call hands the weights to nn.recurrent's time loop in torch's layout (a transpose,
and for GRU the gate columns reordered), so the gradients still come from the engine.
"""
import numpy as np

import minigrad as mg

from .. import functional as F
from .. import init
from ..keras_layers import _input_error
from ..layers import _int
from ..module import Module, Parameter
from ..recurrent import _run_direction, embedding
from .layers import _INITIALIZERS, Layer, _initializer


def orthogonal_(t):
    """Keras's Orthogonal initializer (and torch's orthogonal_): Q of a Gaussian matrix's QR, with
    the signs of R's diagonal, shaped (rows, everything else)."""
    rows, cols = t.shape[0], t.size // t.shape[0]
    q, r = np.linalg.qr(mg.randn(max(rows, cols), min(rows, cols), dtype=mg.float64).numpy())
    q = q * np.sign(np.diag(r))
    with mg.no_grad():
        return t.copy_(mg.tensor((q if rows >= cols else q.T).reshape(t.shape), dtype=t.dtype))


_INITIALIZERS.update(orthogonal=orthogonal_, uniform=lambda t: init.uniform_(t, -0.05, 0.05))


class Embedding(Layer, Module):
    """Integer indices (N, ...) -> (N, ..., output_dim): rows of `embeddings` (input_dim,
    output_dim), initialized U(-0.05, 0.05) as Keras's 'uniform'."""

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", mask_zero=False,
                 **kwargs):
        super().__init__(**kwargs)
        if mask_zero:
            raise ValueError("Embedding: mask_zero=True (Keras's masking of padded steps) is not "
                             "supported")
        self.embeddings = Parameter(mg.zeros(_int(input_dim, "input_dim", "Embedding", 1),
                                             _int(output_dim, "output_dim", "Embedding", 1)))
        _initializer(embeddings_initializer, "Embedding")(self.embeddings)

    def forward(self, x):
        return embedding(x if x.dtype.kind in "iu" else x.astype(mg.int64), self.embeddings)


class _Recurrent(Layer, Module):
    """SimpleRNN, LSTM and GRU: (N, timesteps, features) -> the last output (N, units), or every
    step's (N, timesteps, units) with return_sequences; return_state appends the final states
    ([output, h, c] for LSTM). `initial_state=[h, ...]` in the call starts from given states;
    `dropout` zeroes input features (one mask per sequence, as Keras)."""

    _gates, _states, _activations = 1, 1, ("tanh",)

    def __init__(self, units, *, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", dropout=0.0,
                 return_sequences=False, return_state=False, go_backwards=False, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.units = _int(units, "units", cls, 1)
        if activation not in self._activations or recurrent_activation != "sigmoid":
            raise ValueError(f"{cls}: activation must be one of {self._activations} and "
                             f"recurrent_activation 'sigmoid', got {activation!r}, "
                             f"{recurrent_activation!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"{cls}: dropout must be in [0, 1), got {dropout!r}")
        self._init = [_initializer(k, cls) for k in (kernel_initializer, recurrent_initializer,
                                                      bias_initializer)]
        self.activation, self.use_bias, self.dropout = activation, bool(use_bias), dropout
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards, self.built = go_backwards, False

    def build(self, features, dtype):
        G, H = self._gates * self.units, self.units
        dtype = mg.float64 if dtype == mg.float64 else mg.float32
        self.kernel = self._init[0](Parameter(mg.zeros(features, G, dtype=dtype)))
        self.recurrent_kernel = self._init[1](Parameter(mg.zeros(H, G, dtype=dtype)))
        if self.use_bias:
            shape = (2, G) if isinstance(self, GRU) else (G,)
            self.bias = self._init[2](Parameter(mg.zeros(shape, dtype=dtype)))
            if getattr(self, "unit_forget_bias", False):
                with mg.no_grad():
                    self.bias[H:2 * H] = 1.0
        self.built = True

    def _torch_order(self, w):
        """A weight's gate columns (the last axis) in torch's order."""
        return w

    def forward(self, x, initial_state=None):
        cls = type(self).__name__
        if x.ndim != 3 or (self.built and x.shape[-1] != self.kernel.shape[0]):
            features = self.kernel.shape[0] if self.built else "features"
            raise _input_error(cls, f"(batch, timesteps, {features})", x.shape)
        if not self.built:
            self.build(x.shape[-1], x.dtype)
        N, H = x.shape[0], self.units
        if self.dropout and self.training:
            x = x * F.dropout(mg.ones(N, 1, x.shape[-1], dtype=x.dtype), self.dropout)
        state = (tuple(initial_state) if initial_state is not None else
                 tuple(mg.zeros(N, H, dtype=x.dtype) for _ in range(self._states)))
        if len(state) != self._states or any(s.shape != (N, H) for s in state):
            raise ValueError(f"{cls}: initial_state must be {self._states} tensor(s) of shape "
                             f"{(N, H)}, got {[tuple(s.shape) for s in state]}")
        w_ih, w_hh = (self._torch_order(w).T for w in (self.kernel, self.recurrent_kernel))
        b = self._torch_order(self.bias) if self.use_bias else None
        b_ih, b_hh = (b[0], b[1]) if b is not None and b.ndim == 2 else (b, None)
        xs = x.transpose(1, 0, 2)
        out, state = _run_direction(self._mode, xs.flip(0) if self.go_backwards else xs, state,
                                    w_ih, w_hh, b_ih, b_hh, False)
        y = out.transpose(1, 0, 2) if self.return_sequences else state[0]
        return [y, *state] if self.return_state else y


class SimpleRNN(_Recurrent):
    """Keras's SimpleRNN: h = activation(x kernel + h recurrent_kernel + bias), tanh or relu."""

    _activations = ("tanh", "relu")
    _mode = property(lambda self: f"RNN_{self.activation.upper()}")


class LSTM(_Recurrent):
    """Keras's LSTM; unit_forget_bias=True (the default) starts the forget gate's bias at 1."""

    _gates, _states, _mode = 4, 2, "LSTM"

    def __init__(self, units, *, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = unit_forget_bias


class GRU(_Recurrent):
    """Keras's GRU with reset_after=True (its default; the one torch computes)."""

    _gates, _mode = 3, "GRU"

    def __init__(self, units, *, reset_after=True, **kwargs):
        if not reset_after:
            raise ValueError("GRU: reset_after=False (Keras 1's GRU) is not supported")
        super().__init__(units, **kwargs)

    def _torch_order(self, w):
        H = self.units
        return w[..., np.r_[H:2 * H, 0:H, 2 * H:3 * H]]       # (z, r, h) -> torch's (r, z, n)
