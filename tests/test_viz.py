"""Graph pictures: DOT text against golden files, node counts of collapsed and expanded composites,
module clusters and boxes, real Graphviz renders, and the errors when Graphviz is missing."""
import ast
import os
import re
import sys
from pathlib import Path

import pytest

import minigrad as mg
from conftest import gallery_script, require
from minigrad import viz
from nn import functional as F

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("MINIGRAD_UPDATE_GOLDEN") == "1"    # regenerate tests/golden/*.dot


def check_golden(name, text):
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text)
    assert path.exists(), f"{path} is missing; create it with MINIGRAD_UPDATE_GOLDEN=1"
    assert text == path.read_text(), (f"{name} differs from the golden file; if the change is "
                                      "intended, regenerate with MINIGRAD_UPDATE_GOLDEN=1")


def nodes(dot, prefix):
    """Bold titles of the nodes with ids prefix0, prefix1 ..., in id (data-flow) order."""
    found = re.findall(rf"^\s*{prefix}(\d+) \[label=<(?:<b>([^<]*)</b>)?", dot, re.M)
    return [title for _, title in sorted(found, key=lambda pair: int(pair[0]))]


def op_nodes(dot):
    return nodes(dot, "op")


def tensor_nodes(dot):
    return nodes(dot, "t")


def clusters(dot):
    return re.findall(r'subgraph cluster_\d+ \{ label="([^"]*)"', dot)


def param(name, data):
    t = mg.tensor(data, dtype=mg.float64).requires_grad_()
    t.name = name
    return t


def tiny_graph():
    """Module `fc` (a linear composite) -> relu -> a cross-entropy-like composite; fixed values."""
    x = mg.tensor([[1.0, -2.0, 0.5], [0.0, 1.0, -1.0]], dtype=mg.float64)
    w = param("fc.weight", [[0.1, 0.2, -0.3], [0.4, -0.5, 0.6]])
    b = param("fc.bias", [0.01, -0.02])
    with mg.scope("fc", kind="module"):
        with mg.scope("linear"):
            h = x @ w.T + b
    h = h.relu()
    with mg.scope("cross_entropy"):
        loss = (h.logsumexp(axis=1) - h[:, 0]).mean()
    return loss, x, w, b


@mg.scope("conv2d")
def sim_conv2d(x, w, b):
    """conv2d as STYLE.md builds it: windows -> permute/reshape -> matmul -> reshape -> + bias."""
    (N, C, H, W), (OC, _, KH, KW) = x.shape, w.shape
    win = x.sliding_window((KH, KW), axis=(2, 3))
    OH, OW = win.shape[2:4]
    cols = win.permute(0, 2, 3, 1, 4, 5).reshape(N * OH * OW, C * KH * KW)
    y = (cols @ w.reshape(OC, -1).T).reshape(N, OH, OW, OC).permute(0, 3, 1, 2)
    return y + b.reshape(1, OC, 1, 1)


def conv_graph():
    mg.manual_seed(0)
    x = mg.randn(2, 1, 5, 5).double().requires_grad_()
    w, b = param("conv.weight", mg.randn(3, 1, 3, 3)), param("conv.bias", mg.zeros(3))
    return sim_conv2d(x, w, b).sum()


def test_tiny_graph_matches_golden_files():
    loss, *_ = tiny_graph()
    check_golden("tiny.dot", viz.to_dot(loss))
    check_golden("tiny_expanded.dot", viz.to_dot(loss, expand=True))
    check_golden("tiny_depth1.dot", viz.to_dot(loss, depth=1, legend=False))


def test_same_graph_gives_the_same_text():
    first = viz.to_dot(tiny_graph()[0], expand=True)
    loss = tiny_graph()[0]            # a new graph: other tensors, other scope serials
    assert viz.to_dot(loss, expand=True) == first
    assert viz.to_dot(loss, expand=True) == viz.to_dot(loss, expand=True)


def test_node_ids_follow_data_flow():
    dot = viz.to_dot(tiny_graph()[0], expand=True)
    edges = re.findall(r"^\s*(op|t)(\d+) -> (op|t)(\d+)", dot, re.M)
    assert all(int(a) < int(b) for s, a, d, b in edges if s == d == "op")


