"""mg.save / mg.load: bit-exact round trips, refusal of unsafe or damaged files, atomic writes."""
import io
import math
import os
import pickle
import struct
import zipfile

import numpy as np
import pytest
from conftest import require

import minigrad as mg
from minigrad import serialize


def _same(a, b, where="obj"):
    """a and b are equal in type, structure, dtype, shape and every bit."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, mg.Tensor):
        assert a.requires_grad == b.requires_grad and b.is_leaf and b.grad is None, where
        a, b = a.data, b.data
    if isinstance(a, (np.ndarray, np.generic)):
        assert (a.dtype, a.shape) == (b.dtype, b.shape), (where, a.dtype, a.shape, b.dtype, b.shape)
        assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes(), where
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for (ka, va), kb in zip(a.items(), b):
            _same(ka, kb, f"{where} key")
            _same(va, b[kb], f"{where}[{ka!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float):
        same_bits = struct.pack("<d", a) == struct.pack("<d", b)
        assert same_bits or (math.isnan(a) and math.isnan(b)), where
    else:
        assert a == b, where


def _nested():
    rng = np.random.default_rng(0)
    weights = rng.standard_normal((4, 6))
    return {
        "model": {"conv1.weight": mg.tensor(rng.standard_normal((2, 3, 3, 3)).astype(np.float32),
                                            requires_grad=True),
                  "bn.running_mean": mg.tensor(np.zeros(3)),
                  "bn.num_batches": mg.tensor(np.array(7, dtype=np.int64)),
                  "mask": mg.tensor(np.array([True, False]))},
        "optimizer": {"state": {0: {"step": 3, "exp_avg": rng.standard_normal((2, 3, 3, 3))}},
                      "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), "amsgrad": False,
                                        "params": [0]}]},
        "rng": mg.get_rng_state(),          # 128-bit integers inside
        "arrays": [np.array(np.float16(1.5)), np.arange(12, dtype=">i4").reshape(3, 4),
                   np.asfortranarray(weights), weights[::2, 1::3], np.zeros((0, 5)),
                   np.array([1 + 2j, -0.0 - 1j], dtype=np.complex64), np.array(["ab", "çé"]),
                   np.array([b"x", b"yz"]), np.array([np.nan, -np.inf, -0.0, 5e-324]),
                   np.arange(6, dtype=np.uint8)],
        "scalars": [np.float32(0.1), np.int16(-3), np.bool_(True), np.float64(np.nan)],
        "plain": [None, True, False, 0, -2**70, 1.0, 0.1, -0.0, math.inf, -math.inf, math.nan,
                  "", "ünïcode \u2603", (), [], {}, (1, (2.5, [None]))],
        "keys": {1: "int", 2.5: "float", None: "none", True: "bool", "s": "str", -3: {}},
        "epoch": 12,
    }


def test_round_trip_is_bit_exact(tmp_path):
    obj = _nested()
    mg.save(obj, tmp_path / "ckpt.npz")
    back = mg.load(tmp_path / "ckpt.npz")
    _same(obj, back)
    assert back["arrays"][2].flags.f_contiguous
    assert back["model"]["conv1.weight"].data.flags.writeable
    mg.save(back, str(tmp_path / "again.npz"))
    _same(obj, mg.load(str(tmp_path / "again.npz")))


def test_top_level_values_and_exact_path(tmp_path):
    for i, obj in enumerate([mg.tensor([1.5, 2.5]), np.eye(2), 3, "x", None, [1, 2]]):
        path = tmp_path / f"ckpt{i}.bin"
        mg.save(obj, path)
        assert os.listdir(tmp_path).count(f"ckpt{i}.bin") == 1     # no suffix appended
        _same(obj, mg.load(path))


def test_rng_state_round_trip(tmp_path):
    mg.manual_seed(3)
    mg.randn(5)
    mg.save({"rng": mg.get_rng_state()}, tmp_path / "rng.npz")
    expected = mg.randn(4).data
    mg.manual_seed(99)
    mg.set_rng_state(mg.load(tmp_path / "rng.npz")["rng"])
    assert np.array_equal(mg.randn(4).data, expected)


def test_numpy_can_read_it_without_pickle(tmp_path):
    mg.save({"w": np.arange(3.0)}, tmp_path / "ckpt.npz")
    with np.load(tmp_path / "ckpt.npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == ["0", "structure"]
        assert np.array_equal(archive["0"], np.arange(3.0))


@pytest.mark.parametrize("obj, message", [
    ({"a": [1, {2}]}, r"save: obj\['a'\]\[1\] is a set"),
    ({"f": len}, r"obj\['f'\] is a builtin_function_or_method"),
    ({"a": np.array([None, 1], dtype=object)}, r"obj\['a'\] is an array of dtype object"),
    ({(1, 2): 3}, "a key of obj is a tuple"),
])
def test_save_refuses_what_it_cannot_store(tmp_path, obj, message):
    with pytest.raises(TypeError, match=message):
        mg.save(obj, tmp_path / "ckpt.npz")
    assert os.listdir(tmp_path) == []


class _Touch:
    """Unpickling this creates the marker file: proof that code from the file ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _refused(path, *fragments):
    with pytest.raises(ValueError) as info:
        mg.load(path)
    message = str(info.value)
    assert str(path) in message and "refusing" in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


