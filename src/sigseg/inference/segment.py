"""Segment any recording with any trained model: probabilities, decoded events, and the
files ``sigseg segment`` writes.

The model's checkpoint (or ONNX file) carries its :class:`~sigseg.tasks.Task`, so nothing
else is needed: the class names and label kind say how to decode, the trained channel names
which channels to pick, the rate what to resample to.

    >>> import numpy as np, sigseg
    >>> events = sigseg.segment(np.random.randn(2, 5000), fs=250.0, model="run/best.safetensors")
    ... # doctest: +SKIP
    >>> events.columns.tolist()  # doctest: +SKIP
    ['onset', 'duration', 'label', 'peak', 'probability', 'channel']
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sigseg.data.events import EVENT_COLUMNS as TABLE_COLUMNS
from sigseg.data.events import SIDECAR_SUFFIX
from sigseg.data.gaps import Gap, GapRuns, GapScanner, check_usable, clear_of_gaps, cut_at_gaps
from sigseg.data.readers import signal_stem
from sigseg.data.record import Wave
from sigseg.inference.decode import class_probabilities, decode, events_to_labels
from sigseg.inference.predict import predict_long
from sigseg.inference.sources import SignalSource, as_source
from sigseg.inference.windows import WindowOptions, long_window_options
from sigseg.tasks import Task
from sigseg.tasks.base import IGNORE_INDEX

_SCAN_BLOCK = 1 << 20  # samples per block when a source is scanned for gaps
PLOT_SECONDS = 10.0
"""Seconds of each recording ``sigseg segment`` plots."""

EVENT_COLUMNS = (*TABLE_COLUMNS, "peak", "probability", "channel")
"""Columns of an events table: times in seconds (BIDS events style), the class, the time of
the event's most probable sample, its mean probability and the channel it was found on
(``all`` when the model reads every channel at once)."""
GAP_COLUMNS = ("onset", "duration", "kind", "channel")
"""Columns of a gaps table: the stretches of a channel with no signal (NaN/Inf samples, kind
``missing``), in seconds as events are; a gap of ``n`` samples lasts ``n / fs``."""


@dataclass(frozen=True)
class Segmenter:
    """A loaded model (a :class:`~sigseg.inference.backends.Backend`) and its task."""

    backend: Any
    task: Task

    @property
    def in_channels(self) -> int:
        return int(self.backend.in_channels)


@dataclass(frozen=True)
class Segmentation:
    """One recording's result: ``events`` (a table with :data:`EVENT_COLUMNS`),
    ``probabilities`` ``(items, K, L)`` and decoded ``labels`` ``(items, L)`` at the input's
    rate, one item per channel for a single-channel model run on several channels, else one;
    ``channels`` names the items. ``gaps`` (a table with :data:`GAP_COLUMNS`) lists the
    stretches of each input channel with no signal: there the probabilities are NaN and the
    labels :data:`~sigseg.tasks.base.IGNORE_INDEX`, and no event covers or touches one."""

    events: pd.DataFrame
    probabilities: np.ndarray
    labels: np.ndarray
    channels: tuple[str, ...]
    fs: float
    gaps: pd.DataFrame = dataclasses.field(
        default_factory=lambda: pd.DataFrame(columns=list(GAP_COLUMNS))
    )


def load_segmenter(
    model: str | os.PathLike[str] | None = None,
    backend: str = "torch",
    *,
    device: str = "cpu",
    threads: int | None = None,
) -> Segmenter:
    """The model a ``--model`` value names (a checkpoint, an ONNX file or a shipped
    pretrained name; ``None``: the default pretrained model) and the task it carries."""
    from sigseg.inference.backends import load_backend
    from sigseg.pretrained import resolve_model

    path = resolve_model(None if model is None else str(model))
    runner = load_backend(path, backend, device=device, threads=threads)
    return Segmenter(runner, _model_task(path, runner))


def _model_task(path: Path, runner: Any) -> Task:
    """The task a checkpoint or an exported ONNX file carries (files from before tasks
    existed: :func:`sigseg.checkpoint.default_task`). An ONNX file's description is the one
    its backend already read; a checkpoint's header is read (its ONNX export, if the backend
    runs one, carries no task)."""
    from sigseg.checkpoint import default_task, read_info

    if path.suffix.lower() != ".onnx":
        return read_info(path).task
    description = runner.description
    if "task" in description:
        return Task.from_dict(description["task"], source=f"{path}: task")
    return default_task(int(description["config"]["num_classes"]))


def open_for_model(
    segmenter: Segmenter,
    path: Path,
    fs: float | None = None,
    channels: Sequence[str | int] | None = None,
) -> Any:
    """Open ``path`` with the channels to segment: the ``channels`` asked for, else the
    model's trained channels when the file has them all by name (so a file with more channels,
    or a PSG file mixing rates, needs no flag), else every channel."""
    from sigseg.data.readers import open_signal

    if channels:
        return open_signal(path, fs=fs, channels=list(channels), allow_gaps=True)
    trained = segmenter.task.channels
    if trained and len(trained) == segmenter.in_channels:
        try:
            return open_signal(path, fs=fs, channels=list(trained), allow_gaps=True)
        except ValueError:  # named otherwise: read them all (a real fault is raised below)
            pass
    return open_signal(path, fs=fs, allow_gaps=True)


def check_channels(segmenter: Segmenter, names: Sequence[str]) -> list[str]:
    """Refuse a channel count the model cannot take (one line); return warnings when the
    names differ from the ones it was trained on."""
    n, wanted = len(names), segmenter.in_channels
    if n != wanted and wanted != 1:
        trained = f" ({', '.join(segmenter.task.channels)})" if segmenter.task.channels else ""
        raise ValueError(f"the model takes {wanted} channel(s){trained}; the input has {n}")
    trained = segmenter.task.channels
    if trained and n == wanted and list(names) != list(trained):
        return [
            f"channel names {', '.join(names)} differ from the ones the model was trained on "
            f"({', '.join(trained)})"
        ]
    return []


def _checked_source(
    segmenter: Segmenter,
    source: np.ndarray | SignalSource,
    fs: float | None,
    channels: Sequence[str] | None,
) -> tuple[SignalSource, list[str]]:
    """The source, checked against the task's minimum input, and its channel names, with a
    warning (pointing at the caller's caller) for each name the model was not trained on."""
    src = as_source(source, fs)
    segmenter.task.check_input(src.num_samples, src.fs)
    names = _channel_names(segmenter, channels, int(src.read(0, 1).shape[0]))
    for message in check_channels(segmenter, names):
        warnings.warn(message, UserWarning, stacklevel=3)
    return src, names


def segment_source(
    segmenter: Segmenter,
    source: np.ndarray | SignalSource,
    fs: float | None = None,
    *,
    channels: Sequence[str] | None = None,
    window_options: WindowOptions | None = None,
    probabilities: np.ndarray | None = None,
) -> Segmentation:
    """Probabilities, labels and events for a ``(C, L)`` signal (or a reader) at any rate.

    NaN/Inf stretches are gaps: the model reads the straight line across them
    (:func:`~sigseg.data.gaps.fill_gaps`), and what it makes of it is masked. An event that
    covers or touches a gap is dropped (``segments``, ``events``: the gap may have cut it);
    ``states`` lose the gap's samples only (a state goes on up to the gap). Only a recording
    with no finite sample is refused. Flat stretches are signal here (a generic signal may
    rest); ECG delineation treats a lead stuck at one value as off too. ``probabilities``:
    what the model already gave for this source (a batched run,
    :mod:`sigseg.inference.batching`), as :func:`~sigseg.inference.predict.predict_long`
    gives them with :func:`segment_window_options`; ``None``: run the model here."""
    src, names = _checked_source(segmenter, source, fs, channels)
    gaps, usable = _nan_gaps(src)
    check_usable(usable, names)
    probs = probabilities
    if probs is None:
        options = window_options or segment_window_options(segmenter)
        probs = predict_long(segmenter.backend, src, options=options, fill_gaps=True)
    per_channel = probs.ndim == 3
    items = probs if per_channel else probs[None]
    item_names = tuple(names) if per_channel else ("all",)
    masks = _gap_masks(gaps, src.num_samples, len(names), per_channel)
    rows, labels, per_item = [], [], []
    points = segmenter.task.kind == "events"
    for name, raw, mask in zip(item_names, items, masks, strict=True):
        p = class_probabilities(raw, segmenter.task).astype(np.float32)  # K = 1: [1-p, p]
        found = _decode_around(p, mask, src.fs, segmenter.task)
        label = events_to_labels(found, p.shape[-1], segmenter.task)
        if mask.any():
            p[:, mask] = np.nan
            label[mask] = IGNORE_INDEX
        per_item.append(p)
        labels.append(label)
        rows.extend(_event_row(w, src.fs, name, points) for w in found)
    events = pd.DataFrame(rows, columns=list(EVENT_COLUMNS))
    events = events.sort_values(["onset", "channel"], kind="stable").reset_index(drop=True)
    gap_table = _gap_table(gaps, names, src.fs)
    return Segmentation(
        events, np.stack(per_item), np.stack(labels), item_names, float(src.fs), gap_table
    )


@dataclass(frozen=True)
class StreamedSegmentation:
    """What :func:`segment_stream` gives: the ``events`` and ``gaps`` tables of
    :class:`Segmentation`, the rate and the length in samples (no probabilities)."""

    events: pd.DataFrame
    gaps: pd.DataFrame
    fs: float
    num_samples: int
    channels: tuple[str, ...]


def segment_stream(
    segmenter: Segmenter,
    source: np.ndarray | SignalSource,
    fs: float | None = None,
    *,
    channels: Sequence[str] | None = None,
    window_options: WindowOptions | None = None,
) -> StreamedSegmentation:
    """:func:`segment_source`'s events and gaps in one streaming pass and bounded memory:
    the probabilities come block by block (:func:`~sigseg.inference.predict.
    iter_predict_long`), the gaps are found in the same blocks, and the events are decoded
    as soon as they are final (:class:`~sigseg.inference.streaming.EventStream`; a
    ``states`` task holds its probabilities until the end). The events equal
    :func:`segment_source`'s."""
    from sigseg.inference.ahead import ahead
    from sigseg.inference.predict import iter_predict_long
    from sigseg.inference.streaming import EventStream

    src, names = _checked_source(segmenter, source, fs, channels)
    scanner = GapScanner(src)
    runs = GapRuns(len(names))
    gaps: list[Gap] = []
    streams: list[EventStream] = []
    found: list[tuple[str, Wave]] = []
    item_names: tuple[str, ...] = ()
    options = window_options or segment_window_options(segmenter)
    blocks = iter_predict_long(segmenter.backend, src, options=options, fill_gaps=True)
    for start, block in ahead(blocks):  # the next block runs while this one is decoded
        items = block if block.ndim == 3 else block[None]
        _, codes = scanner.read(start, start + items.shape[-1])
        gaps += runs.push(codes)
        if not streams:
            item_names = tuple(names) if block.ndim == 3 else ("all",)
            streams = [EventStream(segmenter.task, src.fs) for _ in item_names]
        masks = codes != 0 if block.ndim == 3 else (codes != 0).any(axis=0, keepdims=True)
        for name, stream, probs, mask in zip(item_names, streams, items, masks, strict=True):
            found += [(name, w) for w in stream.push(probs, mask)]
    gaps += runs.finish()
    check_usable(runs.usable, names)
    for name, stream in zip(item_names, streams, strict=True):
        found += [(name, w) for w in stream.finish()]
    points = segmenter.task.kind == "events"
    rows = [_event_row(w, src.fs, name, points) for name, w in found]
    events = pd.DataFrame(rows, columns=list(EVENT_COLUMNS))
    events = events.sort_values(["onset", "channel"], kind="stable").reset_index(drop=True)
    gaps.sort(key=lambda g: (g.lead, g.onset))
    return StreamedSegmentation(
        events, _gap_table(gaps, names, src.fs), float(src.fs), src.num_samples, item_names
    )


def _channel_names(segmenter: Segmenter, channels: Sequence[str] | None, n: int) -> list[str]:
    """The names of a source's ``n`` channels: those given, else the model's trained ones
    (an unnamed array with as many channels), else ``ch0``, ``ch1``..."""
    trained = list(segmenter.task.channels)
    if channels is not None:
        names = list(channels)
    elif len(trained) == n:
        names = trained
    else:
        names = [f"ch{i}" for i in range(n)]
    if len(names) != n:
        raise ValueError(f"{len(names)} channel names for {n} channels")
    return names


def _gap_table(gaps: Sequence[Gap], names: Sequence[str], fs: float) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "onset": g.onset / fs,
                "duration": g.num_samples / fs,
                "kind": g.kind,
                "channel": names[g.lead],
            }
            for g in gaps
        ],
        columns=list(GAP_COLUMNS),
    )


