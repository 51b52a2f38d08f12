"""Callbacks: objects that `Model.fit` calls at named points of its loop (Keras's names and order).

fit calls, in this order: on_train_begin; for each epoch on_epoch_begin(epoch, {"step": s}), then
for each batch on_batch_begin(batch) and on_batch_end(batch, logs), then on_epoch_end(epoch, logs);
finally on_train_end(logs). Epochs and batches count from 0. `logs` holds the running means of the
loss and metrics over the epoch so far ("loss", "accuracy", ...) and, at an epoch's end, the
validation results ("val_loss", ...). `s` is the number of batches of the epoch already done: 0,
except when fit resumes from a checkpoint taken mid-epoch. A callback reaches the model as
`self.model` and stops training by setting `self.model.stop_training = True`.
"""
import csv
import math
import os
import sys
import time
import warnings

import minigrad as mg


class Callback:
    """Base class: override the hooks you need; each does nothing by default."""

    model = None

    def set_model(self, model):
        self.model = model

    def on_train_begin(self, logs=None):
        """Called once, before the first epoch."""

    def on_train_end(self, logs=None):
        """Called once, when training ends (after the last epoch or a stop)."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of each epoch; logs["step"] is the number of its batches done."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of each epoch with its logs (and val_ entries when fit validates)."""

    def on_batch_begin(self, batch, logs=None):
        """Called before each training batch."""

    def on_batch_end(self, batch, logs=None):
        """Called after each training batch with the running means of the epoch so far."""


class History(Callback):
    """The logs of every epoch: `history.history["loss"][i]` belongs to epoch `history.epoch[i]`.
    fit returns it (and keeps it as `model.history`)."""

    def __init__(self):
        self.history, self.epoch = {}, []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def plot(self, path=None):
        """Draw the loss and each metric per epoch (validation dashed); save to `path` if given.
        Returns the matplotlib Figure. Needs matplotlib (`pip install "minigrad[plot]"`)."""
        try:
            from matplotlib.figure import Figure
        except ImportError:
            raise ImportError('History.plot needs matplotlib: pip install matplotlib (or '
                              'pip install "minigrad[plot]")') from None
        names = [k for k in self.history if not k.startswith("val_")]
        fig = Figure(figsize=(4.5 * max(len(names), 1), 3.5), layout="constrained")
        for ax, name in zip(fig.subplots(1, max(len(names), 1), squeeze=False)[0], names):
            epochs = [e + 1 for e in self.epoch]
            ax.plot(epochs, self.history[name], "o-", label=name)
            if "val_" + name in self.history:
                ax.plot(epochs, self.history["val_" + name], "o--", label="val_" + name)
            ax.set(xlabel="epoch", title=name)
            ax.legend()
        if path is not None:
            fig.savefig(path)
        return fig


class ProgressBar(Callback):
    """What fit prints: verbose=1 a tqdm bar per epoch with the live loss and metrics (one line per
    epoch when tqdm is missing or, as in Keras, when stderr is a file or pipe rather than a terminal
    or notebook), verbose=2 one line per epoch, verbose=0 nothing."""

    def __init__(self, epochs, steps, verbose=1):
        self.epochs, self.steps, self.verbose = epochs, steps, verbose
        self.bar, self._shown = None, 0.0

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose == 1 and (sys.stderr.isatty() or "ipykernel" in sys.modules):
            try:
                from tqdm.auto import tqdm
            except ImportError:
                return
            self.bar = tqdm(total=self.steps, initial=(logs or {}).get("step", 0), unit="batch",
                            desc=f"Epoch {epoch + 1}/{self.epochs}", file=sys.stderr)

    def on_batch_end(self, batch, logs=None):
        if self.bar is not None:
            if time.monotonic() - self._shown > 0.1:    # about as often as the bar is redrawn
                self.bar.set_postfix(_short(logs), refresh=False)
                self._shown = time.monotonic()
            self.bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        if self.bar is not None:
            self.bar.set_postfix(_short(logs), refresh=False)
            self.on_train_end()
        elif self.verbose:
            values = " - ".join(f"{k}: {v:.4f}" for k, v in (logs or {}).items())
            print(f"Epoch {epoch + 1}/{self.epochs} - {values}", flush=True)

    def on_train_end(self, logs=None):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _short(logs):
    return {k: f"{v:.4g}" for k, v in (logs or {}).items()}


