"""What a batch run does to one recording, for ``sigseg segment`` (any task) and ECG
``sigseg delineate``: read it, and turn the model's probabilities into table rows.

A *short* recording (one window's worth at the model's rate, at most
:data:`~sigseg.inference.windows.LONG_WINDOW` samples: 131 s for the default ECG model) is
read whole by :meth:`Job.load` (in the read-ahead thread) and prepared for a shared model
call (:mod:`sigseg.inference.batching`); :meth:`Job.finish` decodes its probabilities. A
longer one is left to :meth:`Job.stream`, which runs it alone: ECG delineation streams it
in bounded memory whatever its length; a generic segmentation streams its events too
(:func:`~sigseg.inference.segment.segment_stream`), except a ``states`` task's, which holds
its probabilities: one that would not fit in ``memory_limit`` bytes is refused (an error
row, the run goes on).
Both give the rows the single-file commands would: the same windows, decoding and gaps.
With ``plots`` (a folder), each short recording's first seconds are drawn there as
``<recording>.png``, as the single-file commands draw them; long ones are not drawn.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

import numpy as np

from sigseg.batch.inputs import Item
from sigseg.batch.tables import Rows
from sigseg.inference.batching import Prepared, prepare
from sigseg.inference.sources import ArraySource
from sigseg.inference.windows import LONG_WINDOW, window_options_for


@dataclass
class Loaded:
    """A recording read ahead: ``prepared`` windows for a short one (``source`` holds its
    samples), neither for a long one (streamed later); ``error`` when it could not be read."""

    item: Item
    prepared: Prepared | None = None
    source: ArraySource | None = None
    channels: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


class Job(Protocol):
    """One task's batch work (see the module docstring)."""

    task: str
    tables: tuple[str, ...]
    backend: Any

    def load(self, item: Item) -> Loaded: ...

    def finish(self, loaded: Loaded, probs: np.ndarray) -> Rows: ...

    def stream(self, item: Item) -> Rows: ...