def test_tensor_roles_and_labels():
    loss, *_ = tiny_graph()
    dot = viz.to_dot(loss)
    assert sorted(tensor_nodes(dot)) == ["fc.bias", "fc.weight", "input", "loss"]
    assert "(2, 3) float64" in dot and "(2,) float64" in dot and "(2, 3) float64" in dot
    assert f"= {loss.item():.4g}" in dot                        # the loss value
    assert 'fillcolor="#d9ead3"' in dot and 'fillcolor="#cfe2f3"' in dot   # parameter, input
    assert op_nodes(dot) == ["linear", "Relu", "cross_entropy"]
    assert clusters(dot) == ["fc"]
    assert '" (2, 2)"' in dot                                   # edges carry shapes


def test_scalars_fold_into_ops():
    x = mg.tensor([1.0, 2.0]).requires_grad_()
    y = (x * 0.5 - 3.0).sum()
    dot = viz.to_dot(y, inputs={"x": x}, legend=False)
    assert tensor_nodes(dot) == ["x", "loss"]
    assert op_nodes(dot) == ["Mul(·, 0.5)", "Sub(·, 3)", "Sum"]
    anon = viz.to_dot(y)
    assert tensor_nodes(anon) == ["input", "loss"] and "requires grad" in anon


def test_inputs_argument_marks_and_names_inputs():
    x = mg.tensor([1.0, 2.0]).requires_grad_()
    w = param("w", [3.0, 4.0])
    y = (x * w).sum()
    dot = viz.to_dot(y, inputs={"images": x}, legend=False)
    assert tensor_nodes(dot) == ["images", "w", "loss"] and "requires grad" not in dot
    assert viz.to_dot(y, inputs=[x]).count("<b>input</b>") == 1
    line = next(line for line in dot.splitlines() if "<b>images</b>" in line)
    assert 'fillcolor="#cfe2f3"' in line                              # blue, though it needs grad


def test_named_outputs_and_several_outputs():
    x = mg.tensor([[1.0, 2.0]]).requires_grad_()
    h = x * 2.0
    h.name = "logits"
    loss = h.sum()
    dot = viz.to_dot(loss, h)
    assert tensor_nodes(dot) == ["input", "loss", "logits"]
    assert len(op_nodes(dot)) == 2
    assert '" logits (1, 2)"' in dot                            # the edge into Sum is named


def test_show_grad_prints_gradient_norms():
    loss, x, w, b = tiny_graph()
    loss.backward(retain_graph=True)
    dot = viz.to_dot(loss, show_grad=True)
    for t in (w, b):
        assert f"grad norm {float((t.grad * t.grad).sum().sqrt().item()):.4g}" in dot
    assert dot.count("grad norm") == 2                           # x needs no gradient
    assert "grad norm" not in viz.to_dot(loss)


def test_dtype_on_edges_only_where_it_changes():
    x = mg.tensor([1.0, 2.0], dtype=mg.float64).requires_grad_()
    dot = viz.to_dot((x.astype(mg.float32) * 2.0).sum().astype(mg.float64))
    assert "(2,) float32" in dot and "scalar float32" in dot and "float64\"" not in dot


def test_rankdir_and_legend_switches():
    loss = tiny_graph()[0]
    assert "rankdir=LR" in viz.to_dot(loss, rankdir="LR")
    assert "legend [" in viz.to_dot(loss) and "legend [" not in viz.to_dot(loss, legend=False)


def test_collapsed_and_expanded_conv_node_counts():
    loss = conv_graph()
    collapsed, expanded = viz.to_dot(loss), viz.to_dot(loss, expand=True)
    assert op_nodes(collapsed) == ["conv2d", "Sum"]
    # windows, permute, reshape | reshape, permute (w.T) | matmul, reshape, permute |
    # reshape, expand, add (bias) -> 11 primitives inside the conv2d cluster, plus the Sum
    assert len(op_nodes(expanded)) == 11 + 1
    assert sorted(op_nodes(expanded)) == sorted(
        ["Windows", "Permute", "Reshape", "Reshape", "Permute", "MatMul", "Reshape", "Permute",
         "Reshape", "Expand", "Add", "Sum"])
    assert clusters(collapsed) == [] and clusters(expanded) == ["conv2d"]
    assert sorted(tensor_nodes(collapsed)) == sorted(tensor_nodes(expanded)) == \
        ["conv.bias", "conv.weight", "input", "loss"]
    assert "(2, 3, 3, 3)" in collapsed.split("conv2d")[1].split("]")[0]    # the box's output shape


