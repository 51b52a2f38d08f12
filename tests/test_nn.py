"""nn modules: registration, names and scopes, state dicts, init, and every layer and loss against
PyTorch (forward, input gradient and every parameter gradient) in float32 and float64."""
import math

import numpy as np
import pytest
from conftest import require
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import nn

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-9, atol=1e-11)}


def to_torch_state(module):
    torch = require("torch")
    return {k: torch.from_numpy(np.array(v.numpy())) for k, v in module.state_dict().items()}


def from_torch_state(module):
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def check_module(make, make_torch, shape, dtype=np.float32, positive=False, train=True):
    """Build both modules, copy minigrad's weights into torch through the state dict, then compare
    the output, the input gradient and every parameter gradient under a fixed random weighting."""
    torch = require("torch")
    rng = np.random.default_rng(0)
    mg.manual_seed(0)
    m, t = make(), make_torch()
    t.load_state_dict(to_torch_state(m))
    if dtype == np.float64:
        m.double(), t.double()
    m.train(train), t.train(train)
    x = rng.standard_normal(shape).astype(dtype)
    x = np.abs(x) + 0.1 if positive else x
    xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ym, yt = m(xm), t(xt)
    assert ym.shape == tuple(yt.shape) and ym.dtype == dtype
    np.testing.assert_allclose(ym.numpy(), yt.detach().numpy(), **TOL[dtype])
    weight = rng.standard_normal(ym.shape).astype(dtype)
    (ym * mg.tensor(weight)).sum().backward()
    (yt * torch.from_numpy(weight)).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), **TOL[dtype])
    torch_params = dict(t.named_parameters())
    assert [n for n, _ in m.named_parameters()] == list(torch_params)
    for name, p in m.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        np.testing.assert_allclose(p.grad.numpy(), torch_params[name].grad.numpy(), **TOL[dtype],
                                   err_msg=name)
    return m, t


def _torch_nn():
    return require("torch").nn


# --- the functional ops the modules call must exist -----------------------------------------------
def test_functional_provides_every_op_the_modules_call():
    needed = ["conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "linear", "relu",
              "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax", "batch_norm", "dropout",
              "cross_entropy", "nll_loss", "binary_cross_entropy",
              "binary_cross_entropy_with_logits", "mse_loss"]
    missing = [name for name in needed if not hasattr(nn.functional, name)]
    assert not missing, f"nn.functional lacks {missing}"


