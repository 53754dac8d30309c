"""Read signals from WFDB, EDF/BDF, CSV and NumPy files, whole or a range at a time.

:func:`open_signal` gives a :class:`SignalReader` that reads any sample range on demand (WFDB
and EDF read only those bytes, ``.npy`` is memory-mapped), so inference on a 24-hour Holter
recording keeps memory bounded. :func:`read_record` and the per-format ``read_*`` functions
read a whole file into a :class:`~sigseg.data.record.Record`. Every reader checks its input and
raises :class:`ValueError` (or :class:`FileNotFoundError`) with a one-line message naming the
file.
"""

from __future__ import annotations

import abc
import csv
import io
import re
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from sigseg.data.record import Record

WFDB_SUFFIXES = (".hea", ".dat")
EDF_SUFFIXES = (".edf", ".bdf")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
NUMPY_SUFFIXES = (".npy", ".npz")
TIME_COLUMNS = frozenset({"t", "time", "time_s", "seconds", "sec"})
"""CSV header names taken as a time axis in seconds (dropped from the channels; it gives the
sampling rate when none is passed)."""


class SignalReader(abc.ABC):
    """An open recording: ``fs`` (Hz), ``channels`` (names), ``num_samples``, ``name``,
    ``metadata``, and :meth:`read` for any sample range. Use it as a context manager (or call
    :meth:`close`) so file handles are released."""

    path: Path
    fs: float
    channels: list[str]
    num_samples: int
    name: str
    metadata: dict[str, Any]

    def read(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Samples ``start:stop`` of every channel as ``(C, n)`` float32, with slice semantics
        (``stop`` beyond the end is clipped; ``None`` means the end). Raises ``ValueError`` on
        a negative index or on NaN/Inf in the range read."""
        if stop is None:
            stop = self.num_samples
        if start < 0 or stop < 0:
            raise ValueError(f"{self.path}: negative sample index in read({start}, {stop})")
        start, stop = min(start, self.num_samples), min(stop, self.num_samples)
        if stop <= start:
            return np.zeros((len(self.channels), 0), dtype=np.float32)
        x = np.ascontiguousarray(self._read(start, stop), dtype=np.float32)
        _check_finite(x, self.path, start)
        return x

    @abc.abstractmethod
    def _read(self, start: int, stop: int) -> np.ndarray:
        """``(C, stop - start)`` samples; ``0 <= start < stop <= num_samples``."""

    def close(self) -> None:
        """Release the file (no-op for readers that hold none)."""
        return None

    def to_record(self) -> Record:
        """The whole recording as a :class:`Record` (no labels)."""
        return Record(
            signal=self.read(),
            fs=self.fs,
            channels=list(self.channels),
            name=self.name,
            metadata=dict(self.metadata),
        )

    def __enter__(self) -> SignalReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({str(self.path)!r}, fs={self.fs:g}, "
            f"channels={len(self.channels)}, num_samples={self.num_samples})"
        )


def _check_finite(x: np.ndarray, path: Path, offset: int = 0) -> None:
    bad = ~np.isfinite(x)
    if bad.any():
        first = int(np.argwhere(bad)[0, -1]) + offset
        raise ValueError(
            f"{path}: {int(bad.sum())} NaN/Inf values (first at sample {first}); "
            "fill or cut the gaps before segmenting"
        )


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")


def _check_fs(fs: float | None, path: Path) -> float:
    if fs is None:
        raise ValueError(f"{path}: sampling rate unknown; pass fs (Hz)")
    if not np.isfinite(fs) or fs <= 0:
        raise ValueError(f"{path}: sampling rate must be a finite number > 0 Hz, got {fs}")
    return float(fs)


# --- WFDB ------------------------------------------------------------------------------------


class WfdbReader(SignalReader):
    """A WFDB record (``.hea`` + signal files) read with the ``wfdb`` package."""

    def __init__(self, path: str | Path) -> None:
        import wfdb

        self.path = wfdb_base(path)
        header = self.path.with_name(self.path.name + ".hea")
        _require_file(header)
        try:
            head = wfdb.rdheader(str(self.path))
        except Exception as exc:  # wfdb raises assorted types on a malformed header
            raise ValueError(f"{header}: not a readable WFDB header ({_line(exc)})") from exc
        _check_header_fs(header, head.fs)
        if getattr(head, "seg_name", None) is not None:
            raise ValueError(f"{header}: multi-segment WFDB records are not supported")
        if not head.n_sig:
            raise ValueError(f"{header}: the record has no signals")
        if not head.sig_len:
            raise ValueError(f"{header}: the record has no samples (or no length in header)")
        if len(head.sig_name or []) != head.n_sig or len(head.file_name or []) != head.n_sig:
            raise ValueError(f"{header}: {head.n_sig} signals announced, not all described")
        self.fs = _check_fs(head.fs, header)
        self.channels = [str(c) for c in head.sig_name]
        self.num_samples = int(head.sig_len)
        self.name = self.path.name
        self.metadata = {
            "source": str(header),
            "units": list(head.units or []),
            "comments": list(head.comments or []),
        }
        for file_name in set(head.file_name or []):
            signal_file = self.path.with_name(file_name)
            if not signal_file.is_file():
                raise FileNotFoundError(f"{signal_file}: no such file (named in {header.name})")

    def _read(self, start: int, stop: int) -> np.ndarray:
        import wfdb

        try:
            rec = wfdb.rdrecord(str(self.path), sampfrom=start, sampto=stop, physical=True)
        except Exception as exc:
            raise ValueError(
                f"{self.path}: cannot read WFDB samples {start}:{stop} ({_line(exc)})"
            ) from exc
        return rec.p_signal.T


def _line(exc: BaseException) -> str:
    """The first line of an exception's message (third-party messages can span several)."""
    return next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)


