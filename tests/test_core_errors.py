"""Bad input to the core: each error names the op, the shapes or dtypes involved and what was
expected. (Per-op shape errors live with their op in tests/op_registry.py.)"""
import numpy as np
import pytest
from conftest import require

import minigrad as mg
from minigrad.autograd import Primitive


def raises(exc, thunk, *words):
    with pytest.raises(exc) as info:
        thunk()
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    return message


def test_shape_mismatches_name_the_op_and_both_shapes():
    a, b = mg.ones(2, 3), mg.ones(4)
    raises(ValueError, lambda: a + b, "add", "(2, 3)", "(4,)")
    raises(ValueError, lambda: a @ mg.ones(4, 5), "matmul", "(2, 3)", "(4, 5)", "inner")
    raises(ValueError, lambda: mg.ones(2, 2, 3) @ mg.ones(3, 3, 2), "matmul", "batch",
           "(2, 2, 3)", "(3, 3, 2)")
    raises(ValueError, lambda: a.reshape(5), "reshape", "(2, 3)", "6 elements", "(5,)")
    raises(ValueError, lambda: a.expand(3, 3), "broadcast_to", "(2, 3)", "(3, 3)")
    raises(ValueError, lambda: mg.where(mg.ones(2) > 0, a, b), "where", "(2,)", "(2, 3)", "(4,)")
    raises(ValueError, lambda: a == b, "equal", "(2, 3)", "(4,)")


def test_requires_grad_on_an_integer_tensor():
    raises(TypeError, lambda: mg.tensor([1, 2], requires_grad=True), "requires_grad", "int64",
           "float")
    raises(TypeError, lambda: mg.arange(3).requires_grad_(), "int64")
    raises(TypeError, lambda: mg.zeros(2, dtype=mg.bool_, requires_grad=True), "bool")


def test_index_out_of_range():
    x = mg.ones(2, 3)
    raises(IndexError, lambda: x[2], "getitem", "out of bounds", "(2, 3)")
    raises(IndexError, lambda: x[:, [0, 3]], "getitem", "(2, 3)")
    raises(IndexError, lambda: x[0, 0, 0], "getitem", "(2, 3)")
    raises(IndexError, lambda: x.take_along_axis(np.array([[0, 3]]), 1), "take_along_axis",
           "(2, 3)")


def test_sliding_window_larger_than_the_axis():
    x = mg.ones(1, 3, 5, 5)
    raises(ValueError, lambda: x.sliding_window((6, 2), (2, 3)), "sliding_window", "window 6",
           "axis 2", "(1, 3, 5, 5)")
    raises(ValueError, lambda: x.sliding_window(3, 3, dilation=3), "sliding_window", "dilation 3")
    raises(ValueError, lambda: x.sliding_window(2, 3, stride=0), "sliding_window", "stride 0")


def test_mixing_in_a_torch_tensor():
    torch = require("torch")
    t, x = torch.ones(2), mg.ones(2)
    for thunk, op in [(lambda: mg.tensor(t), "tensor"), (lambda: mg.Tensor(t), "Tensor"),
                      (lambda: x + t, "add"), (lambda: t + x, "add"), (lambda: x * t, "mul"),
                      (lambda: mg.matmul(x, t), "matmul"), (lambda: mg.where(t > 0, x, x), "where"),
                      (lambda: mg.maximum(t, x), "maximum"), (lambda: x < t, "less"),
                      (lambda: mg.concatenate([x, t]), "tensor"),
                      (lambda: x[torch.tensor([0])], "getitem"),
                      (lambda: x.take_along_axis(torch.tensor([0]), 0), "take_along_axis")]:
        raises(TypeError, thunk, op, "torch", "numpy()")
    with mg.no_grad():
        raises(TypeError, lambda: x.add_(t), "add_", "torch")
        raises(TypeError, lambda: x.copy_(t), "copy_", "torch")


def test_unsupported_operand_type():
    raises(TypeError, lambda: mg.ones(2) + "a", "add", "str")
    raises(TypeError, lambda: mg.ones(2) * [1.0, 2.0], "mul", "list")


def test_item_and_truth_value_of_many_elements():
    raises(ValueError, lambda: mg.ones(2, 2).item(), "item", "(2, 2)")
    raises(TypeError, lambda: len(mg.tensor(1.0)), "0-d")


def test_bool_of_many_elements():
    raises(ValueError, lambda: bool(mg.ones(3)), "(3,)", "any()", "all()")
    assert bool(mg.ones(1)) and not bool(mg.zeros(()))


def test_in_place_errors():
    x = mg.zeros(2)
    raises(ValueError, lambda: x.add_(mg.ones(3)), "add_", "(2,)", "(3,)")
    raises(TypeError, lambda: mg.zeros(2, dtype=mg.int64).add_(1.5), "float64", "int64")
    w = mg.ones(2, requires_grad=True)
    raises(RuntimeError, lambda: w.mul_(2.0), "mul_", "requires grad", "no_grad")
    raises(RuntimeError, lambda: w.zero_(), "zero_", "no_grad")


