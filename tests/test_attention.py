"""Attention, normalisation, smooth activations and upsampling: float64 finite differences, PyTorch
parity forward and backward (hypothesis shapes for the functional ops, weights copied from the
torch module for the layers) and error messages that name the op and the shapes."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import nn
from conftest import gallery_script, require
from minigrad.functions import sliding_window_add
from nn import functional as F

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)


def arrays(*shapes, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) * scale for s in shapes]


def grads(fn, arrays_, upstream):
    """fn's output and the gradients of <output, upstream> in every input (zeros where unused)."""
    xs = [mg.tensor(a, requires_grad=True) for a in arrays_]
    y = fn(*xs)
    y.backward(mg.tensor(upstream(y.shape)))
    return y.numpy(), [np.zeros(a.shape) if x.grad is None else x.grad.numpy()
                       for a, x in zip(arrays_, xs)]


def assert_matches_torch(fn, torch_fn, arrays_, atol=1e-9, rtol=1e-7):
    """minigrad and PyTorch agree in float64 on the output and on every input's gradient, for a
    random upstream gradient."""
    torch = require("torch")
    rng = np.random.default_rng(1)
    ts = [torch.tensor(a, requires_grad=True) for a in arrays_]
    ty = torch_fn(*ts)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    y, gs = grads(fn, arrays_, lambda shape: g)
    np.testing.assert_allclose(y, ty.detach().numpy(), atol=atol, rtol=rtol)
    for a, t, got in zip(arrays_, ts, gs):
        expected = np.zeros(a.shape) if t.grad is None else t.grad.numpy()
        np.testing.assert_allclose(got, expected, atol=atol, rtol=rtol)


def TF():
    return require("torch").nn.functional


# ---- functional ops: finite differences ---------------------------------------------------------

GRADCHECK = [
    ("gelu", lambda x: F.gelu(x), [(2, 5)]),
    ("gelu_tanh", lambda x: F.gelu(x, "tanh"), [(2, 5)]),
    ("silu", F.silu, [(3, 4)]),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (3, 4), w, b), [(2, 3, 4), (3, 4), (3, 4)]),
    ("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b), [(2, 4, 3), (4,), (4,)]),
    ("sdpa", F.scaled_dot_product_attention, [(2, 3, 4), (2, 5, 4), (2, 5, 3)]),
    ("sdpa_causal", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
     [(2, 4, 3), (2, 4, 3), (2, 4, 2)]),
    ("interpolate_bilinear", lambda x: F.interpolate(x, size=(5, 3), mode="bilinear"),
     [(1, 2, 3, 4)]),
    ("interpolate_nearest", lambda x: F.interpolate(x, scale_factor=2), [(1, 2, 2, 3)]),
    ("conv_transpose2d", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                            output_padding=1, groups=2),
     [(1, 4, 3, 3), (4, 2, 3, 3), (4,)]),
]


@pytest.mark.parametrize("name, fn, shapes", GRADCHECK, ids=[c[0] for c in GRADCHECK])
def test_gradcheck(name, fn, shapes):
    xs = [mg.tensor(a, requires_grad=True) for a in arrays(*shapes, seed=2)]
    assert mg.gradcheck(fn, xs, atol=1e-6, rtol=1e-5)


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    """<conv2d(x, w), y> == <x, conv_transpose2d(y, w)> for the same stride, padding, dilation
    and groups, with output_padding giving back x's size."""
    x, w = arrays((2, 4, 9, 8), (6, 2, 3, 2), seed=3)
    conv = F.conv2d(mg.tensor(x), mg.tensor(w), stride=2, padding=1, dilation=(1, 2), groups=2)
    y = np.random.default_rng(4).standard_normal(conv.shape)
    back = F.conv_transpose2d(mg.tensor(y), mg.tensor(w), stride=2, padding=1, output_padding=(0, 1),
                              dilation=(1, 2), groups=2)
    assert back.shape == x.shape
    np.testing.assert_allclose((conv.numpy() * y).sum(), (x * back.numpy()).sum(), rtol=1e-12)