# --- layers against PyTorch --------------------------------------------------------------------
LAYERS = [
    ("Linear", lambda M: M.Linear(5, 3), (4, 5)),
    ("Linear-nobias-3d", lambda M: M.Linear(5, 3, bias=False), (2, 4, 5)),
    ("Conv2d", lambda M: M.Conv2d(3, 4, 3), (2, 3, 7, 7)),
    ("Conv2d-stride-pad", lambda M: M.Conv2d(3, 4, (3, 2), stride=2, padding=1), (2, 3, 8, 7)),
    ("Conv2d-same-dil-groups", lambda M: M.Conv2d(4, 6, 3, padding="same", dilation=2, groups=2),
     (1, 4, 7, 6)),
    ("Conv2d-depthwise", lambda M: M.Conv2d(4, 8, 3, groups=4, bias=False), (2, 4, 5, 5)),
    ("Conv2d-1x1", lambda M: M.Conv2d(3, 5, 1), (2, 3, 4, 4)),
    ("MaxPool2d", lambda M: M.MaxPool2d(2), (2, 3, 6, 6)),
    ("MaxPool2d-overlap-pad", lambda M: M.MaxPool2d(3, stride=2, padding=1), (2, 2, 7, 7)),
    ("MaxPool2d-dilation", lambda M: M.MaxPool2d(2, stride=1, dilation=2), (1, 2, 6, 5)),
    ("AvgPool2d", lambda M: M.AvgPool2d(2), (2, 3, 6, 6)),
    ("AvgPool2d-overlap-pad", lambda M: M.AvgPool2d(3, 2, 1), (2, 2, 7, 7)),
    ("AvgPool2d-exclude-pad", lambda M: M.AvgPool2d(3, 2, 1, count_include_pad=False),
     (1, 2, 6, 6)),
    ("AdaptiveAvgPool2d", lambda M: M.AdaptiveAvgPool2d(1), (2, 3, 5, 4)),
    ("BatchNorm1d-2d-input", lambda M: M.BatchNorm1d(3), (5, 3)),
    ("BatchNorm1d-3d-input", lambda M: M.BatchNorm1d(3), (4, 3, 6)),
    ("BatchNorm2d", lambda M: M.BatchNorm2d(3), (4, 3, 5, 5)),
    ("BatchNorm2d-no-affine", lambda M: M.BatchNorm2d(3, affine=False), (4, 3, 2, 3)),
    ("Flatten", lambda M: M.Flatten(), (2, 3, 4, 5)),
    ("Flatten-middle", lambda M: M.Flatten(1, 2), (2, 3, 4, 5)),
    ("ReLU", lambda M: M.ReLU(), (3, 7)),
    ("LeakyReLU", lambda M: M.LeakyReLU(0.2), (3, 7)),
    ("Sigmoid", lambda M: M.Sigmoid(), (3, 7)),
    ("Tanh", lambda M: M.Tanh(), (3, 7)),
    ("Softmax", lambda M: M.Softmax(dim=1), (3, 7)),
    ("Identity", lambda M: M.Identity(), (3, 7)),
    ("Dropout-eval", lambda M: M.Dropout(0.5), (3, 7)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name,make,shape", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_matches_torch(name, make, shape, dtype):
    train = name != "Dropout-eval"
    check_module(lambda: make(nn), lambda: make(_torch_nn()), shape, dtype, train=train)


@pytest.mark.filterwarnings("ignore:Using padding='same'")      # torch's note on its own copy
@settings(max_examples=25, deadline=None)
@given(st.data())
def test_conv2d_module_matches_torch_on_random_configurations(data):
    draw = data.draw
    groups = draw(st.sampled_from([1, 2, 3]))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel, dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3))), draw(st.integers(1, 2))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 3)))
    padding = draw(st.sampled_from(["same", "valid", 0, 1, (2, 1)])) if stride == (1, 1) else \
        draw(st.sampled_from([0, 1, (1, 2)]))
    size = [dilation * (k - 1) + 1 + draw(st.integers(0, 3)) for k in kernel]
    bias = draw(st.booleans())
    make = lambda M: M.Conv2d(cin, cout, kernel, stride, padding, dilation, groups, bias)  # noqa
    check_module(lambda: make(nn), lambda: make(_torch_nn()),
                 (draw(st.integers(1, 2)), cin, *size), np.float64)


def test_batchnorm_in_eval_mode_matches_torch():
    torch = require("torch")
    m, t = check_module(lambda: nn.BatchNorm2d(3), lambda: torch.nn.BatchNorm2d(3), (4, 3, 5, 5),
                        np.float64)
    m.zero_grad(), t.zero_grad()
    check_module(lambda: m, lambda: t, (2, 3, 4, 4), np.float64, train=False)


