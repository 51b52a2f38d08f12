"""PyTorch's tensor vocabulary (minigrad/tensor_ops.py and the thin Tensor methods): each op against
torch forward and backward with a fixed random upstream gradient, float64 finite differences, and
an error case whose message names the op and the shape."""
import numpy as np
import pytest

import minigrad as mg
from conftest import require

torch = require("torch")

# (name, minigrad fn, torch fn, input shapes); inputs are distinct values away from integers/kinks
CASES = [
    ("clamp", lambda x: x.clamp(-0.5, 0.5), lambda x: x.clamp(-0.5, 0.5), [(3, 4)]),
    ("clamp_tensor", lambda x, lo: x.clamp(lo, None), lambda x, lo: x.clamp(lo, None),
     [(3, 4), (4,)]),
    ("clip", lambda x: x.clip(max=0.2), lambda x: x.clip(max=0.2), [(5,)]),
    ("round", lambda x: x.round() * x, lambda x: x.round() * x, [(3, 4)]),
    ("floor", lambda x: x.floor() + x, lambda x: x.floor() + x, [(3, 4)]),
    ("ceil", lambda x: x.ceil() * x, lambda x: x.ceil() * x, [(3, 4)]),
    ("trunc", lambda x: x.trunc() * x, lambda x: x.trunc() * x, [(3, 4)]),
    ("sign", lambda x: x.sign() * x, lambda x: x.sign() * x, [(3, 4)]),
    ("rsqrt", lambda x: (x * x + 1).rsqrt(), lambda x: (x * x + 1).rsqrt(), [(3, 4)]),
    ("log1p", lambda x: (x * x).log1p(), lambda x: (x * x).log1p(), [(3, 4)]),
    ("expm1", lambda x: x.expm1(), lambda x: x.expm1(), [(3, 4)]),
    ("pow", lambda x: (x * x + 1).pow(1.5), lambda x: (x * x + 1).pow(1.5), [(3, 4)]),
    ("std", lambda x: x.std(1, True), lambda x: x.std(1, keepdim=True), [(3, 4)]),
    ("std_correction0", lambda x: x.std(0, correction=0), lambda x: x.std(0, correction=0),
     [(3, 4)]),
    ("cumsum", lambda x: x.cumsum(1), lambda x: x.cumsum(1), [(3, 4)]),
    ("cumsum_neg", lambda x: x.cumsum(-3), lambda x: x.cumsum(-3), [(2, 3, 4)]),
    ("flip", lambda x: x.flip((0, -1)), lambda x: x.flip((0, -1)), [(2, 3, 4)]),
    ("roll", lambda x: x.roll(2, 1), lambda x: x.roll(2, 1), [(3, 5)]),
    ("roll_multi", lambda x: x.roll((1, -2), (0, -1)), lambda x: x.roll((1, -2), (0, -1)),
     [(3, 5)]),
    ("roll_flat", lambda x: x.roll(3), lambda x: x.roll(3), [(3, 5)]),
    ("amax", lambda x: x.amax(1), lambda x: x.amax(1), [(3, 4)]),
    ("amin", lambda x: x.amin(-1, True), lambda x: x.amin(-1, True), [(3, 4)]),
    ("masked_fill", lambda x: x.masked_fill(mg.tensor(MASK), -2.0),
     lambda x: x.masked_fill(torch.tensor(MASK), -2.0), [(3, 4)]),
    ("gather", lambda x: x.gather(1, mg.tensor(IDX)), lambda x: x.gather(1, torch.tensor(IDX)),
     [(3, 4)]),
    ("take_along_dim", lambda x: x.take_along_dim(mg.tensor(IDX), -1),
     lambda x: x.take_along_dim(torch.tensor(IDX), -1), [(3, 4)]),
    ("split", lambda x: x.split(2, 1)[1], lambda x: x.split(2, 1)[1], [(3, 5)]),
    ("split_sizes", lambda x: x.split([1, 2], 0)[1], lambda x: x.split([1, 2], 0)[1], [(3, 5)]),
    ("chunk", lambda x: x.chunk(3, -1)[2], lambda x: x.chunk(3, -1)[2], [(3, 5)]),
    ("unbind", lambda x: x.unbind(1)[2], lambda x: x.unbind(1)[2], [(3, 5)]),
    ("repeat", lambda x: x.repeat(2, 1, 3), lambda x: x.repeat(2, 1, 3), [(3, 4)]),
    ("tile", lambda x: x.tile((2,)), lambda x: x.tile((2,)), [(3, 4)]),
    ("expand_as", lambda x, y: x.expand_as(y) * y, lambda x, y: x.expand_as(y) * y,
     [(1, 4), (3, 4)]),
    ("tril", lambda x: x.tril(-1), lambda x: x.tril(-1), [(2, 4, 3)]),
    ("triu", lambda x: mg.triu(x, 1), lambda x: torch.triu(x, 1), [(4, 3)]),
    ("bmm", mg.bmm, torch.bmm, [(2, 3, 4), (2, 4, 5)]),
    ("outer", mg.outer, torch.outer, [(3,), (4,)]),
    ("logaddexp", mg.logaddexp, torch.logaddexp, [(3, 4), (3, 4)]),
    ("view", lambda x: x.view(-1, 2), lambda x: x.view(-1, 2), [(3, 4)]),
]
rng0 = np.random.default_rng(1)
MASK = rng0.random((3, 4)) > 0.5
IDX = rng0.integers(0, 4, (3, 2))


