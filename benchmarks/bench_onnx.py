"""LeNet-5 inference: minigrad against the same model exported with mg.onnx.export and run by
ONNX Runtime, and against PyTorch, in one process on the same weights (batch 1000 under no_grad).

Each thread setting limits BLAS (threadpoolctl), ONNX Runtime's intra-op pool and
torch.set_num_threads; runs are interleaved and the median of each is printed as images/s, with
ratios to PyTorch.

    python benchmarks/bench_onnx.py                 # threads 1 and 2, 7 repeats
    python benchmarks/bench_onnx.py --batch 256 --repeats 15
"""
import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import minigrad as mg
from bench_models import lenet_minigrad, torch_twin


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = p.parse_args()
    import onnxruntime as ort
    import torch
    from threadpoolctl import threadpool_limits

    mg.manual_seed(0)
    model = lenet_minigrad().eval()
    twin = torch_twin(torch, model).eval()
    x = np.random.default_rng(0).standard_normal((args.batch, 1, 28, 28)).astype(np.float32)
    path = Path(tempfile.mkdtemp()) / "lenet5.onnx"
    mg.onnx.export(model, x[:2], path)
    for threads in args.threads:
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        torch.set_num_threads(threads)
        runs = {
            "minigrad": lambda: model(mg.tensor(x)),
            "onnxruntime": lambda: session.run(None, {"input": x}),
            "pytorch": lambda: twin(torch.from_numpy(x)),
        }
        times = {name: [] for name in runs}
        with threadpool_limits(threads), mg.no_grad(), torch.no_grad():
            for name, run in runs.items():
                run()                                    # warm-up
            for _ in range(args.repeats):
                for name, run in runs.items():
                    start = time.perf_counter()
                    run()
                    times[name].append(time.perf_counter() - start)
        speed = {name: args.batch / statistics.median(t) for name, t in times.items()}
        print(f"threads {threads}, batch {args.batch}, median of {args.repeats}:")
        for name, value in speed.items():
            print(f"  {name:<12} {value:>9,.0f} images/s   {value / speed['pytorch']:.2f}x PyTorch")


if __name__ == "__main__":
    main()
