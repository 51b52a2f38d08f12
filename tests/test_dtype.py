"""dtypes: float32 stays float32 through every op and its gradient, scalars and NumPy values mixed
in included; float64 stays float64. Also the constructors, creation helpers and conversions."""
import operator

import numpy as np
import pytest
from conftest import require
from op_registry import OPS, make_inputs

import minigrad as mg


def run(op, dtype):
    xs = [mg.tensor(a.astype(dtype), requires_grad=op.grad) for a in
          make_inputs(op.shapes[-2 if len(op.shapes) > 1 else 0], op.domain)]
    out = op.fn(*xs)
    grads = mg.grad(out, xs, grad_outputs=mg.ones_like(out), allow_unused=True) if op.grad else ()
    return xs, out, grads


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", OPS, ids=str)
def test_every_op_keeps_the_float_dtype(op, dtype):
    xs, out, grads = run(op, dtype)
    assert out.dtype == (op.out_dtype or dtype), f"{op.name}: {dtype.__name__} in, {out.dtype} out"
    for x, g in zip(xs, grads):
        assert g is None or g.dtype == x.dtype, f"{op.name}: gradient {g.dtype} for {x.dtype}"


BINARY = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
    "pow": operator.pow, "maximum": mg.maximum, "minimum": mg.minimum,
    "where": lambda a, b: mg.where(np.array(True), a, b),
}
SCALARS = {
    "float": 1.5, "int": 2, "bool": True, "np.float64": np.float64(1.5), "np.int64": np.int64(2),
    "np.float32": np.float32(1.5), "0-d float64 array": np.array(1.5), "0-d int array": np.array(2),
}


@pytest.mark.parametrize("shape", [(), (3,)], ids=["0-d", "1-d"])
@pytest.mark.parametrize("scalar", SCALARS, ids=str)
@pytest.mark.parametrize("name", BINARY, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_python_and_numpy_scalars_take_the_tensor_dtype(name, scalar, shape, dtype):
    fn, value = BINARY[name], SCALARS[scalar]
    x = mg.tensor(np.full(shape, 1.25, dtype), requires_grad=True)
    for out in (fn(x, value), fn(value, x)):
        assert out.dtype == dtype, f"{name}: {np.dtype(dtype)} with {scalar} gives {out.dtype}"
        (g,) = mg.grad(out.sum(), [x], allow_unused=True)
        assert g is None or g.dtype == dtype


def test_float32_mixes_with_a_float64_array_as_numpy_does():
    """A float64 array that is not 0-d is a full operand: the result is float64, like torch."""
    x = mg.tensor(np.ones(3, np.float32), requires_grad=True)
    out = x * np.ones(3)
    assert out.dtype == np.float64
    out.sum().backward()
    assert x.grad.dtype == np.float32


def test_integer_tensors_promote_to_float32_with_python_floats():
    i = mg.tensor([1, 2, 3])
    assert i.dtype == np.int64
    assert (i * 0.5).dtype == np.float32 and (i + 1).dtype == np.int64
    assert (i + True).dtype == np.int64 and (mg.tensor([True]) + 1).dtype == np.int64
    assert (i * mg.tensor(np.ones(3, np.float32))).dtype == np.float32, "a higher kind wins"
    assert (mg.tensor(np.ones(3, np.float32)) * np.ones(3, np.int64)).dtype == np.float32
    assert (i.float() + mg.tensor(1.0)).dtype == np.float32


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_ops_with_fractional_results_give_float32_for_integers_and_bools(dtype):
    """As in torch: division, exp, log, sqrt, tanh, sin, cos, log1p, expm1, rsqrt and sigmoid of
    an integer or bool tensor give the default float dtype (numpy alone gives float64, or float16
    for bools), with torch's values."""
    torch = require("torch")
    data = np.array([0, 1, 2, 5, 7, 1]).astype(dtype)
    ops = {"t / 3": lambda t: t / 3, "3 / t": lambda t: 3 / t, "t / t": lambda t: t / t,
           "exp": lambda t: t.exp(), "log": lambda t: t.log(), "sqrt": lambda t: t.sqrt(),
           "tanh": lambda t: t.tanh(), "sin": lambda t: t.sin(), "cos": lambda t: t.cos(),
           "log1p": lambda t: t.log1p(), "expm1": lambda t: t.expm1(),
           "rsqrt": lambda t: t.rsqrt(), "sigmoid": lambda t: t.sigmoid()}
    for name, op in ops.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            ours = op(mg.tensor(data))
        theirs = op(torch.from_numpy(data))
        assert ours.dtype == np.float32 and theirs.dtype == torch.float32, name
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, err_msg=name)
    assert (mg.tensor(data).double() / 3).dtype == np.float64     # a float stays as it is


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_])
def test_rounding_and_sign_follow_torch_on_every_dtype_and_on_nan_inf_and_zeros(dtype):
    """sign is 0 at nan (numpy's gives nan) and returns a bool tensor unchanged (numpy's fails);
    floor, ceil, trunc and round keep integer dtypes and refuse bools, all as in torch."""
    torch = require("torch")
    values = [0.0, -0.0, 2.5, -2.5, 0.5, -1.7, np.inf, -np.inf, np.nan, 3.0, 7.0, 1.0]
    if np.issubdtype(dtype, np.floating):
        data = np.array(values, dtype)
    else:
        data = np.array([0, 1, 2, 5, 7, 1, 0, 3, 9, 1, 4, 6]).astype(dtype)
    for name in ("sign", "floor", "ceil", "trunc", "round"):
        if dtype == np.bool_ and name != "sign":
            with pytest.raises(TypeError, match=f"{name}: not supported for a bool tensor"):
                getattr(mg.tensor(data), name)()
            continue
        ours, theirs = getattr(mg.tensor(data), name)(), getattr(torch.from_numpy(data), name)()
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), name
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=name)


