"""Data-parallel training under MPI: 2 ranks (mpirun -n 2 --oversubscribe on localhost, run from
here with a timeout) against one process, a rank that dies or stalls, and resuming with ranks.
Each run executes tests/mpi_worker.py, a fixed script, and is waited for before the next starts."""
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from conftest import STRICT, require
from minigrad.data import DataLoader, TensorDataset

WORKER = Path(__file__).resolve().parent / "mpi_worker.py"
ROOT = WORKER.parent.parent
# Open MPI refuses to start as root unless told it may (CI containers run as root)
ENV = dict(os.environ, PYTHONPATH=str(ROOT), OMPI_ALLOW_RUN_AS_ROOT="1",
           OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")


def mpirun(*args, ranks=2, timeout=120):
    if shutil.which("mpirun") is None:
        if STRICT:
            pytest.fail("mpirun is missing (apt-get install openmpi-bin libopenmpi-dev)")
        pytest.skip("mpirun is missing (apt-get install openmpi-bin libopenmpi-dev)")
    require("mpi4py")
    command = ["mpirun", "-n", str(ranks), "--oversubscribe", sys.executable, str(WORKER)]
    return subprocess.run(command + [str(a) for a in args], capture_output=True, text=True,
                          env=ENV, timeout=timeout, cwd=ROOT)


def alone(*args):
    return subprocess.run([sys.executable, str(WORKER)] + [str(a) for a in args],
                          capture_output=True, text=True, env=ENV, timeout=120, cwd=ROOT)


def ok(proc):
    assert proc.returncode == 0, f"failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"


def weights(path, local_batch=4):
    saved = mg.load(path)
    assert saved["local_batch"] == local_batch
    return {k: np.asarray(v) for k, v in saved["model"].items()}


def assert_same(a, b, tol):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=tol, atol=tol, err_msg=k)


def test_two_ranks_train_like_one_process_with_the_global_batch(tmp_path):
    ok(alone(tmp_path / "one.npz"))
    ok(mpirun(tmp_path / "two.npz", "--distributed"))
    one, two = weights(tmp_path / "one.npz", 8), weights(tmp_path / "two.npz", 4)
    assert_same(one, two, 1e-6)                       # float32 rounding of the mean's two halves


def test_resume_from_a_checkpoint_with_ranks(tmp_path):
    ok(mpirun(tmp_path / "straight.npz", "--distributed", "--epochs", 2))
    ok(mpirun(tmp_path / "half.npz", "--distributed", "--epochs", 1,
              "--checkpoint", tmp_path / "ckpt.npz"))
    ok(mpirun(tmp_path / "resumed.npz", "--distributed", "--epochs", 2,
              "--resume", tmp_path / "ckpt.npz"))
    straight, half = weights(tmp_path / "straight.npz"), weights(tmp_path / "half.npz")
    assert_same(straight, weights(tmp_path / "resumed.npz"), 1e-6)
    assert max(np.abs(straight[k] - half[k]).max() for k in half) > 1e-4


def test_a_rank_that_dies_stops_the_others(tmp_path):
    start = time.monotonic()
    proc = mpirun(tmp_path / "w.npz", "--distributed", "--die-after", 2, timeout=90)
    assert proc.returncode != 0 and time.monotonic() - start < 60
    assert "signal 9" in proc.stderr + proc.stdout or "Killed" in proc.stderr + proc.stdout
    assert not (tmp_path / "w.npz").exists()


def test_a_rank_that_stalls_times_the_others_out_with_a_clear_error(tmp_path):
    start = time.monotonic()
    proc = mpirun(tmp_path / "w.npz", "--distributed", "--stall-after", 2, "--timeout", 2,
                  timeout=90)
    assert proc.returncode != 0 and time.monotonic() - start < 60
    assert "rank 0 of 2 waited 2 s for the other ranks in average_gradients" in proc.stderr


def test_loader_deals_each_rank_its_share_of_every_global_batch():
    data = TensorDataset(np.arange(10.0), np.arange(10))
    whole = DataLoader(data, batch_size=4, shuffle=True, seed=3)
    parts = [DataLoader(data, batch_size=2, shuffle=True, seed=3, num_replicas=2, rank=r)
             for r in (0, 1)]
    assert len(parts[0]) == len(parts[1]) == 3
    for (big, _), a, b in zip(whole, *parts):
        together = np.concatenate([a[0].numpy(), b[0].numpy()])
        assert set(together) >= set(big.numpy())      # the last global batch wraps round
    with pytest.raises(ValueError, match=r"rank 2 is not in \[0, num_replicas = 2\)"):
        DataLoader(data, num_replicas=2, rank=2)


def test_one_rank_without_mpirun():
    mg.distributed.average_gradients([])               # world of one: nothing to do
    with pytest.raises(RuntimeError, match="call distributed.init"):
        mg.distributed.broadcast(mg.zeros(3))


def test_example_trains_under_mpirun_and_rank_0_alone_writes(tmp_path):
    from conftest import data_dir
    env = dict(ENV, MINIGRAD_DATA=data_dir(), PYTHONWARNINGS="ignore")
    require("mpi4py")
    proc = subprocess.run(["mpirun", "-n", "2", "--oversubscribe", sys.executable,
                           str(ROOT / "examples/lenet5.py"), "--quick", "--distributed",
                           "--no-progress", "--out", str(tmp_path)], capture_output=True,
                          text=True, env=env, timeout=300, cwd=ROOT)
    ok(proc)
    assert proc.stdout.count("lenet5: finished") == 1          # rank 1 prints nothing
    assert mg.load(tmp_path / "checkpoint.npz")["model"]


def test_gradients_travel_in_buckets_not_one_per_parameter():
    params = [mg.zeros(100) for _ in range(5)] + [mg.zeros(10, dtype=mg.float64), mg.zeros(1000)]
    buckets = mg.distributed._buckets(params, 1000)           # 400 bytes each, then 80, 4000
    assert [len(b) for b in buckets] == [2, 2, 1, 1, 1]
    sys.path.insert(0, str(ROOT / "examples"))
    from lenet5 import LeNet5
    assert len(mg.distributed._buckets(list(LeNet5().parameters()), 25 * 2**20)) == 1


def test_missing_mpi4py_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(ImportError, match=r'pip install "minigrad\[mpi\]"'):
        mg.distributed.init()
