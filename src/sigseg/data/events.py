"""Event tables: labelled intervals and points in seconds, read from BIDS-style ``.tsv`` files,
WFDB annotations or EDF+ annotations, written back as ``.tsv``, and painted onto per-sample
labels for a :class:`~sigseg.tasks.base.Task`.

An *events frame* is a :class:`pandas.DataFrame` with the columns

* ``onset``: start in seconds from the first sample;
* ``duration``: length in seconds, ``0`` for a point event (an R peak, a seismic pick);
* ``label``: the class name;

optionally ``peak`` (seconds, ``NaN`` when unknown) and ``recording`` (which recording of a
data set a row belongs to), and any other columns, which are kept. Rows are numbered from 1
(the frame's index), so an error can say which row of a file is wrong.

Times stay in seconds until :func:`events_to_labels` turns them into samples at one rate, so a
table serves a recording at any rate it is resampled to.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sigseg.atomic import write_text
from sigseg.data.record import IGNORE_INDEX, Wave
from sigseg.tasks.base import Task

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "EVENT_COLUMNS",
    "SIDECAR_SUFFIX",
    "events_frame",
    "events_to_labels",
    "read_edf_events",
    "read_events_tsv",
    "read_sample_intervals",
    "read_wfdb_events",
    "write_events_tsv",
]

EVENT_COLUMNS: tuple[str, ...] = ("onset", "duration", "label")
"""The columns every events frame has, in the order they are written."""
SIDECAR_SUFFIX = "_events.tsv"
"""A recording ``<stem>.<ext>``'s events table is ``<stem>_events.tsv`` (BIDS), beside it in a
data set and in ``sigseg segment``'s output folder."""
MISSING = "n/a"
"""How a missing value is written (BIDS)."""
LABEL_COLUMNS: tuple[str, ...] = ("label", "trial_type")
"""Where a ``.tsv`` file names each event's class, in order of preference (``trial_type`` is
BIDS' name)."""


def events_frame(
    onset: Sequence[float] | np.ndarray,
    duration: Sequence[float] | np.ndarray,
    label: Sequence[str] | np.ndarray,
    peak: Sequence[float] | np.ndarray | None = None,
) -> pd.DataFrame:
    """An events frame from columns (seconds), rows numbered from 1.

    >>> events_frame([0.5, 2.0], [1.0, 0.0], ["spindle", "K"]).to_dict("list")
    {'onset': [0.5, 2.0], 'duration': [1.0, 0.0], 'label': ['spindle', 'K']}
    """
    import pandas as pd

    columns: dict[str, object] = {
        "onset": np.asarray(onset, dtype=np.float64),
        "duration": np.asarray(duration, dtype=np.float64),
        "label": pd.Series([str(x) for x in label], dtype=str),
    }
    if peak is not None:
        columns["peak"] = np.asarray(peak, dtype=np.float64)
    frame = pd.DataFrame(columns)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    return frame


# --- BIDS-style TSV --------------------------------------------------------------------------


def read_events_tsv(path: str | Path) -> pd.DataFrame:
    """Read a tab-separated events file: ``onset`` and ``duration`` in seconds (``n/a`` or
    ``0``: a point event) and the class in ``label`` or BIDS' ``trial_type`` (``label`` wins
    when both are there); an optional ``peak`` (seconds, ``n/a`` allowed) and any other
    columns are kept as text. A header-only file is a valid table with no events.

    A missing column, a bad number, a negative duration or an empty label is an error naming
    the file and the row (row 1 is the first line under the header)."""
    path = Path(path)
    raw = _read_cells(path)
    label_column = next((c for c in LABEL_COLUMNS if c in raw.columns), None)
    missing = [c for c in ("onset", "duration") if c not in raw.columns]
    if missing or label_column is None:
        needed = [*missing, *([] if label_column else ["label (or trial_type)"])]
        raise ValueError(
            f"{path}: no column(s) {', '.join(needed)} (columns: {', '.join(raw.columns)}); "
            "an events file is tab-separated with onset, duration and label"
        )
    rows = range(1, len(raw) + 1)
    onset = [_seconds(v, path, n, "onset") for n, v in zip(rows, raw["onset"], strict=True)]
    duration = [_duration(v, path, n) for n, v in zip(rows, raw["duration"], strict=True)]
    labels = [_label(v, path, n) for n, v in zip(rows, raw[label_column], strict=True)]
    peak = None
    if "peak" in raw.columns:
        peak = [_seconds(v, path, n, "peak", True) for n, v in zip(rows, raw["peak"], strict=True)]
    frame = events_frame(onset, duration, labels, peak)
    for column in raw.columns:
        if column not in frame.columns and column != label_column:
            frame[column] = raw[column].to_numpy()
    return frame