@pytest.mark.parametrize("momentum,track", [(0.1, True), (None, True), (0.3, False)])
def test_batchnorm_running_stats_follow_torch_over_several_steps(momentum, track):
    torch = require("torch")
    rng = np.random.default_rng(1)
    m = nn.BatchNorm2d(3, momentum=momentum, track_running_stats=track).double()
    t = torch.nn.BatchNorm2d(3, momentum=momentum, track_running_stats=track).double()
    for step in range(4):
        x = rng.standard_normal((5, 3, 4, 4)) * (step + 1) + step
        np.testing.assert_allclose(m(mg.tensor(x)).numpy(), t(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-10, atol=1e-12)
    for (name, b), (tname, tb) in zip(m.named_buffers(), t.named_buffers(), strict=True):
        assert name == tname
        np.testing.assert_allclose(b.numpy(), tb.numpy(), rtol=1e-12, err_msg=name)
    if track:
        assert m.num_batches_tracked.item() == 4 and m.num_batches_tracked.dtype == np.int64
    else:
        assert m.running_mean is None and list(m.state_dict()) == ["weight", "bias"]
    m.eval(), t.eval()
    x = rng.standard_normal((2, 3, 4, 4))
    np.testing.assert_allclose(m(mg.tensor(x)).numpy(), t(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    if track:     # eval mode leaves the running statistics alone
        np.testing.assert_allclose(m.running_mean.numpy(), t.running_mean.numpy(), rtol=1e-12)
        assert m.num_batches_tracked.item() == 4


def test_batchnorm1d_running_stats_match_torch():
    torch = require("torch")
    m, t = nn.BatchNorm1d(4).double(), torch.nn.BatchNorm1d(4).double()
    rng = np.random.default_rng(2)
    for _ in range(3):
        x = rng.standard_normal((6, 4, 3)) * 2 + 1
        m(mg.tensor(x)), t(torch.tensor(x))
    np.testing.assert_allclose(m.running_var.numpy(), t.running_var.numpy(), rtol=1e-12)
    np.testing.assert_allclose(m.running_mean.numpy(), t.running_mean.numpy(), rtol=1e-12)


# --- losses against PyTorch --------------------------------------------------------------------
def _loss_inputs(name, dtype, rng):
    torch = require("torch")
    logits = rng.standard_normal((6, 5)).astype(dtype)
    if name in ("CrossEntropyLoss", "NLLLoss"):
        target = rng.integers(0, 5, 6)
        return logits, target, mg.tensor(target), torch.from_numpy(target)
    if name == "BCELoss":
        logits = 1 / (1 + np.exp(-logits))
    target = rng.random((6, 5)).astype(dtype)
    return logits, target, mg.tensor(target), torch.from_numpy(target)


LOSSES = [("CrossEntropyLoss", {}), ("CrossEntropyLoss", {"reduction": "sum"}),
          ("CrossEntropyLoss", {"reduction": "none"}),
          ("CrossEntropyLoss", {"label_smoothing": 0.1}),
          ("NLLLoss", {}), ("NLLLoss", {"reduction": "none"}), ("BCELoss", {}),
          ("BCELoss", {"reduction": "sum"}), ("BCELoss", {"weight": np.linspace(0.5, 2, 5)}),
          ("BCEWithLogitsLoss", {}), ("BCEWithLogitsLoss", {"reduction": "none"}),
          ("BCEWithLogitsLoss", {"weight": np.linspace(0.5, 2, 5),
                                 "pos_weight": np.arange(1.0, 6)}),
          ("MSELoss", {}), ("MSELoss", {"reduction": "sum"})]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name,kwargs", LOSSES, ids=[f"{n}-{sorted(k)}" for n, k in LOSSES])
def test_loss_matches_torch(name, kwargs, dtype):
    torch = require("torch")
    rng = np.random.default_rng(3)
    x, _, target_mg, target_t = _loss_inputs(name, dtype, rng)
    if name == "NLLLoss":
        x = x - np.log(np.exp(x).sum(1, keepdims=True))
    xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    mg_kwargs = {k: mg.tensor(v.astype(dtype)) if isinstance(v, np.ndarray) else v
                 for k, v in kwargs.items()}
    torch_kwargs = {k: torch.tensor(v.astype(dtype)) if isinstance(v, np.ndarray) else v
                    for k, v in kwargs.items()}
    lm = getattr(nn, name)(**mg_kwargs)(xm, target_mg)
    lt = getattr(torch.nn, name)(**torch_kwargs)(xt, target_t)
    assert lm.shape == tuple(lt.shape) and lm.dtype == dtype
    np.testing.assert_allclose(lm.numpy(), lt.detach().numpy(), **TOL[dtype])
    weight = rng.standard_normal(lm.shape).astype(dtype)
    (lm * mg.tensor(weight)).sum().backward()
    (lt * torch.from_numpy(weight)).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), **TOL[dtype])


# --- a whole model: weights both ways through the state dict ------------------------------------
def _small_cnn(M):
    return M.Sequential(M.Conv2d(1, 4, 3, padding=1), M.BatchNorm2d(4), M.ReLU(), M.MaxPool2d(2),
                        M.Conv2d(4, 6, 3), M.Tanh(), M.Flatten(), M.Linear(6 * 2 * 2, 10))


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_model_matches_torch_both_ways(dtype):
    torch = require("torch")
    check_module(lambda: _small_cnn(nn), lambda: _small_cnn(torch.nn), (3, 1, 8, 8), dtype)
    torch.manual_seed(0)
    t = _small_cnn(torch.nn)
    t(torch.randn(5, 1, 8, 8))                      # move the BatchNorm statistics away from 0/1
    m = _small_cnn(nn)
    assert list(m.state_dict()) == list(t.state_dict())
    m.load_state_dict(from_torch_state(t))
    m.eval(), t.eval()
    if dtype == np.float64:
        m.double(), t.double()
    x = np.random.default_rng(4).standard_normal((2, 1, 8, 8)).astype(dtype)
    np.testing.assert_allclose(m(mg.tensor(x)).numpy(), t(torch.tensor(x)).detach().numpy(),
                               **TOL[dtype])
    assert m[1].num_batches_tracked.item() == 1


# --- Dropout ------------------------------------------------------------------------------------
def test_dropout_scales_survivors_and_is_identity_in_eval():
    mg.manual_seed(5)
    drop = nn.Dropout(0.25)
    x = mg.ones(200, 100, requires_grad=True)
    y = drop(x)
    kept = y.numpy() != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.75, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.75, rtol=1e-6)
    mg.manual_seed(5)
    np.testing.assert_array_equal(drop(x).numpy(), y.numpy())      # seeded: the same mask again
    drop.eval()
    np.testing.assert_array_equal(drop(x).numpy(), x.numpy())
    assert np.all(nn.Dropout(0.0)(x).numpy() == 1)