def _check_header_fs(header: Path, parsed: float) -> None:
    """Refuse a record line whose sampling-rate field ``wfdb`` did not read as written: it
    silently falls back to 250 Hz on a field such as ``-500`` and misreads ``1e9``."""
    lines = header.read_text(encoding="latin-1").splitlines()
    fields = next((ln.split() for ln in lines if ln.strip() and not ln.startswith("#")), [])
    if len(fields) < 3:
        return  # no rate field: WFDB's documented default (250 Hz) applies
    text = re.split(r"[/(]", fields[2], maxsplit=1)[0]
    try:
        written = float(text)
    except ValueError:
        written = float("nan")
    if not written == parsed:
        raise ValueError(f"{header}: unreadable sampling rate {fields[2]!r} in the record line")


def wfdb_base(path: str | Path) -> Path:
    """The record path without ``.hea``/``.dat``: ``data/100.hea`` -> ``data/100``."""
    path = Path(path)
    return path.with_suffix("") if path.suffix.lower() in WFDB_SUFFIXES else path


# --- EDF / BDF ------------------------------------------------------------------------------


class EdfReader(SignalReader):
    """An EDF/EDF+/BDF file read with ``pyedflib``. All chosen channels must share one sampling
    rate; pick them with ``channels`` when the file mixes rates (e.g. ECG with accelerometry)."""

    def __init__(self, path: str | Path, channels: list[str] | None = None) -> None:
        import pyedflib

        self.path = Path(path)
        _require_file(self.path)
        try:
            self._edf = pyedflib.EdfReader(str(self.path))
        except OSError as exc:
            raise ValueError(f"{self.path}: not a readable EDF/BDF file ({_line(exc)})") from exc
        try:
            self._setup(channels)
        except BaseException:
            self.close()
            raise

    def _setup(self, channels: list[str] | None) -> None:
        labels = [s.strip() for s in self._edf.getSignalLabels()]
        if channels is None:
            self._index = list(range(len(labels)))
        else:
            missing = [c for c in channels if c not in labels]
            if missing:
                raise ValueError(f"{self.path}: no channel(s) {missing}; it has {labels}")
            self._index = [labels.index(c) for c in channels]
        if not self._index:
            raise ValueError(f"{self.path}: the file has no signals")
        rates = sorted({float(self._edf.getSampleFrequency(i)) for i in self._index})
        if len(rates) > 1:
            raise ValueError(
                f"{self.path}: channels have different sampling rates {rates}; "
                "choose channels that share one"
            )
        lengths = {int(self._edf.getNSamples()[i]) for i in self._index}
        self.fs = _check_fs(rates[0], self.path)
        self.channels = [labels[i] for i in self._index]
        self.num_samples = min(lengths)
        self.name = self.path.stem
        self.metadata = {
            "source": str(self.path),
            "units": [self._edf.getPhysicalDimension(i) for i in self._index],
        }

    def _read(self, start: int, stop: int) -> np.ndarray:
        return np.stack([self._edf.readSignal(i, start, stop - start) for i in self._index])

    def close(self) -> None:
        edf = getattr(self, "_edf", None)
        if edf is not None:
            edf.close()
            self._edf = None


# --- arrays: NumPy and CSV -------------------------------------------------------------------


