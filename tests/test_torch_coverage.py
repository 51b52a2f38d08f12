"""How much of PyTorch's everyday vocabulary minigrad speaks, with torch's parameter names.

TORCH lists torch.Tensor methods and attributes, torch functions and torch.nn.functional
functions, each with the parameters (after the first, which is the tensor or the size) that
minigrad should take under torch's names: positional ones in torch's order, then after `|`
keyword-only ones. Left out everywhere: out=, dtype=/device=/layout= of non-creation ops,
inplace=, memory_format= and the legacy size_average=/reduce=. A minigrad callable matches when
it has every listed name, the positional ones in that order (a `*args` parameter takes any
remaining positional names, as in `reshape(*shape)`). PENDING holds names still being added
elsewhere: reported, not counted. `python tests/test_torch_coverage.py` prints the table in
docs/pytorch-style.md.
"""
import inspect

import pytest
from conftest import require

import minigrad as mg
from nn import functional as F

TORCH = {
    "Tensor": """
        abs sign floor ceil trunc round|decimals sin cos exp log sqrt rsqrt tanh sigmoid relu
        log1p expm1 pow:exponent neg square clamp:min,max clip:min,max maximum:other
        minimum:other logaddexp:other nan_to_num:nan,posinf,neginf isnan isinf isfinite
        masked_fill:mask,value add:other sub:other mul:other div:other matmul:other
        sum:dim,keepdim mean:dim,keepdim var:dim,unbiased,keepdim|correction std:dim,unbiased,keepdim|correction
        prod:dim,keepdim max:dim,keepdim min:dim,keepdim amax:dim,keepdim amin:dim,keepdim
        argmax:dim,keepdim argmin:dim,keepdim logsumexp:dim,keepdim softmax:dim log_softmax:dim
        cumsum:dim cumprod:dim norm:p,dim,keepdim any:dim,keepdim all:dim,keepdim
        sort:dim,descending argsort:dim,descending topk:k,dim,largest,sorted gather:dim,index
        scatter:dim,index,src scatter_add:dim,index,src index_select:dim,index
        take_along_dim:indices,dim reshape:*shape view:*shape flatten:start_dim,end_dim
        unflatten:dim,sizes squeeze:dim unsqueeze:dim transpose:dim0,dim1 permute:*dims
        swapaxes:axis0,axis1 swapdims:dim0,dim1 expand:*sizes expand_as:other
        broadcast_to:size repeat:*sizes tile:dims repeat_interleave:repeats,dim flip:dims
        roll:shifts,dims split:split_size,dim chunk:chunks,dim unbind:dim tril:diagonal
        triu:diagonal bmm:mat2 outer:vec2 where:condition,other T mT detach numpy item tolist
        backward:gradient,retain_graph,create_graph requires_grad_:requires_grad retain_grad
        float double add_:other sub_:other mul_:other div_:other copy_:src fill_:value zero_
        clone contiguous numel dim type_as:other __abs__ __floordiv__ __mod__ __index__
        __format__
        """,
    "torch": """
        tensor|dtype,requires_grad zeros|dtype,requires_grad ones|dtype,requires_grad
        full:fill_value|dtype,requires_grad arange:end,step|dtype,requires_grad
        eye:m|dtype,requires_grad randn|dtype,requires_grad rand|dtype,requires_grad
        zeros_like|dtype,requires_grad ones_like|dtype,requires_grad
        full_like:fill_value|dtype,requires_grad manual_seed no_grad enable_grad
        is_grad_enabled matmul:other where:input,other maximum:other minimum:other stack:dim
        cat:dim concatenate:dim einsum:*operands tensordot:b,dims bmm:mat2 outer:vec2
        norm:p,dim,keepdim cumsum:dim cumprod:dim prod:dim,keepdim std:dim,unbiased,keepdim|correction
        amax:dim,keepdim amin:dim,keepdim sort:dim,descending argsort:dim,descending
        topk:k,dim,largest,sorted gather:dim,index scatter:dim,index,src
        scatter_add:dim,index,src index_select:dim,index take_along_dim:indices,dim
        split:split_size_or_sections,dim chunk:chunks,dim unbind:dim tile:dims
        repeat_interleave:repeats,dim tril:diagonal triu:diagonal flip:dims roll:shifts,dims
        isnan isinf isfinite nan_to_num:nan,posinf,neginf logaddexp:other
        masked_fill:mask,value clamp:min,max clip:min,max abs floor ceil trunc sign
        round|decimals sin cos rsqrt log1p expm1 pow:exponent save:f load
        """,
    "F": """
        relu sigmoid tanh softmax:dim log_softmax:dim gelu|approximate silu
        leaky_relu:negative_slope dropout:p,training linear:weight,bias
        conv2d:weight,bias,stride,padding,dilation,groups
        conv_transpose2d:weight,bias,stride,padding,output_padding,groups,dilation
        max_pool2d:kernel_size,stride,padding,dilation
        avg_pool2d:kernel_size,stride,padding,ceil_mode,count_include_pad
        adaptive_avg_pool2d:output_size
        batch_norm:running_mean,running_var,weight,bias,training,momentum,eps
        layer_norm:normalized_shape,weight,bias,eps group_norm:num_groups,weight,bias,eps
        interpolate:size,scale_factor,mode,align_corners
        cross_entropy:target,weight,ignore_index,reduction,label_smoothing
        nll_loss:target,weight,ignore_index,reduction mse_loss:target|reduction
        binary_cross_entropy:target,weight|reduction
        binary_cross_entropy_with_logits:target,weight|reduction,pos_weight
        scaled_dot_product_attention:key,value,attn_mask,dropout_p,is_causal|scale
        softplus:beta,threshold logsigmoid elu:alpha selu hardtanh:min_val,max_val
        normalize:p,dim,eps pad:pad,mode,value one_hot:num_classes dropout2d:p,training
        cosine_similarity:x2,dim,eps kl_div:target|reduction,log_target
        huber_loss:target|reduction,delta smooth_l1_loss:target|reduction,beta
        l1_loss:target|reduction unfold:kernel_size,dilation,padding,stride
        fold:output_size,kernel_size,dilation,padding,stride embedding:weight,padding_idx
        """,
}