@dataclass(frozen=True)
class JobSpec:
    """How to build a job where it runs (a cluster worker loads its own model): ``kind``
    (``segment`` or ``delineate``), the model file, the backend, the inference threads, the
    job's keyword arguments and the device. Plain values only, so it travels to other machines."""

    kind: str
    model: str
    backend: str
    threads: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables the job writes."""
        return DelineateJob.tables if self.kind == "delineate" else SegmentJob.tables

    def build(self) -> SegmentJob | DelineateJob:
        if self.kind == "segment":
            from sigseg.inference.segment import load_segmenter

            segmenter = load_segmenter(
                self.model, self.backend, device=self.device, threads=self.threads
            )
            return SegmentJob(segmenter, **self.options)
        if self.kind == "delineate":
            from sigseg.inference.backends import load_backend

            backend = load_backend(
                Path(self.model), self.backend, device=self.device, threads=self.threads
            )
            return DelineateJob(backend, **self.options)
        raise ValueError(f"unknown batch job kind {self.kind!r}")


def error_rows(item: Item, err: BaseException) -> Rows:
    """The error row of a recording that failed: one line naming the file."""
    message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if not isinstance(err, ValueError | OSError):
        message = f"{type(err).__name__}: {message}"
    if str(item.path) not in message:
        message = f"{item.path}: {message}"
    return Rows(errors=[{"recording": item.name, "path": str(item.path), "error": message}])


def _load(item: Item, job: Any, open_reader: Callable[[Path], Any], options: Callable) -> Loaded:
    """Open ``item``; read a short recording whole and prepare its windows (the seconds
    this took are counted in its ``seconds``; the runner adds its model and decoding time)."""
    started = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with open_reader(item.path) as reader:
                model_samples = reader.num_samples * job.backend.sampling_rate / reader.fs
                channels = list(reader.channels)
                if model_samples > LONG_WINDOW:
                    return Loaded(item, channels=channels)
                source = ArraySource(reader.read(0, reader.num_samples), reader.fs)
            job.check(source.num_samples, source.fs, channels)
            prepared = prepare(job.backend, source, options(source), key=item.index)
    except Exception as err:  # any unreadable file is recorded, and the run goes on
        return Loaded(item, error=error_rows(item, err).errors[0]["error"])
    said = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    return Loaded(item, prepared, source, channels, said, seconds=time.perf_counter() - started)


def plot_path(folder: Path, item: Item) -> Path:
    """``<folder>/<recording>.png``, the recording's name kept inside the folder (no root,
    no ``..``), its parent folders created."""
    parts = [p for p in PurePosixPath(item.name).parts if p not in ("/", "..", ".")]
    path = folder.joinpath(*parts[:-1], f"{parts[-1] if parts else 'recording'}.png")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _recording_row(
    item: Item, fs: float, n: int, channels: int, events: int, gap_s: float, started: float
) -> dict[str, Any]:
    return {
        "recording": item.name,
        "path": str(item.path),
        "sampling_rate": float(fs),
        "duration_s": n / fs,
        "n_channels": channels,
        "n_events": events,
        "gap_s": gap_s,
        "seconds": time.perf_counter() - started,
    }


# --------------------------------------------------------------------------------------------
# any task: sigseg segment


class SegmentJob:
    """``sigseg segment`` over a batch: events of any trained model."""

    tables = ("events", "recordings", "errors")

    def __init__(
        self,
        segmenter: Any,
        *,
        fs: float | None = None,
        channels: Sequence[str | int] | None = None,
        memory_limit: int | None = None,
        plots: Path | None = None,
    ) -> None:
        from sigseg.inference.segment import segment_window_options

        self.segmenter, self.fs, self.channels = segmenter, fs, channels
        self.plots = plots
        self.backend = segmenter.backend
        self.task = segmenter.task.name
        self.window_options = segment_window_options(segmenter)
        self.memory_limit = memory_limit

    def _open(self, path: Path) -> Any:
        from sigseg.inference.segment import open_for_model

        return open_for_model(self.segmenter, path, self.fs, self.channels)

    def check(self, n: int, fs: float, channels: list[str]) -> None:
        from sigseg.inference.segment import check_channels

        self.segmenter.task.check_input(n, fs)
        check_channels(self.segmenter, channels)

    def load(self, item: Item) -> Loaded:
        return _load(item, self, self._open, lambda _: self.window_options)

    def finish(self, loaded: Loaded, probs: np.ndarray) -> Rows:
        from sigseg.inference.segment import segment_source

        assert loaded.source is not None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = segment_source(
                self.segmenter, loaded.source, channels=loaded.channels, probabilities=probs
            )
        said = [*loaded.warnings, *(str(w.message) for w in caught)]
        if self.plots is not None:
            from sigseg.figures import plot_segmentation
            from sigseg.inference.segment import PLOT_SECONDS

            source = loaded.source
            plot_segmentation(
                source.data[:, : round(PLOT_SECONDS * source.fs)],
                source.fs,
                result.events,
                self.segmenter.task,
                plot_path(self.plots, loaded.item),
                channels=loaded.channels,
                title=loaded.item.name,
            )
        return self._rows(loaded.item, result, len(loaded.channels), time.perf_counter(), said)

    def stream(self, item: Item) -> Rows:
        from sigseg.inference.segment import segment_stream

        started = time.perf_counter()
        with self._open(item.path) as reader:
            if self.segmenter.task.kind == "states":  # held whole until decoded
                self._check_memory(reader)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = segment_stream(self.segmenter, reader, channels=list(reader.channels))
            channels = len(reader.channels)
        return self._rows(item, result, channels, started, [str(w.message) for w in caught])

    def _check_memory(self, reader: Any) -> None:
        """Refuse a recording whose probabilities would not fit in ``memory_limit``."""
        import psutil

        limit = self.memory_limit or psutil.virtual_memory().available // 2
        items = len(reader.channels) if self.backend.in_channels == 1 else 1
        # probabilities (float32 at the model's rate and the input's, float64 decoded), labels
        need = reader.num_samples * items * (self.segmenter.task.num_classes * 16 + 8)
        if need > limit:
            raise ValueError(
                f"too long to segment in memory: {reader.num_samples} samples x {items} "
                f"channel(s) need ~{need / 1e9:.1f} GB, over the {limit / 1e9:.1f} GB allowed"
            )

    def _rows(
        self, item: Item, result: Any, channels: int, started: float, said: list[str]
    ) -> Rows:
        events = result.events
        offsets = events["onset"] + events["duration"]
        rows = [
            {
                "recording": item.name,
                "channel": str(channel),
                "label": str(label),
                "onset": float(onset),
                "offset": float(offset),
                "peak": None if peak is None or peak != peak else float(peak),
                "score": None if score is None or score != score else float(score),
            }
            for channel, label, onset, offset, peak, score in zip(
                events["channel"],
                events["label"],
                events["onset"],
                offsets,
                events["peak"],
                events["probability"],
                strict=True,
            )
        ]
        gap_s = float(result.gaps["duration"].sum()) if len(result.gaps) else 0.0
        n = result.num_samples if hasattr(result, "num_samples") else result.labels.shape[-1]
        record = _recording_row(item, result.fs, n, channels, len(rows), gap_s, started)
        record["warnings"] = "; ".join(said)
        return Rows(events=rows, recordings=[record])


# --------------------------------------------------------------------------------------------
# ECG delineation: sigseg delineate


class DelineateJob:
    """ECG ``sigseg delineate`` over a batch: every lead's waves (and with ``combine_leads``
    the fused ones, channel ``all``) and the per-beat intervals."""

    tables = ("events", "intervals", "recordings", "errors")
    task = "ecg-delineation"

    def __init__(
        self,
        backend: Any,
        *,
        fs: float | None = None,
        combine_leads: bool = False,
        plots: Path | None = None,
    ) -> None:
        self.backend, self.fs, self.combine_leads = backend, fs, combine_leads
        self.plots = plots

    def _open(self, path: Path) -> Any:
        from sigseg.data.readers import open_signal, signal_format

        needs_fs = signal_format(path) in ("csv", "numpy")  # as sigseg delineate reads them
        return open_signal(path, self.fs if needs_fs else None, allow_gaps=True)

    def check(self, n: int, fs: float, channels: list[str]) -> None:
        from sigseg.tasks.ecg import ECG_DELINEATION
        from sigseg.tasks.ecg.pipeline import NOT_ECG

        ECG_DELINEATION.check_input(n, fs)
        foreign = [c for c in channels if NOT_ECG.search(c)]
        if foreign:
            warnings.warn(
                f"channel(s) {', '.join(foreign)} do not look like ECG leads",
                UserWarning,
                stacklevel=2,
            )

    def _options(self, source: ArraySource) -> Any:
        return window_options_for(self.backend, source.num_samples, source.fs)

    def load(self, item: Item) -> Loaded:
        return _load(item, self, self._open, self._options)

    def finish(self, loaded: Loaded, probs: np.ndarray) -> Rows:
        from sigseg.tasks.ecg.delineate import delineate_signal

        assert loaded.source is not None
        result = delineate_signal(
            self.backend,
            loaded.source,
            channels=loaded.channels,
            combine_leads=self.combine_leads,
            probabilities=probs,
        )
        groups = [
            (result.channels[lead], result.lead_waves(lead)) for lead in range(len(result.channels))
        ]
        if result.fused is not None:
            groups.append(("all", result.fused))
        if self.plots is not None:
            self._plot(loaded, result)
        return self._rows(
            loaded.item,
            groups,
            result.fs,
            loaded.source.num_samples,
            len(loaded.channels),
            sum(g.num_samples for g in result.gaps) / result.fs,
            time.perf_counter(),
            loaded.warnings,
        )

    def _plot(self, loaded: Loaded, result: Any) -> None:
        from sigseg.tasks.ecg.outputs import plot_delineation
        from sigseg.tasks.ecg.pipeline import PLOT_SECONDS

        assert loaded.source is not None
        n = min(loaded.source.num_samples, round(PLOT_SECONDS * result.fs))
        waves = [w for w in [*result.waves, *(result.fused or [])] if (w.onset or 0) < n]
        plot_delineation(
            plot_path(self.plots, loaded.item),
            loaded.source.data[:, :n],
            result.fs,
            sorted(waves, key=lambda w: (w.lead is None, w.lead or 0)),
            loaded.channels,
            title=f"{loaded.item.name} (first {n / result.fs:.0f} s)",
            gaps=[g for g in result.gaps if g.onset < n],
        )

    def stream(self, item: Item) -> Rows:
        from sigseg.tasks.ecg.delineate import iter_delineate
        from sigseg.tasks.ecg.streaming import BeatStream

        started = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with self._open(item.path) as reader:
                channels = list(reader.channels)
                self.check(reader.num_samples, reader.fs, channels)
                options = window_options_for(self.backend, reader.num_samples, reader.fs)
                gap_samples = 0

                def gaps_ended(gaps: list[Any]) -> None:
                    nonlocal gap_samples
                    gap_samples += sum(g.num_samples for g in gaps)

                names = [*channels, "all"]
                beats: dict[int | None, BeatStream] = {}
                rows = Rows()
                for waves in iter_delineate(
                    self.backend,
                    reader,
                    combine_leads=self.combine_leads,
                    window_options=options,
                    on_gaps=gaps_ended,
                ):
                    by_lead: dict[int | None, list[Any]] = {}
                    for w in waves:
                        by_lead.setdefault(w.lead, []).append(w)
                    for lead, lead_waves in by_lead.items():
                        name = names[-1 if lead is None else lead]
                        stream = beats.setdefault(lead, BeatStream(reader.fs))
                        rows.events += _wave_rows(item, name, lead_waves, reader.fs)
                        rows.intervals += _interval_rows(item, name, stream.push(lead_waves))
                    rows.pack()
                for lead, stream in beats.items():
                    name = names[-1 if lead is None else lead]
                    rows.intervals += _interval_rows(item, name, stream.finish())
                fs, n = reader.fs, reader.num_samples
        said = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
        record = _recording_row(
            item, fs, n, len(channels), rows.count("events"), gap_samples / fs, started
        )
        record["warnings"] = "; ".join(said)
        rows.recordings.append(record)
        return rows

    def _rows(
        self,
        item: Item,
        groups: list[tuple[str, list[Any]]],
        fs: float,
        n: int,
        channels: int,
        gap_s: float,
        started: float,
        said: list[str],
    ) -> Rows:
        from sigseg.tasks.ecg.waves import beat_intervals

        rows = Rows()
        for name, waves in groups:
            rows.events += _wave_rows(item, name, waves, fs)
            rows.intervals += _interval_rows(item, name, beat_intervals(waves, fs))
        record = _recording_row(item, fs, n, channels, len(rows.events), gap_s, started)
        record["warnings"] = "; ".join(said)
        rows.recordings.append(record)
        return rows


def _wave_rows(item: Item, channel: str, waves: Sequence[Any], fs: float) -> list[dict[str, Any]]:
    """Event rows of ECG waves: the onset's time, the end of the offset sample, the peak's."""
    return [
        {
            "recording": item.name,
            "channel": channel,
            "label": w.kind,
            "onset": w.onset / fs,
            "offset": (w.offset + 1) / fs,
            "peak": None if w.peak is None else w.peak / fs,
            "score": w.score,
        }
        for w in waves
    ]


def _interval_rows(item: Item, lead: str, beats: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"recording": item.name, "lead": lead, **beat} for beat in beats]
