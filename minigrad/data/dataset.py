"""Datasets: indexable collections of samples, array-backed ones batched by fancy indexing."""
import math

from .. import backend as B
from ..backend import xp
from ..tensor import Tensor


def as_array(x):
    """A Tensor's array, or x as an array (no copy where none is needed)."""
    return x.data if isinstance(x, Tensor) else xp.asarray(x)


def make_rng(seed=None):
    """A numpy Generator seeded with `seed`, or minigrad's generator (`mg.manual_seed`) for None."""
    return B.rng() if seed is None else xp.random.default_rng(seed)


class Dataset:
    """A sized collection of samples: subclasses define `__len__` and `__getitem__(i)`.

    `get_batch(indices)` returns one array per field of a sample, stacked along a new first axis.
    The default gathers the samples one by one; array-backed datasets override it with fancy
    indexing, which the DataLoader then uses.
    """

    def get_batch(self, indices) -> tuple:
        return collate([self[int(i)] for i in indices])


def get_batch(dataset, indices) -> tuple:
    """The samples of `dataset` at `indices` as stacked arrays, by its `get_batch` if it has one."""
    if hasattr(dataset, "get_batch"):
        return tuple(dataset.get_batch(indices))
    return collate([dataset[int(i)] for i in indices])


def collate(samples) -> tuple:
    """A list of samples (tuples of arrays, Tensors or numbers) -> a tuple of stacked arrays."""
    if not samples:
        raise ValueError("collate: got an empty list of samples")
    rows = [s if isinstance(s, (tuple, list)) else (s,) for s in samples]
    if len({len(r) for r in rows}) != 1:
        raise ValueError(f"collate: samples have different numbers of fields: "
                         f"{sorted({len(r) for r in rows})}")
    return tuple(xp.stack([as_array(v) for v in field]) for field in zip(*rows))


class TensorDataset(Dataset):
    """Samples are the rows of one or more arrays (or Tensors) sharing their first dimension."""

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset: needs at least one array")
        self.arrays = tuple(as_array(a) for a in arrays)
        shapes = [a.shape for a in self.arrays]
        if any(len(s) == 0 for s in shapes) or len({s[0] for s in shapes}) != 1:
            raise ValueError(f"TensorDataset: arrays must share their first (sample) dimension; "
                             f"got shapes {', '.join(map(str, shapes))}")

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)

    get_batch = __getitem__     # indexing by an array of indices gathers a batch


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = xp.asarray(indices, dtype=xp.int64).reshape(-1)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < -n or self.indices.max() >= n):
            raise IndexError(f"Subset: indices must lie in [{-n}, {n}) for a dataset of {n} "
                             f"samples; got the range [{self.indices.min()}, {self.indices.max()}]")

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def get_batch(self, indices) -> tuple:
        return get_batch(self.dataset, self.indices[indices])


def random_split(dataset, lengths, seed=None) -> list:
    """Split into non-overlapping random Subsets, by lengths (summing to len(dataset)) or fractions
    (summing to 1; leftover samples go one each to the first parts, as in PyTorch)."""
    n = len(dataset)
    lengths = list(lengths)
    if not lengths or any(x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be a non-empty list of non-negative numbers; "
                         f"got {lengths}")
    if all(isinstance(x, float) for x in lengths):
        if not math.isclose(sum(lengths), 1.0, abs_tol=1e-6):
            raise ValueError(f"random_split: fractions {lengths} sum to {sum(lengths)}, not 1")
        lengths = [int(math.floor(f * n)) for f in lengths]       # fractions -> lengths
        for i in range(n - sum(lengths)):
            lengths[i % len(lengths)] += 1
    elif sum(lengths) != n or not all(float(x).is_integer() for x in lengths):
        raise ValueError(f"random_split: lengths {lengths} sum to {sum(lengths)}, but the dataset "
                         f"has {n} samples; pass whole numbers summing to {n} or fractions summing to 1")
    order = make_rng(seed).permutation(n)
    bounds = xp.cumsum([0] + [int(x) for x in lengths])
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