def test_backward_and_grad_misuse():
    y = mg.ones(2, 3, requires_grad=True) * 2.0
    raises(RuntimeError, y.backward, "backward", "(2, 3)", "gradient of shape (2, 3)", ".sum()")
    raises(ValueError, lambda: y.backward(mg.ones(3)), "gradient", "(3,)", "(2, 3)")
    raises(RuntimeError, lambda: mg.ones(2).sum().backward(), "does not require grad")
    x = mg.ones(2, requires_grad=True)
    raises(ValueError, lambda: mg.grad((x * 2).sum(), mg.ones(2)), "grad", "input 0",
           "does not require grad")
    raises(ValueError, lambda: mg.grad([x.sum(), x.sum()], x, grad_outputs=[None]), "2 outputs",
           "1 grad_outputs")
    raises(TypeError, lambda: mg.grad(3.0, x), "float", "not a Tensor")


def test_reduction_and_axis_errors():
    x = mg.ones(2, 3)
    raises(IndexError, lambda: x.sum(axis=2), "sum", "dim 2", "[-2, 1]", "(2, 3)")
    raises(ValueError, lambda: x.mean(axis=(1, -1)), "mean", "repeated")
    raises(ValueError, lambda: mg.ones(0, 3).max(axis=0), "max", "zero-size", "(0, 3)")
    raises(ValueError, lambda: x.squeeze(0), "squeeze", "(2, 3)")
    raises(ValueError, lambda: x.transpose(0), "transpose", "(0,)", "(2, 3)")
    raises(ValueError, lambda: mg.concatenate([x, mg.ones(3, 2)], axis=0), "concatenate",
           "(2, 3)", "(3, 2)")
    raises(ValueError, lambda: mg.stack([x, mg.ones(3)]), "stack", "(2, 3)", "(3,)")


def test_a_0d_tensor_takes_dim_0_and_minus_1_as_torch():
    x = mg.tensor(2.0)
    for reduce in (x.sum, x.mean, x.amax, x.logsumexp, x.softmax, x.flip, x.any, x.argmax):
        assert reduce(0).shape == () and reduce(-1).shape == ()
    assert x.unsqueeze(-1).shape == (1,) and x.flatten(0, -1).shape == (1,)
    assert x.transpose(0, -1).shape == () and x.swapaxes(0, 0).shape == ()
    raises(IndexError, lambda: x.sum(1), "sum", "dim 1", "[-1, 0]", "()")


def test_mg_functions_refuse_a_first_argument_that_is_not_a_tensor():
    """mg.<name> refuses what torch.<name> refuses, with torch's words; the Tensor method calls
    the function itself, without the check."""
    torch = require("torch")
    own_checks = ("einsum", "cat", "stack", "linspace")
    for name in [n for n in mg.tensor_ops.FUNCTIONS if n not in own_checks]:
        with pytest.raises((TypeError, AttributeError)):
            getattr(torch, name)([1.0, 2.0])
        raises(TypeError, lambda: getattr(mg, name)([1.0, 2.0]), f"{name}()", "must be Tensor",
               "not list")
        assert getattr(mg, name).__wrapped__ is getattr(mg.tensor_ops, name), name
    assert mg.sin(mg.tensor([0.0])).item() == 0.0 and mg.sin.__doc__ == mg.tensor_ops.sin.__doc__


def test_gradcheck_misuse():
    raises(TypeError, lambda: mg.gradcheck(lambda t: t, [mg.ones(2, requires_grad=True)]),
           "gradcheck", "float32", "float64")
    raises(ValueError, lambda: mg.gradcheck(lambda t: t, [mg.ones(2, dtype=mg.float64)]),
           "gradcheck", "requires_grad")
    raises(TypeError, lambda: mg.gradcheck(lambda t: t, [np.ones(2)]), "gradcheck", "ndarray")


class _WrongShape(Primitive):
    def forward(self, a):
        return a.sum()

    def backward(self, g):
        return (g,)         # should be expanded to the input's shape


def test_the_walk_names_a_primitive_whose_gradient_has_the_wrong_shape():
    x = mg.ones(3, dtype=mg.float64, requires_grad=True)
    raises(AssertionError, lambda: _WrongShape.apply(x).backward(), "_WrongShape", "(3,)", "()")


def test_one_hot():
    import numpy as np
    hot = mg.one_hot(np.array([[2, 0], [1, 2]]), 3, axis=1, dtype=mg.float64)
    assert hot.shape == (2, 3, 2) and hot.dtype == np.float64 and not hot.requires_grad
    np.testing.assert_array_equal(hot.data[:, :, 0], [[0, 0, 1], [0, 1, 0]])
    np.testing.assert_array_equal(mg.one_hot(mg.tensor([1]), 2).data, [[0.0, 1.0]])
    with pytest.raises(ValueError, match=r"\[0, 3\).*from 0 to 3"):
        mg.one_hot(np.array([0, 3]), 3)
    with pytest.raises(TypeError, match="integers"):
        mg.one_hot(np.array([0.5]), 3)
