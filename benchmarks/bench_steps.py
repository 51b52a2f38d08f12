"""Time per training step of whole models and two kernels: minigrad against PyTorch, one process.

  cnn_bn    examples/cnn_bn.py's model (2 x conv 5x5 + BatchNorm + ReLU + pool, FC), batch 100
  lenet5    LeNet-5 (examples/lenet5.py), batch 64
  resnet    examples/resnet.py's ResNet (3 stages, BatchNorm, 1x1 shortcuts), 28x28, batch 128
  seed_cnn  the seed CNN (examples/seed_cnn.py: conv 3x3x8, pool, FC 1352 -> 10), batch 1
  mlp       the DeZero MLP 784-1000-1000-10 with ReLU, batch 100
  conv3x3   conv2d forward + backward, N=64, C=16, 28x28, 32 filters of 3x3, padding 1
  chain     1,000 small elementwise ops on a (10,) tensor, forward + backward

A model step is zero_grad, forward, cross-entropy, backward and an Adam step on random images and
labels; both frameworks start from the same weights (the first losses are printed and must agree).
Each thread count limits minigrad (mg.set_num_threads) and PyTorch (torch.set_num_threads). The
frameworks run in interleaved rounds of about --round seconds each, so load from other processes
slows them alike; the table holds the median time per step and the ratio minigrad / PyTorch. The
"compiled" columns time `mg.compile(step)` where minigrad has it.

    python benchmarks/bench_steps.py                        # all workloads, threads 1 and 2
    python benchmarks/bench_steps.py --quick                # a short run
    python benchmarks/bench_steps.py --workloads cnn_bn conv3x3 --threads 2 --repeats 15
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "examples")]

import minigrad as mg  # noqa: E402
import nn  # noqa: E402
from minigrad import optim  # noqa: E402
from nn import functional as F  # noqa: E402

import bench_ops  # noqa: E402  (the 1,000-op chain)


def torch_cnn_bn(tnn):
    def block(cin, cout):
        return [tnn.Conv2d(cin, cout, 5, padding=2), tnn.BatchNorm2d(cout), tnn.ReLU(),
                tnn.MaxPool2d(2)]
    return tnn.Sequential(*block(1, 16), *block(16, 32), tnn.Flatten(), tnn.Linear(1568, 10))


def torch_lenet(tnn):
    return tnn.Sequential(tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
                          tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
                          tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(),
                          tnn.Linear(84, 10))


def torch_seed_cnn(tnn):
    return tnn.Sequential(tnn.Conv2d(1, 8, 3, bias=False), tnn.MaxPool2d(2), tnn.Flatten(),
                          tnn.Linear(1352, 10))


def torch_mlp(tnn):
    return tnn.Sequential(tnn.Flatten(), tnn.Linear(784, 1000), tnn.ReLU(),
                          tnn.Linear(1000, 1000), tnn.ReLU(), tnn.Linear(1000, 10))


def torch_resnet(torch):
    """examples/resnet.py's ResNet in PyTorch, its parameters registered in the same order."""
    tnn = torch.nn

    class Block(tnn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = tnn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(cout)
            self.conv2 = tnn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(cout)
            self.shortcut = tnn.Identity() if stride == 1 and cin == cout else tnn.Sequential(
                tnn.Conv2d(cin, cout, 1, stride, bias=False), tnn.BatchNorm2d(cout))

        def forward(self, x):
            out = torch.relu(self.bn1(self.conv1(x)))
            return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))

    return tnn.Sequential(tnn.Conv2d(1, 16, 3, padding=1, bias=False), tnn.BatchNorm2d(16),
                          tnn.ReLU(), Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2),
                          tnn.AdaptiveAvgPool2d(1), tnn.Flatten(), tnn.Linear(64, 10))


def minigrad_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 1000), nn.ReLU(), nn.Linear(1000, 1000),
                         nn.ReLU(), nn.Linear(1000, 10))


