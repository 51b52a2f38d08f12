"""nn.functional against PyTorch (values and gradients), finite differences, fast paths, errors."""
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import require
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import nn.conv as conv
import nn.functional as F

SETTINGS = settings(max_examples=20, deadline=None, derandomize=True)
TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-4, atol=1e-5)}


@pytest.fixture(scope="module")
def torch():
    return require("torch")


def check(torch, fn, torch_fn, arrays, dtype=np.float64, grad=None, rtol=None, atol=None):
    """Run fn on minigrad tensors and torch_fn on torch tensors made from `arrays`; compare the
    shape, dtype and values, then the gradients of a fixed random weighting of the output. `grad`
    lists which arrays need a gradient (default: all)."""
    tol = dict(TOL[dtype])
    tol.update({k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None})
    grad = [True] * len(arrays) if grad is None else grad
    arrays = [np.array(a, dtype) for a in arrays]
    ours = [mg.tensor(a, requires_grad=r) for a, r in zip(arrays, grad)]
    theirs = [torch.tensor(a, requires_grad=r) for a, r in zip(arrays, grad)]
    y, ty = fn(*ours), torch_fn(*theirs)
    assert y.shape == tuple(ty.shape) and y.dtype == dtype
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), **tol)
    w = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    (y * mg.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if a.requires_grad:
            assert a.grad is not None, f"no gradient for input {i}"
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), err_msg=f"input {i}", **tol)


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def op_names(t):
    """The names of the primitives in t's graph."""
    names, stack = set(), [t]
    while stack:
        op = stack.pop()._ctx
        if op is not None:
            names.add(type(op).__name__)
            stack.extend(op.inputs)
    return names



@st.composite
def conv_configs(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = draw(st.one_of(st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2)),
                             st.sampled_from(["valid", "same"])))
    stride = (1, 1) if padding == "same" else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    pads = (0, 0) if isinstance(padding, str) else (padding,) * 2 if isinstance(padding, int) \
        else padding
    size = [max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 5))
            for k, d, p in zip(kernel, dilation, pads)]
    x = (draw(st.integers(1, 2)), groups * draw(st.integers(1, 3)), *size)
    w = (groups * draw(st.integers(1, 3)), x[1] // groups, *kernel)
    return x, w, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@SETTINGS
@given(conv_configs(), st.booleans(), st.sampled_from([np.float64, np.float32]))
def test_conv2d_matches_torch(torch, config, with_bias, dtype):
    xs, ws, kw = config
    arrays = [randn(*xs), randn(*ws, seed=1)] + ([randn(ws[0], seed=2)] if with_bias else [])
    check(torch, lambda *t: F.conv2d(*t, **kw), lambda *t: torch.nn.functional.conv2d(*t, **kw),
          arrays, dtype)


def test_conv2d_depthwise_same_padding_and_batch_one(torch):
    kw = dict(padding="same", dilation=(2, 1), groups=4)
    check(torch, lambda *t: F.conv2d(*t, **kw), lambda *t: torch.nn.functional.conv2d(*t, **kw),
          [randn(1, 4, 7, 6), randn(8, 1, 4, 3, seed=1), randn(8, seed=2)])


def test_conv2d_input_without_grad(torch):
    check(torch, lambda x, w: F.conv2d(x, w, stride=2), lambda x, w: torch.nn.functional.conv2d(
        x, w, stride=2), [randn(2, 3, 9, 9), randn(5, 3, 3, 3, seed=1)], grad=[False, True])


def test_conv2d_gradcheck():
    x = mg.tensor(randn(2, 4, 5, 6), requires_grad=True)
    w = mg.tensor(randn(4, 2, 3, 2, seed=1), requires_grad=True)
    b = mg.tensor(randn(4, seed=2), requires_grad=True)
    assert mg.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, groups=2),
                        [x, w, b])


def test_second_derivatives_of_conv_pool_and_loss():
    x = mg.tensor(randn(1, 2, 4, 4), requires_grad=True)
    w = mg.tensor(randn(2, 2, 2, 2, seed=1), requires_grad=True)
    t = mg.tensor([1, 0])
    assert mg.gradgradcheck(lambda x, w: F.cross_entropy(
        F.max_pool2d(F.conv2d(x, w, padding=1), 2, 1).reshape(2, -1), t, label_smoothing=0.1),
        [x, w])


