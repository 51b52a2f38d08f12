"""PyTorch-style layers for normalisation, smooth activations and upsampling, each handing its
work to one functional op; parameter names and layouts are PyTorch's, so a torch state_dict loads.

Size budget: 130 code lines
"""
import math

import minigrad as mg

from . import functional as F
from .layers import _check_input, _int, _Op, _pair, _settings, _WeightBias
from .module import Module, Parameter


class LayerNorm(_Op):
    """Normalise over the trailing dims `normalized_shape`, then weight * x + bias (each of that
    shape, ones and zeros at first), as torch.nn.LayerNorm."""

    _fn, _args = staticmethod(F.layer_norm), ("normalized_shape", "weight", "bias", "eps")

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else \
            tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        self.weight = Parameter(mg.ones(shape)) if elementwise_affine else None
        self.bias = Parameter(mg.zeros(shape)) if elementwise_affine and bias else None

    def extra_repr(self):
        return f"{self.normalized_shape}, " + _settings(self, ("eps", "elementwise_affine"))


class GroupNorm(Module):
    """Normalise (N, C, ...) in num_groups groups of channels, then a per-channel affine map."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True):
        super().__init__()
        if _int(num_channels, "num_channels", "GroupNorm", 1) % _int(num_groups, "num_groups",
                                                                     "GroupNorm", 1):
            raise ValueError(f"GroupNorm: num_channels={num_channels} is not divisible by "
                             f"num_groups={num_groups}")
        self.num_groups, self.num_channels, self.eps = num_groups, num_channels, eps
        self.weight = Parameter(mg.ones(num_channels)) if affine else None
        self.bias = Parameter(mg.zeros(num_channels)) if affine else None

    def forward(self, x):
        C = self.num_channels
        _check_input(self, x, x.ndim >= 2 and x.shape[1] == C, f"(N, {C}, ...) (num_channels={C})")
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}"


class GELU(_Op):
    """x * Phi(x); approximate='tanh' for the tanh form."""

    _fn, _args = staticmethod(F.gelu), ("approximate",)

    def __init__(self, approximate: str = "none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        super().__init__(approximate=approximate)


class SiLU(_Op):
    """x * sigmoid(x)."""

    _fn = staticmethod(F.silu)


class Softplus(_Op):
    """F.softplus: log(1 + exp(beta x)) / beta, and x where beta x > threshold (torch.nn.Softplus)."""

    _fn, _args = staticmethod(F.softplus), ("beta", "threshold")

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__(beta=beta, threshold=threshold)


class Unflatten(_Op):
    """Split dim `dim` into `unflattened_size`, e.g. (N, 784) -> (N, 1, 28, 28)."""

    _shown = ("dim", "unflattened_size")

    def __init__(self, dim: int, unflattened_size):
        super().__init__(dim=dim, unflattened_size=tuple(unflattened_size))

    def forward(self, x):
        d, size = self.dim % max(x.ndim, 1), self.unflattened_size
        known = math.prod(n for n in size if n != -1)
        _check_input(self, x, -x.ndim <= self.dim < x.ndim and known and
                     (x.shape[d] == known or (-1 in size and x.shape[d] % known == 0)),
                     f"dim {self.dim} of a size that splits into {size}")
        return x.reshape(x.shape[:d] + size + x.shape[d + 1:])


class ConvTranspose2d(_WeightBias):
    """The adjoint of Conv2d (its input gradient), weight laid out (in, out / groups, KH, KW) as in
    torch.nn.ConvTranspose2d; output_padding adds rows and columns at the bottom and right."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1):
        super().__init__()
        self._conv_settings("ConvTranspose2d", in_channels, out_channels, kernel_size, stride,
                            dilation, groups)
        self.padding = _pair(padding, "padding", "ConvTranspose2d", 0)
        self.output_padding = _pair(output_padding, "output_padding", "ConvTranspose2d", 0)
        self._make_parameters((in_channels, out_channels // groups, *self.kernel_size),
                              out_channels if bias else None)

    def forward(self, x):
        C = self.in_channels
        _check_input(self, x, x.ndim == 4 and x.shape[1] == C, f"(N, {C}, H, W) (in_channels={C})")
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding, self.groups, self.dilation)

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}, " + _settings(self, ("kernel_size",
                                                                              "stride", "padding"))


class Upsample(_Op):
    """F.interpolate as a layer: to `size`, or by `scale_factor`, mode 'nearest' or 'bilinear'."""

    _fn, _args = staticmethod(F.interpolate), ("size", "scale_factor", "mode", "align_corners")

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest",
                 align_corners: bool | None = None):
        super().__init__(size=size, scale_factor=scale_factor, mode=mode,
                         align_corners=align_corners)

    def extra_repr(self):
        return _settings(self, ("size" if self.size is not None else "scale_factor", "mode"))
