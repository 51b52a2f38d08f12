"""examples/seq_mnist_lstm.py against the same recipe in PyTorch: MNIST test accuracy over seeds.

For every seed both frameworks train LSTM(128) + Linear (Adam lr 2e-3, batch 128) from the same
initial weights (minigrad's, copied into torch) on the same batches in the same order; then the
mean test accuracies are compared. They must agree within --tolerance percentage points (exit
status 1 otherwise).

  python benchmarks/compare_seq_mnist.py                          # seed 0, full MNIST, 4 epochs
  python benchmarks/compare_seq_mnist.py --limit 5000 --epochs 1  # a quick check
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))

import seq_mnist_lstm  # noqa: E402  (examples/seq_mnist_lstm.py)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--tolerance", type=float, default=0.5, help="allowed gap between the means, in "
                   "percentage points (default 0.5)")
    p.add_argument("--limit", type=int, help="train on the first N images only (quick check)")
    p.add_argument("--data", metavar="DIR", help="data root holding mnist/ (default $MINIGRAD_DATA "
                   "or the cache)")
    p.add_argument("--threads", type=int, default=1, help="PyTorch intra-op threads (default 1)")
    opts = p.parse_args()
    try:
        import torch
    except ImportError:
        sys.exit("error: this comparison needs PyTorch (pip install torch)")
    torch.set_num_threads(opts.threads)

    flags = ["--no-progress", "--epochs", str(opts.epochs)] \
        + (["--data", opts.data] if opts.data else []) \
        + (["--train", str(opts.limit)] if opts.limit else [])
    rows, data = [], None
    for seed in opts.seeds:
        args = seq_mnist_lstm.arguments(flags + ["--seed", str(seed)])
        data = data or seq_mnist_lstm.load(args)
        start = time.perf_counter()
        _, _, log, initial = seq_mnist_lstm.train(args, data)
        ours, ours_s = log.epochs[-1]["test_acc"], time.perf_counter() - start
        start = time.perf_counter()
        theirs = seq_mnist_lstm.torch_train(torch, args, data, initial)[-1]
        theirs_s = time.perf_counter() - start
        rows.append((seed, ours, theirs, ours_s, theirs_s))
        print(f"seed {seed}: minigrad {100 * ours:.2f}% ({ours_s:.0f} s), "
              f"PyTorch {torch.__version__} {100 * theirs:.2f}% ({theirs_s:.0f} s)", flush=True)

    mean_ours = 100 * sum(r[1] for r in rows) / len(rows)
    mean_theirs = 100 * sum(r[2] for r in rows) / len(rows)
    gap = mean_ours - mean_theirs
    print(f"\nLSTM(128) on MNIST rows, {len(data[0])} training images, {opts.epochs} epoch(s), "
          f"seeds {opts.seeds}")
    print(f"{'seed':>6} {'minigrad':>10} {'PyTorch':>10}")
    for seed, ours, theirs, _, _ in rows:
        print(f"{seed:>6} {100 * ours:>9.2f}% {100 * theirs:>9.2f}%")
    print(f"{'mean':>6} {mean_ours:>9.2f}% {mean_theirs:>9.2f}%")
    ok = abs(gap) <= opts.tolerance
    print(f"gap {gap:+.2f} points (tolerance {opts.tolerance}): {'OK' if ok else 'TOO LARGE'}")
    print(f"time per seed: minigrad {sum(r[3] for r in rows) / len(rows):.0f} s, PyTorch "
          f"{sum(r[4] for r in rows) / len(rows):.0f} s (PyTorch threads: {opts.threads})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