def test_conv2d_random_direction_check():
    """A bigger convolution: the gradient along a random direction against the central
    difference along it (two forward passes instead of one per element)."""
    rng = np.random.default_rng(3)
    xs = [rng.standard_normal(s) for s in [(4, 6, 12, 11), (9, 2, 3, 3), (9,)]]
    weights = rng.standard_normal((4, 9, 6, 6))

    def f(x, w, b):
        y = F.conv2d(x, w, b, stride=2, padding=(1, 2), dilation=(1, 2), groups=3)
        return (y * mg.tensor(weights)).sum()

    ts = [mg.tensor(a, requires_grad=True) for a in xs]
    f(*ts).backward()
    v = [rng.standard_normal(a.shape) for a in xs]
    h = 1e-6
    hi = f(*[mg.tensor(a + h * d) for a, d in zip(xs, v)]).item()
    lo = f(*[mg.tensor(a - h * d) for a, d in zip(xs, v)]).item()
    analytic = sum(float((t.grad.numpy() * d).sum()) for t, d in zip(ts, v))
    assert analytic == pytest.approx((hi - lo) / (2 * h), rel=1e-6)


@pytest.mark.parametrize("kernel", [1, 3])
def test_conv2d_groups_are_separate_convolutions(kernel):
    """groups=2 gives what convolving each half of the channels with its half of the filters
    gives, forward and backward."""
    x = mg.tensor(randn(3, 4, 5, 7), requires_grad=True)
    w = mg.tensor(randn(6, 2, kernel, kernel, seed=1), requires_grad=True)
    y = F.conv2d(x, w, groups=2, padding=kernel // 2)
    ref = mg.cat([F.conv2d(x[:, 2 * i:2 * i + 2], w[3 * i:3 * i + 3], padding=kernel // 2)
                  for i in range(2)], 1)
    np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=1e-12)
    g = randn(*y.shape, seed=2)
    for got, want in zip(mg.grad(y, [x, w], mg.tensor(g)), mg.grad(ref, [x, w], mg.tensor(g))):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def channels_outermost_copy(a):
    """a (N, C, H, W) as a tensor whose memory holds it as (C, H, W, N), conv2d's output layout."""
    return mg.tensor(np.ascontiguousarray(a.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2),
                     requires_grad=True)


@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d_1x1_of_nchw_memory_is_a_matmul_over_channels(groups):
    """A 1x1, stride-1 conv of an input laid out (N, C, H, W) multiplies over channels with no
    copies; the same input laid out (C, H, W, N) goes through the columns: the same numbers."""
    a = randn(3, 4, 5, 7)
    x = mg.tensor(a, requires_grad=True)
    xt = channels_outermost_copy(a)
    w = mg.tensor(randn(6, 4 // groups, 1, 1, seed=1), requires_grad=True)
    y, ref = F.conv2d(x, w, groups=groups), F.conv2d(xt, w, groups=groups)
    assert "Windows" not in op_names(y) and "Windows" in op_names(ref)
    np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=1e-12)
    g = mg.tensor(randn(*y.shape, seed=2))
    for got, want in zip(mg.grad(y, [x, w], g), mg.grad(ref, [xt, w], g)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


@pytest.mark.parametrize("padding", [0, 1])
def test_conv2d_and_pooling_keep_channels_outermost_memory(padding):
    """conv2d leaves its output laid out as (C, H, W, N), pooling keeps that layout, and either
    layout of the input gives the same values and gradients."""
    a = randn(4, 3, 8, 8)
    x = mg.tensor(a, requires_grad=True)
    xt = channels_outermost_copy(a)
    assert conv._channels_outermost(xt) and not conv._channels_outermost(x)
    w = mg.tensor(randn(5, 3, 3, 3, seed=1))
    ys = [F.max_pool2d(F.conv2d(t, w, padding=padding), 2) for t in (x, xt)]
    assert all(conv._channels_outermost(y) for y in ys)
    np.testing.assert_array_equal(ys[0].numpy(), ys[1].numpy())
    g = mg.tensor(randn(*ys[0].shape, seed=2))
    gx, gxt = (mg.grad(y, [t], g)[0] for y, t in zip(ys, (x, xt)))
    np.testing.assert_array_equal(gx.numpy(), gxt.numpy())


def test_conv2d_records_its_scope():
    x = mg.randn(1, 2, 5, 5, requires_grad=True)
    y = F.conv2d(x, mg.randn(3, 2, 3, 3), mg.randn(3))
    assert [name for _, name, _ in y._ctx.scope] == ["conv2d"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(x=(8, 3, 28, 28), w=(16, 4, 3, 3)),
     "conv2d: input has 3 channels, weight expects 4 (input (8, 3, 28, 28), weight (16, 4, 3, 3))"),
    (dict(x=(8, 4, 28, 28), w=(15, 2, 3, 3), groups=2),
     "(input (8, 4, 28, 28), weight (15, 2, 3, 3))"),
    (dict(x=(1, 2, 4, 4), w=(3, 2, 5, 5)), "padded input (4, 4)"),
    (dict(x=(2, 28, 28), w=(3, 2, 5, 5)), "(2, 28, 28)"),
    (dict(x=(1, 2, 8, 8), w=(3, 2, 3, 3), b=(4,)), "(4,)"),
    (dict(x=(1, 2, 8, 8), w=(3, 2, 3, 3), stride=2, padding="same"), "stride (2, 2)"),
    (dict(x=(1, 2, 8, 8), w=(3, 2, 3, 3), stride=0), "stride"),
    (dict(x=(1, 2, 8, 8), w=(3, 2, 3, 3), padding="full"), "'full'"),
])
def test_conv2d_errors_name_shapes(kwargs, message):
    x, w = mg.zeros(kwargs.pop("x")), mg.zeros(kwargs.pop("w"))
    b = mg.zeros(kwargs.pop("b")) if "b" in kwargs else None
    with pytest.raises(ValueError) as info:
        F.conv2d(x, w, b, **kwargs)
    assert message in str(info.value)



@st.composite
def pool_configs(draw, max_dilation=1):
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    dilation = draw(st.integers(1, max_dilation))
    size = [max(1, dilation * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 6))
            for k, p in zip(kernel, padding)]
    kw = dict(kernel_size=kernel, stride=stride, padding=padding)
    return (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *size), \
        dict(kw, dilation=dilation) if max_dilation > 1 else kw


