"""keras.layers Embedding, SimpleRNN, LSTM and GRU: Keras's equations (written out in NumPy from
Keras's documentation), its weight layout, gate order and parameter counts, torch parity of the
gradients with the weights copied, and a Keras RNN tutorial ported with only its imports changed."""
import numpy as np
import pytest

import minigrad as mg
from conftest import require
from nn import keras
from nn.keras import layers
from test_keras_port import port


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def keras_reference(kind, x, kernel, recurrent, bias, h0=None, c0=None, activation=np.tanh):
    """Keras's recurrences on x (N, T, F) with its own layout and gate order: LSTM (i, f, c, o),
    GRU reset_after (z, r, h) with bias (2, 3U), SimpleRNN. Returns every step's h and the finals."""
    N, T, _ = x.shape
    U = recurrent.shape[0]
    h = np.zeros((N, U)) if h0 is None else h0
    c = np.zeros((N, U)) if c0 is None else c0
    outs = []
    for t in range(T):
        if kind == "LSTM":
            z = x[:, t] @ kernel + h @ recurrent + bias
            i, f, g, o = sigmoid(z[:, :U]), sigmoid(z[:, U:2 * U]), np.tanh(z[:, 2 * U:3 * U]), \
                sigmoid(z[:, 3 * U:])
            c = f * c + i * g
            h = o * np.tanh(c)
        elif kind == "GRU":
            xi, hi = x[:, t] @ kernel + bias[0], h @ recurrent + bias[1]
            z, r = sigmoid(xi[:, :U] + hi[:, :U]), sigmoid(xi[:, U:2 * U] + hi[:, U:2 * U])
            hh = np.tanh(xi[:, 2 * U:] + r * hi[:, 2 * U:])
            h = z * h + (1 - z) * hh
        else:
            h = activation(x[:, t] @ kernel + h @ recurrent + bias)
        outs.append(h)
    return np.stack(outs, 1), h, c


def rand(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape) * 0.5


@pytest.mark.parametrize("kind,activation", [("LSTM", "tanh"), ("GRU", "tanh"),
                                             ("SimpleRNN", "tanh"), ("SimpleRNN", "relu")])
