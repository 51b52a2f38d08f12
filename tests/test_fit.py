"""Model.fit / evaluate / predict and the callbacks, on small problems generated here."""
import csv
import io
import math
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import minigrad as mg
import nn
from conftest import require
from minigrad import optim
from minigrad.data import DataLoader, TensorDataset
from nn import functional as F


def spirals(n, seed=0):
    """Two interleaved spirals in the plane: (n, 2) float32 points, (n,) int64 labels 0/1."""
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.random(n)) * 3 * np.pi
    label = rng.integers(0, 2, n)
    r = t * (1 - 2 * label)
    x = np.stack([r * np.cos(t), r * np.sin(t)], 1) / 10 + rng.normal(0, 0.02, (n, 2))
    return x.astype(np.float32), label


def blobs(n, classes=3, seed=0):
    """Gaussian blobs around `classes` centres: (n, 2) float32 points, (n,) int64 labels."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, classes, n)
    centres = np.array([[np.cos(a), np.sin(a)] for a in 2 * np.pi * np.arange(classes) / classes])
    return (2 * centres[label] + rng.normal(0, 0.5, (n, 2))).astype(np.float32), label


def mlp(out, activation, hidden=32):
    return nn.Sequential([nn.Dense(hidden, activation="relu"), nn.Dense(hidden, activation="relu"),
                          nn.Dense(out, activation=activation)])


def weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]), f"{k} differs"


class Recorder(nn.Callback):
    """Records every hook call as (hook, index)."""

    def __init__(self):
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append(("train_begin",))

    def on_train_end(self, logs=None):
        self.calls.append(("train_end",))

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("epoch_begin", epoch))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch_end", epoch, tuple(sorted(logs))))

    def on_batch_begin(self, batch, logs=None):
        self.calls.append(("batch_begin", batch))

    def on_batch_end(self, batch, logs=None):
        self.calls.append(("batch_end", batch))


# --- training real problems ---------------------------------------------------------------------

def test_multiclass_blobs_loss_falls_and_metrics_match_a_manual_computation():
    x, y = blobs(300)
    mg.manual_seed(0)
    model = mlp(3, "softmax", hidden=16)
    model.compile("adam", "cross_entropy", metrics=["accuracy"], lr=0.01)
    history = model.fit(x, y, batch_size=32, epochs=8, verbose=0)
    loss = history.history["loss"]
    assert history.epoch == list(range(8)) and len(loss) == 8
    assert loss[-1] < 0.5 * loss[0]
    assert history.history["accuracy"][-1] > 0.9

    result = model.evaluate(x, y, batch_size=64)
    p = model.predict(x, batch_size=50).numpy().astype(np.float64)
    assert p.shape == (300, 3) and np.allclose(p.sum(1), 1, atol=1e-5)
    assert result["accuracy"] == pytest.approx(np.mean(p.argmax(1) == y), abs=1e-12)
    assert result["loss"] == pytest.approx(-np.log(p[np.arange(300), y]).mean(), rel=1e-4)
    assert result["accuracy"] > 0.9


def test_binary_spirals_with_sigmoid_output():
    x, y = spirals(400)
    mg.manual_seed(1)
    model = mlp(1, "sigmoid")
    model.compile("adam", "binary_cross_entropy", metrics=["accuracy"], lr=0.02)
    history = model.fit(x, y, batch_size=32, epochs=25, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    result = model.evaluate(x, y)
    p = model.predict(x).numpy().astype(np.float64)[:, 0]
    assert result["accuracy"] == pytest.approx(np.mean((p > 0.5) == y), abs=1e-12)
    assert result["accuracy"] > 0.9
    h = mg.tensor(x)
    with mg.no_grad():
        for layer in list(model)[:-1]:
            h = layer(h)
        z = list(model)[-1](h, activate=False).numpy().astype(np.float64)[:, 0]
    assert np.array_equal(p > 0.5, z > 0)       # saturated probabilities: the loss needs logits
    bce = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-abs(z))))
    assert result["loss"] == pytest.approx(bce, rel=1e-4)


def test_one_hot_targets_and_a_logits_model():
    x, y = blobs(200, classes=4, seed=3)
    one_hot = np.eye(4, dtype=np.float32)[y]
    mg.manual_seed(2)
    model = mlp(4, None, hidden=16)             # logits out: cross_entropy takes them as they are
    model.compile("sgd", "cross_entropy", metrics=["accuracy", "mse"], lr=0.1)
    history = model.fit(x, one_hot, batch_size=20, epochs=6, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    result = model.evaluate(x, one_hot)
    logits = model.predict(x)
    assert result["accuracy"] == pytest.approx(np.mean(logits.numpy().argmax(1) == y), abs=1e-12)
    assert result["loss"] == pytest.approx(F.cross_entropy(logits, mg.tensor(y)).item(), rel=1e-5)
    assert result["mse"] == pytest.approx(np.mean((logits.numpy() - one_hot) ** 2), rel=1e-5)
    assert result["accuracy"] > 0.8


def test_a_final_softmax_is_folded_into_cross_entropy_and_stays_finite():
    x, y = blobs(40, classes=3, seed=4)
    for last in (nn.Dense(3, activation="softmax"), nn.Sequential(nn.Dense(3), nn.Softmax(dim=1))):
        mg.manual_seed(0)
        model = nn.Sequential(nn.Dense(8, activation="tanh"), last)
        model.compile("sgd", "cross_entropy", lr=0.1)
        model.predict(x[:1])
        with mg.no_grad():
            for p in model.parameters():
                p.mul_(1e4)                          # logits of magnitude ~1e4: softmax saturates
        body = list(model)[0]
        logits = list(last)[0](body(mg.tensor(x))) if isinstance(last, nn.Sequential) else \
            last(body(mg.tensor(x)), activate=False)
        expected = F.cross_entropy(logits.double(), mg.tensor(y)).item()
        assert abs(logits.numpy()).max() > 1e3
        loss = model.evaluate(x, y, batch_size=40)["loss"]
        assert math.isfinite(loss) and loss == pytest.approx(expected, rel=1e-5)
        history = model.fit(x, y, batch_size=40, epochs=1, verbose=0)   # gradients finite too
        assert all(np.isfinite(p.numpy()).all() for p in model.parameters())
        assert math.isfinite(history.history["loss"][0])


def test_fit_takes_a_dataloader_and_validation_data():
    x, y = blobs(120, seed=5)
    loader = DataLoader(TensorDataset(x[:90], y[:90]), batch_size=16, shuffle=True)
    mg.manual_seed(0)
    model = mlp(3, "softmax", hidden=8)
    model.compile("adam", "cross_entropy", metrics=["accuracy"])
    history = model.fit(loader, epochs=2, validation_data=(x[90:], y[90:]), verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.history["val_loss"][-1] == model.evaluate(x[90:], y[90:])["loss"]
    assert model.history is history


def test_validation_split_holds_out_the_last_samples_before_shuffling():
    x = np.random.default_rng(0).normal(size=(100, 3)).astype(np.float32)
    y = np.arange(100, dtype=np.float32)[:, None]       # the target names its sample
    seen = {True: set(), False: set()}
    mg.manual_seed(0)
    model = nn.Sequential(nn.Dense(1))

    def recording_mse(out, target):
        seen[model.training].update(target.numpy()[:, 0].astype(int).tolist())
        return F.mse_loss(out, target)

    model.compile("sgd", recording_mse, lr=1e-4)
    history = model.fit(x, y, batch_size=10, epochs=1, validation_split=0.25, verbose=0)
    assert seen[True] == set(range(75)) and seen[False] == set(range(75, 100))
    assert history.history["val_loss"] == [model.evaluate(x[75:], y[75:], batch_size=10)["loss"]]


# --- callbacks ----------------------------------------------------------------------------------

def test_callbacks_fire_in_order():
    x, y = blobs(12, seed=6)
    recorder = Recorder()
    mg.manual_seed(0)
    model = nn.Sequential(nn.Dense(3, activation="softmax"))
    model.compile("sgd", "cross_entropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=5, epochs=2, validation_data=(x, y), callbacks=[recorder], verbose=0)
    batches = [c for b in range(3) for c in (("batch_begin", b), ("batch_end", b))]
    logs = ("accuracy", "loss", "val_accuracy", "val_loss")
    assert recorder.calls == [("train_begin",),
                              ("epoch_begin", 0), *batches, ("epoch_end", 0, logs),
                              ("epoch_begin", 1), *batches, ("epoch_end", 1, logs),
                              ("train_end",)]


def test_initial_epoch_numbers_the_epochs_and_checkpoint_paths_name_them(tmp_path):
    x, y = blobs(20, seed=6)
    recorder = Recorder()
    mg.manual_seed(0)
    model = nn.Sequential(nn.Dense(3))
    model.compile("sgd", "cross_entropy")
    path = os.path.join(tmp_path, "ckpt-{epoch:02d}-{loss:.1f}.npz")
    history = model.fit(x, y, epochs=4, initial_epoch=2, callbacks=[recorder,
                        nn.ModelCheckpoint(path)], verbose=0)
    assert history.epoch == [2, 3]
    assert [c[1] for c in recorder.calls if c[0] == "epoch_begin"] == [2, 3]
    assert sorted(name[:8] for name in os.listdir(tmp_path)) == ["ckpt-03-", "ckpt-04-"]
    assert model.fit(x, y, callbacks=None, verbose=0).epoch == [0]


def test_early_stopping_stops_and_restores_the_best_weights():
    x, y = blobs(30, seed=7)
    scripted = [1.0, 0.5, 0.7, 0.6, 0.1, 0.1]       # best at epoch 1, then two epochs without gain
    snapshots = []

    class Script(nn.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = scripted[epoch]
            snapshots.append(weights(self.model))

    mg.manual_seed(0)
    model = mlp(3, "softmax", hidden=8)
    model.compile("sgd", "cross_entropy", lr=0.1)
    stop = nn.EarlyStopping(patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=6, validation_data=(x, y), callbacks=[Script(), stop],
                        verbose=0)
    assert history.epoch == [0, 1, 2, 3] and stop.stopped_epoch == 3 and stop.best_epoch == 1
    assert_same_weights(weights(model), snapshots[1])
    assert not np.array_equal(snapshots[1]["0.weight"], snapshots[3]["0.weight"])


def test_learning_rate_scheduler_sets_the_optimizer_rate_each_epoch():
    x, y = blobs(20, seed=8)
    rates = []

    class Rate(nn.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            rates.append(self.model.optimizer.param_groups[0]["lr"])

    mg.manual_seed(0)
    model = nn.Sequential(nn.Dense(3))
    model.compile("sgd", "cross_entropy", lr=1.0)
    schedule = nn.LearningRateScheduler(lambda epoch, lr: 0.1 if epoch == 0 else lr / 2)
    model.fit(x, y, epochs=3, callbacks=[schedule, Rate()], verbose=0)
    assert rates == [0.1, 0.05, 0.025]
    with pytest.raises(ValueError, match=r"schedule\(0, 0.025\) returned nan"):
        model.fit(x, y, callbacks=[nn.LearningRateScheduler(lambda e, lr: float("nan"))],
                  verbose=0)


def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    x, y = blobs(30, seed=9)
    path = tmp_path / "log.csv"
    mg.manual_seed(0)
    model = nn.Sequential(nn.Dense(3, activation="softmax"))
    model.compile("sgd", "cross_entropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, validation_split=0.2, callbacks=[nn.CSVLogger(path)],
                        verbose=0)
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [int(r[0]) for r in rows[1:]] == [0, 1, 2]
    for i, row in enumerate(rows[1:]):
        assert [float(v) for v in row[1:]] == [history.history[k][i] for k in rows[0][1:]]
    model.fit(x, y, epochs=1, callbacks=[nn.CSVLogger(path, append=True)], verbose=0)
    with open(path, newline="") as f:
        assert len(list(csv.reader(f))) == 5


def test_model_checkpoint_saves_the_best_epoch_atomically(tmp_path):
    x, y = blobs(30, seed=10)
    scripted = [0.5, 0.9, 0.2, 0.3]
    saved = []

    class Script(nn.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = scripted[epoch]

    class Watch(nn.Callback):
        def on_epoch_end(self, epoch, logs=None):
            saved.append(mg.load(tmp_path / "best.npz")["epoch"])

    mg.manual_seed(0)
    model = nn.Sequential(nn.Dense(3))
    model.compile("sgd", "cross_entropy")
    best = nn.ModelCheckpoint(tmp_path / "best.npz", save_best_only=True)
    model.fit(x, y, epochs=4, validation_data=(x, y), callbacks=[Script(), best, Watch()],
              verbose=0)
    assert saved == [1, 1, 3, 3]            # the epoch to resume at: after epochs 0 and 2
    assert os.listdir(tmp_path) == ["best.npz"]
    state = mg.load(tmp_path / "best.npz")
    assert state["history"]["epoch"] == [0, 1, 2]
    assert set(state) == {"model", "optimizer", "epoch", "step", "totals", "rng", "data", "history"}


# --- interruptions, failures and exact resumption ----------------------------------------------

def test_ctrl_c_stops_after_the_current_batch_and_returns_the_history(capsys):
    x, y = blobs(60, seed=11)
    done = []

    class CtrlC(nn.Callback):
        def on_batch_end(self, batch, logs=None):
            done.append(batch)
            if len(done) == 9:          # the 3rd batch of epoch 1 (6 batches an epoch)
                os.kill(os.getpid(), signal.SIGINT)

    before = signal.getsignal(signal.SIGINT)
    mg.manual_seed(0)
    model = mlp(3, "softmax", hidden=8)
    model.compile("adam", "cross_entropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=10, epochs=5, validation_data=(x, y),
                        callbacks=[CtrlC()], verbose=0)
    assert done == [0, 1, 2, 3, 4, 5, 0, 1, 2]
    assert history.epoch == [0, 1]                  # epoch 1 logged as far as it went
    assert "val_loss" in history.history and len(history.history["val_loss"]) == 1
    assert "interrupted" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is before
    assert model.evaluate(x, y)["accuracy"] > 0       # still usable, and trains on
    assert len(model.fit(x, y, epochs=1, verbose=0).epoch) == 1


def test_keyboard_interrupt_raised_in_a_callback_returns_the_history(capsys):
    x, y = blobs(40, seed=12)

    class Raise(nn.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt

    mg.manual_seed(0)
    model = nn.Sequential(nn.Dense(3))
    model.compile("sgd", "cross_entropy")
    history = model.fit(x, y, epochs=5, callbacks=[Raise()], verbose=0)
    assert history.epoch == [0, 1]
    assert "interrupted" in capsys.readouterr().err
    assert model.predict(x).shape == (40, 3)


def test_resuming_a_checkpoint_taken_at_ctrl_c_matches_an_uninterrupted_run(tmp_path):
    x, y = blobs(50, seed=13)

    def run(callbacks=(), resume_from=None):
        model = nn.Sequential(nn.Dense(8, activation="relu"), nn.Dropout(0.3), nn.Dense(3))
        model.compile("adam", "cross_entropy", metrics=["accuracy"], lr=0.01)
        history = model.fit(x, y, batch_size=8, epochs=3, seed=5, callbacks=callbacks,
                            resume_from=resume_from, verbose=0)
        return model, history

    class CtrlC(nn.Callback):
        def on_batch_end(self, batch, logs=None):
            if self.model.history.epoch == [0] and batch == 3:
                os.kill(os.getpid(), signal.SIGINT)

    full, full_history = run()
    ckpt = tmp_path / "ckpt.npz"
    run([CtrlC(), nn.ModelCheckpoint(ckpt)])
    assert (mg.load(ckpt)["epoch"], mg.load(ckpt)["step"]) == (1, 4)
    resumed, resumed_history = run(resume_from=ckpt)
    assert_same_weights(weights(resumed), weights(full))
    assert resumed_history.history == full_history.history


def test_resuming_a_checkpoint_taken_at_an_epochs_last_batch_matches_an_uninterrupted_run(
        tmp_path):
    x, y = blobs(60, seed=15)
    seen = []

    def run(callbacks=(), resume_from=None):
        model = nn.Sequential(nn.Dense(8, activation="relu"), nn.Dense(3, activation="softmax"))
        model.compile("sgd", "cross_entropy", metrics=["accuracy"], lr=0.1)
        history = model.fit(x[:48], y[:48], batch_size=8, epochs=3, seed=3, callbacks=callbacks,
                            validation_data=(x[48:], y[48:]), resume_from=resume_from, verbose=0)
        return model, history

    class Crash(nn.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(batch)
            if len(seen) == 12:                     # the last batch of epoch 1 (6 an epoch)
                raise RuntimeError("power cut")

    full, full_history = run()
    ckpt = tmp_path / "ckpt.npz"
    with pytest.raises(RuntimeError, match="power cut"):
        run([nn.ModelCheckpoint(ckpt, save_freq=6), Crash()])
    assert (mg.load(ckpt)["epoch"], mg.load(ckpt)["step"]) == (1, 6)
    resumed, resumed_history = run(resume_from=ckpt)
    assert_same_weights(weights(resumed), weights(full))
    assert resumed_history.history == full_history.history and resumed_history.epoch == [0, 1, 2]


def test_nan_loss_stops_naming_epoch_and_step_and_keeps_the_last_checkpoint(tmp_path):
    x, y = blobs(40, seed=14)
    x[25] = np.nan                              # batch 3 of epoch 1... when not shuffled
    ckpt = tmp_path / "ckpt.npz"
    mg.manual_seed(0)
    model = nn.Sequential(nn.Dense(3, activation="softmax"))
    model.compile("sgd", "cross_entropy")
    with pytest.raises(FloatingPointError, match=r"loss is nan at epoch 1/2, batch 3/4"):
        model.fit(x, y, batch_size=10, epochs=2, shuffle=False,
                  callbacks=[nn.ModelCheckpoint(ckpt, save_freq=2)], verbose=0)
    state = mg.load(ckpt)
    assert (state["epoch"], state["step"]) == (0, 2)
    assert_same_weights(weights(model), {k: v.numpy() for k, v in state["model"].items()})
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    assert all(np.isfinite(p.numpy()).all() for p in model.parameters())
    assert np.isfinite(model.predict(x[:20]).numpy()).all()


def counting_forward(model):
    """Count the Python calls of the model's forward-and-loss (a replayed step makes none)."""
    calls, forward = [], model._forward_loss
    model._forward_loss = lambda x, y: calls.append(1) or forward(x, y)
    return calls


