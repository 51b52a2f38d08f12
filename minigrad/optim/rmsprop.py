"""RMSprop, optionally centered and with momentum."""
from ..backend import xp
from .optimizer import Optimizer, check_at_least, count_step


class RMSprop(Optimizer):
    """PyTorch's RMSprop: s = alpha*s + (1-alpha)*g*g; centered also tracks a, the running mean of
    g, and uses s - a*a; d = sqrt(that) + eps; w -= lr * g/d, or with momentum
    buf = momentum*buf + g/d, w -= lr*buf."""

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def _validate(self, group):
        check_at_least(self, group, "lr", "alpha", "eps", "weight_decay", "momentum")

    def _update(self, w, g, state, group):
        alpha, momentum = group["alpha"], group["momentum"]
        optional = {"momentum_buffer": momentum > 0, "grad_avg": group["centered"]}
        count_step(state, w, "square_avg", *[name for name, kept in optional.items() if kept])
        g, s = self._decayed(g, w, group["weight_decay"]), self._spare(w)   # s: the scratch
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += xp.multiply(xp.multiply(g, 1 - alpha, out=s), g, out=s)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg += xp.multiply(xp.subtract(g, grad_avg, out=s), 1 - alpha, out=s)
            denom = xp.sqrt(xp.subtract(square_avg, xp.square(grad_avg, out=s), out=s), out=s)
        else:
            denom = xp.sqrt(square_avg, out=s)
        denom += group["eps"]
        step = xp.divide(g, denom, out=s)
        if momentum > 0:
            buf = state["momentum_buffer"]
            step = xp.add(xp.multiply(buf, momentum, out=buf), step, out=buf)
        w -= xp.multiply(step, group["lr"], out=s)
