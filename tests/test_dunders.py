"""Python's operator protocol on Tensor against PyTorch: abs, //, %, round, bool, index, format and
NumPy's __array__."""
import numpy as np
import pytest

import minigrad as mg
from conftest import require


@pytest.fixture(scope="module")
def torch():
    return require("torch")


def test_mod_and_floordiv_take_the_divisors_sign_like_torch(torch):
    a = np.array([5.0, -5.0, 5.0, -5.0, 3.0, -3.0, -0.0, 0.0, 7.5, -7.5])
    b = np.array([3.0, 3.0, -3.0, -3.0, np.inf, np.inf, 2.0, -2.0, 2.0, -0.5])
    x, y = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    r, tr = x % y, tx % ty
    assert np.array_equal(r.numpy(), tr.detach().numpy())
    assert np.array_equal(np.signbit(r.numpy()), np.signbit(tr.detach().numpy()))
    w = np.linspace(0.5, 1.5, a.size)
    r.backward(mg.tensor(w))
    tr.backward(torch.tensor(w))
    assert np.array_equal(x.grad.numpy(), tx.grad.numpy())          # 1
    assert np.array_equal(y.grad.numpy(), ty.grad.numpy())          # -floor(a / b)
    q = x // y
    assert np.array_equal(q.numpy(), (tx // ty).detach().numpy())
    assert not q.requires_grad
    ints = mg.tensor([7, -7])
    assert (7 % mg.tensor([2, -2])).tolist() == (7 % torch.tensor([2, -2])).tolist() == [1, -1]
    assert (ints // 2).tolist() == (torch.tensor([7, -7]) // 2).tolist() == [3, -4]
    assert (ints % 2).dtype == mg.int64


def test_mod_gradcheck():
    x = mg.tensor([5.3, -4.1, 2.7, -0.9], requires_grad=True, dtype=mg.float64)
    y = mg.tensor([3.1, 2.2, -1.3, -0.7], requires_grad=True, dtype=mg.float64)
    assert mg.gradcheck(lambda a, b: a % b, [x, y])
    assert mg.gradgradcheck(lambda a, b: a % b, [x, y])


def test_index_round_format_like_torch(torch):
    assert [10, 11, 12][mg.tensor(2)] == 12 and list(range(5))[mg.tensor([1]):] == [1, 2, 3, 4]
    for bad in (mg.tensor(1.0), mg.tensor([1, 2])):
        with pytest.raises(TypeError, match="one-element integer"):
            [1, 2][bad]
    x = np.array([2.5, 3.5, -0.5, 1.2345, -2.675])
    assert np.array_equal(round(mg.tensor(x)).numpy(), torch.round(torch.tensor(x)).numpy())
    assert np.array_equal(round(mg.tensor(x), 2).numpy(),
                          torch.round(torch.tensor(x), decimals=2).numpy())
    assert f"{mg.tensor(2.5):.3f}" == f"{torch.tensor(2.5):.3f}" == "2.500"
    assert f"{mg.tensor([0.25]):.1e}" == "2.5e-01"
    assert f"{mg.tensor([1.0, 2.0])}" == str(mg.tensor([1.0, 2.0]))


def test_bool_of_one_element_and_abs(torch):
    assert bool(mg.tensor([3.0])) and not bool(mg.tensor(0.0))
    for t in (mg.tensor([1.0, 2.0]), mg.tensor([])):
        with pytest.raises(ValueError, match=r"ambiguous"):
            bool(t)
    x = np.array([-2.0, -0.0, 3.0])
    assert np.array_equal(abs(mg.tensor(x)).numpy(), abs(torch.tensor(x)).numpy())
    assert (+mg.tensor(x)).tolist() == x.tolist()
    assert (~mg.tensor([True, False])).tolist() == [False, True]


def test_array_protocol_with_dtype_and_copy():
    t = mg.tensor([1.0, 2.0])
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    assert np.array(t, copy=True) is not t.data
    assert np.asarray(t) is t.data                                   # no copy asked, none made
    with pytest.raises(ValueError, match="float32.*int32.*copy=False"):
        np.array(t, dtype=np.int32, copy=False)
