"""Whole-model speed: minigrad against PyTorch (CPU), in the same process, on the same weights.

  lenet-train   LeNet-5 (conv5x5x6 pad 2, ReLU, pool, conv5x5x16, ReLU, pool, FC 120, 84, 10):
                one SGD step (zero_grad, forward, cross-entropy, backward, step) at batch 64
  lenet-infer   LeNet-5 forward under no_grad at batch 1000
  seed-cnn      the seed CNN (conv3x3x8 without bias, pool 2, dense 1352 -> 10, softmax
                cross-entropy), 1000 SGD steps at batch 1

Random images and labels stand in for MNIST: the work per step does not depend on the pixels.
Each thread setting limits both BLAS (threadpoolctl) and torch.set_num_threads; runs are
interleaved and the best and median of each are printed, with ratios. Peak memory: the largest
amount of array memory minigrad holds during one step (tracemalloc), and the process's peak
resident size at the end (both frameworks).

    python benchmarks/bench_models.py                       # threads 1 and 2
    python benchmarks/bench_models.py --threads 1 --repeats 10 --steps 1000 --cpu-time
"""
import argparse
import os
import resource
import statistics
import time
import tracemalloc

import numpy as np

import minigrad as mg
import nn
from minigrad import backend, optim


def lenet_minigrad():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def seed_cnn_minigrad():
    return nn.Sequential(nn.Conv2d(1, 8, 3, bias=False), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(1352, 10))


def torch_twin(torch, model):
    """The same architecture in PyTorch, holding a copy of `model`'s weights."""
    tnn = torch.nn
    layers = []
    for m in model:
        if isinstance(m, nn.Conv2d):
            layers.append(tnn.Conv2d(m.in_channels, m.out_channels, m.kernel_size,
                                     padding=m.padding, bias=m.bias is not None))
        elif isinstance(m, nn.Linear):
            layers.append(tnn.Linear(m.in_features, m.out_features))
        else:
            layers.append({nn.ReLU: tnn.ReLU, nn.Flatten: tnn.Flatten}.get(type(m), None)()
                          if not isinstance(m, nn.MaxPool2d) else tnn.MaxPool2d(2))
    twin = tnn.Sequential(*layers)
    with torch.no_grad():
        for (_, p), (_, q) in zip(model.named_parameters(), twin.named_parameters()):
            q.copy_(torch.from_numpy(np.array(p.numpy())))
    return twin


def workloads(torch, threads, steps):
    """{name: (minigrad run, torch run or None, items per run)}."""
    rng = np.random.default_rng(0)
    x64 = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y64 = rng.integers(0, 10, 64)
    x1000 = rng.standard_normal((1000, 1, 28, 28)).astype(np.float32)
    xs = rng.standard_normal((steps, 1, 1, 28, 28)).astype(np.float32)
    ys = rng.integers(0, 10, (steps, 1))

    def train_step(model, opt, loss_fn, x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    mg.manual_seed(0)
    lenet, seed = lenet_minigrad(), seed_cnn_minigrad()
    lenet_opt = optim.SGD(lenet.parameters(), lr=0.01, momentum=0.9)
    seed_opt = optim.SGD(seed.parameters(), lr=0.005)
    ce = nn.CrossEntropyLoss()
    mx64, my64, mx1000 = mg.tensor(x64), mg.tensor(y64), mg.tensor(x1000)
    mxs, mys = [mg.tensor(x) for x in xs], [mg.tensor(y) for y in ys]

    def mg_infer():
        with mg.no_grad():
            lenet(mx1000)

    def mg_seed():
        for x, y in zip(mxs, mys):
            train_step(seed, seed_opt, ce, x, y)

    runs = {"lenet-train": [lambda: train_step(lenet, lenet_opt, ce, mx64, my64), None, 64],
            "lenet-infer": [mg_infer, None, 1000],
            "seed-cnn": [mg_seed, None, steps]}
    if torch is None:
        return runs
    tlenet, tseed = torch_twin(torch, lenet), torch_twin(torch, seed)
    tlenet_opt = torch.optim.SGD(tlenet.parameters(), lr=0.01, momentum=0.9)
    tseed_opt = torch.optim.SGD(tseed.parameters(), lr=0.005)
    tce = torch.nn.CrossEntropyLoss()
    tx64, ty64, tx1000 = torch.from_numpy(x64), torch.from_numpy(y64), torch.from_numpy(x1000)
    txs, tys = [torch.from_numpy(x) for x in xs], [torch.from_numpy(y) for y in ys]
    first = (train_step(lenet, lenet_opt, ce, mx64, my64).item(),
             train_step(tlenet, tlenet_opt, tce, tx64, ty64).item())
    print(f"  same weights, first LeNet-5 loss: minigrad {first[0]:.6f}, torch {first[1]:.6f}")

    def torch_infer():
        with torch.no_grad():
            tlenet(tx1000)

    def torch_seed():
        for x, y in zip(txs, tys):
            train_step(tseed, tseed_opt, tce, x, y)

    runs["lenet-train"][1] = lambda: train_step(tlenet, tlenet_opt, tce, tx64, ty64)
    runs["lenet-infer"][1] = torch_infer
    runs["seed-cnn"][1] = torch_seed
    return runs


def peak_step_memory(run):
    """The most array memory (MiB) allocated at once during one run, above what was held before."""
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - base) / 2 ** 20