def test_expand_by_name_set_and_predicate():
    loss, *_ = tiny_graph()
    by_name = viz.to_dot(loss, expand="cross_entropy")
    assert "linear" in op_nodes(by_name) and "cross_entropy" not in op_nodes(by_name)
    assert clusters(by_name) == ["fc", "cross_entropy"]
    assert viz.to_dot(loss, expand={"cross_entropy"}) == by_name
    assert viz.to_dot(loss, expand=lambda name: name.startswith("cross")) == by_name


def test_nested_composites_and_two_calls_of_one_composite():
    x = mg.tensor([[1.0, 2.0]]).requires_grad_()
    with mg.scope("outer"):
        with mg.scope("inner"):
            y = x * 2.0
        with mg.scope("inner"):                       # a second call: its own box
            y = y.exp()
        y = y.sum()
    assert op_nodes(viz.to_dot(y)) == ["outer"]
    assert op_nodes(viz.to_dot(y, expand="outer")) == ["inner", "inner", "Sum"]
    assert op_nodes(viz.to_dot(y, expand=True)) == ["Mul(·, 2)", "Exp", "Sum"]
    assert clusters(viz.to_dot(y, expand=True)) == ["outer", "inner", "inner"]
    with mg.scope("model", kind="module"):
        z = y * 3.0
    assert op_nodes(viz.to_dot(z, depth=1)) == ["outer", "model"]
    with mg.scope("model", kind="module"):
        for _ in range(5):
            with mg.scope("inner"):              # five calls, listed as separate steps
                z = z * 2.0
    assert op_nodes(viz.to_dot(z, depth=1)) == ["outer", "model", "model"]
    assert "inner → inner → inner → …" in viz.to_dot(z, depth=1)


def residual_graph():
    """block1 (module) holding conv (module, a conv2d composite) and a skip connection."""
    mg.manual_seed(1)
    x = mg.randn(1, 2, 4, 4).double().requires_grad_()
    w, b = param("block1.conv.weight", mg.randn(2, 2, 1, 1)), param("block1.conv.bias", mg.zeros(2))
    with mg.scope("net", kind="module"):
        with mg.scope("block1", kind="module"):
            with mg.scope("conv", kind="module"):
                h = sim_conv2d(x, w, b)
            with mg.scope("drop", kind="module"):
                mask = mg.tensor([[[[1.5, 0.0, 1.5, 1.5]] * 4] * 2], dtype=mg.float64)
                h = h * mask
            h = (h + x).relu()
    return h.mean()


def test_module_scopes_become_nested_clusters_with_paths():
    dot = viz.to_dot(residual_graph())
    assert clusters(dot) == ["net", "net/block1", "net/block1/conv", "net/block1/drop"]
    assert op_nodes(dot) == ["conv2d", "Mul", "Add", "Relu", "Sum", "Div(·, 32)"]
    # the conv parameters sit inside the conv cluster
    conv = dot.split('label="net/block1/conv"')[1].split("}")[0]
    assert "block1.conv.weight" in conv and "block1.conv.bias" in conv
    # the dropout mask only meets data flowing through its module: a grey constant inside it
    drop = dot.split('label="net/block1/drop"')[1].split("}")[0]
    assert tensor_nodes(drop) == ["constant"] and op_nodes(drop) == ["Mul"]
    assert tensor_nodes(dot) == ["input", "block1.conv.weight", "block1.conv.bias", "constant",
                                 "loss"]


def test_a_module_holding_one_node_is_a_line_of_its_label():
    x = mg.tensor([[1.0, -2.0]]).requires_grad_()
    with mg.scope("act", kind="module"):
        h = x.relu()
    dot = viz.to_dot(h.sum())
    assert clusters(dot) == [] and "act</font>" in dot


