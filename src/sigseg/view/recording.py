"""What the viewer shows: one recording, opened for range reads, with its predicted and
reference events, checked to belong to it, and their disagreements.

A :class:`ViewSource` is built once per ``sigseg view`` and shared by every browser session:
the reader (reads serialised by a lock), the min/max :class:`~sigseg.view.lod.Overview`
(built in a background thread), the event indexes and the class colours. Only the files it
was given are ever opened.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sigseg.data.readers import SignalReader, open_signal, signal_format, wfdb_base
from sigseg.results import RecordingResult, check_belongs, results_for
from sigseg.tasks import TASKS, Task
from sigseg.view.lod import Overview
from sigseg.view.spans import EventIndex, disagreements

PALETTE = (
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
    "#1f77b4",
    "#2ca02c",
    "#d62728",
)
"""Class colours, in class order, for label sets no task names."""
ECG_COLORS = {"P": "#2ca02c", "QRS": "#d62728", "T": "#1f77b4"}
"""The ECG waves' colours, those of ``sigseg delineate``'s plot (matplotlib's tab:green,
tab:red and tab:blue)."""


@dataclass
class ViewSource:
    """A recording and its events, ready to draw (see the module docstring)."""

    path: Path
    reader: SignalReader
    predicted: RecordingResult | None = None
    reference: RecordingResult | None = None
    start_time: dt.datetime | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    classes: list[str] = field(default_factory=list)
    colors: dict[str, str] = field(default_factory=dict)
    tolerance_s: float = 0.05
    overview: Overview = field(init=False)
    indexes: dict[str, EventIndex] = field(default_factory=dict)
    disagreements: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        self.overview = Overview(self.reader, self.lock)

    @property
    def fs(self) -> float:
        return float(self.reader.fs)

    @property
    def duration(self) -> float:
        return self.reader.num_samples / self.fs

    @property
    def channels(self) -> list[str]:
        return list(self.reader.channels)

    def start_overview(self) -> threading.Thread:
        """Build the overview in a daemon thread (windows drawn from it fill in as it goes)."""
        thread = threading.Thread(target=self.overview.build, name="sigseg-overview", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        with self.lock:
            self.reader.close()


def open_view(
    path: str | Path,
    predictions: str | Path | None = None,
    reference: str | Path | None = None,
    *,
    fs: float | None = None,
    channels: list[str | int] | None = None,
    tolerance_s: float | None = None,
) -> ViewSource:
    """Open ``path`` (any format :func:`~sigseg.data.readers.open_signal` reads; NaN gaps
    allowed) with its ``predictions`` and ``reference`` (anything
    :func:`~sigseg.results.load_results` reads; a folder holding several recordings gives the
    one of this recording's name). Results that do not belong to the recording (events past
    its end, another rate or length) are refused in one line."""
    reader = open_signal(path, fs=fs, channels=channels, allow_gaps=True)
    try:
        source = ViewSource(Path(path), reader, start_time=recording_start(Path(path)))
        name = Path(reader.name).name
        if predictions is not None:
            source.predicted = results_for(predictions, name)
            check_belongs(source.predicted, reader.fs, reader.num_samples, "predictions")
        if reference is not None:
            source.reference = results_for(reference, name)
            check_belongs(source.reference, reader.fs, reader.num_samples, "reference events")
        _index(source, tolerance_s)
    except BaseException:
        reader.close()
        raise
    return source


def _index(source: ViewSource, tolerance_s: float | None) -> None:
    """Classes, colours, event indexes and disagreements of an opened source."""
    results = [r for r in (source.predicted, source.reference) if r is not None]
    labels = list(dict.fromkeys(label for r in results for label in r.labels))
    task = task_of(labels)
    if task is not None:
        labels = [c for c in task.foreground if c in labels] + [
            c for c in labels if c not in task.foreground
        ]
    source.classes = labels
    spare = iter(PALETTE * (1 + len(labels) // len(PALETTE)))
    source.colors = {c: ECG_COLORS.get(c) or next(spare) for c in labels}
    default = dataclasses.fields(Task)
    fallback = next(f.default for f in default if f.name == "tolerance_s")
    source.tolerance_s = tolerance_s or (task.tolerance_s if task else float(fallback))
    for lane, result in (("predicted", source.predicted), ("reference", source.reference)):
        if result is not None:
            source.indexes[lane] = EventIndex(result.events, labels)
    if source.predicted is not None and source.reference is not None:
        source.disagreements = disagreements(
            source.predicted.events, source.reference.events, source.tolerance_s, source.fs
        )


def task_of(labels: list[str]) -> Task | None:
    """The shipped task whose classes hold every label, if one does."""
    for task in TASKS.values():
        if labels and set(labels) <= set(task.foreground):
            return task
    return None


def recording_start(path: Path) -> dt.datetime | None:
    """When the recording started, where its file says (a WFDB header's base date and time,
    an EDF file's start), else ``None``. A WFDB time without a date gets 2000-01-01: the axis
    shows the time of day only."""
    fmt = signal_format(path)
    if fmt == "wfdb":
        import wfdb

        header = wfdb.rdheader(str(wfdb_base(path)))
        if header.base_time is None:
            return None
        date = header.base_date or dt.date(2000, 1, 1)
        return dt.datetime.combine(date, header.base_time)
    if fmt == "edf":
        import pyedflib

        with pyedflib.EdfReader(str(path)) as edf:
            return edf.getStartdatetime()
    return None
