"""PyTorch-style layers: each holds its parameters and configuration and hands the work to one
functional op, after checking its input against that configuration."""
import math

import minigrad as mg

from . import functional as F
from . import init
from .module import Module, Parameter


def _check_input(m, x, ok, expected):
    """Unless ok, a ValueError naming the layer and its place, e.g. 'Conv2d (features.0)', with
    the input's shape and the expected one."""
    if not ok:
        label = type(m).__name__ + (f" ({m._path})" if m._path else "")
        raise ValueError(f"{label}: input has shape {x.shape}; expected {expected}")


def _int(value, what, cls, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{cls}: {what} must be an int >= {minimum}, got {value!r}")
    return value


def _pair(value, what, cls, minimum):
    """An int or a pair of ints (each >= minimum) -> a pair."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < minimum
                             for v in pair):
        raise ValueError(f"{cls}: {what} must be an int >= {minimum} or a pair of them, got "
                         f"{value!r}")
    return pair


def _settings(m, names):
    """'name=value, ...' of m's attributes `names`, for repr: strings quoted, the rest as str()."""
    values = ((name, getattr(m, name)) for name in names)
    return ", ".join(f"{n}={v!r}" if isinstance(v, str) else f"{n}={v}" for n, v in values)


class _Op(Module):
    """A layer that is one functional op: forward(*inputs) is `_fn(*inputs, *the attributes named
    in _args)`, and repr shows the attributes named in `_shown` (default: those of `_args`). The
    keyword arguments of __init__ become attributes."""

    _fn, _args, _shown = None, (), None

    def __init__(self, **settings):
        super().__init__()
        for name, value in settings.items():
            setattr(self, name, value)

    def forward(self, *inputs):
        return self._fn(*inputs, *(getattr(self, name) for name in self._args))

    def extra_repr(self):
        return _settings(self, self._args if self._shown is None else self._shown)


class _WeightBias(Module):
    """Shared by Linear, Conv2d and ConvTranspose2d: a weight and an optional bias."""

    def _make_parameters(self, weight_shape, bias_size):
        """A zero weight and, unless bias_size is None, a zero bias; then the default init."""
        self.weight = Parameter(mg.zeros(weight_shape))
        self.bias = None if bias_size is None else Parameter(mg.zeros(bias_size))
        self.reset_parameters()

    def _conv_settings(self, cls, in_channels, out_channels, kernel_size, stride, dilation,
                       groups):
        """Check and keep what the convolutions share: channel counts divisible by groups, and
        kernel_size, stride and dilation as pairs."""
        groups = _int(groups, "groups", cls, 1)
        for what, n in (("in_channels", in_channels), ("out_channels", out_channels)):
            if _int(n, what, cls, 1) % groups:
                raise ValueError(f"{cls}: {what}={n} is not divisible by groups={groups}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _pair(kernel_size, "kernel_size", cls, 1)
        self.stride = _pair(stride, "stride", cls, 1)
        self.dilation = _pair(dilation, "dilation", cls, 1)

    def reset_parameters(self):
        """PyTorch's default init: kaiming_uniform_(a=sqrt(5)) makes the weight
        U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the bias is drawn from the same range."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = math.prod(self.weight.shape[1:])
            bound = 1 / math.sqrt(fan_in) if fan_in else 0.0
            init.uniform_(self.bias, -bound, bound)


class Linear(_WeightBias):
    """y = x @ weight.T + bias, weight shaped (out_features, in_features) as in PyTorch."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        self.in_features = _int(in_features, "in_features", "Linear", 0)
        self.out_features = _int(out_features, "out_features", "Linear", 0)
        self._make_parameters((out_features, in_features), out_features if bias else None)

    def forward(self, x):
        n = self.in_features
        _check_input(self, x, x.ndim and x.shape[-1] == n, f"(..., {n}) (in_features={n})")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return _settings(self, ("in_features", "out_features")) + f", bias={self.bias is not None}"


class Conv2d(_WeightBias):
    """2-D convolution over (N, C, H, W) input with a weight (out, in / groups, KH, KW).

    Parameters
    ----------
    kernel_size, stride, dilation : int or (int, int)
    padding : int, (int, int), 'valid' or 'same' (zeros on both sides, as in PyTorch)
    groups : int
        Split the channels into groups convolved separately; groups == in_channels is depthwise.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True):
        super().__init__()
        self._conv_settings("Conv2d", in_channels, out_channels, kernel_size, stride, dilation,
                            groups)
        self.padding = padding if padding in ("same", "valid") else \
            _pair(padding, "padding (an int, a pair, 'same' or 'valid')", "Conv2d", 0)
        self._make_parameters((out_channels, in_channels // groups, *self.kernel_size),
                              out_channels if bias else None)

    def forward(self, x):
        C = self.in_channels
        _check_input(self, x, x.ndim == 4 and x.shape[1] == C, f"(N, {C}, H, W) (in_channels={C})")
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def extra_repr(self):
        defaults = {"padding": ((0, 0), "valid"), "dilation": ((1, 1),), "groups": (1,)}
        shown = [name for name, usual in defaults.items() if getattr(self, name) not in usual]
        s = f"{self.in_channels}, {self.out_channels}, "
        s += _settings(self, ("kernel_size", "stride", *shown))     # the rest only when changed
        return s + (", bias=False" if self.bias is None else "")


class _Pool2d(_Op):
    """Keeps the window arguments as given; the functional op checks them."""

    def __init__(self, kernel_size, stride, padding, **settings):
        super().__init__(kernel_size=kernel_size, stride=kernel_size if stride is None else stride,
                         padding=padding, **settings)


class MaxPool2d(_Pool2d):
    """Maximum over windows of (N, C, H, W) input; stride defaults to the kernel size."""

    _fn, _args = staticmethod(F.max_pool2d), ("kernel_size", "stride", "padding", "dilation")

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1):
        super().__init__(kernel_size, stride, padding, dilation=dilation)


class AvgPool2d(_Pool2d):
    """Mean over windows of (N, C, H, W) input; stride defaults to the kernel size. Padding adds
    zeros, which count in the mean unless count_include_pad=False."""

    def __init__(self, kernel_size, stride=None, padding=0, count_include_pad: bool = True):
        super().__init__(kernel_size, stride, padding, count_include_pad=count_include_pad)

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding,
                            count_include_pad=self.count_include_pad)

    def extra_repr(self):
        window = _settings(self, ("kernel_size", "stride", "padding"))
        return window + ("" if self.count_include_pad else ", count_include_pad=False")


class AdaptiveAvgPool2d(_Op):
    """Average (N, C, H, W) down to (N, C, *output_size); output_size=1 is global average
    pooling."""

    _fn, _args = staticmethod(F.adaptive_avg_pool2d), ("output_size",)

    def __init__(self, output_size):
        super().__init__(output_size=output_size)


class _BatchNorm(Module):
    _layouts = {}       # input ndim -> its layout, e.g. {2: "(N, C)", 3: "(N, C, L)"}

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True):
        super().__init__()
        cls = type(self).__name__
        self.num_features = _int(num_features, "num_features", cls, 1)
        if not eps > 0:
            raise ValueError(f"{cls}: eps must be positive, got {eps!r}")
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"{cls}: momentum must be in [0, 1] or None, got {momentum!r}")
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(mg.ones(num_features)) if affine else None
        self.bias = Parameter(mg.zeros(num_features)) if affine else None
        tracked = track_running_stats
        self.register_buffer("running_mean", mg.zeros(num_features) if tracked else None)
        self.register_buffer("running_var", mg.ones(num_features) if tracked else None)
        self.register_buffer("num_batches_tracked", mg.tensor(0) if tracked else None)

    def forward(self, x):
        C = self.num_features
        layouts = " or ".join(s.replace("C", str(C)) for s in self._layouts.values())
        _check_input(self, x, x.ndim in self._layouts and x.shape[1] == C,
                     f"{layouts} (num_features={C})")
        momentum = self.momentum
        if self.training and self.running_mean is not None:
            self.num_batches_tracked.add_(1)
            momentum = 1.0 / self.num_batches_tracked.item() if momentum is None else momentum
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or self.running_mean is None,
                            0.0 if momentum is None else momentum, self.eps)

    def extra_repr(self):
        return f"{self.num_features}, " + _settings(self, ("eps", "momentum", "affine",
                                                           "track_running_stats"))


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over (N, C) or (N, C, L) input, per channel C."""
    _layouts = {2: "(N, C)", 3: "(N, C, L)"}


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over (N, C, H, W) input, per channel C."""
    _layouts = {4: "(N, C, H, W)"}


class Dropout(_Op):
    """Zero each element with probability p while training, scaling the rest by 1 / (1 - p)."""

    _fn, _args, _shown = staticmethod(F.dropout), ("p", "training"), ("p",)

    def __init__(self, p: float = 0.5):
        super().__init__(p=p)


class Flatten(_Op):
    """Merge the axes start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default."""

    _shown = ("start_dim", "end_dim")

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__(start_dim=start_dim, end_dim=end_dim)

    def forward(self, x):
        n = max(x.ndim, 1)
        start, end = self.start_dim % n, self.end_dim % n
        _check_input(self, x, -n <= self.start_dim < n and -n <= self.end_dim < n and start <= end,
                     f"an input with dims {self.start_dim}..{self.end_dim}")
        return x.reshape(x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:])


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for a removed layer)."""

    def forward(self, x):
        return x


class ReLU(_Op):
    _fn = staticmethod(F.relu)


class LeakyReLU(_Op):
    """max(x, 0) + negative_slope * min(x, 0)."""

    _fn, _args = staticmethod(F.leaky_relu), ("negative_slope",)

    def __init__(self, negative_slope: float = 0.01):
        super().__init__(negative_slope=negative_slope)


class Sigmoid(_Op):
    _fn = staticmethod(F.sigmoid)


class Tanh(_Op):
    _fn = staticmethod(F.tanh)


class Softmax(_Op):
    """Softmax along `dim` (the class axis, e.g. dim=1 for (N, classes) logits)."""

    _fn, _args = staticmethod(F.softmax), ("dim",)

    def __init__(self, dim: int):
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise ValueError(f"Softmax: dim must be an int, got {dim!r}")
        super().__init__(dim=dim)