def test_layers_compute_kerass_equations_in_kerass_layout(kind, activation):
    mg.manual_seed(0)
    x = rand(3, 5, 4)
    options = {"activation": activation} if kind == "SimpleRNN" else {}
    layer = getattr(layers, kind)(6, return_sequences=True, return_state=True, **options)
    out = layer(mg.tensor(x))
    kernel, recurrent, bias = (rand(*w.shape, seed=i + 1) for i, w in
                               enumerate(layer.get_weights()))
    layer.set_weights([kernel, recurrent, bias])
    h0, c0 = rand(3, 6, seed=7), rand(3, 6, seed=8)
    states = [h0, c0] if kind == "LSTM" else [h0]
    out = layer(mg.tensor(x), initial_state=[mg.tensor(s) for s in states])
    act = np.tanh if activation == "tanh" else lambda v: np.maximum(v, 0)
    seq, h, c = keras_reference(kind, x, kernel, recurrent, bias, h0, c0, act)
    np.testing.assert_allclose(out[0].numpy(), seq, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[1].numpy(), h, rtol=1e-5, atol=1e-6)
    assert len(out) == (3 if kind == "LSTM" else 2)
    if kind == "LSTM":
        np.testing.assert_allclose(out[2].numpy(), c, rtol=1e-5, atol=1e-6)
    last = getattr(layers, kind)(6, go_backwards=True, **options)
    last(mg.tensor(x))
    last.set_weights([kernel, recurrent, bias])
    _, h_back, _ = keras_reference(kind, x[:, ::-1], kernel, recurrent, bias, activation=act)
    np.testing.assert_allclose(last(mg.tensor(x)).numpy(), h_back, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_gradients_match_torch_with_the_weights_copied(kind):
    torch = require("torch")
    mg.manual_seed(1)
    x = rand(2, 7, 3).astype(np.float32)
    layer = getattr(layers, kind)(5, return_sequences=True)
    layer(mg.tensor(x))
    kernel, recurrent, bias = layer.get_weights()
    bias = bias + rand(*bias.shape, seed=3).astype(np.float32)       # not the zero init
    layer.set_weights([kernel, recurrent, bias])
    order = np.r_[5:10, 0:5, 10:15] if kind == "GRU" else np.arange(20)   # torch's gate order
    ref = getattr(torch.nn, kind)(3, 5, batch_first=True)
    with torch.no_grad():
        ref.weight_ih_l0.copy_(torch.tensor(kernel[:, order].T))
        ref.weight_hh_l0.copy_(torch.tensor(recurrent[:, order].T))
        b_ih, b_hh = (bias[0], bias[1]) if kind == "GRU" else (bias, 0 * bias)
        ref.bias_ih_l0.copy_(torch.tensor(b_ih[order]))
        ref.bias_hh_l0.copy_(torch.tensor(b_hh[order]))
    w = rand(2, 7, 5, seed=4).astype(np.float32)
    xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_m, (out_t, _) = layer(xm), ref(xt)
    np.testing.assert_allclose(out_m.numpy(), out_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    (out_m * mg.tensor(w)).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(layer.kernel.grad.numpy()[:, order].T,
                               ref.weight_ih_l0.grad.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(layer.recurrent_kernel.grad.numpy()[:, order].T,
                               ref.weight_hh_l0.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_keras_initializers_and_forget_bias():
    mg.manual_seed(0)
    lstm = layers.LSTM(8)
    lstm(mg.zeros(2, 3, 5))
    rk = lstm.recurrent_kernel.numpy()
    np.testing.assert_allclose(rk @ rk.T, np.eye(8), atol=1e-5)       # orthogonal rows
    assert np.abs(lstm.kernel.numpy()).max() <= np.sqrt(6 / (5 + 32))   # glorot_uniform
    assert lstm.bias.numpy().tolist() == [0.0] * 8 + [1.0] * 8 + [0.0] * 16  # unit_forget_bias
    assert layers.LSTM(8, unit_forget_bias=False)(mg.zeros(1, 2, 5)).shape == (1, 8)
    emb = layers.Embedding(50, 4)
    assert np.abs(emb.embeddings.numpy()).max() <= 0.05 and emb.embeddings.shape == (50, 4)
    gru = layers.GRU(4, kernel_initializer="zeros", use_bias=False)
    gru(mg.zeros(1, 2, 3))
    assert not gru.kernel.numpy().any() and [w.shape for w in gru.get_weights()] == [(3, 12),
                                                                                     (4, 12)]


def test_parameter_counts_are_kerass():
    """The figures keras.io's "Working with RNNs" guide prints for its models."""
    model = keras.Sequential([keras.Input(shape=(10,)), layers.Embedding(input_dim=1000,
                              output_dim=64), layers.LSTM(128), layers.Dense(10)])
    assert [m.count_params() for m in model.layers] == [64000, 98816, 1290]
    model = keras.Sequential([keras.Input(shape=(10,)), layers.Embedding(1000, 64),
                              layers.GRU(256, return_sequences=True), layers.SimpleRNN(128),
                              layers.Dense(10)])
    assert [m.count_params() for m in model.layers] == [64000, 247296, 49280, 1290]
    lines = []
    model.summary(print_fn=lines.append)
    assert "(None, 10, 256)" in lines[0] and "gru (GRU)" in lines[0]


def test_embedding_takes_integer_and_float_indices():
    emb = layers.Embedding(5, 3)
    idx = np.array([[0, 4], [2, 2]])
    np.testing.assert_array_equal(emb(idx).numpy(), emb.embeddings.numpy()[idx])
    np.testing.assert_array_equal(emb(idx.astype(np.float32)).numpy(), emb(idx).numpy())


def test_save_and_load_keep_recurrent_models(tmp_path):
    mg.manual_seed(0)
    model = keras.Sequential([keras.Input(shape=(6, 3)), layers.GRU(4, return_sequences=True),
                              layers.LSTM(2)])
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    x = rand(5, 6, 3).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_errors_name_the_layer_and_shapes():
    lstm = layers.LSTM(4)
    with pytest.raises(ValueError, match=r"LSTM: expected an input of shape \(batch, timesteps, "
                                         r"features\), received \(2, 3\)"):
        lstm(mg.zeros(2, 3))
    lstm(mg.zeros(2, 3, 5))
    with pytest.raises(ValueError, match=r"\(batch, timesteps, 5\), received \(2, 3, 6\)"):
        lstm(mg.zeros(2, 3, 6))
    with pytest.raises(ValueError, match=r"initial_state must be 2 tensor\(s\) of shape \(2, 4\)"):
        lstm(mg.zeros(2, 3, 5), initial_state=[mg.zeros(2, 4)])
    with pytest.raises(ValueError, match="GRU: activation must be one of"):
        layers.GRU(3, activation="relu")
    with pytest.raises(ValueError, match="mask_zero=True"):
        layers.Embedding(10, 3, mask_zero=True)
    with pytest.raises(ValueError, match="unknown initializer 'he_normal'"):
        layers.SimpleRNN(3, recurrent_initializer="he_normal")
    with pytest.raises(ValueError, match="reset_after=False"):
        layers.GRU(3, reset_after=False)
    with pytest.raises(ValueError, match="one output a layer"):
        layers.LSTM(3, return_state=True)(keras.Input((4, 2)))


def test_dropout_masks_features_for_the_whole_sequence():
    mg.manual_seed(0)
    layer = layers.SimpleRNN(3, dropout=0.5, return_sequences=True, use_bias=False)
    x = mg.ones(4, 6, 8)
    layer(x)
    with mg.no_grad():
        layer.recurrent_kernel.fill_(0.0)
    layer.train()
    first = layer(x).numpy()                           # h_t = tanh(mask * x_t kernel): same each t
    np.testing.assert_array_equal(first, np.repeat(first[:, :1], 6, axis=1))
    layer.eval()
    np.testing.assert_allclose(layer(x).numpy()[:, 0], np.tanh(8 * 0 + x.numpy()[:, 0] @
                                                                layer.kernel.numpy()), rtol=1e-5)


RNN_GUIDE = '''
import numpy as np
from nn import keras

batch_size = 64
# Each MNIST image batch is a tensor of shape (batch_size, 28, 28).
# Each input sequence will be of size (28, 28) (height is treated like time).
input_dim = 28

units = 64
output_size = 10  # labels are from 0 to 9

# Build the RNN model
def build_model(allow_cudnn_kernel=True):
    # CuDNN is only available at the layer level, and not at the cell level.
    if allow_cudnn_kernel:
        # The LSTM layer with default options uses CuDNN.
        lstm_layer = keras.layers.LSTM(units, input_shape=(None, input_dim))
    model = keras.models.Sequential(
        [
            lstm_layer,
            keras.layers.BatchNormalization(),
            keras.layers.Dense(output_size),
        ]
    )
    return model

mnist = keras.datasets.mnist

(x_train, y_train), (x_test, y_test) = mnist.load_data()
x_train, x_test = x_train / 255.0, x_test / 255.0
sample, sample_label = x_train[0], y_train[0]

model = build_model(allow_cudnn_kernel=True)

model.compile(
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    optimizer="sgd",
    metrics=["accuracy"],
)

history = model.fit(
    x_train, y_train, validation_data=(x_test, y_test), batch_size=batch_size, epochs=1
)
model.summary()
score = model.evaluate(x_test, y_test, verbose=0)
'''


@pytest.mark.realdata
def test_keras_rnn_guide_mnist_port(monkeypatch, tmp_path, capsys):
    """keras.io's "Working with RNNs" MNIST model: its cuDNN branch (the guide's other branch wraps
    an LSTMCell in keras.layers.RNN, which nn.keras does not have), import lines changed; the lines
    `history =`, `model.summary()` and `score =` are added to read the results."""
    ns = port(RNN_GUIDE, monkeypatch, tmp_path, 6000, 500, **{"epochs=1": "epochs=2"})
    out = capsys.readouterr().out
    assert "lstm (LSTM)" in out and "(None, 64)" in out and "23,808" in out   # 4 (64 (28+64) + 64)
    assert ns["model"].count_params() == 23808 + 4 * 64 + 650
    loss = ns["history"].history["loss"]
    assert loss[1] < loss[0] < 2.3, loss                 # log(10) = 2.30 is chance
    assert ns["score"][1] > 0.3, ns["score"]   # 188 steps of SGD(0.01): 0.47 measured, chance 0.1