def conv_bn_net():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))


def images(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 1, 8, 8), dtype=np.float32), rng.integers(0, 3, n)


@pytest.mark.parametrize("jit", [True, "auto"])
def test_fit_replays_compiled_steps_bit_for_bit_as_eager(jit):
    x, y = images(40)
    runs = []
    for mode in (jit, False):
        mg.manual_seed(0)
        model = conv_bn_net()
        model.compile("adam", "cross_entropy", metrics=["accuracy"], jit_compile=mode)
        calls = counting_forward(model)
        history = model.fit(x, y, batch_size=10, epochs=3, verbose=0, seed=1)
        runs.append((weights(model), history.history, len(calls)))
    (w1, h1, c1), (w2, h2, c2) = runs
    assert_same_weights(w1, w2)
    assert h1 == h2
    assert (c1, c2) == (3, 12)          # warm-up and two recordings, then 9 replays


@pytest.mark.parametrize("jit", [True, False])
def test_fit_stops_at_a_nan_loss_before_the_update_compiled_or_not(jit):
    """Weights, optimizer and batch norm's running statistics keep the last batch's values."""
    x, y = images(40)
    data = TensorDataset(x, y)              # holds x itself: the NaN below shows in epoch 3
    mg.manual_seed(0)
    model = conv_bn_net()
    model.compile("sgd", "cross_entropy", jit_compile=jit)
    calls, seen = counting_forward(model), []

    class Poison(nn.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                data.arrays[0][35] = np.nan     # epoch 3, batch 4: a replayed step (call 12)

        def on_batch_end(self, batch, logs=None):
            seen.append(weights(model))
    with pytest.raises(FloatingPointError, match=r"loss is nan at epoch 3/3, batch 4/4"):
        model.fit(DataLoader(data, batch_size=10), epochs=3, callbacks=[Poison()], verbose=0)
    assert len(calls) == (3 if jit else 12) and len(seen) == 11
    assert_same_weights(weights(model), seen[-1])


def test_compile_refuses_an_unknown_jit_compile():
    with pytest.raises(ValueError, match="jit_compile must be True, False or 'auto', got 'yes'"):
        conv_bn_net().compile("sgd", "cross_entropy", jit_compile="yes")


class Peek(nn.Module):
    """Reads a value into Python mid-forward, which a recorded step cannot replay."""

    def forward(self, x):
        self.largest = x.abs().max().item()
        return x


@pytest.mark.parametrize("refused", [nn.Dropout(0.5), Peek()])
def test_fit_auto_trains_eagerly_what_compile_refuses(refused):
    """Dropout's random mask (found when the two recordings differ) and a value read into Python
    (found mid-step, after batch norm's update) cannot be replayed: 'auto' goes on eagerly, the
    same run as jit_compile=False (the refused step's batch norm update undone); True raises."""
    x, y = images(40)
    results = []
    for mode in ("auto", False, True):
        mg.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                              refused, nn.Flatten(), nn.Linear(256, 3))
        model.compile("sgd", "cross_entropy", jit_compile=mode)
        if mode is True:
            with pytest.raises(mg.CompileError):
                model.fit(x, y, batch_size=10, epochs=2, verbose=0, seed=1)
        else:
            model.fit(x, y, batch_size=10, epochs=2, verbose=0, seed=1)
            results.append(weights(model))
    assert_same_weights(*results)