class ArrayReader(SignalReader):
    """A ``(C, L)`` array already in memory or memory-mapped (``np.load(mmap_mode="r")``)."""

    def __init__(
        self,
        array: np.ndarray,
        fs: float,
        path: Path,
        name: str | None = None,
        channels: list[str] | None = None,
    ) -> None:
        self.path = path
        self._array = _as_channels_first(array, path)
        self.fs = _check_fs(fs, path)
        self.num_samples = int(self._array.shape[1])
        self.channels = _channel_names(channels, self._array.shape[0], path)
        self.name = name or path.stem
        self.metadata = {"source": str(path)}

    def _read(self, start: int, stop: int) -> np.ndarray:
        return np.asarray(self._array[:, start:stop])


def _as_channels_first(array: np.ndarray, path: Path) -> np.ndarray:
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{path}: signal must be real numbers, got dtype {array.dtype}")
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2:
        raise ValueError(
            f"{path}: signal must be (channels, samples) or (samples,), got shape {array.shape}"
        )
    if array.size == 0:
        raise ValueError(f"{path}: the signal is empty (shape {array.shape})")
    if array.shape[0] > array.shape[1]:
        raise ValueError(
            f"{path}: shape {array.shape} has more channels than samples; save "
            "it as (channels, samples) (transpose it)"
        )
    return array


def _channel_names(names: list[str] | None, n: int, path: Path) -> list[str]:
    if names is None:
        return [f"ch{i}" for i in range(n)]
    names = [str(c) for c in names]
    if len(names) != n:
        raise ValueError(f"{path}: {len(names)} channel names for {n} channels")
    return names


def _open_numpy(path: Path, fs: float | None) -> ArrayReader:
    _require_file(path)
    if path.suffix.lower() == ".npy":
        return ArrayReader(_load_numpy(path, mmap=True), _check_fs(fs, path), path)
    npz = _load_numpy(path, mmap=False)
    with npz:
        if "signal" not in npz.files:
            raise ValueError(f"{path}: no 'signal' array (has {sorted(npz.files)})")
        try:  # members are read here, lazily: a pickled or corrupt one fails now
            file_fs = float(npz["fs"]) if "fs" in npz.files else None
            names = [str(c) for c in npz["channels"]] if "channels" in npz.files else None
            signal = npz["signal"]
        except Exception as exc:  # zipfile and zlib raise assorted types on a damaged member
            raise ValueError(f"{path}: not a readable NumPy file ({_line(exc)})") from exc
    if fs is not None and file_fs is not None and not np.isclose(fs, file_fs):
        raise ValueError(f"{path}: fs={fs:g} given but the file says {file_fs:g}")
    return ArrayReader(
        signal, _check_fs(fs if fs is not None else file_fs, path), path, channels=names
    )


def _load_numpy(path: Path, mmap: bool) -> Any:
    """``np.load`` (memory-mapped ``.npy``, or an ``NpzFile``) with errors naming the file."""
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except Exception as exc:  # numpy raises assorted types (even SyntaxError) on a bad header
        raise ValueError(f"{path}: not a readable NumPy file ({_line(exc)})") from exc


def _open_csv(path: Path, fs: float | None, delimiter: str | None = None) -> ArrayReader:
    """CSV/TSV with one column per channel and one row per sample; an optional header row
    names the channels. A time column (see :data:`TIME_COLUMNS`) gives ``fs`` if not passed."""
    _require_file(path)
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise ValueError(f"{path}: the file is empty")
    delimiter = delimiter or _sniff_delimiter(lines[0])
    header = _split(lines[0], delimiter)
    has_header = not all(_is_number(cell) for cell in header)
    body = lines[1:] if has_header else lines
    if not body:
        raise ValueError(f"{path}: no data rows")
    data = _parse_rows(body, delimiter, path, first_line=2 if has_header else 1)
    names = header if has_header else [f"ch{i}" for i in range(data.shape[1])]
    if len(names) != data.shape[1]:
        raise ValueError(f"{path}: header has {len(names)} columns but rows have {data.shape[1]}")
    time_cols = [i for i, n in enumerate(names) if n.strip().lower() in TIME_COLUMNS]
    if time_cols:
        fs = _fs_from_time(data[:, time_cols[0]], fs, path)
        keep = [i for i in range(len(names)) if i != time_cols[0]]
        data, names = data[:, keep], [names[i] for i in keep]
    if data.shape[1] == 0:
        raise ValueError(f"{path}: no signal columns")
    return ArrayReader(
        np.ascontiguousarray(data.T), _check_fs(fs, path), path, channels=[n.strip() for n in names]
    )