@SETTINGS
@given(pool_configs(max_dilation=2), st.sampled_from([np.float64, np.float32]))
def test_max_pool2d_matches_torch(torch, config, dtype):
    shape, kw = config
    check(torch, lambda x: F.max_pool2d(x, **kw), lambda x: torch.nn.functional.max_pool2d(x, **kw),
          [randn(*shape)], dtype)


@SETTINGS
@given(pool_configs(), st.booleans(), st.sampled_from([np.float64, np.float32]))
def test_avg_pool2d_matches_torch(torch, config, count_include_pad, dtype):
    shape, kw = config
    check(torch, lambda x: F.avg_pool2d(x, count_include_pad=count_include_pad, **kw),
          lambda x: torch.nn.functional.avg_pool2d(x, count_include_pad=count_include_pad, **kw),
          [randn(*shape)], dtype)


@pytest.mark.parametrize("shape, size", [((2, 3, 8, 6), 1), ((2, 3, 8, 6), (4, 3)),
                                         ((1, 2, 7, 5), (3, 4)), ((1, 2, 5, 9), (None, 2)),
                                         ((2, 1, 6, 6), 6)])
def test_adaptive_avg_pool2d_matches_torch(torch, shape, size):
    check(torch, lambda x: F.adaptive_avg_pool2d(x, size),
          lambda x: torch.nn.functional.adaptive_avg_pool2d(x, size), [randn(*shape)])


@pytest.mark.parametrize("size, stride, dilation", [
    ((2, 2), (2, 2), (1, 1)), ((3, 2), (3, 2), (1, 1)), ((2, 3), (3, 4), (1, 1)),   # apart
    ((2, 2), (3, 3), (2, 2)), ((3, 3), (1, 1), (1, 1)), ((2, 2), (1, 2), (2, 1)),   # ... or not
    ((2, 2), (2, 1), (2, 1))])
def test_windows_adjoint_matches_a_scatter_add(size, stride, dilation):
    """The gradient of sliding windows (WindowsAdd) equals numpy's add.at scatter, for windows that
    lie apart, leave gaps, or share elements; the scatter leaves NumPy's buffer size as it was."""
    x = mg.tensor(randn(2, 3, 9, 11), requires_grad=True)
    win = x.sliding_window(size, (2, 3), stride, dilation)        # (2, 3, OH, OW, KH, KW)
    g = randn(*win.shape, seed=1)
    expected = np.zeros(x.shape)
    for i, j, a, b in np.ndindex(*win.shape[2:]):
        h, w = i * stride[0] + a * dilation[0], j * stride[1] + b * dilation[1]
        np.add.at(expected, (slice(None), slice(None), h, w), g[:, :, i, j, a, b])
    bufsize = np.setbufsize(4096)
    try:
        np.testing.assert_allclose(mg.grad(win, x, mg.tensor(g))[0].numpy(), expected, rtol=1e-12)
        assert np.getbufsize() == 4096
    finally:
        np.setbufsize(bufsize)


