"""Describing a model from one forward pass of a dummy batch: Keras's summary table and a
module-level graph picture (Keras's plot_model) drawn by minigrad.viz."""
import minigrad as mg


def _dummy(model, input_shape, caller):
    """A zero batch of one sample; input_shape has no batch axis (default: what fit last saw)."""
    shape = getattr(model, "_sample_shape", None) if input_shape is None else tuple(input_shape)
    if shape is None:
        raise ValueError(f"{caller}: pass input_shape, the shape of one sample without the batch "
                         "axis, e.g. (1, 28, 28)")
    return mg.zeros((1, *shape))


def _layers(model):
    """(name, module) of the table's rows: the model's children, or the model if it has none."""
    return list(model.named_children()) or [(type(model).__name__, model)]


def _output_shapes(model, x):
    """Run x through the model in eval mode without gradients, noting each row's output shape."""
    shapes, layers = {}, _layers(model)

    def recorder(name, forward):
        def record(*args, **kwargs):
            out = forward(*args, **kwargs)
            shapes[name] = out.shape
            return out
        return record

    for name, m in layers:          # an instance attribute shadows the class's forward for a moment
        m.__dict__["forward"] = recorder(name, m.forward)
    try:
        with model._inference():
            model(x)
    finally:
        for _, m in layers:
            del m.__dict__["forward"]
    return shapes


def _count(m):
    """Parameters and floating-point buffers (running statistics), as Keras counts a layer."""
    return sum(t.size for t in (*m.parameters(), *m.buffers()) if t.dtype.kind == "f")


def summary(model, input_shape=None, print_fn=print) -> str:
    """The Keras-style table of Model.summary: layer (name and type), output shape and parameter
    count (floating-point buffers included, as Keras counts) per top-level layer, then total,
    trainable and non-trainable counts (frozen parameters and floating-point buffers such as
    running statistics)."""
    shapes = _output_shapes(model, _dummy(model, input_shape, "summary"))
    head = ("Layer (type)", "Output Shape", "Param #")
    rows = [(f"{name} ({type(m).__name__})",
             str((None, *shapes[name][1:])) if name in shapes else "(not called)",
             f"{_count(m):,}") for name, m in _layers(model)]
    total, trainable = _count(model), sum(p.size for p in model.parameters() if p.requires_grad)
    frozen = total - trainable      # only floating-point tensors can require grad
    widths = [max(len(row[i]) for row in [head, *rows]) + 3 for i in range(3)]
    rule = sum(widths) + 1

    def line(cells):
        return " " + "".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    title = getattr(model, "name", None) or type(model).__name__
    text = "\n".join([f'Model: "{title}"', "_" * rule, line(head), "=" * rule,
                      *map(line, rows), "=" * rule, f"Total params: {total:,}",
                      f"Trainable params: {trainable:,}", f"Non-trainable params: {frozen:,}",
                      "_" * rule])
    if print_fn is not None:
        print_fn(text)
    return text


def plot(model, input_shape=None, path=None, **draw_options):
    """The picture of Model.plot: viz.draw of one forward pass at module depth (one box per
    top-level layer, with its output shape and parameter count)."""
    from minigrad import viz
    x = _dummy(model, input_shape, "plot").requires_grad_()   # the picture starts at its shape
    with model._inference(), mg.enable_grad():
        out = model(x)
    root = type(model).__name__           # viz paths are the module scopes: "Net/block1/conv"
    labels = {f"{root}/{name.replace('.', '/')}" if name else root:
              f"{name or root} ({type(m).__name__})" for name, m in model.named_modules()}
    defaults = {"depth": 2 if next(model.children(), None) is not None else 1,
                "inputs": {"input": x}, "module_label": labels}
    return viz.draw(out, path=path, **{**defaults, **draw_options})
