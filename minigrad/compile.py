"""mg.compile: record a whole training step once, then replay it without building graphs.

`step = mg.compile(fn)` wraps a function of tensors, typically forward, `loss.backward()` and
`optimizer.step()`. For each new set of argument shapes, dtypes and requires_grad flags (and of
arguments that share memory):

1. The first call runs `fn` eagerly (optimizers create their state then). The next two run it
   eagerly while a recorder notes every primitive applied (those of
   the forward pass and those the backward walk runs) and every array computation outside the
   primitives that the engine marks with `autograd.host` (gradient copies, masks, in-place
   updates, the optimizer's update of each parameter). Each array is tracked by the memory it
   lives in, so views (reshapes, broadcasts, sliding windows) need no work when replaying: they
   keep pointing at buffers whose contents the replay rewrites in place.
2. The two recordings must agree: the same operations wired the same way, and every array made
   from NumPy data inside the step equal on both calls. Anything else is refused.
3. Later calls replay the second recording: every instruction was bound once to the array views
   it reads and writes (they never change), so a replay only runs those calls. The inputs are
   copied into buffers the program owns, elementwise primitives, matmuls, relu, selects, sums,
   maxima, padding, concatenation, the windows' scatter-add, gradient copies, one_hot and
   backward's relu and max-pool masks write straight into their preallocated outputs (NumPy's
   `out=`), a reshape that must copy copies once, into its buffer; the other operations (indexing)
   compute a fresh array that is copied into theirs, and the optimizer's update functions run
   again on the live parameters and state (so a changed learning rate counts; they write their
   intermediate values into the optimizer's scratch memory, so a replayed step allocates no
   arrays of its own; NumPy's iteration buffers, used for casts and operands in two memory
   orders, are kept at 2,048 elements while replaying). A temporary's buffer is one that an
   earlier temporary, dead by then (its last reader has run), leaves free, where one is large
   enough. Results are returned as fresh tensors. A recording that fails (refused, or raising)
   is dropped: the next call records afresh. Not done: fusing elementwise chains (numexpr
   gained nothing, a numba prototype 3%: docs/compile.md).

What cannot be replayed raises `CompileError` while tracing: reading a value into Python
(`bool(t)`, `.item()`, `.numpy()`, `float(t)`), random numbers (dropout), arrays made from NumPy
data that differ between calls, and a step that reads a result of its previous call. A replay
works on its own copy of each argument: one that the step updates in place (`x.add_(1)`, through
a view of it, or an optimizer over it) is copied back to the caller's tensor afterwards.

What a replay does not see: Python numbers that the step reads are fixed when it is recorded
(`x * beta` with a global `beta` changed later keeps the recorded value): pass numbers that
change as tensor arguments. The grad mode is part of the signature (a call under no_grad records
afresh, and fails as eager does), and the train/eval mode of each module the step called is
checked before every replay: a module switched since the recording makes the step record again.

Size budget: 450 code lines
"""
import dataclasses
import functools
import weakref

from . import autograd, functions, ops
from .backend import ndarray, xp
from .tensor import Tensor

class CompileError(RuntimeError):
    """A step that mg.compile cannot record and replay faithfully."""


_UFUNCS = {ops.Add: xp.add, ops.Sub: xp.subtract, ops.Mul: xp.multiply, ops.Div: xp.divide,
           ops.Neg: xp.negative, ops.Pow: xp.power, ops.Exp: xp.exp, ops.Log: xp.log,
           ops.Sqrt: xp.sqrt, ops.Tanh: xp.tanh, ops.Abs: xp.absolute, ops.Maximum: xp.maximum,
           ops.Minimum: xp.minimum}


def _matmul_into(out, a, b):
    (xp.dot if a.ndim == 2 == b.ndim and out.flags.c_contiguous else xp.matmul)(a, b, out=out)


def _reshape_into(out, a, shape):
    """A copying reshape written straight into its buffer: one copy, not two."""
    if out.flags.c_contiguous:
        out.reshape(a.shape)[...] = a
    else:
        out[...] = a.reshape(shape)


def _pad_into(out, a, widths, value):
    out.fill(value)
    out[tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, a.shape))] = a


def _scatter_into(out, g, shape, axes, size, stride, dilation):
    out.fill(0)
    ops.scatter_windows(out, g, axes, stride, dilation)


