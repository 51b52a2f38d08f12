"""The reverse-mode engine: recording primitives into a graph and walking it backwards.

Each Tensor made by a primitive keeps that primitive as `_ctx`; the primitive keeps its input
Tensors while a gradient may still be needed. Outputs are referenced weakly, so a graph holds no
reference cycles and is freed by reference counting alone as soon as nothing points at its outputs.
"""
import functools
import itertools
import weakref

from .backend import ndarray, xp


class _Mode:
    grad = True      # record graphs?
    scope = ()       # ((kind, name, serial), ...) of the composites and modules being run
    inplace = 0      # counts in-place updates; a tensor's _version is the count at its last one
    trace = None     # the recorder while mg.compile traces a step (minigrad/compile.py)


_serial = itertools.count()


class Primitive:
    """Base of every primitive op: `forward` over arrays, `backward` over Tensors."""

    inputs = None          # the input Tensors, kept by the engine until backward frees them
    save_output = False    # set on primitives whose backward reads their own output

    @classmethod
    def apply(cls, *inputs, **params):
        op = cls()
        out = op.forward(*[x.data for x in inputs], **params)
        if type(out) is not ndarray:        # numpy returns scalars from 0-d ufuncs and reductions
            out = xp.asarray(out)
        if _Mode.trace is not None:
            _Mode.trace.primitive(cls, inputs, params, out)
        t = _t.Tensor._wrap(out)
        if _Mode.grad:
            for x in inputs:
                if x._requires_grad:           # record the node: t needs a gradient
                    t._requires_grad, t._ctx = True, op
                    op.inputs, op.stamp, op.scope = inputs, _Mode.inplace, _Mode.scope
                    if cls.save_output:
                        op.out = weakref.ref(t)
                    break
        return t

    def output(self):
        """This op's output Tensor (alive while backward runs: the walk holds it)."""
        return self.out()


