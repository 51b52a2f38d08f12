"""DataLoader: mini-batches of Tensors in a seeded, resumable order."""
from ..backend import xp
from ..tensor import Tensor
from .dataset import get_batch, make_rng
from .transforms import apply_batch


class DataLoader:
    """Iterate over `dataset` in batches, each a tuple of Tensors (one per sample field).

    Parameters
    ----------
    dataset : a Dataset (or any object with `__len__` and `__getitem__`). Array-backed datasets
        are batched by fancy indexing through their `get_batch(indices)`.
    batch_size, shuffle, drop_last : as in PyTorch; the last batch may be smaller unless drop_last.
    seed : fixes the shuffling. Without it, the seed is drawn from minigrad's generator, so
        `mg.manual_seed` fixes it.
    transform : applied to the first field (the inputs) of every batch, batched where it can be.
    num_replicas, rank : serve only rank `rank`'s share of each epoch, as PyTorch's
        DistributedSampler does: the epoch's order, wrapped round to a multiple of num_replicas,
        dealt out one sample per rank in turn. Batch i of every rank together is then batch i of
        one loader with batch_size * num_replicas (see minigrad.distributed).

    Notes
    -----
    Each `iter(loader)` starts the next epoch. Epoch e is shuffled by a generator seeded with
    (seed, e), so every epoch visits each sample exactly once and the order depends only on the seed
    and the epoch number. `state_dict()` records the epoch and the batches already handed out;
    `load_state_dict()` makes the next iteration resume at exactly that point.
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 seed: int | None = None, transform=None, num_replicas: int = 1, rank: int = 0):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, xp.integer)) \
                or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if seed is None:
            seed = int(make_rng().integers(2**63))
        self.dataset, self.batch_size, self.transform = dataset, int(batch_size), transform
        self.shuffle, self.drop_last, self.seed = bool(shuffle), bool(drop_last), int(seed)
        self.epoch, self._batch, self._resume = 0, 0, False
        if not 0 <= rank < num_replicas:
            raise ValueError(f"DataLoader: rank {rank!r} is not in [0, num_replicas = "
                             f"{num_replicas!r})")
        self.num_replicas, self.rank = int(num_replicas), int(rank)

    def __len__(self) -> int:
        n = -(-len(self.dataset) // self.num_replicas)      # this rank's samples
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def order(self, epoch: int):
        """The sample indices of epoch `epoch`, in the order they are served."""
        n, replicas = len(self.dataset), self.num_replicas
        order = xp.random.default_rng([self.seed, epoch]).permutation(n) if self.shuffle else \
            xp.arange(n)
        return xp.resize(order, -(-n // replicas) * replicas)[self.rank::replicas]

    def __iter__(self):
        if self._batch > 0 and not self._resume:    # the previous epoch was started: move on
            self.epoch, self._batch = self.epoch + 1, 0
        self._resume = False
        epoch, order, size = self.epoch, self.order(self.epoch), self.batch_size
        for i in range(self._batch, len(self)):
            if self.epoch != epoch:
                raise RuntimeError("DataLoader: the loader was restarted or reloaded while this "
                                   "iterator was running; create a new iterator")
            self._batch = i + 1
            fields = get_batch(self.dataset, order[i * size:(i + 1) * size])
            if self.transform is not None:
                fields = (apply_batch(self.transform, fields[0]),) + fields[1:]
            yield tuple(f if isinstance(f, Tensor) else Tensor(f) for f in fields)

    def state_dict(self) -> dict:
        """Where the loader stands: {"seed", "epoch", "batch"} (batches of `epoch` already served)."""
        if self._batch >= len(self) and self._batch > 0:     # finished: the next epoch is up
            return {"seed": self.seed, "epoch": self.epoch + 1, "batch": 0}
        return {"seed": self.seed, "epoch": self.epoch, "batch": self._batch}

    def load_state_dict(self, state: dict) -> None:
        """Resume from a `state_dict()`: the next iteration continues exactly where it left off."""
        if not 0 <= int(state["batch"]) <= len(self):
            raise ValueError(f"DataLoader.load_state_dict: batch {state['batch']} is outside "
                             f"[0, {len(self)}] for this loader of {len(self)} batches")
        self.seed, self.epoch, self._batch = int(state["seed"]), int(state["epoch"]), int(state["batch"])
        if self._batch == len(self) > 0:
            self.epoch, self._batch = self.epoch + 1, 0
        self._resume = True