# the primitives (and backward's masks) that replay writes straight into their output; the others
# are computed, then copied
_INTO = {**{cls: (lambda out, *a, f=f: f(*a, out=out)) for cls, f in _UFUNCS.items()},
         ops.MatMul: _matmul_into, ops.Reshape: _reshape_into, ops.Pad: _pad_into,
         ops.WindowsAdd: _scatter_into, ndarray.copy: lambda out, a: xp.copyto(out, a),
         ops._ties: lambda out, a, top: xp.equal(a, top, out=out),
         ops._kept_sum: lambda out, a, axis: a.sum(axis, keepdims=True, out=out),
         functions._one_hot: lambda out, idx, n, dtype: functions._one_hot(idx, n, dtype, out),
         ops._keep: lambda out, a, dtype: xp.subtract(1, xp.less_equal(a, 0, out=out), out=out),
         # ^ 1 - (a <= 0): ops._keep's ~(a <= 0), nan included, with no boolean temporary
         ops.Concat: lambda out, *arrays, axis: xp.concatenate(arrays, axis=axis, out=out),
         ops.Relu: lambda out, a: xp.maximum(0, a, out=out),
         ops.Where: lambda out, a, b, cond: ops.select(a, b, cond, out),
         ops.Sum: lambda out, a, axis, keepdims: a.sum(axis, keepdims=keepdims, out=out),
         ops.Max: lambda out, a, axis, keepdims: a.max(axis, keepdims=keepdims, out=out)}


def _bounds(a):
    """(first byte, end) of the memory `a` touches."""
    lo, hi = xp.lib.array_utils.byte_bounds(a)
    return lo, max(hi, lo + 1)


@dataclasses.dataclass(frozen=True)
class _Ref:
    """An array operand inside an op's parameters (a mask, an index array): slot number `i`."""

    i: int


def _map(v, leaf):
    """`v` with `leaf` applied to each item, nested tuples rebuilt around them."""
    return tuple(_map(x, leaf) for x in v) if isinstance(v, tuple) else leaf(v)


class _Region:
    """A block of memory: an input buffer, state from outside the step (parameters, optimizer
    buffers, constants), or one made by an operation of the step."""

    def __init__(self, kind, lo, hi, owner, maker=None):
        self.kind, self.lo, self.nbytes, self.maker = kind, lo, hi - lo, maker
        self.ref = owner if kind != "made" else weakref.ref(owner)


class _Slot:
    """One array of the recording: a view (shape, dtype, strides, offset) of a region."""

    def __init__(self, i, a, region):
        self.i, self.region, self.shape, self.dtype = i, region, a.shape, a.dtype
        self.strides = a.strides
        self.offset = a.__array_interface__["data"][0] - region.lo


class _Recorder:
    """Notes the primitives and host computations of one eager call of the step."""

    def __init__(self):
        self.slots, self.by_id, self.regions, self.instrs = [], {}, [], []
        self.guards, self.objects, self.modes, self.written = [], {}, {}, set()
        # modes: {id: (module, its training flag)}; written: the input regions updated in place

    def refuse(self, what):
        raise CompileError(f"mg.compile: the step uses {what}, which a recorded program cannot "
                           "replay; move it out of the compiled function (e.g. call .item() on "
                           "the returned loss)")

    def _region(self, a):
        """The live region that holds the memory of `a`, or None."""
        lo, hi = _bounds(a)
        return next((r for r in self.regions if r.lo <= lo and hi <= r.lo + r.nbytes
                     and (r.kind != "made" or r.ref() is not None)), None)

    def slot(self, a, maker=None, tensor=None):
        s = self.by_id.get(id(a))
        if s is not None:
            return s
        region = self._region(a)
        if region is None:
            owner = a       # the array that owns the memory
            while isinstance(owner.base, ndarray):
                owner = owner.base
            lo, hi = _bounds(owner if owner.flags.owndata else a)
            kind = "made" if maker is not None else "input" if isinstance(tensor, str) else "outer"
            region = _Region(kind, lo, hi, owner, maker)
            self.regions.append(region)
        s = _Slot(len(self.slots), a, region)
        self.slots.append(s)
        self.by_id[id(a)] = s
        weakref.finalize(a, self.by_id.pop, id(a), None)
        outer = region.kind == "outer"      # held: compared with the other recording
        self.objects[s.i] = (lambda a=a: a) if outer else weakref.ref(a)
        if outer and isinstance(tensor, Tensor):
            self.guards.append((weakref.ref(tensor), a))
        return s

    def updated(self, a):
        """An in-place update (autograd.bump_version): a replay makes it to its own copy of an
        argument, so an argument so updated is copied back to the caller's tensor."""
        region = self._region(a)
        if region is not None and region.kind == "input":
            self.written.add(id(region))

    def _arg(self, v):
        return _map(v, lambda a: _Ref(self.slot(a).i) if isinstance(a, ndarray) else a)

    def _add(self, kind, fn, ins, params, out):
        """Append an instruction; an output in memory that no slot or live region holds yet gets
        a slot that this instruction makes."""
        seen = not isinstance(out, ndarray) or id(out) in self.by_id or self._region(out)
        made = None if seen else self.slot(out, maker=len(self.instrs)).i
        self.instrs.append([kind, fn, ins, params, made])

    def primitive(self, cls, inputs, params, out):
        ins = [self.slot(x.data, tensor=x).i for x in inputs]
        self._add("prim", cls, ins, {k: self._arg(v) for k, v in params.items()}, out)

    def host(self, fn, args, out):
        out = xp.asarray(out) if isinstance(out, xp.generic) else out
        self._add("host", fn, [self._arg(a) for a in args], {}, out)
        return out


