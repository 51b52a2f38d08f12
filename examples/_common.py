"""Helpers shared by the example scripts: flags, seeding, progress bars, data errors and run files.

Every example run writes into its `--out` folder (default runs/<example>/):
  checkpoint.npz   the model (and optimizer) state, readable with `mg.load`
  curves.png       the training loss and the accuracy per epoch
  graph.svg        the computation graph of one training step (graph.dot when Graphviz is missing)
  results.json     the figures the run printed, for tables and tests
"""
import argparse
import contextlib
import json
import math
import os
import sys
import time

import minigrad as mg
from minigrad import viz
from minigrad.data import DataLoader, datasets


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _positive_float(text):
    value = float(text)
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def parser(name: str, doc: str, *, epochs: int | None, batch_size: int | None,
           lr: float) -> argparse.ArgumentParser:
    """The flags every example shares (no --epochs / --batch-size where they are None); each script
    adds its own and calls `parse`."""
    p = argparse.ArgumentParser(prog=f"python examples/{name}.py", description=doc,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    if epochs is not None:
        p.add_argument("--epochs", type=_positive, default=epochs, help=f"passes over the training "
                       f"set (default {epochs})")
    if batch_size is not None:
        p.add_argument("--batch-size", type=_positive, default=batch_size,
                       help=f"images per step (default {batch_size})")
    p.add_argument("--lr", type=_positive_float, default=lr, help=f"learning rate (default {lr})")
    p.add_argument("--seed", type=int, default=0, help="seed for initialisation, data order and "
                   "augmentation (default 0)")
    p.add_argument("--data", metavar="DIR", help="data root holding the data set's folder (mnist/, "
                   "catvnoncat/ ...); default $MINIGRAD_DATA, else the per-user cache, where "
                   "missing files are downloaded")
    p.add_argument("--out", metavar="DIR", default=os.path.join("runs", name),
                   help=f"where the checkpoint, curves, graph and results go (default runs/{name})")
    p.add_argument("--train", type=_positive, metavar="N",
                   help="use only the first N training images")
    p.add_argument("--test", type=_positive, metavar="N", help="use only the first N test images")
    p.add_argument("--limit", type=_positive, metavar="N", help="shorthand for --train N --test N")
    p.add_argument("--quick", action="store_true", help="a reduced smoke run (a few hundred "
                   "images, one epoch) for tests")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--distributed", action="store_true", help="data-parallel training over MPI: "
                   "launch with mpirun -n N python examples/<script>.py --distributed; each rank "
                   "takes its share of every batch and rank 0 alone prints and writes files")
    return p


def parse(p: argparse.ArgumentParser, argv=None, **quick) -> argparse.Namespace:
    """Parse the flags; `--quick` fills in `quick` (e.g. limit=300, epochs=1) where the command line
    left the value at its default."""
    args = p.parse_args(argv)
    if args.quick:
        for key, value in quick.items():
            if getattr(args, key) == p.get_default(key):
                setattr(args, key, value)
    if args.limit is not None:
        args.train = args.train or args.limit
        args.test = args.test or args.limit
    if args.data is not None and not os.path.isdir(args.data):
        p.error(f"--data {args.data}: no such folder; pass the folder that holds the data set's "
                "sub-folder (e.g. mnist/), or leave --data out to use $MINIGRAD_DATA or the cache")
    mg.manual_seed(args.seed)
    if args.distributed:
        with loading("MPI"):
            mg.distributed.init()
        if mg.distributed.rank != 0:
            args.no_progress, sys.stdout = True, open(os.devnull, "w")
    return args


def distribute(args, loader, model):
    """Under --distributed: rank 0's weights on every rank, and this rank's share of each batch
    (the loader's batch size is the global one)."""
    if not args.distributed:
        return loader
    mg.distributed.broadcast_parameters(model)
    world = mg.distributed.world_size
    if loader is None:
        return None
    if loader.batch_size % world:
        fail(f"--batch-size {loader.batch_size} does not split evenly over {world} ranks")
    return DataLoader(loader.dataset, loader.batch_size // world, loader.shuffle,
                      loader.drop_last, loader.seed, loader.transform, world, mg.distributed.rank)


def shard(args, array):
    """Under --distributed: this rank's rows of a full-batch array (every world_size-th one)."""
    return array[mg.distributed.rank::mg.distributed.world_size] if args.distributed else array


