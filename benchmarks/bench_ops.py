"""Per-op overhead: a chain of small elementwise ops on a (10,) tensor, forward + backward.

Runs minigrad and PyTorch side by side in the same process and prints microseconds per op for
both and their ratio. The arrays are tiny, so the time is the framework's own bookkeeping (graph
recording, the backward walk), not arithmetic.

    python benchmarks/bench_ops.py                 # 1000 ops, best of 30 runs, torch on 1 thread
    python benchmarks/bench_ops.py --ops 2000 --repeats 50 --threads 2
"""
import argparse
import time

import numpy as np

import minigrad as mg

# One step of the chain: five ops, mixing tensor and Python-scalar operands. tanh keeps the
# values bounded, so exp never overflows however long the chain is.
STEP = (
    lambda x, w, b: x * w,
    lambda x, w, b: x + 0.5,
    lambda x, w, b: x.tanh(),
    lambda x, w, b: x - b,
    lambda x, w, b: x.exp(),
)


def chain(x, w, b, n_ops):
    """Apply n_ops ops of STEP in turn, then reduce to a scalar (one more op)."""
    for i in range(n_ops):
        x = STEP[i % len(STEP)](x, w, b)
    return x.sum()


def setup_minigrad(n_ops):
    """A run() doing forward + backward of the chain in minigrad, and its leaf x."""
    rng = np.random.default_rng(0)
    x, w, b = (mg.tensor(rng.standard_normal(10).astype(np.float32), requires_grad=True)
               for _ in range(3))
    return (lambda: chain(x, w, b, n_ops).backward()), x


def setup_torch(n_ops):
    """The same in PyTorch, from the same values."""
    import torch

    rng = np.random.default_rng(0)
    x, w, b = (torch.tensor(rng.standard_normal(10).astype(np.float32), requires_grad=True)
               for _ in range(3))
    return (lambda: chain(x, w, b, n_ops).backward()), x


def best_times(runs, repeats):
    """The fastest of `repeats` runs of each function, in seconds. The runs are interleaved, so a
    burst of load from other processes slows both sides alike."""
    best = [float("inf")] * len(runs)
    for _ in range(repeats):
        for i, run in enumerate(runs):
            start = time.perf_counter()
            run()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000, help="ops in the chain (default 1000)")
    parser.add_argument("--repeats", type=int, default=30, help="timed runs; the best counts")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    args = parser.parse_args()

    n = args.ops + 1                                # the chain plus the final sum
    runs = [setup_minigrad(args.ops)]
    try:
        import torch

        torch.set_num_threads(args.threads)
        runs.append(setup_torch(args.ops))
    except ImportError:
        torch = None
    for run, _ in runs:
        run()                                       # warm up
    times = best_times([run for run, _ in runs], args.repeats)
    print(f"minigrad {mg.__version__} (numpy {np.__version__}): {times[0] / n * 1e6:6.2f} us/op "
          f"forward+backward ({args.ops} ops on a (10,) tensor, best of {args.repeats})")
    if torch is None:
        print("PyTorch is not installed: no side-by-side figure")
        return
    # Same chain, same inputs, same number of runs: the accumulated gradients agree.
    np.testing.assert_allclose(runs[0][1].grad.numpy(), runs[1][1].grad.numpy(), rtol=1e-3,
                               atol=1e-5)
    print(f"torch {torch.__version__} ({args.threads} thread{'s' * (args.threads > 1)}): "
          f"{times[1] / n * 1e6:6.2f} us/op")
    print(f"ratio minigrad / torch: {times[0] / times[1]:.2f}x")


if __name__ == "__main__":
    main()