def _paths_agree(fast, slow, x, op):
    """Two ways of computing one op: `op` appears only in the slow one, and both give the same
    values and the same gradient in x."""
    assert op not in op_names(fast) and op in op_names(slow)
    np.testing.assert_allclose(fast.numpy(), slow.numpy(), rtol=1e-12)
    g = mg.tensor(randn(*fast.shape, seed=1))
    np.testing.assert_allclose(mg.grad(fast, x, g)[0].numpy(), mg.grad(slow, x, g)[0].numpy(),
                               rtol=1e-12)


@pytest.mark.parametrize("shape, kernel", [((2, 3, 8, 6), 2), ((1, 2, 9, 7), (3, 2)),
                                           ((2, 2, 6, 6), 3)])
def test_pool_reshape_fast_path_agrees_with_windows(shape, kernel):
    x = mg.tensor(randn(*shape), requires_grad=True)
    k = conv._pair(kernel, "kernel_size", "test")
    for reduce in ("amax", "mean"):
        fast, slow = (getattr(conv._windows(x, k, k, (1, 1), tile=t), reduce)(0)
                      for t in (True, False))
        _paths_agree(fast, slow, x, "Windows")


def test_adaptive_matmul_path_agrees_with_reshape_path():
    x = mg.tensor(randn(2, 3, 8, 6), requires_grad=True)
    _paths_agree(F.adaptive_avg_pool2d(x, (4, 2)), conv._adaptive_matmul(x, 4, 2), x, "MatMul")


def test_pooling_gradcheck():
    x = mg.tensor(randn(2, 2, 6, 5), requires_grad=True)
    assert mg.gradcheck(lambda x: F.max_pool2d(x, 3, 2, 1), [x])
    assert mg.gradcheck(lambda x: F.avg_pool2d(x, (3, 2), 2, 1, count_include_pad=False), [x])
    assert mg.gradcheck(lambda x: F.adaptive_avg_pool2d(x, (4, 3)), [x])


@pytest.mark.parametrize("call, message", [
    (lambda: F.max_pool2d(mg.zeros(1, 1, 4, 4), 2, padding=2), "padding (2, 2)"),
    (lambda: F.max_pool2d(mg.zeros(1, 1, 2, 4), 3), "padded input (2, 4) (input (1, 1, 2, 4))"),
    (lambda: F.avg_pool2d(mg.zeros(3, 4, 4), 2), "(3, 4, 4)"),
    (lambda: F.adaptive_avg_pool2d(mg.zeros(1, 1, 4, 4), 0), "output_size"),
])
def test_pooling_errors(call, message):
    with pytest.raises(ValueError, match=None) as info:
        call()
    assert message in str(info.value)



