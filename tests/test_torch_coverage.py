"""How much of PyTorch's everyday tensor vocabulary minigrad speaks, with torch's parameter names.

TORCH_NAMES lists 150 torch.Tensor methods, torch functions and torch.nn.functional functions
(each checked to exist in torch 2.13), with the leading parameter names torch's documentation
gives them. A name counts as covered when minigrad has it in the same place (Tensor method,
`mg.<name>`, `nn.functional.<name>`) and its signature starts with those parameters (after self /
input). docs/pytorch-style.md carries the resulting table; a test keeps it in step.
"""
import inspect
import re
from pathlib import Path

import pytest

import minigrad as mg
from conftest import require
from nn import functional as F

# (where, name, leading parameters after the tensor itself)
TORCH_NAMES = [
    # Tensor methods
    *[("Tensor", n, p) for n, p in [
        ("abs", ""), ("exp", ""), ("log", ""), ("sqrt", ""), ("tanh", ""), ("sigmoid", ""),
        ("relu", ""), ("sin", ""), ("cos", ""), ("log1p", ""), ("expm1", ""), ("rsqrt", ""),
        ("floor", ""), ("ceil", ""), ("trunc", ""), ("round", "decimals"), ("sign", ""),
        ("square", ""), ("pow", "exponent"), ("clamp", "min max"), ("clip", "min max"),
        ("maximum", "other"), ("minimum", "other"), ("logaddexp", "other"),
        ("isnan", ""), ("isinf", ""), ("isfinite", ""), ("nan_to_num", "nan posinf neginf"),
        ("sum", "dim keepdim"), ("mean", "dim keepdim"), ("var", "dim"), ("std", "dim"),
        ("prod", "dim keepdim"), ("max", "dim keepdim"), ("min", "dim keepdim"),
        ("amax", "dim keepdim"), ("amin", "dim keepdim"), ("argmax", "dim keepdim"),
        ("argmin", "dim keepdim"), ("logsumexp", "dim keepdim"), ("norm", "p dim keepdim"),
        ("any", "dim keepdim"), ("all", "dim keepdim"), ("cumsum", "dim"), ("cumprod", "dim"),
        ("softmax", "dim"), ("log_softmax", "dim"), ("sort", "dim descending"),
        ("argsort", "dim descending"), ("topk", "k dim largest sorted"), ("reshape", ""),
        ("view", ""), ("flatten", "start_dim end_dim"), ("unflatten", "dim sizes"),
        ("squeeze", "dim"), ("unsqueeze", "dim"), ("transpose", ""), ("permute", ""),
        ("movedim", "source destination"), ("expand", ""), ("expand_as", "other"),
        ("repeat", ""), ("tile", "dims"), ("repeat_interleave", "repeats dim"),
        ("flip", "dims"), ("roll", "shifts dims"), ("split", "split_size_or_sections dim"),
        ("chunk", "chunks dim"), ("unbind", "dim"), ("gather", "dim index"),
        ("scatter", "dim index src"), ("scatter_add", "dim index src"),
        ("index_select", "dim index"), ("take_along_dim", "indices dim"),
        ("masked_fill", "mask value"), ("tril", "diagonal"), ("triu", "diagonal"),
        ("bmm", "mat2"), ("outer", "vec2"), ("matmul", "other"), ("item", ""), ("tolist", ""),
        ("numpy", ""), ("detach", ""), ("backward", "gradient retain_graph create_graph"),
        ("requires_grad_", "requires_grad"), ("retain_grad", ""), ("float", ""), ("double", ""),
        ("zero_", ""), ("fill_", "value"), ("copy_", "src"), ("add_", "other"), ("mul_", "other"),
        ("sub_", "other"), ("div_", "other"), ("size", "dim"), ("dim", ""), ("numel", ""),
        ("type_as", "other"), ("to", ""), ("clone", ""), ("contiguous", ""), ("new_zeros", "size"),
        ("masked_scatter", "mask source"), ("diagonal", "offset dim1 dim2"), ("narrow", "dim start length"),
        ("where", "condition other"), ("lerp", "end weight")]],
    # torch functions
    *[("mg", n, p) for n, p in [
        ("tensor", "data"), ("zeros", ""), ("ones", ""), ("full", "size fill_value"),
        ("arange", ""), ("eye", "n"), ("randn", ""), ("rand", ""), ("zeros_like", "input"),
        ("ones_like", "input"), ("full_like", "input fill_value"), ("manual_seed", "seed"),
        ("where", "condition"), ("maximum", "input other"), ("minimum", "input other"),
        ("matmul", "input other"), ("stack", "tensors dim"), ("cat", "tensors dim"),
        ("concatenate", "tensors"), ("einsum", "equation"), ("bmm", "input mat2"),
        ("outer", "input vec2"), ("clamp", "input min max"), ("tril", "input diagonal"),
        ("triu", "input diagonal"), ("cumsum", "input dim"), ("sort", "input dim"),
        ("topk", "input k"), ("gather", "input dim index"), ("flip", "input dims"),
        ("roll", "input shifts dims"), ("split", ""), ("chunk", "input chunks dim"),
        ("unbind", "input dim"), ("logaddexp", "input other"), ("isnan", "input"),
        ("nan_to_num", "input nan"), ("norm", "input p dim keepdim"), ("no_grad", ""),
        ("enable_grad", ""), ("save", "obj"), ("load", ""), ("meshgrid", ""),
        ("linspace", "start end steps"), ("cdist", "x1 x2 p")]],
    # torch.nn.functional
    *[("F", n, p) for n, p in [
        ("linear", "input weight bias"), ("conv2d", "input weight bias stride padding dilation groups"),
        ("conv_transpose2d", "input weight bias stride padding output_padding groups dilation"),
        ("max_pool2d", "input kernel_size stride padding"), ("avg_pool2d", "input kernel_size stride padding"),
        ("adaptive_avg_pool2d", "input output_size"), ("batch_norm", "input running_mean running_var"),
        ("layer_norm", "input normalized_shape weight bias eps"),
        ("group_norm", "input num_groups weight bias eps"), ("dropout", "input p training"),
        ("dropout2d", "input p training"), ("relu", "input"), ("leaky_relu", "input negative_slope"),
        ("gelu", "input"), ("silu", "input"), ("elu", "input alpha"), ("selu", "input"),
        ("celu", "input alpha"), ("softplus", "input beta threshold"), ("logsigmoid", "input"),
        ("hardtanh", "input min_val max_val"), ("relu6", "input"), ("hardsigmoid", "input"),
        ("hardswish", "input"), ("mish", "input"), ("sigmoid", "input"), ("tanh", "input"),
        ("softmax", "input dim"), ("log_softmax", "input dim"), ("normalize", "input p dim eps"),
        ("pad", "input pad mode value"), ("one_hot", "tensor num_classes"),
        ("embedding", "input weight padding_idx"), ("cosine_similarity", "x1 x2 dim eps"),
        ("pairwise_distance", "x1 x2 p eps"), ("cross_entropy", "input target"),
        ("nll_loss", "input target"), ("binary_cross_entropy", "input target weight"),
        ("binary_cross_entropy_with_logits", "input target weight"), ("mse_loss", "input target"),
        ("l1_loss", "input target"), ("smooth_l1_loss", "input target"),
        ("huber_loss", "input target"), ("kl_div", "input target"),
        ("interpolate", "input size scale_factor mode"), ("unfold", "input kernel_size dilation padding stride"),
        ("fold", "input output_size kernel_size dilation padding stride"),
        ("scaled_dot_product_attention", "query key value attn_mask dropout_p is_causal"),
        ("softmin", "input dim"), ("glu", "input dim"), ("triplet_margin_loss", "anchor positive negative")]],
]

