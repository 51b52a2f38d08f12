"""examples/char_gpt.py and examples/vae.py run end to end (--quick) against their PyTorch
reference, and fail cleanly on bad input."""
import json
import os

import pytest

from conftest import require
from test_examples import assert_clean_failure, run

DICT = "/usr/share/dict/american-english"


def finished(script, out, *flags, data=None):
    proc = run(script, "--out", out, "--no-progress", *flags, data=data)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    assert "published:" in proc.stdout and "minigrad (this run):" in proc.stdout
    return json.loads((out / "results.json").read_text()), proc


@pytest.mark.slow
@pytest.mark.parametrize("script", ["char_gpt", "vae"])
def test_help(script):
    proc = run(script, "--help", data=".")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage:") and "reference" in proc.stdout.lower()
    for flag in ("--seed", "--data", "--out", "--quick", "--limit", "--no-reference"):
        assert flag in proc.stdout


@pytest.mark.slow
def test_char_gpt_matches_torch_and_samples(tmp_path):
    require("torch")
    if not os.path.isfile(DICT):
        pytest.skip(f"{DICT} is missing (apt-get install wamerican)")
    results, proc = finished("char_gpt", tmp_path, "--quick", "--data", DICT, data=".")
    ours, theirs = results["val_loss"], results["reference_val_loss"]
    assert abs(ours - theirs) / theirs < 0.02, proc.stdout
    first, last = results["loss_curve"][0][1], results["loss_curve"][-1][1]
    assert last < first - 0.5, f"the loss did not fall: {first:.3f} -> {last:.3f}"
    assert len(results["samples"]) == 20 and all(results["samples"])
    assert (tmp_path / "samples.txt").read_text().count("\n") == 20
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_char_gpt_reads_any_text_file_and_names_a_missing_one(tmp_path):
    text = tmp_path / "names.txt"
    text.write_text("\n".join(["emma", "olivia", "ava", "isabella", "sophia"] * 20) + "\n")
    results, _ = finished("char_gpt", tmp_path / "out", "--data", text, "--steps", 5,
                          "--block", 8, "--no-reference", data=".")
    assert results["reference_val_loss"] is None and results["val_loss"] > 0
    proc = run("char_gpt", "--data", tmp_path / "missing.txt", data=".")
    assert_clean_failure(proc, "missing.txt", "--data")


@pytest.mark.slow
@pytest.mark.realdata
def test_vae_matches_torch_and_draws_grids(tmp_path):
    require("torch")
    results, proc = finished("vae", tmp_path, "--quick", "--train", 2048)
    ours, theirs = results["test_elbo"], results["reference_test_elbo"]
    assert abs(ours - theirs) / abs(theirs) < 0.02, proc.stdout
    first, last = results["loss_curve"][0][1], results["loss_curve"][-1][1]
    assert last < 0.8 * first, f"the negative ELBO did not fall: {first:.1f} -> {last:.1f}"
    for name in ("samples.png", "reconstructions.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG", name
