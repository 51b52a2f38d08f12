"""conv2d forward and forward+backward: minigrad against PyTorch (CPU), in the same process.

The workload is N=64, C=16, 28x28 input, 32 filters of 3x3, padding 1, float32. The input, weight
and bias all require gradients. Each thread setting limits both BLAS (through threadpoolctl) and
torch.set_num_threads. Runs are interleaved, so a burst of load from other processes slows both
frameworks alike; the best and the median of the runs are printed with their ratios.

    python benchmarks/bench_conv.py                     # threads 1 and 2, 20 runs each
    python benchmarks/bench_conv.py --threads 1 --repeats 50 --cpu-time --no-input-grad
"""
import argparse
import os
import statistics
import time

import numpy as np

import minigrad as mg
from minigrad import backend
from nn import functional as F

SHAPES = dict(x=(64, 16, 28, 28), w=(32, 16, 3, 3), b=(32,))


def arrays():
    rng = np.random.default_rng(0)
    data = {k: rng.standard_normal(s).astype(np.float32) for k, s in SHAPES.items()}
    data["w"] *= 0.1
    data["g"] = rng.standard_normal((64, 32, 28, 28)).astype(np.float32)
    return data


def minigrad_runs(data, input_grad):
    x = mg.tensor(data["x"], requires_grad=input_grad)
    w, b = mg.tensor(data["w"], requires_grad=True), mg.tensor(data["b"], requires_grad=True)
    g = mg.tensor(data["g"])

    def forward():
        with mg.no_grad():
            F.conv2d(x, w, b, padding=1)

    def forward_backward():
        x.grad = w.grad = b.grad = None
        F.conv2d(x, w, b, padding=1).backward(g)

    return forward, forward_backward


def torch_runs(torch, data, input_grad):
    x = torch.tensor(data["x"], requires_grad=input_grad)
    w, b = torch.tensor(data["w"], requires_grad=True), torch.tensor(data["b"], requires_grad=True)
    g = torch.tensor(data["g"])

    def forward():
        with torch.no_grad():
            torch.nn.functional.conv2d(x, w, b, padding=1)

    def forward_backward():
        x.grad = w.grad = b.grad = None
        torch.nn.functional.conv2d(x, w, b, padding=1).backward(g)

    return forward, forward_backward


def timings(runs, repeats, clock=time.perf_counter):
    """Seconds of each run over `repeats` interleaved rounds (after one warm-up round)."""
    times = [[] for _ in runs]
    for round_ in range(repeats + 1):
        for t, run in zip(times, runs):
            start = clock()
            run()
            if round_:
                t.append(clock() - start)
    return times


def blas_info():
    """The BLAS library numpy uses and its thread count, as threadpoolctl reports them."""
    try:
        import threadpoolctl
    except ImportError:
        return "threadpoolctl not installed"
    info = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    return ", ".join(f"{i['internal_api']} {i.get('version')} ({i['num_threads']} threads)"
                     for i in info)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2", help="thread settings to try (default 1,2)")
    parser.add_argument("--repeats", type=int, default=20, help="timed runs of each workload")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with the process's CPU clock instead of the wall clock: "
                             "steadier on a loaded machine, and fair only with 1 thread")
    parser.add_argument("--no-input-grad", action="store_true",
                        help="the input does not require grad (a first layer)")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
    data, input_grad = arrays(), not args.no_input_grad
    print(f"conv2d x{SHAPES['x']} w{SHAPES['w']} padding 1 float32, input grad: {input_grad}, "
          f"clock: {'process CPU time' if args.cpu_time else 'wall'}")
    print(f"numpy {np.__version__}, torch {torch.__version__ if torch else 'missing'}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print(f"minigrad default BLAS threads: {blas_info()}")
    for threads in [int(t) for t in args.threads.split(",")]:
        backend.set_num_threads(threads)
        runs = list(minigrad_runs(data, input_grad))
        if torch:
            torch.set_num_threads(threads)
            runs += torch_runs(torch, data, input_grad)
        clock = time.process_time if args.cpu_time else time.perf_counter
        times = timings(runs, args.repeats, clock)
        print(f"\nthreads={threads}: BLAS {blas_info()}"
              + (f", torch.get_num_threads()={torch.get_num_threads()}" if torch else ""))
        for i, name in enumerate(["forward", "forward+backward"]):
            best, median = min(times[i]) * 1e3, statistics.median(times[i]) * 1e3
            line = f"  {name:17s} minigrad {best:6.1f} ms (median {median:6.1f})"
            if torch:
                tb, tm = min(times[i + 2]) * 1e3, statistics.median(times[i + 2]) * 1e3
                line += (f"   torch {tb:6.1f} ms (median {tm:6.1f})   ratio {best / tb:4.2f}x "
                         f"(median {median / tm:4.2f}x)")
            print(line)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