def models(torch):
    """name -> (batch, minigrad model factory, PyTorch model factory)."""
    import cnn_bn
    import lenet5
    import resnet
    import seed_cnn
    tnn = torch.nn
    return {"cnn_bn": (100, cnn_bn.ConvNet, lambda: torch_cnn_bn(tnn)),
            "lenet5": (64, lenet5.LeNet5, lambda: torch_lenet(tnn)),
            "resnet": (128, lambda: resnet.ResNet(1), lambda: torch_resnet(torch)),
            "seed_cnn": (1, seed_cnn.seed_cnn, lambda: torch_seed_cnn(tnn)),
            "mlp": (100, minigrad_mlp, lambda: torch_mlp(tnn))}


def copy_weights(torch, model, twin):
    """Copy minigrad's parameters into the twin, in registration order; shapes must agree."""
    ours, theirs = list(model.parameters()), list(twin.parameters())
    assert len(ours) == len(theirs), (len(ours), len(theirs))
    with torch.no_grad():
        for p, q in zip(ours, theirs):
            assert tuple(p.shape) == tuple(q.shape), (p.shape, q.shape)
            q.copy_(torch.from_numpy(np.array(p.numpy())))


def model_steps(torch, name, compiled):
    """Step functions (minigrad eager, PyTorch, minigrad compiled or None) and both first losses."""
    batch, make_ours, make_theirs = models(torch)[name]
    rng = np.random.default_rng(0)
    images = rng.random((batch, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, batch)
    x, y = mg.tensor(images), mg.tensor(labels)
    tx, ty = torch.from_numpy(images), torch.from_numpy(labels)

    def ours():
        model = make_ours()
        opt = optim.Adam(model.parameters(), lr=1e-3)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return model, step

    model, step = ours()
    twin = make_theirs()
    copy_weights(torch, model, twin)
    topt = torch.optim.Adam(twin.parameters(), lr=1e-3)

    def torch_step():
        topt.zero_grad()
        loss = torch.nn.functional.cross_entropy(twin(tx), ty)
        loss.backward()
        topt.step()
        return loss

    first = (float(step(x, y).item()), float(torch_step().item()))
    fast = None
    if compiled is not None:
        fast_step = compiled(ours()[1])
        fast = lambda: fast_step(x, y)      # noqa: E731
    return (lambda: step(x, y)), torch_step, fast, first


def conv_steps(torch, compiled):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s, dtype=np.float32) for s in
              ((64, 16, 28, 28), (32, 16, 3, 3), (32,))]
    leaves = [mg.tensor(a, requires_grad=True) for a in arrays]
    tleaves = [torch.tensor(a, requires_grad=True) for a in arrays]

    def step(x, w, b):
        for t in (x, w, b):
            t.grad = None
        loss = F.conv2d(x, w, b, padding=1).sum()
        loss.backward()
        return loss

    def torch_step():
        for t in tleaves:
            t.grad = None
        loss = torch.nn.functional.conv2d(*tleaves, padding=1).sum()
        loss.backward()
        return loss

    first = (float(step(*leaves).item()), float(torch_step().item()))
    fast = None
    if compiled is not None:
        fast_step = compiled(step)
        fast = lambda: fast_step(*leaves)   # noqa: E731
    return (lambda: step(*leaves)), torch_step, fast, first


def chain_steps(torch, compiled, n_ops=1000):
    ours, x = bench_ops.setup_minigrad(n_ops)
    theirs, tx = bench_ops.setup_torch(n_ops)
    ours()
    theirs()
    first = (float(x.grad.numpy()[0]), float(tx.grad[0]))
    x.grad = tx.grad = None
    fast = None
    if compiled is not None:
        def step(x, w, b):
            x.grad = w.grad = b.grad = None     # a compiled step must not read the last call's
            bench_ops.chain(x, w, b, n_ops).backward()
        rng = np.random.default_rng(0)
        leaves = [mg.tensor(rng.standard_normal(10).astype(np.float32), requires_grad=True)
                  for _ in range(3)]
        fast_step = compiled(step)
        fast = lambda: fast_step(*leaves)   # noqa: E731

    def reset(run, leaf):
        def go():
            leaf.grad = None
            run()
        return go
    return reset(ours, x), reset(theirs, tx), fast, first


