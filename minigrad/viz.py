"""Graph pictures: the graph that autodiff walks, written as Graphviz DOT.

`to_dot(*outputs)` returns DOT text and needs nothing beyond minigrad. `draw(*outputs)` hands that
text to the optional `graphviz` package (`pip install "minigrad[viz]"`) and the Graphviz `dot`
program, and returns a `graphviz.Source`, which Jupyter shows inline.

What the picture shows (data flows top to bottom; `rankdir="LR"` turns it sideways):

- Tensors that enter or leave the graph are nodes with a title, shape and dtype. Parameters are
  green: leaves that require grad and have a name (`.name`, which nn modules set to paths such as
  `conv1.weight`). Inputs are blue: the tensors given in `inputs=`
  and the other leaves (an unnamed leaf that requires grad says so). Constants are grey: masks
  and shifts made inside a composite or a module (see below). Outputs are red: `loss` for a
  one-element output, with its value, else `output` (or the tensor's name).
- Primitive ops are grey ellipses named after their class (`MatMul`). The tensors passed between
  ops are edges labelled with their shape (and dtype where it differs from the first output's).
  A one-element constant operand is written into
  the op's label: `Mul(·, 0.5)`, `Pow(·, 2)`.
- Every op records the composites and modules it ran in (`op.scope`, opened with `mg.scope`). Each
  call of a composite (`conv2d`, `linear`, `cross_entropy` ...) is one orange box named after it,
  with its output shape; its primitives are hidden (hover over the box in an SVG to list them).
  `expand=True`, a composite name, a set of names or a predicate on the name draws the primitives
  inside an orange cluster instead. Module scopes are dashed purple clusters labelled with their
  path (`ResNet/block1/conv`: the names modules pass to `mg.scope(name, kind="module")`, joined
  with "/"); a parameter sits in the cluster of the module that uses it.
- A constant that only meets data already flowing through a scope (a dropout mask, softmax's max
  shift, running statistics) is a detail of that scope: hidden in a collapsed box, grey inside an
  expanded one. A constant that starts a computation (the model input) is always drawn.
- `show_grad=True` adds the norm of `.grad` to each tensor that has one (leaves after backward,
  other tensors after `retain_grad()`; call backward with `retain_graph=True` to keep the graph).
- A graph freed by `backward()` without `retain_graph=True` has lost the inputs of its ops: what is
  left is drawn, the freed ops dashed, and both the picture and a warning say how to keep it.

Only ops that involve a tensor requiring grad are recorded, so a graph starts where gradients
start: for `conv2d` on an input that needs no gradient, at the matmul with the unfolded patches,
which are then the input drawn. To draw the input with its own shape, let it require grad before
the forward pass and pass it as an input: `x.requires_grad_()`, then `draw(loss, inputs={"images":
x})`.

Module-level pictures (the hook for `Model.plot`, like Keras's `plot_model`): `depth=k` draws every
module scope at nesting depth k (1 = the outermost module, so `depth=2` gives the layers of a
model), and every module without submodules above that depth, as one yellow box labelled with its
path, output shape and parameter count. Its parameters and constants are folded into the box; ops
outside any module (a loss) stay composite boxes. `module_label` (a dict from the path to a
string, e.g. "conv1 (Conv2d)") renames module boxes and clusters.

Node ids (`t0`, `op0`, `cluster_0` ...) follow the data flow, so the same graph gives the same text.
"""
import html
import os
import shutil
import warnings
from pathlib import Path

from .autograd import _topological_order, no_grad
from .tensor import Tensor

# node kind -> (shape, style, fill colour, border colour, text in the legend or None)
_KINDS = {
    "input": ("box", "rounded,filled", "#cfe2f3", "#3d85c6", "input"),
    "parameter": ("box", "rounded,filled", "#d9ead3", "#6aa84f", "parameter"),
    "constant": ("box", "rounded,filled", "#eeeeee", "#999999", "constant"),
    "op": ("ellipse", "filled", "#f3f3f3", "#888888", "primitive op"),
    "composite": ("box", "filled", "#fce5cd", "#e69138", "composite op"),
    "module": ("box", "filled,bold", "#fff2cc", "#bf9000", "module"),
    "output": ("box", "rounded,filled,bold", "#f4cccc", "#cc0000", "output"),
    "freed": ("ellipse", "dashed,filled", "#ffffff", "#999999", None),
}
_CLUSTER = {
    "module": 'style="rounded,dashed"; color="#8e7cc3"; fontcolor="#674ea7"',
    "op": 'style="rounded,filled"; fillcolor="#fdf3e7"; color="#e69138"; fontcolor="#b45f06"',
}
_FREED_NOTE = ("Parts of this graph were freed by backward(); call backward(retain_graph=True) "
               "before drawing to see all of it")