# --- initialisation -----------------------------------------------------------------------------
@pytest.mark.parametrize("make,fan_in", [(lambda: nn.Linear(400, 300), 400),
                                         (lambda: nn.Conv2d(16, 64, 3), 144),
                                         (lambda: nn.Conv2d(16, 64, 3, groups=4), 36)])
def test_default_init_follows_torch_formulas(make, fan_in):
    mg.manual_seed(0)
    m = make()
    bound = 1 / math.sqrt(fan_in)        # kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), ...)
    w, b = m.weight.numpy(), m.bias.numpy()
    assert w.dtype == np.float32 and b.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.var() / (bound ** 2 / 3) - 1) < 0.05         # variance of U(-b, b) is b^2 / 3
    assert abs(w.mean()) < 0.05 * bound and np.abs(w).max() > 0.99 * bound


def test_init_is_reproducible_under_manual_seed():
    mg.manual_seed(7)
    a = nn.Sequential(nn.Linear(3, 4), nn.Conv2d(2, 3, 3))
    mg.manual_seed(7)
    b = nn.Sequential(nn.Linear(3, 4), nn.Conv2d(2, 3, 3))
    c = nn.Sequential(nn.Linear(3, 4), nn.Conv2d(2, 3, 3))
    for (k, va), vb, vc in zip(a.state_dict().items(), b.state_dict().values(),
                               c.state_dict().values()):
        np.testing.assert_array_equal(va.numpy(), vb.numpy(), err_msg=k)
        assert not np.array_equal(va.numpy(), vc.numpy()), k


@pytest.mark.parametrize("fn,kwargs,shape,std", [
    (nn.init.xavier_uniform_, {"gain": 2.0}, (300, 200), 2.0 * math.sqrt(2 / 500)),
    (nn.init.xavier_normal_, {}, (300, 200), math.sqrt(2 / 500)),
    (nn.init.kaiming_uniform_, {"nonlinearity": "relu"}, (64, 32, 3, 3), math.sqrt(2 / 288)),
    (nn.init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"}, (64, 32, 3, 3),
     math.sqrt(2 / 576)),
    (nn.init.kaiming_normal_, {"a": 0.2}, (300, 200), math.sqrt(2 / (1.04 * 200))),
    (nn.init.normal_, {"mean": 1.0, "std": 0.5}, (300, 200), 0.5),
    (nn.init.uniform_, {"a": -3.0, "b": 3.0}, (300, 200), math.sqrt(3.0)),
])
def test_initialisers_have_the_documented_spread(fn, kwargs, shape, std):
    mg.manual_seed(0)
    t = mg.zeros(shape, dtype=mg.float64)
    assert fn(t, **kwargs) is t
    assert abs(t.numpy().std() / std - 1) < 0.03
    if "uniform" in fn.__name__:
        assert np.abs(t.numpy()).max() <= math.sqrt(3) * std


