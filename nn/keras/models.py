"""keras.Model, keras.Sequential and keras.models.load_model.

A Model is an nn.Module with Keras's signatures over nn.Model's compile/fit/evaluate/predict. It
is made from a functional graph (Model(inputs, outputs): the layer calls recorded on a
keras.Input are replayed on real batches), as a Sequential, or as a subclass defining call().
save() writes the architecture (each layer's class and arguments), the weights and the compile
settings into one minigrad checkpoint (minigrad.save: no pickle), which load_model reads back.
"""
import minigrad as mg

from .. import summary as _summary
from ..module import Module
from ..module import Sequential as NNSequential
from . import layers as L
from . import losses, optimizers
from . import metrics as keras_metrics

_FORMAT = "minigrad-keras-model"


def _verbose(verbose):
    return 1 if verbose == "auto" else verbose


def _plain(v):
    """Whether a checkpoint can hold v as it is (no functions, no objects)."""
    if isinstance(v, (list, tuple, dict)):
        return all(map(_plain, v.values() if isinstance(v, dict) else v))
    return v is None or isinstance(v, (bool, int, float, str))


def _spec(value, where):
    """A Keras object's [class, args, kwargs] (a name stays a name), checked by _plain."""
    spec = getattr(value, "_spec", value)
    if not _plain(spec):
        raise ValueError(f"save: {where} was made with {spec!r}, which cannot be saved: give "
                         "activations, losses and metrics by name or as keras objects")
    return spec


def _revive(spec, namespace, what):
    """The object a _spec describes (a name stays a name)."""
    if isinstance(spec, str):
        return spec
    cls = getattr(namespace, spec[0], None)
    if not (isinstance(cls, type) and issubclass(cls, L.Configurable)):
        raise ValueError(f"load_model: unknown {what} {spec[0]!r}")
    return cls(*spec[1], **spec[2])


