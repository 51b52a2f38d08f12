"""Keras-named layers (Dense, Conv2D, MaxPooling2D), summary and plot, and Keras-style scripts."""
import gzip
import math
import os

import numpy as np
import pytest

import minigrad as mg
import nn
from conftest import data_dir, require


def seed_model():
    """The seed CNN, written the Keras way."""
    return nn.Sequential([nn.Conv2D(8, 3, use_bias=False), nn.MaxPooling2D(2), nn.Flatten(),
                          nn.Dense(10, activation="softmax")])


def rand(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


# --- layers ---------------------------------------------------------------------------------------

def test_layers_build_on_the_first_call_with_glorot_weights_and_zero_bias():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Dense(300, activation="relu"), nn.Dense(20))
    assert list(model.parameters()) == [] and not list(model)[0].built
    model(mg.tensor(rand(4, 100).astype(np.float32)))
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.weight", "1.bias"]
    w = list(model)[0].weight.numpy()
    assert w.shape == (300, 100) and w.dtype == np.float32
    bound = math.sqrt(6 / (100 + 300))               # glorot_uniform
    assert abs(w).max() <= bound and abs(w).max() > 0.95 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)
    assert not list(model)[0].bias.numpy().any()
    conv = nn.Conv2D(16, (3, 5), input_shape=(4, 12, 12))        # input_shape builds at once
    assert conv.weight.shape == (16, 4, 3, 5)
    bound = math.sqrt(6 / (4 * 15 + 16 * 15))
    assert abs(conv.weight.numpy()).max() <= bound


def test_dense_matches_torch_linear_forward_and_backward():
    torch = require("torch")
    for activation, torch_fn in [(None, lambda y: y), ("relu", torch.relu),
                                 ("sigmoid", torch.sigmoid), ("tanh", torch.tanh),
                                 ("softmax", lambda y: torch.softmax(y, -1))]:
        layer = nn.Dense(5, activation=activation)
        x = mg.tensor(rand(6, 7, seed=1), requires_grad=True)
        layer.build(x.shape, x.dtype)                   # float64 input, float64 weights
        assert layer.weight.dtype == np.float64 and layer.built
        tx = torch.tensor(x.numpy(), requires_grad=True)
        tw = torch.tensor(layer.weight.numpy(), requires_grad=True)
        tb = torch.tensor(rand(5, seed=2), requires_grad=True)
        with mg.no_grad():
            layer.bias.copy_(mg.tensor(tb.detach().numpy()))
        y = layer(x)
        ty = torch_fn(torch.nn.functional.linear(tx, tw, tb))
        g = rand(6, 5, seed=3)
        (y * mg.tensor(g)).sum().backward()
        (ty * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
        for mine, theirs in [(x, tx), (layer.weight, tw), (layer.bias, tb)]:
            np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-9,
                                       atol=1e-12)


@pytest.mark.parametrize("size,kernel,strides,padding", [
    ((9, 9), 3, 1, "valid"), ((9, 9), 3, 1, "same"), ((10, 9), 4, 1, "same"),
    ((10, 11), 3, 2, "same"), ((7, 8), (2, 3), (2, 1), "same"), ((11, 11), 5, 3, "valid")])
