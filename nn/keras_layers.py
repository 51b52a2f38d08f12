"""Keras-named layers (Dense, Conv2D, MaxPooling2D): lazy input sizes and a fused activation, as
thin shells over the same functional ops as Linear, Conv2d and MaxPool2d.

Like the rest of minigrad, images are NCHW: Conv2D takes (N, C, H, W), not Keras's default
(N, H, W, C). Weights use PyTorch's layout and names (`weight` (out, in, ...), `bias`), so their
state dicts match Linear's and Conv2d's. A layer creates its weights on its first call (`build`),
with Keras's defaults: glorot_uniform weights and zero biases. Until then it has no parameters, so
an optimizer made by hand must be made after a first forward pass; `compile(optimizer='adam')` and
`fit` take care of that (fit builds the model from one sample first), and `input_shape=` builds at
once.
"""
import math

import minigrad as mg

from . import functional as F
from . import init
from .layers import _int, _Op, _pair
from .module import Module, Parameter

_ACTIVATIONS = {"relu": F.relu, "sigmoid": F.sigmoid, "tanh": F.tanh, "softmax": F.softmax}


def _input_error(layer, expected, received):
    """Keras's message for an input of the wrong shape, naming the layer."""
    return ValueError(f"{layer}: expected an input of shape {expected}, received {tuple(received)}")


class _KerasLayer(Module):
    """Shared by Dense and Conv2D: lazy build, glorot_uniform weights and a fused activation."""

    def __init__(self, activation, use_bias):
        super().__init__()
        activation = None if activation == "linear" else activation
        if not (activation is None or activation in _ACTIVATIONS or callable(activation)):
            raise ValueError(f"{type(self).__name__}: unknown activation {activation!r}; expected "
                             f"None, 'linear', {', '.join(map(repr, _ACTIVATIONS))} or a callable")
        self.activation, self.use_bias, self.built = activation, bool(use_bias), False
        self.weight = self.bias = None

    def _make_weights(self, weight_shape, dtype):
        dtype = mg.float64 if dtype == mg.float64 else mg.float32   # float32 unless given float64
        self.weight = init.xavier_uniform_(Parameter(mg.zeros(weight_shape, dtype=dtype)))
        if self.use_bias:
            self.bias = Parameter(mg.zeros(weight_shape[0], dtype=dtype))
        self.built = True

    def forward(self, x, activate: bool = True):
        """The layer's output; with activate=False the output before the activation (the logits
        that fit hands to a loss in place of a final softmax or sigmoid)."""
        if not self.built:
            self.build(x.shape, x.dtype)
        y, fn = self._transform(x), self.activation
        if not activate or fn is None:
            return y
        if fn == "softmax":
            return F.softmax(y, self._class_axis)
        return _ACTIVATIONS.get(fn, fn)(y)

    def _options_repr(self):
        """The activation and use_bias parts of repr, where they differ from the defaults."""
        fn = self.activation
        s = "" if fn is None else f", activation={fn if isinstance(fn, str) else fn.__name__!r}"
        return s + ("" if self.use_bias else ", use_bias=False")


class Dense(_KerasLayer):
    """y = activation(x @ weight.T + bias) over the last axis: (..., in) -> (..., units).

    Parameters
    ----------
    units : the size of the output's last axis.
    activation : None (or 'linear'), 'relu', 'sigmoid', 'tanh', 'softmax' (over the last axis) or a
        function of a Tensor.
    use_bias : whether to add a bias (zeros at first).
    input_shape : the shape of one sample, e.g. (784,); builds the weights at once.
    """

    _class_axis = -1

    def __init__(self, units: int, activation=None, use_bias: bool = True, input_shape=None):
        super().__init__(activation, use_bias)
        self.units = _int(units, "units", "Dense", 1)
        if input_shape is not None:
            self.build((None, *input_shape))

    def build(self, input_shape, dtype=mg.float32):
        """Create weight (units, in) and bias (units,) for inputs shaped (..., in)."""
        if len(input_shape) < 1 or input_shape[-1] is None:
            raise _input_error("Dense", "(..., features)", input_shape)
        self._make_weights((self.units, input_shape[-1]), dtype)

    def _transform(self, x):
        C = self.weight.shape[1]
        if x.ndim < 1 or x.shape[-1] != C:
            raise _input_error("Dense", f"(..., {C}) (the size it was built for)", x.shape)
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"{self.units}{self._options_repr()}"


def _same_padding(size, k, s):
    """Keras's 'same' padding (before, after): the output has ceil(size / s) positions, and an
    odd total puts the extra row or column at the end."""
    total = max((math.ceil(size / s) - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class Conv2D(_KerasLayer):
    """2-D convolution over NCHW input, (N, C, H, W) -> (N, filters, OH, OW), then the activation.

    Parameters
    ----------
    filters : the number of output channels.
    kernel_size, strides : an int or a pair (height, width).
    padding : 'valid' (no padding) or 'same' (output H, W = ceil(input / strides), as in Keras:
        where the padding is odd, the extra row or column goes at the bottom or right).
    activation, use_bias : as for Dense; 'softmax' is taken over the channels.
    input_shape : the shape of one sample, (C, H, W); builds the weights at once.
    """

    _class_axis = 1

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid",
                 activation=None, use_bias: bool = True, input_shape=None):
        if padding not in ("valid", "same"):
            raise ValueError(f"Conv2D: padding must be 'valid' or 'same', got {padding!r}")
        super().__init__(activation, use_bias)
        self.filters, self.padding = _int(filters, "filters", "Conv2D", 1), padding
        self.kernel_size = _pair(kernel_size, "kernel_size", "Conv2D", 1)
        self.strides = _pair(strides, "strides", "Conv2D", 1)
        if input_shape is not None:
            self.build((None, *input_shape))

    def build(self, input_shape, dtype=mg.float32):
        """Create weight (filters, C, KH, KW) and bias (filters,) for inputs shaped (N, C, H, W)."""
        if len(input_shape) != 4 or input_shape[1] is None:
            raise _input_error("Conv2D", "(N, C, H, W) (channels first)", input_shape)
        self._make_weights((self.filters, input_shape[1], *self.kernel_size), dtype)

    def _transform(self, x):
        C = self.weight.shape[1]
        if x.ndim != 4 or x.shape[1] != C:
            raise _input_error("Conv2D", f"(N, {C}, H, W) (channels first, as built)", x.shape)
        if self.padding == "same":
            x = x.pad(((0, 0), (0, 0), *(_same_padding(n, k, s) for n, k, s in
                                         zip(x.shape[2:], self.kernel_size, self.strides))))
        return F.conv2d(x, self.weight, self.bias, stride=self.strides)

    def extra_repr(self):
        return (f"{self.filters}, kernel_size={self.kernel_size}, strides={self.strides}, "
                f"padding={self.padding!r}{self._options_repr()}")


class MaxPooling2D(_Op):
    """Maximum over pool_size windows of NCHW input; strides default to pool_size (Keras)."""

    _fn, _args = staticmethod(F.max_pool2d), ("pool_size", "strides")     # checks (N, C, H, W)

    def __init__(self, pool_size=2, strides=None):
        super().__init__()
        self.pool_size = _pair(pool_size, "pool_size", "MaxPooling2D", 1)
        self.strides = self.pool_size if strides is None else \
            _pair(strides, "strides", "MaxPooling2D", 1)