def _sniff_delimiter(line: str) -> str:
    for d in (",", "\t", ";"):
        if d in line:
            return d
    return " "


def _split(line: str, delimiter: str) -> list[str]:
    if delimiter == " ":
        return line.split()
    return next(csv.reader([line], delimiter=delimiter))


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _parse_rows(lines: list[str], delimiter: str, path: Path, first_line: int) -> np.ndarray:
    sep = None if delimiter == " " else delimiter
    try:
        return np.loadtxt(io.StringIO("\n".join(lines)), delimiter=sep, dtype=np.float64, ndmin=2)
    except ValueError as exc:
        where = _first_bad_row(lines, delimiter, first_line)
        raise ValueError(f"{path}: non-numeric or ragged data ({where})") from exc


def _first_bad_row(lines: list[str], delimiter: str, first_line: int) -> str:
    width = len(_split(lines[0], delimiter))
    for n, line in enumerate(lines):
        cells = _split(line, delimiter)
        if len(cells) != width or not all(_is_number(c) for c in cells):
            return f"line {n + first_line}: {line[:60]!r}"
    return "unparseable rows"


def _fs_from_time(t: np.ndarray, fs: float | None, path: Path) -> float:
    if fs is not None:
        return fs
    steps = np.diff(t)
    if len(steps) == 0 or not np.all(steps > 0):
        raise ValueError(f"{path}: time column must increase; pass fs instead")
    return float(1.0 / np.median(steps))


# --- dispatch --------------------------------------------------------------------------------


def signal_format(path: str | Path) -> str:
    """``wfdb``, ``edf``, ``csv`` or ``numpy`` for ``path``, by suffix (a path without one is
    WFDB when ``<path>.hea`` exists)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in WFDB_SUFFIXES or path.with_name(path.name + ".hea").is_file():
        return "wfdb"
    if path.is_dir():
        raise ValueError(f"{path}: is a folder, not a signal file")
    for fmt, suffixes in (("edf", EDF_SUFFIXES), ("csv", CSV_SUFFIXES), ("numpy", NUMPY_SUFFIXES)):
        if suffix in suffixes:
            return fmt
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file (nor {path.name}.hea)")
    known = WFDB_SUFFIXES + EDF_SUFFIXES + CSV_SUFFIXES + NUMPY_SUFFIXES
    raise ValueError(f"{path}: unknown signal format {suffix!r}; use one of {' '.join(known)}")


def open_signal(path: str | Path, fs: float | None = None) -> SignalReader:
    """Open a recording for range reads. ``fs`` is needed for ``.npy`` and CSV files without
    a time column; for WFDB/EDF (which store it) it must match the file if given."""
    path = Path(path)
    fmt = signal_format(path)
    if fmt == "numpy":
        return _open_numpy(path, fs)
    if fmt == "csv":
        return _open_csv(path, fs)
    reader: SignalReader = WfdbReader(path) if fmt == "wfdb" else EdfReader(path)
    if fs is not None and not np.isclose(fs, reader.fs):
        reader.close()
        raise ValueError(f"{path}: fs={fs:g} given but the file says {reader.fs:g} Hz")
    return reader


def read_record(path: str | Path, fs: float | None = None) -> Record:
    """Read a whole recording of any supported format into a :class:`Record`."""
    with open_signal(path, fs) as reader:
        return reader.to_record()


def read_wfdb(path: str | Path) -> Record:
    """Read a WFDB record (``rec``, ``rec.hea`` or ``rec.dat``); header comments go to
    ``metadata["comments"]``."""
    with WfdbReader(path) as reader:
        return reader.to_record()


def read_edf(path: str | Path, channels: list[str] | None = None) -> Record:
    """Read an EDF/EDF+/BDF file (optionally only ``channels``, which must share a rate)."""
    with EdfReader(path, channels) as reader:
        return reader.to_record()


def read_csv(path: str | Path, fs: float | None = None, delimiter: str | None = None) -> Record:
    """Read a delimited text file: one row per sample, one column per channel, an optional
    header row of channel names and an optional time column (seconds)."""
    return _open_csv(Path(path), fs, delimiter).to_record()


def read_numpy(path: str | Path, fs: float | None = None) -> Record:
    """Read ``.npy`` (``(C, L)`` or ``(L,)``; ``fs`` required) or ``.npz`` (a ``signal``
    array, optional ``fs`` and ``channels``)."""
    path = Path(path)
    if path.suffix.lower() not in NUMPY_SUFFIXES:
        raise ValueError(f"{path}: expected a .npy or .npz file")
    return _open_numpy(path, fs).to_record()
