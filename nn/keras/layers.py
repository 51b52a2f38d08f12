"""keras.layers: Keras's layer names, arguments and defaults over minigrad's modules.

Images are channels_last, (N, H, W, C), in and out, as in Keras; the layers move the channels to
axis 1 around the channels-first composites. Weights are stored in PyTorch's layout under
PyTorch's names (Dense `weight` (units, in), Conv2D `weight` (filters, C, KH, KW)); get_weights
and set_weights speak Keras's (kernel (in, units) and (KH, KW, C, filters)). Calling a layer on a
KerasTensor (keras.Input) records the call for a functional Model and builds the layer.
"""
import re

import minigrad as mg

from .. import functional as F
from .. import init
from .. import keras_layers, layers
from ..keras_layers import _input_error
from ..metrics import _pick
from ..module import Module, Parameter

_INITIALIZERS = {"glorot_uniform": init.xavier_uniform_, "zeros": init.zeros_, "ones": init.ones_,
                 "he_uniform": lambda t: init.kaiming_uniform_(t, nonlinearity="relu")}


def _initializer(key, cls):
    return _pick(_INITIALIZERS, key, "initializer", cls)


def snake_case(name):
    """Keras's default layer name for a class: Conv2D -> conv2d, MaxPooling2D -> max_pooling2d."""
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def float32(x):
    """Keras's floatx: float64 arrays become float32; Tensors and loaders pass through."""
    if getattr(x, "dtype", None) == mg.float64 and not isinstance(x, mg.Tensor):
        return x.astype(mg.float32)
    return x


def as_tensor(x):
    """x as a Tensor (arrays through float32)."""
    return x if isinstance(x, mg.Tensor) else mg.tensor(float32(x))


class Configurable:
    """Keeps the arguments it was made with (`_spec`), so that a saved model can be made again."""

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        self.__dict__["_spec"] = [cls.__name__, list(args), dict(kwargs)]
        return self


class KerasTensor:
    """A symbolic tensor: what keras.Input returns and what a layer called on one returns. It holds
    the layer and the input that made it, and a zero batch of one sample to infer shapes with."""

    def __init__(self, value, layer=None, source=None):
        self._value, self._layer, self._source = value, layer, source
        self.shape, self.dtype = (None, *value.shape[1:]), value.dtype

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}>"


def Input(shape, batch_size=None, name=None, dtype="float32"):
    """A placeholder for one sample of `shape` (no batch axis), to start a functional Model; a
    None (any number of time steps) stands as 1 in the shapes the model infers."""
    if isinstance(shape, int) or not all(n is None or isinstance(n, int) and n > 0 for n in shape):
        raise ValueError(f"Input: shape must be a tuple of positive ints, e.g. (28, 28, 1), got "
                         f"{shape!r}")
    return KerasTensor(mg.zeros((1, *(1 if n is None else n for n in shape)), dtype=dtype))


