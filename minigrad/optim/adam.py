"""Adam (with optional AMSGrad) and AdamW, its variant with decoupled weight decay."""
import math

from ..backend import xp
from .optimizer import Optimizer, check_at_least, check_betas, count_step


class Adam(Optimizer):
    """PyTorch's Adam: m, v are running means of g and g*g; with bias corrections b1 = 1 - beta1**t,
    b2 = 1 - beta2**t: w -= lr/b1 * m / (sqrt(v)/sqrt(b2) + eps). AMSGrad uses the running max of v.
    Weight decay adds wd*w to the gradient (L2 penalty)."""

    decoupled = False       # AdamW: shrink w by (1 - lr*wd) instead of adding wd*w to g

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad))

    def _validate(self, group):
        check_at_least(self, group, "lr", "eps", "weight_decay")
        check_betas(self, group)

    def _update(self, w, g, state, group):
        lr, (beta1, beta2), weight_decay = group["lr"], group["betas"], group["weight_decay"]
        amsgrad = ("max_exp_avg_sq",) if group["amsgrad"] else ()
        t = count_step(state, w, "exp_avg", "exp_avg_sq", *amsgrad)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        if self.decoupled:
            w *= 1 - lr * weight_decay
        g = self._decayed(g, w, 0 if self.decoupled else weight_decay)
        s = self._spare(w)      # each intermediate is written into s: nothing is allocated
        m *= beta1
        m += xp.multiply(g, 1 - beta1, out=s)
        v *= beta2
        v += xp.multiply(xp.multiply(g, 1 - beta2, out=s), g, out=s)
        if group["amsgrad"]:
            v = xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        denom = xp.sqrt(v, out=s)
        denom /= math.sqrt(1 - beta2 ** t)
        denom += group["eps"]
        w -= xp.multiply(xp.divide(m, denom, out=s), lr / (1 - beta1 ** t), out=s)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): w *= 1 - lr*wd, then Adam's step."""

    decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