def _inputs(shapes, seed):
    rng = np.random.default_rng(seed)
    # distinct values, none within 0.05 of an integer or half-integer boundary
    arrays = []
    for shape in shapes:
        a = rng.uniform(-2, 2, shape)
        a = np.where(np.abs(a - np.round(a * 2) / 2) < 0.05, a + 0.13, a)
        arrays.append(a)
    return arrays


@pytest.mark.parametrize("name, fn, torch_fn, shapes", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(name, fn, torch_fn, shapes):
    arrays = _inputs(shapes, 0)
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = fn(*ours), torch_fn(*theirs)
    assert y.shape == tuple(ty.shape) and y.dtype == mg.float64
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    weights = np.random.default_rng(2).standard_normal(y.shape)
    (y * mg.tensor(weights)).sum().backward()
    (ty * torch.tensor(weights)).sum().backward()
    for a, ta in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, fn, torch_fn, shapes", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(name, fn, torch_fn, shapes):
    inputs = [mg.tensor(a, requires_grad=True) for a in _inputs(shapes, 3)]
    assert mg.gradcheck(fn, inputs)


def test_no_grad_ops_match_torch():
    a = np.array([[1.0, np.nan, np.inf], [-np.inf, 0.0, -2.5]])
    for name in ("isnan", "isinf", "isfinite"):
        np.testing.assert_array_equal(getattr(mg.tensor(a), name)().numpy(),
                                      getattr(torch.tensor(a), name)().numpy())


@pytest.mark.parametrize("call, words", [
    (lambda x: x.clamp(), ["clamp", "(3, 4)"]),
    (lambda x: x.cumsum(2), ["cumsum", "dim 2"]),
    (lambda x: x.flip(5), ["flip", "dim 5"]),
    (lambda x: x.roll((1, 2), 0), ["roll", "(3, 4)"]),
    (lambda x: x.masked_fill(mg.tensor(np.ones((2, 4), bool)), 0.0),
     ["masked_fill", "(2, 4)", "(3, 4)"]),
    (lambda x: x.split([1, 1], 0), ["split", "(3, 4)"]),
    (lambda x: x.chunk(0), ["chunk", "(3, 4)"]),
    (lambda x: x.repeat(2), ["repeat", "(3, 4)"]),
    (lambda x: x[0].tril(), ["tril", "(4,)"]),
    (lambda x: mg.bmm(x, x), ["bmm", "(3, 4)"]),
    (lambda x: mg.outer(x, x), ["outer", "(3, 4)"]),
])
def test_errors_name_op_and_shape(call, words):
    with pytest.raises((ValueError, TypeError)) as info:
        call(mg.zeros((3, 4)))
    for word in words:
        assert word in str(info.value)


def test_dim_keepdim_and_numpy_aliases_match_torch():
    a = np.random.default_rng(4).standard_normal((3, 4, 5))
    x, t = mg.tensor(a), torch.tensor(a)
    for name in ("sum", "mean", "logsumexp", "var", "std"):
        ours = getattr(x, name)(dim=(0, -1), keepdim=True)
        alias = getattr(x, name)(axis=(0, -1), keepdims=True)
        theirs = getattr(t, name)(dim=(0, -1), keepdim=True)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
        np.testing.assert_array_equal(ours.numpy(), alias.numpy())
    np.testing.assert_allclose(x.var(1, unbiased=False).numpy(),
                               t.var(1, unbiased=False).numpy(), rtol=1e-12)
    with pytest.raises(TypeError, match="dim or its alias axis"):
        x.sum(dim=0, axis=0)
