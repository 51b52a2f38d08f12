"""Registry entries for PyTorch's tensor vocabulary (minigrad/tensor_ops.py and the thin Tensor
methods): each name points at the tests in test_vocab.py that check it against torch forward and
backward, float64 finite differences and its error message."""

VOCAB = ("amax amin ceil chunk clamp clip cumsum expand_as expm1 flip floor gather isfinite isinf "
         "isnan log1p masked_fill pow repeat roll round rsqrt sign split std take_along_dim tile "
         "tril triu trunc unbind view").split()

VOCAB_NOT_OPS = {name: "test_vocab.py::test_matches_torch" for name in VOCAB}
VOCAB_NOT_OPS.update({name: "test_vocab.py::test_no_grad_ops_match_torch"
                      for name in ("isnan", "isinf", "isfinite")})
VOCAB_NOT_OPS.update({f"mg.{name}": "test_vocab.py::test_matches_torch" for name in (
    "bmm", "chunk", "clamp", "cumsum", "flip", "logaddexp", "outer", "roll", "split", "tril",
    "triu")})