class _Monitor(Callback):
    """Shared by ModelCheckpoint and EarlyStopping: watch logs[monitor] for an improvement of more
    than min_delta; mode 'auto' maximises accuracies and minimises the rest."""

    def __init__(self, monitor, mode, min_delta=0.0):
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{type(self).__name__}: mode must be 'auto', 'min' or 'max', got "
                             f"{mode!r}")
        self.monitor, self.min_delta, self.best = monitor, abs(min_delta), None
        self._sign = 1 if mode == "max" or mode == "auto" and "acc" in monitor else -1

    def _improved(self, logs):
        """True (and logs[monitor] becomes the best) or False; None, with a warning unless training
        is stopping anyway, when the logs lack the monitored value."""
        current = (logs or {}).get(self.monitor)
        if current is None:
            if not self.model.stop_training:
                warnings.warn(f"{type(self).__name__}: the logs have no {self.monitor!r} (they "
                              f"have {sorted(logs or {})}); skipping this epoch", stacklevel=3)
            return None
        if self.best is not None and self._sign * (current - self.best) <= self.min_delta:
            return False
        self.best = current
        return True


class ModelCheckpoint(_Monitor):
    """Save everything `fit(resume_from=path)` needs to continue exactly: weights, optimizer state,
    epoch and step, the random generator, the data order and the history (`model.training_state()`).

    Parameters
    ----------
    path : the file, written atomically with mg.save (a crash mid-write keeps the previous one).
        It may name the epoch and logs, e.g. "ckpt-{epoch:02d}-{val_loss:.3f}.npz".
    monitor, mode : with save_best_only, save only when logs[monitor] improves ('auto' maximises
        accuracies and minimises the rest).
    save_freq : 'epoch' (at each epoch's end) or an int n (after every n batches).
    """

    def __init__(self, path, monitor: str = "val_loss", save_best_only: bool = False,
                 mode: str = "auto", save_freq="epoch"):
        if save_freq != "epoch" and not (type(save_freq) is int and save_freq >= 1):
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' or a positive int, got "
                             f"{save_freq!r}")
        super().__init__(monitor, mode)
        self.path, self.save_best_only, self.save_freq = os.fspath(path), save_best_only, save_freq
        self._batches, self._epoch = 0, 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):
        self._batches += 1
        if self.save_freq != "epoch" and self._batches % self.save_freq == 0:
            self._save(self._epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, logs)

    def _save(self, epoch, logs):
        # data-parallel: rank 0 alone writes
        if mg.distributed.rank == 0 and (not self.save_best_only or self._improved(logs)):
            self._write(self.path.format(epoch=epoch + 1, **(logs or {})), epoch)

    def _write(self, path, epoch):
        mg.save(self.model.training_state(), path)


class EarlyStopping(_Monitor):
    """Stop when logs[monitor] has not improved by more than min_delta for `patience` epochs; with
    restore_best_weights, the weights of the best epoch are loaded back when training ends."""

    def __init__(self, monitor: str = "val_loss", patience: int = 0, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = False):
        if type(patience) is not int or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an int >= 0, got {patience!r}")
        super().__init__(monitor, mode, min_delta)
        self.patience, self.restore_best_weights = patience, restore_best_weights

    def on_train_begin(self, logs=None):
        self.wait, self.best, self.best_epoch, self.best_weights = 0, None, None, None
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        improved = self._improved(logs)
        if improved:
            self.wait, self.best_epoch = 0, epoch
            if self.restore_best_weights:
                self.best_weights = {k: mg.tensor(v) for k, v in self.model.state_dict().items()}
        elif improved is False:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch, self.model.stop_training = epoch, True

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)


class LearningRateScheduler(Callback):
    """At each epoch's start set the optimizer's learning rate to schedule(epoch, lr), Keras's
    signature (epoch from 0, lr the current rate), in every parameter group."""

    def __init__(self, schedule):
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be callable, got "
                            f"{type(schedule).__name__}")
        self.schedule = schedule

    def on_epoch_begin(self, epoch, logs=None):
        if (logs or {}).get("step"):
            return      # resumed mid-epoch: the restored optimizer has this epoch's rate already
        groups = self.model.optimizer.param_groups
        lr = self.schedule(epoch, groups[0]["lr"])
        if not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr < 0:
            raise ValueError(f"LearningRateScheduler: schedule({epoch}, {groups[0]['lr']}) "
                             f"returned {lr!r}; expected a finite number >= 0")
        for group in groups:
            group["lr"] = float(lr)


class CSVLogger(Callback):
    """Append one row per epoch to a CSV file: epoch, then the logs in sorted order (Keras's
    layout). The file is started afresh unless append=True."""

    def __init__(self, path, separator: str = ",", append: bool = False):
        self.path, self.separator, self.append = path, separator, append

    def on_train_begin(self, logs=None):
        self.keys, self._header = None, not (self.append and os.path.exists(self.path))
        if not self.append:
            open(self.path, "w").close()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.keys = self.keys or sorted(logs)       # the first epoch's keys name the columns
        with open(self.path, "a", newline="") as f:
            writer = csv.writer(f, delimiter=self.separator)
            if self._header:
                writer.writerow(["epoch", *self.keys])
                self._header = False
            writer.writerow([epoch, *(logs.get(k, "") for k in self.keys)])