def test_depth_draws_module_boxes_with_parameter_counts():
    loss = residual_graph()
    top = viz.to_dot(loss, depth=1)
    assert op_nodes(top) == ["net", "Sum", "Div(·, 32)"]
    assert "6 parameters" in top and "block1.conv.weight" not in top   # 2*2*1*1 + 2, folded
    assert "constant" not in tensor_nodes(top)                         # the mask is folded too
    assert tensor_nodes(top) == ["input", "loss"]
    deep = viz.to_dot(loss, depth=3)
    assert op_nodes(deep) == ["net/block1/conv", "net/block1/drop", "Add", "Relu", "Sum",
                              "Div(·, 32)"]
    assert clusters(deep) == ["net", "net/block1"]
    assert "conv2d" in deep.split("net/block1/conv</b>")[1].split("]")[0]   # what the box holds
    block = viz.to_dot(loss, depth=2)
    assert op_nodes(block) == ["net/block1", "Sum", "Div(·, 32)"]
    assert "conv2d → Mul → Add → Relu" in block          # what the block runs, in order
    labelled = viz.to_dot(loss, depth=3, module_label={"net/block1/conv": "conv (Conv2d)"})
    assert "conv (Conv2d)" in op_nodes(labelled)
    assert clusters(viz.to_dot(loss, depth=3, module_label={"net/block1": "B1"})) == ["net", "B1"]


def test_internal_constant_is_hidden_in_a_collapsed_box_and_grey_when_expanded():
    x = mg.tensor([[1.0, 3.0, 2.0]]).requires_grad_()
    with mg.scope("softmax"):
        e = (x - x.detach().max(axis=1, keepdims=True)).exp()      # a (1, 1) constant shift
        y = e / e.sum(axis=1, keepdims=True)
    loss = (y * mg.tensor([[1.0, 2.0, 3.0]])).sum()
    collapsed = viz.to_dot(loss)
    assert tensor_nodes(collapsed) == ["input", "input", "loss"]
    assert "Sub(·, 3)" in op_nodes(viz.to_dot(loss, expand=True))   # one value: folded
    mask = mg.tensor([[0.0, 1.0, 1.0]])
    with mg.scope("dropout"):
        z = x * mask
    z = z.sum()
    assert tensor_nodes(viz.to_dot(z)) == ["input", "input", "loss"]   # starts nothing: input...
    h = x * 2.0
    with mg.scope("dropout"):
        z = h * mask                                                  # ...meets data: constant
    z = z.sum()
    assert tensor_nodes(viz.to_dot(z)) == ["input", "loss"]
    assert tensor_nodes(viz.to_dot(z, expand=True)) == ["input", "constant", "loss"]


def lenet_like_step(expand=False, **kwargs):
    mg.manual_seed(0)
    x = mg.randn(2, 1, 10, 10).double().requires_grad_()
    c1w, c1b = param("conv1.weight", mg.randn(3, 1, 3, 3) * 0.3), param("conv1.bias", mg.zeros(3))
    fcw, fcb = param("fc.weight", mg.randn(4, 48) * 0.1), param("fc.bias", mg.zeros(4))
    h = F.max_pool2d(F.relu(F.conv2d(x, c1w, c1b)), 2)
    loss = F.cross_entropy(F.linear(h.flatten(1), fcw, fcb), mg.tensor([1, 3]))
    return loss, viz.to_dot(loss, expand=expand, **kwargs)


def primitives_per_composite(loss):
    """{outermost composite name or None: number of primitives}, counted by walking the graph."""
    counts, seen, stack = {}, set(), [loss._ctx]
    while stack:
        op = stack.pop()
        if op is None or id(op) in seen:
            continue
        seen.add(id(op))
        names = [name for kind, name, _ in op.scope if kind == "op"]
        key = names[0] if names else None
        counts[key] = counts.get(key, 0) + 1
        stack.extend(x._ctx for x in op.inputs)
    return counts