def _code(fn):
    """What identifies a host function across two recordings: its code and closure values."""
    code = getattr(fn, "__code__", fn)
    cells = tuple(c.cell_contents for c in getattr(fn, "__closure__", None) or ())
    return code, tuple(c if isinstance(c, (xp.ufunc, str, int, float)) else id(c) for c in cells)


def _describe(instr):
    kind, what = instr[0], instr[1]
    return what.__name__ if kind == "prim" else getattr(what, "__qualname__", repr(what))


def _check_same(first, second):
    """Refuse unless two recordings of the step did the same thing."""
    if len(first.instrs) != len(second.instrs):
        raise CompileError(f"mg.compile: the step ran {len(first.instrs)} operations on its first "
                           f"call and {len(second.instrs)} on its second: its Python control "
                           "flow depends on something that changes between calls")
    for a, b in zip(first.instrs, second.instrs):
        same = a[0] == b[0] and a[4] == b[4] and len(a[2]) == len(b[2]) and all(
            map(_equal, a[2], b[2])) and (   # host arguments: a dict (a param group) by identity
            a[1] is b[1] if a[0] == "prim" else _code(a[1]) == _code(b[1]))
        if not same or a[3].keys() != b[3].keys() or any(
                not _equal(a[3][k], b[3][k]) for k in a[3]):
            raise CompileError(f"mg.compile: the step's operations differ between its first two "
                               f"calls ({_describe(a)} against {_describe(b)}): its Python "
                               "control flow depends on something that changes between calls")
    made_first = {id(first.objects[s.i]()) for s in first.slots if s.region.kind == "made"}
    for s1, s2 in zip(first.slots, second.slots):
        if s2.region.kind != "outer":
            continue
        a1, a2 = first.objects[s1.i](), second.objects[s2.i]()
        user = next(_describe(i) for i in second.instrs if s2.i in _uses(i))
        if id(a2) in made_first:
            raise CompileError(f"mg.compile: {user} reads a result of the step's previous call "
                               "(state kept by reassigning a tensor: update it in place; "
                               "gradients accumulated across calls without zero_grad, or zeroed "
                               "in place by zero_grad(set_to_none=False): set them to None)")
        if a1 is not a2 and not (a1.dtype == a2.dtype and xp.array_equal(a1, a2, equal_nan=True)):
            raise CompileError(f"mg.compile: an array made from NumPy data inside the step (shape "
                               f"{a2.shape}, used by {user}) differs between calls, as random "
                               "numbers (dropout's mask) do; pass it to the compiled function "
                               "as an argument instead")


def _equal(a, b):
    try:
        return bool(a == b) if not isinstance(a, (dict, list)) else a is b
    except (TypeError, ValueError):
        return a is b


def _leaves(v):
    """The items of a nested tuple, in order."""
    return [x for item in v for x in _leaves(item)] if isinstance(v, tuple) else [v]


