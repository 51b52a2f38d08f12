"""Every public op, through one set of checks driven by tests/op_registry.py.

Forward against NumPy; backward against float64 finite differences (gradcheck and gradgradcheck)
on 0-d, size-1, broadcast and zero-size shapes; forward and backward against PyTorch on
hypothesis-generated shapes; the bad inputs and their messages; structural properties of the
gradients; the tie rule of max/min/maximum/minimum.
"""
import os
import re

import numpy as np
import pytest
from conftest import require
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from op_registry import (EXTREME, NO_BAD_INPUT, NOT_OPS, OPS, extreme_values, make_inputs,
                         public_api)

import minigrad as mg
from minigrad import ops

GRAD_OPS = [op for op in OPS if op.grad]
CASES = [(op, shapes) for op in OPS for shapes in op.shapes]
GRAD_CASES = [(op, shapes) for op, shapes in CASES if op.grad]
ERRORS = [(op, i) for op in OPS for i in range(len(op.errors))]
ORACLE = settings(max_examples=20, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def case_id(case):
    op, shapes = case
    return f"{op.name}-{'-'.join(str(s).replace(' ', '') for s in shapes)}"


def tensors(arrays, requires_grad):
    return [mg.tensor(a, requires_grad=requires_grad) for a in arrays]


def weights(shape, dtype=np.float64, seed=1):
    """A fixed random upstream gradient: an all-ones one would hide misplaced gradients."""
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def grads_of(op, arrays, upstream=None, dtype=np.float64):
    """Output and input gradients of op at `arrays` for a given upstream gradient."""
    xs = tensors([a.astype(dtype) for a in arrays], True)
    out = op.fn(*xs)
    g = weights(out.shape, out.dtype) if upstream is None else upstream(out)
    grads = mg.grad(out, xs, grad_outputs=mg.tensor(g), allow_unused=True)
    return out, xs, grads


def test_registry_covers_the_public_api():
    covered = {name for op in OPS for name in op.covers} | set(NOT_OPS)
    missing = sorted(public_api() - covered)
    assert not missing, f"public names without a registry entry (tests/op_registry.py): {missing}"
    stale = sorted(covered - public_api())
    assert not stale, f"registry entries for names that are not public: {stale}"


def test_every_public_name_has_a_bad_input_case():
    names = {name for op in OPS for name in op.covers}
    with_errors = {name for op in OPS if op.errors for name in op.covers}
    missing = sorted(names - with_errors - set(NO_BAD_INPUT))
    assert not missing, f"public names without an errors=[err(...)] case: {missing}"
    assert set(NO_BAD_INPUT) <= names - with_errors, "NO_BAD_INPUT lists a name that has one"


def test_registry_names_are_unique_and_every_entry_has_samples():
    assert len({op.name for op in OPS}) == len(OPS)
    for op in OPS:
        assert op.shapes and op.hyp is not None, op.name
        assert op.ref is not None and op.torch is not None, op.name


def test_non_ops_point_at_existing_tests():
    here = os.path.dirname(__file__)
    for name, where in NOT_OPS.items():
        path, _, test = where.partition("::")
        source = open(os.path.join(here, path)).read()
        if test:
            assert re.search(rf"^def {test}\(", source, re.M), f"{name}: {where} does not exist"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_forward_matches_numpy(case):
    op, shapes = case
    arrays = make_inputs(shapes, op.domain)
    xs = tensors(arrays, op.grad)
    out = op.fn(*xs)
    expected = np.asarray(op.ref(*[a.copy() for a in arrays]))
    assert isinstance(out, mg.Tensor)
    assert out.shape == expected.shape, f"{op.name}: shape {out.shape}, numpy {expected.shape}"
    assert out.dtype == (op.out_dtype or expected.dtype), f"{op.name}: dtype {out.dtype}"
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    if op.inplace:
        assert out is xs[0], f"{op.name} must return the tensor it updated"


def fd_tolerance(op):
    """Central differences in float64 with a step of 1e-6 (STYLE section 10). Casts round to
    float32, so they take a larger step (exact for a linear op) and a looser tolerance."""
    if op.fd_eps > 1e-6:
        return dict(eps=op.fd_eps, atol=1e-3, rtol=1e-3)
    return dict(eps=1e-6, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("case", GRAD_CASES, ids=case_id)
def test_gradcheck(case):
    op, shapes = case
    xs = tensors(make_inputs(shapes, op.domain), True)
    assert mg.gradcheck(op.fn, xs, **fd_tolerance(op))


@pytest.mark.parametrize("case", GRAD_CASES, ids=case_id)
def test_gradgradcheck(case):
    op, shapes = case
    xs = tensors(make_inputs(shapes, op.domain, seed=3), True)
    assert mg.gradgradcheck(op.fn, xs, **fd_tolerance(op))


@pytest.fixture(scope="module")
def torch():
    return require("torch")


@pytest.mark.parametrize("op", OPS, ids=str)
@ORACLE
@given(data=st.data())
def test_matches_torch(torch, op, data):
    shapes = data.draw(op.hyp, label="shapes")
    arrays = make_inputs(shapes, op.domain, seed=data.draw(st.integers(0, 2**16), label="seed"))
    xm = tensors(arrays, op.grad)
    xt = [torch.tensor(a, requires_grad=op.grad) for a in arrays]
    out_m, out_t = op.fn(*xm), op.torch(*xt)
    tol = dict(rtol=1e-6, atol=1e-7) if out_m.dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    assert out_m.shape == tuple(out_t.shape), f"{op.name}: {out_m.shape} vs torch {out_t.shape}"
    np.testing.assert_allclose(out_m.numpy(), out_t.detach().numpy(), **tol)
    if not op.grad:
        return
    w = weights(out_m.shape)
    out_m.backward(mg.tensor(w))
    out_t.backward(torch.tensor(w).to(out_t.dtype))
    for i, (m, t) in enumerate(zip(xm, xt)):
        expected = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        actual = np.zeros(m.shape) if m.grad is None else m.grad.numpy()
        np.testing.assert_allclose(actual, expected, rtol=1e-8, atol=1e-10,
                                   err_msg=f"{op.name}: gradient of input {i}, shapes {shapes}")


@pytest.mark.parametrize("entry", ERRORS, ids=lambda e: f"{e[0].name}-{e[1]}")
def test_bad_input_message(entry):
    op, i = entry
    thunk, exc, words = op.errors[i]
    with pytest.raises(exc) as info:
        thunk()
    for word in words:
        assert word in str(info.value), f"{op.name}: {word!r} not in {str(info.value)!r}"


@pytest.mark.parametrize("op", GRAD_OPS, ids=str)
def test_zero_upstream_gives_zero_gradients(op):
    for shapes in op.shapes:
        _, _, grads = grads_of(op, make_inputs(shapes, op.domain),
                               upstream=lambda out: np.zeros(out.shape, out.dtype))
        for g in grads:
            assert g is None or not np.any(g.numpy()), f"{op.name} {shapes}"


@pytest.mark.parametrize("op", GRAD_OPS, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_has_input_shape_and_dtype(op, dtype):
    for shapes in op.shapes:
        _, xs, grads = grads_of(op, make_inputs(shapes, op.domain), dtype=dtype)
        for x, g in zip(xs, grads):
            if g is not None:
                assert (g.shape, g.dtype) == (x.shape, x.dtype), f"{op.name} {shapes}"


@pytest.mark.parametrize("op", GRAD_OPS, ids=str)
def test_backward_twice_is_bit_identical(op):
    for shapes in op.shapes:
        arrays = make_inputs(shapes, op.domain)
        out1, _, grads1 = grads_of(op, arrays)
        out2, xs, grads2 = grads_of(op, arrays)
        assert np.array_equal(out1.numpy(), out2.numpy())
        # and through one retained graph, twice
        out = op.fn(*xs)
        w = mg.tensor(weights(out.shape, out.dtype))
        again = [mg.grad(out, xs, w, retain_graph=True, allow_unused=True) for _ in range(2)]
        for a, b, c, d in zip(grads1, grads2, *again):
            pairs = [(a, b), (a, c), (c, d)]
            for p, q in pairs:
                assert (p is None) == (q is None), f"{op.name} {shapes}"
                assert p is None or np.array_equal(p.numpy(), q.numpy()), f"{op.name} {shapes}"


TIES = np.array([[1.0, 3.0, 3.0, -2.0], [2.0, 2.0, 2.0, 0.5], [-1.0, -1.0, 4.0, -1.0]])


@pytest.mark.parametrize("reduce", [
    ("max", lambda x: x.max(), lambda x: x.amax()),
    ("max_axis1", lambda x: x.amax(1), lambda x: x.amax(1)),
    ("max_dim_values", lambda x: x.max(1).values, lambda x: x.max(1).values),   # first maximum
    ("max_axis0_keepdims", lambda x: x.max(0, keepdims=True), lambda x: x.amax(0, keepdim=True)),
    ("min", lambda x: x.min(), lambda x: x.amin()),
    ("min_axis1", lambda x: x.min(axis=1), lambda x: x.amin(1)),
    ("min_dim_values", lambda x: x.min(-1, True).values, lambda x: x.min(-1, True).values),
    ("maximum", lambda x: x.maximum(x[:, :1]), lambda x: x.maximum(x[:, :1])),
    ("minimum", lambda x: x.minimum(x[:1]), lambda x: x.minimum(x[:1])),
    ("mg.maximum", lambda x: mg.maximum(2.0, x), lambda x: x.maximum(x.new_full(x.shape, 2.0))),
    ("mg.minimum", lambda x: mg.minimum(x, -1.0), lambda x: x.minimum(x.new_full(x.shape, -1.0))),
], ids=lambda r: r[0])
def test_ties_split_the_gradient_evenly_like_torch(torch, reduce):
    _, fn_mg, fn_torch = reduce
    xm = mg.tensor(TIES, requires_grad=True)
    xt = torch.tensor(TIES, requires_grad=True)
    out_m, out_t = fn_mg(xm), fn_torch(xt)
    np.testing.assert_array_equal(out_m.numpy(), out_t.detach().numpy())
    w = weights(out_m.shape)
    out_m.backward(mg.tensor(w))
    out_t.backward(torch.tensor(w))
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=0)


def test_max_and_min_along_a_dim_return_torchs_values_and_first_indices(torch):
    for x in (TIES, -TIES, np.array([[1.0, np.nan, 2.0, np.nan]])):
        for name, keepdim in (("max", False), ("min", True), ("max", True)):
            got = getattr(mg.tensor(x), name)(1, keepdim)
            want = getattr(torch.tensor(x), name)(1, keepdim)
            np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
            np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
            assert got.indices.dtype == mg.int64 and got == (got.values, got.indices)
    assert mg.tensor(2.5).max(0).values.item() == 2.5      # a 0-d tensor, as torch
    assert mg.tensor(2.5).max(0).indices.item() == 0


def test_tie_rule_in_numbers():
    """Two tied maxima get half each; three tied get a third each."""
    x = mg.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5]
    y = mg.tensor([2.0, 2.0, 2.0], requires_grad=True)
    y.min().backward()
    np.testing.assert_allclose(y.grad.numpy(), [1 / 3] * 3)
    a, b = mg.tensor([1.0, 2.0], requires_grad=True), mg.tensor([1.0, 1.0], requires_grad=True)
    mg.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 1.0] and b.grad.tolist() == [0.5, 0.0]


