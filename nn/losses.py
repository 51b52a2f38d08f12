"""Loss modules: each keeps its options (reduction, label smoothing, weights) and calls one
functional loss."""
from . import functional as F
from .module import Module


class _Loss(Module):
    """reduction: 'mean' (default) averages over the batch, 'sum' adds, 'none' keeps one loss per
    sample. The functional loss checks the options when called."""

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits (N, classes) against integer class targets (N,); with
    label_smoothing=s the target puts 1 - s on the class and spreads s over all classes."""

    def __init__(self, reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(reduction)
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)

    def extra_repr(self):
        return super().extra_repr() + (f", label_smoothing={self.label_smoothing}"
                                       if self.label_smoothing else "")


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (N, classes) against integer targets (N,)."""

    def forward(self, input, target):
        return F.nll_loss(input, target, reduction=self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities against targets in [0, 1] (logs clamped at -100);
    `weight` rescales each element's loss (broadcast against the input)."""

    def __init__(self, weight=None, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits (the sigmoid is applied inside, stably); `weight` rescales
    each element's loss and `pos_weight` (one per class) the positive targets' term."""

    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None):
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class MSELoss(_Loss):
    """Mean squared error (input - target) ** 2."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)