def _read_text(path: Path) -> str:
    """A UTF-8 text file (a BOM dropped), with one-line errors for a missing or binary file."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a UTF-8 text file ({exc.reason})") from exc


def _read_cells(path: Path) -> pd.DataFrame:
    """A tab-separated file as text cells, every row as wide as the header."""
    import pandas as pd

    text = _read_text(path)
    rows = [row for row in csv.reader(io.StringIO(text), delimiter="\t") if row]
    if not rows:
        raise ValueError(f"{path}: the file is empty (an events file needs a header row)")
    header = [cell.strip() for cell in rows[0]]
    for n, row in enumerate(rows[1:], start=1):
        if len(row) != len(header):
            raise ValueError(f"{path}: row {n} has {len(row)} cells, the header {len(header)}")
    return pd.DataFrame(rows[1:], columns=header, dtype=str)


def _seconds(cell: str, path: Path, row: int, column: str, optional: bool = False) -> float:
    """A time cell as a finite number; ``n/a``/empty is ``NaN`` where ``optional``."""
    text = cell.strip()
    if optional and text.lower() in ("", MISSING):
        return math.nan
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"{path}: row {row}: {column} {cell!r} is not a number of seconds")
    return value


def _duration(cell: str, path: Path, row: int) -> float:
    """A duration cell: ``n/a`` or empty is a point event (0); negative is an error."""
    value = _seconds(cell, path, row, "duration", optional=True)
    if math.isnan(value):
        return 0.0
    if value < 0:
        raise ValueError(f"{path}: row {row}: negative duration {cell!r}")
    return value


def _label(cell: str, path: Path, row: int) -> str:
    text = cell.strip()
    if text.lower() in ("", MISSING):
        raise ValueError(f"{path}: row {row}: the event has no label")
    return text


def read_sample_intervals(
    path: str | Path,
    columns: Sequence[str] | None,
    start: str,
    end: str,
    first: int = 0,
    inclusive: bool = True,
    label: str = "label",
) -> pd.DataFrame:
    """Read a table of labelled intervals given in samples (tab-, comma- or space-separated;
    ``columns`` names the columns of a file without a header row) as an events frame whose
    ``onset`` and ``duration`` are in **samples**: ``onset`` counts from the recording's first
    sample, which the table calls ``first`` (``1`` for MATLAB-style tables), and an interval
    runs from its ``start`` to its ``end`` column, ``end`` included when ``inclusive``.
    Divide both by the rate to get seconds. Other columns are kept as text.

    A missing column, a cell that is not a whole number, an interval that ends before it
    starts or starts before ``first``, or an empty label is an error naming the file and row.

    >>> import tempfile
    >>> table = Path(tempfile.mkdtemp()) / "labels.txt"
    >>> _ = table.write_text("1 5 7 136 200\n1 5 8 201 260\n")
    >>> frame = read_sample_intervals(table, ["exp", "user", "label", "start", "end"],
    ...                               "start", "end", first=1)
    >>> frame[["onset", "duration", "label", "user"]].values.tolist()
    [[135.0, 65.0, '7', '5'], [200.0, 60.0, '8', '5']]
    """
    path = Path(path)
    raw = _read_delimited(path, columns)
    missing = [c for c in (start, end, label) if c not in raw.columns]
    if missing:
        raise ValueError(
            f"{path}: no column(s) {', '.join(missing)} (columns: {', '.join(raw.columns)})"
        )
    rows = range(1, len(raw) + 1)
    starts = [_whole(v, path, n, start) for n, v in zip(rows, raw[start], strict=True)]
    ends = [_whole(v, path, n, end) for n, v in zip(rows, raw[end], strict=True)]
    labels = [_label(v, path, n) for n, v in zip(rows, raw[label], strict=True)]
    for n, (a, b) in enumerate(zip(starts, ends, strict=True), start=1):
        if a < first:
            raise ValueError(f"{path}: row {n}: {start} {a} is before the first sample {first}")
        if b < a or (b == a and not inclusive):
            raise ValueError(f"{path}: row {n}: {end} {b} is before {start} {a}")
    onset = np.asarray(starts, dtype=np.float64) - first
    duration = np.asarray(ends, dtype=np.float64) - np.asarray(starts) + int(inclusive)
    frame = events_frame(onset, duration, labels)
    for column in raw.columns:
        if column not in (start, end, label):
            frame[column] = raw[column].to_numpy()
    return frame


def _read_delimited(path: Path, columns: Sequence[str] | None) -> pd.DataFrame:
    """A tab-, comma- or whitespace-separated table as text cells: the first row names the
    columns unless ``columns`` does."""
    import pandas as pd

    text = _read_text(path)
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise ValueError(f"{path}: the file is empty")
    delimiter = next((d for d in ("\t", ",") if d in lines[0]), None)
    rows = [[c.strip() for c in ln.split(delimiter)] for ln in lines]
    header, body = (list(columns), rows) if columns is not None else (rows[0], rows[1:])
    for n, row in enumerate(body, start=1):
        if len(row) != len(header):
            raise ValueError(f"{path}: row {n} has {len(row)} cells, the columns {len(header)}")
    return pd.DataFrame(body, columns=header, dtype=str)


def _whole(cell: str, path: Path, row: int, column: str) -> int:
    """A sample-index cell as an integer (``12`` or ``12.0``)."""
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not value.is_integer():
        raise ValueError(f"{path}: row {row}: {column} {cell!r} is not a whole number of samples")
    return int(value)


def write_events_tsv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write an events frame as a BIDS-style ``.tsv`` (atomically): ``onset``, ``duration``,
    ``label`` first, then the other columns (``peak``, ``probability``...) in frame order;
    numbers with 6 decimals, ``n/a`` where a value is missing."""
    path = Path(path)
    missing = [c for c in EVENT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: cannot write events without column(s) {', '.join(missing)}")
    columns = [*EVENT_COLUMNS, *(c for c in frame.columns if c not in EVENT_COLUMNS)]
    text = frame[columns].to_csv(
        sep="\t", index=False, na_rep=MISSING, float_format="%.6f", lineterminator="\n"
    )
    write_text(path, text)


# --- WFDB and EDF+ annotations -----------------------------------------------------------------


def read_wfdb_events(path: str | Path, annotator: str) -> pd.DataFrame:
    """The annotations ``<record>.<annotator>`` as events: each symbol a point event at its
    sample, and a symbol between ``(`` and ``)`` an interval from the ``(`` to the ``)``
    (inclusive) labelled with that symbol, its sample as the ``peak``. A lone ``(`` or ``)``
    marks nothing and is skipped."""
    import wfdb

    from sigseg.data.readers import wfdb_base

    base = wfdb_base(path)
    source = base.with_name(f"{base.name}.{annotator}")
    if not source.is_file():
        raise FileNotFoundError(f"{source}: no such file (annotator {annotator!r})")
    try:
        ann = wfdb.rdann(str(base), annotator)
        fs = ann.fs or wfdb.rdheader(str(base)).fs
    except Exception as exc:  # wfdb raises assorted types on a damaged file
        raise ValueError(f"{source}: not a readable WFDB annotation file ({exc})") from exc
    if not fs or fs <= 0:
        raise ValueError(f"{source}: sampling rate unknown (none in it or its header)")
    order = np.argsort(ann.sample, kind="stable")
    marks = [(int(ann.sample[i]), str(ann.symbol[i])) for i in order]
    spans = list(_group_marks(marks))
    onset = [first / fs for first, _, _, _ in spans]
    duration = [(last + 1 - first) / fs if last != first else 0.0 for first, last, _, _ in spans]
    peak = [p / fs if last != first else math.nan for first, last, p, _ in spans]
    return events_frame(onset, duration, [label for *_, label in spans], peak)


class _Mark(NamedTuple):
    sample: int
    symbol: str


def _group_marks(marks: Iterable[tuple[int, str]]) -> Iterable[tuple[int, int, int, str]]:
    """``(first, last, peak, symbol)`` samples of each event in a sorted WFDB mark stream:
    ``( x )`` is an interval, any other symbol a point (``first == last == peak``)."""
    opened: int | None = None  # the sample of an open ``(``
    inside: _Mark | None = None  # the symbol after it, waiting for its ``)``
    for sample, symbol in marks:
        if symbol == ")" and opened is not None and inside is not None:
            yield opened, sample, inside.sample, inside.symbol
            opened, inside = None, None
            continue
        if inside is not None:  # not closed by this mark: the symbol was a point after all
            yield inside.sample, inside.sample, inside.sample, inside.symbol
            opened, inside = None, None
        if symbol == "(":
            opened = sample
        elif symbol == ")":
            opened = None
        elif opened is not None:
            inside = _Mark(sample, symbol)
        else:
            yield sample, sample, sample, symbol
    if inside is not None:
        yield inside.sample, inside.sample, inside.sample, inside.symbol


def read_edf_events(path: str | Path) -> pd.DataFrame:
    """The EDF+ annotations of ``path`` (onset, duration, description) as events; an
    annotation without a duration is a point event. Hypnograms come out as one interval per
    scored epoch."""
    import pyedflib

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        with pyedflib.EdfReader(str(path)) as edf:
            onset, duration, text = edf.readAnnotations()
    except OSError as exc:
        raise ValueError(f"{path}: not a readable EDF/BDF file ({exc})") from exc
    labels = [str(t).strip() for t in text]
    for row, label in enumerate(labels, start=1):
        if not label:
            raise ValueError(f"{path}: annotation {row} has no description")
    duration = np.asarray(duration, dtype=np.float64)
    duration = np.where(np.isfinite(duration) & (duration > 0), duration, 0.0)
    return events_frame(onset, duration, labels)


# --- events -> per-sample labels ---------------------------------------------------------------


class _Span(NamedTuple):
    """One event in samples: ``start:stop`` (stop exclusive), its class index and peak, and
    its onset and end in seconds as written."""

    row: object
    label: str
    cls: int
    start: int
    stop: int
    peak: int | None
    onset_s: float
    end_s: float

    def rounding_overlap(self, later: _Span, fs: float) -> bool:
        """Whether ``later`` (starting after this interval) overlaps it by less than half a
        sample as written: a table rounded to few decimals, not two events at once."""
        return (
            self.end_s > self.onset_s
            and later.end_s > later.onset_s
            and self.start < later.start
            and self.stop <= later.stop
            and self.end_s - later.onset_s < 0.5 / fs
        )


def events_to_labels(
    frame: pd.DataFrame, fs: float, num_samples: int, task: Task, source: str | Path
) -> tuple[np.ndarray, list[Wave]]:
    """Paint an events frame onto ``num_samples`` labels at ``fs`` Hz for ``task``.

    An interval covers samples ``round(onset * fs)`` up to ``round((onset + duration) * fs)``
    exclusive (at least one sample; halves round up); its wave's offset is the last sample
    covered. A point event is ``Wave(label, i, i, i)`` and labels its one sample. Samples no
    event covers are background for ``events`` tasks, background or
    :data:`~sigseg.data.record.IGNORE_INDEX` for ``segments`` (``task.gaps_are_background``)
    and ``IGNORE_INDEX`` for ``states``. Overlapping events of one class merge into one wave
    (which keeps the first peak). Intervals of two classes that overlap by less than half a
    sample as written (a table rounded to few decimals) meet at the later one's onset.

    Returns ``(labels (num_samples,) int64, waves sorted by onset)``. An event outside the
    signal (one sample of rounding slack allowed at the end), overlapping events of different
    classes and a label that is not one of ``task.classes`` are errors naming ``source``.

    >>> from sigseg.tasks.base import segmentation_task
    >>> task = segmentation_task(["S1"], gaps_are_background=True)
    >>> labels, waves = events_to_labels(events_frame([0.2], [0.3], ["S1"]), 10, 8, task, "x")
    >>> labels.tolist(), waves
    ([0, 0, 1, 1, 1, 0, 0, 0], [Wave(kind='S1', onset=2, peak=None, offset=4, lead=None)])
    """
    missing = [c for c in EVENT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{source}: events without column(s) {', '.join(missing)}")
    labels = np.full(num_samples, _gap_label(task), dtype=np.int64)
    owner = np.full(num_samples, -1, dtype=np.int64)  # which span painted each sample
    spans = [_span(row, fs, num_samples, task, source) for row in _rows(frame)]
    spans.sort(key=lambda span: span.start)
    classes = np.array([span.cls for span in spans], dtype=np.int64)
    for k, span in enumerate(spans):
        painted = owner[span.start : span.stop]
        clash = np.unique(painted[painted >= 0])
        for j in clash[classes[clash] != span.cls]:
            other = spans[j]
            if not other.rounding_overlap(span, fs):
                raise ValueError(
                    f"{source}: row {span.row} ({span.label!r} at {span.onset_s:g} s) overlaps "
                    f"row {other.row} ({other.label!r} at {other.onset_s:g} s) of another class"
                )
            spans[j] = other._replace(stop=span.start)
        owner[span.start : span.stop] = k
        labels[span.start : span.stop] = span.cls
    return labels, _merged_waves(spans)


def _gap_label(task: Task) -> int:
    """The label of samples no event covers."""
    if task.kind == "events" or (task.kind == "segments" and task.gaps_are_background):
        return 0
    return IGNORE_INDEX


def _rows(frame: pd.DataFrame) -> Iterable[tuple[object, float, float, str, float]]:
    """``(row, onset, duration, label, peak)`` of every event (``peak`` NaN when absent)."""
    peaks = frame["peak"] if "peak" in frame.columns else [math.nan] * len(frame)
    return zip(
        frame.index,
        frame["onset"].astype(float),
        frame["duration"].astype(float),
        frame["label"].astype(str),
        np.asarray(peaks, dtype=np.float64),
        strict=True,
    )


def _span(
    event: tuple[object, float, float, str, float],
    fs: float,
    num_samples: int,
    task: Task,
    source: str | Path,
) -> _Span:
    row, onset, duration, label, peak = event
    if label not in task.classes:
        raise ValueError(
            f"{source}: row {row}: label {label!r} is not one of the classes "
            f"{', '.join(task.classes)}"
        )
    if not (math.isfinite(onset) and math.isfinite(duration) and duration >= 0):
        raise ValueError(f"{source}: row {row}: bad onset {onset} or duration {duration}")
    start = _sample(onset, fs)
    stop = max(_sample(onset + duration, fs), start + 1)
    if duration == 0 and start == num_samples:  # a point at the very end: rounding slack
        start, stop = num_samples - 1, num_samples
    if start < 0 or start >= num_samples or stop > num_samples + 1:
        raise ValueError(
            f"{source}: row {row}: event {label!r} at {onset:g}-{onset + duration:g} s lies "
            f"outside the signal (0-{num_samples / fs:g} s)"
        )
    stop = min(stop, num_samples)
    peak_sample = None if math.isnan(peak) else _sample(peak, fs)
    if duration == 0:
        peak_sample = start
    elif peak_sample is not None and not start <= peak_sample < stop:
        raise ValueError(f"{source}: row {row}: peak {peak:g} s lies outside its event")
    return _Span(row, label, task.index(label), start, stop, peak_sample, onset, onset + duration)


def _sample(seconds: float, fs: float) -> int:
    """The nearest sample to a time, halves rounding up (``round`` would round them to even,
    moving some boundaries one sample earlier than others)."""
    return math.floor(seconds * fs + 0.5)


def _merged_waves(spans: list[_Span]) -> list[Wave]:
    """One wave per event, overlapping events of one class merged."""
    waves: list[Wave] = []
    for cls in sorted({s.cls for s in spans}):
        current: _Span | None = None
        for span in sorted((s for s in spans if s.cls == cls), key=lambda s: (s.start, s.stop)):
            if current is not None and span.start < current.stop:
                peak = current.peak if current.peak is not None else span.peak
                current = current._replace(stop=max(current.stop, span.stop), peak=peak)
                continue
            if current is not None:
                waves.append(Wave(current.label, current.start, current.peak, current.stop - 1))
            current = span
        if current is not None:
            waves.append(Wave(current.label, current.start, current.peak, current.stop - 1))
    return sorted(waves, key=lambda w: (w.onset, w.offset))
