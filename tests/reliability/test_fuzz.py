"""Fuzzing every reader: random bytes, truncated files and corrupted bytes must give either a
valid Record or a ValueError/OSError whose message names the file, never another exception
type (which the CLI would show as a traceback) and never a record with NaN or no samples."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import wfdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_helpers import FS, ecg, write_edf

from sigseg.data.readers import read_record
from sigseg.data.record import Record
from sigseg.tasks.ecg.qtdb import read_qtdb_record

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _wfdb_files(folder: Path) -> dict[str, bytes]:
    wfdb.wrsamp(
        "rec",
        fs=FS,
        units=["mV", "mV"],
        sig_name=["i", "ii"],
        p_signal=ecg(0.5).T.astype(np.float64),
        fmt=["16", "16"],
        write_dir=str(folder),
    )
    wfdb.wrann("rec", "q", np.array([20, 30, 45]), ["(", "N", ")"], write_dir=str(folder))
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    files["rec.q1c"] = files.pop("rec.q")  # wfdb writes letter-only extensions
    return files


def _edf_bytes(folder: Path) -> bytes:
    return write_edf(folder / "x.edf", labels=("II",), seconds=1.0).read_bytes()


def _numpy_bytes(compressed: bool | None) -> bytes:
    buffer = io.BytesIO()
    if compressed is None:
        np.save(buffer, ecg(0.2))
    elif compressed:
        np.savez_compressed(buffer, signal=ecg(0.2), fs=np.array(FS))
    else:
        np.savez(buffer, signal=ecg(0.2), fs=np.array(FS), channels=np.array(["i", "ii"]))
    return buffer.getvalue()


with tempfile.TemporaryDirectory() as _tmp:
    WFDB = _wfdb_files(Path(_tmp))
    EDF = _edf_bytes(Path(_tmp))
VALID: dict[str, bytes] = {
    "rec.hea": WFDB["rec.hea"],
    "rec.dat": WFDB["rec.dat"],
    "rec.q1c": WFDB["rec.q1c"],
    "x.edf": EDF,
    "x.csv": b"t,i,ii\n" + b"".join(b"%g,%g,%g\n" % (i / FS, i % 7, -i % 5) for i in range(40)),
    "x.npy": _numpy_bytes(None),
    "x.npz": _numpy_bytes(False),
    "z.npz": _numpy_bytes(True),
}


@st.composite
def damaged(draw: st.DrawFn, valid: bytes) -> bytes:
    """Random bytes, a truncation, or the valid file with a few bytes replaced."""
    how = draw(st.sampled_from(["random", "truncate", "flip", "splice"]))
    if how == "random":
        return draw(st.binary(max_size=2000))
    if how == "truncate":
        return valid[: draw(st.integers(0, max(len(valid) - 1, 0)))]
    data = bytearray(valid)
    if how == "flip":
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    at = draw(st.integers(0, len(data)))
    return bytes(data[:at]) + draw(st.binary(min_size=1, max_size=64)) + bytes(data[at:])


def check(read: Callable[[], Record], name: str) -> None:
    try:
        record = read()
    except (ValueError, OSError) as err:
        assert name in str(err), f"{type(err).__name__} does not name {name}: {err}"
        assert "\n" not in str(err).strip(), f"not one line: {err!r}"
        return
    assert record.signal.ndim == 2 and record.signal.shape[1] >= 1
    assert record.signal.dtype == np.float32 and np.isfinite(record.signal).all()
    assert record.fs > 0 and np.isfinite(record.fs)
    assert len(record.channels) == record.signal.shape[0]


def _folder_with(files: dict[str, bytes]) -> tempfile.TemporaryDirectory:
    tmp = tempfile.TemporaryDirectory()
    for name, data in files.items():
        Path(tmp.name, name).write_bytes(data)
    return tmp


@pytest.mark.parametrize("target", ["rec.hea", "rec.dat"])
@FUZZ
@given(data=st.data())
def test_wfdb(target: str, data: st.DataObject) -> None:
    files = {n: VALID[n] for n in ("rec.hea", "rec.dat")}
    files[target] = data.draw(damaged(VALID[target]))
    with _folder_with(files) as folder:
        check(lambda: read_record(Path(folder, "rec.hea")), "rec")


@FUZZ
@given(data=st.data())
def test_wfdb_annotations(data: st.DataObject) -> None:
    files = {n: VALID[n] for n in ("rec.hea", "rec.dat")}
    files["rec.q1c"] = data.draw(damaged(VALID["rec.q1c"]))
    with _folder_with(files) as folder:

        def read() -> Record:
            record = read_qtdb_record(Path(folder, "rec"))
            assert record.labels is not None and record.labels.shape == record.signal.shape
            for w in record.waves:  # every mark of an accepted file lies inside the record
                marks = [m for m in (w.onset, w.peak, w.offset) if m is not None]
                assert all(0 <= m < record.num_samples for m in marks)
            return record

        check(read, "rec")


@pytest.mark.parametrize("name", ["x.edf", "x.csv", "x.npy", "x.npz", "z.npz"])
@FUZZ
@given(data=st.data())
def test_single_file_formats(name: str, data: st.DataObject) -> None:
    content = data.draw(damaged(VALID[name]))
    fs = None if name in ("x.edf", "x.npz", "z.npz") else FS
    with _folder_with({name: content}) as folder:
        check(lambda: read_record(Path(folder, name), fs=fs), name)


def test_valid_files_read() -> None:
    """The control: undamaged, every file reads."""
    with _folder_with(VALID) as folder:
        for name in ("rec.hea", "x.edf", "x.csv", "x.npy", "x.npz", "z.npz"):
            fs = FS if name in ("x.csv", "x.npy") else None
            assert read_record(Path(folder, name), fs=fs).num_samples > 0
        assert read_qtdb_record(Path(folder, "rec")).waves
