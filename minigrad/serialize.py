"""Checkpoints: nested containers of tensors, arrays and plain values in one pickle-free .npz file.

Layout: a zip archive (what numpy's savez writes) holding `structure.npy`, the UTF-8 bytes of a JSON
document, and `0.npy`, `1.npy`, ... for the arrays. The JSON gives the nesting, the plain values
inline, and the dtype and shape of every array; tensors and arrays in it point at entries by number.
Nothing is ever pickled, so `load` never runs code from a file; `numpy.load(path)` can read one too.
"""
import contextlib
import json
import math
import os
import zipfile
import zlib

from .backend import ndarray, xp
from .tensor import Tensor

_FORMAT, _VERSION = "minigrad-checkpoint", 1
_KINDS = "biufcSU"      # bool, ints, floats, complex, bytes, str: array kinds that need no pickle


def save(obj, path) -> None:
    """Write `obj` to `path` (the exact name given): nested dicts, lists and tuples of Tensors,
    numpy arrays and scalars, Python numbers, strings, bools and None. Dict keys may be strings,
    numbers, bools or None. Atomic: the data goes to a temporary file in the same folder, is
    flushed to disk, then renamed over `path`, so a crash mid-write leaves the previous file
    at `path` intact."""
    arrays = []
    tree = _encode(obj, arrays, "obj")
    header = json.dumps({"format": _FORMAT, "version": _VERSION,
                         "arrays": [[a.dtype.str, list(a.shape)] for a in arrays], "tree": tree},
                        allow_nan=False).encode("utf-8")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        with open(tmp, "xb") as f:      # x: fail rather than reuse a file of that name
            with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
                _write_entry(archive, "structure", xp.frombuffer(header, xp.uint8))
                for i, a in enumerate(arrays):
                    _write_entry(archive, str(i), a)
            f.flush()                   # the archive is complete: closing it wrote its directory
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def load(path):
    """Read a file written by `save`: Tensors come back as Tensors (dtype and requires_grad kept),
    arrays as arrays, tuples as tuples, all bit-exact. Anything else is refused with a ValueError
    naming the file and the problem: no pickle is ever unpickled and no code ever runs."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        head = f.read(4)
    if len(head) < 4 and b"PK\x03\x04".startswith(head):
        raise _refused(path, f"it is truncated (only {len(head)} bytes)")
    if head[:1] == b"\x80":
        raise _refused(path, "it holds a pickle, which could run arbitrary code when loaded; "
                             "minigrad checkpoints never contain pickles")
    if head != b"PK\x03\x04":
        raise _refused(path, f"it is not a .npz (zip) archive (it starts with {head!r})")
    try:
        with zipfile.ZipFile(path) as archive:
            members = {info.filename: info for info in archive.infolist()}
            if "structure.npy" not in members:
                raise _refused(path, f"it has no structure.npy entry (entries: "
                                     f"{sorted(members)[:5]}), so it was not written by mg.save")
            raw = _read_entry(path, archive, members, "structure", xp.dtype(xp.uint8), None)
            table, tree = _read_header(path, raw)
            arrays = [_read_entry(path, archive, members, str(i), dtype, shape)
                      for i, (dtype, shape) in enumerate(table)]
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
            OSError) as e:                  # how zipfile reports damaged headers and offsets
        raise _refused(path, f"it is truncated or corrupt ({type(e).__name__}: {e})") from None
    try:
        return _decode(tree, arrays)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError, RecursionError) as e:
        raise _refused(path, f"its structure is malformed ({type(e).__name__}: {e})") from None


def _refused(path, why):
    return ValueError(f"load: refusing {path!r}: {why}")


def _encode(x, arrays, where):
    """The JSON form of x; arrays found along the way are appended to `arrays`."""
    if isinstance(x, xp.generic):       # first: np.float64 and np.str_ subclass float and str
        return {"scalar": _add_array(xp.asarray(x), arrays, where)}
    if x is None or isinstance(x, (bool, int, str)):
        return x
    if isinstance(x, float):
        return x if math.isfinite(x) else {"float": repr(float(x))}
    if isinstance(x, Tensor):
        return {"tensor": _add_array(x.data, arrays, where), "requires_grad": x.requires_grad}
    if isinstance(x, ndarray):
        return {"array": _add_array(x, arrays, where)}
    if isinstance(x, dict):
        items = []
        for k, v in x.items():
            if not (k is None or isinstance(k, (bool, int, float, str))):
                raise TypeError(f"save: a key of {where} is a {type(k).__name__}; keys must be "
                                "strings, numbers, bools or None")
            items.append([_encode(k, arrays, where), _encode(v, arrays, f"{where}[{k!r}]")])
        return {"dict": items}
    if isinstance(x, (list, tuple)):
        kind = "list" if isinstance(x, list) else "tuple"
        return {kind: [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(x)]}
    raise TypeError(f"save: {where} is a {type(x).__name__}; checkpoints hold Tensors, arrays, "
                    "numbers, strings, bools, None and dicts, lists or tuples of them")


def _add_array(a, arrays, where):
    if a.dtype.kind not in _KINDS or a.dtype.hasobject:
        raise TypeError(f"save: {where} is an array of dtype {a.dtype}; only bool, integer, float, "
                        "complex and string arrays can be stored without pickle")
    arrays.append(a)
    return len(arrays) - 1


def _decode(node, arrays):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    (kind, value), *rest = node.items()
    if kind == "float":
        return float(value)
    if kind == "tensor":
        return Tensor(_entry(arrays, value), requires_grad=node["requires_grad"] is True)
    if rest:
        raise ValueError(f"unexpected entries {[k for k, _ in rest]} in a {kind!r} node")
    if kind == "array":
        return _entry(arrays, value)
    if kind == "scalar":
        return _entry(arrays, value)[()]
    if kind == "dict":
        return {_decode(k, arrays): _decode(v, arrays) for k, v in value}
    if kind in ("list", "tuple"):
        items = [_decode(v, arrays) for v in value]
        return items if kind == "list" else tuple(items)
    raise ValueError(f"unknown node kind {kind!r}")


def _entry(arrays, i):
    if type(i) is not int or not 0 <= i < len(arrays):
        raise IndexError(f"array number {i!r} does not exist (the file has {len(arrays)})")
    return arrays[i]


def _write_entry(archive, name, array):
    with archive.open(name + ".npy", "w", force_zip64=True) as entry:
        xp.lib.format.write_array(entry, array, allow_pickle=False)


def _read_entry(path, archive, members, name, dtype, shape):
    """Entry `name`.npy as an array, after checking its header against the dtype and shape the
    structure declares (None: any) and against the number of bytes it holds."""
    info = members.get(name + ".npy")
    if info is None:
        raise _refused(path, f"entry {name}.npy is missing")
    with archive.open(info) as f:
        try:
            version = xp.lib.format.read_magic(f)
            read_header = {(1, 0): xp.lib.format.read_array_header_1_0,
                           (2, 0): xp.lib.format.read_array_header_2_0}[version]
            entry_shape, fortran_order, entry_dtype = read_header(f)
        except (ValueError, KeyError) as e:
            raise _refused(path, f"entry {name}.npy has no valid .npy header ({e})") from None
        if entry_dtype.hasobject or entry_dtype.kind not in _KINDS:
            raise _refused(path, f"entry {name}.npy has dtype {entry_dtype}, which would need "
                                 "pickle to load")
        expected = entry_dtype.itemsize * math.prod(entry_shape)
        held = info.file_size - f.tell()
        if held != expected:
            raise _refused(path, f"entry {name}.npy declares shape {entry_shape} of {entry_dtype} "
                                 f"({expected} bytes) but holds {held} bytes")
        if entry_dtype != dtype or (shape is not None and entry_shape != shape):
            declared = dtype if shape is None else f"{dtype} {shape}"
            raise _refused(path, f"entry {name}.npy holds {entry_dtype} {entry_shape}, but the "
                                 f"structure declares {declared}")
        data = bytearray(f.read())          # reading to the end checks the entry's CRC
    if expected == 0:
        return xp.empty(entry_shape, entry_dtype)
    order = "F" if fortran_order else "C"
    return xp.frombuffer(data, entry_dtype).reshape(entry_shape, order=order)


def _read_header(path, raw):
    """The JSON structure as (table of declared (dtype, shape) per array, tree)."""
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (ValueError, RecursionError) as e:
        raise _refused(path, f"structure.npy is not valid UTF-8 JSON ({e})") from None
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        raise _refused(path, "structure.npy does not describe a minigrad checkpoint")
    if header.get("version") != _VERSION:
        raise _refused(path, f"it has checkpoint format version {header.get('version')!r}; this "
                             f"minigrad reads version {_VERSION}")
    try:
        table = [(xp.dtype(dtype), tuple(shape)) for dtype, shape in header["arrays"]]
    except (KeyError, TypeError, ValueError) as e:
        raise _refused(path, f"structure.npy has a malformed array table ({e})") from None
    return table, header.get("tree")


def _fsync_folder(folder):
    """Make the rename durable too (POSIX; elsewhere a folder cannot be opened, which is fine)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
