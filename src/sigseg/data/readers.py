"""Read signals from WFDB, EDF/BDF, WAV/FLAC, CSV, ARFF and NumPy files, whole or a range at a
time.

:func:`open_signal` gives a :class:`SignalReader` that reads any sample range on demand (WFDB,
EDF and audio files read only those bytes, ``.npy`` is memory-mapped), so inference on a
24-hour Holter recording keeps memory bounded. Every format can keep only some channels, chosen
by name or index (:func:`select_channels`). :func:`read_record` and the per-format ``read_*``
functions read a whole file into a :class:`~sigseg.data.record.Record`;
:func:`read_label_column` reads the per-sample labels a CSV/TSV or ARFF file may carry beside
its channels (an open reader has them as ``sample_labels``). Text formats (CSV/TSV and ARFF)
are read through gzip when the name ends in ``.gz``. :func:`join_signals` makes one recording
of several files of equal length (accelerometer and gyroscope files, say). Every reader checks
its input and raises :class:`ValueError` (or :class:`FileNotFoundError`) with a one-line
message naming the file.
"""

from __future__ import annotations

import abc
import csv
import gzip
import io
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from sigseg.data.record import Record

WFDB_SUFFIXES = (".hea", ".dat")
EDF_SUFFIXES = (".edf", ".bdf")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
NUMPY_SUFFIXES = (".npy", ".npz")
AUDIO_SUFFIXES = (".wav", ".flac")
ARFF_SUFFIXES = (".arff",)
GZIP_SUFFIX = ".gz"
"""A text signal file (CSV/TSV/TXT, ARFF) compressed with gzip: ``walk.csv.gz``."""
TIME_COLUMNS = frozenset({"t", "time", "time_s", "seconds", "sec"})
"""CSV/ARFF column names taken as a time axis (dropped from the channels; it gives the
sampling rate when none is passed), in seconds unless another ``time_unit`` is given."""
TIME_UNITS: dict[str, float] = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
"""Units of a time column -> seconds per unit (eye trackers often stamp microseconds)."""
DEFAULT_TIME_UNITS: dict[str, str] = {"csv": "s", "arff": "us"}
"""A format's time unit when none is given: seconds for CSV/TSV; microseconds for ARFF, as the
eye-movement tools that write gaze ARFF files define it (sp_tool, GazeCom, deep_em_classifier)."""
LABEL_COLUMN = "label"
"""The CSV/TSV column read as per-sample labels by default; it is never a signal channel."""
UNLABELLED_CELLS = frozenset({"", "n/a", "nan"})
"""Label-column cells (compared in lower case) that mean "unlabelled"."""

ChannelSelection = Sequence[str | int]
"""Channels to keep, in order: names, or 0-based indices into the file's channels."""


