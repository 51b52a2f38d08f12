"""mg.compile: a replayed training step matches eager, retraces on new shapes, refuses what it
cannot replay, and allocates nothing per step once warm."""
import importlib
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
import nn
import nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))


def _example(name, attr):
    return getattr(importlib.import_module(name), attr)


def _mlp():
    return nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(),
                         nn.Linear(100, 10))


MODELS = {      # name: (build the model, input shape of one sample, loss)
    "lenet5": (lambda: _example("lenet5", "LeNet5")(), (1, 28, 28), "ce"),
    "cnn_bn": (lambda: _example("cnn_bn", "ConvNet")(), (1, 28, 28), "ce"),
    "resnet": (lambda: _example("resnet", "ResNet")(1), (1, 12, 12), "ce"),
    "seed_cnn": (lambda: _example("seed_cnn", "seed_cnn")(), (1, 28, 28), "ce"),
    "cat": (lambda: _example("cat_classifier", "l_layer_model")(48), (48,), "bce"),
    "mlp": (_mlp, (784,), "ce"),
}


def _train(name, compiled, steps=5, batch=4):
    build, shape, loss_kind = MODELS[name]
    mg.manual_seed(0)
    model = build()
    opt = mg.optim.Adam(model.parameters(), lr=1e-2)

    def step(x, y):
        opt.zero_grad()
        out = model(x)
        if loss_kind == "ce":
            loss = F.cross_entropy(out, y)
        else:   # F.binary_cross_entropy checks its input's range in Python, which compile refuses
            p = out.reshape(-1)
            loss = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
        loss.backward()
        opt.step()
        return loss

    run = mg.compile(step) if compiled else step
    rng = np.random.default_rng(1)
    losses = []
    for _ in range(steps):
        x = mg.tensor(rng.standard_normal((batch,) + shape).astype(np.float32))
        y = rng.integers(0, 10, batch) if loss_kind == "ce" else \
            rng.integers(0, 2, batch).astype(np.float32)
        losses.append(run(x, mg.tensor(y)).data.copy())
    return losses, [p.data.copy() for p in model.parameters()], model


@pytest.mark.parametrize("name", list(MODELS))
def test_compiled_step_matches_eager(name):
    eager, eager_params, model = _train(name, compiled=False)
    replay, replay_params, _ = _train(name, compiled=True)
    # the replay runs the very same NumPy calls in the same order: bitwise equal
    for a, b in zip(eager + eager_params, replay + replay_params):
        np.testing.assert_array_equal(a, b)
    buffers = [b.data.copy() for b in getattr(model, "buffers", lambda: [])()]
    assert all(np.isfinite(b).all() for b in buffers)