def test_constant_initialisers_and_gains_match_torch():
    torch = require("torch")
    t = mg.zeros(3, 4, requires_grad=True)
    assert np.all(nn.init.ones_(t).numpy() == 1)
    assert np.all(nn.init.constant_(t, 2.5).numpy() == 2.5)
    assert np.all(nn.init.zeros_(t).numpy() == 0) and t.requires_grad
    for name, param in [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                        ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]:
        assert nn.init.calculate_gain(name, param) == pytest.approx(
            torch.nn.init.calculate_gain(name, param))
    with pytest.raises(ValueError, match="swish"):
        nn.init.calculate_gain("swish")
    with pytest.raises(ValueError, match=r"\(5,\)"):
        nn.init.xavier_uniform_(mg.zeros(5))
    assert not hasattr(nn.init, "glorot_uniform_")


# --- state dicts ----------------------------------------------------------------------------------
def test_state_dict_round_trip_and_keys_like_torch():
    torch = require("torch")
    mg.manual_seed(0)
    a = _small_cnn(nn)
    a(mg.randn(4, 1, 8, 8))
    b = _small_cnn(nn)
    state = a.state_dict()
    assert list(state) == list(_small_cnn(torch.nn).state_dict())
    assert all(isinstance(v, mg.Tensor) and not v.requires_grad for v in state.values())
    weight_before = b[0].weight
    assert b.load_state_dict(state) == ([], [])
    assert b[0].weight is weight_before and b[0].weight.name == "0.weight"     # loaded in place
    for k, v in b.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), state[k].numpy(), err_msg=k)
    x = mg.randn(2, 1, 8, 8)
    a.eval(), b.eval()
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    b.load_state_dict({k: v.numpy() * 0 for k, v in state.items()})     # arrays load too
    assert np.all(b[0].weight.numpy() == 0)


def test_load_state_dict_errors_list_missing_unexpected_and_misshaped_keys():
    m = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    state = {k: v.numpy() for k, v in m.state_dict().items()}
    del state["1.bias"]
    state["2.weight"] = np.zeros(3)
    state["0.weight"] = np.zeros((5, 3), np.float32)
    with pytest.raises(ValueError) as info:
        m.load_state_dict(state)
    message = str(info.value)
    for piece in ["missing", "1.bias", "unexpected", "2.weight", "0.weight", "(5, 3)", "(4, 3)"]:
        assert piece in message
    state["0.weight"] = np.ones((4, 3), np.float32)
    missing, unexpected = m.load_state_dict(state, strict=False)
    assert (missing, unexpected) == (["1.bias"], ["2.weight"])
    assert np.all(m[0].weight.numpy() == 1)
    state["0.weight"] = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"0\.weight.*\(3, 4\).*\(4, 3\)"):
        m.load_state_dict(state, strict=False)       # a wrong shape is refused even when not strict


def test_non_persistent_buffers_stay_out_of_the_state_dict():
    m = nn.Module()
    m.register_buffer("kept", mg.zeros(2))
    m.register_buffer("scratch", mg.zeros(3), persistent=False)
    assert list(m.state_dict()) == ["kept"]
    assert [n for n, _ in m.named_buffers()] == ["kept", "scratch"]


# --- registration, traversal, modes ---------------------------------------------------------------
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.bn = nn.BatchNorm2d(c)

    def forward(self, x):
        return self.bn(self.conv(x)).relu()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block1 = Block(2)
        self.features = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU())
        self.heads = nn.ModuleList([nn.Linear(3, 2)])
        self.heads.append(nn.Linear(3, 1))
        self.scale = nn.Parameter(mg.ones(1))

    def forward(self, x):
        h = self.features(self.block1(x)).mean((2, 3))
        return self.heads[0](h).sum(1) + self.heads[1](h).sum(1) * self.scale


def test_parameters_are_named_by_their_path_from_the_outermost_module():
    standalone = nn.Linear(2, 3)
    assert (standalone.weight.name, standalone.bias.name) == ("weight", "bias")
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "block1.conv.weight", "block1.conv.bias", "block1.bn.weight",
                     "block1.bn.bias",
                     "features.0.weight", "features.0.bias", "heads.0.weight", "heads.0.bias",
                     "heads.1.weight", "heads.1.bias"]
    assert all(p.name == n for n, p in net.named_parameters())
    assert net.block1.bn.running_mean.name == "block1.bn.running_mean"
    outer = nn.Sequential(net)           # assigned again: the new root's names win, top-down
    assert net.block1.conv.weight.name == "0.block1.conv.weight"
    sliced = outer[0:1]                  # slicing renames nothing
    assert sliced[0].block1.conv.weight.name == "0.block1.conv.weight"
    net.block1.extra = nn.Linear(1, 1)     # added later, below an already placed module
    assert net.block1.extra.weight.name == "0.block1.extra.weight"