# ---- functional ops: PyTorch on hypothesis shapes ------------------------------------------------

dims = st.integers(1, 4)


@SETTINGS
@given(st.lists(dims, min_size=1, max_size=4), st.sampled_from(["none", "tanh"]))
def test_gelu_and_silu_match_torch(shape, approximate):
    (x,) = arrays(tuple(shape), scale=3)
    assert_matches_torch(lambda t: F.gelu(t, approximate), lambda t: TF().gelu(t, approximate=
                                                                                 approximate),
                         [x], atol=1e-6 if approximate == "none" else 1e-9)
    assert_matches_torch(F.silu, TF().silu, [x])


def test_exact_gelu_is_float32_accurate():
    torch = require("torch")
    x = np.linspace(-12, 12, 100_001, dtype=np.float32)
    ours = F.gelu(mg.tensor(x)).numpy()
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, TF().gelu(torch.tensor(x)).numpy(), atol=2e-6, rtol=2e-7)


@SETTINGS
@given(st.lists(dims, min_size=1, max_size=4), st.integers(1, 3), st.booleans())
def test_layer_norm_matches_torch(shape, trailing, affine):
    shape = tuple(shape)
    norm = shape[max(0, len(shape) - trailing):]
    x, w, b = arrays(shape, norm, norm, seed=len(shape))
    if affine:
        assert_matches_torch(lambda x, w, b: F.layer_norm(x, norm, w, b, 1e-3),
                             lambda x, w, b: TF().layer_norm(x, norm, w, b, 1e-3), [x, w, b])
    else:
        assert_matches_torch(lambda x: F.layer_norm(x, norm), lambda x: TF().layer_norm(x, norm),
                             [x])


@SETTINGS
@given(st.integers(1, 3), st.sampled_from([(1, 1), (2, 2), (2, 4), (3, 6), (6, 6)]),
       st.lists(dims, max_size=2))
def test_group_norm_matches_torch(N, groups_channels, rest):
    G, C = groups_channels
    x, w, b = arrays((N, C, *rest), (C,), (C,), seed=C)
    if x[0].size // G < 2:       # one value per group: torch refuses some of these
        return
    assert_matches_torch(lambda x, w, b: F.group_norm(x, G, w, b),
                         lambda x, w, b: TF().group_norm(x, G, w, b), [x, w, b])


@SETTINGS
@given(st.lists(dims, max_size=2), dims, dims, dims, dims,
       st.sampled_from(["none", "bool", "float", "causal", "bool_broadcast"]))
def test_sdpa_matches_torch(batch, L, S, E, Ev, mask_kind):
    torch = require("torch")
    batch = tuple(batch)
    if mask_kind == "causal":
        S = L
    q, k, v = arrays(batch + (L, E), batch + (S, E), batch + (S, Ev), seed=L * S)
    rng = np.random.default_rng(E)
    mask = {"bool": rng.random((L, S)) > 0.4, "float": rng.standard_normal(batch + (L, S)),
            "bool_broadcast": rng.random((1, S)) > 0.3}.get(mask_kind)  # may mask whole rows
    kwargs = {"is_causal": True} if mask_kind == "causal" else {}
    assert_matches_torch(
        lambda q, k, v: F.scaled_dot_product_attention(
            q, k, v, None if mask is None else mg.tensor(mask), **kwargs),
        lambda q, k, v: TF().scaled_dot_product_attention(
            q, k, v, None if mask is None else torch.tensor(mask), **kwargs), [q, k, v])


def test_sdpa_scale_and_dropout():
    q, k, v = arrays((2, 3, 4), (2, 5, 4), (2, 5, 2))
    assert_matches_torch(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, scale=0.3),
                         lambda q, k, v: TF().scaled_dot_product_attention(q, k, v, scale=0.3),
                         [q, k, v])
    mg.manual_seed(0)
    dropped = F.scaled_dot_product_attention(*map(mg.tensor, (q, k, v)), dropout_p=0.5).numpy()
    plain = F.scaled_dot_product_attention(*map(mg.tensor, (q, k, v))).numpy()
    assert dropped.shape == plain.shape and not np.allclose(dropped, plain)


