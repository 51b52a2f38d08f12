"""Adagrad: per-coordinate step sizes from the running sum of squared gradients."""
from ..backend import xp
from .optimizer import Optimizer, check_at_least, count_step


class Adagrad(Optimizer):
    """PyTorch's Adagrad: s += g*g; w -= lr / (1 + (t-1)*lr_decay) * g / (sqrt(s) + eps), with s
    starting at initial_accumulator_value."""

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))

    def _validate(self, group):
        check_at_least(self, group, "lr", "lr_decay", "weight_decay", "initial_accumulator_value",
                       "eps")

    def _update(self, w, g, state, group):
        t = count_step(state, w, "sum", fill=group["initial_accumulator_value"])
        g, s = self._decayed(g, w, group["weight_decay"]), self._spare(w)   # s: the scratch
        state["sum"] += xp.multiply(g, g, out=s)
        denom = xp.sqrt(state["sum"], out=s)
        denom += group["eps"]
        lr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        w -= xp.multiply(xp.divide(g, denom, out=s), lr, out=s)
