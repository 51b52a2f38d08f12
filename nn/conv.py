"""Convolution and pooling composites over Tensor methods, NCHW like PyTorch; nn.functional
re-exports them.

Nothing here has a backward pass or touches arrays: every gradient comes from the engine. Each
public op runs inside `mg.scope(name)`, so a graph picture draws it as one box.
"""
import math
import operator

import minigrad as mg
from minigrad import Tensor


def _check_tensor(x, name, op, ndim=None, layout=""):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    if ndim is not None and x.ndim not in ((ndim,) if isinstance(ndim, int) else ndim):
        raise ValueError(f"{op}: expected {name} of {ndim} dimensions {layout}, got shape "
                         f"{x.shape}")


def _check_affine(t, name, shape, op, x, x_name="input"):
    """Refuse an optional tensor `t` (a weight, a bias) that is not None and not of `shape`;
    the message shows x, the tensor the shape comes from."""
    if t is not None and (not isinstance(t, Tensor) or t.shape != shape):
        raise ValueError(f"{op}: {name} must have shape {shape}, got "
                         f"{getattr(t, 'shape', type(t).__name__)} ({x_name} {x.shape})")


def _pair(value, name, op, low=1):
    """An int or a pair of ints -> a pair, each at least `low`."""
    if type(value) is int and value >= low:            # the common case, kept cheap
        return value, value
    try:
        pair = tuple(map(operator.index, value)) if isinstance(value, (tuple, list)) else \
            (operator.index(value),) * 2
    except TypeError:
        pair = ()
    if len(pair) != 2 or min(pair) < low:
        raise ValueError(f"{op}: {name} must be an int or a pair of ints >= {low}, got {value!r}")
    return pair


