"""PyTorch-style layers over nn/functional_ext.py: piecewise activations, regression and divergence
losses, similarity and distance, unfold/fold, channel dropout and 2-D padding, each handing its
work to one functional op with torch.nn's names and defaults.

Size budget: 130 code lines
"""
from . import functional as F
from .layers import _Op
from .losses import _Loss
from .module import Module


class _Activation(_Op):
    """An elementwise activation; `inplace` is accepted for torch's signature (the result is
    always a new tensor)."""

    def __init__(self, inplace: bool = False):
        super().__init__(inplace=inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class SELU(_Activation):
    """scale * elu(x, alpha) with the self-normalising constants."""
    _fn = staticmethod(F.selu)


class ReLU6(_Activation):
    """min(max(x, 0), 6)."""
    _fn = staticmethod(F.relu6)


class Hardsigmoid(_Activation):
    """min(max(x + 3, 0), 6) / 6."""
    _fn = staticmethod(F.hardsigmoid)


class Hardswish(_Activation):
    """x * min(max(x + 3, 0), 6) / 6."""
    _fn = staticmethod(F.hardswish)


class Mish(_Activation):
    """x * tanh(softplus(x))."""
    _fn = staticmethod(F.mish)


class ELU(_Op):
    """x where x > 0, else alpha (exp(x) - 1); `inplace` as for the activations above."""

    _fn, _args = staticmethod(F.elu), ("alpha",)

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__(alpha=alpha, inplace=inplace)


class CELU(ELU):
    """x where x > 0, else alpha (exp(x / alpha) - 1)."""

    _fn = staticmethod(F.celu)


class Hardtanh(_Op):
    """x limited to [min_val, max_val]; `inplace` as for the activations above."""

    _fn, _args = staticmethod(F.hardtanh), ("min_val", "max_val")

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        if max_val < min_val:
            raise ValueError(f"Hardtanh: max_val {max_val} is below min_val {min_val}")
        super().__init__(min_val=min_val, max_val=max_val, inplace=inplace)


class L1Loss(_Loss):
    """Mean absolute error |input - target|."""

    _fn = staticmethod(F.l1_loss)


class SmoothL1Loss(_Loss):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta."""

    _fn, _options = staticmethod(F.smooth_l1_loss), ("beta",)

    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction, beta=beta)


class HuberLoss(_Loss):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)."""

    _fn, _options = staticmethod(F.huber_loss), ("delta",)

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction, delta=delta)


class KLDivLoss(_Loss):
    """KL divergence of log-probabilities `input` from `target` (reduction 'batchmean' is the
    true divergence per sample)."""

    _fn, _options = staticmethod(F.kl_div), ("log_target",)

    def __init__(self, reduction: str = "mean", log_target: bool = False):
        super().__init__(reduction, log_target=log_target)


class CosineSimilarity(_Op):
    """Cosine of the angle between x1 and x2 along `dim`."""

    _fn, _args, _shown = staticmethod(F.cosine_similarity), ("dim", "eps"), ()

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__(dim=dim, eps=eps)


class PairwiseDistance(_Op):
    """||x1 - x2 + eps||_p along the last dim."""

    _fn, _args, _shown = staticmethod(F.pairwise_distance), ("norm", "eps", "keepdim"), ()

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__(norm=p, eps=eps, keepdim=keepdim)


class Unfold(_Op):
    """(N, C, H, W) -> (N, C*KH*KW, L) sliding blocks (im2col)."""

    _fn, _args = staticmethod(F.unfold), ("kernel_size", "dilation", "padding", "stride")

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__(kernel_size=kernel_size, dilation=dilation, padding=padding, stride=stride)


class Fold(Unfold):
    """(N, C*KH*KW, L) blocks summed back into (N, C, *output_size) (col2im)."""

    _fn, _args = staticmethod(F.fold), ("output_size",) + Unfold._args

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__(kernel_size, dilation, padding, stride)
        self.output_size = output_size


class Dropout2d(_Op):
    """Zero whole channels with probability p while training, scaling the rest by 1 / (1 - p)."""

    _fn, _args, _shown = staticmethod(F.dropout2d), ("p", "training"), ("p",)

    def __init__(self, p: float = 0.5, inplace: bool = False):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout2d: p must be between 0 and 1, got {p}")
        super().__init__(p=p, inplace=inplace)


class ConstantPad2d(Module):
    """Pad the last two dims by `padding` (an int, or (left, right, top, bottom)) with value."""
    mode = "constant"

    def __init__(self, padding, value: float = 0.0):
        super().__init__()
        self.padding = (padding,) * 4 if isinstance(padding, int) else tuple(padding)
        self.value = value
        if len(self.padding) != 4:
            raise ValueError(f"{type(self).__name__}: padding must be an int or 4 ints, got "
                             f"{padding!r}")

    def forward(self, x):
        return F.pad(x, self.padding, self.mode, self.value if self.mode == "constant" else None)

    def extra_repr(self):
        return f"padding={self.padding}" + (f", value={self.value}" if self.value else "")


class ZeroPad2d(ConstantPad2d):
    """Pad the last two dims with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ReflectionPad2d(ZeroPad2d):
    """Pad the last two dims with their mirror image (the edge not repeated)."""
    mode = "reflect"


class ReplicationPad2d(ZeroPad2d):
    """Pad the last two dims by repeating the edge."""
    mode = "replicate"