def segment_window_options(segmenter: Segmenter) -> WindowOptions:
    """The windows :func:`segment_source` runs: long windows with just enough overlap for
    the model's receptive field (:func:`~sigseg.inference.windows.long_window_options`)."""
    return long_window_options(segmenter.backend)


def _nan_gaps(src: SignalSource) -> tuple[list[Gap], np.ndarray]:
    """The NaN/Inf gaps of a source, by channel and time, and each channel's usable count."""
    scanner = GapScanner(src)
    runs: GapRuns | None = None
    gaps: list[Gap] = []
    for start in range(0, src.num_samples, _SCAN_BLOCK):
        _, codes = scanner.read(start, min(src.num_samples, start + _SCAN_BLOCK))
        runs = runs or GapRuns(codes.shape[0])
        gaps += runs.push(codes)
    assert runs is not None
    gaps += runs.finish()
    return sorted(gaps, key=lambda g: (g.lead, g.onset)), runs.usable


def _gap_masks(gaps: list[Gap], length: int, channels: int, per_channel: bool) -> np.ndarray:
    """``(items, length)``: each channel's gap samples, or (one item reads every channel) the
    samples where any channel is in a gap."""
    masks = np.zeros((channels if per_channel else 1, length), dtype=bool)
    for g in gaps:
        masks[g.lead if per_channel else 0, g.onset : g.offset + 1] = True
    return masks