# every op the vocabulary issue names must be covered
REQUIRED = set("""abs clamp clip round floor ceil trunc sign sin cos rsqrt log1p expm1 pow std prod
cumsum flip roll amax amin argmin argsort sort topk masked_fill gather scatter_add scatter
index_select take_along_dim split chunk unbind repeat repeat_interleave tile expand_as tril triu
einsum bmm outer norm isnan isinf isfinite nan_to_num logaddexp gelu silu softplus logsigmoid elu
selu hardtanh normalize pad one_hot embedding layer_norm group_norm dropout2d cosine_similarity
kl_div huber_loss smooth_l1_loss l1_loss interpolate unfold fold var max min transpose view
reshape flatten unflatten""".split())


def _ours(where, name):
    home = {"Tensor": mg.Tensor, "mg": mg, "F": F}[where]
    return getattr(home, name, None)


def _params(fn, where):
    """Parameter names after the tensor itself for a method. For a function whose first parameter
    is torch's `input` (or `tensor`), that first name is not compared: nn.functional calls it `x`
    (which matters only when it is passed by keyword; docs/pytorch-style.md lists it)."""
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return None
    return params[1:] if where == "Tensor" else params


def _first_is_the_tensor(want):
    return want and want[0] in ("input", "tensor")


def covered(where, name, expected):
    fn = _ours(where, name)
    if fn is None:
        return False
    want, got = expected.split(), _params(fn, where)
    if got is None:
        return True
    if _first_is_the_tensor(want):
        want, got = want[1:], got[1:]
    return got[:len(want)] == want


