"""The reverse-mode engine: recording primitives into a graph and walking it backwards.

Each Tensor made by a primitive keeps that primitive as `_ctx`; the primitive keeps its input Tensors
while a gradient may still be needed. Outputs are referenced weakly, so a graph holds no reference
cycles and is freed by reference counting alone as soon as nothing points at its outputs.
"""
import contextlib
import itertools
import weakref

from .backend import ndarray, xp


class _Mode:
    grad = True      # record graphs?
    scope = ()       # ((kind, name, serial), ...) of the composites and modules being run
    inplace = 0      # counts in-place updates; a tensor's _version is the count at its last one


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
        t = _t.Tensor._wrap(out)
        if _Mode.grad:
            for x in inputs:
                if x._requires_grad:           # record the node: t needs a gradient
                    t._requires_grad = True
                    t._ctx = op
                    op.inputs = inputs
                    op.stamp = _Mode.inplace
                    op.scope = _Mode.scope
                    if cls.save_output:
                        op.out = weakref.ref(t)
                    break
        return t

    def output(self):
        """This op's output Tensor (alive while backward runs: the walk holds it)."""
        return self.out()

    def __repr__(self):
        return f"<{type(self).__name__}>"


class _GradMode(contextlib.ContextDecorator):
    def __init__(self, enabled):
        self.enabled, self._prev = enabled, []

    def __enter__(self):
        self._prev.append(_Mode.grad)
        _Mode.grad = self.enabled

    def __exit__(self, *exc):
        _Mode.grad = self._prev.pop()


def no_grad():
    """Context manager and decorator: run without recording a graph."""
    return _GradMode(False)


def enable_grad():
    """Context manager and decorator: record a graph, even inside no_grad."""
    return _GradMode(True)


def is_grad_enabled() -> bool:
    return _Mode.grad


class scope(contextlib.ContextDecorator):
    """Tag every op recorded inside with a named scope, so graph pictures can draw a composite op
    (kind "op") or a module (kind "module") as one box. Usable as a decorator."""

    def __init__(self, name: str, kind: str = "op"):
        self.name, self.kind, self._prev = name, kind, []

    def __enter__(self):
        self._prev.append(_Mode.scope)
        _Mode.scope = _Mode.scope + ((self.kind, self.name, next(_serial)),)
        return self

    def __exit__(self, *exc):
        _Mode.scope = self._prev.pop()


def _topological_order(roots):
    """Tensors that need a gradient, each after all of its inputs (iterative: no recursion limit)."""
    order, seen, stack = [], set(), [(r, False) for r in roots]
    push, pop = stack.append, stack.pop
    while stack:
        t, expanded = pop()
        if expanded:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        push((t, True))
        op = t._ctx
        if op is not None and op.inputs is not None:
            for x in op.inputs:
                if x._requires_grad and id(x) not in seen:
                    push((x, False))
    return order


def bump_version(t):
    """Mark `t` as modified in place, so a backward that saved it refuses to run."""
    _Mode.inplace += 1
    t._version = _Mode.inplace


def _check_node(op):
    if op.inputs is None:
        raise RuntimeError(
            f"backward: the graph through {type(op).__name__} was already freed by an earlier "
            "backward; pass retain_graph=True to the first backward (or mg.grad) to go through it "
            "again")
    for x in op.inputs:
        if x._version > op.stamp:
            raise RuntimeError(
                f"backward: an input of {type(op).__name__} (shape {x.shape}) was modified in place "
                "after it was used, so its gradient would be wrong. Use an out-of-place op, or "
                "modify a copy")


def _run_backward(roots, root_grads, retain_graph, create_graph, capture=None):
    """Propagate root_grads back through the graph. With `capture` (a set of tensor ids) return
    {id: gradient} for those tensors; otherwise accumulate into the .grad of leaves and retained
    tensors, as Tensor.backward does."""
    grads, captured = {}, {}
    for r, g in zip(roots, root_grads):
        grads[id(r)] = grads[id(r)] + g if id(r) in grads else g
    order = _topological_order(roots)
    with _GradMode(create_graph):
        for t in reversed(order):
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
                else:       # a gradient may be shared with another leaf or be a view: own a copy
                    t.grad = g if create_graph else _t.Tensor._wrap(g.data.copy())
            if op is None:
                continue
            if op.inputs is None or _Mode.inplace != op.stamp:
                _check_node(op)
            for x, gx in zip(op.inputs, op.backward(g)):
                if gx is None or not x._requires_grad:
                    continue
                if gx.data.shape != x.data.shape or gx.data.dtype != x.data.dtype:
                    raise AssertionError(
                        f"backward of {type(op).__name__} gave a gradient {gx.shape} {gx.dtype} for "
                        f"an input {x.shape} {x.dtype}")
                prev = grads.get(id(x))
                grads[id(x)] = gx if prev is None else prev + gx
            if not retain_graph:
                op.__dict__.clear()     # drops inputs, saved output and buffers: the graph is freed
    return captured


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _seed_gradients(outputs, grad_outputs, caller):
    """The gradient each output starts with: given, or ones for a single-element output."""
    seeds = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(out, _t.Tensor):
            raise TypeError(f"{caller}: output {i} is a {type(out).__name__}, not a Tensor")
        if not out._requires_grad:
            raise RuntimeError(
                f"{caller}: output {i} (shape {out.shape}) does not require grad: it was computed "
                "under no_grad or from tensors none of which has requires_grad=True")
        if g is None:
            if out.size != 1:
                raise RuntimeError(
                    f"{caller}: output has shape {out.shape}; reduce it to a scalar (e.g. .sum()) "
                    f"or pass a gradient of shape {out.shape}")
            g = _t.Tensor._wrap(xp.ones(out.shape, out.dtype))
        else:
            g = g if isinstance(g, _t.Tensor) else _t.tensor(g, dtype=out.dtype)
            if g.shape != out.shape:
                raise ValueError(f"{caller}: gradient has shape {g.shape} but the output has shape "
                                 f"{out.shape}")
            if g.dtype != out.dtype:
                g = g.astype(out.dtype)
        seeds.append(g)
    return seeds


def backward(tensor, gradient=None, retain_graph=False, create_graph=False):
    """Accumulate d(tensor)/d(leaf) into the .grad of every leaf that requires grad."""
    (seed,) = _seed_gradients([tensor], [gradient], "backward")
    _run_backward([tensor], [seed], retain_graph or create_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Gradients of `outputs` with respect to `inputs`, returned as a tuple (nothing accumulates into
    .grad). With create_graph=True the gradients are themselves differentiable."""
    outputs, inputs = _as_list(outputs), _as_list(inputs)
    grad_outputs = [None] * len(outputs) if grad_outputs is None else _as_list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    for i, x in enumerate(inputs):
        if not isinstance(x, _t.Tensor) or not x._requires_grad:
            raise ValueError(f"grad: input {i} does not require grad")
    seeds = _seed_gradients(outputs, grad_outputs, "grad")
    retain = create_graph if retain_graph is None else retain_graph
    captured = _run_backward(outputs, seeds, retain, create_graph, capture={id(x) for x in inputs})
    result = tuple(captured.get(id(x)) for x in inputs)
    for i, g in enumerate(result):
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {inputs[i].shape}) was not used to compute "
                               "the outputs; pass allow_unused=True to get None for it")
    return result


from . import tensor as _t  # noqa: E402  (tensor imports this module; bound last to break the cycle)