def _rewrite(src, dst, replace=None, drop=()):
    """Copy the zip `src` to `dst`, swapping the bytes of some entries."""
    replace = replace or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            if name not in drop:
                zout.writestr(name, replace.get(name, zin.read(name)))


def _npy(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def test_pickle_payload_is_refused_without_running(tmp_path):
    marker = tmp_path / "marker"
    evil = tmp_path / "evil.npz"
    evil.write_bytes(pickle.dumps({"w": _Touch(str(marker))}))
    pickle.loads(pickle.dumps(_Touch(str(tmp_path / "control"))))   # the payload really does run
    assert (tmp_path / "control").exists()
    _refused(evil, "pickle")
    evil.write_bytes(pickle.dumps(_Touch(str(marker)), protocol=0))    # text protocol: no \x80
    _refused(evil, "not a .npz (zip) archive")
    assert not marker.exists()


def test_torch_checkpoint_is_refused_without_running(tmp_path):
    torch = require("torch")
    marker = tmp_path / "marker"
    torch.save({"w": torch.zeros(2), "x": _Touch(str(marker))}, tmp_path / "model.pt")
    _refused(tmp_path / "model.pt", "no structure.npy entry", "not written by mg.save")
    assert not marker.exists()


def test_object_dtype_entry_is_refused_without_running(tmp_path):
    marker = tmp_path / "marker"
    good = tmp_path / "good.npz"
    mg.save({"w": np.arange(3.0)}, good)
    payload = np.array([_Touch(str(marker))], dtype=object)
    _rewrite(good, tmp_path / "obj.npz", {"0.npy": _npy(payload, allow_pickle=True)})
    _refused(tmp_path / "obj.npz", "entry 0.npy has dtype object", "pickle")
    _rewrite(good, tmp_path / "objs.npz", {"structure.npy": _npy(payload, allow_pickle=True)})
    _refused(tmp_path / "objs.npz", "entry structure.npy has dtype object")
    np.savez(tmp_path / "plain.npz", structure=payload)         # numpy's own writer, pickled inside
    _refused(tmp_path / "plain.npz", "dtype object")
    assert not marker.exists()


def test_truncated_file_is_refused(tmp_path):
    path = tmp_path / "ckpt.npz"
    mg.save(_nested(), path)
    data = path.read_bytes()
    cut = tmp_path / "cut.npz"
    for size in [0, 1, 3, 4, 30, 100, len(data) // 3, len(data) // 2, len(data) - 100,
                 len(data) - 22, len(data) - 1]:
        cut.write_bytes(data[:size])
        message = _refused(cut)
        assert "truncated" in message, (size, message)


def test_corrupted_bytes_are_refused(tmp_path):
    path = tmp_path / "ckpt.npz"
    mg.save({"w": np.arange(1000.0)}, path)
    data = bytearray(path.read_bytes())
    offset = data.index(np.arange(1000.0)[500:501].tobytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
    _refused(path, "corrupt", "CRC")


def test_shapes_that_do_not_match_the_bytes_are_refused(tmp_path):
    good = tmp_path / "good.npz"
    mg.save({"w": np.arange(10.0)}, good)
    header = _npy(np.zeros(1000))[:128]                          # a header for 1000 float64
    _rewrite(good, tmp_path / "short.npz", {"0.npy": header + np.arange(10.0).tobytes()})
    _refused(tmp_path / "short.npz", "entry 0.npy declares shape (1000,) of float64 (8000 bytes) "
                                     "but holds 80 bytes")
    _rewrite(good, tmp_path / "long.npz", {"0.npy": _npy(np.arange(10.0)) + b"\0" * 8})
    _refused(tmp_path / "long.npz", "(80 bytes) but holds 88 bytes")
    _rewrite(good, tmp_path / "other.npz", {"0.npy": _npy(np.arange(12.0).reshape(3, 4))})
    _refused(tmp_path / "other.npz", "holds float64 (3, 4), but the structure declares "
                                     "float64 (10,)")
    _rewrite(good, tmp_path / "type.npz", {"0.npy": _npy(np.arange(10, dtype=np.int64))})
    _refused(tmp_path / "type.npz", "holds int64 (10,), but the structure declares float64 (10,)")


def test_foreign_files_are_refused(tmp_path):
    cases = {"text.npz": b"hello, world\n", "image.npz": b"\x89PNG\r\n\x1a\n" + b"\0" * 64,
             "random.npz": np.random.default_rng(0).bytes(300), "array.npy": _npy(np.arange(3))}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        _refused(tmp_path / name, "not a .npz (zip) archive")
    np.savez(tmp_path / "numpy.npz", w=np.arange(3))
    _refused(tmp_path / "numpy.npz", "no structure.npy entry")
    good = tmp_path / "good.npz"
    mg.save({"w": np.arange(3.0)}, good)
    _rewrite(good, tmp_path / "missing.npz", drop=["0.npy"])
    _refused(tmp_path / "missing.npz", "entry 0.npy is missing")
    with pytest.raises(FileNotFoundError):
        mg.load(tmp_path / "absent.npz")


def _with_structure(tmp_path, name, text):
    good = tmp_path / "good.npz"
    mg.save({"w": mg.tensor(np.arange(3))}, good)
    _rewrite(good, tmp_path / name, {"structure.npy": _npy(np.frombuffer(text.encode(), np.uint8))})
    return tmp_path / name


_HEAD = '{"format": "minigrad-checkpoint", "version": 1, '


@pytest.mark.parametrize("text, fragment", [
    ("{not json", "not valid UTF-8 JSON"),
    ('{"format": "other", "version": 1, "arrays": [], "tree": 1}', "not describe a minigrad"),
    ('{"format": "minigrad-checkpoint", "version": 9, "arrays": [], "tree": 1}', "version 9"),
    (_HEAD + '"arrays": [["<i8"]], "tree": 1}', "malformed array table"),
    (_HEAD + '"arrays": [["nonsense", [3]]], "tree": 1}', "malformed array table"),
    (_HEAD + '"arrays": [["<i8", [-3]]], "tree": 1}', "structure declares int64 (-3,)"),
    (_HEAD + '"arrays": [["|O", [3]]], "tree": 1}', "structure declares object (3,)"),
    (_HEAD + '"arrays": [["<i8", [3]]], "tree": {"array": 5}}', "array number 5 does not exist"),
    (_HEAD + '"arrays": [["<i8", [3]]], "tree": {"tensor": 0, "requires_grad": true}}',
     "only floating-point tensors can require grad"),
    (_HEAD + '"arrays": [["<i8", [3]]], "tree": {"eval": 0}}', "unknown node kind 'eval'"),
])
def test_malformed_structure_is_refused(tmp_path, text, fragment):
    _refused(_with_structure(tmp_path, "bad.npz", text), fragment)


def test_failed_write_keeps_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    mg.save({"epoch": 1, "w": np.arange(5.0)}, path)
    before = path.read_bytes()
    real_write_entry, calls = serialize._write_entry, []

    def failing_write_entry(archive, name, array):
        calls.append(name)
        if len(calls) == 3:
            raise OSError("No space left on device")
        real_write_entry(archive, name, array)

    monkeypatch.setattr(serialize, "_write_entry", failing_write_entry)
    with pytest.raises(OSError, match="No space left"):
        mg.save({"epoch": 2, "w": np.arange(5.0), "v": np.ones(1000)}, path)
    assert calls == ["structure", "0", "1"]                 # it failed midway
    assert os.listdir(tmp_path) == ["ckpt.npz"] and path.read_bytes() == before
    _same(mg.load(path), {"epoch": 1, "w": np.arange(5.0)})


@pytest.mark.parametrize("step", ["fsync", "replace"])
def test_failed_flush_or_rename_keeps_previous_checkpoint(tmp_path, monkeypatch, step):
    path = tmp_path / "ckpt.npz"
    mg.save({"epoch": 1}, path)
    seen = []

    def fail(*args):
        seen.append(args)
        raise OSError(f"{step} failed")

    monkeypatch.setattr(os, step, fail)
    with pytest.raises(OSError, match=f"{step} failed"):
        mg.save({"epoch": 2}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["ckpt.npz"] and mg.load(path) == {"epoch": 1}
    if step == "replace":       # the temporary file was in the same folder: the rename is atomic
        assert os.path.dirname(seen[0][0]) == str(tmp_path) and seen[0][1] == os.fspath(path)


def test_interrupt_mid_write_keeps_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    mg.save({"epoch": 1}, path)

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(serialize, "_write_entry", interrupted)
    with pytest.raises(KeyboardInterrupt):
        mg.save({"epoch": 2}, path)
    assert os.listdir(tmp_path) == ["ckpt.npz"] and mg.load(path) == {"epoch": 1}


def test_overwrite_replaces_the_checkpoint(tmp_path):
    path = tmp_path / "ckpt.npz"
    mg.save({"epoch": 1}, path)
    mg.save({"epoch": 2, "w": mg.tensor([1.0])}, path)
    back = mg.load(path)
    assert back["epoch"] == 2 and os.listdir(tmp_path) == ["ckpt.npz"]