def test_real_conv_pool_linear_cross_entropy_step():
    loss, collapsed = lenet_like_step()
    counts = primitives_per_composite(loss)
    assert op_nodes(collapsed) == ["conv2d", "relu", "max_pool2d", "Reshape", "linear",
                                   "cross_entropy"]
    assert sorted(tensor_nodes(collapsed)) == ["conv1.bias", "conv1.weight", "fc.bias", "fc.weight",
                                               "input", "loss"]
    _, expanded = lenet_like_step(expand=True)
    assert len(op_nodes(expanded)) == sum(counts.values())
    assert {"Windows", "MatMul", "Max"} <= set(op_nodes(expanded))
    assert set(clusters(expanded)) == {"conv2d", "relu", "max_pool2d", "linear", "cross_entropy"}
    _, conv_only = lenet_like_step(expand="conv2d")
    assert clusters(conv_only) == ["conv2d"] and "conv2d" not in op_nodes(conv_only)
    assert len(op_nodes(conv_only)) == len(op_nodes(collapsed)) - 1 + counts["conv2d"]
    assert counts["conv2d"] >= 5            # windows, permute, reshape(s), matmul, bias add


def test_real_graph_after_backward():
    loss, _ = lenet_like_step()
    loss.backward(retain_graph=True)
    dot = viz.to_dot(loss, show_grad=True)
    assert dot.count("grad norm") == 5           # 4 parameters + the input
    loss.backward()
    with pytest.warns(UserWarning, match="retain_graph=True"):
        freed = viz.to_dot(loss)
    assert "retain_graph=True" in freed
    assert len(op_nodes(freed)) == 1 and op_nodes(freed)[0].endswith(" (freed)")


def small_convnet_step(**kwargs):
    import nn
    mg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(3 * 4 * 4, 5))
    images = mg.randn(2, 1, 10, 10).requires_grad_()
    loss = nn.CrossEntropyLoss()(model(images), mg.tensor([0, 4]))
    return model, loss, viz.to_dot(loss, inputs={"images": images}, **kwargs)


def test_nn_modules_draw_as_clusters_and_module_boxes():
    model, loss, dot = small_convnet_step()
    assert clusters(dot) == ["Sequential", "Sequential/0", "Sequential/4"]    # the ones with params
    assert op_nodes(dot) == ["conv2d", "relu", "max_pool2d", "Reshape", "linear", "cross_entropy"]
    assert sorted(tensor_nodes(dot)) == ["0.bias", "0.weight", "4.bias", "4.weight", "images",
                                         "loss"]
    layers = viz.to_dot(loss, depth=2)
    assert op_nodes(layers) == ["Sequential/0", "Sequential/1", "Sequential/2", "Sequential/3",
                                "Sequential/4", "CrossEntropyLoss"]
    counts = [int(n.replace(",", "")) for n in re.findall(r"([\d,]+) parameters", layers)]
    assert counts == [3 * 9 + 3, 48 * 5 + 5]
    assert sum(counts) == sum(p.size for p in model.parameters())
    assert op_nodes(viz.to_dot(loss, depth=1)) == ["Sequential", "CrossEntropyLoss"]


def test_nn_step_renders_to_svg(tmp_path):
    require("graphviz")
    _, loss, _ = small_convnet_step()
    viz.draw(loss, path=tmp_path / "step", expand=True)
    svg = (tmp_path / "step.svg").read_text()
    for label in ("Sequential/0", "Windows", "MatMul", "0.weight", "cross_entropy", "loss"):
        assert label in svg, label


def test_gallery_script_draws_every_picture(tmp_path):
    gallery, committed = gallery_script("make_gallery.py", out_dir=tmp_path)
    for make in (gallery.mlp_step, gallery.conv_step, gallery.residual_block, gallery.lenet5):
        make()
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == committed
    assert "grad norm" in (tmp_path / "mlp_step.svg").read_text()
    assert "TinyResNet/block1/bn1" in (tmp_path / "residual_block.svg").read_text()


