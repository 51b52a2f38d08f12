"""Loss modules: each keeps its options (reduction, label smoothing, weights) and calls one
functional loss."""
from . import functional as F
from .layers import _Op


class _Loss(_Op):
    """reduction: 'mean' (default) averages over the batch, 'sum' adds, 'none' keeps one loss per
    sample. The functional loss checks the options when called."""

    _fn, _options = None, ()    # the functional loss, and the attributes it also gets by name

    def __init__(self, reduction: str = "mean", **options):
        super().__init__(reduction=reduction, **options)

    def forward(self, input, target):
        options = {name: getattr(self, name) for name in self._options}
        return self._fn(input, target, reduction=self.reduction, **options)

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits (N, classes) against integer class targets (N,); with
    label_smoothing=s the target puts 1 - s on the class and spreads s over all classes."""

    _fn, _options = staticmethod(F.cross_entropy), ("label_smoothing",)

    def __init__(self, reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(reduction, label_smoothing=label_smoothing)

    def extra_repr(self):
        return super().extra_repr() + (f", label_smoothing={self.label_smoothing}"
                                       if self.label_smoothing else "")


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (N, classes) against integer targets (N,)."""

    _fn = staticmethod(F.nll_loss)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities against targets in [0, 1] (logs clamped at -100);
    `weight` rescales each element's loss (broadcast against the input)."""

    _fn, _options = staticmethod(F.binary_cross_entropy), ("weight",)

    def __init__(self, weight=None, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits (the sigmoid is applied inside, stably); `weight` rescales
    each element's loss and `pos_weight` (one per class) the positive targets' term."""

    _fn, _options = staticmethod(F.binary_cross_entropy_with_logits), ("weight", "pos_weight")

    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None):
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)


class MSELoss(_Loss):
    """Mean squared error (input - target) ** 2."""

    _fn = staticmethod(F.mse_loss)