_NO_DOT = ("viz.draw: the Graphviz program `dot` was not found on PATH. Install Graphviz "
           "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; conda: conda "
           "install -c conda-forge graphviz; Windows: winget install graphviz), or use "
           "viz.to_dot(...), which returns the DOT text without it")
_FORMATS = ("svg", "png", "pdf")


def to_dot(*outputs: Tensor, expand=False, depth: int | None = None, show_grad: bool = False,
           inputs=None, module_label: dict | None = None, rankdir: str = "TB", legend: bool = True) -> str:
    """The graph that produced `outputs`, as Graphviz DOT text (the module docstring says what
    the picture shows).

    Parameters
    ----------
    *outputs : Tensor
        The tensors whose graph is drawn (a loss, logits ...).
    expand : bool, str, set of str or callable
        False draws each composite call as one box; True shows the primitives of all of them; a
        composite name, a set of names or a predicate `name -> bool` expands only those.
    depth : int or None
        Draw module scopes at this nesting depth (1 = the outermost module) as boxes, and deeper
        ones inside them; None draws every module as a cluster.
    show_grad : bool
        Add the norm of `.grad` to each tensor that has one.
    inputs : dict, iterable of (name, Tensor) or of Tensor
        Tensors to draw as inputs even if they require grad, optionally with names.
    module_label : dict
        Maps a module path ("LeNet/conv1") to the text drawn for it, e.g. "conv1 (Conv2d)".
    rankdir : str
        "TB" (top to bottom), "LR" (left to right), "BT" or "RL".
    legend : bool
        Add a legend of the node kinds that appear.

    Returns
    -------
    str
        DOT text; `graphviz.Source(text)` or the `dot` program renders it.
    """
    if not outputs:
        raise ValueError("to_dot: pass at least one output tensor")
    for i, t in enumerate(outputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"to_dot: output {i} is a {type(t).__name__}, not a Tensor")
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 1):
        raise ValueError(f"to_dot: depth must be a positive int or None, got {depth!r}")
    picture = _Picture(outputs, _expand_rule(expand), depth, show_grad, inputs, module_label or {})
    if picture.freed:
        warnings.warn(f"to_dot: {_FREED_NOTE}", stacklevel=2)
    return picture.dot(rankdir, legend)


def draw(*outputs: Tensor, path=None, format: str | None = None, **to_dot_kwargs):
    """Render the graph of `outputs` with Graphviz and return the `graphviz.Source` (shown inline in
    Jupyter). With `path`, also write the picture: "graph" and "graph.svg" both give graph.svg.
    `format` ("svg", "png" or "pdf") defaults to the path's suffix, else svg. Other keyword
    arguments go to `to_dot`."""
    try:
        import graphviz
    except ImportError:
        raise ImportError('viz.draw needs the graphviz Python package: pip install "minigrad[viz]" '
                          "(or pip install graphviz). viz.to_dot(...) returns the DOT text without "
                          "it") from None
    suffix = Path(path).suffix[1:].lower() if path is not None else ""
    format = format or (suffix if suffix in _FORMATS else "svg")
    if format not in _FORMATS:
        raise ValueError(f"draw: format must be one of {_FORMATS}, got {format!r}")
    if shutil.which("dot") is None:
        raise RuntimeError(_NO_DOT)
    source = graphviz.Source(to_dot(*outputs, **to_dot_kwargs), format=format)
    if path is not None:
        target = Path(path) if suffix == format else Path(f"{path}.{format}")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            source.render(outfile=target, cleanup=True)
        except graphviz.ExecutableNotFound:
            raise RuntimeError(_NO_DOT) from None
    return source


def _expand_rule(expand):
    """`expand` as a predicate on composite names."""
    if isinstance(expand, bool):
        return lambda name: expand
    if callable(expand):
        return expand
    names = {expand} if isinstance(expand, str) else set(expand)
    return lambda name: name in names


def _walk(outputs):
    """The ops behind `outputs`, each after the ops that made its inputs (the backward walk's
    order: inputs in order, so the same graph gives the same order), and {id(op): its output}."""
    made = {id(t._ctx): t for t in _topological_order(outputs) if t._ctx is not None}
    return [t._ctx for t in made.values()], made


