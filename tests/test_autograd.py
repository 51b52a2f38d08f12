"""The reverse-mode engine, one property per test: deep graphs, reuse, accumulation, retained and
freed graphs, grad modes, retain_grad, higher order, in-place checks, memory and reference counting,
mg.grad, and the gradient checkers themselves."""
import gc
import subprocess
import sys
import tracemalloc
import weakref

import numpy as np
import pytest
from conftest import require

import minigrad as mg
from minigrad.autograd import Primitive


def leaf(values, dtype=np.float64):
    return mg.tensor(np.asarray(values, dtype), requires_grad=True)


def test_deep_chain_backprops_without_recursion_error():
    x = leaf([1.0, 2.0])
    y = x
    for i in range(100_000):
        y = y * 1.0 if i % 2 else y + 0.5
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    assert y.tolist() == [25_001.0, 25_002.0]


def test_deep_chain_dropped_without_backward_is_freed_without_crashing():
    """Deallocating a 100,000-node chain must not overflow the C stack (run in a subprocess, so a
    crash shows up as a failure rather than taking the test run down)."""
    code = (
        "import gc, weakref, minigrad as mg\n"
        "gc.disable()\n"
        "x = mg.tensor([1.0], requires_grad=True)\n"
        "y = x * 2.0\n"
        "first = weakref.ref(y)\n"
        "for _ in range(100_000):\n"
        "    y = y + 1.0\n"
        "del y\n"
        "assert first() is None, 'chain not freed by reference counting'\n"
        "print('freed')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "freed", result.stderr[-2000:]


def test_diamond_reuse_accumulates_both_paths():
    x = leaf([0.5, -1.0])
    a = x.exp()
    y = (a * 2.0) * (a * 3.0) + a      # dy/dx = (12 a^2 + a)
    y.sum().backward()
    a_np = np.exp([0.5, -1.0])
    np.testing.assert_allclose(x.grad.numpy(), 12 * a_np ** 2 + a_np, rtol=1e-12)


def test_same_tensor_on_both_sides():
    x = leaf([3.0])
    (x * x).backward(mg.tensor([1.0]))
    assert x.grad.tolist() == [6.0]
    y = leaf([2.0])
    (y / y).sum().backward()
    assert y.grad.tolist() == [0.0]


def test_accumulation_across_calls():
    x = leaf([1.0, 2.0])
    (x * 3.0).sum().backward()
    (x * x).sum().backward()
    assert x.grad.tolist() == [3.0 + 2.0, 3.0 + 4.0]
    x.grad = None
    (x * 3.0).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    assert not x.grad.requires_grad, "plain backward builds no graph of the gradient"


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * first)


def test_second_backward_through_a_freed_graph_raises_clearly():
    x = leaf([1.0, 2.0])
    y = (x.tanh() * 2.0).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True") as info:
        y.backward()
    assert "already freed" in str(info.value)


def test_backward_frees_saved_tensors():
    x = leaf([1.0, 2.0])
    h = x.exp()
    y = (h * 2.0).sum()
    op = h._ctx
    assert op.inputs is not None
    y.backward()
    assert op.inputs is None and not hasattr(op, "out")


def test_no_grad():
    x = leaf([1.0])
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        y = x * 2.0
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y._ctx is None

    @mg.no_grad()
    def f(t):
        return t * 2.0, mg.is_grad_enabled()

    z, enabled = f(x)
    assert not z.requires_grad and not enabled and mg.is_grad_enabled()


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with mg.no_grad():
            1 / 0
    assert mg.is_grad_enabled()


def test_enable_grad():
    x = leaf([1.0])
    with mg.no_grad():
        with mg.enable_grad():
            y = x * 2.0
        z = x * 2.0
    assert y.requires_grad and not z.requires_grad

    @mg.enable_grad()
    def f(t):
        return t * 2.0

    with mg.no_grad():
        assert f(x).requires_grad


def test_retain_grad_on_non_leaf():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    k = h * 1.0
    assert x.is_leaf and not h.is_leaf
    h.retain_grad()
    (k * k).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * np.array([3.0, 6.0]))
    assert k.grad is None, "non-leaves have no .grad unless retain_grad() was called"
    np.testing.assert_allclose(x.grad.numpy(), 6 * np.array([3.0, 6.0]))