@pytest.mark.parametrize("x_shape", [(5, 4), (4,), (2, 3, 4)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_linear_matches_torch(torch, x_shape, dtype):
    check(torch, F.linear, torch.nn.functional.linear,
          [randn(*x_shape), randn(3, 4, seed=1), randn(3, seed=2)], dtype)
    check(torch, F.linear, torch.nn.functional.linear, [randn(*x_shape), randn(3, 4, seed=1)],
          dtype)


def test_linear_errors_name_shapes():
    with pytest.raises(ValueError, match=r"input \(5, 4\) and weight \(3, 5\)"):
        F.linear(mg.zeros(5, 4), mg.zeros(3, 5))
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\), got \(4,\)"):
        F.linear(mg.zeros(5, 4), mg.zeros(3, 4), mg.zeros(4))
    with pytest.raises(TypeError, match="input must be a Tensor"):
        F.linear(np.zeros((5, 4)), mg.zeros(3, 4))


@pytest.mark.parametrize("name, args", [("relu", ()), ("leaky_relu", ()), ("leaky_relu", (0.2,)),
                                        ("sigmoid", ()), ("tanh", ()), ("softmax", (0,)),
                                        ("softmax", (-1,)), ("log_softmax", (1,))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_activations_match_torch(torch, name, args, dtype):
    x = randn(4, 5) * 3
    x[np.abs(x) < 1e-3] = 0.5                          # away from the kink at 0
    check(torch, lambda t: getattr(F, name)(t, *args),
          lambda t: getattr(torch.nn.functional, name)(t, *args), [x], dtype)


def test_relu_at_zero_and_infinity_like_torch(torch):
    x = np.array([-2.0, 0.0, 3.0, np.inf, -0.0])
    check(torch, F.relu, torch.nn.functional.relu, [x])
    check(torch, lambda t: F.leaky_relu(t, 0.1), lambda t: torch.nn.functional.leaky_relu(t, 0.1),
          [x])


SPECIAL = np.array([-np.inf, -1e4, -1.0, -0.0, 0.0, 1.0, 1e4, np.inf, np.nan])


def values_and_grads(fn, x):
    """fn's values and the gradient of their sum, for a minigrad or a torch tensor."""
    with np.errstate(invalid="ignore", divide="ignore"):
        y = fn(x)
        y.backward(y * 0 + 3.0)
    return np.asarray(y.detach().numpy()), np.asarray(x.grad.numpy())


def assert_same(actual, expected, **tol):
    """Values equal up to `tol`, nan where expected has nan, and the sign of every zero."""
    np.testing.assert_allclose(actual, expected, equal_nan=True, **tol)
    zero = expected == 0
    assert np.array_equal(np.signbit(actual[zero]), np.signbit(expected[zero])), (actual, expected)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_one_relu_with_torch_values_at_inf_nan_and_signed_zero(torch, dtype):
    for ours in (lambda t: t.relu(), F.relu, lambda t: nn_layers().ReLU()(t)):
        y, g = values_and_grads(ours, mg.tensor(SPECIAL.astype(dtype), requires_grad=True))
        ty, tg = values_and_grads(torch.relu, torch.tensor(SPECIAL.astype(dtype), requires_grad=True))
        assert_same(y, ty, rtol=0, atol=0)
        assert_same(g, tg, rtol=0, atol=0)           # 0 at 0 and -0.0, g at nan


def nn_layers():
    import nn
    return nn


TAILS = {np.float64: np.array([-708.0, -700.0, -60.0, -40.0, -17.0, -1e-300, 0.0, 5e-324, 2.0,
                               17.0, 40.0, 700.0]),
         np.float32: np.array([-80.0, -87.0, -60.0, -40.0, -17.0, -1e-38, 0.0, 1e-45, 2.0, 17.0,
                               40.0, 87.0])}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_keeps_relative_precision_in_both_tails(torch, dtype):
    """Against torch in value; the gradient against sigmoid(x) * sigmoid(-x) in float64, since
    torch's y * (1 - y) rounds to 0 in the right tail (1 - y is 0 once y rounds to 1)."""
    x = TAILS[dtype].astype(dtype)
    y, g = values_and_grads(lambda t: t.sigmoid(), mg.tensor(x, requires_grad=True))
    ty, tg = values_and_grads(torch.sigmoid, torch.tensor(x, requires_grad=True))
    tol = dict(rtol=1e-14 if dtype == np.float64 else 2e-6, atol=0)
    assert_same(y, ty, **tol)
    exact = 3 / (1 + np.exp(-x.astype(np.float64))) / (1 + np.exp(x.astype(np.float64)))
    np.testing.assert_allclose(g, exact.astype(dtype), **tol)
    left = x < 0
    np.testing.assert_allclose(g[left], tg[left], **tol)


def test_binary_cross_entropy_of_sigmoid_at_logit_minus_60_is_torchs(torch):
    logits, target = np.array([-60.0, -40.0, 60.0]), np.array([1.0, 1.0, 0.0])
    for dtype in (np.float64, np.float32):
        ours = F.binary_cross_entropy(mg.tensor(logits.astype(dtype)).sigmoid(),
                                      mg.tensor(target.astype(dtype)), reduction="none")
        theirs = torch.nn.functional.binary_cross_entropy(
            torch.tensor(logits.astype(dtype)).sigmoid(), torch.tensor(target.astype(dtype)),
            reduction="none")
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
        assert ours.numpy()[0] == pytest.approx(60.0, rel=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, ours, theirs", [
    ("logsigmoid", F.logsigmoid, "logsigmoid"),
    ("log_of_sigmoid", lambda t: t.sigmoid().log(), "logsigmoid"),
    ("softplus", F.softplus, "softplus"),
    ("softplus_beta", lambda t: F.softplus(t, beta=2.0, threshold=5.0),
     lambda t: __import__("torch").nn.functional.softplus(t, beta=2.0, threshold=5.0)),
    ("softplus_beta_half", lambda t: F.softplus(t, 0.5), lambda t: __import__(
        "torch").nn.functional.softplus(t, 0.5))])
def test_logsigmoid_and_softplus_are_exact_in_both_tails(torch, dtype, name, ours, theirs):
    theirs = getattr(torch.nn.functional, theirs) if isinstance(theirs, str) else theirs
    x = np.concatenate([TAILS[dtype], SPECIAL]).astype(dtype)
    if name == "log_of_sigmoid":      # the left tail, down to where sigmoid leaves the normal
        x = x[(x >= -80) & (x < 1)]   # floats (the right tail rounds to 1, whose log is 0)
    y, g = values_and_grads(ours, mg.tensor(x, requires_grad=True))
    ty, tg = values_and_grads(theirs, torch.tensor(x, requires_grad=True))
    tol = dict(rtol=1e-13 if dtype == np.float64 else 2e-6, atol=0)
    assert_same(y, ty, **tol)
    np.testing.assert_allclose(g, tg, equal_nan=True, **tol)


def test_softplus_and_logsigmoid_gradcheck():
    x = mg.tensor(randn(3, 4) * 3 + 0.05, requires_grad=True)
    for fn in (F.softplus, F.logsigmoid, lambda t: F.softplus(t, 2.0, 3.0)):
        assert mg.gradcheck(fn, [x]) and mg.gradgradcheck(fn, [x])


def test_activations_gradcheck():
    x = mg.tensor(randn(3, 4) + 0.05, requires_grad=True)
    for fn in (F.relu, F.leaky_relu, F.sigmoid, F.tanh, lambda t: F.softmax(t, 0),
               lambda t: F.log_softmax(t, 1)):
        assert mg.gradcheck(fn, [x])



@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5, 2), (6, 3, 4)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batch_norm_matches_torch_train_and_eval(torch, shape, dtype):
    C = shape[1]
    rm, rv = mg.zeros(C, dtype=dtype), mg.ones(C, dtype=dtype)
    trm, trv = torch.zeros(C, dtype=torch.float64 if dtype == np.float64 else torch.float32), None
    trv = torch.ones_like(trm)
    for step in range(3):                               # running stats follow torch's
        x = randn(*shape, seed=step) * 2 + 1
        check(torch, lambda x, w, b: F.batch_norm(x, rm, rv, w, b, True, 0.2),
              lambda x, w, b: torch.nn.functional.batch_norm(x, trm, trv, w, b, True, 0.2),
              [x, randn(C, seed=7), randn(C, seed=8)], dtype)
        np.testing.assert_allclose(rm.numpy(), trm.numpy(), **TOL[dtype])
        np.testing.assert_allclose(rv.numpy(), trv.numpy(), **TOL[dtype])
    check(torch, lambda x, w, b: F.batch_norm(x, rm, rv, w, b, False),
          lambda x, w, b: torch.nn.functional.batch_norm(x, trm, trv, w, b, False),
          [randn(*shape, seed=9), randn(C, seed=7), randn(C, seed=8)], dtype)
    check(torch, lambda x: F.batch_norm(x, None, None, training=True),
          lambda x: torch.nn.functional.batch_norm(x, None, None, training=True),
          [randn(*shape, seed=10)], dtype)


def test_batch_norm_gradcheck_and_errors():
    x = mg.tensor(randn(4, 2, 3), requires_grad=True)
    w, b = (mg.tensor(randn(2, seed=s), requires_grad=True) for s in (1, 2))
    assert mg.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, True), [x, w, b])
    with pytest.raises(ValueError, match=r"running_mean must have shape \(2,\), got \(3,\)"):
        F.batch_norm(x, mg.zeros(3), mg.ones(3))
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*\(1, 2\)"):
        F.batch_norm(mg.zeros(1, 2), mg.zeros(2), mg.ones(2), training=True)
    with pytest.raises(ValueError, match="evaluation needs"):
        F.batch_norm(x, None, None)