@SETTINGS
@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 5), st.integers(1, 5),
       st.sampled_from(["nearest", "bilinear", "bilinear_corners"]),
       st.one_of(st.tuples(st.integers(1, 7), st.integers(1, 7)),
                 st.sampled_from([2, 3, 0.5, (1.5, 2.5), (0.7, 1.0)])))
def test_interpolate_matches_torch(N, C, H, W, mode, target):
    (x,) = arrays((N, C, H, W), seed=H * W)
    align = True if mode == "bilinear_corners" else None
    mode = mode.replace("_corners", "")
    key = "size" if isinstance(target, tuple) and all(type(t) is int for t in target) else \
        "scale_factor"
    factors = target if isinstance(target, tuple) else (target, target)
    if key == "scale_factor" and min(int(n * f) for n, f in zip((H, W), factors)) < 1:
        return
    kw = {key: target, "mode": mode, "align_corners": align}
    assert_matches_torch(lambda x: F.interpolate(x, **kw), lambda x: TF().interpolate(x, **kw),
                         [x])


def test_interpolate_3d_matches_torch():
    (x,) = arrays((2, 3, 5))
    for kw in ({"size": 8, "mode": "linear"}, {"scale_factor": 3}, {"size": 3, "mode": "linear",
                                                                    "align_corners": True}):
        assert_matches_torch(lambda x: F.interpolate(x, **kw), lambda x: TF().interpolate(x, **kw),
                             [x])


@SETTINGS
@given(st.integers(1, 2), st.sampled_from([1, 2]), st.integers(1, 4), st.integers(1, 4),
       st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2),
       st.integers(1, 2), st.booleans())
def test_conv_transpose2d_matches_torch(N, groups, H, W, KH, KW, stride, padding, dilation, bias):
    out_padding = min(stride, dilation) - 1 if max(stride, dilation) > 1 else 0
    full = [(n - 1) * stride + dilation * (k - 1) + 1 for n, k in ((H, KH), (W, KW))]
    if min(full) + out_padding <= 2 * padding:
        return
    x, w, b = arrays((N, 2 * groups, H, W), (2 * groups, 3, KH, KW), (3 * groups,), seed=H + W)
    args = (stride, padding, out_padding, groups, dilation)
    if bias:
        assert_matches_torch(lambda x, w, b: F.conv_transpose2d(x, w, b, *args),
                             lambda x, w, b: TF().conv_transpose2d(x, w, b, *args), [x, w, b])
    else:
        assert_matches_torch(lambda x, w: F.conv_transpose2d(x, w, None, *args),
                             lambda x, w: TF().conv_transpose2d(x, w, None, *args), [x, w])


# ---- errors name the op and the shapes ----------------------------------------------------------

T = mg.zeros


