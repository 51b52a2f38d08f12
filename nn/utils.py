"""Helpers applied to a model's gradients between backward and the optimizer step."""
import math

from minigrad import Tensor, no_grad, stack, tensor


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0) -> Tensor:
    """Scale all gradients so that their joint norm is at most max_norm, and return the norm they
    had before (as PyTorch does). norm_type may be float('inf'): the largest absolute value."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    params = [p for p in params if p.grad is not None]
    if not max_norm > 0 or not norm_type > 0:
        raise ValueError(f"clip_grad_norm_: max_norm and norm_type must be positive, got "
                         f"max_norm={max_norm!r}, norm_type={norm_type!r}")
    if not params:
        return tensor(0.0)
    dtype = params[0].grad.dtype
    # tensors throughout, as torch: no value is read into Python, so a compiled step can clip too
    with no_grad():
        if math.isinf(norm_type):
            total = stack([p.grad.abs().max().astype(dtype) for p in params]).max()
        else:
            total = sum((p.grad.abs() ** norm_type).sum().astype(dtype) for p in params)
            total = total ** (1.0 / norm_type)
        scale = (max_norm / (total + 1e-6)).minimum(1.0)
        for p in params:
            # a new tensor, not an in-place update: backward may hand one gradient array to
            # several parameters (the two inputs of an add), which must be scaled once each
            p.grad = p.grad * scale
    return total
