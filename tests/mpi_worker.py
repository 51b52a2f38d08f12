"""What tests/test_distributed.py runs under mpirun (and alone, as the one-process reference):
LeNet-5 trained with fit on seeded random images, global batch 8; rank 0 saves the final
weights.

  python tests/mpi_worker.py OUT [--distributed] [--epochs E] [--checkpoint F] [--resume F]
                             [--die-after N] [--stall-after N] [--timeout S]
"""
import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
import minigrad as mg  # noqa: E402
from lenet5 import LeNet5  # noqa: E402
from nn.callbacks import Callback, ModelCheckpoint  # noqa: E402


class Failure(Callback):
    """Rank 1 dies (SIGKILL) or stops answering (sleeps) after `after` batches."""

    def __init__(self, after, how):
        self.after, self.how, self.seen = after, how, 0

    def on_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.after and mg.distributed.rank == 1:
            if self.how == "die":
                os.kill(os.getpid(), 9)
            time.sleep(120)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--distributed", action="store_true")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--checkpoint")
    p.add_argument("--resume")
    p.add_argument("--die-after", type=int)
    p.add_argument("--stall-after", type=int)
    p.add_argument("--timeout", type=float, default=60)
    args = p.parse_args()
    if args.distributed:
        mg.distributed.init(timeout=args.timeout)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((48, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 48)
    mg.manual_seed(1 + mg.distributed.rank)     # ranks start apart: the broadcast must align them
    model = LeNet5()
    model.compile("sgd", lr=0.05, loss="cross_entropy")
    callbacks = [ModelCheckpoint(args.checkpoint)] if args.checkpoint else []
    if args.die_after or args.stall_after:
        callbacks.append(Failure(args.die_after or args.stall_after,
                                 "die" if args.die_after else "stall"))
    model.fit(x, y, batch_size=8, epochs=args.epochs, seed=5 if args.resume is None else None,
              verbose=0, callbacks=callbacks, resume_from=args.resume,
              distributed=args.distributed)
    if mg.distributed.rank == 0:       # and the batch size each rank trained on
        mg.save({"model": model.state_dict(), "local_batch": model._run.loader.batch_size},
                args.out)


if __name__ == "__main__":
    main()