_SCRIPT = textwrap.dedent("""
    import sys, time
    import numpy as np
    import minigrad as mg
    import nn

    mode, folder = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(0)
    label = rng.integers(0, 3, 96)
    x = (np.eye(3)[label] @ rng.normal(0, 2, (3, 6)) + rng.normal(0, 1, (96, 6))).astype("f4")

    class Hang(nn.Callback):        # after the checkpoint at batch 10, stall so we can be killed
        seen = 0
        def on_batch_end(self, batch, logs=None):
            Hang.seen += 1
            if Hang.seen == 13:
                open(folder + "/hanging", "w").close()
                time.sleep(120)

    model = nn.Sequential([nn.Dense(16, activation="relu"), nn.Dropout(0.25),
                           nn.Dense(3, activation="softmax")])
    model.compile("adam", "cross_entropy", metrics=["accuracy"], lr=0.01)
    callbacks = [nn.ModelCheckpoint(folder + "/ckpt.npz", save_freq=5), Hang()] \\
        if mode == "kill" else []
    history = model.fit(x, label, batch_size=12, epochs=3, seed=123, callbacks=callbacks,
                        verbose=0, resume_from=folder + "/ckpt.npz" if mode == "resume" else None)
    mg.save({"weights": model.state_dict(), "history": history.history},
            folder + "/" + mode + ".npz")
""")