def test_dropout_scaling_and_statistics():
    mg.manual_seed(0)
    x = mg.ones(200, 500, dtype=mg.float64, requires_grad=True)
    y = F.dropout(x, 0.3)
    values = np.unique(y.numpy())
    np.testing.assert_allclose(values, [0.0, 1 / 0.7])
    assert abs((y.numpy() == 0).mean() - 0.3) < 0.005             # 100,000 draws: sd 0.0014
    assert abs(y.numpy().mean() - 1.0) < 0.01                      # inverted: mean preserved
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())     # gradient is the scaled mask
    mg.manual_seed(0)
    np.testing.assert_array_equal(F.dropout(x, 0.3).numpy(), y.numpy())    # seeded
    assert F.dropout(x, 0.3, training=False) is x and F.dropout(x, 0.0) is x
    assert not F.dropout(x, 1.0).numpy().any()
    with pytest.raises(ValueError, match="1.5"):
        F.dropout(x, 1.5)



@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("logits, target", [((6, 5), (6,)), ((3, 4, 2, 3), (3, 2, 3)), ((5,), ())])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_matches_torch(torch, reduction, smoothing, logits, target, dtype):
    t = np.random.default_rng(5).integers(0, logits[1 if len(logits) > 1 else 0], target)
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    check(torch, lambda x: F.cross_entropy(x, mg.tensor(t), **kw),
          lambda x: torch.nn.functional.cross_entropy(x, torch.tensor(t), **kw),
          [randn(*logits) * 3], dtype)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_probability_targets(torch, smoothing):
    p = np.random.default_rng(2).dirichlet(np.ones(5), size=4)
    kw = dict(label_smoothing=smoothing)
    check(torch, lambda x, p: F.cross_entropy(x, p, **kw),
          lambda x, p: torch.nn.functional.cross_entropy(x, p, **kw), [randn(4, 5), p],
          grad=[True, False])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_matches_torch(torch, reduction):
    t = np.array([2, 0, 4, 4])
    check(torch, lambda x: F.nll_loss(x, mg.tensor(t), reduction=reduction),
          lambda x: torch.nn.functional.nll_loss(x, torch.tensor(t), reduction=reduction),
          [randn(4, 5)])


