"""The composites that become one ONNX operator each: a rule per scope name reads the operator's
attributes from the primitives recorded inside the call (a pad's widths, a window's stride, a
constant's value) and returns its steps, or None to lower the primitives one by one instead.

A rule gets the call's ops (`members`), its one input `x` (both inputs, for the names in
_PAIRS), its leaf tensors (weights), its output and the trace (its `inputs`, and `made`: the
array made by every op); it returns (op type, extra inputs, attributes) for one node, or a list of
(op type, inputs, attributes) steps whose inputs are tensors or the index of an earlier step's
output (a step with attribute `outputs=n` makes n of them).
"""
from .. import ops
from ..backend import xp
from ..tensor import Tensor


def _find(members, cls, test=lambda op: True):
    """The first op of class `cls` (that passes `test`) among the members, or None."""
    return next((op for op in members if type(op) is cls and test(op)), None)


def _pads(op, made, axes=(2, 3)):
    """A Pad op's widths along `axes` as ONNX has them, every before then every after (for the
    two image axes [top, left, bottom, right]; zeros without a Pad)."""
    if op is None:
        return [0, 0, 0, 0]
    lo = [op.inner[a].start for a in axes]
    return lo + [made[id(op)].shape[a] - op.inner[a].stop for a in axes]


def _conv(members, x, leaves, out, trace):
    if not leaves or leaves[0].ndim != 4 or len(leaves) > 2:
        return None
    w, win, pad = leaves[0], _find(members, ops.Windows), _find(members, ops.Pad)
    params = win.params if win else dict(stride=(1, 1), dilation=(1, 1), axes=(2, 3))
    return "Conv", leaves, dict(kernel_shape=w.shape[2:], strides=params["stride"],
                                pads=_pads(pad, trace.made, params["axes"]),
                                dilations=params["dilation"], group=x.shape[1] // w.shape[1])


def _window_attrs(members, made):
    """kernel_shape, strides and pads of a pooling composite: from its Windows op, or from the
    reshape that cuts tiling windows ((N, C, OH, KH, OW, KW))."""
    win, pad = _find(members, ops.Windows), _find(members, ops.Pad)
    if win is not None:
        p = win.params
        attrs = dict(kernel_shape=p["size"], strides=p["stride"], dilations=p["dilation"])
    else:       # the permute after the reshape moves the two window axes first
        tiles = _find(members, ops.Reshape, lambda op: made[id(op)].ndim == 6)
        turn = tiles and _find(members, ops.Permute, lambda op: op.inputs[0] is made[id(tiles)])
        if turn is None:
            return None
        kernel = tuple(made[id(tiles)].shape[a] for a in turn.axes[:2])
        attrs = dict(kernel_shape=kernel, strides=kernel, dilations=(1, 1))
    attrs["pads"] = _pads(pad, made)
    return attrs


def _max_pool(members, x, leaves, out, trace):
    attrs = _window_attrs(members, trace.made)
    return None if attrs is None or leaves else ("MaxPool", [], attrs)


def _avg_pool(members, x, leaves, out, trace):
    attrs = _window_attrs(members, trace.made)
    if attrs is None or attrs.pop("dilations") != (1, 1) or len(leaves) > 1:
        return None
    attrs["count_include_pad"] = int(any(attrs["pads"]) and not leaves)
    return "AveragePool", [], attrs


def _adaptive_avg_pool(members, x, leaves, out, trace):
    if out.shape[2:] == (1, 1) and not leaves:
        return "GlobalAveragePool", [], {}
    return _avg_pool(members, x, leaves, out, trace)


def _batch_norm(members, x, leaves, out, trace):
    eps = [c for op in members if type(op) is ops.Add for c in op.inputs if c.ndim == 0]
    if len(leaves) not in (2, 4) or len(eps) != 1 or any(t.shape != (x.shape[1],) for t in leaves):
        return None
    mean, var = leaves[:2]
    scale, bias = leaves[2:] or (Tensor(xp.ones_like(mean.data)), Tensor(xp.zeros_like(mean.data)))
    return "BatchNormalization", [scale, bias, mean, var], dict(epsilon=float(eps[0].item()))


def _linear(members, x, leaves, out, trace):
    fits = x.ndim == 2 and 1 <= len(leaves) <= 2 and leaves[0].ndim == 2
    return ("Gemm", leaves, dict(transB=1)) if fits else None


def _leaky_relu(members, x, leaves, out, trace):
    negative = x.data <= 0
    if not negative.any():
        raise ValueError("onnx.export: leaky_relu's slope can only be read where the example "
                         "input is negative; pass example inputs with negative values")
    slope = next(c for op in members for c in op.inputs if c._ctx is None and c is not x)
    return "LeakyRelu", [], dict(alpha=float(xp.broadcast_to(slope.data, x.shape)[negative][0]))


def _softmax(kind):
    def rule(members, x, leaves, out, trace):
        total = _find(members, ops.Sum)
        kept = [i for i, n in enumerate(total.shape_kept) if n == 1]
        axis = next((i for i in kept if total.shape_in[i] != 1), kept[0])
        return kind, [], dict(axis=axis)
    return rule


def _plain(kind):
    return lambda members, x, leaves, out, trace: (kind, [], {})


def _scalars(members):
    """The 0-d constants of a composite's ops, in order (an elu's scale, alpha ...)."""
    return [float(c.item()) for op in members for c in op.inputs if c.ndim == 0 and c._ctx is None]


def _scalar(value, like):
    return Tensor(xp.asarray(value, dtype=like.dtype))


def _hardtanh(members, x, leaves, out, trace):
    """Clip, its limits read from the clipped constant where the example input passes them."""
    clipped = leaves[0].data
    low, high = clipped[x.data < clipped], clipped[x.data > clipped]
    if not low.size or not high.size:
        raise ValueError("onnx.export: hardtanh's limits can only be read where the example input "
                         "lies beyond them; pass example inputs below min_val and above max_val")
    return "Clip", [_scalar(low[0], x), _scalar(high[0], x)], {}


def _softplus(members, x, leaves, out, trace):
    """Softplus of beta x over beta. ONNX's has no threshold: above it minigrad gives x, which
    differs by log1p(exp(-beta x)) / beta, below float32's rounding for the default 20."""
    beta = _scalars(members)[0]
    if not xp.allclose(out.data, xp.logaddexp(0, x.data * beta) / beta, rtol=1e-6, atol=1e-6):
        raise ValueError("onnx.export: softplus's threshold changes its values on the example "
                         "inputs, and ONNX's Softplus has none (thresholds of 15 or more export)")
    beta = _scalar(beta, x)
    return [("Mul", [x, beta], {}), ("Softplus", [0], {}), ("Div", [1, beta], {})]


def _conv_transpose(members, x, leaves, out, trace):
    """ConvTranspose: stride and dilation from WindowsAdd, padding and output_padding from the
    crop that follows it, groups from the reshape of the weight (G, C / G, OC / G * KH * KW)."""
    w, *bias = sorted(leaves, key=lambda t: -t.ndim)
    adds, crop = _find(members, ops.WindowsAdd), _find(members, ops.Index)
    groups = trace.made[id(_find(members, ops.Reshape, lambda op: op.inputs[0] is w))].shape[0]
    pads = [k.start for k in crop.key[2:]]
    made = trace.made[id(adds)].shape[2:]
    extra = [k.stop + p - n for k, p, n in zip(crop.key[2:], pads, made)]
    return "ConvTranspose", [w, *bias], dict(
        kernel_shape=w.shape[2:], strides=adds.params["stride"], pads=pads * 2, group=groups,
        dilations=adds.params["dilation"], output_padding=extra)


def _fold(members, x, leaves, out, trace):
    """Col2Im (opset 18): the image size and padding from the crop after WindowsAdd."""
    adds, crop = _find(members, ops.WindowsAdd), _find(members, ops.Index)
    if x.ndim != 3 or leaves:
        return None
    sizes = [xp.asarray(trace.made[id(crop)].shape[2:]), xp.asarray(adds.params["size"])]
    return "Col2Im", [Tensor(s.astype(xp.int64)) for s in sizes], dict(
        strides=adds.params["stride"], dilations=adds.params["dilation"],
        pads=[k.start for k in crop.key[2:]] * 2)


def _class_loss(kind):
    """cross_entropy / nll_loss of (N, C, ...) scores at integer classes: ONNX's
    SoftmaxCrossEntropyLoss / NegativeLogLikelihoodLoss on the example input that holds the
    classes (the one-hot constant the composite made of them tells which). Label smoothing and
    probability targets are lowered op by op instead."""
    def rule(members, x, leaves, out, trace):
        hot = [t.data for t in leaves if t.shape == x.shape]
        if x.ndim < 2 or len(hot) != 1 or not xp.isin(hot[0], (0, 1)).all():
            return None
        classes = hot[0].argmax(1)
        target = next((t for t in trace.inputs if t.dtype.kind in "iu" and
                       t.shape == classes.shape and xp.array_equal(t.data, classes)), None)
        if target is None:
            return None
        return [("Cast", [target], dict(to=7)),     # to int64 (onnx.TensorProto.INT64)
                (kind, [x, 0], dict(reduction=_reduction(members, out)))]
    return rule


def _reduction(members, out):
    """How a loss composite reduced its losses: 'none', 'mean' (a Div of a Sum) or 'sum'."""
    if out.ndim:
        return "none"
    return "mean" if _find(members, ops.Div, lambda op: type(op.inputs[0]._ctx) is ops.Sum) \
        else "sum"


def _binary_cross_entropy(members, pair, leaves, out, trace):
    """-(t log p + (1 - t) log(1 - p)), the logs clamped at -100, times the weight, then reduced;
    p is the input that the composite's Where reads (the target is the other)."""
    where, loss, weight = _find(members, ops.Where), out, []
    p, t = sorted(pair, key=lambda v: not any(v is x for x in where.inputs))
    while type(loss._ctx) in (ops.Sum, ops.Div):     # the reduction
        loss = loss._ctx.inputs[0]
    if type(loss._ctx) is ops.Mul:                   # by the weight (perhaps expanded)
        w = next(x for x in loss._ctx.inputs if type(x._ctx) is not ops.Where)
        weight = [w._ctx.inputs[0] if type(w._ctx) is ops.Expand else w]
    one, floor = _scalar(1, p), _scalar(-100, p)
    steps = [("Log", [p], {}), ("Max", [0, floor], {}), ("Sub", [one, p], {}), ("Log", [2], {}),
             ("Max", [3, floor], {}), ("Mul", [t, 1], {}), ("Sub", [one, t], {}),
             ("Mul", [6, 4], {}), ("Add", [5, 7], {}), ("Neg", [8], {})]
    steps += [("Mul", [len(steps) - 1, w], {}) for w in weight]
    reduction = _reduction(members, out)
    if reduction != "none":
        steps.append(("Reduce" + reduction.title(), [len(steps) - 1], dict(keepdims=0)))
    return steps


def _recurrent(kind, reverse, **attrs):
    """One layer's direction of nn.RNN / LSTM / GRU (the time loop of nn/recurrent.py) as ONNX's
    RNN / LSTM / GRU. The leaves are told apart by their use: w_ih and b_ih inside the input
    projection's `linear`, w_hh transposed and b_hh added in the loop, the initial state multiplied
    (h) and, one scope down, in the cell (c); that state must be the zeros the layer makes
    (ONNX's default), else the loop is lowered op by op. ONNX orders the gates LSTM (i, o, f, c)
    and GRU (z, r, h), torch (i, f, c, o) and (r, z, n). The loop's output stacks the outputs and,
    for an LSTM, the final cell state: ONNX's Y and Y_c."""
    gates = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN": [0]}[kind]

    def rule(members, x, leaves, out, trace):
        depth = min(len(op.scope) for op in members)
        used = {(type(op).__name__, len(op.scope) - depth): t for op in members for t in op.inputs
                if any(t is leaf for leaf in leaves)}
        w_ih, w_hh = used.get(("Permute", 1)), used.get(("Permute", 0))
        biases = [used.get(("Expand", 1)), used.get(("Expand", 0))]
        if w_ih is None or w_hh is None or any(
                key in used and used[key].data.any() for key in [("MatMul", 0), ("Mul", 1)]):
            return None

        def onnx_layout(t):
            """`t` (G * H, ...) with its gates in ONNX's order, as (1, G * H, ...), same name."""
            named = Tensor(t.data.reshape(len(gates), -1, *t.shape[1:])[gates].reshape(
                1, -1, *t.shape[1:]))
            named.name = t.name
            return named

        inputs, steps = [x, onnx_layout(w_ih), onnx_layout(w_hh)], []
        if biases[0] is not None:           # B: b_ih then b_hh
            steps = [("Concat", [onnx_layout(b) for b in biases], dict(axis=1))]
            inputs.append(0)
        node = dict(attrs, hidden_size=out.shape[-1], direction="reverse" if reverse else
                    "forward", outputs=3 if kind == "LSTM" else 1)
        at = len(steps)                     # where the outputs Y (, Y_h, Y_c) are
        steps += [(kind, inputs, node), ("Squeeze", [at, Tensor(xp.ones(1, xp.int64))], {})]
        return steps + [("Concat", [at + 3, at + 2], dict(axis=0))] if kind == "LSTM" else steps
    return rule


_HARD = dict(alpha=1 / 6, beta=0.5)
_RULES = {"conv2d": _conv, "max_pool2d": _max_pool, "avg_pool2d": _avg_pool, "fold": _fold,
          "adaptive_avg_pool2d": _adaptive_avg_pool, "batch_norm": _batch_norm, "linear": _linear,
          "relu": _plain("Relu"), "leaky_relu": _leaky_relu, "sigmoid": _plain("Sigmoid"),
          "tanh": _plain("Tanh"), "erf": _plain("Erf"), "softmax": _softmax("Softmax"),
          "log_softmax": _softmax("LogSoftmax"), "hardtanh": _hardtanh, "softplus": _softplus,
          "elu": lambda m, *_: ("Elu", [], dict(alpha=_scalars(m)[2])),
          "celu": lambda m, *_: ("Celu", [], dict(alpha=_scalars(m)[2])),
          "selu": lambda m, *_: ("Selu", [], dict(alpha=_scalars(m)[2], gamma=_scalars(m)[3])),
          "relu6": lambda m, x, *_: ("Clip", [_scalar(0, x), _scalar(6, x)], {}),
          "hardsigmoid": lambda *_: ("HardSigmoid", [], _HARD),
          "hardswish": lambda m, x, *_: [("HardSigmoid", [x], _HARD), ("Mul", [x, 0], {})],
          "mish": lambda m, x, *_: [("Softplus", [x], {}), ("Tanh", [0], {}), ("Mul", [x, 1], {})],
          "conv_transpose2d": _conv_transpose, "binary_cross_entropy": _binary_cross_entropy,
          "cross_entropy": _class_loss("SoftmaxCrossEntropyLoss"),
          "nll_loss": _class_loss("NegativeLogLikelihoodLoss")}
_PAIRS = {"binary_cross_entropy"}      # rules of composites with two inputs: they get both
_RECURRENT = {"lstm": ("LSTM", {}), "gru": ("GRU", dict(linear_before_reset=1)),
              "rnn_tanh": ("RNN", {}), "rnn_relu": ("RNN", dict(activations=["Relu"]))}
_RULES.update({name + "_reverse" * reverse: _recurrent(kind, reverse, **attrs)
               for name, (kind, attrs) in _RECURRENT.items() for reverse in (False, True)})