def sync(args, model):
    """Under --distributed: average the gradients over the ranks (call after backward)."""
    if args.distributed:
        mg.distributed.average_gradients(model.parameters())


def fail(message: str, status: int = 2):
    """Stop with a one-paragraph message on stderr and no traceback."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(status)


@contextlib.contextmanager
def loading(what: str):
    """Turn a missing, corrupt or malformed data set into a clean message and exit status 2."""
    try:
        yield
    except FileNotFoundError as e:
        fail(f"{what} is missing.\n{e}\n(--data DIR does for one run what MINIGRAD_DATA=DIR "
             "does.)")
    except (ValueError, OSError, ImportError) as e:
        fail(f"cannot load {what}: {e}")


def root(args, folder: str):
    """The data root for a set that lives in <root>/<folder>/: --data, or its parent when --data
    names that folder itself (--data ~/data/mnist means ~/data); None means the loader's default."""
    if args.data is None:
        return None
    path = os.path.normpath(args.data)
    if os.path.basename(path) == folder and not os.path.isdir(os.path.join(path, folder)):
        return os.path.dirname(path) or "."
    return args.data


def mnist(args):
    """MNIST's training and test sets, from --data or the loader's default place (downloaded when
    missing); a missing or broken set ends the run with a clean message."""
    with loading("MNIST"):
        return (datasets.MNIST(root(args, "mnist"), train=True),
                datasets.MNIST(root(args, "mnist"), train=False))


def check_labels(targets, num_classes: int, what: str):
    """Refuse labels outside 0..num_classes-1 (a data set that does not fit the model)."""
    bad = (targets < 0) | (targets >= num_classes)
    if bad.any():
        fail(f"{what}: {int(bad.sum())} labels lie outside 0..{num_classes - 1} (e.g. "
             f"{targets[bad][0]}); this model has {num_classes} classes")


def first(array, n):
    """The first n rows of an array (all of them when n is None)."""
    return array if n is None else array[:n]


def progress(iterable, args, desc: str, total=None):
    """A tqdm progress bar over `iterable` (plain iteration without tqdm or with --no-progress)."""
    if not args.no_progress:
        try:
            from tqdm import tqdm
        except ImportError:
            pass
        else:
            interval = 0.2 if sys.stderr.isatty() else 10.0    # log files get a line every 10 s
            return tqdm(iterable, desc=desc, total=total, mininterval=interval, leave=False,
                        dynamic_ncols=True)
    return _Plain(iterable)


class _Plain:
    def __init__(self, iterable):
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable)

    def set_postfix(self, *args, **kwargs):
        pass


class TrainLog:
    """Running training loss and accuracy: a point of the loss curve every `every` steps and one
    record per epoch (train loss, train accuracy and whatever else the script measured)."""

    def __init__(self, every: int = 50):
        self.every, self.step = max(1, int(every)), 0
        self.curve, self.epochs = [], []    # curve: (step, mean loss over the last `every` steps)
        self._chunk, self._loss, self._correct, self._seen = [], 0.0, 0, 0

    def update(self, loss: float, correct: int, n: int):
        if not math.isfinite(loss):
            fail(f"the training loss became {loss} at step {self.step + 1}; lower --lr")
        self.step += 1
        self._chunk.append(loss)
        self._loss += loss * n
        self._correct += correct
        self._seen += n
        if len(self._chunk) == self.every:
            self.curve.append((self.step, sum(self._chunk) / len(self._chunk)))
            self._chunk = []

    def postfix(self) -> dict:
        return {"loss": f"{self._loss / max(self._seen, 1):.4f}",
                "acc": f"{100 * self._correct / max(self._seen, 1):.2f}%"}

    def end_epoch(self, **metrics) -> dict:
        record = {"epoch": len(self.epochs) + 1, "train_loss": self._loss / max(self._seen, 1),
                  "train_acc": self._correct / max(self._seen, 1), **metrics}
        self.epochs.append(record)
        self._loss, self._correct, self._seen = 0.0, 0, 0
        return record


def correct(logits, y) -> int:
    """How many rows of logits (N, classes) have their largest entry at the label."""
    return int((logits.argmax(dim=1) == y).sum().item())


