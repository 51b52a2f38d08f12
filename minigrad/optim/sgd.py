"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay."""
from ..backend import xp
from .optimizer import Optimizer, check_at_least


class SGD(Optimizer):
    """PyTorch's SGD: g += wd*w; buf = momentum*buf + (1-dampening)*g (buf = g at the first step);
    g = g + momentum*buf with Nesterov, else buf; w -= lr*g."""

    def __init__(self, params, lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      nesterov=nesterov, weight_decay=weight_decay))

    def _validate(self, group):
        check_at_least(self, group, "lr", "momentum", "dampening", "weight_decay")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: nesterov needs momentum > 0 and dampening 0, got momentum "
                             f"{group['momentum']!r} and dampening {group['dampening']!r}")

    def _update(self, w, g, state, group):
        momentum, s = group["momentum"], self._spare(w)
        g = self._decayed(g, w, group["weight_decay"])
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= momentum
                buf += xp.multiply(g, 1 - group["dampening"], out=s)
            g = xp.add(g, xp.multiply(buf, momentum, out=s), out=s) if group["nesterov"] else buf
        w -= xp.multiply(g, group["lr"], out=s)