class SignalReader(abc.ABC):
    """An open recording: ``fs`` (Hz), ``channels`` (names), ``num_samples``, ``name``,
    ``metadata``, and :meth:`read` for any sample range. Use it as a context manager (or call
    :meth:`close`) so file handles are released. With ``allow_gaps`` (see
    :func:`open_signal`), NaN/Inf samples are returned as they are instead of refused."""

    path: Path
    fs: float
    channels: list[str]
    num_samples: int
    name: str
    metadata: dict[str, Any]
    allow_gaps: bool = False
    _lock: threading.Lock
    sample_labels: np.ndarray | None = None
    """The per-sample label column of a CSV/TSV or ARFF file (``str`` per sample, ``""`` =
    unlabelled), read with the signal; ``None`` when the file has no such column."""

    def __new__(cls, *args: Any, **kwargs: Any) -> SignalReader:
        reader = super().__new__(cls)
        # serializes read(): streaming reads a recording from two threads (the model's input
        # ahead, the gap scan behind), and a file handle (EDF) is not safe to share
        reader._lock = threading.Lock()
        return reader

    def read(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Samples ``start:stop`` of every channel as ``(C, n)`` float32, with slice semantics
        (``stop`` beyond the end is clipped; ``None`` means the end). Raises ``ValueError`` on
        a negative index, and on NaN/Inf in the range read unless ``allow_gaps``."""
        if stop is None:
            stop = self.num_samples
        if start < 0 or stop < 0:
            raise ValueError(f"{self.path}: negative sample index in read({start}, {stop})")
        start, stop = min(start, self.num_samples), min(stop, self.num_samples)
        if stop <= start:
            return np.zeros((len(self.channels), 0), dtype=np.float32)
        with self._lock:
            x = np.ascontiguousarray(self._read(start, stop), dtype=np.float32)
        if not self.allow_gaps:
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


def select_channels(
    path: Path, available: Sequence[str], channels: ChannelSelection | str | int | None
) -> list[int]:
    """Indices into ``available`` of the ``channels`` to keep (names or 0-based indices, in
    the order given; all of them when ``None``). A channel the file lacks is an error that
    names the file and lists the channels it has.

    >>> select_channels(Path("x.edf"), ["EEG", "EOG", "EMG"], ["EMG", 0])
    [2, 0]
    """
    if channels is None:
        return list(range(len(available)))
    if isinstance(channels, str | int):
        channels = [channels]
    names = [str(c) for c in available]
    index: list[int] = []
    missing: list[str | int] = []
    for channel in channels:
        if isinstance(channel, int) and not isinstance(channel, bool):
            found = channel if 0 <= channel < len(names) else None
        else:
            found = names.index(str(channel)) if str(channel) in names else None
        if found is None:
            missing.append(channel)
        else:
            index.append(found)
    if missing:
        raise ValueError(f"{path}: no channel(s) {missing}; it has {names}")
    if not index:
        raise ValueError(f"{path}: no channels selected; it has {names}")
    if len(set(index)) != len(index):
        raise ValueError(f"{path}: a channel is selected twice in {list(channels)}")
    return index


# --- WFDB ------------------------------------------------------------------------------------


WFDB_READ_WHOLE_BYTES = 8 << 20
"""A record whose ``<name>.dat`` is at most this size is read whole when opened: one header
parse instead of two (``wfdb`` parses the header again on every read, which costs more than
reading a 10-s 12-lead record's samples)."""


class WfdbReader(SignalReader):
    """A WFDB record (``.hea`` + signal files) read with the ``wfdb`` package; a small one
    (:data:`WFDB_READ_WHOLE_BYTES`) is read whole when opened."""

    def __init__(self, path: str | Path, channels: ChannelSelection | None = None) -> None:
        import wfdb

        self.path = wfdb_base(path)
        header = self.path.with_name(self.path.name + ".hea")
        _require_file(header)
        head = self._read_small(wfdb)
        try:
            head = head or wfdb.rdheader(str(self.path))
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
        self._index = select_channels(header, [str(c) for c in head.sig_name], channels)
        self.channels = [str(head.sig_name[i]) for i in self._index]
        self.num_samples = int(head.sig_len)
        self.name = self.path.name
        units = head.units or [""] * head.n_sig
        self.metadata = {
            "source": str(header),
            "units": [units[i] for i in self._index],
            "comments": list(head.comments or []),
        }
        for file_name in set(head.file_name or []):
            signal_file = self.path.with_name(file_name)
            if not signal_file.is_file():
                raise FileNotFoundError(f"{signal_file}: no such file (named in {header.name})")
        whole = getattr(head, "p_signal", None)
        self._whole = None if whole is None else whole.T[self._index]

    def _read_small(self, wfdb: Any) -> Any:
        """The whole record (header and samples, one parse) when ``<name>.dat`` is small;
        else, or when that read fails, ``None`` (the header is then read alone, and a bad
        file is reported as before)."""
        dat = self.path.with_name(self.path.name + ".dat")
        if not dat.is_file() or dat.stat().st_size > WFDB_READ_WHOLE_BYTES:
            return None
        try:
            return wfdb.rdrecord(str(self.path), physical=True, m2s=False)
        except Exception:  # reported by the header-first path, with its messages
            return None

    def _read(self, start: int, stop: int) -> np.ndarray:
        import wfdb

        if self._whole is not None:
            return self._whole[:, start:stop]

        try:
            rec = wfdb.rdrecord(
                str(self.path), sampfrom=start, sampto=stop, channels=self._index, physical=True
            )
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
    rate; pick them with ``channels`` when the file mixes rates (a PSG file with EEG at 100 Hz
    and respiration at 1 Hz)."""

    def __init__(self, path: str | Path, channels: ChannelSelection | None = None) -> None:
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

    def _setup(self, channels: ChannelSelection | None) -> None:
        labels = [s.strip() for s in self._edf.getSignalLabels()]
        if not labels:
            raise ValueError(f"{self.path}: the file has no signals")
        self._index = select_channels(self.path, labels, channels)
        rates = {labels[i]: float(self._edf.getSampleFrequency(i)) for i in self._index}
        if len(set(rates.values())) > 1:
            advice = "select channels of one rate" if channels is None else "select one rate"
            mixed = _by_rate(rates)
            raise ValueError(
                f"{self.path}: channels have different sampling rates ({mixed}); {advice}"
            )
        lengths = {int(self._edf.getNSamples()[i]) for i in self._index}
        self.fs = _check_fs(next(iter(rates.values())), self.path)
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


def _by_rate(rates: dict[str, float]) -> str:
    """``100 Hz: EEG Fpz-Cz, EEG Pz-Oz; 1 Hz: Resp`` for a channel -> rate map."""
    groups: dict[float, list[str]] = {}
    for name, rate in rates.items():
        groups.setdefault(rate, []).append(name)
    return "; ".join(f"{rate:g} Hz: {', '.join(groups[rate])}" for rate in sorted(groups)[::-1])


# --- WAV / FLAC ------------------------------------------------------------------------------


class SoundfileReader(SignalReader):
    """A WAV or FLAC file read with ``soundfile``; channels are named ``ch0``, ``ch1``... and
    integer PCM samples come back scaled to [-1, 1) (the file stores no physical unit)."""

    def __init__(self, path: str | Path, channels: ChannelSelection | None = None) -> None:
        import soundfile

        self.path = Path(path)
        _require_file(self.path)
        try:
            self._file = soundfile.SoundFile(str(self.path))
        except (RuntimeError, TypeError) as exc:  # LibsndfileError is a RuntimeError
            raise ValueError(f"{self.path}: not a readable audio file ({_line(exc)})") from exc
        try:
            self._setup(channels)
        except BaseException:
            self.close()
            raise

    def _setup(self, channels: ChannelSelection | None) -> None:
        names = [f"ch{i}" for i in range(self._file.channels)]
        self._index = select_channels(self.path, names, channels)
        self.fs = _check_fs(float(self._file.samplerate), self.path)
        self.channels = [names[i] for i in self._index]
        self.num_samples = int(self._file.frames)
        if self.num_samples <= 0:
            raise ValueError(f"{self.path}: the file has no samples")
        self.name = self.path.stem
        self.metadata = {"source": str(self.path), "subtype": self._file.subtype}

    def _read(self, start: int, stop: int) -> np.ndarray:
        self._file.seek(start)
        x = self._file.read(stop - start, dtype="float32", always_2d=True)
        if x.shape[0] != stop - start:
            raise ValueError(
                f"{self.path}: read {x.shape[0]} of samples {start}:{stop}; the file is "
                "shorter than its header says"
            )
        return x.T[self._index]

    def close(self) -> None:
        audio = getattr(self, "_file", None)
        if audio is not None:
            audio.close()
            self._file = None


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
        select: ChannelSelection | None = None,
    ) -> None:
        """``channels`` names every row of ``array`` (default ``ch0``, ``ch1``...);
        ``select`` keeps some of them (see :func:`select_channels`)."""
        self.path = path
        self._array = _as_channels_first(array, path)
        self.fs = _check_fs(fs, path)
        self.num_samples = int(self._array.shape[1])
        names = _channel_names(channels, self._array.shape[0], path)
        self._index = select_channels(path, names, select)
        self.channels = [names[i] for i in self._index]
        self.name = name or signal_stem(path)
        self.metadata = {"source": str(path)}

    def _read(self, start: int, stop: int) -> np.ndarray:
        return np.asarray(self._array[:, start:stop])[self._index]


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


def _open_numpy(
    path: Path, fs: float | None, channels: ChannelSelection | None = None
) -> ArrayReader:
    _require_file(path)
    if path.suffix.lower() == ".npy":
        return ArrayReader(_load_numpy(path, mmap=True), _check_fs(fs, path), path, select=channels)
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
        signal,
        _check_fs(fs if fs is not None else file_fs, path),
        path,
        channels=names,
        select=channels,
    )


def _load_numpy(path: Path, mmap: bool) -> Any:
    """``np.load`` (memory-mapped ``.npy``, or an ``NpzFile``) with errors naming the file."""
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except Exception as exc:  # numpy raises assorted types (even SyntaxError) on a bad header
        raise ValueError(f"{path}: not a readable NumPy file ({_line(exc)})") from exc


@dataclass(frozen=True)
class _Table:
    """A delimited text file split into lines: the header cells (``None`` when the first row
    is all numbers), the data lines, their delimiter and the file line of the first one."""

    header: list[str] | None
    body: list[str]
    delimiter: str
    first_line: int

    @property
    def names(self) -> list[str]:
        """Column names: the header's, else ``ch0``, ``ch1``..."""
        if self.header is not None:
            return [name.strip() for name in self.header]
        return [f"ch{i}" for i in range(len(_split(self.body[0], self.delimiter)))]

    def named(self, names: Sequence[str] | None, path: Path) -> list[str]:
        """Column names, ``names`` standing in for a missing header row (a header row the
        file has wins, so a manifest's names never silently relabel named columns)."""
        if names is None or self.header is not None:
            return self.names
        width = len(_split(self.body[0], self.delimiter))
        if len(names) != width:
            raise ValueError(f"{path}: {len(names)} column names given for {width} columns")
        return [str(name) for name in names]


def _read_text(path: Path) -> str:
    """A text file's contents, through gzip when its name ends in ``.gz``."""
    _require_file(path)
    try:
        if path.suffix.lower() == GZIP_SUFFIX:
            with gzip.open(path, "rt", encoding="utf-8-sig", errors="replace") as file:
                return file.read()
        return path.read_text(encoding="utf-8-sig", errors="replace")
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"{path}: not a readable gzip file ({_line(exc)})") from exc


def _read_table(path: Path, delimiter: str | None) -> _Table:
    text = _read_text(path)
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise ValueError(f"{path}: the file is empty")
    delimiter = delimiter or _sniff_delimiter(lines[0])
    header = _split(lines[0], delimiter)
    has_header = not all(_is_number(cell) for cell in header)
    body = lines[1:] if has_header else lines
    if not body:
        raise ValueError(f"{path}: no data rows")
    return _Table(header if has_header else None, body, delimiter, 2 if has_header else 1)


def _open_csv(
    path: Path,
    fs: float | None,
    delimiter: str | None = None,
    channels: ChannelSelection | None = None,
    label_column: str = LABEL_COLUMN,
    time_unit: str | None = None,
    column_names: Sequence[str] | None = None,
) -> ArrayReader:
    """CSV/TSV with one column per channel and one row per sample; an optional header row
    names the channels (``column_names`` names them when there is none). A time column (see
    :data:`TIME_COLUMNS`, in ``time_unit``) gives ``fs`` if not passed, and the
    ``label_column`` (per-sample labels, kept as the reader's ``sample_labels``) is skipped."""
    table = _read_table(path, delimiter)
    names = table.named(column_names, path)
    width = len(_split(table.body[0], table.delimiter))
    if len(names) != width:
        raise ValueError(f"{path}: header has {len(names)} columns but rows have {width}")
    time_cols = [i for i, n in enumerate(names) if n.lower() in TIME_COLUMNS][:1]
    label_cols = [i for i, n in enumerate(names) if n == label_column][:1]
    skip = set(time_cols) | set(label_cols)
    keep = [i for i in range(len(names)) if i not in skip]
    if not keep:
        raise ValueError(f"{path}: no signal columns")
    data = _parse_rows(table, keep, path)
    if time_cols:
        time = _parse_rows(table, time_cols, path)[:, 0]
        fs = _fs_from_time(
            time, fs, path, _seconds_per(time_unit or DEFAULT_TIME_UNITS["csv"], path)
        )
    reader = ArrayReader(
        np.ascontiguousarray(data.T),
        _check_fs(fs, path),
        path,
        channels=[names[i] for i in keep],
        select=channels,
    )
    if label_cols:
        reader.sample_labels = _label_cells(table, label_cols[0], path)
    return reader


def _seconds_per(time_unit: str, path: Path) -> float:
    if time_unit not in TIME_UNITS:
        raise ValueError(f"{path}: time unit {time_unit!r}; use one of {', '.join(TIME_UNITS)}")
    return TIME_UNITS[time_unit]


def csv_columns(path: str | Path, delimiter: str | None = None) -> list[str]:
    """The column names of a CSV/TSV file (``ch0``, ``ch1``... when it has no header row),
    so a caller can ask whether it carries a label column before reading one."""
    return _read_table(Path(path), delimiter).names


def read_label_column(
    path: str | Path, column: str = LABEL_COLUMN, delimiter: str | None = None
) -> np.ndarray:
    """The per-sample labels of a CSV/TSV or ARFF signal file: one ``str`` per data row,
    ``""`` where the cell is empty, ``n/a`` or ARFF's ``?`` (unlabelled). Whole numbers are
    written one way (``1.0`` and ``1`` are both ``"1"``) so a column that a float round trip
    touched keeps its classes.

    A CSV/TSV file needs a header row that names ``column``."""
    path = Path(path)
    if signal_format(path) == "arff":
        arff = _read_arff(path)
        if column not in arff.names:
            raise ValueError(f"{path}: no label column {column!r} (attributes: {arff.names})")
        return _arff_labels(arff.data[column])
    table = _read_table(path, delimiter)
    if table.header is None or column not in table.names:
        found = "no header row" if table.header is None else f"columns: {', '.join(table.names)}"
        raise ValueError(f"{path}: no label column {column!r} ({found})")
    return _label_cells(table, table.names.index(column), path)


def _label_cells(table: _Table, where: int, path: Path) -> np.ndarray:
    """Column ``where`` of every data line as label text (see :func:`read_label_column`)."""
    labels = []
    width = len(_split(table.body[0], table.delimiter))
    for n, line in enumerate(table.body):
        cells = _split(line, table.delimiter)
        if len(cells) != width:
            first = "the header" if table.header is not None else "the first row"
            raise ValueError(
                f"{path}: line {n + table.first_line} has {len(cells)} cells, {first} {width}"
            )
        labels.append(_label_text(cells[where]))
    return np.asarray(labels, dtype=str)


def _label_text(cell: str) -> str:
    """A label cell as a class name: ``""`` for unlabelled, whole numbers without ``.0``."""
    text = cell.strip()
    if text.lower() in UNLABELLED_CELLS:
        return ""
    try:
        value = float(text)
    except ValueError:
        return text
    return str(int(value)) if value.is_integer() else text


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


def _parse_rows(table: _Table, columns: list[int], path: Path) -> np.ndarray:
    """The numeric ``columns`` of every data line as ``(rows, len(columns))`` float64."""
    sep = None if table.delimiter == " " else table.delimiter
    try:
        return np.loadtxt(
            io.StringIO("\n".join(table.body)),
            delimiter=sep,
            dtype=np.float64,
            ndmin=2,
            usecols=columns,
        )
    except ValueError as exc:
        where = _first_bad_row(table, columns)
        raise ValueError(f"{path}: non-numeric or ragged data ({where})") from exc


def _first_bad_row(table: _Table, columns: list[int]) -> str:
    width = len(_split(table.body[0], table.delimiter))
    for n, line in enumerate(table.body):
        cells = _split(line, table.delimiter)
        if len(cells) != width or not all(_is_number(cells[i]) for i in columns):
            return f"line {n + table.first_line}: {line[:60]!r}"
    return "unparseable rows"


def _fs_from_time(t: np.ndarray, fs: float | None, path: Path, unit: float = 1.0) -> float:
    """The rate a time column in ``unit`` seconds implies (median step), or ``fs`` when given,
    which must agree with the column's mean step within 1 % (a rounded time column still
    passes). Steps are taken before scaling, so whole microsecond stamps give exact rates."""
    steps = np.diff(t) * unit
    if len(steps) == 0 or not np.all(steps > 0):
        if fs is not None:
            return fs
        raise ValueError(f"{path}: time column must increase; pass fs instead")
    if fs is None:
        return float(1.0 / np.median(steps))
    implied = len(steps) / (float(t[-1] - t[0]) * unit)
    if abs(implied - fs) > 0.01 * fs:
        raise ValueError(f"{path}: fs={fs:g} given but the time column says {implied:.6g} Hz")
    return fs


# --- ARFF ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Arff:
    """A parsed ARFF file: attribute names and types (``numeric``, ``nominal``...) in file
    order, and the rows as a NumPy structured array."""

    names: list[str]
    types: list[str]
    data: np.ndarray


def _read_arff(path: Path) -> _Arff:
    from scipy.io import arff

    text = _read_text(path)
    try:
        data, meta = arff.loadarff(io.StringIO(text))
    except Exception as exc:  # scipy raises assorted types (even StopIteration) on bad input
        raise ValueError(f"{path}: not a readable ARFF file ({_line(exc)})") from exc
    if len(data) == 0:
        raise ValueError(f"{path}: no data rows")
    return _Arff(list(meta.names()), list(meta.types()), data)


def _arff_labels(values: np.ndarray) -> np.ndarray:
    """An ARFF attribute as label text per sample: nominal values as written, numbers as
    whole numbers where they are (``1.0`` -> ``"1"``), ``""`` for a missing value (``?``)."""
    if values.dtype.kind == "S":
        values = np.char.decode(values, "utf-8")
    unique, inverse = np.unique(values.astype(str), return_inverse=True)
    names = [_label_text("" if value == "?" else value) for value in unique]
    return np.asarray(names, dtype=str)[inverse.ravel()]


def _open_arff(
    path: Path,
    fs: float | None,
    channels: ChannelSelection | None = None,
    label_column: str = LABEL_COLUMN,
    time_unit: str | None = None,
) -> ArrayReader:
    """An ARFF file (Weka's attribute-relation format, the eye-movement field's usual one):
    every numeric attribute is a channel, except a time attribute (see :data:`TIME_COLUMNS`,
    in ``time_unit``, microseconds by default), which gives ``fs`` when not passed, and the
    ``label_column``, which (numeric or nominal) becomes the reader's ``sample_labels``. Other
    attribute types are not channels. Parsed with ``scipy.io.arff``; missing values (``?``)
    read as NaN."""
    arff = _read_arff(path)
    numeric = [n for n, t in zip(arff.names, arff.types, strict=True) if t == "numeric"]
    time_cols = [n for n in numeric if n.lower() in TIME_COLUMNS][:1]
    keep = [n for n in numeric if n not in time_cols and n != label_column]
    if not keep:
        raise ValueError(f"{path}: no numeric attributes to read as channels ({arff.names})")
    data = np.stack([arff.data[n].astype(np.float64) for n in keep])
    if time_cols:
        time = arff.data[time_cols[0]].astype(np.float64)
        fs = _fs_from_time(
            time, fs, path, _seconds_per(time_unit or DEFAULT_TIME_UNITS["arff"], path)
        )
    reader = ArrayReader(data, _check_fs(fs, path), path, channels=keep, select=channels)
    if label_column in arff.names:
        reader.sample_labels = _arff_labels(arff.data[label_column])
    return reader


# --- several files, one recording ------------------------------------------------------------


class JoinedReader(SignalReader):
    """One recording stored as several files of equal length and rate (an accelerometer and
    a gyroscope file, say), read as one: the channels of each part side by side, in the
    order given, named ``<part>_<channel>`` (``acc_x``, ``gyro_x``), of which ``select``
    keeps some (see :func:`select_channels`). The first part's path and label column stand
    for the recording."""

    def __init__(
        self,
        parts: Mapping[str, SignalReader],
        name: str,
        select: ChannelSelection | None = None,
    ) -> None:
        if not parts:
            raise ValueError(f"{name}: a joined recording needs at least one part")
        self._parts = dict(parts)
        first = next(iter(self._parts.values()))
        for reader in self._parts.values():
            if not np.isclose(reader.fs, first.fs):
                raise ValueError(
                    f"{reader.path}: {reader.fs:g} Hz but {first.path.name} is {first.fs:g} Hz; "
                    "the parts of a recording need one rate"
                )
            if reader.num_samples != first.num_samples:
                raise ValueError(
                    f"{reader.path}: {reader.num_samples} samples but {first.path.name} has "
                    f"{first.num_samples}; the parts of a recording need one length"
                )
        self.path = first.path
        self.fs = first.fs
        self.num_samples = first.num_samples
        self.name = name
        names = [f"{part}_{c}" for part, r in self._parts.items() for c in r.channels]
        self._index = select_channels(first.path, names, select)
        self.channels = [names[i] for i in self._index]
        self.metadata = {
            "source": str(first.path),
            "parts": {part: str(r.path) for part, r in self._parts.items()},
        }
        self.sample_labels = first.sample_labels

    def _read(self, start: int, stop: int) -> np.ndarray:
        parts = [r._read(start, stop) for r in self._parts.values()]  # read() checks the join
        return np.concatenate(parts)[self._index]

    def close(self) -> None:
        for reader in self._parts.values():
            reader.close()


# --- dispatch --------------------------------------------------------------------------------


FORMATS: dict[str, tuple[str, ...]] = {
    "wfdb": WFDB_SUFFIXES,
    "edf": EDF_SUFFIXES,
    "audio": AUDIO_SUFFIXES,
    "csv": CSV_SUFFIXES,
    "arff": ARFF_SUFFIXES,
    "numpy": NUMPY_SUFFIXES,
}
"""Signal format -> the file suffixes it is read from."""
GZIP_FORMATS: tuple[str, ...] = ("csv", "arff")
"""The formats read through gzip when the file name ends in ``.gz``."""


def signal_suffix(path: str | Path) -> str:
    """The suffix that names a file's format, in lower case, past a ``.gz``:
    ``walk.csv.gz`` -> ``.csv``."""
    path = Path(path)
    if path.suffix.lower() == GZIP_SUFFIX:
        return Path(path.stem).suffix.lower()
    return path.suffix.lower()


def signal_stem(path: str | Path) -> str:
    """A file's name without its format suffix and any ``.gz``: ``AAF_beach.arff.gz`` ->
    ``AAF_beach``."""
    path = Path(path)
    if path.suffix.lower() == GZIP_SUFFIX:
        path = Path(path.stem)
    return path.stem


def signal_format(path: str | Path) -> str:
    """``wfdb``, ``edf``, ``audio``, ``csv``, ``arff`` or ``numpy`` for ``path``, by suffix
    (a path without one is WFDB when ``<path>.hea`` exists; text formats may end in ``.gz``)."""
    path = Path(path)
    suffix = signal_suffix(path)
    compressed = path.suffix.lower() == GZIP_SUFFIX
    if not compressed and (suffix in WFDB_SUFFIXES or path.with_name(path.name + ".hea").is_file()):
        return "wfdb"
    if path.is_dir():
        raise ValueError(f"{path}: is a folder, not a signal file")
    for fmt, suffixes in FORMATS.items():
        if suffix in suffixes:
            if compressed and fmt not in GZIP_FORMATS:
                raise ValueError(
                    f"{path}: a gzip-compressed {fmt} file is not read; decompress it (only "
                    "CSV/TSV/TXT and ARFF files are read through gzip)"
                )
            return fmt
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file (nor {path.name}.hea)")
    known = " ".join(s for suffixes in FORMATS.values() for s in suffixes)
    raise ValueError(f"{path}: unknown signal format {suffix!r}; use one of {known} (+ .gz)")


def open_signal(
    path: str | Path,
    fs: float | None = None,
    channels: ChannelSelection | None = None,
    *,
    label_column: str = LABEL_COLUMN,
    allow_gaps: bool = False,
    time_unit: str | None = None,
    column_names: Sequence[str] | None = None,
) -> SignalReader:
    """Open a recording for range reads, keeping only ``channels`` (names or 0-based indices;
    all when ``None``). ``fs`` is needed for ``.npy`` and CSV files without a time column; for
    the formats that store a rate it must match the file if given. ``label_column`` names the
    CSV/TSV or ARFF column of per-sample labels, which is not a channel (its values are the
    reader's ``sample_labels``). ``time_unit`` (a key of :data:`TIME_UNITS`) is the unit of a
    CSV/ARFF time column (default: :data:`DEFAULT_TIME_UNITS`); ``column_names`` names the
    columns of a CSV/TSV file without a header row. ``allow_gaps``: NaN/Inf samples (WFDB's
    "no value" included) are read as they are, for inference that delineates around them
    (:mod:`sigseg.data.gaps`); by default a read that meets one is refused."""
    path = Path(path)
    fmt = signal_format(path)
    reader: SignalReader
    if fmt == "numpy":
        reader = _open_numpy(path, fs, channels)
    elif fmt == "csv":
        reader = _open_csv(
            path,
            fs,
            channels=channels,
            label_column=label_column,
            time_unit=time_unit,
            column_names=column_names,
        )
    elif fmt == "arff":
        reader = _open_arff(path, fs, channels, label_column, time_unit)
    else:
        opener = {"wfdb": WfdbReader, "edf": EdfReader, "audio": SoundfileReader}[fmt]
        reader = opener(path, channels)
        if fs is not None and not np.isclose(fs, reader.fs):
            reader.close()
            raise ValueError(f"{path}: fs={fs:g} given but the file says {reader.fs:g} Hz")
    reader.allow_gaps = allow_gaps
    return reader


def read_record(
    path: str | Path, fs: float | None = None, channels: ChannelSelection | None = None
) -> Record:
    """Read a whole recording of any supported format into a :class:`Record`."""
    with open_signal(path, fs, channels) as reader:
        return reader.to_record()


def read_wfdb(path: str | Path) -> Record:
    """Read a WFDB record (``rec``, ``rec.hea`` or ``rec.dat``); header comments go to
    ``metadata["comments"]``."""
    with WfdbReader(path) as reader:
        return reader.to_record()


def read_edf(path: str | Path, channels: ChannelSelection | None = None) -> Record:
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