def test_repeated_indices_accumulate():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_sliding_window_is_a_view_and_its_gradient_counts_overlaps():
    x = mg.tensor(np.arange(6.0), requires_grad=True)
    w = x.sliding_window(3, 0)
    assert w.shape == (4, 3) and np.shares_memory(w.numpy(), x.numpy())
    w.sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 3.0, 3.0, 2.0, 1.0]


def test_sliding_window_backward_loops_over_offsets_not_add_at():
    """The window adjoint adds one strided slice per window offset; np.add.at is not used."""
    import inspect

    import minigrad.ops as ops_module
    assert "add.at" not in inspect.getsource(ops_module.WindowsAdd)
    x = mg.tensor(np.arange(20.0).reshape(4, 5), requires_grad=True)
    x.sliding_window((2, 2), (0, 1), stride=2).sum().backward()
    assert x.grad.tolist() == [[1.0] * 4 + [0.0]] * 4


# --- extreme values: ±inf, nan, ±0.0, ±1e4, ± the smallest subnormal, against torch ---------------

def _same(actual, expected, rtol, signed_zeros, what, inputs):
    """Equal within rtol, nan where torch has nan, and (forward) the sign of every zero."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    close = np.isclose(actual, expected, rtol=rtol, atol=1e-300) | (actual == expected)
    close |= np.isnan(actual) & np.isnan(expected)
    if signed_zeros:
        close &= ~((actual == 0) & (expected == 0) & (np.signbit(actual) != np.signbit(expected)))
    bad = np.argwhere(~close)
    examples = [(tuple(float(x[tuple(i)]) for x in inputs), float(actual[tuple(i)]),
                 float(expected[tuple(i)])) for i in bad[:4]]
    assert not bad.size, f"{what}: {len(bad)} differ from torch, e.g. (inputs, ours, torch) {examples}"


def _torch_artefact(name, inputs):
    """torch's vectorised float remainder gives nan for a positive subnormal divisor, where the
    exact remainder (minigrad's, NumPy's fmod) is 0: those pairs are pinned separately."""
    if name not in ("mod", "rmod") or len(inputs) == 1 and name == "mod":
        return np.zeros(inputs[0].shape, bool)
    divisor = inputs[-1]
    return (divisor != 0) & (np.abs(divisor) < np.finfo(divisor.dtype).tiny)


def _check_extreme(torch, name, fm, ft, k, grad, dtype):
    v = extreme_values(dtype)
    inputs = [v] if k == 1 else [np.repeat(v[:, None], len(v), 1), np.repeat(v[None, :], len(v), 0)]
    xm = [mg.tensor(a, requires_grad=grad) for a in inputs]
    xt = [torch.tensor(a, requires_grad=grad) for a in inputs]
    out_m, out_t = fm(*xm), ft(*xt)
    skip = _torch_artefact(name, inputs)
    rtol = 2e-6 if dtype == np.float32 else 1e-13
    expected = np.where(skip, out_m.numpy(), out_t.detach().numpy())
    _same(out_m.numpy(), expected, rtol, True, f"{name} {dtype.__name__} forward", inputs)
    if not grad:
        return
    out_m.backward(mg.ones_like(out_m))
    out_t.backward(torch.ones_like(out_t))
    for i, (m, t) in enumerate(zip(xm, xt)):        # 1 - tanh^2 cancels: float32 grads to 2e-5
        gm = np.zeros(m.shape) if m.grad is None else m.grad.numpy()
        gt = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        _same(gm, np.where(skip, gm, gt), 2e-5 if dtype == np.float32 else 1e-12, False,
              f"{name} {dtype.__name__} gradient of input {i}", inputs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("op", [op for op in OPS if op.name in EXTREME], ids=str)
def test_extreme_values_match_torch(torch, op, dtype):
    with np.errstate(all="ignore"):
        _check_extreme(torch, op.name, op.fn, op.torch, len(op.shapes[0]), op.grad, dtype)


def _activations(torch):
    from nn import functional as F
    tf = torch.nn.functional
    return {"F.relu": (F.relu, tf.relu), "F.leaky_relu": (F.leaky_relu, tf.leaky_relu),
            "F.sigmoid": (F.sigmoid, torch.sigmoid), "F.tanh": (F.tanh, torch.tanh),
            "F.softplus": (F.softplus, tf.softplus), "F.logsigmoid": (F.logsigmoid, tf.logsigmoid),
            "F.silu": (F.silu, tf.silu)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", ["F.relu", "F.leaky_relu", "F.sigmoid", "F.tanh", "F.softplus",
                                  "F.logsigmoid", "F.silu"])
def test_extreme_values_of_activations_match_torch(torch, name, dtype):
    fm, ft = _activations(torch)[name]
    with np.errstate(all="ignore"):
        _check_extreme(torch, name, fm, ft, 1, True, dtype)


def test_remainder_by_a_subnormal_is_exact():
    tiny = np.finfo(np.float64).smallest_subnormal
    a = mg.tensor([1.0, -1.0, 1e4, 3.5], dtype=mg.float64)
    out = (a % tiny).numpy()
    assert out.tolist() == [0.0, 0.0, 0.0, 0.0] and np.signbit(out).tolist() == [0, 1, 0, 0]


def test_gelu_differs_from_torch_by_its_erf_approximation_only(torch):
    """F.gelu's erf is Abramowitz and Stegun's 7.1.26, |error| < 1.5e-7 (docs/attention.md): so
    |gelu - torch's| <= 0.5 |x| 1.5e-7 in float64, and the same nan, inf and signed zeros. (Over
    a dense grid on [-8, 8] the gradient's largest difference is 5.3e-7.)"""
    from nn import functional as F
    v = extreme_values(np.float64)
    x, xt = mg.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
    with np.errstate(all="ignore"):
        out, ref = F.gelu(x), torch.nn.functional.gelu(xt)
        out.sum().backward()
        ref.sum().backward()
    finite = np.isfinite(v)
    got, want = out.numpy(), ref.detach().numpy()
    assert (np.abs(got[finite] - want[finite]) <= 0.75e-7 * np.abs(v[finite])).all()
    np.testing.assert_array_equal(got[~finite], want[~finite])          # inf, nan, nan
    assert (np.signbit(got) == np.signbit(want))[got == 0].all()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=0, atol=6e-7)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int8, np.int64,
                                   np.uint8, np.bool_])
