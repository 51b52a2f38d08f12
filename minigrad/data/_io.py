"""Reading and checking data files: the IDX format, gzip, MD5 sums, atomic writes, optional imports."""
import gzip
import hashlib
import importlib
import os
import struct
import zlib
from pathlib import Path

from ..backend import xp

# IDX type codes (the byte after the two zero bytes of the magic number); all big-endian
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IDX_CODES = {xp.dtype(v).newbyteorder("="): k for k, v in _IDX_DTYPES.items()}


def optional_import(module: str, feature: str):
    """Import an optional dependency, or raise ImportError saying which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(f"{feature} needs the optional package {module!r}, which is not installed; "
                          'install the data extras with: pip install "minigrad[data]"') from e


def md5(raw: bytes) -> str:
    return hashlib.md5(raw).hexdigest()


def read_bytes(path) -> bytes:
    """The content of `path`, gunzipped when it starts with the gzip signature."""
    raw = Path(path).read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:       # BadGzipFile is an OSError
        raise ValueError(f"{path}: corrupt or truncated gzip data ({e})") from None


def parse_idx(raw: bytes, path):
    """IDX bytes -> a read-only array, after checking the magic number, type code and length."""
    if len(raw) < 4:
        raise ValueError(f"{path}: truncated IDX file: {len(raw)} bytes, too short for a header")
    zero, code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0:
        raise ValueError(f"{path}: not an IDX file: bad magic number 0x{raw[:4].hex()} (an IDX file "
                         "starts with two zero bytes, a type code and the number of dimensions)")
    if code not in _IDX_DTYPES:
        raise ValueError(f"{path}: unsupported IDX data type code 0x{code:02x} (known: "
                         f"{', '.join(f'0x{c:02x}' for c in _IDX_DTYPES)})")
    if ndim == 0:
        raise ValueError(f"{path}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX file: the header of a {ndim}-d array needs "
                         f"{header} bytes, the file has {len(raw)}")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = xp.dtype(_IDX_DTYPES[code])
    expected = header + int(xp.prod(shape, dtype=xp.int64)) * dtype.itemsize
    if len(raw) != expected:
        what = "truncated IDX file" if len(raw) < expected else "IDX file with trailing bytes"
        raise ValueError(f"{path}: {what}: the header promises a {dtype.newbyteorder('=').name} "
                         f"array of shape {shape}, {expected} bytes in all; the file has {len(raw)}")
    return xp.frombuffer(raw, dtype, offset=header).reshape(shape)


def idx_bytes(array) -> bytes:
    """The IDX encoding of an array (uint8, int8, int16, int32, float32 or float64)."""
    array = xp.asarray(array)
    code = _IDX_CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(f"idx_bytes: IDX cannot store dtype {array.dtype}")
    head = struct.pack(f">HBB{array.ndim}I", 0, code, array.ndim, *array.shape)
    return head + array.astype(_IDX_DTYPES[code]).tobytes()


def write_atomic(path, raw: bytes) -> None:
    """Write `raw` to `path` through a temporary file, so a reader never sees half a file."""
    tmp = f"{path}.part{os.getpid()}"
    try:
        Path(tmp).write_bytes(raw)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