def _python(script, *args):
    """Start `script` (written once, before any process starts: a process still reading it must
    never see it rewritten)."""
    return subprocess.Popen([sys.executable, str(script), *args], stderr=subprocess.PIPE)


def _finish(process):
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err.decode()


def test_sigkill_mid_epoch_then_resume_is_bit_identical_and_seeds_repeat_across_processes(
        tmp_path):
    script = tmp_path / "train.py"
    script.write_text(_SCRIPT)
    first, second = _python(script, "full", str(tmp_path)), None
    killed = _python(script, "kill", str(tmp_path))
    deadline = time.monotonic() + 120
    while not (tmp_path / "hanging").exists():
        assert killed.poll() is None, killed.stderr.read().decode()
        assert time.monotonic() < deadline, "the training process never reached batch 13"
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert killed.returncode == -signal.SIGKILL
    state = mg.load(tmp_path / "ckpt.npz")
    assert (state["epoch"], state["step"]) == (1, 2)        # batch 10 of 8 an epoch: mid-epoch 1
    _finish(first)
    os.rename(tmp_path / "full.npz", tmp_path / "first.npz")
    second, resumed = _python(script, "full", str(tmp_path)), \
        _python(script, "resume", str(tmp_path))
    _finish(second)
    _finish(resumed)
    a, b, c = (mg.load(tmp_path / f"{name}.npz") for name in ("first", "full", "resume"))
    assert a["weights"].keys() == b["weights"].keys() == c["weights"].keys()
    for key in a["weights"]:
        assert np.array_equal(a["weights"][key].numpy(), b["weights"][key].numpy()), key
        assert np.array_equal(a["weights"][key].numpy(), c["weights"][key].numpy()), key
    assert a["history"] == b["history"] == c["history"]