def test_module_scopes_are_recorded_on_ops():
    net = Net()
    out = net(mg.randn(1, 2, 6, 6))
    ops, stack, seen = [], [out], set()
    while stack:                                  # collect every recorded op of the graph
        op = stack.pop()._ctx
        if op is not None and id(op) not in seen:
            seen.add(id(op))
            ops.append(op)
            stack.extend(op.inputs)
    module_paths = {tuple(name for kind, name, _ in op.scope if kind == "module") for op in ops}
    assert ("Net", "block1", "conv") in module_paths
    assert ("Net", "block1", "bn") in module_paths
    assert ("Net", "features", "0") in module_paths
    assert ("Net", "heads.1") in module_paths         # a ModuleList is iterated, never called
    assert all(op.scope[0][:2] == ("module", "Net") for op in ops)
    conv_ops = [op for op in ops if [s[1] for s in op.scope if s[0] == "module"] ==
                ["Net", "block1", "conv"]]
    assert len({op.scope[2][2] for op in conv_ops}) == 1     # one call, one scope serial
    assert nn.Linear(2, 2)(mg.randn(1, 2, requires_grad=True))._ctx.scope[0][:2] == \
        ("module", "Linear")


def test_traversal_matches_torch_and_shared_modules_count_once():
    torch = require("torch")
    m, t = _small_cnn(nn), _small_cnn(torch.nn)
    assert [n for n, _ in m.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in m.named_children()] == [n for n, _ in t.named_children()]
    assert [n for n, _ in m.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert len(list(m.children())) == 8 and len(list(m.modules())) == 9
    assert sum(p.size for p in m.parameters()) == sum(p.numel() for p in t.parameters())
    shared = nn.Linear(2, 2)
    twice = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(twice.parameters())) == 2 and len(list(twice.modules())) == 3
    assert len(list(Net().parameters(recurse=False))) == 1


def test_train_eval_and_zero_grad():
    net = Net()
    assert net.training and net.block1.bn.training
    assert net.eval() is net and not net.block1.bn.training and not net.heads[1].training
    net.train()
    assert all(m.training for m in net.modules())
    net(mg.randn(2, 2, 6, 6)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad.shape == p.shape and not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_parameter_is_a_float32_tensor_that_requires_grad():
    p = nn.Parameter([1.0, 2.0])
    assert isinstance(p, mg.Tensor) and p.requires_grad and p.dtype == np.float32
    assert nn.Parameter(np.zeros(2)).dtype == np.float64
    x = mg.tensor([3.0, 4.0])
    y = x * p + p                           # a Parameter works on either side of an operator
    assert type(y) is mg.Tensor and y.tolist() == [4.0, 10.0]
    assert "Parameter containing" in repr(p)
    with pytest.raises(TypeError, match="int64"):
        nn.Parameter(np.arange(3))


def test_assignment_rules():
    m = nn.Linear(2, 3)
    with pytest.raises(TypeError, match="weight"):
        m.weight = m.weight * 2             # a plain tensor would silently stop being trained
    with pytest.raises(TypeError, match="Sequential"):
        nn.Sequential(nn.ReLU(), "relu")
    m.bias = None
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    assert m(mg.randn(1, 2)).shape == (1, 3)

    class Forgetful(nn.Module):
        def __init__(self):
            self.w = nn.Parameter([1.0])

    with pytest.raises(AttributeError, match="super"):
        Forgetful()
    with pytest.raises(NotImplementedError, match="forward"):
        nn.ModuleList([nn.ReLU()])(mg.ones(1))


def test_sequential_forms_and_module_list():
    from collections import OrderedDict
    a, b = nn.Linear(3, 4), nn.ReLU()
    for seq in (nn.Sequential(a, b), nn.Sequential([a, b])):
        assert len(seq) == 2 and seq[0] is a and seq[-1] is b and list(seq) == [a, b]
    named = nn.Sequential(OrderedDict(fc=nn.Linear(3, 4), act=nn.ReLU()))
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]
    seq = nn.Sequential(nn.Linear(3, 4)).append(nn.ReLU())
    assert seq(mg.randn(2, 3)).numpy().min() >= 0 and len(seq[0:1]) == 1
    with pytest.raises(IndexError, match="2 modules"):
        seq[2]
    heads = nn.ModuleList().extend([nn.Linear(2, 2), nn.Linear(2, 2)])
    assert [n for n, _ in heads.named_parameters()][-1] == "1.bias"


