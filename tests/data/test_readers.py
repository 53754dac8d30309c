"""Readers: round trips through every format, range reads, and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import wfdb
from pyedflib import highlevel

from sigseg.data import open_signal, read_csv, read_edf, read_numpy, read_record, read_wfdb
from sigseg.data.readers import signal_format

FS = 250.0


@pytest.fixture
def signal() -> np.ndarray:
    """Two channels, 3 s, in mV."""
    rng = np.random.default_rng(0)
    t = np.arange(int(3 * FS)) / FS
    x = np.stack([np.sin(2 * np.pi * 1.3 * t), 0.5 * np.cos(2 * np.pi * 0.7 * t)])
    return (x + 0.05 * rng.standard_normal(x.shape)).astype(np.float32)


def write_wfdb(path: Path, x: np.ndarray) -> Path:
    wfdb.wrsamp(
        path.name,
        fs=FS,
        units=["mV", "mV"],
        sig_name=["ii", "v5"],
        p_signal=x.T.astype(np.float64),
        fmt=["16", "16"],
        adc_gain=[1000, 1000],
        baseline=[0, 0],
        write_dir=str(path.parent),
    )
    return path


def write_edf(path: Path, x: np.ndarray) -> Path:
    headers = highlevel.make_signal_headers(
        ["ii", "v5"], dimension="mV", sample_frequency=FS, physical_min=-3, physical_max=3
    )
    highlevel.write_edf(str(path), x.astype(np.float64), headers)
    return path


def write_csv(path: Path, x: np.ndarray, time: bool = False) -> Path:
    cols = ["ii", "v5"]
    data = x.T
    if time:
        cols = ["time", *cols]
        data = np.column_stack([np.arange(x.shape[1]) / FS, data])
    np.savetxt(path, data, delimiter=",", header=",".join(cols), comments="", fmt="%.9g")
    return path


def write_npy(path: Path, x: np.ndarray) -> Path:
    np.save(path, x)
    return path


def write_npz(path: Path, x: np.ndarray) -> Path:
    np.savez(path, signal=x, fs=FS, channels=np.array(["ii", "v5"]))
    return path


# format -> (writer, file name, tolerance, channel names, fs to pass)
FORMATS = {
    "wfdb": (write_wfdb, "rec", 1e-3, ["ii", "v5"], None),
    "edf": (write_edf, "rec.edf", 6 / 65535, ["ii", "v5"], None),
    "csv": (write_csv, "rec.csv", 1e-6, ["ii", "v5"], FS),
    "npy": (write_npy, "rec.npy", 0.0, ["ch0", "ch1"], FS),
    "npz": (write_npz, "rec.npz", 0.0, ["ii", "v5"], None),
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip(fmt: str, signal: np.ndarray, tmp_path: Path) -> None:
    writer, name, tol, channels, fs = FORMATS[fmt]
    path = writer(tmp_path / name, signal)
    rec = read_record(path, fs=fs)
    assert rec.fs == FS and rec.channels == channels and rec.name == "rec"
    assert rec.signal.dtype == np.float32 and rec.signal.shape == signal.shape
    np.testing.assert_allclose(rec.signal, signal, atol=tol + 1e-7)


@pytest.mark.parametrize("fmt", FORMATS)
def test_range_reads_equal_slices_of_full_read(
    fmt: str, signal: np.ndarray, tmp_path: Path
) -> None:
    writer, name, _, channels, fs = FORMATS[fmt]
    path = writer(tmp_path / name, signal)
    full = read_record(path, fs=fs).signal
    with open_signal(path, fs=fs) as reader:
        assert (reader.fs, reader.channels, reader.num_samples) == (FS, channels, full.shape[1])
        for start, stop in [(0, 1), (10, 137), (500, 750), (700, 10_000), (750, 800), (3, 3)]:
            np.testing.assert_array_equal(reader.read(start, stop), full[:, start:stop])
        with pytest.raises(ValueError, match="negative"):
            reader.read(-1, 5)


def test_format_specific_readers(signal: np.ndarray, tmp_path: Path) -> None:
    assert read_wfdb(write_wfdb(tmp_path / "a", signal)).metadata["units"] == ["mV", "mV"]
    assert read_wfdb(tmp_path / "a.hea").channels == ["ii", "v5"]
    assert read_edf(write_edf(tmp_path / "a.edf", signal), channels=["v5"]).channels == ["v5"]
    timed = read_csv(write_csv(tmp_path / "t.csv", signal, time=True))
    assert timed.fs == pytest.approx(FS) and timed.channels == ["ii", "v5"]
    assert read_numpy(write_npy(tmp_path / "one.npy", signal[0]), fs=FS).signal.shape == (1, 750)
    headerless = tmp_path / "plain.txt"
    np.savetxt(headerless, signal.T)
    assert read_csv(headerless, fs=FS).channels == ["ch0", "ch1"]
    assert signal_format(tmp_path / "a") == "wfdb" and signal_format(tmp_path / "x.BDF") == "edf"


def test_clear_errors(signal: np.ndarray, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.edf: no such file"):
        read_record(tmp_path / "nope.edf")
    with pytest.raises(FileNotFoundError, match="nothing: no such file"):
        read_record(tmp_path / "nothing")
    (tmp_path / "x.mat").write_text("")
    with pytest.raises(ValueError, match="x.mat: unknown signal format"):
        read_record(tmp_path / "x.mat")
    npy = write_npy(tmp_path / "s.npy", signal)
    with pytest.raises(ValueError, match="s.npy: sampling rate unknown; pass fs"):
        read_record(npy)
    with pytest.raises(ValueError, match="more channels than samples"):
        read_record(write_npy(tmp_path / "t.npy", signal.T.copy()), fs=FS)
    with pytest.raises(ValueError, match="shape"):
        read_record(write_npy(tmp_path / "u.npy", signal[None]), fs=FS)
    nan = signal.copy()
    nan[1, 40] = np.nan
    with pytest.raises(ValueError, match="n.npy: 1 NaN/Inf values \\(first at sample 40\\)"):
        read_record(write_npy(tmp_path / "n.npy", nan), fs=FS)
    with open_signal(tmp_path / "n.npy", fs=FS) as reader:  # fine away from the gap
        assert reader.read(0, 40).shape == (2, 40)
    (tmp_path / "junk.npy").write_bytes(b"not numpy at all")
    with pytest.raises(ValueError, match="junk.npy: not a readable NumPy file"):
        read_record(tmp_path / "junk.npy", fs=FS)
    (tmp_path / "junk.edf").write_bytes(b"0" * 300)
    with pytest.raises(ValueError, match="junk.edf: not a readable EDF"):
        read_record(tmp_path / "junk.edf")
    (tmp_path / "bad.csv").write_text("ii,v5\n1,2\n3,oops\n")
    with pytest.raises(ValueError, match="bad.csv: non-numeric or ragged data \\(line 3"):
        read_csv(tmp_path / "bad.csv", fs=FS)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueError, match="empty.csv: the file is empty"):
        read_csv(tmp_path / "empty.csv", fs=FS)
    wfdb_path = write_wfdb(tmp_path / "w", signal)
    with pytest.raises(ValueError, match="fs=500 given but the file says 250"):
        read_record(wfdb_path, fs=500)
    (tmp_path / "w.dat").unlink()
    with pytest.raises(FileNotFoundError, match="w.dat: no such file"):
        read_record(wfdb_path)
    (tmp_path / "h.hea").write_text("this is not a header\n")
    with pytest.raises(ValueError, match="h.hea: not a readable WFDB header"):
        read_record(tmp_path / "h.hea")