def test_the_list_is_torchs():
    torch = require("torch")
    homes = {"Tensor": torch.Tensor, "mg": torch, "F": torch.nn.functional}
    missing = [f"{w}.{n}" for w, n, _ in TORCH_NAMES if not hasattr(homes[w], n)]
    assert not missing, f"not in torch 2.13: {missing}"
    assert len(TORCH_NAMES) >= 120 and len({(w, n) for w, n, _ in TORCH_NAMES}) == len(TORCH_NAMES)


def test_every_op_the_issue_names_is_covered():
    names = {n for _, n, _ in TORCH_NAMES}
    assert REQUIRED <= names
    lacking = sorted({f"{w}.{n}" for w, n, p in TORCH_NAMES if n in REQUIRED
                      and not covered(w, n, p)})
    assert not lacking, f"named by the vocabulary issue but missing or with other parameters: {lacking}"


def coverage_table():
    rows, count = [], 0
    for where, title in [("Tensor", "Tensor methods"), ("mg", "torch functions (mg.)"),
                         ("F", "torch.nn.functional (nn.functional.)")]:
        entries = [(n, covered(w, n, p)) for w, n, p in TORCH_NAMES if w == where]
        have = [n for n, ok in entries if ok]
        lack = [n for n, ok in entries if not ok]
        count += len(have)
        rows.append(f"| {title} | {len(have)} / {len(entries)} | {', '.join(lack) or '-'} |")
    head = ["| where | covered | not yet |", "| --- | --- | --- |"]
    return count, "\n".join(head + rows)


def test_coverage_is_at_least_90_percent_and_the_docs_table_is_current():
    count, table = coverage_table()
    assert count >= 0.9 * len(TORCH_NAMES), f"{count} of {len(TORCH_NAMES)}:\n{table}"
    doc = (Path(__file__).parents[1] / "docs" / "pytorch-style.md").read_text()
    shown = re.search(r"\| where \| covered \| not yet \|\n(?:\|.*\|\n?)+", doc)
    assert shown and shown.group(0).strip() == table, f"update docs/pytorch-style.md with:\n{table}"


def test_coverage_counts_a_wrong_signature_as_missing():
    assert not covered("Tensor", "clamp", "lower upper")
    assert not covered("Tensor", "no_such_method", "")
    assert covered("F", "relu", "input")


if __name__ == "__main__":
    print(coverage_table()[1])