def set_threads(torch, n):
    setter = getattr(mg, "set_num_threads", None) or mg.backend.set_num_threads
    setter(n)
    torch.set_num_threads(n)


def per_step(run, seconds, repeats):
    """Steps per round such that a round takes about `seconds` (at least 1)."""
    run()
    start = time.perf_counter()
    run()
    return max(1, min(1000, round(seconds / max(time.perf_counter() - start, 1e-6))))


def measure(runs, seconds, repeats):
    """Median seconds per step of each run over `repeats` interleaved rounds."""
    counts = [per_step(r, seconds, repeats) if r else 0 for r in runs]
    times = [[] for _ in runs]
    for _ in range(repeats):
        for t, run, k in zip(times, runs, counts):
            if run is None:
                continue
            start = time.perf_counter()
            for _ in range(k):
                run()
            t.append((time.perf_counter() - start) / k)
    return [statistics.median(t) if t else None for t in times]


def fmt(seconds):
    if seconds is None:
        return ""
    return f"{seconds * 1e3:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def ratio(a, b):
    return "" if a is None or b is None else f"{a / b:.2f}x"


WORKLOADS = ("cnn_bn", "lenet5", "resnet", "seed_cnn", "mlp", "conv3x3", "chain")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeats", type=int, default=7, help="rounds per framework (default 7)")
    p.add_argument("--round", type=float, default=0.25, help="seconds per round (default 0.25)")
    p.add_argument("--quick", action="store_true", help="3 rounds of 0.1 s: a short run")
    p.add_argument("--no-compile", action="store_true", help="skip the compiled columns")
    args = p.parse_args(argv)
    if args.quick:
        args.repeats, args.round = 3, 0.1
    try:
        import torch
    except ImportError:
        sys.exit("error: this benchmark needs PyTorch (pip install torch)")
    compiled = None if args.no_compile else getattr(mg, "compile", None)
    began = time.perf_counter()
    print(f"minigrad {getattr(mg, '__version__', '?')}, NumPy {np.__version__}, PyTorch "
          f"{torch.__version__}; load average at start {os.getloadavg()[0]:.2f}; compiled: "
          f"{'yes' if compiled else 'no (minigrad has no compile)'}", flush=True)
    rows = {}
    for name in args.workloads:
        for n in args.threads:
            set_threads(torch, n)
            if name == "conv3x3":
                runs = conv_steps(torch, compiled)
            elif name == "chain":
                runs = chain_steps(torch, compiled)
            else:
                runs = model_steps(torch, name, compiled)
            ours, theirs, fast, first = runs
            if abs(first[0] - first[1]) > 1e-3 * max(1.0, abs(first[1])):
                sys.exit(f"error: {name}: first results differ: minigrad {first[0]:.6g}, "
                         f"PyTorch {first[1]:.6g}")
            rows[name, n] = measure([ours, theirs, fast], args.round, args.repeats)
            print(f"  {name}, {n} thread(s): first result {first[0]:.5g} / {first[1]:.5g}; "
                  f"{fmt(rows[name, n][0])} vs {fmt(rows[name, n][1])}", flush=True)
    print(f"\nload average at end {os.getloadavg()[0]:.2f}; {time.perf_counter() - began:.0f} s; "
          f"median of {args.repeats} rounds\n")
    print("| workload | threads | minigrad eager | PyTorch | eager / PyTorch | minigrad compiled "
          "| compiled / PyTorch |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for (name, n), (ours, theirs, fast) in rows.items():
        print(f"| {name} | {n} | {fmt(ours)} | {fmt(theirs)} | {ratio(ours, theirs)} | "
              f"{fmt(fast)} | {ratio(fast, theirs)} |")
    if 1 in args.threads and 2 in args.threads:
        print("\n| workload | minigrad eager, 1 thread / 2 | PyTorch, 1 thread / 2 |")
        print("| --- | --- | --- |")
        for name in args.workloads:
            one, two = rows[name, 1], rows[name, 2]
            print(f"| {name} | {ratio(one[0], two[0])} | {ratio(one[1], two[1])} |")


if __name__ == "__main__":
    main()
