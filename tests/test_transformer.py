"""Attention, Transformer, normalisation and upsampling layers against torch.nn: the torch module's
state_dict loads unchanged, and with its weights the outputs and the gradients of the inputs and
of every parameter agree in float64; finite differences on small cases."""
import numpy as np
import pytest

import minigrad as mg
import nn
from conftest import require

E, H = 8, 2


def pair(make):
    """(minigrad module, torch module) from make(namespace), the torch weights copied over, both
    float64 and in eval mode."""
    torch = require("torch")
    torch.manual_seed(0)
    ours, theirs = make(nn), make(torch.nn)
    state = theirs.state_dict()
    assert list(ours.state_dict()) == list(state), "parameter names or order differ from torch's"
    ours.load_state_dict({k: mg.tensor(v.numpy().astype(np.float64)) for k, v in state.items()})
    return ours.double().eval(), theirs.double().eval()


def check(make, inputs, out=lambda o: o, atol=1e-9, **kwargs):
    """Forward and backward (a random upstream gradient) agree with torch for the inputs, every
    parameter and the outputs; kwargs are masks given as numpy arrays."""
    torch = require("torch")
    ours, theirs = pair(make)
    xs = [mg.tensor(a, requires_grad=True) for a in inputs]
    ts = [torch.tensor(a, requires_grad=True) for a in inputs]
    y = out(ours(*xs, **{k: mg.tensor(v) if isinstance(v, np.ndarray) else v
                         for k, v in kwargs.items()}))
    ty = out(theirs(*ts, **{k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                            for k, v in kwargs.items()}))
    g = np.random.default_rng(1).standard_normal(tuple(ty.shape))
    y.backward(mg.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), atol=atol, rtol=1e-7)
    named = dict(theirs.named_parameters())
    pairs = list(zip(xs, ts)) + [(p, named[n]) for n, p in ours.named_parameters()]
    for a, t in pairs:
        expected = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        got = np.zeros(a.shape) if a.grad is None else a.grad.numpy()
        np.testing.assert_allclose(got, expected, atol=atol, rtol=1e-6)


def randn(*shape, seed=0):
    return np.random.default_rng(seed + len(shape)).standard_normal(shape)


X, K = randn(5, 3, E), randn(6, 3, E, seed=1)          # (L, N, E) and (S, N, E)


def batch_first(a):
    return np.ascontiguousarray(a.swapaxes(0, 1))


@pytest.mark.parametrize("case", ["plain", "weights_per_head", "bool_masks", "float_3d_mask",
                                  "batch_first", "unbatched", "no_bias", "causal"])
def test_multihead_attention(case):
    rng = np.random.default_rng(2)
    attn = rng.random((5, 6)) > 0.5
    attn[:, 0] = False                      # every query keeps one key
    padding = np.zeros((3, 6), bool)
    padding[1, 3:] = True
    q, k, kwargs, first = X, K, {}, lambda o: o[0]
    options = {}
    if case == "weights_per_head":
        kwargs, first = {"average_attn_weights": False}, lambda o: o[1]
    elif case == "bool_masks":
        kwargs = {"attn_mask": attn, "key_padding_mask": padding}
    elif case == "float_3d_mask":
        kwargs, first = {"attn_mask": rng.standard_normal((3 * H, 5, 6))}, lambda o: o[1]
    elif case == "batch_first":
        options, q, k = {"batch_first": True}, batch_first(X), batch_first(K)
        kwargs = {"key_padding_mask": rng.standard_normal((3, 6))}
    elif case == "unbatched":
        q, k = X[:, 0], K[:, 0]
    elif case == "no_bias":
        options = {"bias": False}
    elif case == "causal":
        q = k = X
        kwargs = {"attn_mask": np.triu(np.ones((5, 5), bool), 1), "need_weights": False}
    check(lambda ns: ns.MultiheadAttention(E, H, **options), [q, k, k], first, **kwargs)


def test_multihead_attention_returns_averaged_weights_and_none():
    ours, _ = pair(lambda ns: ns.MultiheadAttention(E, H))
    out, weights = ours(*map(mg.tensor, (X, K, K)))
    assert out.shape == (5, 3, E) and weights.shape == (3, 5, 6)
    np.testing.assert_allclose(weights.numpy().sum(-1), 1.0, rtol=1e-12)
    assert ours(*map(mg.tensor, (X, K, K)), need_weights=False)[1] is None


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_and_decoder_layers(norm_first, activation):
    atol = 1e-9 if activation == "relu" else 1e-5      # gelu's erf is float32-accurate
    options = dict(dim_feedforward=16, activation=activation, norm_first=norm_first)
    check(lambda ns: ns.TransformerEncoderLayer(E, H, **options), [X], atol=atol)
    mask = np.triu(np.full((5, 5), -np.inf), 1)
    check(lambda ns: ns.TransformerDecoderLayer(E, H, **options), [X, K], atol=atol,
          tgt_mask=mask)


