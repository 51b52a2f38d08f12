"""The documentation: its derivations hold numerically, its code runs, and the site builds strictly."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from nn import functional as F

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def test_softmax_cross_entropy_gradient_is_p_minus_y():
    rng = np.random.default_rng(0)
    z = mg.tensor(rng.standard_normal((6, 5)), requires_grad=True)
    y = rng.integers(0, 5, 6)
    F.cross_entropy(z, y).backward()
    p = np.exp(z.data - z.data.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    onehot = np.eye(5)[y]
    np.testing.assert_allclose(z.grad.data, (p - onehot) / 6, rtol=1e-12, atol=1e-15)


def test_cross_entropy_stays_exact_for_huge_logits():
    z = mg.tensor([[1000.0, -1000.0]], requires_grad=True)
    loss = F.cross_entropy(z, np.array([1]))
    loss.backward()
    assert loss.item() == 2000.0
    np.testing.assert_array_equal(z.grad.data, [[1.0, -1.0]])


def test_max_pool_gradient_routes_to_the_window_maximum():
    rng = np.random.default_rng(1)
    x = mg.tensor(rng.permutation(2 * 3 * 8 * 8).reshape(2, 3, 8, 8).astype(np.float64),
                  requires_grad=True)                       # distinct values: no ties
    g = rng.standard_normal((2, 3, 3, 3))
    F.max_pool2d(x, 3, stride=2).backward(mg.tensor(g))
    expected = np.zeros_like(x.data)
    for n, c, i, j in np.ndindex(g.shape):
        window = x.data[n, c, 2 * i:2 * i + 3, 2 * j:2 * j + 3]
        a, b = np.unravel_index(window.argmax(), window.shape)
        expected[n, c, 2 * i + a, 2 * j + b] += g[n, c, i, j]   # overlapping windows add up
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)


@pytest.mark.parametrize("padding", [0, 1, 2])
def test_conv_input_gradient_is_a_transposed_convolution(padding):
    rng = np.random.default_rng(2)
    x = mg.tensor(rng.standard_normal((2, 3, 7, 6)), requires_grad=True)
    w = mg.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    y = F.conv2d(x, w, padding=padding)
    dy = mg.tensor(rng.standard_normal(y.shape))
    y.backward(dy)
    k = w.shape[-1]
    w_t = mg.tensor(np.ascontiguousarray(np.flip(w.data, (2, 3)).swapaxes(0, 1)))
    np.testing.assert_allclose(x.grad.data, F.conv2d(dy, w_t, padding=k - 1 - padding).data,
                               rtol=1e-10, atol=1e-12)
    x_pad = np.pad(x.data, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dw = F.conv2d(mg.tensor(x_pad.swapaxes(0, 1).copy()), mg.tensor(dy.data.swapaxes(0, 1).copy()))
    np.testing.assert_allclose(w.grad.data, dw.data.swapaxes(0, 1), rtol=1e-10, atol=1e-12)


def _python_blocks(page):
    return re.findall(r"```python\n(.*?)```", (ROOT / page).read_text(), flags=re.S)


@pytest.mark.parametrize("page", sorted(str(p.relative_to(ROOT)) for p in
                                        [ROOT / "README.md", *DOCS.glob("*.md")]
                                        if "```python" in p.read_text()))
def test_code_in_the_docs_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs__"}        # a page's blocks run in order, like a session
    for block in _python_blocks(page):
        exec(compile(block, page, "exec"), namespace)


def test_examples_page_carries_the_readme_results():
    """docs/examples.md repeats the README's Examples and Results sections; they must not drift."""
    readme = (ROOT / "README.md").read_text()
    sections = readme[readme.index("## Examples\n") + len("## Examples\n"):].strip()
    page = (DOCS / "examples.md").read_text()
    assert page.startswith("# Examples\n")
    assert page[len("# Examples\n"):].strip() == sections


@pytest.mark.slow
def test_docs_site_builds_strictly(tmp_path):
    from conftest import require
    require("mkdocs")
    require("mkdocstrings")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                             str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "index.html").exists()
    assert (tmp_path / "site" / "gallery" / "lenet5_step.svg").exists()