def test_cross_entropy_gradcheck():
    x = mg.tensor(randn(4, 3, 2), requires_grad=True)
    t = mg.tensor([[0, 2], [1, 1], [2, 0], [0, 0]])
    assert mg.gradcheck(lambda x: F.cross_entropy(x, t, label_smoothing=0.1), [x])


def test_cross_entropy_exact_large_logits():
    x = mg.tensor([1000.0, -1000.0], requires_grad=True)
    loss = F.cross_entropy(x, mg.tensor(1))
    loss.backward()
    assert loss.item() == 2000.0
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, -1.0])
    xb = mg.tensor([[1000.0, -1000.0]], requires_grad=True)
    lb = F.cross_entropy(xb, mg.tensor([1]))
    lb.backward()
    assert lb.item() == 2000.0
    np.testing.assert_array_equal(xb.grad.numpy(), [[1.0, -1.0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_cross_entropy_finite_at_1e4(torch, dtype):
    x = np.array([[1e4, -1e4, 0.0, 5e3], [-1e4, -1e4, 1e4, 1e4]])
    t = np.array([1, 0])
    check(torch, lambda x: F.softmax(x, 1), lambda x: torch.nn.functional.softmax(x, 1), [x], dtype)
    check(torch, lambda x: F.log_softmax(x, 1), lambda x: torch.nn.functional.log_softmax(x, 1),
          [x], dtype)
    check(torch, lambda x: F.cross_entropy(x, mg.tensor(t), label_smoothing=0.1),
          lambda x: torch.nn.functional.cross_entropy(x, torch.tensor(t), label_smoothing=0.1),
          [x], dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binary_cross_entropy_clamps_like_torch(torch, dtype):
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-13, 0.3, 0.7, 2e-12, 1e-30])
    t = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.5, 1.0, 0.2, 0.0])
    for reduction in ("none", "sum"):
        check(torch, lambda p, t: F.binary_cross_entropy(p, t, reduction=reduction),
              lambda p, t: torch.nn.functional.binary_cross_entropy(p, t, reduction=reduction),
              [p, t], dtype, grad=[True, False], rtol=1e-8 if dtype == np.float64 else None)
    y = F.binary_cross_entropy(mg.tensor(p[:4], dtype=dtype), mg.tensor(t[:4], dtype=dtype),
                               reduction="none")
    np.testing.assert_array_equal(y.numpy(), [0.0, 0.0, 100.0, 100.0])