def _scope(op):
    return getattr(op, "scope", ())     # a freed op lost its scope along with its inputs


def _scalar(t):
    """The value of a constant holding one value (one element, or one broadcast), else None."""
    if t.size == 1 or t.size > 1 and not any(t.data.strides):
        return t.data.flat[0].item()
    return None


def _fmt_shape(shape):
    return "scalar" if shape == () else str(tuple(shape))


def _fmt_value(v):
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _norm(t):
    with no_grad():
        g = t.astype("float64")
        return (g * g).sum().sqrt().item()


def _quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _html(bold, *lines):
    """An HTML-like DOT label: a bold first line (if any), then small grey lines."""
    rows = [f"<b>{html.escape(bold)}</b>"] if bold else []
    rows += [f'<font point-size="9" color="#444444">{html.escape(line)}</font>'
             for line in lines if line]
    return "<" + "<br/>".join(rows) + ">"


def _attrs(kind, label, tooltip=None):
    shape, style, fill, border, _ = _KINDS[kind]
    tip = f", tooltip={_quote(tooltip)}" if tooltip else ""
    return (f'[label={label}, shape={shape}, style="{style}", fillcolor="{fill}", '
            f'color="{border}"{tip}]')


def _legend(kinds):
    """A one-node legend: a row of cells coloured like the node kinds that appear."""
    cells = "".join(f'<td bgcolor="{fill}" color="{border}" style="rounded">{text}</td>'
                    for k, (_, _, fill, border, text) in _KINDS.items() if text and k in kinds)
    return ('<<table border="0" cellborder="1" cellspacing="4" cellpadding="3"><tr>'
            f'<td border="0"><font color="#777777">legend</font></td>{cells}</tr></table>>')


