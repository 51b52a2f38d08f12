"""The layers of nn/layers_more.py against torch.nn's, forward and backward; channel dropout's
training mode; and the nn.functional extras at degenerate and extreme inputs (zero vectors, huge
activations), where the registry's tie-free inputs do not reach."""
import numpy as np
import pytest

import minigrad as mg
import nn
from conftest import require
from nn import functional as F


@pytest.fixture(scope="module")
def torch():
    return require("torch")


def compare(torch, ours, theirs, *arrays, atol=1e-10, rtol=1e-9):
    """Same output and input gradients for a fixed random upstream gradient, in float64."""
    xs = [mg.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = ours(*xs), theirs(*ts)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), atol=atol, rtol=rtol)
    g = np.random.default_rng(1).standard_normal(tuple(ty.shape))
    y.backward(mg.tensor(g))
    ty.backward(torch.tensor(g))
    for x, t in zip(xs, ts):
        expected = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        np.testing.assert_allclose(x.grad.numpy(), expected, atol=atol, rtol=rtol)


X = np.random.default_rng(0).standard_normal((2, 3, 5, 6)) * 3
Y = np.random.default_rng(2).standard_normal((2, 3, 5, 6))
LAYERS = [
    ("ELU", dict(alpha=0.5)), ("CELU", dict(alpha=2.0)), ("SELU", {}), ("ReLU6", {}),
    ("Hardtanh", dict(min_val=-2.0, max_val=0.5)), ("Hardswish", {}), ("Mish", {}),
    ("ReLU6", dict(inplace=True)), ("Unfold", dict(kernel_size=(2, 3), padding=1, stride=2)),
    ("ZeroPad2d", dict(padding=(1, 0, 2, 1))), ("ConstantPad2d", dict(padding=2, value=-1.5)),
    ("ReflectionPad2d", dict(padding=(2, 1, 0, 3))), ("ReplicationPad2d", dict(padding=1)),
    ("Dropout2d", dict(p=0.3)),     # in eval mode: the identity
]


@pytest.mark.parametrize("name, kwargs", LAYERS, ids=lambda v: v if isinstance(v, str) else "")
def test_layers_match_torch(torch, name, kwargs):
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    ours.eval(), theirs.eval()
    compare(torch, ours, lambda t: theirs(t.clone()), X)


def test_hardsigmoid_matches_torch_to_its_float32_constant(torch):
    """torch's hardsigmoid backward multiplies by 1/6 rounded to float32, even in float64."""
    compare(torch, nn.Hardsigmoid(), torch.nn.Hardsigmoid(), X, rtol=1e-7)


@pytest.mark.parametrize("name, kwargs", [
    ("L1Loss", {}), ("L1Loss", dict(reduction="sum")), ("SmoothL1Loss", dict(beta=0.5)),
    ("HuberLoss", dict(delta=0.7, reduction="none")), ("KLDivLoss", dict(reduction="batchmean")),
    ("KLDivLoss", dict(log_target=True, reduction="sum")),
], ids=lambda v: v if isinstance(v, str) else "-".join(map(str, v.values())))
def test_losses_match_torch(torch, name, kwargs):
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    inputs = (X, Y) if name != "KLDivLoss" else (X, np.abs(Y) + 0.1)
    compare(torch, ours, theirs, *inputs)


def test_similarity_distance_and_fold_layers_match_torch(torch):
    compare(torch, nn.CosineSimilarity(-1), torch.nn.CosineSimilarity(-1), X, Y[:1])
    compare(torch, nn.PairwiseDistance(3.0, keepdim=True), torch.nn.PairwiseDistance(3.0,
                                                                                     keepdim=True),
            X, Y)
    cols = np.random.default_rng(3).standard_normal((2, 12, 8))
    compare(torch, nn.Fold((5, 6), (2, 3), stride=(1, 2)),
            torch.nn.Fold((5, 6), (2, 3), stride=(1, 2)), cols)


