"""Memory of a long cnn_bn training run: peak RSS, and what one step allocates after warm-up.

Each of minigrad eager, minigrad compiled (mg.compile) and PyTorch trains examples/cnn_bn.py's
model (batch 100, Adam, random images) for --steps steps in a fresh process, which reports its peak
resident set size (getrusage) and the time taken. For the two minigrad modes the process then
measures, with tracemalloc (NumPy reports its array memory to it), the bytes one further step
allocates beyond what it holds at its start (the peak over the step minus the start), and what it
still holds at its end.

    python benchmarks/bench_memory.py                 # 1,000 steps each
    python benchmarks/bench_memory.py --steps 100     # a quick run
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def child(mode, steps):
    sys.path[:0] = [HERE, os.path.join(HERE, "..", "examples")]
    import bench_steps
    import torch
    bench_steps.set_threads(torch, 1)
    compiled = bench_steps.mg.compile if mode == "compiled" else None
    eager, theirs, fast, _ = bench_steps.model_steps(torch, "cnn_bn", compiled)
    run = {"eager": eager, "compiled": fast, "torch": theirs}[mode]
    start = time.perf_counter()
    for _ in range(steps):
        run()
    result = {"mode": mode, "seconds": time.perf_counter() - start,
              "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if mode != "torch":
        import tracemalloc
        tracemalloc.start()
        run()                                   # the first traced step warms tracemalloc up
        begin = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        run()
        end, peak = tracemalloc.get_traced_memory()
        result.update(step_allocates_mib=(peak - begin) / 2**20, step_keeps_mib=(end - begin) / 2**20)
    print(json.dumps(result))


def _amount(mib):
    """A size for the table: MiB from 1 MiB up, KiB below (so a small step's bytes show)."""
    return "-" if mib is None else f"{mib:.1f} MiB" if abs(mib) >= 1 else f"{mib * 1024:.0f} KiB"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--child", choices=("eager", "compiled", "torch"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return child(args.child, args.steps)
    print(f"cnn_bn, batch 100, {args.steps} Adam steps per mode, 1 thread; load average "
          f"{os.getloadavg()[0]:.2f}\n", flush=True)
    print("| mode | time | peak RSS | one step allocates (beyond what it holds) | one step keeps |")
    print("| --- | --- | --- | --- | --- |")
    for mode in ("eager", "compiled", "torch"):
        out = subprocess.run([sys.executable, __file__, "--child", mode, "--steps",
                              str(args.steps)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        alloc, keep = (_amount(r.get(k)) for k in ("step_allocates_mib", "step_keeps_mib"))
        name = {"eager": "minigrad eager", "compiled": "minigrad compiled",
                "torch": "PyTorch"}[mode]
        print(f"| {name} | {r['seconds']:.1f} s | {r['peak_rss_mib']:.0f} MiB | {alloc} | "
              f"{keep} |", flush=True)


if __name__ == "__main__":
    main()
