"""examples/cnn_bn.py against the same recipe in PyTorch: mean MNIST test accuracy over seeds.

For every seed both frameworks train the CNN + BatchNorm model (Adam lr 1e-3, batch 100, one epoch)
on the same batches in the same order (minigrad's DataLoader order for that seed), each with its
own default initialisation seeded by the seed; then the mean test accuracies are compared. They
must agree within --tolerance percentage points (exit status 1 otherwise).

  python benchmarks/compare_cnn_bn.py                  # seeds 0 1 2, full MNIST, one epoch
  python benchmarks/compare_cnn_bn.py --limit 2000     # a quick check
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))

import cnn_bn  # noqa: E402  (examples/cnn_bn.py)


def torch_run(torch, args, data):
    """The same model and recipe in PyTorch, replaying minigrad's batch order; test accuracy."""
    x_train, y_train, x_test, y_test = data
    tnn = torch.nn
    torch.manual_seed(args.seed)

    def block(in_channels, out_channels):
        return [tnn.Conv2d(in_channels, out_channels, kernel_size=5, padding=2),
                tnn.BatchNorm2d(out_channels), tnn.ReLU(), tnn.MaxPool2d(2)]
    model = tnn.Sequential(*block(1, 16), *block(16, 32), tnn.Flatten(), tnn.Linear(7 * 7 * 32, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loader = cnn_bn.make_loader(x_train, y_train, args)
    images = torch.from_numpy(x_train[:, None].astype("float32") / 255)
    labels = torch.from_numpy(y_train)
    for epoch in range(args.epochs):
        order = torch.from_numpy(loader.order(epoch))
        for i in range(0, len(order), args.batch_size):
            batch = order[i:i + args.batch_size]
            loss = tnn.functional.cross_entropy(model(images[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(torch.from_numpy(x_test[i:i + 1000]))
                            for i in range(0, len(x_test), 1000)])
    return (logits.argmax(1).numpy() == y_test).mean()


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--tolerance", type=float, default=0.3, help="allowed gap between the means, in "
                   "percentage points (default 0.3)")
    p.add_argument("--limit", type=int, help="train on the first N images only (quick check)")
    p.add_argument("--data", metavar="DIR", help="data root holding mnist/ (default $MINIGRAD_DATA "
                   "or the cache)")
    p.add_argument("--threads", type=int, default=1, help="PyTorch intra-op threads (default 1, "
                   "minigrad's BLAS default)")
    opts = p.parse_args()
    try:
        import torch
    except ImportError:
        sys.exit("error: this comparison needs PyTorch (pip install torch)")
    torch.set_num_threads(opts.threads)

    flags = ["--no-progress"] + (["--data", opts.data] if opts.data else []) \
        + (["--train", str(opts.limit)] if opts.limit else [])
    rows, data = [], None
    for seed in opts.seeds:
        args = cnn_bn.arguments(flags + ["--seed", str(seed)])
        data = data or cnn_bn.load(args)
        start = time.perf_counter()
        _, _, log, _ = cnn_bn.train(args, data)
        ours, ours_s = log.epochs[-1]["test_acc"], time.perf_counter() - start
        start = time.perf_counter()
        theirs = torch_run(torch, args, data)
        theirs_s = time.perf_counter() - start
        rows.append((seed, ours, theirs, ours_s, theirs_s))
        print(f"seed {seed}: minigrad {100 * ours:.2f}% ({ours_s:.0f} s), "
              f"PyTorch {torch.__version__} {100 * theirs:.2f}% ({theirs_s:.0f} s)", flush=True)

    mean_ours = 100 * sum(r[1] for r in rows) / len(rows)
    mean_theirs = 100 * sum(r[2] for r in rows) / len(rows)
    gap = mean_ours - mean_theirs
    n_train = len(data[0])
    print(f"\nCNN + BatchNorm, {n_train} training images, {args.epochs} epoch(s), "
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