def _decode_around(probs: np.ndarray, gaps: np.ndarray, fs: float, task: Task) -> list[Wave]:
    """:func:`~sigseg.inference.decode.decode` with the ``gaps`` samples masked: read as
    background, and the events that cover or touch them dropped; ``states`` (no background)
    are cut at the gaps instead."""
    if not gaps.any():
        return decode(probs, fs, task)
    if task.kind == "states":
        return cut_at_gaps(decode(probs, fs, task), gaps, probs, task.classes)
    masked = probs.copy()
    masked[:, gaps] = 0.0
    masked[0, gaps] = 1.0
    return clear_of_gaps(decode(masked, fs, task), gaps)


def _event_row(wave: Wave, fs: float, channel: str, point: bool) -> dict[str, Any]:
    """A table row in seconds; an interval of ``n`` samples lasts ``n / fs``, a point 0."""
    onset = int(wave.onset or 0)
    duration = 0.0 if point else (int(wave.offset or onset) + 1 - onset) / fs
    peak = None if wave.peak is None else wave.peak / fs
    return {
        "onset": onset / fs,
        "duration": duration,
        "label": wave.kind,
        "peak": peak,
        "probability": wave.score,
        "channel": channel,
    }


def segment(
    signal: np.ndarray,
    fs: float,
    model: str | os.PathLike[str] | Segmenter | None = None,
    *,
    channels: Sequence[str] | None = None,
    probabilities: bool = False,
    backend: str = "torch",
) -> pd.DataFrame | tuple[pd.DataFrame, np.ndarray]:
    """Events of a ``(C, L)`` (or ``(L,)``) signal sampled at ``fs`` Hz as a DataFrame with
    :data:`EVENT_COLUMNS` (seconds). ``model``: a checkpoint, an ONNX file, a pretrained name
    or a :class:`Segmenter` (``None``: the default pretrained model). ``channels`` names the
    signal's rows (compared with the model's trained names). With ``probabilities=True``,
    also returns the ``(items, K, L)`` class probabilities at ``fs``."""
    segmenter = model if isinstance(model, Segmenter) else load_segmenter(model, backend)
    result = segment_source(segmenter, signal, fs, channels=channels)
    return (result.events, result.probabilities) if probabilities else result.events