def _uses(instr):
    """Slot numbers an instruction reads or writes (a host computation's arguments are values,
    its arrays among them as _Refs: an int there is a number, such as one_hot's class count)."""
    kind, _, ins, params, out = instr
    refs = [v.i for v in _leaves((*ins, *params.values())) if isinstance(v, _Ref)]
    return [i for i in [*(ins if kind == "prim" else []), out] if i is not None] + refs


def _store(out, run, name):
    """An instruction that computes a fresh array, copied into its buffer; one whose shape
    differs from the recording's depends on values (a boolean mask), which no replay can follow."""
    value = run()
    if xp.shape(value) != out.shape:
        raise CompileError(f"mg.compile: {name} gave shape {xp.shape(value)} where the recorded "
                           f"step had {out.shape}: its shape depends on tensor values (a boolean "
                           "mask), which a recorded program cannot replay; run the step eagerly")
    out[...] = value


def _buffers(rec, result):
    """A buffer per region: state from outside is its own memory; inputs and temporaries get
    buffers the program owns, a temporary the smallest one that a dead region (its last reader
    ran before the temporary is made) leaves free."""
    last = {id(rec.slots[i].region): len(rec.instrs) for i in result}      # read at the end
    for j, instr in enumerate(rec.instrs):
        for i in _uses(instr):
            last[id(rec.slots[i].region)] = max(last.get(id(rec.slots[i].region), j), j)
    bufs, free = {}, []     # free: [the last instruction that reads it, buffer]
    for r in rec.regions:   # in the order they were made
        if r.kind != "made":
            bufs[id(r)] = _flat(r.ref) if r.kind == "outer" else xp.empty(r.nbytes, xp.uint8)
            continue
        fits = [f for f in free if f[0] < r.maker and f[1].nbytes >= r.nbytes]
        if fits:
            entry = min(fits, key=lambda f: f[1].nbytes)
        else:
            entry = [0, xp.empty(r.nbytes, xp.uint8)]
            free.append(entry)
        entry[0] = last.get(id(r), r.maker)     # busy until this region's last reader
        bufs[id(r)] = entry[1]
    return bufs


class _Program:
    """The replay of one recording: a buffer per region, an array view per slot."""

    def __init__(self, rec, inputs, result):
        self.inputs = [rec.by_id[id(x.data)].i for x in inputs]
        self.result = [rec.by_id[id(t.data)].i for t in _tensors(result)]
        self.instrs, self.slots, self.grads = rec.instrs, rec.slots, rec.grads
        self.modes = list(rec.modes.values())
        self.written = [k for k, i in enumerate(self.inputs)
                        if id(rec.slots[i].region) in rec.written]
        bufs = _buffers(rec, self.result + [i for _, i in self.grads])     # both live to the end
        self.views = [xp.ndarray(s.shape, s.dtype, buffer=bufs[id(s.region)], offset=s.offset,
                                 strides=s.strides) for s in rec.slots]
        # tensors from outside the step (parameters) must still hold the arrays replay reads
        self.guards = [(t, a) for t, a in rec.guards if t() is not None and t().data is a]
        self.bind()

    def _resolve(self, v):
        return _map(v, lambda r: self.views[r.i] if isinstance(r, _Ref) else r)

    def bind(self):
        """Each instruction as a call with its operands bound: the views never change, so a
        replay only runs the calls."""
        self.calls = []
        for kind, fn, ins, params, out in self.instrs:
            arrays = [self._resolve(a) if kind == "host" else self.views[a] for a in ins]
            kwargs = {k: self._resolve(v) for k, v in params.items()}
            if fn in _INTO and out is not None:
                self.calls.append(functools.partial(_INTO[fn], self.views[out], *arrays, **kwargs))
                continue        # written in place: no temporary
            run = functools.partial(fn if kind == "host" else fn().forward, *arrays, **kwargs)
            self.calls.append(run if out is None else functools.partial(
                _store, self.views[out], run, _describe((kind, fn))))

    def __call__(self, args):
        if any(t() is not None and t().data is not a for t, a in self.guards) or any(
                m.training != training for m, training in self.modes):
            return None         # state replaced from outside, or a module's mode changed: retrace
        for i, x in zip(self.inputs, args):
            self.views[i][...] = x.data
        bufsize = xp.setbufsize(2048)   # numpy's iteration buffers (casts, operands in two memory
        try:                            # orders) at a quarter of its 8,192 elements, as fast
            for run in self.calls:
                run()
        finally:
            xp.setbufsize(bufsize)
        for k in self.written:      # arguments the step updates in place get their new values
            x = args[k]
            if not x.data.flags.writeable:      # as Tensor's in-place methods do
                x.data = x.data.copy()
            xp.copyto(x.data, self.views[self.inputs[k]])
            autograd.bump_version(x)
        for k, i in self.grads:     # this call's gradients, in the program's buffers
            t = args[k] if isinstance(k, int) else k()
            if t is not None:
                t.grad = Tensor._wrap(self.views[i])
        return [Tensor._wrap(self.views[i].copy()) for i in self.result]

    def dot(self) -> str:
        """The program as Graphviz DOT text: one box per operation (blue: written in place with
        out=), an arrow from the operation that made an array to each one that reads it."""
        lines = ["digraph program {", '  node [shape=box, style=filled, fontname="Helvetica"];']
        for j, instr in enumerate(self.instrs):
            kind, fn, ins, params, out = instr
            color = "#cfe2f3" if fn in _INTO and out is not None else \
                "#eeeeee" if kind == "prim" else "#fff2cc"
            lines.append(f'  i{j} [label="{_describe(instr)}", fillcolor="{color}"];')
            makers = {self.slots[i].region.maker for i in _uses(instr) if i != out}
            lines += [f"  i{m} -> i{j};" for m in sorted(makers - {None, j})]
        return "\n".join(lines + ["}"])