def accuracy(model, x, y, batch_size: int = 1000) -> float:
    """The fraction of images in x (an array) whose predicted class equals y, in eval mode."""
    was_training = model.training
    model.eval()
    hits = 0
    with mg.no_grad():
        for i in range(0, len(x), batch_size):
            hits += correct(model(mg.tensor(x[i:i + batch_size])), mg.tensor(y[i:i + batch_size]))
    model.train(was_training)
    return hits / len(x)


class Run:
    """The output folder of one run, and its clock."""

    def __init__(self, args, name: str):
        self.args, self.name, self.out = args, name, args.out
        os.makedirs(self.out, exist_ok=True)
        self.start = time.perf_counter()

    def path(self, filename: str) -> str:
        return os.path.join(self.out, filename)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def save_checkpoint(self, model, optimizer=None, **extra):
        if mg.distributed.rank != 0:        # --distributed: rank 0 alone writes files
            return
        state = {"model": model.state_dict(), **extra}
        if optimizer is not None:
            state["optimizer"] = optimizer.state_dict()
        mg.save(state, self.path("checkpoint.npz"))

    def draw_graph(self, loss, **options):
        """Draw the graph that produced `loss` (call before backward, which frees it); `options`
        go to viz.draw (e.g. depth=3 draws modules three levels down as single boxes)."""
        if mg.distributed.rank != 0:
            return
        try:
            viz.draw(loss, path=self.path("graph.svg"), **options)
        except (RuntimeError, ImportError) as e:      # no Graphviz: keep the DOT text instead
            with open(self.path("graph.dot"), "w") as f:
                f.write(viz.to_dot(loss, **options))
            print(f"note: graph.svg not drawn ({str(e).splitlines()[0]}); wrote graph.dot",
                  file=sys.stderr)

    def plot_curves(self, log: TrainLog, title: str, metric: str = "test_acc", x: str = "epoch"):
        """Training loss against steps, and train / test accuracy against epochs (or the record
        key `x`), in curves.png."""
        if mg.distributed.rank != 0:
            return
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("note: curves.png not drawn (pip install matplotlib)", file=sys.stderr)
            return
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
        if log.curve:
            steps, losses = zip(*log.curve)
            left.plot(steps, losses)
        left.set(xlabel="iteration" if x == "iteration" else "step", ylabel="training loss",
                 yscale="log", title=f"{title}: loss")
        epochs = [r[x] for r in log.epochs]
        right.plot(epochs, [100 * r["train_acc"] for r in log.epochs], "o-", label="train")
        if log.epochs and metric in log.epochs[0]:
            right.plot(epochs, [100 * r[metric] for r in log.epochs], "s-", label="test")
        right.set(xlabel=x, ylabel="accuracy (%)", title=f"{title}: accuracy")
        right.legend()
        fig.tight_layout()
        fig.savefig(self.path("curves.png"), dpi=100)
        plt.close(fig)

    def finish(self, log: TrainLog | None, published: list, ours: list, **results):
        """Print our figures next to the published ones and write results.json."""
        wall = self.elapsed()
        print(f"\n{self.name}: finished in {wall:.1f} s")
        width = max(len(label) for label, _ in published + ours)
        print("  published:")
        for label, value in published:
            print(f"    {label:<{width}}  {value}")
        print("  minigrad (this run):")
        for label, value in ours:
            print(f"    {label:<{width}}  {value}")
        if mg.distributed.rank != 0:
            return
        record = {"example": self.name, "wall_s": round(wall, 1), "args": vars(self.args),
                  **results}
        if log is not None:
            record.update(epochs=log.epochs, loss_curve=log.curve)
        with open(self.path("results.json"), "w") as f:
            json.dump(record, f, indent=1)
        print(f"  files: {self.out}/ (checkpoint.npz, curves.png, graph.svg, results.json)")


def count(n: int, noun: str) -> str:
    """'1 epoch', '3 epochs'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def percent(fraction: float) -> str:
    return f"{100 * fraction:.2f}%"


def epoch_line(epoch: int, record: dict) -> str:
    """'epoch 3: train loss 0.0412, train accuracy 98.71%, test accuracy 98.90%' from a record of
    TrainLog.end_epoch (with test_acc)."""
    return (f"epoch {epoch}: train loss {record['train_loss']:.4f}, train accuracy "
            f"{percent(record['train_acc'])}, test accuracy {percent(record['test_acc'])}")
