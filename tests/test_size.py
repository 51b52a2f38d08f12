"""Size budgets (STYLE section 9): lines that are not blank, comments or docstrings.

Run `python tests/test_size.py` to print the table; the tests fail when an area is over budget.
A file that does not exist yet counts as 0 lines.
"""
import ast
import io
import re
import sys
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


CORE = ["minigrad/backend.py", "minigrad/ops.py", "minigrad/tensor.py", "minigrad/autograd.py"]
SOURCES = ["minigrad/**/*.py", "nn/**/*.py"]
BUDGET_LINE = re.compile(r"^Size budget: ([0-9][0-9,]*) code lines", re.MULTILINE)


def declared_budgets():
    """(path, budget) for every capability that states its own budget: a module whose opening
    docstring has a line `Size budget: N code lines`; in a package's `__init__.py` the budget
    covers the whole folder."""
    found = []
    for pattern in SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            doc = ast.get_docstring(ast.parse(path.read_text())) or ""
            match = BUDGET_LINE.search(doc)
            if match:
                found.append((path, int(match.group(1).replace(",", ""))))
    return found


def areas():
    """(name, {file: lines}, budget) for every budgeted area."""
    result = [
        ("backend.py", count("minigrad/backend.py"), 120),
        ("ops.py (all primitives)", count("minigrad/ops.py"), 400),
        ("tensor.py + autograd.py (the Tensor and the backward walk)",
         count("minigrad/tensor.py", "minigrad/autograd.py"), 600),
        ("autodiff core (backend, ops, tensor, autograd)", count(*CORE), 1100),
        ("minigrad/ + nn/ together", count(*SOURCES), 7000),
    ]
    for path, budget in declared_budgets():
        rel = path.parent.relative_to(ROOT) if path.name == "__init__.py" else \
            path.relative_to(ROOT)
        files = count(f"{rel}/**/*.py") if path.name == "__init__.py" else count(str(rel))
        result.append((f"{rel} (its docstring's budget)", files, budget))
    for path, lines in count(*SOURCES).items():
        result.append((f"{path} (any single file)", {path: lines}, 400))
    return result


def table() -> str:
    rows = [f"{sum(files.values()):6d} / {budget:5d}  {name}" for name, files, budget in areas()]
    api = count("minigrad/tensor.py", "minigrad/autograd.py", "minigrad/functions.py")
    rows.append(f"{sum(api.values()):6d}          for reference: the whole Tensor API with the op "
                "functions (tensor.py + autograd.py + functions.py)")
    rows += ["", "per file:"] + [f"{n:6d}  {p}" for p, n in
                                 count(*SOURCES).items()]
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


def test_a_declared_budget_is_found(tmp_path, monkeypatch):
    (tmp_path / "nn").mkdir()
    (tmp_path / "nn" / "room.py").write_text('"""A room.\n\nSize budget: 1,200 code lines.\n"""\nx = 1\n')
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert [(p.name, n) for p, n in declared_budgets()] == [("room.py", 1200)]


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