def test_binary_cross_entropy_matches_torch_with_weight_and_target_grad(torch):
    p = np.random.default_rng(0).uniform(0.05, 0.95, (4, 3))
    check(torch, F.binary_cross_entropy, torch.nn.functional.binary_cross_entropy,
          [p, np.random.default_rng(1).random((4, 3)), randn(4, 3)], grad=[True, True, False])
    assert mg.gradcheck(F.binary_cross_entropy, [mg.tensor(p, requires_grad=True),
                                                 mg.tensor(np.full((4, 3), 0.3))])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bce_with_logits_matches_torch_and_is_stable(torch, dtype):
    x = np.array([0.0, 1e4, -1e4, 3.0, -50.0, 50.0, 0.5, -2.0])
    t = np.array([0.0, 1.0, 1.0, 0.0, 0.3, 1.0, 1.0, 0.0])
    pw = np.linspace(0.5, 3.0, 8)
    for reduction in ("none", "mean"):
        kw = dict(reduction=reduction)
        check(torch, lambda x, t: F.binary_cross_entropy_with_logits(x, t, **kw),
              lambda x, t: torch.nn.functional.binary_cross_entropy_with_logits(x, t, **kw),
              [x, t], dtype)
    check(torch, lambda x, t, w, pw: F.binary_cross_entropy_with_logits(x, t, w, pos_weight=pw),
          lambda x, t, w, pw: torch.nn.functional.binary_cross_entropy_with_logits(
              x, t, w, pos_weight=pw), [x, t, pw[::-1], pw], dtype, grad=[True, True, False, False])
    assert mg.gradcheck(F.binary_cross_entropy_with_logits,
                        [mg.tensor(randn(5), requires_grad=True), mg.tensor(np.full(5, 0.4))])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_matches_torch(torch, reduction):
    check(torch, lambda x, y: F.mse_loss(x, y, reduction=reduction),
          lambda x, y: torch.nn.functional.mse_loss(x, y, reduction=reduction),
          [randn(3, 4), randn(3, 4, seed=1)])


@pytest.mark.parametrize("call, message", [
    (lambda: F.cross_entropy(mg.zeros(4, 3), mg.tensor([0, 1, 2])), "shape (3,)"),
    (lambda: F.cross_entropy(mg.zeros(4, 3), mg.tensor([0, 1, 2, 3])), "[0, 3) for input (4, 3)"),
    (lambda: F.cross_entropy(mg.zeros(4, 3), mg.tensor([0, 1, 2, 1]), reduction="avg"), "'avg'"),
    (lambda: F.cross_entropy(mg.zeros(4, 3), mg.zeros(4, 2)), "(4, 2)"),
    (lambda: F.nll_loss(mg.zeros(4, 3), mg.tensor([0, -1, 2, 1])), "[0, 3)"),
    (lambda: F.binary_cross_entropy(mg.zeros(4), mg.zeros(3)), "(3,) but input has shape (4,)"),
    (lambda: F.binary_cross_entropy(mg.full(4, 2.0), mg.zeros(4)), "probabilities"),
    (lambda: F.mse_loss(mg.zeros(2, 3), mg.zeros(3, 2)), "(3, 2) but input has shape (2, 3)"),
])
def test_loss_errors_name_shapes(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)


def backend_settings(**env):
    """(BLAS thread counts, keep_freed_memory result) in a fresh interpreter with `env` set."""
    code = ("import threadpoolctl, minigrad.backend as B; "
            "print([i['num_threads'] for i in threadpoolctl.threadpool_info() "
            "if i['user_api'] == 'blas'], B.keep_freed_memory())")
    clean = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True,
                         text=True)
    return out.stdout.strip() or out.stderr.strip().splitlines()[-1]


def test_backend_thread_default_and_override():
    require("threadpoolctl")
    assert backend_settings().startswith("[1]")                      # one BLAS thread
    assert backend_settings(MINIGRAD_NUM_THREADS="2").startswith("[2]")
    assert "MINIGRAD_NUM_THREADS must be a whole number" in backend_settings(
        MINIGRAD_NUM_THREADS="two")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux-only")
def test_backend_keeps_freed_memory_on_glibc():
    assert backend_settings().endswith("True")


PAGE_FAULTS = """
import resource, minigrad as mg
a, b = mg.randn(2000, 64, requires_grad=True), mg.randn(64, 6000, requires_grad=True)
def step():                    # temporaries of 48 MB, over glibc's largest mmap threshold
    a.grad = b.grad = None
    (a @ b).relu().sum().backward()
for _ in range(3):
    step()
start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(3):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux-only")
def test_backend_reuses_freed_memory_without_faulting_it_in_again():
    """Once warmed up, a step's large temporaries come from memory malloc kept: (almost) no page
    faults, where glibc's defaults fault in every page of every one of them again."""
    def faults(**env):
        out = subprocess.run([sys.executable, "-c", PAGE_FAULTS], capture_output=True, text=True,
                             env={**os.environ, "NUMPY_MADVISE_HUGEPAGE": "0", **env}, check=True)
        return int(out.stdout)                # ^ 4 KiB pages, so that the control below counts
    assert faults() < 300
    assert faults(MINIGRAD_KEEP_MEMORY="0") > 10_000        # 11,700 pages per 48 MB temporary


