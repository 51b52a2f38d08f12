"""Where a compiled step's time goes: every instruction of the replayed program, timed.

Builds one workload of bench_steps.py, compiles its step with mg.compile, times the plain replay,
then puts a timer around each instruction of the program and replays it again: the table gives
the time per step by operation (matrix products, elementwise primitives, the windows' scatter-add,
copies, ...), "into" for those written straight into their buffer, "copy" for those computed and
then copied. The timers add a little, so the instructions' sum is a little above the plain step.

    python benchmarks/profile_replay.py conv3x3
    python benchmarks/profile_replay.py resnet --threads 2 --top 25
"""
import argparse
import collections
import statistics
import sys
import time

import bench_steps

compile_module = sys.modules["minigrad.compile"]   # mg.compile is the function of that name
SECONDS = collections.defaultdict(float)           # (operation, into/copy, shapes) -> seconds
CALLS = collections.Counter()


def _timed(fn, name, mode, shapes=None):
    """fn with a timer; `shapes` None: those of the arrays it reads (after the output, into)."""
    def run(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            operands = args[1:] if mode == "into" else args
            key = (name, mode,
                   shapes or tuple(a.shape for a in operands if hasattr(a, "shape"))[:2])
            SECONDS[key] += time.perf_counter() - start
            CALLS[key] += 1
    return run


def instrument(program):
    """Timers around the program's instructions (those written in place are timed through the
    table of in-place functions, the others by wrapping the function or primitive class), then
    the program's calls bound afresh to them."""
    into = compile_module._INTO
    for fn in list(into):
        into[fn] = _timed(into[fn], getattr(fn, "__name__", repr(fn)), "into")
    for instr in program.instrs:
        kind, fn, ins, _, out = instr
        if fn in compile_module._INTO and out is not None:     # written in place
            continue
        if kind == "prim":
            shapes = tuple(program.slots[i].shape for i in ins)[:2]
            forward = _timed(fn.forward, fn.__name__, "copy", shapes)    # a method: gets self
            instr[1] = type(fn.__name__, (fn,), {"forward": forward})
        else:
            instr[1] = _timed(fn, getattr(fn, "__qualname__", repr(fn)), "copy")
    program.bind()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workload", choices=[w for w in bench_steps.WORKLOADS if w != "chain"])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=10, help="replayed steps timed (default 10)")
    p.add_argument("--top", type=int, default=15, help="rows of the per-shape table (default 15)")
    args = p.parse_args(argv)
    import torch
    bench_steps.set_threads(torch, args.threads)
    compiled = []

    def compile_and_keep(fn):
        compiled.append(bench_steps.mg.compile(fn))
        return compiled[-1]
    if args.workload == "conv3x3":
        fast = bench_steps.conv_steps(torch, compile_and_keep)[2]
    else:
        fast = bench_steps.model_steps(torch, args.workload, compile_and_keep)[2]
    for _ in range(4):          # warm-up, two recordings, a first replay
        fast()
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        fast()
        times.append(time.perf_counter() - start)
    step = statistics.median(times)
    (program,) = compiled[0].programs.values()
    SECONDS.clear()
    CALLS.clear()
    saved = dict(compile_module._INTO)
    instrument(program)
    try:
        for _ in range(args.steps):
            fast()
    finally:
        compile_module._INTO.update(saved)      # the timers stay out of later programs
    total = sum(SECONDS.values()) / args.steps
    print(f"{args.workload}, {args.threads} thread(s): replayed step {step * 1e3:.2f} ms (median "
          f"of {args.steps}); {len(program.instrs)} instructions, {total * 1e3:.2f} ms timed\n")
    by_op = collections.defaultdict(float)
    for (name, mode, _), seconds in SECONDS.items():
        by_op[name, mode] += seconds / args.steps
    print("| operation | written | ms per step |\n| --- | --- | --- |")
    for (name, mode), seconds in sorted(by_op.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {mode} | {seconds * 1e3:.2f} |")
    print("\n| operation | written | shapes of its first two operands | calls | ms per step |")
    print("| --- | --- | --- | --- | --- |")
    for key, seconds in sorted(SECONDS.items(), key=lambda kv: -kv[1])[:args.top]:
        name, mode, shapes = key
        print(f"| {name} | {mode} | {', '.join(map(str, shapes))} | {CALLS[key] // args.steps} | "
              f"{seconds / args.steps * 1e3:.2f} |")


if __name__ == "__main__":
    main()
