"""The optimizer base class: parameter groups, the step loop, zero_grad and state dicts.

A subclass validates its hyperparameters in `_validate(group)` and writes the update of one
parameter in `_update(w, g, state, group)`, over raw arrays: `w` is the parameter's array (updated
in place), `g` its gradient (never modified), `state` the parameter's own dict of buffers. For
the optimizers that keep a step count, `count_step` creates the buffers on the first step and
counts the steps.
"""
import numbers

from ..autograd import bump_version, enable_grad, host, no_grad
from ..backend import is_float, ndarray, xp
from ..tensor import Tensor


class Optimizer:
    """Base of every optimizer; `params` is an iterable of Tensors or of param-group dicts."""

    def __init__(self, params, defaults: dict):
        name = type(self).__name__
        if isinstance(params, (Tensor, dict)):
            raise TypeError(f"{name}: params should be an iterable of Tensors or of dicts, got a "
                            f"single {type(params).__name__}; wrap it in a list")
        self.defaults = dict(defaults)
        self._validate(self.defaults)
        self.state = {}             # parameter Tensor -> dict of its buffers
        self._spares = {}           # (dtype, which) -> scratch memory for _update (_spare)
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        """Add a group of parameters with its own hyperparameters (missing ones: the defaults)."""
        name = type(self).__name__
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{name}: a param group must be a dict with a 'params' entry, got "
                            f"{type(group).__name__}")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: parameter {i} is a {type(p).__name__}, not a Tensor")
            if not is_float(p.dtype) or not p.is_leaf:
                raise ValueError(f"{name}: parameter {i} (shape {p.shape}, {p.dtype}) must be a "
                                 "floating-point leaf tensor")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or seen & {id(p) for p in params}:
            raise ValueError(f"{name}: some parameters appear more than once (in this group or in "
                             "an earlier one)")
        group = {**self.defaults, **group, "params": params}
        self._validate(group)
        self.param_groups.append(group)

    def _validate(self, group: dict) -> None:
        """Raise ValueError naming any bad hyperparameter of `group`."""

    def _update(self, w, g, state: dict, group: dict) -> None:
        raise NotImplementedError

    def _spare(self, w, which=0):
        """Scratch memory shaped as w, shared by all parameters of its dtype (the largest one's
        size), for an update to write its intermediate values into instead of allocating them;
        `which` picks one of several such arrays."""
        spare = self._spares.get((w.dtype, which))
        if spare is None or spare.size < w.size:
            spare = self._spares[w.dtype, which] = xp.empty(w.size, w.dtype)
        return spare[:w.size].reshape(w.shape)

    def _decayed(self, g, w, weight_decay):
        """g + weight_decay * w (the L2 penalty's gradient added), in the second scratch array."""
        return xp.add(g, xp.multiply(w, weight_decay, out=self._spare(w, 1)),
                      out=self._spare(w, 1)) if weight_decay else g

    def step(self, closure=None):
        """Update every parameter that has a gradient; `closure` recomputes and returns the loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if not p.data.flags.writeable:
                        p.data = p.data.copy()
                    host(self._update, p.data, p.grad.data, self.state.setdefault(p, {}), group)
                    bump_version(p)     # a graph that saved p before this step may not backprop
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (set them to None, or to zeros in place)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                    continue
                if p.grad.grad_fn is not None:      # a gradient made with create_graph=True
                    p.grad = p.grad.detach()
                with no_grad():
                    p.grad.zero_()

    def state_dict(self) -> dict:
        """A snapshot in PyTorch's layout: {'state': {index: buffers}, 'param_groups': [...]}, where
        parameters are numbered in the order the groups list them. Arrays are copies."""
        index, groups = {}, []
        for group in self.param_groups:
            ids = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {index[id(p)]: {k: v.copy() if isinstance(v, ndarray) else v for k, v in s.items()}
                 for p, s in self.state.items() if s}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters and buffers from a `state_dict` of an optimizer built over
        parameters of the same shapes, grouped the same way."""
        name = type(self).__name__
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state dict has {len(saved_groups)} "
                             f"param groups, this optimizer has {len(self.param_groups)}")
        by_index, groups = {}, []
        for i, (mine, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(mine["params"]) != len(saved["params"]):
                raise ValueError(f"{name}.load_state_dict: param group {i} has "
                                 f"{len(saved['params'])} parameters in the state dict, "
                                 f"{len(mine['params'])} here")
            by_index.update(zip(saved["params"], mine["params"]))
            groups.append({**mine, **saved, "params": mine["params"]})
        state = {}
        for i, buffers in state_dict["state"].items():
            if int(i) not in by_index:
                raise ValueError(f"{name}.load_state_dict: the state dict has buffers for "
                                 f"parameter {i}, but its groups list only {len(by_index)}")
            p = by_index[int(i)]
            state[p] = {k: _array_like(v, p, f"{name}.load_state_dict: state[{i}][{k!r}]")
                        for k, v in buffers.items()}
        for group in groups:
            self._validate(group)
        self.state, self.param_groups = state, groups


def _array_like(value, p, where):
    """A state buffer as a fresh array of p's dtype (checked against p's shape); numbers pass."""
    if isinstance(value, Tensor):
        value = value.data
    if not isinstance(value, ndarray):
        return value
    if value.shape != p.shape:
        raise ValueError(f"{where} has shape {value.shape} but its parameter has shape {p.shape}")
    return xp.array(value, dtype=p.dtype)


def count_step(state, w, *buffers, fill=0.0):
    """Add one to state['step'] and return it; a parameter's first step first creates the state:
    step 0 and, under each name in `buffers`, an array like w filled with `fill`."""
    if not state:
        state.update(step=0, **{name: xp.full_like(w, fill) for name in buffers})
    state["step"] += 1
    return state["step"]


def check_at_least(opt, group, *names, low=0.0):
    """Raise ValueError unless every group[name] is a real number >= low."""
    for name in names:
        value = group[name]
        if not isinstance(value, numbers.Real) or not value >= low:
            raise ValueError(f"{type(opt).__name__}: {name} must be a number >= {low}, "
                             f"got {value!r}")


def check_betas(opt, group):
    """Raise ValueError unless group['betas'] is a pair of numbers in [0, 1)."""
    betas = group["betas"]
    valid = isinstance(betas, (tuple, list)) and len(betas) == 2 and all(
        isinstance(b, numbers.Real) and 0.0 <= b < 1.0 for b in betas)
    if not valid:
        raise ValueError(f"{type(opt).__name__}: betas must be two numbers in [0, 1), "
                         f"got {betas!r}")
