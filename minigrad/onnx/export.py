"""ONNX export: one forward pass, as the engine records it, written as an ONNX model.

`export(model_or_fn, example_inputs, path)` runs the model once in eval mode on the example
inputs (made to require grad, so that every op is recorded) and walks the graph autodiff would
walk. Each call of a composite that ONNX has as one operator becomes that operator, found through
the scope the composite opens (the same scopes the graph pictures draw as boxes; rules.py has one
rule per scope name): `conv2d` -> Conv, `conv_transpose2d` -> ConvTranspose, `max_pool2d` ->
MaxPool, `avg_pool2d` -> AveragePool, `adaptive_avg_pool2d` (to 1x1 or whole tiles) ->
GlobalAveragePool / AveragePool, `batch_norm` (eval) -> BatchNormalization, `linear` on (N, I)
-> Gemm, `fold` -> Col2Im (opset 18), the activations (`relu`, `elu`, `hardtanh` -> Clip,
`hardswish` -> HardSigmoid and Mul, `mish` -> Softplus, Tanh and Mul ...), a recurrent layer's
loop over time (`lstm`, `gru_reverse` ...) -> LSTM / GRU / RNN, and `cross_entropy` / `nll_loss`
-> SoftmaxCrossEntropyLoss / NegativeLogLikelihoodLoss. A call whose rule refuses it (an LSTM
given its initial state) is lowered, the composites inside it still as theirs. Every other op is
lowered primitive by primitive (Add -> Add, Permute -> Transpose, Sum -> ReduceSum, Windows -> a
Gather per axis, an integer input used as an index -> Gather ...), so a recurrent cell exports
as its ops and a layer given its initial state as its unrolled steps. Parameters and buffers
become initializers named by their module paths (`conv1.weight`, `bn.running_mean`).

The batch dimension is dynamic by default: the forward pass is recorded a second time with one
more sample and other values, and the dimensions that differ between the two recordings become
"batch" in the model. The second recording also tells the constants that follow the data (a
mask, a detached maximum), which a model file could not replay, from those it can rebuild: one
value filled to a shape that follows the batch (an initial state of zeros; so a data mask that
both example inputs leave uniform is taken for one) becomes an Expand, the detached maximum that
softmax subtracts a ReduceMax, a number that grows with the batch (a mean's count) that count
computed from the input's shape; a Where between equal values (a detached copy that stops a
gradient) is its recorded input. Any other fails with an error naming the primitive, as does a
primitive with no ONNX lowering (Remainder, the adjoints IndexAdd and WindowsAdd outside
conv_transpose2d and fold, boolean indexing).

The `onnx` package (`pip install "minigrad[onnx]"`, which also brings onnxruntime to run the
model) builds the model with `onnx.helper`; nothing else in minigrad needs it.

"""
import contextlib

from .. import ops
from ..autograd import enable_grad
from ..backend import xp
from ..tensor import Tensor
from ..viz import _walk
from .rules import _PAIRS, _RULES, _pads

MIN_OPSET = 13      # Softmax over one axis, ReduceSum's axes as an input


def export(model_or_fn, example_inputs, path=None, opset_version: int = 17,
           dynamic_batch: bool = True):
    """Write the ONNX model of `model_or_fn` (a Module, run in eval mode, or any function of
    Tensors) applied to `example_inputs` (a Tensor, an array or a tuple of them) to `path`, and
    return the `onnx.ModelProto` (checked by `onnx.checker`). Inputs and outputs are named
    `input`, `output` (`input0`, `input1` ... when there are several)."""
    try:
        import onnx
    except ImportError:
        raise ImportError('minigrad.onnx needs the onnx package: pip install "minigrad[onnx]" '
                          "(or pip install onnx onnxruntime)") from None
    if not isinstance(opset_version, int) or opset_version < MIN_OPSET:
        raise ValueError(f"onnx.export: opset_version must be an int >= {MIN_OPSET}, got "
                         f"{opset_version!r}")
    xs = list(example_inputs) if isinstance(example_inputs, (tuple, list)) else [example_inputs]
    xs = [x.data if isinstance(x, Tensor) else xp.asarray(x) for x in xs]
    if not xs or any(x.ndim == 0 for x in xs):
        raise ValueError("onnx.export: example_inputs must be one or more arrays with a batch "
                         f"axis, got shapes {[x.shape for x in xs]}")
    more = [xp.resize(x[::-1], (x.shape[0] + dynamic_batch,) + x.shape[1:]) for x in xs]
    more = [x * (1.5 if abs(x).max(initial=0) > 1 else 0.75) if x.dtype.kind == "f" else x
            for x in more]      # other values, same signs; inside [-1, 1] (probabilities) stays
    with _export_mode(model_or_fn):
        first, second = _Trace(model_or_fn, xs), _Trace(model_or_fn, more)
    graph = _Graph(onnx, first, second, opset_version, _names(len(xs), "input"))
    model = graph.model(_names(len(first.outs), "output"))
    onnx.checker.check_model(model)
    if path is not None:
        onnx.save(model, str(path))
    return model


