"""Model: Keras's verbs (compile, fit, evaluate, predict, summary, plot) for every nn.Module.

nn.Module inherits this mixin, so a Sequential and a subclassed module train the same way. It uses
only the module's own methods (calling it, parameters, modules, train/eval, state_dict) and the
layers below nn (functional, optim, data, serialize, viz). The names compile accepts live in
nn/metrics.py, the summary table and the graph picture in nn/summary.py.
"""
import contextlib
import math
import signal
import sys
import threading

import minigrad as mg
from minigrad import distributed as dist
from minigrad.autograd import host
from minigrad.data import DataLoader, TensorDataset

from . import summary as _summary
from .callbacks import History, ProgressBar
from .metrics import FUSED, LOSSES, METRICS, OPTIMIZERS, lookup


def _final_activation(model):
    """(name, logits) when `model` ends in a softmax or sigmoid, logits(x) being the input to that
    activation; else (None, None). Recognised: Dense/Conv2D(activation='softmax' or 'sigmoid'),
    nn.Softmax(dim=1 or -1) and nn.Sigmoid, as the model or as the last layer of a Sequential."""
    activation, kind = getattr(model, "activation", None), type(model).__name__
    if activation in ("softmax", "sigmoid") and hasattr(model, "build"):      # a Keras layer
        return activation, lambda x: model(x, activate=False)
    if kind == "Softmax" and model.dim in (1, -1) or kind == "Sigmoid":
        return kind.lower(), lambda x: x
    if kind == "Sequential" and len(model):
        *body, last = model
        name, head = _final_activation(last)
        if name is not None:
            def logits(x):
                for layer in body:
                    x = layer(x)
                return head(x)
            return name, logits
    return None, None


def _loader(x, y, batch_size, shuffle, caller):
    """A DataLoader over arrays or Tensors (x, y); a DataLoader of (x, y) batches passes through."""
    if isinstance(x, DataLoader) and y is None:
        return x
    if isinstance(x, DataLoader) or y is None or len(x) != len(y) or len(x) == 0:
        raise ValueError(f"{caller}: pass x and y holding the same number of samples (at least "
                         "one), or a DataLoader of (x, y) batches and no y; got x "
                         f"{getattr(x, 'shape', type(x).__name__)} and y "
                         f"{getattr(y, 'shape', type(y).__name__)}")
    return DataLoader(TensorDataset(x, y), batch_size, shuffle=shuffle, seed=None if shuffle else 0)


def _distribute(loader):
    """This rank's share of `loader`: batches of batch_size / world_size (minigrad.distributed)."""
    dist.init()
    if loader.batch_size % dist.world_size:
        raise ValueError(f"fit: batch_size {loader.batch_size} does not split evenly over "
                         f"{dist.world_size} ranks")
    return DataLoader(loader.dataset, loader.batch_size // dist.world_size, loader.shuffle,
                      loader.drop_last, loader.seed, loader.transform, dist.world_size, dist.rank)


def _fire(callbacks, hook, *args):
    """Call callback.hook(*args) on each callback, in order."""
    for callback in callbacks:
        getattr(callback, hook)(*args)


class _Totals:
    """Running sums of batch logs weighted by batch size; their means are an epoch's logs."""

    def __init__(self, sums=None, count=0):
        self.sums, self.count = dict(sums or {}), count

    def add(self, logs, n):
        for key, value in logs.items():
            self.sums[key] = self.sums.get(key, 0.0) + value * n
        self.count += n
        return self.means()

    def means(self):
        return {key: total / self.count for key, total in self.sums.items()}


class _Run:
    """Where a fit stands: its loader, the epoch, the batches of it done and their totals."""

    def __init__(self, loader, epoch):
        self.loader, self.epoch, self.step, self.totals = loader, epoch, 0, _Totals()


