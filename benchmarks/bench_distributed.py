"""Data-parallel LeNet-5 training: images/s with 1 rank against N ranks under mpirun.

Each rank runs SGD steps on its share of a global batch (random images: the work does not
depend on the pixels), with gradients averaged over the ranks after every backward
(minigrad.distributed, one Allreduce per bucket), and one BLAS thread per rank. The global batch
stays fixed, so N ranks each do 1/N of the arithmetic of a step; the speed-up is bounded by the
cores that are free and by the cost of the Allreduce.

    python benchmarks/bench_distributed.py                  # launches 1 and 2 ranks itself
    python benchmarks/bench_distributed.py --ranks 1 2 4 --batch 128 --steps 40
    mpirun -n 2 python benchmarks/bench_distributed.py --worker     # one measurement
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np

import minigrad as mg
from bench_models import lenet_minigrad


def worker(args):
    from threadpoolctl import threadpool_limits
    dist = mg.distributed
    dist.init()
    mg.manual_seed(0)
    model = lenet_minigrad()
    dist.broadcast_parameters(model)
    opt = mg.optim.SGD(model.parameters(), lr=0.01)
    local = args.batch // dist.world_size
    rng = np.random.default_rng(dist.rank)
    x = mg.tensor(rng.standard_normal((local, 1, 28, 28)).astype(np.float32))
    y = mg.tensor(rng.integers(0, 10, local))
    with threadpool_limits(1):
        for step in range(args.warmup + args.steps):
            if step == args.warmup:
                dist.barrier()
                start = time.perf_counter()
            loss = _loss(model(x), y)
            opt.zero_grad()
            loss.backward()
            dist.average_gradients(model.parameters())
            opt.step()
        dist.barrier()
    if dist.rank == 0:
        elapsed = time.perf_counter() - start
        print(f"RESULT {dist.world_size} {args.steps * args.batch / elapsed:.1f}")


def _loss(logits, y):
    from nn import functional as F
    return F.cross_entropy(logits, y)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    p.add_argument("--batch", type=int, default=64, help="global batch (default 64)")
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--worker", action="store_true", help="measure (run under mpirun)")
    args = p.parse_args()
    if args.worker:
        return worker(args)
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    flags = ["--batch", args.batch, "--steps", args.steps, "--warmup", args.warmup, "--worker"]
    results = {n: [] for n in args.ranks}
    for _ in range(args.repeats):
        for n in args.ranks:
            out = subprocess.run(["mpirun", "-n", str(n), "--oversubscribe", "--bind-to", "none",
                                  sys.executable, __file__, *map(str, flags)], env=env,
                                 capture_output=True, text=True, check=True).stdout
            results[n].append(float(out.split("RESULT")[1].split()[1]))
    base = np.median(results[args.ranks[0]])
    print(f"LeNet-5 SGD training, global batch {args.batch}, {os.cpu_count()} cores, median of "
          f"{args.repeats}:")
    for n, values in results.items():
        print(f"  {n} rank{'s' if n > 1 else ' '}  {np.median(values):>8,.0f} images/s   "
              f"{np.median(values) / base:.2f}x")


if __name__ == "__main__":
    main()
