"""Size budgets (STYLE section 9): lines that are not blank, comments or docstrings.

Run `python tests/test_size.py` to print the table; the tests fail when an area is over budget.
A file that does not exist yet counts as 0 lines.
"""
import ast
import io
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP_TOKENS = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
               tokenize.ENDMARKER}


def code_lines(source: str) -> int:
    """Lines holding code: not blank, not only a comment, not part of a docstring."""
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                docstrings.update(range(first.lineno, first.end_lineno + 1))
    lines = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in SKIP_TOKENS:
            lines.update(range(token.start[0], token.end[0] + 1))
    return len(lines - docstrings)


def count(*patterns: str) -> dict:
    """{relative path: code lines} for the files matching the glob patterns under the root."""
    files = sorted({p for pattern in patterns for p in ROOT.glob(pattern) if p.is_file()})
    return {str(p.relative_to(ROOT)): code_lines(p.read_text()) for p in files}


CORE = ["minigrad/backend.py", "minigrad/ops.py", "minigrad/tensor.py", "minigrad/autograd.py",
        "nn/functional.py", "nn/conv*.py"]


def areas():
    """(name, {file: lines}, budget) for every budgeted area."""
    result = [
        ("backend.py", count("minigrad/backend.py"), 60),
        ("ops.py (all primitives)", count("minigrad/ops.py"), 350),
        ("tensor.py + autograd.py (the Tensor API and the walk)",
         count("minigrad/tensor.py", "minigrad/autograd.py"), 400),
        ("nn/functional.py", count("nn/functional.py"), 300),
        ("autodiff core (backend, ops, tensor, autograd, nn/functional, nn/conv*)",
         count(*CORE), 1000),
        # STYLE.md sets 3,500; raised once, on purpose, to 4,000 (docs/design.md, "Size"): a
        # ratchet from here on, so growth must be paid for by a cut elsewhere
        ("minigrad/ + nn/ together", count("minigrad/**/*.py", "nn/**/*.py"), 4000),
    ]
    for path, lines in count("nn/conv*.py").items():
        result.append((f"{path} (conv and pooling, split from functional)", {path: lines}, 250))
    for path, lines in count("nn/**/*.py").items():
        result.append((f"{path} (any single nn/ file)", {path: lines}, 250))
    return result


def table() -> str:
    rows = [f"{sum(files.values()):6d} / {budget:5d}  {name}" for name, files, budget in areas()]
    api = count("minigrad/tensor.py", "minigrad/autograd.py", "minigrad/functions.py")
    rows.append(f"{sum(api.values()):6d}          for reference: the whole Tensor API with the op "
                "functions (tensor.py + autograd.py + functions.py)")
    rows += ["", "per file:"] + [f"{n:6d}  {p}" for p, n in
                                 count("minigrad/**/*.py", "nn/**/*.py").items()]
    return "\n".join(rows)


@pytest.mark.parametrize("area", areas(), ids=lambda a: a[0])
def test_within_budget(area):
    name, files, budget = area
    total = sum(files.values())
    detail = ", ".join(f"{p} {n}" for p, n in files.items() if n)
    assert total <= budget, f"{name}: {total} code lines, budget {budget} ({detail})"


def test_print_the_counts(capsys):
    text = table()
    with capsys.disabled():
        print("\ncode lines (not blank, comment or docstring) / budget:\n" + text)
    assert "tensor.py + autograd.py" in text


def test_the_counter_skips_blanks_comments_and_docstrings():
    source = '''"""Module docstring
over two lines."""
import os  # a comment


def f(x):
    """Docstring."""
    # a comment line
    s = """not a docstring:
    an ordinary string"""
    return (x +
            1)
'''
    assert code_lines(source) == 6      # import, def, s (2 lines), return (2 lines)


def _backwards(path: Path):
    """Names in `path` that define a backward pass: functions called backward or *_backward*,
    and classes built on the engine's Primitive."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                node.name == "backward" or "_backward" in node.name):
            found.append(f"def {node.name}")
        bases = [ast.unparse(b) for b in getattr(node, "bases", [])]
        if isinstance(node, ast.ClassDef) and any("Primitive" in b for b in bases):
            found.append(f"class {node.name}({', '.join(ast.unparse(b) for b in node.bases)})")
    return found


def test_nn_defines_no_backward():
    """Composites, modules and losses are written with Tensor operations only (STYLE sections 3-4):
    every gradient comes from the primitives in minigrad/ops.py."""
    offenders = {str(p.relative_to(ROOT)): _backwards(p) for p in sorted(ROOT.glob("nn/**/*.py"))}
    offenders = {p: names for p, names in offenders.items() if names}
    assert not offenders, f"backward passes defined under nn/: {offenders}"


def test_the_backward_detector_works(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("class Fused(mg.autograd.Primitive):\n    def backward(self, g):\n"
                      "        return g\n\ndef _conv_backward(g):\n    return g\n")
    assert sorted(_backwards(sample)) == ["class Fused(mg.autograd.Primitive)",
                                          "def _conv_backward", "def backward"]


if __name__ == "__main__":
    print(table())