def test_double_and_float_cast_parameters_and_buffers():
    m = _small_cnn(nn).double()
    assert all(t.dtype == np.float64 for t in m.parameters())
    assert m[1].running_var.dtype == np.float64 and m[1].num_batches_tracked.dtype == np.int64
    assert m(mg.randn(1, 1, 8, 8, dtype=mg.float64)).dtype == np.float64
    assert m.float()[0].weight.dtype == np.float32


# --- repr ----------------------------------------------------------------------------------------
def test_repr_is_a_torch_like_tree():
    torch = require("torch")
    for make in [lambda M: M.Sequential(M.Linear(3, 4), M.ReLU(), M.Linear(4, 2, bias=False)),
                 lambda M: M.Sequential(M.Conv2d(1, 6, 5), M.Conv2d(6, 6, 3, stride=2, padding=1,
                                                                    groups=3, bias=False),
                                        M.Flatten(), M.Softmax(dim=1))]:
        assert repr(make(nn)) == repr(make(torch.nn))
    assert repr(Net()) == """Net(
  (block1): Block(
    (conv): Conv2d(2, 2, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    (bn): BatchNorm2d(2, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
  )
  (features): Sequential(
    (0): Conv2d(2, 3, kernel_size=(3, 3), stride=(1, 1))
    (1): ReLU()
  )
  (heads): ModuleList(
    (0): Linear(in_features=3, out_features=2, bias=True)
    (1): Linear(in_features=3, out_features=1, bias=True)
  )
)"""
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1)"
    assert repr(nn.Dropout(0.2)) == "Dropout(p=0.2)"
    assert repr(nn.CrossEntropyLoss(label_smoothing=0.1)) == \
        "CrossEntropyLoss(reduction='mean', label_smoothing=0.1)"


# --- argument and input checks -------------------------------------------------------------------
@pytest.mark.parametrize("make,match", [
    (lambda: nn.Linear(-1, 3), "in_features.*-1"),
    (lambda: nn.Linear(3, 2.5), "out_features.*2.5"),
    (lambda: nn.Conv2d(3, 4, 0), "kernel_size.*0"),
    (lambda: nn.Conv2d(3, 4, 3, groups=2), "in_channels=3.*groups=2"),
    (lambda: nn.Conv2d(3, 4, 3, stride=(1, 0)), r"stride.*\(1, 0\)"),
    (lambda: nn.Conv2d(3, 4, 3, padding="full"), "padding.*full"),
    (lambda: nn.BatchNorm2d(0), "num_features.*0"),
    (lambda: nn.BatchNorm1d(3, momentum=1.5), "momentum.*1.5"),
    (lambda: nn.BatchNorm1d(3, eps=0), "eps.*0"),
    (lambda: nn.Softmax(dim=None), "dim.*None"),
    (lambda: nn.utils.clip_grad_norm_([], -1.0), "max_norm=-1.0"),
])
def test_constructors_reject_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("module,shape,match", [
    (nn.Linear(3, 4), (2, 5), r"\(2, 5\).*in_features=3"),
    (nn.Conv2d(3, 4, 3), (2, 4, 8, 8), r"\(2, 4, 8, 8\).*in_channels=3"),
    (nn.Conv2d(3, 4, 3), (3, 8, 8), r"\(3, 8, 8\)"),
    (nn.BatchNorm2d(3), (2, 3, 4), r"\(2, 3, 4\).*\(N, 3, H, W\)"),
    (nn.BatchNorm1d(3), (2, 4), r"\(2, 4\).*\(N, 3\) or \(N, 3, L\)"),
    (nn.BatchNorm1d(3), (1, 3), r"more than 1 value.*\(1, 3\)"),
    (nn.Flatten(2), (4, 5), r"\(4, 5\)"),
    # arguments that only the functional op checks, when the module is called
    (nn.Conv2d(3, 4, 3, stride=2, padding="same"), (1, 3, 8, 8), "same.*stride"),
    (nn.MaxPool2d(2, padding=-1), (1, 1, 4, 4), "padding.*-1"),
    (nn.AdaptiveAvgPool2d(0), (1, 1, 4, 4), "output_size.*0"),
    (nn.Dropout(1.5), (2,), "p.*1.5"),
])
def test_modules_check_inputs_and_name_shapes(module, shape, match):
    with pytest.raises(ValueError, match=match):
        module(mg.zeros(shape))