class Model(L.Layer, Module):
    """keras.Model(inputs, outputs, name) over a functional graph, or a subclass with call()."""

    def __init__(self, inputs=None, outputs=None, name=None):
        default = "functional" if type(self) is Model else L.snake_case(type(self).__name__)
        super().__init__(name=name or default)
        self._nodes, self._compile_args = None, None
        if inputs is not None or outputs is not None:
            self._graph(inputs, outputs)

    def _graph(self, inputs, outputs):
        """Record the layer calls from `inputs` to `outputs` as nodes (layer name, source), where
        source is the index of the node before (-1 for the input): a layer takes one input."""
        inputs, outputs = (t[0] if isinstance(t, (list, tuple)) and len(t) == 1 else t
                           for t in (inputs, outputs))
        if not (isinstance(inputs, L.KerasTensor) and isinstance(outputs, L.KerasTensor)):
            raise ValueError(f"Model: expected one keras.Input and one KerasTensor made from it "
                             f"(not several), got {inputs!r} and {outputs!r}")
        chain, t, names = [], outputs, {}     # a layer takes one input: the calls form a chain
        while t is not inputs:
            if t._layer is None:
                raise ValueError("Model: the outputs are not computed from these inputs")
            chain.insert(0, t)
            t = t._source
        for t in chain:
            if id(t._layer) not in names:
                names[id(t._layer)] = self._add_layer(t._layer)
        self._nodes = [(names[id(t._layer)], i - 1) for i, t in enumerate(chain)]
        self._sample_shape = inputs.shape[1:]

    def _add_layer(self, layer, name=None):
        """Register `layer` under its Keras name (conv2d, conv2d_1, ...) and return the name."""
        if not isinstance(layer, Module):
            raise TypeError(f"{type(self).__name__}: expected a layer, got {type(layer).__name__}")
        base = getattr(layer, "name", None) or L.snake_case(type(layer).__name__)
        name, i = name or base, 0
        while name in self._modules or hasattr(type(self), name):
            i += 1
            name = f"{base}_{i}"
        setattr(self, name, layer)
        return name

    def forward(self, x, *args, **kwargs):
        if self._nodes is None:
            return self.call(x, *args, **kwargs)
        for name, _ in self._nodes:         # a chain: each node takes the one before
            x = self._modules[name](x)
        return x

    def call(self, inputs):
        raise NotImplementedError(f"{type(self).__name__}: define call(self, inputs), or make the "
                                  "model as keras.Model(inputs, outputs)")

    @property
    def layers(self):
        return list(self._modules.values())

    def build(self, input_shape):
        """Make the weights of every layer for inputs of `input_shape` (batch axis first)."""
        shape = tuple(input_shape[1:])
        with self._inference():
            self(mg.zeros((1, *shape)))
        self._sample_shape = shape

    # --- Keras's verbs over nn.Model's ------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, jit_compile="auto"):
        """optimizer: a name (Keras's defaults) or a keras.optimizers object; loss: a name, a
        keras.losses object or a function(y_true, y_pred); metrics: names or keras.metrics;
        jit_compile: whether fit runs its steps through mg.compile (nn.Model.compile)."""
        if loss is None:
            raise ValueError("compile: pass a loss, e.g. loss='sparse_categorical_crossentropy'")
        self._compile_args = (optimizer, loss, list(metrics or ()), jit_compile)
        super().compile(optimizers.get(optimizer), losses.get(loss),
                        [keras_metrics.get(m) for m in metrics or ()], jit_compile=jit_compile)

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, initial_epoch=0,
            distributed=False):
        """Keras's fit; `distributed=True` (minigrad's, not Keras's) trains data-parallel under
        mpirun, as nn.Model.fit does."""
        if isinstance(validation_data, (tuple, list)):
            x_val, y_val = validation_data          # (x, y); Keras's sample weights are not taken
            validation_data = (L.float32(x_val), y_val)
        return super().fit(L.float32(x), y, batch_size or 32, epochs, validation_data,
                           validation_split, shuffle, callbacks or (), _verbose(verbose),
                           initial_epoch=initial_epoch, distributed=distributed)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", return_dict=False):
        """The loss, or [loss, *metrics] when compiled with metrics; a dict with return_dict."""
        logs = super().evaluate(L.float32(x), y, batch_size or 32)
        if _verbose(verbose):
            print(" - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
        values = list(logs.values())
        return logs if return_dict else values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto"):
        """The outputs for x as a NumPy array, batch by batch in eval mode."""
        return super().predict(L.float32(x), batch_size or 32).numpy()

    def _prepare(self, loader):
        super()._prepare(loader)
        if isinstance(self.optimizer, optimizers.Optimizer) and not self.optimizer.built:
            self.optimizer.build(self.parameters())

    def summary(self, print_fn=None):
        """Print Keras's table: each layer's name, output shape and weight count, then totals."""
        if getattr(self, "_sample_shape", None) is None:
            raise ValueError(f"summary: {self.name} is not built yet; give its first layer "
                             "input_shape=, start it with keras.Input(shape=...), call build() "
                             "or fit first")
        _summary.summary(self, None, print_fn or print)

    # --- saving -----------------------------------------------------------------------------------
    def save(self, filepath):
        """Write the architecture, weights and compile settings to `filepath` (e.g. m.keras)."""
        if type(self) not in (Model, Sequential):
            raise ValueError(f"save: {type(self).__name__} is a subclassed model, which cannot be "
                             "made again without its code; use save_weights and load_weights")
        if getattr(self, "_sample_shape", None) is None:
            raise ValueError(f"save: {self.name} is not built yet (fit it or give input shapes)")
        config = {"class": type(self).__name__, "name": self.name, "nodes": self._nodes,
                  "input_shape": list(self._sample_shape),
                  "layers": [[name, _spec(m, f"layer {name!r}")]
                             for name, m in self._modules.items()]}
        compiled = None
        if self._compile_args is not None:
            optimizer, loss, metric_list, jit_compile = self._compile_args
            compiled = [_spec(optimizer, "the optimizer"), _spec(loss, "the loss"),
                        [_spec(m, "a metric") for m in metric_list], jit_compile]
        mg.save({"format": _FORMAT, "model": config, "weights": self.state_dict(),
                 "compile": compiled}, filepath)

    def save_weights(self, filepath):
        mg.save(self.get_weights(), filepath)

    def load_weights(self, filepath):
        self.set_weights(mg.load(filepath))


class Sequential(Model):
    """keras.Sequential([layers]): each layer runs on the previous output. Given an input shape
    (keras.Input first, or input_shape= on the first layer) it is built at once, as in Keras."""

    def __init__(self, layers=None, name=None):
        super().__init__(name=name or "sequential")
        self._output = None
        for layer in layers or ():
            self.add(layer)

    def add(self, layer):
        first = not self._modules and self._output is None
        if isinstance(layer, L.KerasTensor):
            if not first:
                raise ValueError("Sequential: keras.Input can only come first")
            self._output, self._sample_shape = layer, layer.shape[1:]
            return
        if first and getattr(layer, "_input_shape", None) is not None:
            self.add(L.Input(layer._input_shape))
        self._add_layer(layer)
        if self._output is not None:
            self._output = layer(self._output)        # builds the layer

    # run, iterated and measured as nn.Sequential is (fit's final-activation check walks it)
    call = NNSequential.forward
    __iter__ = NNSequential.__iter__
    __len__ = NNSequential.__len__


def load_model(filepath):
    """The model that Model.save wrote to `filepath`, with its weights, compiled as it was."""
    state = mg.load(filepath)
    if not isinstance(state, dict) or state.get("format") != _FORMAT:
        raise ValueError(f"load_model: {filepath} was not written by a keras Model's save()")
    config = state["model"]
    model = (Sequential if config["class"] == "Sequential" else Model)(name=config["name"])
    for name, spec in config["layers"]:
        model._add_layer(_revive(spec, L, "layer"), name)
    model._nodes = config["nodes"]
    model.build((None, *config["input_shape"]))
    model.load_state_dict(state["weights"])
    if state["compile"] is not None:
        optimizer, loss, metric_list, *jit = state["compile"]      # files before jit_compile: 3
        model.compile(_revive(optimizer, optimizers, "optimizer"), _revive(loss, losses, "loss"),
                      [_revive(m, keras_metrics, "metric") for m in metric_list], *jit)
    return model