def test_casts_and_their_gradients():
    x = mg.tensor(np.ones(3, np.float32), requires_grad=True)
    y = x.double()
    assert y.dtype == np.float64 and y.requires_grad
    y.sum().backward()
    assert x.grad.dtype == np.float32
    assert x.astype(mg.float32) is x
    integers = x.astype(mg.int64)
    assert integers.dtype == np.int64 and not integers.requires_grad


def test_tensor_constructor_dtypes():
    assert mg.tensor(1.5).dtype == np.float32 and mg.tensor([1.0, 2.0]).dtype == np.float32
    assert mg.tensor(3).dtype == np.int64 and mg.tensor([True]).dtype == np.bool_
    assert mg.tensor(np.ones(2)).dtype == np.float64
    assert mg.tensor(np.ones(2, np.float16)).dtype == np.float16
    assert mg.tensor([1, 2], dtype=mg.float64).dtype == np.float64
    a = np.arange(6.0).reshape(2, 3)
    t = mg.tensor(a)
    assert (t.shape, t.ndim, t.size, t.dtype) == ((2, 3), 2, 6, np.float64)
    a[0, 0] = 99.0
    assert t.numpy()[0, 0] == 0.0, "mg.tensor copies its data"
    w = mg.Tensor(a)
    assert w.numpy()[0, 0] == 99.0 and isinstance(w, mg.Tensor)
    assert mg.Tensor(1.5).dtype == np.float32
    assert mg.tensor(mg.tensor([1.0, 2.0])).tolist() == [1.0, 2.0]


def test_creation():
    cases = [
        (mg.zeros(2, 3), np.zeros((2, 3), np.float32)),
        (mg.zeros((2, 3)), np.zeros((2, 3), np.float32)),
        (mg.ones(4, dtype=mg.float64), np.ones(4)),
        (mg.full((2,), 7.0), np.full(2, 7.0, np.float32)),
        (mg.full((2,), 7), np.full(2, 7)),
        (mg.arange(5), np.arange(5)),
        (mg.arange(1, 2, 0.25), np.arange(1, 2, 0.25, dtype=np.float32)),
        (mg.eye(3), np.eye(3, dtype=np.float32)),
        (mg.eye(2, 3), np.eye(2, 3, dtype=np.float32)),
    ]
    for t, expected in cases:
        assert t.dtype == expected.dtype and t.shape == expected.shape
        np.testing.assert_array_equal(t.numpy(), expected)
    base = mg.tensor(np.ones((2, 2)))
    for make, value in [(mg.zeros_like, 0.0), (mg.ones_like, 1.0),
                        (lambda t: mg.full_like(t, 3.0), 3.0)]:
        t = make(base)
        assert (t.dtype, t.shape) == (np.float64, (2, 2)) and (t.numpy() == value).all()
    assert mg.zeros_like(base, dtype=mg.float32).dtype == np.float32
    assert mg.ones(2, requires_grad=True).requires_grad