@pytest.mark.parametrize("loss,match", [(nn.CrossEntropyLoss(reduction="avg"), "reduction.*avg"),
                                        (nn.CrossEntropyLoss(label_smoothing=2),
                                         "label_smoothing.*2")])
def test_loss_modules_have_their_options_checked_when_called(loss, match):
    with pytest.raises(ValueError, match=match):
        loss(mg.zeros(2, 3), mg.tensor([0, 2]))


def test_error_names_the_layer_path():
    net = nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 2))
    with pytest.raises(ValueError, match=r"Linear \(1\): input has shape \(2, 4\)"):
        net(mg.zeros(2, 3))


# --- clip_grad_norm_ ------------------------------------------------------------------------------
@pytest.mark.parametrize("max_norm,norm_type", [(0.5, 2.0), (100.0, 2.0), (0.3, 1.0),
                                                (0.1, float("inf")), (1.0, 3.0)])
def test_clip_grad_norm_matches_torch(max_norm, norm_type):
    torch = require("torch")
    rng = np.random.default_rng(6)
    grads = [rng.standard_normal(s) for s in [(3, 4), (4,), (2, 2, 2)]]
    params = [nn.Parameter(np.zeros(g.shape)) for g in grads]
    tparams = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, tp, g in zip(params, tparams, grads):
        p.grad, tp.grad = mg.tensor(g), torch.tensor(g)
    params.append(nn.Parameter(np.zeros(2)))            # no gradient: skipped, like torch
    total = nn.utils.clip_grad_norm_(params, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, max_norm, norm_type)
    assert total.item() == pytest.approx(ttotal.item(), rel=1e-12)
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-12)
    assert params[-1].grad is None


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3.0])
def test_clip_grad_norm_matches_torch_in_float32(norm_type):
    """The scale is computed in the gradients' dtype, as torch does, so float32 gradients come out
    as torch's, bit for bit."""
    torch = require("torch")
    rng = np.random.default_rng(6)
    grads = [rng.standard_normal(s).astype(np.float32) for s in [(3, 4), (4,), (2, 2, 2)]]
    params = [nn.Parameter(np.zeros(g.shape, np.float32)) for g in grads]
    tparams = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    for p, tp, g in zip(params, tparams, grads):
        p.grad, tp.grad = mg.tensor(g), torch.tensor(g)
    total = nn.utils.clip_grad_norm_(params, 0.5, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, 0.5, norm_type)
    assert total.dtype == mg.float32 and total.item() == pytest.approx(ttotal.item(), rel=1e-6)
    for p, tp in zip(params, tparams):
        np.testing.assert_array_equal(p.grad.numpy(), tp.grad.numpy())


def test_clip_grad_norm_scales_a_gradient_shared_by_two_parameters_once():
    a, b = nn.Parameter([3.0]), nn.Parameter([4.0])
    (a + b).sum().backward()                         # backward may hand both the same tensor
    norm = nn.utils.clip_grad_norm_([a, b], 1.0)
    assert norm.item() == pytest.approx(math.sqrt(2))
    np.testing.assert_allclose([a.grad.item(), b.grad.item()], [1 / math.sqrt(2)] * 2, rtol=1e-5)


# --- the public surface ---------------------------------------------------------------------------
def test_public_api():
    expected = {"Module", "Parameter", "Sequential", "ModuleList", "Linear", "Conv2d", "MaxPool2d",
                "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm1d", "BatchNorm2d", "Dropout",
                "Flatten",
                "Identity", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "CrossEntropyLoss",
                "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "MSELoss", "functional", "init", "utils"}
    assert expected <= set(nn.__all__)
    assert all(hasattr(nn, name) for name in nn.__all__)
    assert nn.utils.clip_grad_norm_ and nn.init.kaiming_uniform_ and nn.functional.linear
