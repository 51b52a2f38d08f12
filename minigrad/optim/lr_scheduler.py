"""Learning-rate schedules that rewrite each param group's 'lr', with PyTorch's names and values.

Call `scheduler.step()` after `optimizer.step()`, once per epoch (or per batch, as you choose);
ReduceLROnPlateau's step takes the metric it watches. Construction counts as step 0. Like PyTorch,
the schedules are recursive: each step scales the group's current lr, so other changes carry on.
"""
import copy
import math
import numbers

from .optimizer import Optimizer


class LRScheduler:
    """Base of the schedules: subclasses give `get_lr()`, each group's new lr at `last_epoch`."""

    _unsaved = ("optimizer",)       # attributes that state_dict leaves out

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got "
                            f"{type(optimizer).__name__}")
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise ValueError(f"{type(self).__name__}: resuming at last_epoch={last_epoch} "
                                 f"needs 'initial_lr' in param group {i}; load the optimizer state "
                                 "first")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial = True
        self.step()
        self._initial = False

    def get_lr(self) -> list[float]:
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and write the new learning rates into the optimizer."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = self._lrs()

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the latest step, one per param group."""
        return list(self._last_lr)

    def _lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def _scaled(self, factor) -> list[float]:
        """Each group's current lr times `factor` (left as they are for a factor of 1)."""
        return self._lrs() if factor == 1 else [lr * factor for lr in self._lrs()]

    def state_dict(self) -> dict:
        """Every attribute but the optimizer (numbers and lists only, so mg.save can store it)."""
        return {k: copy.deepcopy(v) for k, v in vars(self).items() if k not in self._unsaved}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(copy.deepcopy(state_dict))


def _check_int(scheduler, name, value, low):
    if not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{type(scheduler).__name__}: {name} must be an integer >= {low}, "
                         f"got {value!r}")


def _per_group(scheduler, optimizer, value, what):
    """One `what` per param group: `value` if it is a list or tuple, else `value` repeated."""
    n = len(optimizer.param_groups)
    values = list(value) if isinstance(value, (list, tuple)) else [value] * n
    if len(values) != n:
        raise ValueError(f"{type(scheduler).__name__}: expected {n} {what} (one per param group), "
                         f"got {len(values)}")
    return values


class LambdaLR(LRScheduler):
    """lr = initial_lr * lr_lambda(epoch), one function for all groups or a list with one per group.
    The functions are not part of state_dict."""

    _unsaved = ("optimizer", "lr_lambdas")

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1):
        self.lr_lambdas = _per_group(self, optimizer, lr_lambda, "lr_lambdas")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base * f(self.last_epoch) for f, base in zip(self.lr_lambdas, self.base_lrs)]


class StepLR(LRScheduler):
    """Multiply the lr by gamma every step_size epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1):
        _check_int(self, "step_size", step_size, 1)
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        due = self.last_epoch != 0 and self.last_epoch % self.step_size == 0
        return self._scaled(self.gamma if due else 1)


class MultiStepLR(LRScheduler):
    """Multiply the lr by gamma at each milestone epoch (gamma**k at a milestone listed k times)."""

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1, last_epoch: int = -1):
        self.milestones = sorted(milestones)
        for m in self.milestones:
            _check_int(self, "each milestone", m, 0)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return self._scaled(self.gamma ** self.milestones.count(self.last_epoch))


class ExponentialLR(LRScheduler):
    """Multiply the lr by gamma every epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return self._scaled(1 if self._initial else self.gamma)


class CosineAnnealingLR(LRScheduler):
    """Cosine decay from the initial lr to eta_min over T_max epochs (then back up, periodically):
    eta_min + (base - eta_min) * (1 + cos(pi * epoch / T_max)) / 2, applied recursively as PyTorch
    does."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1):
        _check_int(self, "T_max", T_max, 1)
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        epoch, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._initial:
            return self._lrs()
        if (epoch - 1 - T) % (2 * T) == 0:          # the trough: the ratio below would be 0/0
            return [lr + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for lr, base in zip(self._lrs(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * epoch / T)) / (1 + math.cos(math.pi * (epoch - 1) / T))
        return [ratio * (lr - eta_min) + eta_min for lr in self._lrs()]


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by `factor` (not below min_lr) once the watched metric has not improved for
    more than `patience` steps; then wait `cooldown` steps before counting again. Improvement means
    beating the best value by `threshold` (relative or absolute, per threshold_mode)."""

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr=0.0, eps: float = 1e-8):
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got "
                             f"{threshold_mode!r}")
        if not 0.0 <= factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be in [0, 1), got {factor!r}")
        _check_int(self, "patience", patience, 0)
        _check_int(self, "cooldown", cooldown, 0)
        self.min_lrs = _per_group(self, optimizer, min_lr, "min_lrs")
        self.optimizer = optimizer
        self.mode, self.factor, self.patience, self.cooldown = mode, factor, patience, cooldown
        self.threshold, self.threshold_mode, self.eps = threshold, threshold_mode, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs, self.cooldown_counter, self.last_epoch = 0, 0, 0
        self._last_lr = self._lrs()

    def _is_better(self, value):
        best, t, relative = self.best, self.threshold, self.threshold_mode == "rel"
        if self.mode == "min":
            return value < (best * (1 - t) if relative else best - t)
        return value > (best * (1 + t) if relative else best + t)

    def step(self, metrics) -> None:
        """Record this epoch's metric (a number or one-element tensor); reduce the lr if due."""
        value = float(metrics)
        self.last_epoch += 1
        if self._is_better(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0         # bad epochs during the cooldown do not count
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                new_lr = max(group["lr"] * self.factor, min_lr)
                if group["lr"] - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = self._lrs()
