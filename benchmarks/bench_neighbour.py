"""Step times with and without a busy neighbour: does a CPU hog slow minigrad more than PyTorch?

For each workload and thread count, the steps of bench_steps.py (minigrad eager, minigrad
compiled, PyTorch) are timed in interleaved rounds on the otherwise idle machine, then again while
one extra process spins on the CPU (the "neighbour"), then idle once more. The table gives each
framework's slowdown (busy time / the mean of the two idle times) and minigrad's slowdown over
PyTorch's; the goal is at most 1.5x.

    python benchmarks/bench_neighbour.py                            # cnn_bn, lenet5; 1 and 2 threads
    python benchmarks/bench_neighbour.py --workloads cnn_bn --threads 2 --repeats 9
"""
import argparse
import multiprocessing
import os
import sys
import time

import bench_steps
from bench_steps import mg


def spin(stop):
    while not stop.is_set():
        sum(range(10_000))


def timed(torch, name, threads, compiled, seconds, repeats):
    bench_steps.set_threads(torch, threads)
    if name == "conv3x3":
        runs = bench_steps.conv_steps(torch, compiled)
    else:
        runs = bench_steps.model_steps(torch, name, compiled)
    ours, theirs, fast, _ = runs
    return bench_steps.measure([ours, fast, theirs], seconds, repeats)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workloads", nargs="+", choices=("cnn_bn", "lenet5", "conv3x3"),
                   default=["cnn_bn", "lenet5"])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--round", type=float, default=0.25)
    args = p.parse_args(argv)
    import torch
    print(f"{os.cpu_count()} CPUs; load average at start {os.getloadavg()[0]:.2f}", flush=True)
    rows = []
    for name in args.workloads:
        for n in args.threads:
            idle1 = timed(torch, name, n, mg.compile, args.round, args.repeats)
            stop = multiprocessing.Event()
            hog = multiprocessing.Process(target=spin, args=(stop,), daemon=True)
            hog.start()
            try:
                time.sleep(0.5)
                busy = timed(torch, name, n, mg.compile, args.round, args.repeats)
            finally:
                stop.set()
                hog.join()
            idle2 = timed(torch, name, n, mg.compile, args.round, args.repeats)
            slow = [b / ((a + c) / 2) for a, b, c in zip(idle1, busy, idle2)]
            rows.append((name, n, slow))
            print(f"  {name}, {n} thread(s): idle {[f'{t * 1e3:.1f}' for t in idle1]} ms, busy "
                  f"{[f'{t * 1e3:.1f}' for t in busy]} ms, idle {[f'{t * 1e3:.1f}' for t in idle2]}"
                  " ms (eager, compiled, PyTorch)", flush=True)
    print(f"\nload average at end {os.getloadavg()[0]:.2f}; slowdown = busy / idle\n")
    print("| workload | threads | minigrad eager | minigrad compiled | PyTorch | eager / PyTorch "
          "slowdown | compiled / PyTorch slowdown |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    worst = 0.0
    for name, n, (eager, fast, theirs) in rows:
        worst = max(worst, eager / theirs, fast / theirs)
        print(f"| {name} | {n} | {eager:.2f}x | {fast:.2f}x | {theirs:.2f}x | "
              f"{eager / theirs:.2f}x | {fast / theirs:.2f}x |")
    print(f"\nworst minigrad slowdown over PyTorch's: {worst:.2f}x (goal: at most 1.5x)")
    return 0 if worst <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