# --- compile, progress output, history plot -----------------------------------------------------

def test_compile_and_fit_report_mistakes():
    model = nn.Sequential(nn.Dense(3))
    x, y = blobs(10)
    with pytest.raises(ValueError, match="call compile"):
        model.fit(x, y)
    with pytest.raises(ValueError, match="'mean_squared_error'; minigrad calls it 'mse'"):
        model.compile("sgd", "mean_squared_error")
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'"):
        model.compile("adamax", "mse")
    model.compile("sgd", "cross_entropy")
    with pytest.raises(ValueError, match=r"x \(10, 2\) and y \(9,\)"):
        model.fit(x, y[:9])
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x, y, validation_split=1.5)
    model.predict(x)
    with pytest.raises(ValueError, match=r"Dense: expected an input of shape \(\.\.\., 2\)"):
        model.predict(np.zeros((4, 5), np.float32))


def test_an_optimizer_object_must_cover_the_built_model():
    x, y = blobs(20)
    model = nn.Sequential(nn.Dense(4, input_shape=(2,)), nn.Dense(3))     # the second is lazy
    model.compile(optim.SGD(model.parameters(), lr=0.1), "cross_entropy")
    with pytest.raises(ValueError, match=r"does not hold 2 of the model's parameters \(1.weight"):
        model.fit(x, y, verbose=0)
    model.compile(optim.SGD(model.parameters(), lr=0.1), "cross_entropy")   # now built
    assert len(model.fit(x, y, verbose=0).epoch) == 1