def test_requires_grad_rules():
    x = mg.tensor([1.0])
    assert not x.requires_grad and not (x * 2).requires_grad
    assert x.requires_grad_() is x and x.requires_grad
    assert (x * 2).requires_grad
    x.requires_grad = False
    assert not x.requires_grad
    with pytest.raises(RuntimeError, match="non-leaf"):
        (leaf([1.0]) * 2).requires_grad = False


def test_detach_cuts_the_graph():
    x = leaf([1.0, 2.0])
    d = (x * 2.0).detach()
    assert not d.requires_grad and d.is_leaf and d.tolist() == [2.0, 4.0]
    (x * d).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_graph_attributes():
    x = leaf([1.0])
    x.name = "fc.weight"
    y = x.exp()
    assert y.grad_fn is y._ctx and type(y._ctx).__name__ == "Exp"
    assert y._ctx.inputs == (x,) and y._ctx.inputs[0].name == "fc.weight"
    assert x.grad_fn is None and y.name is None


def test_scope():
    x = leaf([1.0])
    with mg.scope("block", kind="module"):
        y = x * 2.0

        @mg.scope("double")
        def double(t):
            return t * 2.0

        z = double(y)
    w = z * 1.0
    assert [s[:2] for s in y._ctx.scope] == [("module", "block")]
    assert [s[:2] for s in z._ctx.scope] == [("module", "block"), ("op", "double")]
    assert w._ctx.scope == ()
    assert y._ctx.scope[0][2] == z._ctx.scope[0][2], "one scope entry has one serial"


def test_create_graph_hessian_vector_product_matches_torch():
    torch = require("torch")
    rng = np.random.default_rng(0)
    x0, w0, v0 = rng.standard_normal(4), rng.standard_normal((4, 3)), rng.standard_normal(4)

    def f(x, w, lib):
        h = (x @ w).tanh()
        return (h * h).sum() + (x * x * x).sum() / 3 + lib(x).sum()

    x, w = leaf(x0), mg.tensor(w0)
    (g,) = mg.grad(f(x, w, lambda t: t.exp()), x, create_graph=True)
    assert g.requires_grad
    (hv,) = mg.grad((g * mg.tensor(v0)).sum(), x)

    xt = torch.tensor(x0, requires_grad=True)
    (gt,) = torch.autograd.grad(f(xt, torch.tensor(w0), torch.exp), xt, create_graph=True)
    (hvt,) = torch.autograd.grad((gt * torch.tensor(v0)).sum(), xt)
    np.testing.assert_allclose(g.numpy(), gt.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(hv.numpy(), hvt.numpy(), rtol=1e-10)


def test_gradient_penalty_matches_torch():
    """d/dw of (|d D(x) / dx| - 1)^2, as in WGAN-GP."""
    torch = require("torch")
    rng = np.random.default_rng(1)
    x0, w0 = rng.standard_normal((5, 3)), rng.standard_normal((3, 2))

    def penalty(x, w, grad):
        d = (x @ w).tanh().sum()
        (g,) = grad(d, x)
        return (((g * g).sum(axis=1) + 1e-12) ** 0.5 - 1) ** 2

    x, w = leaf(x0), leaf(w0)
    p = penalty(x, w, lambda d, x: mg.grad(d, x, create_graph=True)).mean()
    p.backward()
    xt, wt = (torch.tensor(a, requires_grad=True) for a in (x0, w0))
    pt = penalty(xt, wt, lambda d, x: torch.autograd.grad(d, x, create_graph=True))
    pt.mean().backward()
    np.testing.assert_allclose(p.item(), pt.mean().item(), rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-9)


def test_backward_with_create_graph_gives_differentiable_grad():
    x = leaf([2.0])
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad and g.tolist() == [12.0]
    x.grad = None
    g.sum().backward()
    assert x.grad.tolist() == [12.0]          # d(3 x^2)/dx = 6 x


def test_in_place_change_of_a_saved_input_raises():
    w = leaf([1.0, 2.0])
    x = mg.tensor(np.array([3.0, 4.0]))
    y = (w * x).sum()
    with mg.no_grad():
        w.add_(1.0)                   # an optimizer step before backward
    with pytest.raises(RuntimeError, match="modified in place") as info:
        y.backward()
    assert "Mul" in str(info.value) and "(2,)" in str(info.value)


def test_in_place_change_of_a_saved_constant_raises():
    w = leaf([1.0, 2.0])
    x = mg.tensor(np.array([3.0, 4.0]))
    y = (w * x).sum()
    x.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_in_place_update_of_a_tensor_unrelated_to_the_graph_is_fine():
    w = leaf([1.0, 2.0])
    y = (w * 3.0).sum()
    other = mg.zeros(2)
    other.add_(1.0)
    y.backward()
    assert w.grad.tolist() == [3.0, 3.0]


def test_in_place_on_a_tensor_requiring_grad_is_refused_while_recording():
    w = leaf([1.0])
    with pytest.raises(RuntimeError, match="no_grad"):
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="setitem"):
        w[0] = 2.0
    with mg.no_grad():
        w.add_(1.0)
        w += 1.0
    assert w.tolist() == [3.0] and w.is_leaf