def _names(n, stem):
    return [stem] if n == 1 else [f"{stem}{i}" for i in range(n)]


@contextlib.contextmanager
def _export_mode(model):
    """Eval mode, and float buffers (running statistics) made to require grad so that their uses
    are recorded too; both undone afterwards."""
    if not hasattr(model, "named_buffers"):
        yield
        return
    training, buffers = model.training, [t for _, t in model.named_buffers()
                                         if t.dtype.kind == "f" and not t.requires_grad]
    model.eval()
    for t in buffers:
        t.requires_grad = True
    try:
        yield
    finally:
        for t in buffers:
            t.requires_grad = False
        model.train(training)


class _Trace:
    """One recorded forward pass: its inputs, outputs and ops (in order), and the units they are
    emitted as: ("node", composite rule result, ops) or ("op", op)."""

    def __init__(self, fn, arrays):
        self.inputs = [Tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
        with enable_grad():
            self.outs = _flat(fn(*self.inputs))
        self.input_ids = {id(t) for t in self.inputs}
        for i, t in enumerate(self.outs):
            if not isinstance(t, Tensor) or t._ctx is None and id(t) not in self.input_ids:
                raise TypeError(f"onnx.export: output {i} is not a Tensor computed from the "
                                "inputs by recorded ops (argmax, comparisons and no_grad are "
                                "not recorded)")
        self.ops, self.made = _walk(self.outs)
        refused, rules = None, {}       # a call its rule refuses is lowered, its inner calls not
        while refused != {key for key, rule in rules.items() if rule is None}:
            refused = {key for key, rule in rules.items() if rule is None}
            keys, groups = [_composite(op, refused) for op in self.ops], {}
            for op, key in zip(self.ops, keys):
                groups.setdefault(key, []).append(op)
            rules.update({key: self._rule(key[-1][1], members) for key, members in groups.items()
                          if key and key not in rules})
        self.units = []
        for op, key in zip(self.ops, keys):
            if rules.get(key) is None:
                self.units.append(("op", op))
            elif op is groups[key][-1]:     # the call's last op: its output is the node's
                self.units.append(("node", rules[key], groups[key]))

    def _rule(self, name, members):
        """The ONNX nodes for one composite call, as steps (op type, inputs, attributes), or None
        to lower its primitives instead."""
        inside = {id(op) for op in members}
        outer = {id(x): x for op in members for x in op.inputs
                 if x._ctx is None or id(x._ctx) not in inside}
        values = [x for x in outer.values() if x._ctx is not None or id(x) in self.input_ids]
        leaves = [x for x in outer.values() if x._ctx is None and id(x) not in self.input_ids
                  and (x.ndim > 0 or x.name)]     # not the scalars a composite writes (eps)
        made = [self.made[id(op)] for op in members]
        users = {id(x) for op in self.ops if id(op) not in inside for x in op.inputs}
        leaving = [t for t in made if id(t) in users or any(t is o for o in self.outs)]
        if len(values) != 1 + (name in _PAIRS) or len(leaving) != 1 or leaving[0] is not made[-1]:
            return None
        steps = _RULES[name](members, values if name in _PAIRS else values[0], leaves, made[-1],
                             self)
        if isinstance(steps, tuple):    # one node, on the composite's input
            steps = [(steps[0], [values[0], *steps[1]], steps[2])]
        return steps


def _flat(out):
    """The tensors of a nested tuple of outputs (an LSTM's (output, (h, c))), in order."""
    return [t for o in out for t in _flat(o)] if isinstance(out, (tuple, list)) else [out]


def _filled(a, b):
    """Whether array `a` (`b` in the second recording) holds one value and has a shape that
    follows the batch: an initial state of zeros, attention's mask of rows that see no key."""
    return a.shape != b.shape and a.size > 0 and bool((a == a.flat[0]).all()) and bool(
        (b == a.flat[0]).all())


def _is_max(op):
    """Whether Sub `op` subtracts the (detached, clipped) maximum of its first operand over the
    axes where the second has size 1."""
    x, m = (t.data for t in op.inputs)
    axes = tuple(i for i, n in enumerate(m.shape) if n == 1 and x.shape[i] != 1)
    return m.ndim == x.ndim and x.dtype.kind == "f" and bool(axes) and xp.array_equal(
        m, xp.maximum(x.max(axis=axes, keepdims=True), -xp.finfo(x.dtype).max))


def _composite(op, refused):
    """The scope of the outermost composite call around `op` that has an ONNX operator and whose
    rule has not refused it."""
    scope = getattr(op, "scope", ())
    return next((scope[:i + 1] for i, (kind, name, _) in enumerate(scope)
                 if kind == "op" and name in _RULES and scope[:i + 1] not in refused), None)


def _compact(array):
    """A broadcast view (stride 0) back at size 1 along its repeated axes."""
    return array[tuple(slice(0, 1) if s == 0 and n > 1 else slice(None)
                       for s, n in zip(array.strides, array.shape))]


_BROADCASTING = {"Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Minimum", "MatMul", "Where"}
_SAME = {"Maximum": "Max", "Minimum": "Min", **{name: name for name in (
    "Add", "Sub", "Mul", "Div", "Pow", "Neg", "Exp", "Log", "Sqrt", "Tanh", "Abs", "Relu", "MatMul",
    "Sin", "Cos")}}


class _Graph:
    """The ONNX graph of trace `first`, with `second` (one more sample, other values) telling
    which dimensions follow the batch and which constants follow the data."""

    def __init__(self, onnx, first, second, opset, input_names):
        self.onnx, self.helper, self.opset = onnx, onnx.helper, opset
        self.first, self.second, self.input_names = first, second, input_names
        self.nodes, self.initializers, self.names, self.used = [], [], {}, set(input_names)
        self.computed = set()       # constants named by the nodes that compute them
        self.batches = first.inputs[0].shape[0], second.inputs[0].shape[0]
        for t, name in zip(first.inputs, input_names):
            self.names[id(t)] = self.names[id(t.data)] = name     # the data: an index key
        if len(first.units) != len(second.units) or any(
                a[0] != b[0] or type(a[-1]) is not type(b[-1])
                for a, b in zip(first.units, second.units)):
            raise ValueError("onnx.export: the recorded graph changes with the batch size or the "
                             "input values (data-dependent control flow); it has no ONNX export")
        for a, b in zip(first.units, second.units):
            if a[0] == "node":
                made = []      # every output of every step (an LSTM's Y, Y_h, Y_c)
                for kind, inputs, attrs in a[1]:
                    inputs = [made[t] if isinstance(t, int) else self.name(t) for t in inputs]
                    made += self.node(kind, inputs, **{"outputs": 1, **attrs})
                self.names[id(first.made[id(a[2][-1])])] = made[-1]
            else:
                self._lower(a[1], b[1])

    def fresh(self, stem):
        name = f"{stem}_{len(self.used)}" if stem in self.used else stem    # a new number each
        self.used.add(name)
        return name

    def const(self, array, stem="const"):
        name = self.fresh(stem)
        self.initializers.append(self.onnx.numpy_helper.from_array(xp.asarray(array), name))
        return name

    def name(self, t):
        """The ONNX name of tensor `t`; a leaf seen for the first time becomes an initializer."""
        if id(t) not in self.names:
            assert t._ctx is None, "onnx.export: an op's output was used before it was made"
            self.names[id(t)] = self.const(t.data, t.name or "const")
        return self.names[id(t)]

    def node(self, kind, inputs, outputs=None, **attrs):
        """Add a node; its output's name, or a list of `outputs` names."""
        if kind == "Col2Im" and self.opset < 18:
            raise ValueError("onnx.export: fold exports as Col2Im, which needs opset_version >= 18")
        names = [self.fresh(f"{kind.lower()}_out") for _ in range(outputs or 1)]
        self.nodes.append(self.helper.make_node(kind, inputs, names, **attrs))
        return names if outputs else names[0]

    def shape(self, op, op2):
        """The output shape of `op` as a constant for Reshape: a dimension that follows the batch
        copies the input's (0) where it can, else is inferred (-1)."""
        s1, s2 = self.first.made[id(op)].shape, self.second.made[id(op2)].shape
        in1, in2 = op.inputs[0].shape, op2.inputs[0].shape
        dims = [n if n == m else 0 if i < len(in1) and (in1[i], in2[i]) == (n, m) else -1
                for i, (n, m) in enumerate(zip(s1, s2))]
        if dims.count(-1) > 1:
            raise ValueError(f"onnx.export: {type(op).__name__} to {s1} mixes the batch into "
                             "several dimensions; export with dynamic_batch=False")
        return self.const(xp.asarray(dims, dtype=xp.int64), "shape")

    def batch_shape(self, s1, s2, kind):
        """Shape `s1` (`s2` in the second recording) as a tensor, with the batch size read from the
        first input: a dimension that follows the batch is a multiple of it (T * N in a recurrent
        layer's input projection)."""
        if s1 == s2:
            return self.const(xp.asarray(s1, dtype=xp.int64), "shape")
        (b1, b2), parts = self.batches, []
        for n, m in zip(s1, s2):
            if n != m and (n % b1 or n // b1 * b2 != m):
                raise ValueError(f"onnx.export: {kind} to {s1} depends on the batch "
                                 "size in a way export cannot follow; use dynamic_batch=False")
            dim = self.const(xp.asarray([n], xp.int64), "dim") if n == m else self.batch()
            if n != m and n != b1:
                dim = self.node("Mul", [dim, self.const(xp.asarray([n // b1], xp.int64), "dim")])
            parts.append(dim)
        return self.node("Concat", parts, axis=0)

    def batch(self):
        """The batch size as a tensor of one int64, read from the first input's shape."""
        if "batch" not in self.names:
            size = self.node("Shape", [self.names[id(self.first.inputs[0])]])
            self.names["batch"] = self.node("Gather", [size, self.const(xp.zeros(1, xp.int64))])
        return self.names["batch"]

    def count(self, a, b):
        """0-d constant `a` (`b` in the second recording) as n * batch ** k, computed from the
        batch size where both recordings fit that (the number of elements a mean divides by);
        else None."""
        (b1, b2), c1, c2 = self.batches, a.item(), b.item()
        k = next((k for k in (1, 2) if c1 % b1 ** k == 0 and c1 / b1 ** k * b2 ** k == c2), None)
        if k is None or c1 == c2:
            return None
        n = self.node("Cast", [self.batch()], to=self.helper.np_dtype_to_tensor_dtype(a.dtype))
        n = self.node("Reshape", [n, self.const(xp.zeros(0, xp.int64), "shape")])    # a scalar
        n = self.node("Mul", [n, n]) if k == 2 else n
        return self.node("Mul", [n, self.const(xp.asarray(c1 / b1 ** k, a.dtype))])

    def _check_constants(self, op, op2):
        """Refuse a constant operand that differs between the two recordings."""
        pairs = []
        for a, b in zip(op.inputs, op2.inputs):
            if a._ctx is None and id(a) not in self.first.input_ids and not a.requires_grad:
                if id(a) not in self.names:
                    self._computed(op, op2, a, b)
                if id(a) in self.computed:
                    continue
                pairs.append((_compact(a.data), _compact(b.data)))
                if id(a) not in self.names and type(op).__name__ in _BROADCASTING:
                    # ONNX broadcasts it back
                    self.names[id(a)] = self.const(pairs[-1][0], a.name or "const")
        if type(op) is ops.Where and not _filled(op.cond, op2.cond):
            pairs.append((_compact(op.cond), _compact(op2.cond)))
        if type(op) is ops.Index:
            if any(not isinstance(a, xp.ndarray) and a != b for a, b in zip(op.key, op2.key)):
                raise ValueError(f"onnx.export: Index at {op.key} follows the batch size (it is "
                                 f"{op2.key} in a larger batch); index from the end instead")
            # index arrays (argmax, masks) computed from the data
            pairs += [(a, b) for a, b in zip(op.key, op2.key)
                      if isinstance(a, xp.ndarray) and id(a) not in self.names]
        for a, b in pairs:
            if a.shape != b.shape or not xp.array_equal(a, b):
                scope = "/".join(name for _, name, _ in getattr(op, "scope", ())) or "top level"
                raise ValueError(f"onnx.export: {type(op).__name__} (in {scope}) uses a constant "
                                 f"of shape {a.shape} computed from the input data; ONNX cannot "
                                 "replay it. Compute it inside a composite export knows "
                                 f"({', '.join(_RULES)}) or from tensors that require grad")

    def fill(self, a, b):
        """A filled array (see _filled) as an Expand of its value to the batch."""
        return self.node("Expand", [self.const(a.reshape(-1)[:1].reshape((1,) * a.ndim)),
                                    self.batch_shape(a.shape, b.shape, "a constant")])

    def _computed(self, op, op2, a, b):
        """Name constant operand `a` (`b` in the second recording) by the nodes that compute it,
        where they are known: a filled constant, a count that follows the batch, or the detached
        maximum softmax subtracts."""
        name = self.fill(a.data, b.data) if _filled(a.data, b.data) else None
        if name is None and a.ndim == 0 and a.dtype.kind == "f":
            name = self.count(a.data, b.data)
        if name is None and type(op) is ops.Sub and a is op.inputs[1] and _is_max(op) and \
                _is_max(op2):
            axes = [i for i, n in enumerate(a.shape) if n == 1]
            name = self._reduce("Max", self.name(op.inputs[0]), axes)
        if name is not None:
            self.names[id(a)] = name
            self.computed.add(id(a))

    def _reduce(self, kind, x, axes):
        if kind == "Max" and self.opset < 18:      # axes an attribute until opset 18
            return self.node("ReduceMax", [x], axes=list(axes), keepdims=1)
        axes = self.const(xp.asarray(axes, dtype=xp.int64), "axes")
        return self.node(f"Reduce{kind}", [x, axes], keepdims=1)

    def _lower(self, op, op2):
        """Emit one primitive (`op2`: the same op in the second recording)."""
        kind, out = type(op).__name__, self.first.made[id(op)]
        kept = [t for t in op.inputs if t._ctx is not None or t.requires_grad]
        if kind == "Where" and kept and not _filled(op.cond, op2.cond) and all(
                xp.array_equal(*(t.data for t in o.inputs)) for o in (op, op2)):
            self.names[id(out)] = self.name(kept[0])    # between equal values: to stop a
            return                                      # gradient (Embedding's padding row)
        self._check_constants(op, op2)
        x = [self.name(t) for t in op.inputs]
        if kind in _SAME:
            y = self.node(_SAME[kind], x)
        elif kind == "Permute":
            y = self.node("Transpose", x, perm=list(op.axes))
        elif kind == "Reshape":
            y = self.node("Reshape", [x[0], self.shape(op, op2)])
        elif kind == "Expand":
            shape = self.batch_shape(out.shape, self.second.made[id(op2)].shape, kind)
            y = self.node("Expand", [x[0], shape])
        elif kind == "Cast":
            y = self.node("Cast", x, to=self.helper.np_dtype_to_tensor_dtype(out.dtype))
        elif kind == "Where":
            cond = self.fill(op.cond, op2.cond) if _filled(op.cond, op2.cond) else \
                self.const(_compact(op.cond), "cond")
            y = self.node("Where", [cond, *x])
        elif kind == "Concat":
            y = self.node("Concat", x, axis=op.axis)
        elif kind in ("Sum", "Max"):
            axes = op.axis if kind == "Max" else [i for i, n in enumerate(op.shape_kept) if n == 1]
            y = self._reduce(kind, x[0], axes)
            if out.ndim != op.inputs[0].ndim:
                y = self.node("Reshape", [y, self.shape(op, op2)])
        elif kind == "Pad":
            pads = _pads(op, self.first.made, range(out.ndim))    # all befores, then all afters
            value = out.data.flat[0 if any(pads[:out.ndim]) else -1]  # the first or last is padding
            y = self.node("Pad", [x[0], self.const(xp.asarray(pads, dtype=xp.int64), "pads"),
                                  self.const(value, "pad_value")])
        elif kind == "Index":
            y = self._index(op, op2, x[0])
        elif kind == "Windows":
            y = self._windows(op.params, x[0], op.inputs[0].shape)
        else:
            raise NotImplementedError(f"onnx.export: the primitive {kind} has no ONNX lowering")
        self.names[id(out)] = y

    def _windows(self, params, x, shape):
        """Sliding windows as one Gather per axis (positions (n, k) of the window starts and
        offsets), then a Transpose that moves the window offsets last."""
        spots = {}      # axis -> where its window positions are after the gathers
        for ax, k, s, d in sorted(zip(params["axes"], params["size"], params["stride"],
                                      params["dilation"])):
            n = (shape[ax] - d * (k - 1) - 1) // s + 1
            at = (xp.arange(n)[:, None] * s + xp.arange(k) * d).astype(xp.int64)
            spots[ax] = ax + len(spots)
            x = self.node("Gather", [x, self.const(at, "indices")], axis=spots[ax])
        offsets = [spots[ax] + 1 for ax in params["axes"]]
        perm = [i for i in range(len(shape) + len(spots)) if i not in offsets] + offsets
        return self.node("Transpose", [x], perm=perm)

    def _index(self, op, op2, x):
        """Basic indexing (ints, slices, None, ...) as one Slice and a Reshape; one integer array
        among whole slices as a Gather."""
        shape_in = op.inputs[0].shape
        keys = [k for k in op.key if k is not None]     # the Reshape adds the None axes
        if any(k is Ellipsis for k in keys):
            i = next(i for i, k in enumerate(keys) if k is Ellipsis)
            keys[i:i + 1] = [slice(None)] * (len(shape_in) + 1 - len(keys))
        i = next((i for i, k in enumerate(keys) if isinstance(k, xp.ndarray)), None)
        if i is not None:
            if keys[i].dtype.kind not in "iu" or any(k is None for k in op.key) or any(
                    k != slice(None) for j, k in enumerate(keys) if j != i):
                raise NotImplementedError("onnx.export: the primitive Index with a boolean key, "
                                          "or an array key beside others, has no ONNX lowering")
            indices = self.names.get(id(keys[i])) or self.const(keys[i], "indices")
            return self.node("Gather", [x, indices], axis=i)
        rows = []      # (start, stop, axis, step) of the axes that are not taken whole
        for axis, k in enumerate(keys):
            k = slice(k, k + 1 if k != -1 else None) if isinstance(k, (int, xp.integer)) else k
            start, stop, step = k.indices(shape_in[axis])
            if (start, stop, step) != (0, shape_in[axis], 1):
                # ends counted from the end stay so, since the axis may be the batch
                if k.start is not None and k.start < 0 or k.start is None and step < 0:
                    start = -1 if k.start is None else k.start
                if k.stop is None or k.stop < 0:
                    stop = 2 ** 62 * step if k.stop is None else k.stop
                rows.append((start, stop, axis, step))
        if rows:
            x = self.node("Slice", [x, *(self.const(xp.asarray(v, dtype=xp.int64), "slice")
                                         for v in zip(*rows))])
        return self.node("Reshape", [x, self.shape(op, op2)])

    def _info(self, name, t, t2):
        """ONNX's value info of `t` (`t2` in the second recording): dtype and shape, "batch" where
        the two differ."""
        dims = ["batch" if n != m else n for n, m in zip(t.shape, t2.shape)]
        kind = self.helper.np_dtype_to_tensor_dtype(t.dtype)
        return self.helper.make_tensor_value_info(name, kind, dims)

    def model(self, output_names):
        for name, t in zip(output_names, self.first.outs):
            self.nodes.append(self.helper.make_node("Identity", [self.name(t)], [name]))
        outputs = list(map(self._info, output_names, self.first.outs, self.second.outs))
        inputs = list(map(self._info, self.input_names, self.first.inputs, self.second.inputs))
        graph = self.helper.make_graph(self.nodes, "minigrad", inputs, outputs, self.initializers)
        model = self.helper.make_model(graph, producer_name="minigrad", opset_imports=[
            self.helper.make_opsetid("", self.opset)])
        model.ir_version = min(model.ir_version, 10)    # what ONNX Runtime 1.20 and later read
        return model