def _conv_padding(padding, kernel, dilation, stride, op):
    """padding -> ((top, bottom), (left, right)); 'same' pads the extra pixel at the end, as
    PyTorch does when the total is odd."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        if stride != (1, 1):
            raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be 'valid', 'same', an int or a pair, got "
                         f"{padding!r}")
    ph, pw = _pair(padding, "padding", op, low=0)
    return (ph, ph), (pw, pw)


def _shapes(x, weight):
    return f"(input {x.shape}, weight {weight.shape})"


@mg.scope("conv2d")
def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """2-D cross-correlation, as torch.nn.functional.conv2d.

    Parameters
    ----------
    x : (N, C, H, W)
    weight : (OC, C // groups, KH, KW)
    bias : (OC,) or None
    stride, dilation : int or (int, int)
    padding : int, (int, int), 'valid' or 'same' (stride 1 only; an odd total puts the extra
        row and column at the bottom and right)
    groups : splits the channels into groups convolved separately; groups == C is depthwise

    Returns
    -------
    (N, OC, OH, OW) with OH = (H + pad_h - dilation_h * (KH - 1) - 1) // stride_h + 1
    """
    _check_tensor(x, "input", "conv2d", 4, "(N, C, H, W)")
    _check_tensor(weight, "weight", "conv2d", 4, "(OC, C // groups, KH, KW)")
    (N, C, H, W), (OC, Cg, KH, KW) = x.shape, weight.shape
    if not isinstance(groups, int) or groups < 1:
        raise ValueError(f"conv2d: groups must be a positive int, got {groups!r}")
    if C != Cg * groups:
        raise ValueError(f"conv2d: input has {C} channels, weight expects {Cg * groups} "
                         f"{_shapes(x, weight)}")
    if OC % groups:
        raise ValueError(f"conv2d: {OC} output channels do not split into {groups} groups "
                         f"{_shapes(x, weight)}")
    _check_affine(bias, "bias", (OC,), "conv2d", x)
    stride, dilation = _pair(stride, "stride", "conv2d"), _pair(dilation, "dilation", "conv2d")
    (top, bottom), (left, right) = _conv_padding(padding, (KH, KW), dilation, stride, "conv2d")
    padded = (H + top + bottom, W + left + right)
    if dilation[0] * (KH - 1) >= padded[0] or dilation[1] * (KW - 1) >= padded[1]:
        raise ValueError(f"conv2d: kernel {(KH, KW)} with dilation {dilation} is larger than the "
                         f"padded input {padded} {_shapes(x, weight)}")
    if (KH, KW) == stride == (1, 1) and not any((top, bottom, left, right)) and \
            not _channels_outermost(x):       # (N, C, H, W) memory: a matmul, no copies
        y = weight.reshape(groups, OC // groups, Cg) @ x.reshape(N, groups, Cg, H * W)
        y = y.reshape(N, OC, H, W)
    else:
        y = _conv2d_columns(x, weight, stride, dilation, ((top, bottom), (left, right)), groups)
    return y if bias is None else y + bias.reshape(1, OC, 1, 1)


def _channels_outermost(x):
    """Whether x's memory holds it as (C, H, W, N) (conv2d's output layout), so that x viewed as
    (C, H, W, N) needs no copy."""
    return x.data.transpose(1, 2, 3, 0).flags.c_contiguous


def _conv2d_columns(x, w, stride, dilation, pads, groups):
    """Windows as columns (G, C/G*KH*KW, OH*OW*N), one matmul per group -> (G, OC/G, OH*OW*N).
    The input is taken as (C, H, W, N) (the padding copies it so), so that the copy into columns
    and the windows' scatter-add in backward move rows of OW*N floats, not of OW (2-3x faster,
    docs/benchmarks.md); the output stays laid out so, and the next conv2d, pooling or batch
    norm reads it that way."""
    (N, C), (OC, _, KH, KW), G = x.shape[:2], w.shape, groups
    t = x.permute(1, 2, 3, 0)
    if any(pads[0] + pads[1]) or (N > 1 and not _channels_outermost(x)):
        t = t.pad(((0, 0),) + pads + ((0, 0),))         # a fresh (C, H, W, N) array
    win = t.sliding_window((KH, KW), (1, 2), stride, dilation)          # (C, OH, OW, N, KH, KW)
    OH, OW = win.shape[1:3]
    win = win.reshape(G, C // G, OH, OW, N, KH, KW)
    cols = win.permute(0, 1, 5, 6, 2, 3, 4).reshape(G, C // G * KH * KW, OH * OW * N)
    y = w.reshape(G, OC // G, C // G * KH * KW) @ cols
    if N == 1:              # (G, OC/G, OH*OW*1) is already (1, OC, OH, OW): one op fewer
        return y.reshape(1, OC, OH, OW)
    return y.reshape(OC, OH, OW, N).permute(3, 0, 1, 2)


def _pool_args(x, kernel_size, stride, padding, dilation, op, pad_value=0.0):
    """Checked window arguments as pairs, and x padded on both sides of H and W with pad_value:
    (x, kernel, stride, padding, dilation)."""
    _check_tensor(x, "input", op, 4, "(N, C, H, W)")
    kernel = _pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None else _pair(stride, "stride", op)
    padding, dilation = _pair(padding, "padding", op, low=0), _pair(dilation, "dilation", op)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel {kernel}")
    padded = tuple(n + 2 * p for n, p in zip(x.shape[2:], padding))
    if any(d * (k - 1) + 1 > n for n, k, d in zip(padded, kernel, dilation)):
        raise ValueError(f"{op}: kernel {kernel} with dilation {dilation} is larger than the "
                         f"padded input {padded} (input {x.shape})")
    ph, pw = padding
    if ph or pw:
        x = x.pad(((0, 0), (0, 0), (ph, ph), (pw, pw)), value=pad_value)
    return x, kernel, stride, padding, dilation


def _windows(x, kernel, stride, dilation, tile=True):
    """x's pooling windows stacked on a new leading axis: (KH*KW, N, C, OH, OW). numpy reduces a
    leading axis with long contiguous rows, and short trailing axes slowly. Windows that tile the
    input (stride == kernel, no dilation) come from a reshape rather than a strided view, so the
    backward pass needs no strided scatter. An input laid out as (C, H, W, N) (conv2d's output)
    is cut as such: the copy then moves rows of N floats, and the result keeps that layout."""
    (N, C, H, W), (KH, KW) = x.shape, kernel
    (OH, OW), last = (H // KH, W // KW), _channels_outermost(x) and N > 1
    tiles = tile and stride == kernel and dilation == (1, 1)
    if tiles and (H % KH or W % KW):
        x = x[:, :, :OH * KH, :OW * KW]              # the rows and columns PyTorch drops too
    t = x.permute(1, 2, 3, 0) if last else x        # (C, H, W, N) or (N, C, H, W)
    if tiles:
        win = t.reshape(C, OH, KH, OW, KW, N).permute(2, 4, 0, 1, 3, 5) if last else \
            t.reshape(N, C, OH, KH, OW, KW).permute(3, 5, 0, 1, 2, 4)
    else:
        win = t.sliding_window(kernel, (1, 2) if last else (2, 3), stride, dilation)
        win = win.permute(4, 5, 0, 1, 2, 3)
    win = win.reshape((KH * KW,) + win.shape[2:])
    return win.permute(0, 4, 1, 2, 3) if last else win


@mg.scope("max_pool2d")
def max_pool2d(x: Tensor, kernel_size, stride=None, padding=0, dilation=1) -> Tensor:
    """(N, C, H, W) -> (N, C, OH, OW), the maximum of each window; padding adds -inf, and stride
    defaults to kernel_size (as torch.nn.functional.max_pool2d). Ties share the gradient."""
    x, kernel, stride, _, dilation = _pool_args(x, kernel_size, stride, padding, dilation,
                                                "max_pool2d", -math.inf)
    return _windows(x, kernel, stride, dilation).amax(0)


@mg.scope("avg_pool2d")
def avg_pool2d(x: Tensor, kernel_size, stride=None, padding=0, *,
               count_include_pad: bool = True) -> Tensor:
    """(N, C, H, W) -> (N, C, OH, OW), the mean of each window. Padding adds zeros, which count in
    the mean unless count_include_pad=False (as torch.nn.functional.avg_pool2d)."""
    x, kernel, stride, (ph, pw), _ = _pool_args(x, kernel_size, stride, padding, 1, "avg_pool2d")
    win = _windows(x, kernel, stride, (1, 1))
    if count_include_pad or not (ph or pw):
        return win.mean(0)
    inside = mg.zeros((1, 1) + x.shape[2:], dtype=x.dtype)         # 1 inside, 0 on the padding
    inside[:, :, ph:x.shape[2] - ph, pw:x.shape[3] - pw] = 1
    return win.sum(0) / _windows(inside, kernel, stride, (1, 1)).sum(0)


def _bins(n, m):
    """PyTorch's adaptive pooling as an (m, n) averaging matrix: row i averages
    [floor(i*n/m), ceil((i+1)*n/m))."""
    bins = [(i * n // m, -(-(i + 1) * n // m)) for i in range(m)]        # (floor, ceil) pairs
    return [[1.0 / (hi - lo) if lo <= j < hi else 0.0 for j in range(n)] for lo, hi in bins]


@mg.scope("adaptive_avg_pool2d")
def adaptive_avg_pool2d(x: Tensor, output_size) -> Tensor:
    """(N, C, H, W) -> (N, C, *output_size) by averaging PyTorch's adaptive bins; output_size 1
    is global average pooling, and None keeps that input size."""
    _check_tensor(x, "input", "adaptive_avg_pool2d", 4, "(N, C, H, W)")
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    H, W = x.shape[2:]
    sizes = tuple(n if s is None else s for s, n in zip(sizes, (H, W)))
    OH, OW = _pair(sizes, "output_size", "adaptive_avg_pool2d")
    if (OH, OW) == (1, 1):
        return x.mean((2, 3), keepdims=True)
    if H % OH == 0 and W % OW == 0:
        kernel = (H // OH, W // OW)
        return _windows(x, kernel, kernel, (1, 1)).mean(0)
    return _adaptive_matmul(x, OH, OW)


def _adaptive_matmul(x, OH, OW):
    """Bins that overlap or differ in size: (OH, H) @ (N, C, H, W) @ (W, OW)."""
    rows = mg.tensor(_bins(x.shape[2], OH), dtype=x.dtype)
    cols = mg.tensor(_bins(x.shape[3], OW), dtype=x.dtype)
    return rows @ x @ cols.T