def test_random_creation():
    mg.manual_seed(0)
    a = mg.randn(3, 4)
    state = mg.get_rng_state()
    b = mg.rand(5)
    mg.set_rng_state(state)
    assert mg.rand(5).tolist() == b.tolist()
    mg.manual_seed(0)
    assert mg.randn(3, 4).tolist() == a.tolist()
    assert a.dtype == np.float32 and a.shape == (3, 4)
    assert 0 <= b.numpy().min() and b.numpy().max() < 1
    base = mg.zeros(2, 2, dtype=mg.float64)
    assert mg.randn_like(base).dtype == np.float64 and mg.rand_like(base).shape == (2, 2)
    assert mg.randn(2, requires_grad=True).requires_grad


def test_dtype_names():
    assert (mg.float16, mg.float32, mg.float64) == (np.float16, np.float32, np.float64)
    assert (mg.int8, mg.int16, mg.int32, mg.int64) == (np.int8, np.int16, np.int32, np.int64)
    assert (mg.uint8, mg.bool_) == (np.uint8, np.bool_)


def test_numpy_interop():
    t = mg.tensor([1.0, 2.0])
    assert t.numpy() is t.data and isinstance(t.data, np.ndarray)
    assert np.asarray(t).tolist() == [1.0, 2.0]
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    left = np.array([2.0, 3.0], np.float32) * t           # numpy defers to the Tensor
    assert isinstance(left, mg.Tensor) and left.tolist() == [2.0, 6.0]
    with pytest.raises(TypeError):
        np.exp(t)                                           # ufuncs do not silently unwrap


def test_python_conversions():
    t = mg.tensor([[1.5, 2.0], [3.0, 4.0]])
    assert len(t) == 2 and [r.tolist() for r in t] == [[1.5, 2.0], [3.0, 4.0]]
    assert t.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    s = t[0, 0]
    assert float(s) == 1.5 and int(s) == 1 and s.item() == 1.5 and isinstance(s.item(), float)
    assert {t: 1}[t] == 1, "tensors hash by identity"
    with pytest.raises(TypeError, match="0-d"):
        len(s)


def test_array_copy_keyword():
    t = mg.tensor([1.0, 2.0])
    assert np.asarray(t, copy=False) is t.data
    copied = np.asarray(t, copy=True)
    assert copied is not t.data and np.shares_memory(copied, t.data) is False
    assert np.array(t, dtype=np.float64, copy=True).dtype == np.float64
    with pytest.raises(ValueError, match="copy=False.*float32.*float64"):
        np.asarray(t, dtype=np.float64, copy=False)


def test_index_and_format():
    assert [10, 20, 30][mg.tensor(1)] == 20 and list(range(5))[mg.tensor([2]):] == [2, 3, 4]
    with pytest.raises(TypeError, match=r"__index__.*shape \(\), dtype float32"):
        [1, 2][mg.tensor(1.0)]
    with pytest.raises(TypeError, match=r"__index__.*shape \(2,\)"):
        [1, 2][mg.tensor([0, 1])]
    assert f"{mg.tensor(2.5):.3f}" == "2.500" and f"{mg.tensor(7):>3}" == "  7"
    assert f"{mg.tensor([1.0, 2.0])}" == "tensor([1., 2.])"


def test_bool_of_one_element_and_invert():
    assert bool(mg.tensor([0.5])) is True and bool(mg.tensor(0)) is False
    assert (~mg.tensor([1, -2])).tolist() == [-2, 1]
    with pytest.raises(TypeError, match=r"invert.*float32"):
        ~mg.tensor([1.0])


def test_floordiv_and_mod_match_python_and_torch_signs():
    a, b = mg.tensor([5.5, -5.5, 5.5, -5.5]), mg.tensor([2.0, 2.0, -2.0, -2.0])
    assert (a // b).tolist() == [2.0, -3.0, -3.0, 2.0]
    assert (a % b).tolist() == [1.5, 0.5, -0.5, -1.5]
    assert (mg.tensor([7, -7]) // 2).tolist() == [3, -4] and (mg.tensor([7, -7]) % 2).tolist() == [1, 1]
    big = mg.tensor([1e10], dtype=mg.float64)
    assert (big % 3.3).item() == np.remainder(1e10, 3.3)       # exact, not 1e10 - 3.3 * q
    assert round(mg.tensor([2.5, 3.5, -0.5])).tolist() == [2.0, 4.0, -0.0]


def test_repr():
    assert repr(mg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(mg.tensor([1, 2])) == "tensor([1, 2])"
    assert "dtype=float64" in repr(mg.tensor(np.ones(2)))
    x = mg.tensor([1.0], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    assert "grad_fn=<Mul>" in repr(x * 2)