class _Picture:
    """Decides what each op and tensor of a graph becomes in the picture, then writes the DOT."""

    def __init__(self, outputs, expanded, depth, show_grad, inputs, module_label):
        self.outputs, self.expanded, self.depth = list(outputs), expanded, depth
        self.show_grad, self.module_label = show_grad, module_label
        inputs = inputs.items() if isinstance(inputs, dict) else inputs or ()
        inputs = [(None, x) if isinstance(x, Tensor) else x for x in inputs]
        self.inputs = {id(t) for _, t in inputs}
        self.names = {id(t): name for name, t in inputs if name}
        self.ops, self.made = _walk(self.outputs)
        self.freed = [op for op in self.ops if op.inputs is None]
        # consumers: id(tensor) -> {op: None} for the ops that take it, in order;
        # members: scope prefix -> the ops recorded inside it
        self.consumers, self.members = {}, {}
        for op in self.ops:
            for x in op.inputs or ():
                self.consumers.setdefault(id(x), {})[op] = None
            for i in range(len(_scope(op))):
                self.members.setdefault(_scope(op)[:i + 1], []).append(op)
        modules = {prefix for prefix in self.members if prefix[-1][0] == "module"}
        self.leaf_modules = modules - {m[:i] for m in modules for i in range(1, len(m))}
        self.unit = {id(op): self._unit_of(op) for op in self.ops}
        self._entering = {}

    def _unit_of(self, op):
        """The node an op is drawn in: ("box", scope prefix) for a collapsed composite or module,
        else ("op", op)."""
        scope, level = _scope(op), 0
        for i, (kind, name, _) in enumerate(scope):
            prefix = scope[:i + 1]
            if kind == "module":
                level += 1
                if self.depth is not None and (level == self.depth or prefix in self.leaf_modules):
                    return ("box", prefix)
            elif not self.expanded(name):
                return ("box", prefix)
        return ("op", op)

    def _cluster_key(self, op):
        """The scope prefix of the innermost cluster that op's node is drawn in."""
        unit = self.unit[id(op)]
        return unit[1][:-1] if unit[0] == "box" else _scope(op)

    def name(self, t):
        return self.names.get(id(t)) or t.name

    def role(self, t):
        """output, intermediate, parameter, scalar (folded into its op), constant or input."""
        if any(t is o for o in self.outputs):
            return "output"
        if t._ctx is not None:
            return "intermediate"
        if id(t) in self.inputs:
            return "input"
        if t.requires_grad and self.name(t):
            return "parameter"
        if not t.requires_grad and _scalar(t) is not None:
            return "scalar"
        return "constant" if not t.requires_grad and self._internal(t) else "input"

    def _internal(self, c):
        """Does constant `c` only meet data that entered its users' common scope from outside
        (is the output of one of its users such data)?"""
        users = self.consumers[id(c)]
        prefix = os.path.commonprefix([_scope(op) for op in users])
        entering = self._entering_data(prefix) if prefix else set()
        return any(id(self.made[id(op)]) in entering for op in users)

    def _entering_data(self, prefix):
        """Ids of the tensors made inside scope `prefix` from data that came from outside it."""
        if prefix not in self._entering:
            n, found = len(prefix), set()
            for op in self.members[prefix]:
                if any(x._ctx is not None and (id(x) in found or _scope(x._ctx)[:n] != prefix)
                       for x in op.inputs):
                    found.add(id(self.made[id(op)]))
            self._entering[prefix] = found
        return self._entering[prefix]

    def _place_leaf(self, t, role):
        """("node", cluster key) where leaf `t` is drawn, ("fold", box) when it is a detail of the
        one collapsed box that uses it, or ("none", None) for a scalar (written into its ops)."""
        if role == "scalar":
            return "none", None
        users = self.consumers[id(t)]
        units = {self.unit[id(op)] for op in users}
        box = next(iter(units)) if len(units) == 1 else ("op",)
        if box[0] == "box" and (role == "constant" or role == "parameter" and
                                box[1][-1][0] == "module"):
            return "fold", box
        if role in ("input", "output"):
            return "node", ()
        key = os.path.commonprefix([self._cluster_key(op) for op in users])
        while role == "parameter" and key and key[-1][0] != "module":
            key = key[:-1]
        return "node", key

    def _grad_line(self, t):
        return f"grad norm {_norm(t.grad):.4g}" if self.show_grad and t.grad is not None else ""

    def _tensor_label(self, t, role):
        default = ("loss" if t.size == 1 else "output") if role == "output" else role
        title = self.name(t) or default
        flags = "requires grad" if role == "input" and t.requires_grad and \
            id(t) not in self.inputs else ""
        value = f"= {_fmt_value(t.item())}" if role == "output" and t.size == 1 else ""
        return _html(title, f"{_fmt_shape(t.shape)} {t.dtype}", flags, value, self._grad_line(t))

    def _edge_label(self, t):
        dtype = str(t.dtype) if t.dtype != self.outputs[0].dtype else ""
        label = " ".join(p for p in (self.name(t), _fmt_shape(t.shape), dtype) if p)
        return "\n".join(p for p in (label, self._grad_line(t)) if p)

    def _op_node(self, op):
        """(kind, label, tooltip) of a primitive's node."""
        name = type(op).__name__
        if op.inputs is None:
            return "freed", _html(f"{name} (freed)"), None
        values = [_scalar(x) if self.role(x) == "scalar" else None for x in op.inputs]
        if any(v is not None for v in values):
            name += "(" + ", ".join("·" if v is None else _fmt_value(v) for v in values) + ")"
        return "op", _html(name), None

    def _module_text(self, prefix):
        path = "/".join(entry[1] for entry in prefix if entry[0] == "module")
        return str(self.module_label.get(path, path))

    def _box_node(self, unit):
        """(kind, label, tooltip) of a collapsed composite's or module's node: the shapes of the
        results that leave it and, for a module, its parts and parameter count."""
        prefix, ops = unit[1], self.members[unit[1]]
        outs = [self.made[id(op)] for op in ops]
        leaving = [t for t in outs if any(t is o for o in self.outputs) or any(
            self.unit[id(u)] != unit for u in self.consumers.get(id(t), ()))]
        shapes = ", ".join(dict.fromkeys(_fmt_shape(t.shape) for t in leaving))
        tip = f"{prefix[-1][1]}: " + ", ".join(type(op).__name__ for op in ops)
        if prefix[-1][0] != "module":
            return "composite", _html(prefix[-1][1], shapes), tip
        parts = {}      # each composite call or primitive inside, once: its name
        for op in ops:
            call = next((entry for entry in _scope(op)[len(prefix):] if entry[0] != "module"), None)
            parts[call or op] = call[1] if call else type(op).__name__
        parts = list(parts.values())
        parts = " → ".join(parts if len(parts) <= 4 else parts[:3] + ["…"])
        count = sum(t.size for t in self.folded.get(unit, {}).values() if t.requires_grad)
        return "module", _html(self._module_text(prefix), parts, shapes,
                               f"{count:,} parameters" if count else ""), tip

    def _layout(self):
        """Node ids per cluster key, edges, and the leaves folded into each collapsed box."""
        self.ids, self.shown, self.clusters, self.edges = {}, {}, {}, {}    # edges: key -> DOT
        self.folded, self.kinds = {}, set()

        def tensor_node(t, role, key):
            node_id = self.shown[id(t)] = f"t{len(self.shown)}"
            self.kinds.add(role)
            self.clusters.setdefault(key, []).append(
                f"{node_id} {_attrs(role, self._tensor_label(t, role))}")

        def unit_id(op):
            unit = self.unit[id(op)]
            if unit not in self.ids:
                self.ids[unit] = f"op{len(self.ids)}"
                self.clusters.setdefault(self._cluster_key(op), []).append(unit)
            return self.ids[unit]

        def edge(src, dst, label, key):
            if src != dst:
                attrs = f" [label={_quote(' ' + label)}]" if label else ""
                self.edges.setdefault(key, f"{src} -> {dst}{attrs}")

        for op in self.ops:
            for x in op.inputs or ():
                if x._ctx is None and id(x) not in self.shown:
                    role = self.role(x)
                    how, where = self._place_leaf(x, role)
                    if how == "node":
                        tensor_node(x, role, where)
                    elif how == "fold":
                        self.folded.setdefault(where, {})[id(x)] = x
            uid = unit_id(op)
            for x in op.inputs or ():
                if id(x) in self.shown:
                    edge(self.shown[id(x)], uid, None, (id(x), uid))
                elif x._ctx is not None:
                    edge(unit_id(x._ctx), uid, self._edge_label(x), (id(x), uid))
        for t in self.outputs:
            if id(t) not in self.shown:
                tensor_node(t, "output", ())
                if t._ctx is not None:
                    edge(unit_id(t._ctx), self.shown[id(t)], None, (id(t), "made"))

    def _unit_decl(self, unit, module=None):
        """The DOT declaration of an op or box node; `module` names the module scope it alone
        makes up (drawn as a line of the label instead of a cluster around one node)."""
        kind, label, tip = self._box_node(unit) if unit[0] == "box" else self._op_node(unit[1])
        if module:
            line = f'<font point-size="9" color="#674ea7">{html.escape(module)}</font>'
            label = f"{label[:-1]}<br/>{line}>"
        self.kinds.add(kind)
        return f"{self.ids[unit]} {_attrs(kind, label, tip)}"

    def _emit(self, lines, key, indent, counter):
        """Write the nodes of cluster `key` and, nested inside it, its sub-clusters."""
        pad = "  " * indent
        for entry in self.clusters.get(key, ()):
            decl = self._unit_decl(entry) if isinstance(entry, tuple) else entry
            lines.append(f"{pad}{decl};")
        for child in self.children.get(key, ()):
            kind, name, _ = child[-1]
            content = self.clusters.get(child, ())
            if kind == "module" and child not in self.children and len(content) == 1 and \
                    isinstance(content[0], tuple):
                lines.append(pad + self._unit_decl(content[0], self._module_text(child)) + ";")
                continue
            label = self._module_text(child) if kind == "module" else name
            lines.append(f"{pad}subgraph cluster_{next(counter)} {{ label={_quote(label)}; "
                         f"{_CLUSTER['module' if kind == 'module' else 'op']};")
            self._emit(lines, child, indent + 1, counter)
            lines.append(pad + "}")

    def dot(self, rankdir, legend):
        self._layout()
        self.children = {}      # cluster key -> {sub-cluster key: None}, in order of appearance
        for key in list(self.clusters):
            for n in range(len(key)):
                self.children.setdefault(key[:n], {})[key[:n + 1]] = None
        lines = ["digraph minigrad {",
                 f'  graph [rankdir={rankdir}, fontname="Helvetica", fontsize=10, nodesep=0.3, '
                 'ranksep=0.3, newrank=true];',
                 '  node [fontname="Helvetica", fontsize=10, height=0.3, margin="0.1,0.03"];',
                 '  edge [fontname="Helvetica", fontsize=8, color="#666666", fontcolor="#555555", '
                 'arrowsize=0.6];']
        if self.freed:
            lines.append(f'  label={_quote(_FREED_NOTE)}; labelloc=b; fontcolor="#cc0000";')
        self._emit(lines, (), 1, iter(range(1 << 30)))
        lines += [f"  {e};" for e in self.edges.values()]
        if legend:
            lines.append(f"  legend [label={_legend(self.kinds)}, shape=plaintext, margin=0];")
        lines.append("}")
        return "\n".join(lines) + "\n"
