"""minigrad: a NumPy tensor library with reverse-mode automatic differentiation."""
from .autograd import enable_grad, grad, is_grad_enabled, no_grad, scope
from .backend import (bool_, float16, float32, float64, get_rng_state, int8, int16, int32, int64,
                      manual_seed, set_rng_state, uint8)
from .creation import (arange, eye, full, full_like, ones, ones_like, rand, rand_like, randn,
                       randn_like, zeros, zeros_like)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from . import data, distributed, onnx, optim, viz
from .serialize import load, save
from .functions import concatenate, matmul, maximum, minimum, one_hot, stack, tensor, where
from .tensor import Tensor

__version__ = "0.1.0"

__all__ = [
    "Tensor", "tensor", "zeros", "ones", "full", "arange", "eye", "randn", "rand", "zeros_like",
    "ones_like", "full_like", "randn_like", "rand_like", "matmul", "where", "maximum", "minimum",
    "concatenate", "stack", "one_hot", "no_grad", "enable_grad", "is_grad_enabled", "grad",
    "scope", "gradcheck", "gradgradcheck", "GradcheckError", "manual_seed", "get_rng_state",
    "set_rng_state", "optim", "data", "viz", "onnx", "distributed", "save", "load",
    "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool_",
]

# --- PyTorch's tensor vocabulary (minigrad/tensor_ops.py): Tensor methods and mg.<name> ----------
from . import tensor_ops  # noqa: E402
globals().update(tensor_ops.PUBLIC)     # each refuses a first argument that is not a Tensor

__all__ += tensor_ops.FUNCTIONS

# --- mg.compile: record a training step once, replay it (minigrad/compile.py) ----------------
from .compile import CompileError, compile  # noqa: E402

__all__ += ["compile", "CompileError"]