@contextlib.contextmanager
def _stop_on_interrupt(model):
    """While fit runs, Ctrl-C asks it to stop after the current batch; a second Ctrl-C stops it at
    once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def request_stop(signum, frame):
        if model._interrupted:
            raise KeyboardInterrupt
        model._interrupted = model.stop_training = True

    previous = signal.signal(signal.SIGINT, request_stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)


class Model:
    """Keras-style training for a module: compile once, then fit, evaluate and predict."""

    optimizer = None            # given to compile, or made by fit from the name compile got
    history = None              # the History of the last fit
    stop_training = False       # a callback sets it to end fit after the current batch
    _compiled = None
    _interrupted = False

    def compile(self, optimizer, loss, metrics=(), lr: float | None = None, jit_compile="auto"):
        """Choose how fit trains and what fit and evaluate report (Keras's compile).

        Parameters
        ----------
        optimizer : 'sgd', 'adam', 'adamw', 'rmsprop' or 'adagrad', made over the model's parameters
            (once lazy layers are built) with learning rate `lr` (default: Keras's, 0.01 for SGD,
            0.001 otherwise); or an optimizer object over all of the model's parameters.
        loss : 'cross_entropy' (logits against class indices or one-hot rows; a final softmax is
            folded in), 'binary_cross_entropy' (probabilities against 0/1 targets; a final sigmoid
            is folded in), 'mse', Keras's cross-entropies of probabilities
            ('categorical_crossentropy', 'sparse_categorical_crossentropy', 'binary_crossentropy';
            a final softmax or sigmoid is folded in likewise), or a function loss(output, target)
            -> 0-d Tensor.
        metrics : 'accuracy', 'mse', 'mae' or functions metric(output, target) -> number.
        jit_compile : fit runs each training step through mg.compile (True; a step it cannot
            replay raises CompileError), eagerly (False), or compiled unless refused, then eagerly
            ('auto').
        """
        if isinstance(optimizer, str):
            lookup(optimizer.lower(), OPTIMIZERS, "optimizer")
        elif not (hasattr(optimizer, "step") and hasattr(optimizer, "zero_grad")) or lr is not None:
            raise TypeError(f"compile: optimizer must be a name or an optimizer object (then pass "
                            f"no lr), got {type(optimizer).__name__} and lr={lr!r}")
        if jit_compile not in (True, False, "auto"):
            raise ValueError(f"compile: jit_compile must be True, False or 'auto', got "
                             f"{jit_compile!r}")
        if isinstance(metrics, str) or callable(metrics):
            metrics = [metrics]
        self._compiled = {"optimizer": optimizer, "lr": lr, "loss": loss,
                          "loss_fn": lookup(loss, LOSSES, "loss"),
                          "metrics": [(m if isinstance(m, str) else m.__name__,
                                       lookup(m, METRICS, "metric")) for m in metrics],
                          "jit_compile": jit_compile}
        self.optimizer = None if isinstance(optimizer, str) else optimizer

    def fit(self, x, y=None, batch_size: int = 32, epochs: int = 1, validation_data=None,
            validation_split: float = 0.0, shuffle: bool = True, callbacks=(), verbose: int = 1,
            seed: int | None = None, initial_epoch: int = 0, resume_from=None,
            distributed: bool = False) -> History:
        """Train on arrays or Tensors (x, y), or a DataLoader of (x, y) batches (Keras's fit).

        `validation_data` (a pair or a DataLoader) or `validation_split` (the last fraction of x,
        y, taken before shuffling) adds val_ logs at each epoch's end. `seed` seeds minigrad's
        generator first (weights of lazy layers, data order, dropout), so a run repeats bit for bit.
        `resume_from` names a ModelCheckpoint file and continues that run exactly where it was
        saved. Ctrl-C stops after the current batch. Returns the History (also `self.history`).
        `distributed=True` trains data-parallel under mpirun (minigrad.distributed): each rank
        takes its share of every batch of `batch_size`, gradients are averaged over the ranks,
        and only rank 0 writes checkpoints and shows progress.
        """
        self._require_compiled("fit")
        if seed is not None:
            mg.manual_seed(seed)
        train, val = self._fit_loaders(x, y, batch_size, shuffle, validation_data, validation_split)
        if distributed:
            train, verbose = _distribute(train), verbose if dist.rank == 0 else 0
        self._prepare(train)
        if distributed:
            dist.broadcast_parameters(self)
        self.history, run = History(), _Run(train, initial_epoch)
        if resume_from is not None:
            self._restore(mg.load(resume_from), run)
        self._run, self.stop_training, self._interrupted = run, False, False
        step = self._train_step(distributed, run, epochs)
        callbacks = [self.history, ProgressBar(epochs, len(train), verbose), *(callbacks or ())]
        _fire(callbacks, "set_model", self)
        _fire(callbacks, "on_train_begin")
        try:
            with _stop_on_interrupt(self):
                while run.epoch < epochs and not self.stop_training:
                    epoch = run.epoch
                    _fire(callbacks, "on_epoch_begin", epoch, {"step": run.step})
                    self.train()
                    batches = iter(train)           # after a resume, it goes on mid-epoch
                    while run.step < len(train) and not self.stop_training:
                        x_batch, y_batch = next(batches)
                        _fire(callbacks, "on_batch_begin", run.step)
                        out, loss = step(x_batch, y_batch)
                        logs = run.totals.add(self._metrics(out, y_batch, loss.item()), len(x_batch))
                        run.step += 1
                        _fire(callbacks, "on_batch_end", run.step - 1, logs)
                    logs = run.totals.means()
                    if run.step == len(train):          # a whole epoch: the next one is up
                        if val is not None and not self._interrupted:
                            val_logs = Model.evaluate(self, val)    # a dict, also for nn.keras
                            logs.update(("val_" + k, v) for k, v in val_logs.items())
                        run.epoch, run.step, run.totals = epoch + 1, 0, _Totals()
                    _fire(callbacks, "on_epoch_end", epoch, logs)
        except KeyboardInterrupt:
            self._interrupted = True
        if self._interrupted:
            where = f"batch {run.step} of epoch {run.epoch + 1}" if run.step else \
                f"the end of epoch {run.epoch}"
            print(f"fit: interrupted; stopped after {where}. The model keeps its weights; "
                  "returning the history so far", file=sys.stderr)
        _fire(callbacks, "on_train_end")
        return self.history

    def evaluate(self, x, y=None, batch_size: int = 32) -> dict:
        """The mean loss and metrics over (x, y) or a DataLoader, in eval mode without gradients:
        {'loss': ..., 'accuracy': ...}."""
        self._require_compiled("evaluate")
        totals = _Totals()
        with self._inference():
            for x_batch, y_batch in _loader(x, y, batch_size, False, "evaluate"):
                out, loss = self._forward_loss(x_batch, y_batch)
                totals.add(self._metrics(out, y_batch, loss.item()), len(x_batch))
        return totals.means()

    def predict(self, x, batch_size: int = 32) -> mg.Tensor:
        """The model's outputs for x (array, Tensor, or DataLoader whose batches start with x), in
        eval mode without gradients, batch by batch, joined along axis 0."""
        batches = x if isinstance(x, DataLoader) else \
            DataLoader(TensorDataset(x), batch_size, seed=0)
        with self._inference():
            return mg.concatenate([self(batch[0]) for batch in batches])

    def training_state(self) -> dict:
        """Everything fit needs to go on exactly from here (what ModelCheckpoint saves): weights,
        optimizer state, the position (epoch, batches of it done, their running totals), the random
        generator, the data order and the history."""
        run, history = self._run, self.history
        done = sum(e < run.epoch for e in history.epoch)    # an epoch cut short is redone on resume
        return {"model": self.state_dict(), "optimizer": self.optimizer.state_dict(),
                "epoch": run.epoch, "step": run.step, "totals": [run.totals.sums, run.totals.count],
                "rng": mg.get_rng_state(), "data": run.loader.state_dict(),
                "history": {"epoch": history.epoch[:done],
                            "logs": {k: v[:done] for k, v in history.history.items()}}}

    def summary(self, input_shape=None, print_fn=print) -> str:
        """Print and return a Keras-style table: each top-level layer with its output shape and
        parameter count, then the totals. `input_shape` is one sample's shape, without the batch
        axis, e.g. (1, 28, 28); it defaults to the shape of the data fit last saw."""
        return _summary.summary(self, input_shape, print_fn)

    def plot(self, input_shape=None, path=None, **draw_options):
        """Draw the module-level graph of one forward pass with minigrad.viz (Keras's plot_model):
        one box per top-level layer with its output shape and parameter count. Saves to `path`
        when given; returns what viz.draw returns. Needs graphviz (`pip install
        "minigrad[viz]"`)."""
        return _summary.plot(self, input_shape, path, **draw_options)

    # --- helpers of the verbs above ---------------------------------------------------------------
    def _require_compiled(self, caller):
        if self._compiled is None:
            raise ValueError(f"{caller}: call compile(optimizer, loss, metrics) before {caller}")

    @contextlib.contextmanager
    def _inference(self):
        """Eval mode without gradients for the block; the mode before is restored after."""
        was_training = self.training
        self.eval()
        try:
            with mg.no_grad():
                yield
        finally:
            self.train(was_training)

    def _prepare(self, loader):
        """Build lazy layers from one sample of the first batch (the loader's position is kept),
        note the sample shape for summary and plot, make the optimizer compile named, and check
        that the optimizer holds every parameter."""
        position = loader.state_dict()
        x = next(iter(loader))[0]
        loader.load_state_dict(position)
        self._sample_shape = tuple(x.shape[1:])
        with self._inference():
            self(x[:1])
        if self.optimizer is None:
            cls, default_lr = OPTIMIZERS[self._compiled["optimizer"].lower()]
            lr = self._compiled["lr"]
            self.optimizer = cls(self.parameters(), lr=default_lr if lr is None else lr)
        groups = getattr(self.optimizer, "param_groups", ())
        held = {id(p) for group in groups for p in group["params"]}
        missing = [name for name, p in self.named_parameters() if id(p) not in held]
        if held and missing:
            raise ValueError(f"fit: the optimizer does not hold {len(missing)} of the model's "
                             f"parameters ({', '.join(missing[:3])}...). Lazy layers (Dense, "
                             "Conv2D) make their weights on the first call: make the optimizer "
                             "after it, or name it in compile (compile(optimizer='adam', lr=...))")

    def _fit_loaders(self, x, y, batch_size, shuffle, validation_data, validation_split):
        if validation_split and validation_data is None:
            if isinstance(x, DataLoader) or not 0 < validation_split < 1:
                raise ValueError(f"fit: validation_split must be in (0, 1) and needs arrays x, y "
                                 f"(got {validation_split!r} with a {type(x).__name__}); pass "
                                 "validation_data with a DataLoader")
            split = math.ceil(len(x) * (1 - validation_split))     # Keras: the last ones held out
            x, y, validation_data = x[:split], y[:split], (x[split:], y[split:])
        if validation_data is not None and not isinstance(validation_data, DataLoader):
            x_val, y_val = validation_data
            validation_data = _loader(x_val, y_val, batch_size, False, "fit (validation_data)")
        return _loader(x, y, batch_size, shuffle, "fit"), validation_data

    def _forward_loss(self, x, y):
        """(output, loss) of one batch; a final softmax (sigmoid) met by cross-entropy (binary
        cross-entropy) is folded into the loss, which is then computed from the logits."""
        activation, logits = _final_activation(self)
        fused = FUSED.get((activation, self._compiled["loss"]))
        if fused is None:
            out = self(x)
            return out, self._compiled["loss_fn"](out, y)
        z = logits(x)
        activate, loss_fn = fused
        return activate(z), loss_fn(z, y)

    def _train_step(self, distributed, run, epochs):
        """step(x, y) -> (output, loss): forward, backward and the update, run through mg.compile
        as compile's jit_compile says. A NaN or Inf loss stops fit before the update, compiled or
        not (the check is a host computation, which a replay redoes), so the weights keep the
        previous batch's values and checkpoints saved so far are untouched."""
        def update(x, y):
            out, loss = self._forward_loss(x, y)
            host(finite, loss.data)
            self.optimizer.zero_grad()
            loss.backward()
            if distributed:
                dist.average_gradients(self.parameters())
            self.optimizer.step()
            done[:] = out, loss
            return out, loss

        def finite(value):
            if not math.isfinite(value):
                raise FloatingPointError(
                    f"fit: the loss is {float(value)} at epoch {run.epoch + 1}/{epochs}, batch "
                    f"{run.step + 1}/{len(run.loader)} (counting from 1); stopped before this "
                    "update, so the weights hold the previous batch's values and checkpoints "
                    "saved so far are untouched")

        jit, done, compiled = self._compiled["jit_compile"], [], mg.compile(update)

        def restore(kept):          # batch norm's running statistics, as before the batch
            for b, a in kept:
                b.data[...] = a

        def step(x, y):
            nonlocal jit
            kept, done[:] = [(b, b.data.copy()) for b in self.buffers()], []
            try:
                return compiled(x, y) if jit else update(x, y)
            except mg.CompileError:
                if not done:        # refused before this batch's step had run to its end
                    restore(kept)
                if jit is True:
                    raise
                jit = False         # 'auto': eager from now on (distributed steps, dropout ...)
                return tuple(done) or step(x, y)
            except FloatingPointError:
                restore(kept)
                raise
        return step

    def _metrics(self, out, y, loss_value):
        logs = {"loss": loss_value}
        with mg.no_grad():
            for name, fn in self._compiled["metrics"]:
                value = fn(out, y)
                logs[name] = value.item() if isinstance(value, mg.Tensor) else float(value)
        return logs

    def _restore(self, state, run):
        """Load a training_state(): weights, optimizer, position, data order, history, generator."""
        keys = {"model", "optimizer", "epoch", "step", "totals", "rng", "data", "history"}
        if not isinstance(state, dict) or not keys <= set(state):
            raise ValueError("fit: resume_from names a file that ModelCheckpoint did not write")
        self.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        run.loader.load_state_dict(state["data"])
        run.epoch, run.step, run.totals = state["epoch"], state["step"], _Totals(*state["totals"])
        self.history.epoch = list(state["history"]["epoch"])
        self.history.history = {k: list(v) for k, v in state["history"]["logs"].items()}
        mg.set_rng_state(state["rng"])