def test_encoder_stack_with_masks_and_final_norm():
    def make(ns):
        layer = ns.TransformerEncoderLayer(E, H, 16, batch_first=True)
        extra = {} if ns is nn else {"enable_nested_tensor": False}
        return ns.TransformerEncoder(layer, 2, norm=ns.LayerNorm(E), **extra)
    padding = np.zeros((3, 5))
    padding[2, 1:] = -np.inf
    check(make, [batch_first(X)], mask=np.triu(np.full((5, 5), -np.inf), 1),
          src_key_padding_mask=padding)


def test_encoder_layer_callable_activation_and_layer_copies_are_independent():
    torch = require("torch")
    check(lambda ns: ns.TransformerEncoderLayer(E, H, 16, activation=(
        nn.functional.silu if ns is nn else torch.nn.functional.silu)), [X])
    stack = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H, 16), 2)
    a, b = stack.layers[0].linear1.weight, stack.layers[1].linear1.weight
    assert a is not b and np.array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("make, shape", [
    (lambda ns: ns.LayerNorm((4, 5)), (2, 3, 4, 5)),
    (lambda ns: ns.LayerNorm(5, elementwise_affine=False), (2, 5)),
    (lambda ns: ns.LayerNorm(5, bias=False), (3, 5)),
    (lambda ns: ns.GroupNorm(2, 4), (2, 4, 3, 3)),
    (lambda ns: ns.GroupNorm(4, 4, affine=False), (2, 4, 5)),
    (lambda ns: ns.GELU(), (3, 7)),
    (lambda ns: ns.GELU("tanh"), (3, 7)),
    (lambda ns: ns.SiLU(), (3, 7)),
    (lambda ns: ns.Softplus(), (3, 7)),
    (lambda ns: ns.Softplus(beta=2.0, threshold=3.0), (3, 7)),
    (lambda ns: ns.Unflatten(1, (2, 3)), (4, 6, 2)),
    (lambda ns: ns.Unflatten(-1, (2, -1)), (4, 6)),
    (lambda ns: ns.ConvTranspose2d(4, 6, 3), (2, 4, 5, 5)),
    (lambda ns: ns.ConvTranspose2d(4, 6, (3, 2), stride=2, padding=1, output_padding=1, groups=2,
                                   dilation=(1, 2), bias=False), (2, 4, 4, 5)),
    (lambda ns: ns.ConvTranspose2d(3, 2, 4, stride=2, padding=1), (2, 3, 7, 7)),
    (lambda ns: ns.Upsample(scale_factor=2), (2, 3, 4, 5)),
    (lambda ns: ns.Upsample(size=(7, 3), mode="bilinear"), (2, 3, 4, 5)),
    (lambda ns: ns.Upsample(scale_factor=1.5, mode="bilinear", align_corners=True), (1, 2, 4, 4)),
])
def test_layers(make, shape):
    scale = 6.0 if "Softplus" in repr(make(nn)) else 1.0      # reach past the threshold
    atol = 1e-6 if repr(make(nn)).startswith("GELU(approximate='none')") else 1e-9
    check(make, [randn(*shape) * scale], atol=atol)


def test_repr_shows_the_configuration():
    assert repr(nn.LayerNorm(4)) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True)"
    assert "embed_dim=8, num_heads=2" in repr(nn.MultiheadAttention(8, 2))
    assert "stride=(2, 2)" in repr(nn.ConvTranspose2d(2, 3, 4, stride=2))


@pytest.mark.parametrize("make, shapes", [
    (lambda: nn.MultiheadAttention(4, 2).double(), [(3, 2, 4), (5, 2, 4), (5, 2, 4)]),
    (lambda: nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0).double(), [(3, 2, 4)]),
    (lambda: nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0, norm_first=True).double(),
     [(3, 2, 4), (2, 2, 4)]),
    (lambda: nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1, output_padding=1).double(),
     [(1, 2, 3, 3)]),
])
def test_gradcheck(make, shapes):
    mg.manual_seed(0)
    module = make()
    first = (lambda o: o[0]) if isinstance(module, nn.MultiheadAttention) else (lambda o: o)
    xs = [mg.tensor(randn(*s, seed=i), requires_grad=True) for i, s in enumerate(shapes)]
    assert mg.gradcheck(lambda *a: first(module(*a)), xs, atol=1e-6, rtol=1e-5)


def test_dropout_trains_and_eval_is_deterministic():
    layer = nn.TransformerEncoderLayer(E, H, 16, dropout=0.5)
    x = mg.tensor(X.astype(np.float32))
    mg.manual_seed(0)
    a, b = layer(x).numpy(), layer(x).numpy()
    assert not np.allclose(a, b)
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), layer(x).numpy())