def test_augmented_assignment_is_out_of_place_while_recording():
    w = leaf([1.0, 2.0])
    h = w * 1.0
    before = h
    h += 2.0
    assert h is not before and before.tolist() == [1.0, 2.0]
    h.sum().backward()
    assert w.grad.tolist() == [1.0, 1.0]


@pytest.mark.slow
def test_memory_stays_flat_over_10000_training_steps():
    rng = np.random.default_rng(0)
    w = leaf(rng.standard_normal(8))
    x = mg.tensor(rng.standard_normal(8))

    def step():
        loss = (x * w).tanh().sum()
        loss.backward()
        with mg.no_grad():
            w.sub_(w.grad * 0.01)
        w.grad = None

    for _ in range(100):
        step()
    def traced():
        gc.collect()          # count what is retained, not Python's free lists
        return tracemalloc.get_traced_memory()[0]

    tracemalloc.start()
    try:
        for _ in range(500):
            step()
        start = traced()
        for _ in range(9_400):
            step()
        growth = traced() - start
    finally:
        tracemalloc.stop()
    # a leak of one small object per step would be over 400 kB
    assert growth < 8_000, f"memory grew by {growth} bytes over 9,400 steps"


def test_graph_is_freed_by_reference_counting_alone():
    gc.collect()
    gc.disable()
    try:
        x = leaf([1.0, 2.0])
        h = x.exp()
        y = (h * x).tanh().sum()
        refs = [weakref.ref(h), weakref.ref(h._ctx), weakref.ref(y._ctx)]
        del h
        assert refs[0]() is not None, "the graph keeps its intermediates while it is alive"
        del y
        assert all(r() is None for r in refs), "graph kept alive by a reference cycle"
        z = (x.exp() * x).sum()
        ref = weakref.ref(z._ctx)
        z.backward()
        del z
        assert ref() is None
    finally:
        gc.enable()


def test_grad_allow_unused():
    x, unused = leaf([1.0, 2.0]), leaf([5.0])
    y = (x * x).sum()
    with pytest.raises(RuntimeError, match="allow_unused=True") as info:
        mg.grad(y, [x, unused], retain_graph=True)
    assert "input 1" in str(info.value) and "(1,)" in str(info.value)
    gx, gu = mg.grad(y, [x, unused], allow_unused=True)
    assert gx.tolist() == [2.0, 4.0] and gu is None
    assert x.grad is None, "mg.grad does not accumulate into .grad"


def test_grad_with_several_outputs_and_grad_outputs():
    x = leaf([1.0, 2.0])
    a, b = x * 2.0, x * x
    (g,) = mg.grad([a, b], x, grad_outputs=[mg.tensor([1.0, 0.0]), mg.tensor([0.0, 1.0])])
    assert g.tolist() == [2.0, 4.0]


def test_grad_of_an_intermediate():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    y = (h * h).sum()
    gh, gx = mg.grad(y, [h, x])
    assert gh.tolist() == [6.0, 12.0] and gx.tolist() == [18.0, 36.0]


def test_backward_on_non_scalar_explains_what_to_pass():
    y = leaf([[1.0, 2.0]]) * 2.0
    with pytest.raises(RuntimeError) as info:
        y.backward()
    message = str(info.value)
    assert "(1, 2)" in message and "gradient" in message and "sum()" in message


def test_backward_with_a_gradient_of_the_wrong_shape():
    y = leaf([1.0, 2.0]) * 2.0
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        y.backward(mg.tensor([1.0, 1.0, 1.0]))


def test_backward_on_a_tensor_without_a_graph():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.tensor([1.0]).sum().backward()