def test_verbose_one_shows_a_bar_on_a_terminal_and_lines_in_a_log(capsys, monkeypatch):
    x, y = blobs(20)
    mg.manual_seed(0)
    model = nn.Sequential(nn.Dense(3, activation="softmax"))
    model.compile("sgd", "cross_entropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=5, epochs=2, verbose=0)
    assert capsys.readouterr() == ("", "")
    model.fit(x, y, batch_size=5, epochs=2, verbose=1)      # captured: not a terminal, as in a log
    out, err = capsys.readouterr()
    assert err == "" and out.count("\n") == 2 and out.startswith("Epoch 1/2 - loss: ") and \
        "\nEpoch 2/2 - loss: " in out and "accuracy: " in out

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stderr", Terminal())
    model.fit(x, y, batch_size=5, epochs=2, verbose=1)
    err = sys.stderr.getvalue()
    assert "Epoch 2/2" in err and "4/4" in err and "loss=" in err and "accuracy=" in err
    monkeypatch.undo()
    model.fit(x, y, batch_size=5, epochs=1, verbose=2)
    assert capsys.readouterr().out.startswith("Epoch 1/1 - loss: ")


def test_history_plot_says_how_to_get_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"History.plot needs matplotlib: pip install"):
        nn.History().plot()


def test_history_plot_writes_a_picture(tmp_path):
    require("matplotlib")
    history = nn.History()
    for epoch, logs in enumerate([{"loss": 1.0, "val_loss": 1.2, "accuracy": 0.5},
                                  {"loss": 0.5, "val_loss": 0.8, "accuracy": 0.7}]):
        history.on_epoch_end(epoch, logs)
    figure = history.plot(tmp_path / "history.png")
    assert len(figure.axes) == 2 and (tmp_path / "history.png").stat().st_size > 1000


def test_checkpoints_are_written_by_rank_0_alone(tmp_path, monkeypatch):
    from nn import keras
    x, y = blobs(20, seed=6)
    for rank, folder in ((1, tmp_path / "rank1"), (0, tmp_path / "rank0")):
        monkeypatch.setattr(mg.distributed, "rank", rank)
        folder.mkdir()
        mg.manual_seed(0)
        model = nn.Sequential(nn.Dense(3))
        model.compile("sgd", "cross_entropy")
        model.fit(x, y, epochs=1, verbose=0, callbacks=[nn.ModelCheckpoint(str(folder / "a.npz"))])
        model = keras.Sequential([keras.layers.Dense(3)])
        model.compile("sgd", "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=1, verbose=0, callbacks=[
            keras.callbacks.ModelCheckpoint(str(folder / "b.weights.npz"), save_weights_only=True)])
        assert sorted(os.listdir(folder)) == ([] if rank else ["a.npz", "b.weights.npz"])