# Names added by work landing beside this list; empty once all of it is in.
PENDING = {}


def parse(table):
    """{'Tensor.clamp': (['min', 'max'], []), ...} from the lists above."""
    out = {}
    for space, text in table.items():
        for entry in text.split():
            name, _, params = entry.partition(":")
            name, _, kw_only = name.partition("|")
            params, _, more = params.partition("|")
            positional = [p for p in params.split(",") if p]
            keywords = [p for p in (kw_only or more).split(",") if p]
            out[f"{space}.{name}"] = (positional, keywords)
    return out


ENTRIES, PENDING_ENTRIES = parse(TORCH), parse(PENDING)


def minigrad_object(qualified):
    space, name = qualified.split(".", 1)
    home = {"Tensor": mg.Tensor, "torch": mg, "F": F}[space]
    return getattr(home, name, None)


def check(qualified, positional, keywords):
    """'ok', 'missing' or a sentence saying which parameter names differ."""
    obj = minigrad_object(qualified)
    if obj is None:
        return "missing"
    if not callable(obj) or isinstance(obj, type):
        return "ok"
    try:
        params = list(inspect.signature(obj).parameters.values())
    except (TypeError, ValueError):
        return "ok"
    method = qualified.startswith("Tensor.")
    params = params[1:] if params and (method or params[0].kind != params[0].VAR_POSITIONAL) \
        else params
    names = [p.name for p in params]
    star = next((i for i, p in enumerate(params) if p.kind == p.VAR_POSITIONAL), None)
    for i, want in enumerate(positional):
        if star is not None and i >= star:
            break
        if want.startswith("*"):
            if star is None:
                return f"takes no *{want[1:]}"
            break
        if i >= len(names) or names[i] != want:
            have = names[i] if i < len(names) else "nothing"
            return f"parameter {i + 1} is {have!r}, torch's is {want!r}"
    absent = [k for k in keywords if k not in names]
    return f"no {', '.join(absent)}" if absent else "ok"


