"""Upsampling composites over Tensor methods, NCHW like PyTorch: interpolation and transposed
convolution; nn.functional re-exports them.

Nothing here has a backward pass or touches arrays: every gradient comes from the engine.

Size budget: 85 code lines
"""
import math

import minigrad as mg
from minigrad import Tensor
from minigrad.functions import sliding_window_add

from .conv import _check_affine, _check_tensor, _pair


def _weights(n_in, n_out, mode, scale, align_corners):
    """The (n_out, n_in) matrix that interpolates one axis as PyTorch does; `scale` is the input
    step per output step (n_in / n_out, or 1 / scale_factor when that was given)."""
    rows = [[0.0] * n_in for _ in range(n_out)]
    for i in range(n_out):
        if mode == "nearest":
            rows[i][min(math.floor(i * scale), n_in - 1)] = 1.0
            continue
        if align_corners:
            src = i * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        else:
            src = max(scale * (i + 0.5) - 0.5, 0.0)
        lo = min(math.floor(src), n_in - 1)
        hi, frac = min(lo + 1, n_in - 1), src - lo
        rows[i][lo] += 1.0 - frac
        rows[i][hi] += frac
    return rows


@mg.scope("interpolate")
def interpolate(x: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None) -> Tensor:
    """Resize (N, C, L) or (N, C, H, W) to `size`, or by `scale_factor`, as
    torch.nn.functional.interpolate: mode 'nearest', 'linear' (3-D) or 'bilinear' (4-D), each
    axis through one small interpolation matrix."""
    _check_tensor(x, "input", "interpolate", (3, 4), "(N, C, L) or (N, C, H, W)")
    spatial = x.shape[2:]
    if mode not in ("nearest", "linear", "bilinear") or \
            (mode != "nearest" and (mode == "bilinear") != (x.ndim == 4)):
        raise ValueError(f"interpolate: mode {mode!r} does not apply to input {x.shape} (nearest: "
                         "3-D or 4-D, linear: 3-D, bilinear: 4-D)")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("interpolate: align_corners only applies to linear and bilinear modes")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        out = tuple(size) if isinstance(size, (tuple, list)) else (size,) * len(spatial)
        scales = [n / o if o > 0 else 0 for n, o in zip(spatial, out)]
    else:
        factors = scale_factor if isinstance(scale_factor, (tuple, list)) else \
            (scale_factor,) * len(spatial)
        out = tuple(math.floor(n * f) for n, f in zip(spatial, factors))
        scales = [1 / f for f in factors]
    if len(out) != len(spatial) or min(out) < 1:
        raise ValueError(f"interpolate: output size {out} must give a positive size for each "
                         f"spatial dim of input {x.shape}")
    for axis, (n, o, s) in enumerate(zip(spatial, out, scales)):
        m = mg.tensor(_weights(n, o, mode, s, align_corners), dtype=x.dtype)
        x = m @ x if axis == 0 and x.ndim == 4 else x @ m.T           # (..., o, W) / (..., o)
    return x


@mg.scope("conv_transpose2d")
def conv_transpose2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """The adjoint of conv2d, as torch.nn.functional.conv_transpose2d: every input pixel adds
    weight-scaled copies of its kernel into the output, which is conv2d's input gradient.

    Parameters
    ----------
    x : (N, C, H, W);  weight : (C, OC // groups, KH, KW);  bias : (OC,) or None
    stride, padding, output_padding, dilation : int or (int, int); output_padding adds rows and
        columns at the bottom and right, and must be smaller than stride or dilation

    Returns
    -------
    (N, OC, OH, OW), OH = (H - 1) stride - 2 padding + dilation (KH - 1) + output_padding + 1
    """
    op = "conv_transpose2d"
    _check_tensor(x, "input", op, 4, "(N, C, H, W)")
    _check_tensor(weight, "weight", op, 4, "(C, OC // groups, KH, KW)")
    (N, C, H, W), (Cw, OCg, KH, KW) = x.shape, weight.shape
    if not isinstance(groups, int) or groups < 1 or C != Cw or C % groups:
        raise ValueError(f"{op}: input has {C} channels, weight {weight.shape} expects {Cw} in "
                         f"{groups!r} groups (input {x.shape})")
    OC = OCg * groups
    _check_affine(bias, "bias", (OC,), op, weight, "weight")
    stride, dilation = _pair(stride, "stride", op), _pair(dilation, "dilation", op)
    padding, extra = _pair(padding, "padding", op, 0), _pair(output_padding, "output_padding", op, 0)
    if any(e >= s and e >= d for e, s, d in zip(extra, stride, dilation)):
        raise ValueError(f"{op}: output_padding {extra} must be smaller than stride {stride} or "
                         f"dilation {dilation}")
    full = [(n - 1) * s + d * (k - 1) + 1 for n, s, d, k in zip((H, W), stride, dilation, (KH, KW))]
    if any(f + e <= 2 * p for f, e, p in zip(full, extra, padding)):
        raise ValueError(f"{op}: padding {padding} leaves no output for input {x.shape} and "
                         f"weight {weight.shape}")
    w = weight.reshape(groups, C // groups, OCg * KH * KW).swapaxes(1, 2)    # (G, OC/G*KH*KW, C/G)
    cols = w @ x.reshape(N, groups, C // groups, H * W)                    # (N, G, OC/G*KH*KW, H*W)
    cols = cols.reshape(N, OC, KH, KW, H, W).permute(0, 1, 4, 5, 2, 3)      # (N, OC, H, W, KH, KW)
    y = sliding_window_add(cols, (N, OC, *full), (2, 3), stride, dilation)  # (N, OC, *full)
    (ph, pw), (eh, ew) = padding, extra
    if eh > ph or ew > pw:                         # output_padding past the cropped padding
        y = y.pad(((0, 0), (0, 0), (0, max(eh - ph, 0)), (0, max(ew - pw, 0))))
    y = y[:, :, ph:full[0] + eh - ph, pw:full[1] + ew - pw]
    return y if bias is None else y + bias.reshape(1, OC, 1, 1)