class Layer(Configurable):
    """Mixed into every Keras layer: symbolic calls, numpy inputs, `name`, get/set_weights."""

    _kernel_axes = None         # how the stored weight is transposed into Keras's kernel

    def __init__(self, *args, name=None, input_shape=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.name, self._input_shape = name, None if input_shape is None else tuple(input_shape)

    def __call__(self, x, *args, **kwargs):
        if not isinstance(x, KerasTensor):
            return super().__call__(as_tensor(x), *args, **kwargs)
        with self._inference():         # eval mode, no gradients
            value = super().__call__(x._value, *args, **kwargs)
        if not isinstance(value, mg.Tensor):
            raise ValueError(f"{self.name or type(self).__name__}: a functional Model takes one "
                             f"output a layer; this call returns {len(value)} (return_state?)")
        return KerasTensor(value, self, x)

    def count_params(self):
        """The number of weights, trainable or not (moving statistics included), as Keras."""
        return sum(t.size for _, _, t in _weights(self))

    def get_weights(self):
        """The floating-point weights as NumPy arrays, in Keras's order and layout."""
        return [t.numpy().transpose(axes).copy() for axes, _, t in _weights(self)]

    def set_weights(self, weights):
        """Copy arrays shaped like get_weights() into the layer or model."""
        own = list(_weights(self))
        if len(weights) != len(own):
            raise ValueError(f"set_weights: {self.name} has {len(own)} weights, got {len(weights)}")
        for i, ((axes, key, t), w) in enumerate(zip(own, weights)):     # t: a detached view
            w, expected = mg.tensor(w, dtype=t.dtype), tuple(t.shape[a] for a in axes)
            if w.shape != expected:
                raise ValueError(f"set_weights: weight {i} ({key}) takes an array of shape "
                                 f"{expected}, got {w.shape}")
            t.copy_(w.transpose([axes.index(a) for a in range(len(axes))]))


def _weights(model):
    """(Keras's axes order, key, tensor) of every floating-point weight, in Keras's order."""
    modules = dict(model.named_modules())
    for key, t in model.state_dict().items():
        axes = getattr(modules[key.rpartition(".")[0]], "_kernel_axes", None)
        if t.dtype.kind == "f":
            yield (axes if axes and key.endswith("weight") else tuple(range(t.ndim))), key, t


def _first(x):
    """channels_last (N, ..., C) -> channels_first (N, C, ...)."""
    return x.permute(0, x.ndim - 1, *range(1, x.ndim - 1))


def _last(x):
    """channels_first (N, C, ...) -> channels_last (N, ..., C)."""
    return x.permute(0, *range(2, x.ndim), 1)


def _is_last(data_format, cls):
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(f"{cls}: data_format must be 'channels_last' or 'channels_first', got "
                         f"{data_format!r}")
    return data_format != "channels_first"


class _Weighted(Layer):
    """Dense and Conv2D: Keras's initializer names for the kernel and the bias."""

    def _initializers(self, kernel_initializer, bias_initializer):
        self._init = [_initializer(key, type(self).__name__)
                      for key in (kernel_initializer, bias_initializer)]

    def _make_weights(self, weight_shape, dtype):
        super()._make_weights(weight_shape, dtype)      # glorot_uniform and zeros, then others
        if self._init[0] is not init.xavier_uniform_:
            self._init[0](self.weight)
        if self.use_bias and self._init[1] is not init.zeros_:
            self._init[1](self.bias)


class Dense(_Weighted, keras_layers.Dense):
    """Keras's Dense: activation(x @ kernel + bias) over the last axis."""

    _kernel_axes = (1, 0)

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(units, activation, use_bias, **kwargs)
        self._initializers(kernel_initializer, bias_initializer)


class Conv2D(_Weighted, keras_layers.Conv2D):
    """Keras's Conv2D over (N, H, W, C) input (data_format='channels_last', the default)."""

    _kernel_axes = (2, 3, 1, 0)

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(filters, kernel_size, strides, padding, activation, use_bias, **kwargs)
        self._initializers(kernel_initializer, bias_initializer)
        self._last = _is_last(data_format, "Conv2D")
        self._class_axis = -1 if self._last else 1

    def build(self, input_shape, dtype=mg.float32):
        if self._last and len(input_shape) != 4:
            raise _input_error("Conv2D", "(N, H, W, C) (channels_last)", input_shape)
        super().build((input_shape[0], input_shape[-1], *input_shape[1:-1]) if self._last else
                      input_shape, dtype)

    def _transform(self, x):
        if not self._last:
            return super()._transform(x)
        if x.ndim != 4 or x.shape[-1] != self.weight.shape[1]:
            raise _input_error("Conv2D", f"(N, H, W, {self.weight.shape[1]}) (as built)", x.shape)
        return _last(super()._transform(_first(x)))


class _Pooling2D(Layer, Module):
    """MaxPooling2D and AveragePooling2D: windows of pool_size, strides defaulting to pool_size."""

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        if padding != "valid":
            raise ValueError(f"{cls}: only padding='valid' is supported, got {padding!r}")
        self.pool_size = layers._pair(pool_size, "pool_size", cls, 1)
        self.strides = layers._pair(strides or pool_size, "strides", cls, 1)
        self._last = _is_last(data_format, cls)

    def forward(self, x):
        if not self._last:
            return self._pool(x, self.pool_size, self.strides)
        if x.ndim != 4:
            raise _input_error(type(self).__name__, "(N, H, W, C) (channels_last)", x.shape)
        return _last(self._pool(_first(x), self.pool_size, self.strides))


class MaxPooling2D(_Pooling2D):
    _pool = staticmethod(F.max_pool2d)


class AveragePooling2D(_Pooling2D):
    _pool = staticmethod(F.avg_pool2d)


class GlobalAveragePooling2D(Layer, Module):
    """The mean over the spatial axes: (N, H, W, C) -> (N, C)."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self._last, self.keepdims = _is_last(data_format, "GlobalAveragePooling2D"), keepdims

    def forward(self, x):
        if x.ndim != 4:
            raise ValueError(f"GlobalAveragePooling2D: expected an input of 4 dimensions, "
                             f"received {x.shape}")
        return x.mean((1, 2) if self._last else (2, 3), keepdims=self.keepdims)


class BatchNormalization(Layer, Module):
    """Keras's batch normalisation over `axis` (the channels): moving = momentum * moving +
    (1 - momentum) * batch statistic, with the batch's (biased) variance; gamma, beta, moving
    mean and variance are made on the first call."""

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= momentum <= 1 or not epsilon > 0:
            raise ValueError(f"BatchNormalization: momentum must be in [0, 1] and epsilon > 0, got "
                             f"momentum={momentum!r}, epsilon={epsilon!r}")
        self.axis, self.momentum, self.epsilon = axis, momentum, epsilon
        self.center, self.scale, self.weight, self.bias = center, scale, None, None
        self.register_buffer("running_mean", None)
        self.register_buffer("running_var", None)

    def forward(self, x):
        if not -x.ndim <= self.axis < x.ndim or x.ndim < 2:
            raise ValueError(f"BatchNormalization: axis {self.axis} does not fit an input of "
                             f"shape {x.shape}")
        axis = self.axis % x.ndim
        order = (0, axis, *(i for i in range(1, x.ndim) if i != axis))
        x = x.permute(order)                    # (N, C, ...)
        if self.running_mean is None:
            C, dtype = x.shape[1], mg.float64 if x.dtype == mg.float64 else mg.float32
            self.weight = Parameter(mg.ones(C, dtype=dtype)) if self.scale else None
            self.bias = Parameter(mg.zeros(C, dtype=dtype)) if self.center else None
            self.running_mean, self.running_var = mg.zeros(C, dtype=dtype), mg.ones(C, dtype=dtype)
        stats = self.running_mean, self.running_var
        if self.training:
            axes, m = (0, *range(2, x.ndim)), self.momentum
            with mg.no_grad():
                stats[0].mul_(m).add_(x.mean(axes) * (1 - m))
                stats[1].mul_(m).add_(x.var(axes, correction=0) * (1 - m))
            stats = None, None
        y = F.batch_norm(x, *stats, self.weight, self.bias, self.training, 0.0, self.epsilon)
        return y.permute([order.index(i) for i in range(x.ndim)])


class Activation(Layer, keras_layers._KerasLayer):
    """An activation by name ('relu', 'sigmoid', 'tanh', 'softmax' over the last axis, 'linear')
    or a function; fit folds a final 'softmax' or 'sigmoid' into the loss, as for Dense."""

    _class_axis = -1

    def __init__(self, activation, **kwargs):
        super().__init__(activation, False, **kwargs)

    def build(self, input_shape, dtype=None):
        self.built = True

    def _transform(self, x):
        return x


class ReLU(Layer, layers.ReLU):
    """max(x, 0)."""


class Flatten(Layer, layers.Flatten):
    """(N, ...) -> (N, everything else), in the input's (channels_last) order."""


class Softmax(Layer, layers.Softmax):
    """Softmax over `axis` (default the last)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(axis, **kwargs)


class Dropout(Layer, layers.Dropout):
    """Zero a fraction `rate` of the inputs while training, scaling the rest by 1 / (1 - rate)."""

    def __init__(self, rate, **kwargs):
        super().__init__(rate, **kwargs)


class Reshape(Layer, Module):
    """(N, ...) -> (N, *target_shape); one entry of target_shape may be -1."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)

    def forward(self, x):
        return x.reshape(x.shape[0], *self.target_shape)


class Rescaling(Layer, Module):
    """x * scale + offset, e.g. Rescaling(1 / 255) for uint8 pixels."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset

    def forward(self, x):
        return (x if x.dtype.kind == "f" else x.astype(mg.float32)) * self.scale + self.offset


from .recurrent import GRU, LSTM, Embedding, SimpleRNN  # noqa: E402,F401  (they use Layer)