def segment_file(
    segmenter: Segmenter,
    path: str | os.PathLike[str],
    out_dir: Path,
    *,
    fs: float | None = None,
    channels: Sequence[str | int] | None = None,
    samples: bool = False,
    plot: bool = True,
) -> tuple[list[Path], list[str]]:
    """Segment one file (in one streaming pass and bounded memory, :func:`segment_stream`,
    unless ``samples`` asks for per-sample outputs) and write ``<stem>_events.tsv`` (BIDS
    events: onset, duration, label,
    peak, probability, channel), ``<stem>_gaps.tsv`` (its NaN/Inf stretches: onset, duration,
    kind, channel; a header alone when there are none), on request ``<stem>_samples.npz``
    (per-sample ``labels``, ``probabilities`` and ``classes``, no pickles) and a ``<stem>.png``
    plot. Returns the files written and the warnings raised."""
    from sigseg.atomic import atomic_path, write_text
    from sigseg.data.events import write_events_tsv
    from sigseg.figures import plot_segmentation

    path = Path(path)
    with open_for_model(segmenter, path, fs, channels) as reader:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # per-sample outputs need the whole probabilities; events alone stream
            run = segment_source if samples else segment_stream
            result = run(segmenter, reader, channels=list(reader.channels))
        plot_signal = reader.read(0, min(reader.num_samples, round(PLOT_SECONDS * reader.fs)))
    stem = signal_stem(path)  # AAF_golf.arff.gz -> AAF_golf
    written = [out_dir / f"{stem}{SIDECAR_SUFFIX}", out_dir / f"{stem}_gaps.tsv"]
    write_events_tsv(result.events, written[0])
    write_text(
        written[1],
        result.gaps.to_csv(sep="\t", index=False, float_format="%.6f", lineterminator="\n"),
    )
    if samples:
        written.append(out_dir / f"{stem}_samples.npz")
        with atomic_path(written[-1]) as tmp, open(tmp, "wb") as f:
            np.savez_compressed(
                f,
                labels=result.labels.astype(np.int16),
                probabilities=result.probabilities.astype(np.float32),
                classes=np.array(segmenter.task.classes),
                channels=np.array(result.channels),
                fs=np.float64(result.fs),
            )
    if plot:
        written.append(out_dir / f"{stem}.png")
        plot_segmentation(
            plot_signal,
            result.fs,
            result.events,
            segmenter.task,
            written[-1],
            channels=list(reader.channels),
            title=stem,
        )
    return written, [str(w.message) for w in caught]