class _Setting:
    """Context manager and decorator: sets _Mode.<field> to value() for the length of a with-block
    or of each call of the decorated function, and restores it afterwards."""

    def __init__(self, field: str, value):
        self.field, self.value, self._saved = field, value, []     # a stack: re-entrant

    def __enter__(self):
        self._saved.append(getattr(_Mode, self.field))
        setattr(_Mode, self.field, self.value())

    def __exit__(self, *exc_info):
        setattr(_Mode, self.field, self._saved.pop())

    def __call__(self, fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return run


def no_grad():
    """Context manager and decorator: run without recording a graph."""
    return _Setting("grad", lambda: False)


def enable_grad():
    """Context manager and decorator: record a graph, even inside no_grad."""
    return _Setting("grad", lambda: True)


def is_grad_enabled() -> bool:
    return _Mode.grad


def scope(name: str, kind: str = "op"):
    """Tag every op recorded inside with a named scope, so graph pictures can draw a composite op
    (kind "op") or a module (kind "module") as one box. Also a decorator (one scope per call)."""
    return _Setting("scope", lambda: _Mode.scope + ((kind, name, next(_serial)),))


def host(fn, *args):
    """fn(*args): array work outside the primitives (a copy, a mask, an in-place update), which a
    compiled step (minigrad/compile.py) records so that it redoes it on every call."""
    out = fn(*args)
    return out if _Mode.trace is None else _Mode.trace.host(fn, args, out)


def tracing():
    """The recorder of mg.compile while it records a step (which must then take no shortcut that
    depends on values), else None."""
    return _Mode.trace


def untraceable(what: str):
    """Raise while mg.compile traces: `what` reads tensor values into Python."""
    if _Mode.trace is not None:
        _Mode.trace.refuse(what)


def bump_version(t):
    """Mark `t` as modified in place, so a backward that saved it refuses to run."""
    _Mode.inplace += 1
    t._version = _Mode.inplace
    if _Mode.trace is not None:     # mg.compile copies an argument so updated back to the caller
        _Mode.trace.updated(t.data)


def _topological_order(roots):
    """Tensors that need a gradient, each after all of its inputs (iterative: no recursion
    limit). Inputs are visited in order, so a graph always gives the same order (viz numbers its
    nodes by it)."""
    order, seen, stack = [], set(), [(r, False) for r in roots]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
        elif id(t) not in seen:
            seen.add(id(t))
            stack.append((t, True))
            if t._ctx is not None and t._ctx.inputs is not None:
                stack.extend((x, False) for x in reversed(t._ctx.inputs)
                             if x._requires_grad and id(x) not in seen)
    return order


def _check_node(op):
    """Refuse to go through a freed node, or one whose saved inputs were modified in place."""
    name = type(op).__name__
    if op.inputs is None:
        raise RuntimeError(f"backward: the graph through {name} was already freed by an earlier "
                           "backward; pass retain_graph=True to that backward to go through it "
                           "again")
    for x in op.inputs:
        if x._version > op.stamp:
            raise RuntimeError(f"backward: an input of {name} (shape {x.shape}) was modified in "
                               "place after it was used, so its gradient would be wrong")


def _run_backward(roots, root_grads, retain_graph, create_graph, capture=None):
    """Propagate root_grads back through the graph. With `capture` (a set of tensor ids) return
    {id: gradient} for those tensors; otherwise accumulate into the .grad of leaves and retained
    tensors, as Tensor.backward does."""
    grads, captured = {}, {}
    for r, g in zip(roots, root_grads):
        grads[id(r)] = grads[id(r)] + g if id(r) in grads else g
    with _Setting("grad", lambda: create_graph):
        for t in reversed(_topological_order(roots)):
            g = grads.pop(id(t), None)
            if g is None:
                continue
            op = t._ctx
            if capture is not None:
                if id(t) in capture:
                    captured[id(t)] = g
            elif op is None or t._retains_grad:
                if t.grad is not None:
                    t.grad = t.grad + g
                else:       # g may be another leaf's gradient or a read-only view: own a copy
                    t.grad = g if create_graph else _t.Tensor._wrap(host(ndarray.copy, g.data))
            if op is None:
                continue
            if op.inputs is None or _Mode.inplace != op.stamp:
                _check_node(op)
            for x, gx in zip(op.inputs, op.backward(g)):
                if gx is None or not x._requires_grad:
                    continue
                if gx.data.shape != x.data.shape or gx.data.dtype != x.data.dtype:
                    raise AssertionError(f"backward of {type(op).__name__} gave a gradient "
                                         f"{gx.shape} {gx.dtype} for an input {x.shape} {x.dtype}")
                grads[id(x)] = grads[id(x)] + gx if id(x) in grads else gx
            if not retain_graph:
                op.__dict__.clear()     # drops inputs, saved output and buffers: the graph is freed
    return captured


def _seed(out, gradient, caller):
    """The gradient `out` starts from: `gradient`, or ones for a one-element output."""
    if not isinstance(out, _t.Tensor):
        raise TypeError(f"{caller}: the output is a {type(out).__name__}, not a Tensor")
    if not out._requires_grad:
        raise RuntimeError(f"{caller}: the output (shape {out.shape}) does not require grad: it "
                           "was computed under no_grad or from tensors none of which requires grad")
    if gradient is None:
        if out.size != 1:
            raise RuntimeError(f"{caller}: output has shape {out.shape}; reduce it to a scalar "
                               f"(e.g. .sum()) or pass a gradient of shape {out.shape}")
        return _t.Tensor._wrap(xp.ones(out.shape, out.dtype))
    g = gradient if isinstance(gradient, _t.Tensor) else _t.Tensor(gradient)
    if g.shape != out.shape:
        raise ValueError(f"{caller}: gradient has shape {g.shape} but the output has shape "
                         f"{out.shape}")
    return g.astype(out.dtype)


def backward(tensor, gradient=None, retain_graph=False, create_graph=False):
    """Accumulate d(tensor)/d(leaf) into the .grad of every leaf that requires grad."""
    seed = _seed(tensor, gradient, "backward")
    _run_backward([tensor], [seed], retain_graph or create_graph, create_graph)


def _listed(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Gradients of `outputs` with respect to `inputs`, returned as a tuple (nothing accumulates
    into .grad). With create_graph=True the gradients are themselves differentiable."""
    outputs, inputs = _listed(outputs), _listed(inputs)
    grad_outputs = [None] * len(outputs) if grad_outputs is None else _listed(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    for i, x in enumerate(inputs):
        if not isinstance(x, _t.Tensor) or not x._requires_grad:
            raise ValueError(f"grad: input {i} does not require grad")
    seeds = [_seed(out, g, "grad") for out, g in zip(outputs, grad_outputs)]
    retain = create_graph if retain_graph is None else retain_graph
    captured = _run_backward(outputs, seeds, retain, create_graph, {id(x) for x in inputs})
    for i, x in enumerate(inputs):
        if id(x) not in captured and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {x.shape}) was not used to compute the "
                               "outputs; pass allow_unused=True to get None for it")
    return tuple(captured.get(id(x)) for x in inputs)


from . import tensor as _t  # noqa: E402  (circular: bound after all that tensor.py uses)