def test_backward_with_a_gradient_matches_torch():
    torch = require("torch")
    x0, g0 = np.array([[0.3, -1.2], [2.0, 0.7]]), np.array([[1.0, -2.0], [0.5, 3.0]])
    x = leaf(x0)
    (x.tanh() @ x).backward(mg.tensor(g0))
    xt = torch.tensor(x0, requires_grad=True)
    (xt.tanh() @ xt).backward(torch.tensor(g0))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


class _WrongSecondDerivative(Primitive):
    """x^2 whose backward treats 2x as a constant: right first derivative, wrong second."""

    def forward(self, a):
        return a * a

    def backward(self, g):
        return (g * mg.Tensor(2 * self.inputs[0].data),)


class _WrongInOnePlace(Primitive):
    """x^2 with a wrong derivative at element 1."""

    def forward(self, a):
        return a * a

    def backward(self, g):
        (x,) = self.inputs
        scale = np.ones(x.shape)
        scale[1] = 3.0
        return (g * x * 2.0 * mg.Tensor(scale),)


def test_gradcheck_reports_the_worst_element():
    x = leaf([0.5, 1.5, -0.7])
    assert mg.gradcheck(lambda t: t.tanh() * t, [x])
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(lambda t: _WrongInOnePlace.apply(t), [x])
    message = str(info.value)
    assert "input 0" in message and "(3,)" in message and "worst element (1,)" in message
    assert issubclass(mg.GradcheckError, AssertionError)


def test_gradcheck_insists_on_float64():
    with pytest.raises(TypeError, match="float64"):
        mg.gradcheck(lambda t: t * 2, [mg.tensor([1.0], requires_grad=True)])


def test_gradcheck_perturbs_inputs_in_any_memory_order():
    """An input in Fortran order (or any view numpy cannot flatten without a copy) is perturbed
    in place, element by element: a flattened copy left it unchanged, every numeric derivative
    came out 0 and a correct gradient was reported wrong. The input is restored afterwards."""
    a = np.asfortranarray(np.random.default_rng(0).standard_normal((3, 4)))
    x = mg.tensor(a, requires_grad=True)
    assert not x.data.flags.c_contiguous
    assert mg.gradcheck(lambda t: (t * t * t).sum(1), [x])
    with pytest.raises(mg.GradcheckError, match=r"worst element \(1, "):
        mg.gradcheck(lambda t: _WrongInOnePlace.apply(t), [x])
    np.testing.assert_array_equal(x.data, a)


def test_gradgradcheck_catches_a_wrong_second_derivative():
    x = leaf([0.5, 1.5])
    assert mg.gradcheck(lambda t: _WrongSecondDerivative.apply(t), [x])
    assert mg.gradgradcheck(lambda t: t * t * t, [x])
    with pytest.raises(mg.GradcheckError):
        mg.gradgradcheck(lambda t: _WrongSecondDerivative.apply(t) * t, [x])


def test_each_leaf_owns_its_gradient_array():
    """Add hands the same gradient to both inputs, and Expand's is a broadcast view: a leaf's
    .grad must still be its own writable array, so updating one leaf's gradient in place cannot
    change another's."""
    a = mg.randn(3, requires_grad=True)
    b = mg.randn(3, requires_grad=True)
    c = mg.randn(1, requires_grad=True)
    (a + b + c).sum().backward()
    assert not np.shares_memory(a.grad.data, b.grad.data)
    assert all(t.grad.data.flags.writeable and t.grad.data.base is None for t in (a, b, c))
    with mg.no_grad():
        a.grad.mul_(2.0)
    np.testing.assert_array_equal(b.grad.data, np.ones(3, np.float32))
    np.testing.assert_array_equal(a.grad.data, np.full(3, 2.0, np.float32))


def test_a_square_written_as_a_product_multiplies_once_in_backward():
    """x * x: Mul's backward makes one product for both of its (equal) inputs; the gradient is
    still 2 g x, and so is the second derivative."""
    x = mg.tensor([0.5, -2.0, 3.0], requires_grad=True)
    (gx,) = mg.grad((x * x).sum(), x, create_graph=True)
    muls, stack = set(), [gx]
    while stack:
        op = stack.pop()._ctx
        if op is not None and op.inputs is not None:
            muls |= {id(op)} if type(op).__name__ == "Mul" else set()
            stack.extend(op.inputs)
    assert len(muls) == 1
    np.testing.assert_array_equal(gx.numpy(), [1.0, -4.0, 6.0])
    (hx,) = mg.grad(gx.sum(), x)
    np.testing.assert_array_equal(hx.numpy(), [2.0, 2.0, 2.0])