def prepare_output_folder(out: Path) -> None:
    """Create ``out`` and check it is writable, so a bad ``--out`` fails before any work."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"{out}: cannot create output folder ({err.strerror})") from None
    probe = out / ".sigseg-write-test"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise ValueError(f"{out}: output folder is not writable ({err.strerror})") from None


def segment_files(
    segmenter: Segmenter,
    inputs: Sequence[str | os.PathLike[str]],
    out_dir: Path,
    *,
    fs: float | None = None,
    channels: Sequence[str | int] | None = None,
    samples: bool = False,
    plot: bool = True,
) -> Iterator[tuple[Path, list[Path] | str, list[str]]]:
    """Segment many files into ``out_dir``, going on past a bad one: yields ``(input, files
    written or the one-line error, warnings)`` per input. Two inputs with the same stem are
    refused rather than one overwriting the other's files."""
    prepare_output_folder(out_dir)
    taken: dict[str, Path] = {}
    for item in inputs:
        path = Path(item)
        stem = signal_stem(path)
        if stem in taken:
            yield path, f"{path}: output name {stem!r} is already taken by {taken[stem]}", []
            continue
        taken[stem] = path
        try:
            written, warned = segment_file(
                segmenter, path, out_dir, fs=fs, channels=channels, samples=samples, plot=plot
            )
        except (ValueError, OSError) as err:
            message = str(err)
            yield path, message if str(path) in message else f"{path}: {message}", []
            continue
        yield path, written, warned