def test_freed_graph_is_drawn_as_far_as_possible_and_says_so():
    x = mg.tensor([1.0, 2.0]).requires_grad_()
    y = (x.exp() * 2.0).sum()
    y.backward()
    with pytest.warns(UserWarning, match=r"retain_graph=True"):
        dot = viz.to_dot(y)
    assert op_nodes(dot) == ["Sum (freed)"]
    assert "backward(retain_graph=True)" in dot and tensor_nodes(dot) == ["loss"]


def test_leaf_output_without_graph():
    dot = viz.to_dot(mg.tensor([1.0, 2.0]))
    assert tensor_nodes(dot) == ["output"] and op_nodes(dot) == []


@pytest.mark.parametrize("call, error, message", [
    (lambda: viz.to_dot(), ValueError, "at least one output"),
    (lambda: viz.to_dot([1.0]), TypeError, "output 0 is a list"),
    (lambda: viz.to_dot(mg.ones(2), depth=0), ValueError, "depth must be a positive int"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_svg_render_holds_the_node_labels(tmp_path):
    require("graphviz")
    loss, _ = lenet_like_step()
    source = viz.draw(loss, path=tmp_path / "step.svg")
    svg = (tmp_path / "step.svg").read_text()
    for label in ("conv2d", "max_pool2d", "linear", "cross_entropy", "conv1.weight", "fc.bias",
                  "loss", "(2, 3, 8, 8)"):
        assert label in svg, label
    assert not list(tmp_path.glob("*.svg.svg")) and not list(tmp_path.glob("*.gv"))
    assert "<svg" in source.pipe(format="svg").decode()             # what Jupyter shows


def test_draw_path_and_format(tmp_path):
    require("graphviz")
    loss = tiny_graph()[0]
    viz.draw(loss, path=tmp_path / "a")                            # no suffix: svg added
    viz.draw(loss, path=tmp_path / "b", format="png")
    viz.draw(loss, path=str(tmp_path / "c.pdf"))                   # format from the suffix
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["a.svg", "b.png", "c.pdf"]
    assert (tmp_path / "b.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "c.pdf").read_bytes()[:4] == b"%PDF"
    with pytest.raises(ValueError, match="format must be one of"):
        viz.draw(loss, format="jpg")


def test_every_picture_is_valid_dot():
    graphviz = require("graphviz")
    pictures = [viz.to_dot(residual_graph(), **kw) for kw in
                ({}, {"expand": True}, {"depth": 2}, {"rankdir": "LR"})]
    for dot in pictures + [lenet_like_step(expand=True)[1]]:
        assert graphviz.Source(dot).pipe(format="svg").startswith(b"<?xml")


def test_missing_dot_program_says_how_to_install(monkeypatch):
    require("graphviz")
    monkeypatch.setenv("PATH", "")
    loss = tiny_graph()[0]
    with pytest.raises(RuntimeError) as info:
        viz.draw(loss)
    message = str(info.value)
    for text in ("apt-get install graphviz", "brew install graphviz", "conda", "to_dot"):
        assert text in message
    assert viz.to_dot(loss).startswith("digraph")                  # still works without dot


def test_dot_failing_at_render_time_gives_the_same_message(monkeypatch, tmp_path):
    graphviz = require("graphviz")

    def missing(*args, **kwargs):
        raise graphviz.ExecutableNotFound(["dot"])

    monkeypatch.setattr(graphviz.Source, "render", missing)
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        viz.draw(tiny_graph()[0], path=tmp_path / "g")


def test_missing_graphviz_package_says_pip_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)              # import graphviz fails
    loss = tiny_graph()[0]
    with pytest.raises(ImportError, match=r'pip install "minigrad\[viz\]"'):
        viz.draw(loss)
    assert viz.to_dot(loss).startswith("digraph")


def imported(nodes):
    names = [n.module or "" for n in nodes if isinstance(n, ast.ImportFrom)]
    return names + [a.name for n in nodes if isinstance(n, ast.Import) for a in n.names]


def test_viz_imports_nothing_above_its_layer():
    tree = ast.parse(Path(viz.__file__).read_text())
    assert not [m for m in imported(ast.walk(tree)) if m.split(".")[0] in ("nn", "numpy")]
    assert "graphviz" not in imported(tree.body)                    # imported lazily, in draw
