"""ONNX export: every example model and every nn layer exports, passes onnx.checker, and ONNX
Runtime gives minigrad's outputs on random inputs of two batch sizes, neither of them the one
exported with; a model ONNX cannot express fails with an error naming the primitive."""
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
import nn
from conftest import require
from nn import functional as F
from nn import keras

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))
import cat_classifier, char_gpt, cnn_bn, lenet5, resnet, seed_cnn, seq_mnist_lstm, vae  # noqa: E402


def keras_style_model():
    """examples/keras_style.py's model (built inside its main)."""
    return nn.Sequential([nn.Conv2D(8, 3, input_shape=(1, 28, 28), use_bias=False),
                          nn.MaxPooling2D(pool_size=2), nn.Flatten(),
                          nn.Dense(10, activation="softmax")])


def small_gpt():
    """examples/char_gpt.py's model, small, with random embeddings (they start at zero)."""
    model = char_gpt.make_gpt(nn, F, mg.zeros)(12, 6, 8, 2, 2)
    with mg.no_grad():
        model.wte.copy_(mg.randn(12, 8))
        model.wpe.copy_(mg.randn(6, 8))
    return model


class Inline(nn.Module):
    """A module that writes its ops inline rather than through layers: tensor methods that lower
    primitive by primitive (slices, transpose, reductions, where ...)."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(mg.randn(6))

    def forward(self, x):                         # (N, 4, 6)
        y = x[:, 1:3, ::-1] * self.scale + x[:, :2].exp().sqrt()
        y = y.transpose(0, 2, 1).maximum(0.1).abs().tanh() - F.log_softmax(x[:, 0, None, :2], -1)
        z = mg.concatenate([y.sum(1), y.amax(2), y.mean(1, keepdims=True)[:, 0]], axis=1)
        even = mg.tensor(np.arange(10) % 2 == 0)
        return mg.where(even, z ** 2, -z) / 3 + x[:, [0, 3]].sum(2)[:, :1]


MODELS = {   # name -> (model factory, one sample's shape or a list of them[, options])
    "lenet5": (lenet5.LeNet5, (1, 28, 28)),
    "cnn_bn": (cnn_bn.ConvNet, (1, 28, 28)),
    "resnet": (lambda: resnet.ResNet(3, 10), (3, 16, 16)),
    "cat_classifier": (lambda: cat_classifier.l_layer_model(48), (48,)),
    "seed_cnn": (seed_cnn.seed_cnn, (1, 28, 28)),
    "keras_style": (keras_style_model, (1, 28, 28)),
    "char_gpt": (small_gpt, (5,), {"indices": 12}),
    "seq_mnist_lstm": (lambda: seq_mnist_lstm.make_model(nn, hidden_size=16), (1, 28, 28)),
    "vae": (lambda: vae.make_vae(nn, F)(4), [(1, 28, 28), (4,)]),     # (loss, logits)
    "Linear": (lambda: nn.Linear(5, 3), (5,)),
    "Conv2d": (lambda: nn.Conv2d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2), (4, 9, 9)),
    "Conv2d_1x1": (lambda: nn.Conv2d(3, 5, 1, bias=False), (3, 6, 6)),
    "MaxPool2d": (lambda: nn.MaxPool2d(3, stride=2, padding=1, dilation=1), (2, 9, 9)),
    "MaxPool2d_tiles": (lambda: nn.MaxPool2d(2), (2, 7, 7)),
    "AvgPool2d": (lambda: nn.AvgPool2d(3, stride=2, padding=1), (2, 8, 8)),
    "AvgPool2d_no_pad_count": (lambda: nn.AvgPool2d(3, 2, 1, count_include_pad=False), (2, 8, 8)),
    "AdaptiveAvgPool2d_1": (lambda: nn.AdaptiveAvgPool2d(1), (3, 5, 5)),
    "AdaptiveAvgPool2d_tiles": (lambda: nn.AdaptiveAvgPool2d((2, 3)), (3, 4, 6)),
    "AdaptiveAvgPool2d_bins": (lambda: nn.AdaptiveAvgPool2d((3, 2)), (3, 5, 7)),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(5), (5,)),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(3, eps=1e-3), (3, 4, 4)),
    "BatchNorm2d_plain": (lambda: nn.BatchNorm2d(3, affine=False), (3, 4, 4)),
    "Dropout": (lambda: nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5)), (4,)),
    "Flatten": (lambda: nn.Flatten(), (2, 3, 4)),
    "Identity": (lambda: nn.Identity(), (3,)),
    "ReLU": (lambda: nn.ReLU(), (7,)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), (7,)),
    "Sigmoid": (lambda: nn.Sigmoid(), (7,)),
    "Tanh": (lambda: nn.Tanh(), (7,)),
    "Softmax": (lambda: nn.Softmax(dim=1), (7, 2)),
    "Dense": (lambda: nn.Dense(4, activation="relu", input_shape=(6,)), (6,)),
    "Conv2D_same": (lambda: nn.Conv2D(4, 3, strides=2, padding="same", activation="tanh",
                                      input_shape=(2, 7, 7)), (2, 7, 7)),
    "inline_ops": (Inline, (4, 6)),
    "LayerNorm": (lambda: nn.LayerNorm(6), (6,)),
    "GroupNorm": (lambda: nn.GroupNorm(2, 4), (4, 3, 3)),
    "SiLU": (lambda: nn.SiLU(), (7,)),
    "GELU": (lambda: nn.GELU(), (7,)),
    "GELU_tanh": (lambda: nn.GELU(approximate="tanh"), (7,)),
    "Unflatten": (lambda: nn.Unflatten(1, (2, 3)), (6,)),
    "Upsample": (lambda: nn.Upsample(scale_factor=2), (2, 3, 3)),
    "ZeroPad2d": (lambda: nn.ZeroPad2d(1), (2, 3, 3)),
    "ConstantPad2d": (lambda: nn.ConstantPad2d((1, 0, 2, 1), 0.5), (2, 3, 3)),
    "ReflectionPad2d": (lambda: nn.ReflectionPad2d(1), (2, 3, 3)),
    "ReplicationPad2d": (lambda: nn.ReplicationPad2d(1), (2, 3, 3)),
    "Dropout2d": (lambda: nn.Dropout2d(0.5), (2, 3, 3)),
    "MaxPooling2D": (lambda: nn.MaxPooling2D(2, strides=1), (2, 5, 5)),
    "CosineSimilarity": (lambda: nn.CosineSimilarity(dim=2), [(3, 5), (3, 5)]),
    "PairwiseDistance": (lambda: nn.PairwiseDistance(p=3.0, keepdim=True), [(5,), (5,)]),
    "ELU": (lambda: nn.ELU(0.7), (7,)),
    "CELU": (lambda: nn.CELU(1.5), (7,)),
    "SELU": (lambda: nn.SELU(), (7,)),
    "Mish": (lambda: nn.Mish(), (7,)),
    "Hardsigmoid": (lambda: nn.Hardsigmoid(), (7,)),
    "Hardswish": (lambda: nn.Hardswish(), (7,)),
    "Hardtanh": (lambda: nn.Hardtanh(-0.5, 0.8), (7,)),
    "ReLU6": (lambda: nn.ReLU6(), (7,)),
    "Softplus": (lambda: nn.Softplus(), (7,)),
    "Softplus_beta": (lambda: nn.Softplus(beta=2.0), (7,)),
    "Embedding": (lambda: nn.Embedding(10, 4), (3,), {"indices": 10}),
    "Embedding_padding_idx": (lambda: nn.Embedding(10, 4, padding_idx=1), (3,), {"indices": 3}),
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1,
                                                   output_padding=1, groups=2), (4, 4, 5)),
    "ConvTranspose2d_dilated": (lambda: nn.ConvTranspose2d(2, 3, (2, 3), dilation=(2, 1),
                                                           bias=False), (2, 3, 3)),
    "Unfold": (lambda: nn.Unfold((2, 3), dilation=(1, 2), padding=1, stride=2), (2, 5, 6)),
    "Fold": (lambda: nn.Fold((4, 5), 2, padding=1, stride=(1, 2)), (8, 15),
             {"opset_version": 18}),
    "RNN": (lambda: nn.RNN(4, 5, nonlinearity="relu", batch_first=True), (3, 4)),
    "RNNCell": (lambda: nn.RNNCell(4, 5), (4,)),
    "LSTM": (lambda: nn.LSTM(4, 5, num_layers=2, batch_first=True), (3, 4)),
    "LSTMCell": (lambda: nn.LSTMCell(4, 5), (4,)),
    "GRU": (lambda: nn.GRU(4, 5, batch_first=True, bidirectional=True), (3, 4)),
    "GRUCell": (lambda: nn.GRUCell(4, 5, bias=False), (4,)),
    "MultiheadAttention": (lambda: nn.MultiheadAttention(8, 2, batch_first=True),
                           [(3, 8), (4, 8), (4, 8)]),
    "TransformerEncoderLayer": (lambda: nn.TransformerEncoderLayer(
        8, 2, 16, batch_first=True, norm_first=True, activation="gelu"), (3, 8)),
    "TransformerEncoder": (lambda: nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2), (3, 8)),
    "keras_LSTM": (lambda: keras.layers.LSTM(6, return_sequences=True), (5, 3)),
    "keras_GRU": (lambda: keras.layers.GRU(6, return_state=True), (5, 3)),
    "keras_SimpleRNN": (lambda: keras.layers.SimpleRNN(6), (5, 3)),
    "keras_text_classifier": (lambda: keras.Sequential([
        keras.layers.Embedding(10, 4), keras.layers.LSTM(6), keras.layers.Dense(3)]), (5,),
        {"indices": 10}),
    "TransformerDecoderLayer": (lambda: nn.TransformerDecoderLayer(8, 2, 16, batch_first=True),
                                [(3, 8), (4, 8)]),
    "LSTM_time_first": (lambda: nn.LSTM(4, 5, bidirectional=True), (2, 4)),  # axis 0 is T
    "GRU_time_first": (lambda: nn.GRU(4, 5, num_layers=2), (2, 4)),
    "RNN_tanh_no_bias": (lambda: nn.RNN(4, 5, bias=False, batch_first=True), (3, 4)),
    # the losses: the target is the second input ("classes": integer classes below that)
    "MSELoss": (lambda: nn.MSELoss(), [(3, 4), (3, 4)]),
    "L1Loss": (lambda: nn.L1Loss(reduction="sum"), [(5,), (5,)]),
    "HuberLoss": (lambda: nn.HuberLoss(delta=0.5), [(6,), (6,)]),
    "SmoothL1Loss": (lambda: nn.SmoothL1Loss(reduction="none", beta=0.5), [(6,), (6,)]),
    "BCELoss": (lambda: nn.BCELoss(weight=mg.rand(5) + 0.5), [(5,), (5,)],
                {"probabilities": True}),
    "BCELoss_sum": (lambda: nn.BCELoss(reduction="sum"), [(5,), (5,)], {"probabilities": True}),
    "BCEWithLogitsLoss": (lambda: nn.BCEWithLogitsLoss(pos_weight=mg.rand(5) + 0.5),
                          [(5,), (5,)], {"probabilities": True}),
    "KLDivLoss": (lambda: nn.KLDivLoss(reduction="batchmean"), [(5,), (5,)],
                  {"probabilities": True}),
    "KLDivLoss_mean": (lambda: nn.KLDivLoss(), [(5,), (5,)], {"probabilities": True}),
    "CrossEntropyLoss": (lambda: nn.CrossEntropyLoss(), [(5,), ()], {"classes": 5}),
    "CrossEntropyLoss_2d": (lambda: nn.CrossEntropyLoss(reduction="none"), [(3, 4, 2), (4, 2)],
                            {"classes": 3}),
    "NLLLoss": (lambda: nn.NLLLoss(reduction="sum"), [(5,), ()], {"classes": 5}),
}

class CausalDecoder(nn.Module):
    """A decoder layer whose self-attention is causal (a fixed mask)."""

    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerDecoderLayer(8, 2, 16, batch_first=True)

    def forward(self, tgt, memory):
        return self.layer(tgt, memory, tgt_is_causal=True)


MODELS["TransformerDecoderLayer_causal"] = (CausalDecoder, [(3, 8), (4, 8)])

NOT_EXPORTED = {   # layers (and settings) that do not export -> example inputs, the error
    "Softplus_low_threshold": (lambda: nn.Softplus(threshold=1.0), [(3, 7)],
                               "softplus's threshold changes its values on the example inputs"),
    "CrossEntropyLoss_label_smoothing": (lambda: nn.CrossEntropyLoss(label_smoothing=0.1),
                                         [(5,), ()], r"Mul \(in CrossEntropyLoss/cross_entropy\) "
                                         "uses a constant of shape"),
}


@pytest.mark.parametrize("name", NOT_EXPORTED)
def test_layers_not_exported_name_the_primitive(name):
    require("onnx")
    factory, shapes, message = NOT_EXPORTED[name]
    mg.manual_seed(0)
    xs = [mg.randn(*s) * 3 for s in shapes]
    if name.startswith("CrossEntropyLoss"):
        xs = [mg.randn(4, 5), mg.tensor([0, 4, 2, 2])]
    with pytest.raises(ValueError, match=message):
        mg.onnx.export(factory(), xs)


def _inputs(samples, options, rng, batch):
    """Random inputs of `batch` samples of each shape: integers below options["indices"], floats
    (in (0, 1) with options["probabilities"]), or floats then integer classes below
    options["classes"]."""
    if "indices" in options:
        return [rng.integers(0, options["indices"], (batch, *s)) for s in samples]
    xs = [rng.standard_normal((batch, *s)).astype(np.float32) for s in samples]
    if options.get("probabilities"):
        xs = [1 / (1 + np.exp(-x)) for x in xs]
    if "classes" in options:
        xs[-1] = rng.integers(0, options["classes"], (batch, *samples[-1]))
    return xs


def _flat(out):
    return [t for o in out for t in _flat(o)] if isinstance(out, (tuple, list)) else [out]


def _trained_statistics(model, samples, options):
    """Move batch-norm statistics away from 0 and 1 with a few training-mode passes."""
    model.train()
    rng = np.random.default_rng(2)
    with mg.no_grad():
        for _ in range(3):
            model(*(mg.tensor(x * 2 + 1 if x.dtype.kind == "f" and "probabilities" not in options
                              else x)
                    for x in _inputs(samples, options, rng, 8)))
    model.eval()


@pytest.mark.parametrize("name", MODELS)
def test_exported_model_matches_minigrad_in_onnxruntime(name, tmp_path):
    onnx = require("onnx")
    ort = require("onnxruntime")
    factory, sample, *options = MODELS[name]
    samples, options = sample if isinstance(sample, list) else [sample], dict(*options)
    mg.manual_seed(0)
    model = factory()
    _trained_statistics(model, samples, options)
    path = tmp_path / f"{name}.onnx"
    model.train()
    rng = np.random.default_rng(1)
    example = [mg.tensor(x) for x in _inputs(samples, options, rng, 4)]
    proto = mg.onnx.export(model, example, path, opset_version=options.get("opset_version", 17))
    # ^ exports in eval mode
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    assert model.training and all(t.requires_grad == isinstance(t, nn.Parameter)
                                  for _, t in model.state_dict().items()), "export left changes"
    model.eval()
    params = {k for k, _ in model.named_parameters()} | {
        k for k, t in model.named_buffers() if t.dtype.kind == "f"}
    assert params <= {i.name for i in proto.graph.initializer}, "parameter names were not kept"
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for batch in (1, 7):
        xs = _inputs(samples, options, rng, batch)
        if name == "inline_ops":
            xs = [np.abs(xs[0]) + 0.1]              # log and sqrt of positive values
        with mg.no_grad():
            expected = [t.numpy() for t in _flat(model(*map(mg.tensor, xs)))]
        got = session.run(None, dict(zip([i.name for i in proto.graph.input], xs)))
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert g.shape == e.shape
            np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-5)


def test_composites_become_one_operator_each():
    require("onnx")
    mg.manual_seed(0)
    proto = mg.onnx.export(cnn_bn.ConvNet(), mg.randn(2, 1, 28, 28))
    kinds = [n.op_type for n in proto.graph.node]
    assert kinds == ["Conv", "BatchNormalization", "Relu", "MaxPool"] * 2 + \
        ["Reshape", "Gemm", "Identity"]
    batch = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param == "batch"
    fixed = mg.onnx.export(cnn_bn.ConvNet(), mg.randn(2, 1, 28, 28), dynamic_batch=False)
    assert fixed.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 2


@pytest.mark.parametrize("name, kinds", [
    ("ELU", ["Elu"]), ("SELU", ["Selu"]), ("CELU", ["Celu"]), ("Hardtanh", ["Clip"]),
    ("Hardswish", ["HardSigmoid", "Mul"]), ("Mish", ["Softplus", "Tanh", "Mul"]),
    ("Softplus_beta", ["Mul", "Softplus", "Div"]), ("Embedding", ["Gather"]),
    ("ConvTranspose2d", ["ConvTranspose"]), ("Fold", ["Col2Im"])])
def test_layers_become_their_onnx_operators_and_agree_at_extreme_values(name, kinds):
    ort = require("onnxruntime")
    factory, sample, *options = MODELS[name]
    options = dict(*options)
    mg.manual_seed(0)
    model = factory().eval()
    x = _inputs([sample], options, np.random.default_rng(0), 4)[0]
    proto = mg.onnx.export(model, x, opset_version=options.get("opset_version", 17))
    assert [n.op_type for n in proto.graph.node if n.op_type != "Identity"] == kinds
    if sample == (7,):
        x = np.array([[-100, -30, -3, 0, 3, 30, 100]], np.float32)
        (got,) = ort.InferenceSession(proto.SerializeToString()).run(None, {"input": x})
        with mg.no_grad():
            np.testing.assert_allclose(got, model(mg.tensor(x)).numpy(), rtol=1e-6, atol=1e-6)


def test_limits_read_from_the_data_need_inputs_beyond_them():
    require("onnx")
    with pytest.raises(ValueError, match="hardtanh's limits can only be read where"):
        mg.onnx.export(nn.Hardtanh(-5.0, 5.0), mg.randn(4, 7))
    with pytest.raises(ValueError, match="fold exports as Col2Im, which needs opset_version >= 18"):
        mg.onnx.export(nn.Fold((4, 5), 2), mg.randn(2, 8, 12))


@pytest.mark.parametrize("opset", [13, 18])     # ReduceMax's axes: an attribute, then an input
def test_tensor_softmax_subtracts_its_maximum_as_reduce_max(opset):
    ort = require("onnxruntime")
    x = mg.randn(3, 4, 5) * 10
    proto = mg.onnx.export(lambda t: t.softmax(1), x, opset_version=opset)
    assert "ReduceMax" in [n.op_type for n in proto.graph.node]
    x = mg.randn(6, 4, 5) * 10
    (got,) = ort.InferenceSession(proto.SerializeToString()).run(None, {"input": x.numpy()})
    np.testing.assert_allclose(got, x.softmax(1).numpy(), rtol=1e-5, atol=1e-6)


def test_model_without_onnx_equivalent_names_the_primitive():
    require("onnx")
    x = mg.randn(2, 3, 8)
    with pytest.raises(NotImplementedError, match="primitive Remainder has no ONNX lowering"):
        mg.onnx.export(lambda t: t % 2.0, x)        # numpy's sign rule is not ONNX's Mod
    with pytest.raises(NotImplementedError, match="primitive Index with a boolean key"):
        mg.onnx.export(lambda t: t[:, np.array([True, False, True])], x)
    with pytest.raises(ValueError, match=r"Mul \(in top level\) uses a constant of shape "
                                         r"\(2, 3, 8\) computed from the input data"):
        mg.onnx.export(lambda t: t * (t > 0).astype(t.dtype), x)       # a mask made from the data
    with pytest.raises(ValueError, match=r"Index \(in top level\) uses a constant of shape \(2,\)"):
        mg.onnx.export(lambda t: t[t[:, 0, 0].numpy().argsort()], x)      # sorts the samples
    with pytest.raises(TypeError, match="output 0 is not a Tensor computed from the inputs"):
        mg.onnx.export(lambda t: t.argmax(1), x)
    with pytest.raises(ValueError, match="opset_version must be an int >= 13"):
        mg.onnx.export(F.relu, x, opset_version=11)


def test_indexing_that_follows_the_batch_is_refused():
    require("onnx")
    x = mg.randn(4, 3)
    with pytest.raises(ValueError, match=r"Index at \(3,\) follows the batch size \(it is \(4,\)"):
        mg.onnx.export(lambda t: t[t.shape[0] - 1], x)
    with pytest.raises(ValueError, match="the recorded graph changes with the batch size"):
        mg.onnx.export(lambda t: mg.stack([t[i] * i for i in range(t.shape[0])]), x)


@pytest.mark.parametrize("factory, kind, n", [
    (lambda: nn.LSTM(4, 5, num_layers=2, bidirectional=True), "LSTM", 4),
    (lambda: nn.GRU(4, 5, bias=False), "GRU", 1),
    (lambda: nn.RNN(4, 5, nonlinearity="relu", bidirectional=True), "RNN", 2),
    (lambda: keras.layers.LSTM(5, go_backwards=True), "LSTM", 0)])   # Keras's gate order:
def test_recurrent_layers_become_one_onnx_operator_per_layer_and_direction(factory, kind, n):
    ort = require("onnxruntime")                                     # unrolled, as are cells
    mg.manual_seed(0)
    model = factory()
    x = mg.randn(3, 6, 4)
    proto = mg.onnx.export(model, x, dynamic_batch=False)
    kinds = [node.op_type for node in proto.graph.node]
    assert kinds.count(kind) == n and ("MatMul" in kinds) == (n == 0)
    expected = [t.numpy() for t in _flat(model(x))]
    got = ort.InferenceSession(proto.SerializeToString()).run(None, {"input": x.numpy()})
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


def test_recurrent_layer_given_its_initial_state_exports_unrolled():
    ort = require("onnxruntime")
    mg.manual_seed(0)
    lstm = nn.LSTM(4, 5, batch_first=True)
    x, h0, c0 = mg.randn(2, 3, 4), mg.randn(1, 2, 5), mg.randn(1, 2, 5)
    proto = mg.onnx.export(lambda a, h, c: lstm(a, (h, c))[1], (x, h0, c0), dynamic_batch=False)
    assert "LSTM" not in [node.op_type for node in proto.graph.node]
    feed = dict(input0=x.numpy(), input1=h0.numpy(), input2=c0.numpy())
    for g, e in zip(ort.InferenceSession(proto.SerializeToString()).run(None, feed),
                    lstm(x, (h0, c0))[1], strict=True):
        np.testing.assert_allclose(g, e.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, kind", [("CrossEntropyLoss", "SoftmaxCrossEntropyLoss"),
                                        ("CrossEntropyLoss_2d", "SoftmaxCrossEntropyLoss"),
                                        ("NLLLoss", "NegativeLogLikelihoodLoss"),
                                        ("MSELoss", "Mul"), ("KLDivLoss", "ReduceSum")])
def test_losses_export_as_onnx_losses_or_their_ops_with_the_count_from_the_batch(name, kind):
    require("onnx")
    factory, samples, options = MODELS[name][0], MODELS[name][1], dict(*MODELS[name][2:])
    xs = _inputs(samples, options, np.random.default_rng(0), 4)
    proto = mg.onnx.export(factory(), xs)
    kinds = [node.op_type for node in proto.graph.node]
    assert kinds.count(kind) == 1 if "Loss" in kind else kind in kinds
    assert ("Shape" in kinds) == (name in ("MSELoss", "KLDivLoss"))     # the mean's count


def test_kl_div_exports_zero_log_zero_as_zero():
    ort = require("onnxruntime")
    rng = np.random.default_rng(0)
    logp = np.log(rng.uniform(0.1, 1, (4, 5))).astype(np.float32)
    target = rng.uniform(0.1, 1, (4, 5)).astype(np.float32)
    target[0, :2] = 0
    proto = mg.onnx.export(nn.KLDivLoss(reduction="sum"), (logp, target))
    (got,) = ort.InferenceSession(proto.SerializeToString()).run(
        None, {"input0": logp[:3], "input1": target[:3]})
    expected = F.kl_div(mg.tensor(logp[:3]), mg.tensor(target[:3]), reduction="sum")
    assert np.isfinite(got) and np.isclose(got, expected.item(), rtol=1e-5)


def test_missing_onnx_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)          # import onnx now fails
    with pytest.raises(ImportError, match=r'pip install "minigrad\[onnx\]"'):
        mg.onnx.export(F.relu, mg.randn(2, 3))


def test_tensor_relu_method_exports_as_one_relu_node():
    require("onnx")
    ort = require("onnxruntime")
    x = mg.randn(3, 5)
    model = mg.onnx.export(lambda t: (t * 2).relu(), x)
    assert [n.op_type for n in model.graph.node if n.op_type != "Identity"] == ["Mul", "Relu"]
    session = ort.InferenceSession(model.SerializeToString())
    got, = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    np.testing.assert_array_equal(got, (x * 2).relu().numpy())


NOT_CHECKED = {   # public modules with no export case of their own: the containers (every
    # example model is a Sequential or a Module)
    "Module", "ModuleList", "Sequential"}


def test_every_public_module_has_an_export_case_or_is_listed():
    import inspect
    public = {name for name, c in vars(nn).items()
              if inspect.isclass(c) and issubclass(c, nn.Module)}
    cased = {name for name in public for key in MODELS if key.split("_")[0] == name}
    missing = public - cased - {key.split("_")[0] for key in NOT_EXPORTED} - NOT_CHECKED
    assert not missing, f"nn modules with no ONNX export case: {sorted(missing)}"
    assert not (cased & NOT_CHECKED), f"listed as unchecked but tested: {cased & NOT_CHECKED}"


def test_every_example_model_has_an_export_case():
    examples = {p.stem for p in EXAMPLES.glob("*.py") if not p.stem.startswith("_")}
    assert examples <= set(MODELS), f"examples with no ONNX export case: {examples - set(MODELS)}"