def coverage():
    return {name: check(name, *spec) for name, spec in ENTRIES.items()}


# Every op the vocabulary asks for, by the name torch gives it.
REQUIRED = """
    Tensor.abs Tensor.clamp Tensor.clip Tensor.round Tensor.floor Tensor.ceil Tensor.trunc
    Tensor.sign Tensor.sin Tensor.cos Tensor.rsqrt Tensor.log1p Tensor.expm1 Tensor.pow
    Tensor.std Tensor.var Tensor.prod Tensor.cumsum Tensor.cumprod Tensor.flip Tensor.roll
    Tensor.amax Tensor.amin Tensor.argmin Tensor.argsort Tensor.sort Tensor.topk
    Tensor.masked_fill Tensor.gather Tensor.scatter_add Tensor.scatter Tensor.index_select
    Tensor.take_along_dim Tensor.split Tensor.chunk Tensor.unbind Tensor.repeat
    Tensor.repeat_interleave Tensor.tile Tensor.expand_as Tensor.tril Tensor.triu torch.einsum
    torch.bmm torch.outer Tensor.norm Tensor.isnan Tensor.isinf Tensor.isfinite
    Tensor.nan_to_num Tensor.logaddexp Tensor.sum Tensor.mean Tensor.transpose Tensor.permute
    Tensor.T Tensor.mT Tensor.view Tensor.flatten Tensor.unflatten F.gelu F.silu F.layer_norm
    F.group_norm F.interpolate F.softplus F.logsigmoid F.elu F.selu F.hardtanh F.normalize F.pad
    F.one_hot F.embedding F.dropout2d F.cosine_similarity F.kl_div F.huber_loss F.smooth_l1_loss
    F.l1_loss F.unfold F.fold Tensor.__abs__ Tensor.__floordiv__ Tensor.__mod__
""".split()


def test_the_list_is_long_and_names_are_torchs():
    assert len(ENTRIES) >= 120 and not set(ENTRIES) & set(PENDING_ENTRIES)
    torch = require("torch")
    homes = {"Tensor": torch.Tensor, "torch": torch, "F": torch.nn.functional}
    for qualified in list(ENTRIES) + list(PENDING_ENTRIES):
        space, name = qualified.split(".", 1)
        assert hasattr(homes[space], name), f"{qualified} is not a torch name"


def test_every_required_op_is_there_with_torchs_names():
    result = coverage()
    wrong = {name: result[name] for name in REQUIRED if result[name] != "ok"}
    assert not wrong, wrong


def test_coverage_is_at_least_ninety_percent():
    result = coverage()
    ok = sum(v == "ok" for v in result.values())
    print(f"\ntorch coverage: {ok} of {len(result)} ({ok / len(result):.0%})")
    for name, verdict in sorted(result.items()):
        if verdict != "ok":
            print(f"  {name}: {verdict}")
    assert ok / len(result) >= 0.9


def test_the_checker_can_fail():
    assert check("torch.einsum", ["*operands"], []) == "ok"
    assert check("Tensor.clamp", ["max", "min"], []).startswith("parameter 1")
    assert check("Tensor.nonexistent", [], []) == "missing"
    assert check("Tensor.std", ["dim"], ["nonexistent"]) == "no nonexistent"


def table():
    """The coverage table of docs/pytorch-style.md, as markdown."""
    result = coverage()
    lines = ["| where | names | with torch's parameters | differ or missing |",
             "|---|---|---|---|"]
    for space in TORCH:
        names = [n for n in ENTRIES if n.startswith(space + ".")]
        bad = [f"`{n.split('.', 1)[1]}` ({result[n]})" for n in names if result[n] != "ok"]
        lines.append(f"| {space} | {len(names)} | {len(names) - len(bad)} | "
                     f"{', '.join(bad) or '-'} |")
    if PENDING_ENTRIES:
        pending = ", ".join(f"`{n}`" for n in PENDING_ENTRIES)
        lines.append(f"| pending | {len(PENDING_ENTRIES)} | not counted | {pending} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