def blas_info():
    try:
        import threadpoolctl
    except ImportError:
        return "threadpoolctl not installed"
    info = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    return ", ".join(f"{i['internal_api']} ({i['num_threads']} threads)" for i in info)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2", help="thread settings to try (default 1,2)")
    parser.add_argument("--repeats", type=int, default=10, help="timed runs of each workload")
    parser.add_argument("--steps", type=int, default=1000, help="seed-CNN steps per run")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with the process's CPU clock instead of the wall clock: "
                             "steadier on a loaded machine, and fair only with 1 thread")
    args = parser.parse_args()
    clock = time.process_time if args.cpu_time else time.perf_counter
    try:
        import torch
    except ImportError:
        torch = None
    print(f"numpy {np.__version__}, torch {torch.__version__ if torch else 'missing'}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; minigrad default BLAS: "
          f"{blas_info()}; clock: {'process CPU time' if args.cpu_time else 'wall'}")
    for threads in [int(t) for t in args.threads.split(",")]:
        backend.set_num_threads(threads)
        if torch:
            torch.set_num_threads(threads)
        print(f"\nthreads={threads}: BLAS {blas_info()}"
              + (f", torch.get_num_threads()={torch.get_num_threads()}" if torch else ""))
        runs = workloads(torch, threads, args.steps)
        for name, (ours, theirs, items) in runs.items():
            pair = [ours] + ([theirs] if theirs else [])
            times = [[] for _ in pair]
            for round_ in range(args.repeats + 1):      # round 0 warms up
                for t, run in zip(times, pair):
                    start = clock()
                    run()
                    if round_:
                        t.append(clock() - start)
            best = [min(t) for t in times]
            med = [statistics.median(t) for t in times]
            if name == "seed-cnn":
                unit = [f"{b * 1000 / items:.3f} s/1000 steps (median {m * 1000 / items:.3f})"
                        for b, m in zip(best, med)]
            else:
                unit = [f"{items / b:8,.0f} img/s (median {items / m:8,.0f})"
                        for b, m in zip(best, med)]
            line = f"  {name:12s} minigrad {unit[0]}"
            if theirs:
                line += (f"   torch {unit[1]}   time ratio {best[0] / best[1]:.2f}x "
                         f"(median {med[0] / med[1]:.2f}x)")
            print(line)
            if threads == int(args.threads.split(",")[0]):
                print(f"  {'':12s} minigrad peak array memory during one run: "
                      f"{peak_step_memory(ours):.1f} MiB")
    print(f"\npeak resident memory of the whole process (both frameworks): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; "
          f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