def _flat(a):
    """The bytes of an array that owns its memory, as a flat uint8 array."""
    return a.reshape(-1).view(xp.uint8) if a.flags.c_contiguous else a.view(xp.uint8)


def _tensors(result):
    items = () if result is None else result if isinstance(result, (tuple, list)) else (result,)
    if not all(isinstance(t, Tensor) for t in items):
        raise TypeError("mg.compile: the step must return None, a Tensor or a tuple of Tensors, got "
                        f"{type(result).__name__}")
    return items


def _record(fn, args):
    rec = _Recorder()
    for x in args:
        rec.slot(x.data, tensor="input")
    with autograd._Setting("trace", lambda: rec):
        result = fn(*args)
    for t in _tensors(result):
        rec.slot(t.data)
    # the gradients the step leaves on its arguments (by position) and on outside tensors
    holders = [*enumerate(args), *((ref, ref()) for ref, _ in rec.guards)]
    grads = [(k, rec.by_id.get(id(t.grad.data))) for k, t in holders
             if t is not None and t.grad is not None]
    rec.grads = [(k, s.i) for k, s in grads if s is not None and s.region.kind == "made"]
    return rec, result


def compile(fn):  # noqa: A001 (the public name, as torch.compile)
    """Wrap a step `fn(*tensors)`: warm up eagerly, record twice, then replay (module docstring)."""
    programs, seen, firsts, kinds = {}, {}, {}, {}

    @functools.wraps(fn)
    def step(*args):
        if not all(isinstance(x, Tensor) for x in args):
            raise TypeError("mg.compile: the compiled function takes Tensors only")
        shared = tuple(next((j for j in range(k) if xp.may_share_memory(args[j].data, x.data)),
                            k) for k, x in enumerate(args))     # arguments that share memory
        key = (autograd.is_grad_enabled(), shared,
               *((x.shape, x.dtype, x.requires_grad) for x in args))
        program = programs.get(key)
        if program is not None:
            out = program(args)
            if out is not None:
                return kinds[key](out)
            del programs[key]
            seen[key] = 1
        count = seen[key] = seen.get(key, 0) + 1
        if count == 1:      # warm-up: optimizers create their state on the first step
            return fn(*args)
        try:
            rec, result = _record(fn, args)
            if count == 2:
                firsts[key] = rec
                return result
            _check_same(firsts.pop(key), rec)
            programs[key] = _Program(rec, args, result)
            kinds[key] = (lambda out: None) if result is None else (lambda out: out[0]) \
                if isinstance(result, Tensor) else list if isinstance(result, list) else tuple
        except BaseException:
            seen[key], _ = 1, firsts.pop(key, None)     # dropped: the next call records afresh
            raise
        return result

    step.programs = programs    # {(grad mode, sharing, (shape, dtype, requires_grad) ...): program}
    return step