def test_where_selects_bit_for_bit_as_numpy(dtype):
    """Where's select on the raw bits keeps each element exactly: nan payloads, -0.0 and inf, for
    broadcast operands and conditions, and written into a given output as the replay does."""
    rng = np.random.default_rng(0)
    a, b = ((rng.standard_normal((6, 9)) * 50).astype(dtype) for _ in range(2))
    if np.issubdtype(dtype, np.floating):
        a[0, :3] = [np.nan, -0.0, np.inf]
        b[1, :3] = [-np.inf, 0.0, np.nan]
        a[2, 0] = np.nan
        a.view(f"u{a.itemsize}")[2, 0] |= 1               # a nan with its own payload
    cond = rng.random((6, 9)) < 0.5
    cases = [(a, b, cond),
             (np.broadcast_to(a[:1], a.shape), b, np.broadcast_to(cond[:, :1], a.shape))]
    for x, y, c in cases:
        expected = np.where(c, x, y).view(np.uint8)
        assert np.array_equal(ops.select(x, y, c).view(np.uint8), expected)
        out = np.empty(a.shape, dtype)
        ops.select(x, y, c, out)
        assert np.array_equal(out.view(np.uint8), expected)
    got = mg.where(mg.tensor(cond), mg.tensor(a), mg.tensor(b))
    assert got.dtype == dtype
    assert np.array_equal(got.numpy().view(np.uint8), np.where(cond, a, b).view(np.uint8))