def test_zero_vectors_give_finite_gradients_like_torch(torch):
    z = np.zeros((3, 4))
    z[1] = [1.0, -2.0, 0.5, 3.0]
    other = np.random.default_rng(4).standard_normal((3, 4))
    compare(torch, lambda a: F.normalize(a), lambda a: torch.nn.functional.normalize(a), z)
    compare(torch, lambda a: F.normalize(a, float("inf"), 0),
            lambda a: torch.nn.functional.normalize(a, float("inf"), 0), z + other)
    compare(torch, F.cosine_similarity, torch.nn.functional.cosine_similarity, z, other)
    compare(torch, F.pairwise_distance, torch.nn.functional.pairwise_distance, z, z - 1e-6)


@pytest.mark.parametrize("name", ["elu", "selu", "celu", "mish", "hardswish", "hardtanh",
                                  "relu6"])
def test_activations_at_extreme_values_and_kinks(torch, name):
    """Huge inputs stay finite, and at the kinks (0, +-1, +-3, 6) the gradient is PyTorch's."""
    x = np.array([-1e4, -700.0, -50.0, -3.0, -1.0, 0.0, 1.0, 3.0, 6.0, 50.0, 800.0, 1e4])
    compare(torch, getattr(F, name), getattr(torch.nn.functional, name), x)


def test_kl_div_at_zero_targets_matches_torch(torch):
    t = np.array([[0.0, 0.3, 0.7], [0.5, 0.5, 0.0]])
    logp = np.log(np.array([[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]]))
    ours = F.kl_div(mg.tensor(logp, requires_grad=True), mg.tensor(t), reduction="batchmean")
    theirs = torch.nn.functional.kl_div(torch.tensor(logp), torch.tensor(t),
                                        reduction="batchmean")
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)


def test_dropout2d_zeros_whole_channels_and_scales_the_rest():
    mg.manual_seed(0)
    x = mg.tensor(np.random.default_rng(0).uniform(1, 2, (8, 50, 3, 4)), requires_grad=True)
    y = F.dropout2d(x, p=0.25)
    kept = (y.numpy() != 0).reshape(8, 50, -1)
    assert np.all(kept.min(-1) == kept.max(-1)), "a channel was partly dropped"
    mask = kept[..., :1, None].reshape(8, 50, 1, 1) / 0.75
    np.testing.assert_allclose(y.numpy(), x.numpy() * mask, rtol=1e-15)
    dropped = 1 - np.mean(kept)                   # 400 channels: binomial sd about 0.022
    assert 0.25 - 0.11 < dropped < 0.25 + 0.11
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(mask, x.shape))
    mg.manual_seed(0)
    again = F.dropout2d(x.detach(), p=0.25)
    np.testing.assert_array_equal(again.numpy(), y.detach().numpy())
    m = nn.Dropout2d(0.25)
    assert m(x) is not x and m.eval()(x) is x
    assert np.all(F.dropout2d(x, 1.0).numpy() == 0)


def test_layer_arguments_are_checked():
    with pytest.raises(ValueError, match="Hardtanh: max_val"):
        nn.Hardtanh(1.0, -1.0)
    with pytest.raises(ValueError, match="Dropout2d: p"):
        nn.Dropout2d(2.0)
    with pytest.raises(ValueError, match=r"ZeroPad2d: padding .* \(1, 2\)"):
        nn.ZeroPad2d((1, 2))
    with pytest.raises(ValueError, match=r"reflect.*\(1, 1, 2, 2\)"):
        nn.ReflectionPad2d(2)(mg.ones(1, 1, 2, 2))
    with pytest.raises(ValueError, match="smooth_l1_loss: beta"):
        nn.SmoothL1Loss(beta=-1.0)(mg.ones(2), mg.ones(2))
    with pytest.raises(ValueError, match="kl_div: reduction .*'avg'"):
        nn.KLDivLoss("avg")(mg.ones(2), mg.ones(2))