@pytest.mark.parametrize("thunk, words", [
    (lambda: F.gelu(T(2), "fast"), ["gelu", "'fast'"]),
    (lambda: F.layer_norm(T(2, 3), (2,)), ["layer_norm", "(2,)", "(2, 3)"]),
    (lambda: F.layer_norm(T(2, 3), 3, T(2)), ["layer_norm", "weight", "(3,)", "(2,)"]),
    (lambda: F.group_norm(T(2, 6, 3), 4), ["group_norm", "4", "(2, 6, 3)"]),
    (lambda: F.group_norm(T(2, 6), 3, T(3)), ["group_norm", "weight", "(6,)", "(3,)"]),
    (lambda: F.scaled_dot_product_attention(T(2, 3, 4), T(2, 5, 3), T(2, 5, 3)),
     ["scaled_dot_product_attention", "(2, 3, 4)", "(2, 5, 3)"]),
    (lambda: F.scaled_dot_product_attention(T(3, 4), T(5, 4), T(5, 2), mg.ones(3, 4)),
     ["attn_mask", "(3, 4)", "(3, 5)"]),
    (lambda: F.scaled_dot_product_attention(T(3, 4), T(3, 4), T(3, 2), mg.ones(3, 3),
                                            is_causal=True), ["attn_mask", "is_causal"]),
    (lambda: F.interpolate(T(1, 2, 3), size=4, mode="bilinear"), ["interpolate", "bilinear",
                                                                  "(1, 2, 3)"]),
    (lambda: F.interpolate(T(1, 2, 3, 3), size=4, scale_factor=2), ["interpolate", "one of"]),
    (lambda: F.interpolate(T(1, 2, 3, 3)), ["interpolate", "one of"]),
    (lambda: F.interpolate(T(1, 2, 3, 3), scale_factor=0.2), ["interpolate", "(0, 0)"]),
    (lambda: F.conv_transpose2d(T(1, 3, 4, 4), T(4, 2, 3, 3)), ["conv_transpose2d", "3 channels",
                                                                 "(4, 2, 3, 3)"]),
    (lambda: F.conv_transpose2d(T(1, 4, 4, 4), T(4, 2, 3, 3), T(3)), ["bias", "(2,)", "(3,)"]),
    (lambda: F.conv_transpose2d(T(1, 4, 4, 4), T(4, 2, 3, 3), stride=2, output_padding=2),
     ["output_padding", "(2, 2)", "stride"]),
    (lambda: F.conv_transpose2d(T(1, 4, 1, 1), T(4, 2, 1, 1), padding=1), ["padding",
                                                                          "(1, 4, 1, 1)"]),
    (lambda: sliding_window_add(T(2, 2, 3, 2, 2), (2, 4, 4), (1, 2)),
     ["sliding_window_add", "(2, 2, 3, 2, 2)", "(2, 4, 4)"]),
    (lambda: nn.MultiheadAttention(6, 4), ["MultiheadAttention", "embed_dim=6", "num_heads=4"]),
    (lambda: nn.MultiheadAttention(4, 2)(T(3, 1, 5), T(3, 1, 5), T(3, 1, 5)),
     ["MultiheadAttention", "(3, 1, 5)", "embed_dim=4"]),
    (lambda: nn.MultiheadAttention(4, 2)(T(3, 2, 4), T(5, 2, 4), T(5, 2, 4),
                                         key_padding_mask=mg.ones(2, 3) > 0),
     ["key_padding_mask", "(2, 3)", "(2, 5)"]),
    (lambda: nn.MultiheadAttention(4, 2)(T(3, 2, 4), T(5, 2, 4), T(5, 2, 4),
                                         attn_mask=mg.ones(3, 3) > 0), ["attn_mask", "(3, 5)"]),
    (lambda: nn.TransformerEncoderLayer(4, 2, activation="swish"), ["activation", "'swish'"]),
    (lambda: nn.GroupNorm(4, 6), ["GroupNorm", "num_channels=6", "num_groups=4"]),
    (lambda: nn.GroupNorm(2, 4)(T(2, 3, 5)), ["GroupNorm", "(2, 3, 5)", "(N, 4, ...)"]),
    (lambda: nn.ConvTranspose2d(4, 3, 3, groups=2), ["ConvTranspose2d", "out_channels=3"]),
    (lambda: nn.ConvTranspose2d(4, 2, 3)(T(1, 3, 5, 5)), ["ConvTranspose2d", "(1, 3, 5, 5)"]),
    (lambda: nn.Unflatten(1, (2, 3))(T(4, 5)), ["Unflatten", "(4, 5)", "(2, 3)"]),
    (lambda: nn.GELU("fast"), ["GELU", "'fast'"]),
])
def test_errors_name_the_op_and_shapes(thunk, words):
    with pytest.raises((ValueError, TypeError)) as e:
        thunk()
    for word in words:
        assert word in str(e.value), f"{word!r} not in {str(e.value)!r}"


def test_the_attention_pictures_script_draws_every_picture(tmp_path):
    pictures, committed = gallery_script("attention", "make_attention.py", out_dir=tmp_path)
    for make in (pictures.attention_expanded, pictures.gpt_block, pictures.encoder_layer):
        make()
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == committed
    assert "scaled_dot_product_attention" in (tmp_path / "gpt_block.svg").read_text()
    assert "self_attn" in (tmp_path / "encoder_layer.svg").read_text()
