"""examples/seq_mnist_lstm.py runs end to end (--quick) and its PyTorch reference, started from
the same weights on the same batches, reaches the same test accuracy."""
import json

import pytest

from conftest import require
from test_examples import run


@pytest.mark.slow
def test_help():
    proc = run("seq_mnist_lstm", "--help", data=".")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage:") and "reference" in proc.stdout.lower()
    for flag in ("--seed", "--data", "--out", "--quick", "--limit", "--no-reference"):
        assert flag in proc.stdout


@pytest.mark.slow
@pytest.mark.realdata
def test_quick_run_matches_torch(tmp_path):
    require("torch")
    proc = run("seq_mnist_lstm", "--quick", "--limit", "600", "--out", tmp_path, "--no-progress")
    assert proc.returncode == 0, f"failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    assert "published:" in proc.stdout and "minigrad (this run):" in proc.stdout
    results = json.loads((tmp_path / "results.json").read_text())
    assert abs(results["test_acc"] - results["torch_test_acc"]) <= 0.01, proc.stdout
    first, last = results["loss_curve"][0][1], results["loss_curve"][-1][1]
    assert last < first, f"the loss did not fall: {first:.3f} -> {last:.3f}"
    assert (tmp_path / "checkpoint.npz").exists() and (tmp_path / "curves.png").exists()
