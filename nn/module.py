"""Module, the base of every layer: it finds its parameters, buffers and submodules by walking its
attributes, names them by their dotted paths and saves or loads them as a state dict."""
from collections import OrderedDict, namedtuple

import minigrad as mg
from minigrad import Tensor

from .model import Model

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Parameter(Tensor):
    """A Tensor that a Module registers as trainable (requires_grad=True). Python floats become
    float32; arrays keep their dtype."""

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True):
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix else name


class Module(Model):
    """Base class of layers and models. Assigning a Parameter, a Module or a registered buffer as an
    attribute registers it; `forward` holds the computation and calling the module runs it.

    Each parameter's `.name` is its dotted path from the outermost module (``features.0.weight``),
    and a call records its ops inside ``mg.scope(<attribute name>, kind="module")``, which is what
    graph pictures draw as boxes.
    """

    _called = True      # False for containers that are iterated rather than called (ModuleList)

    def __init__(self):
        self.__dict__.update(training=True, _path="", _local_name=None, _parameters=OrderedDict(),
                             _buffers=OrderedDict(), _modules=OrderedDict(), _non_persistent=set())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        recorder = mg.autograd.tracing()
        if recorder is not None:        # mg.compile replays the call only in this mode
            recorder.modes[id(self)] = (self, self.training)
        with mg.scope(self._local_name or type(self).__name__, kind="module"):
            return self.forward(*args, **kwargs)

    # --- registration -----------------------------------------------------------------------------
    def __setattr__(self, name, value):
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning "
                                 f"attribute {name!r}")
        for registry, kind in ((d["_parameters"], Parameter), (d["_modules"], Module)):
            if name in registry and value is not None and not isinstance(value, kind):
                raise TypeError(f"{type(self).__name__}: cannot assign a {type(value).__name__} "
                                f"to {name!r}, which holds a {kind.__name__} (assign a "
                                f"{kind.__name__} or None)")
        # a name leaves its registry, but a buffer stays one when it gets a tensor (or None)
        stays = value is None or isinstance(value, Tensor) and not isinstance(value, Parameter)
        for registry in (d["_parameters"], d["_buffers"], d["_modules"]):
            if name in registry and not (registry is d["_buffers"] and stays):
                del registry[name]
        if isinstance(value, Parameter):
            d["_parameters"][name] = value
            value.name = _join(self._path, name)
        elif isinstance(value, Module):
            d["_modules"][name] = value
            value._place(_join(self._path, name), self._child_scope(name))
        elif name in d["_buffers"]:
            d["_buffers"][name] = value
            if value is not None:
                value.name = _join(self._path, name)
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True):
        """Keep `tensor` as state that is saved and loaded but not trained (running statistics).
        A non-persistent buffer stays out of the state dict."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, got "
                            f"{type(tensor).__name__}")
        self._buffers[name] = tensor
        (self._non_persistent.discard if persistent else self._non_persistent.add)(name)
        setattr(self, name, tensor)

    def _child_scope(self, name):
        """The scope name of the child held as `name`: just that, as the call to this module already
        opened a scope; a ModuleList is never called, so its children say 'heads.0'."""
        return name if self._called else _join(self._local_name, name)

    def _place(self, path, local_name):
        """Record where this module now sits, and name its subtree's parameters and buffers by
        their dotted paths below `path`, top-down (so the outermost module's names win)."""
        self.__dict__["_path"], self.__dict__["_local_name"] = path, local_name
        for name, t in (*self._parameters.items(), *self._buffers.items()):
            if t is not None:
                t.name = _join(path, name)
        for name, m in self._modules.items():
            m._place(_join(path, name), self._child_scope(name))

    # --- walking the tree -------------------------------------------------------------------------
    def named_modules(self, prefix: str = "", _seen=None):
        """(dotted path, module) for this module and every descendant, each module once."""
        _seen = set() if _seen is None else _seen
        if id(self) in _seen:
            return
        _seen.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            yield from m.named_modules(_join(prefix, name), _seen)

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_children(self):
        return iter(self._modules.items())

    def children(self):
        return iter(self._modules.values())

    def _named(self, registry, recurse):
        seen = set()
        for path, m in self.named_modules() if recurse else [("", self)]:
            for name, t in getattr(m, registry).items():
                if t is not None and id(t) not in seen:
                    seen.add(id(t))
                    yield _join(path, name), t

    def named_parameters(self, recurse: bool = True):
        return self._named("_parameters", recurse)

    def parameters(self, recurse: bool = True):
        return (p for _, p in self.named_parameters(recurse))

    def named_buffers(self, recurse: bool = True):
        return self._named("_buffers", recurse)

    def buffers(self, recurse: bool = True):
        return (b for _, b in self.named_buffers(recurse))

    # --- modes, gradients, dtypes -----------------------------------------------------------------
    def train(self, mode: bool = True):
        """Switch this module and its descendants to training (or, with False, evaluation) mode."""
        for m in self.modules():
            m.__dict__["training"] = bool(mode)
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True):
        """Forget the gradients: set .grad to None (PyTorch's default), or to zeros."""
        for p in self.parameters():
            p.grad = None if set_to_none or p.grad is None else mg.zeros_like(p)

    def _cast(self, dtype):
        for t in (*self.parameters(), *self.buffers()):
            if t.dtype.kind == "f" and t.dtype != dtype:
                t.data, t.grad = t.data.astype(dtype), None
        return self

    def float(self):
        """Cast floating-point parameters and buffers to float32 (in place; grads are dropped)."""
        return self._cast(mg.float32)

    def double(self):
        """Cast floating-point parameters and buffers to float64 (in place; grads are dropped)."""
        return self._cast(mg.float64)

    # --- saving and loading -----------------------------------------------------------------------
    def _state(self):
        """(key, tensor) of the parameters and persistent buffers, under PyTorch's dotted keys."""
        for path, m in self.named_modules():
            for name, t in (*m._parameters.items(), *m._buffers.items()):
                if t is not None and name not in m._non_persistent:
                    yield _join(path, name), t

    def state_dict(self) -> "OrderedDict[str, Tensor]":
        """Parameters and persistent buffers under PyTorch's dotted keys, as detached Tensors that
        share memory with the module."""
        return OrderedDict((key, t.detach()) for key, t in self._state())

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values (Tensors or arrays) into this module's parameters and buffers, in place.

        Raises ValueError naming every mis-shaped key with both shapes, and with strict=True every
        missing and unexpected key. Returns (missing_keys, unexpected_keys).
        """
        own = OrderedDict(self._state())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        values = {key: mg.tensor(state_dict[key]) for key in own if key in state_dict}
        mismatched = [f"{key}: checkpoint {v.shape}, model {own[key].shape}"
                      for key, v in values.items() if v.shape != own[key].shape]
        problems = [f"{what}: {', '.join(keys)}" for what, keys in
                    (("missing keys", missing if strict else []),
                     ("unexpected keys", unexpected if strict else []),
                     ("mis-shaped keys", mismatched)) if keys]
        if problems:
            raise ValueError(f"load_state_dict: {type(self).__name__} cannot load this state dict; "
                             + "; ".join(problems))
        with mg.no_grad():
            for key, value in values.items():
                own[key].copy_(value)
        return IncompatibleKeys(missing, unexpected)

    # --- printing ---------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The configuration shown inside the parentheses of repr; layers override it."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        lines = (extra.split("\n") if extra else []) + [
            f"({n}): " + repr(m).replace("\n", "\n  ") for n, m in self._modules.items()]
        if not self._modules and len(lines) <= 1:
            return f"{type(self).__name__}({extra})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


class _ModuleSequence(Module):
    """Modules held under the names '0', '1', ... (or given names), in order."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
            modules = modules[0]
        items = modules[0].items() if len(modules) == 1 and isinstance(modules[0], dict) else \
            ((str(i), m) for i, m in enumerate(modules))
        for name, m in items:
            self._add(name, m)

    def _add(self, name, m):
        if not isinstance(m, Module):
            raise TypeError(f"{type(self).__name__}: item {name} is a {type(m).__name__}, not a "
                            "Module")
        setattr(self, name, m)

    def append(self, module: Module):
        self._add(str(len(self)), module)
        return self

    def __len__(self):
        return len(self._modules)

    __iter__ = Module.children

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            part = type(self)()
            # registered without renaming: the modules stay where they are in the original tree
            part._modules.update(items[index])
            part.__dict__.update(items[index])
            return part
        if not -len(items) <= index < len(items):
            raise IndexError(f"{type(self).__name__}: index {index} is out of range for "
                             f"{len(items)} modules")
        return items[index][1]


class Sequential(_ModuleSequence):
    """Modules run in order, each on the previous output: Sequential(a, b, c), Sequential([a, b, c])
    (Keras style) or Sequential(OrderedDict(name=module, ...)). Unnamed ones are named '0', '1',
    ..."""

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x


class ModuleList(_ModuleSequence):
    """A list of modules whose parameters are registered; iterate over it in your own forward."""

    _called = False

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self