def test_conv2d_matches_torch_with_keras_padding(size, kernel, strides, padding):
    torch = require("torch")
    layer = nn.Conv2D(4, kernel, strides=strides, padding=padding, activation="relu")
    x = mg.tensor(rand(2, 3, *size, seed=4), requires_grad=True)
    y = layer(x)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    sh, sw = (strides, strides) if isinstance(strides, int) else strides
    if padding == "same":      # Keras / TensorFlow: ceil(size / stride) outputs, odd pad at the end
        assert y.shape[2:] == (math.ceil(size[0] / sh), math.ceil(size[1] / sw))
        th = max((y.shape[2] - 1) * sh + kh - size[0], 0)
        tw = max((y.shape[3] - 1) * sw + kw - size[1], 0)
        pads = (tw // 2, tw - tw // 2, th // 2, th - th // 2)
    else:
        assert y.shape[2:] == ((size[0] - kh) // sh + 1, (size[1] - kw) // sw + 1)
        pads = (0, 0, 0, 0)
    tx = torch.tensor(x.numpy(), requires_grad=True)
    tw_ = torch.tensor(layer.weight.numpy(), requires_grad=True)
    tb = torch.tensor(layer.bias.numpy(), requires_grad=True)
    ty = torch.relu(torch.nn.functional.conv2d(torch.nn.functional.pad(tx, pads), tw_, tb,
                                               stride=(sh, sw)))
    g = rand(*y.shape, seed=5)
    (y * mg.tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    for mine, theirs in [(x, tx), (layer.weight, tw_), (layer.bias, tb)]:
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-9, atol=1e-11)


def test_max_pooling2d_defaults_strides_to_the_pool_size():
    torch = require("torch")
    x = rand(2, 3, 9, 8, seed=6)
    for pool, strides in [(2, None), ((3, 2), None), (3, 2)]:
        y = nn.MaxPooling2D(pool, strides)(mg.tensor(x))
        ty = torch.nn.functional.max_pool2d(torch.tensor(x), pool, pool if strides is None else
                                            strides)
        np.testing.assert_array_equal(y.numpy(), ty.numpy())


def test_layer_errors_name_the_shapes():
    dense = nn.Dense(4)
    dense(mg.zeros(2, 6))
    with pytest.raises(ValueError, match=r"Dense: expected an input of shape \(\.\.\., 6\).*"
                                         r"received \(2, 5\)"):
        dense(mg.zeros(2, 5))
    with pytest.raises(ValueError, match=r"Conv2D: expected an input of shape \(N, C, H, W\).*"
                                         r"received \(2, 28, 28\)"):
        nn.Conv2D(8, 3)(mg.zeros(2, 28, 28))
    conv = nn.Conv2D(8, 3, input_shape=(1, 28, 28))
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\).*received \(2, 28, 28, 1\)"):
        conv(mg.zeros(2, 28, 28, 1))                     # channels-last input
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        nn.Dense(3, activation="gelu")
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same', got 'causal'"):
        nn.Conv2D(3, 3, padding="causal")
    with pytest.raises(ValueError, match="units must be an int >= 1, got 0"):
        nn.Dense(0)


# --- summary and plot -------------------------------------------------------------------------

def test_summary_counts_the_seed_model_by_hand():
    model = seed_model()
    text = model.summary((1, 28, 28), print_fn=None)
    rows = {line.split()[0]: line for line in text.splitlines() if line.startswith(" ")}
    assert "(None, 8, 26, 26)" in rows["0"] and rows["0"].split()[-1] == "72"       # 8 * 3 * 3
    assert "(None, 8, 13, 13)" in rows["1"] and rows["1"].split()[-1] == "0"
    assert "(None, 1352)" in rows["2"]
    assert "(None, 10)" in rows["3"] and rows["3"].split()[-1] == "13,530"      # 1352 * 10 + 10
    assert "Total params: 13,602" in text and "Trainable params: 13,602" in text
    assert "Non-trainable params: 0" in text
    assert sum(p.size for p in model.parameters()) == 72 + 13530


def test_summary_totals_equal_the_parameter_sizes_and_count_frozen_state(capsys):
    model = nn.Sequential(nn.Conv2d(3, 6, 3), nn.BatchNorm2d(6), nn.ReLU(), nn.Flatten(),
                          nn.Dense(5))
    text = model.summary((3, 8, 8))
    assert capsys.readouterr().out.strip() == text.strip()
    params = sum(p.size for p in model.parameters())
    buffers = sum(b.size for b in model.buffers() if b.dtype.kind == "f")
    assert params == 3 * 6 * 9 + 6 + 12 + 216 * 5 + 5
    assert f"Trainable params: {params:,}" in text
    assert f"Non-trainable params: {buffers:,}" in text and buffers == 12
    assert f"Total params: {params + buffers:,}" in text
    row_counts = [int(line.split()[-1].replace(",", "")) for line in text.splitlines()
                  if line.startswith(" ") and not line.startswith(" Layer")]
    assert row_counts[1] == 24 and sum(row_counts) == params + buffers     # rows count buffers too


def test_plot_draws_one_box_per_layer(tmp_path):
    require("graphviz")
    model = seed_model()
    picture = model.plot((1, 28, 28), path=tmp_path / "model.svg")
    svg = (tmp_path / "model.svg").read_text()
    for label in ("0 (Conv2D)", "1 (MaxPooling2D)", "2 (Flatten)", "3 (Dense)", "13,530",
                  "(1, 1, 28, 28)"):        # one box per layer, and the input at its own shape
        assert label in svg and label in picture.source


# --- Keras-style scripts ------------------------------------------------------------------------

def bars(n, seed=0):
    """28x28 images of a horizontal, vertical or diagonal bar (class 0, 1, 2) near the middle, in
    noise, channels first."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 3, n)
    x = rng.normal(0, 0.3, (n, 1, 28, 28)).astype(np.float32)
    at = rng.integers(11, 17, n)
    for i in range(n):
        if label[i] == 0:
            x[i, 0, at[i], 4:24] += 1
        elif label[i] == 1:
            x[i, 0, 4:24, at[i]] += 1
        else:
            x[i, 0, np.arange(28), (np.arange(28) + at[i] - 14) % 28] += 1
    return x, label


def test_the_seed_keras_script_trains():
    x, y = bars(240)
    x_test, y_test = bars(60, seed=1)
    one_hot = np.eye(3, dtype=np.float32)

    mg.manual_seed(0)
    model = nn.Sequential([
        nn.Conv2D(8, 3, input_shape=(1, 28, 28), use_bias=False),
        nn.MaxPooling2D(pool_size=2),
        nn.Flatten(),
        nn.Dense(3, activation="softmax"),
    ])
    model.compile("adam", loss="cross_entropy", metrics=["accuracy"], lr=0.01)
    history = model.fit(x, one_hot[y], batch_size=16, epochs=3,
                        validation_data=(x_test, one_hot[y_test]), verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.9
    assert model.predict(x_test[:5]).shape == (5, 3)


def _idx(path):
    with gzip.open(path) as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)


@pytest.mark.realdata
def test_the_seed_keras_script_learns_mnist():
    root = os.path.join(data_dir(), "mnist")
    images = _idx(os.path.join(root, "train-images-idx3-ubyte.gz"))[:, None] / 255 - 0.5
    labels = _idx(os.path.join(root, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    x, y = images[:2000].astype(np.float32), labels[:2000]
    x_test, y_test = images[-500:].astype(np.float32), labels[-500:]

    mg.manual_seed(0)
    model = seed_model()
    model.compile("adam", loss="cross_entropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=2, validation_data=(x_test, y_test),
                        verbose=0)
    assert history.history["val_accuracy"][-1] > 0.85
    assert model.evaluate(x_test, y_test)["accuracy"] == history.history["val_accuracy"][-1]
