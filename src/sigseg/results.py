"""What ``sigseg segment``, ``sigseg delineate`` and a batch run wrote, read back per
recording, for the viewer (:mod:`sigseg.view`) and the report (:mod:`sigseg.report`).

One :class:`RecordingResult` per recording holds its events, gaps and (ECG) beat intervals as
frames in seconds, whatever file they came from:

* ``<stem>_events.tsv`` (``sigseg segment``; BIDS events: onset, duration, label, peak,
  channel), with ``<stem>_gaps.tsv`` beside it;
* ``<name>_waves.csv`` (``sigseg delineate``: lead, kind, samples and seconds), with
  ``<name>_intervals.csv`` and ``<name>_gaps.csv`` beside it;
* a batch run folder: ``events.parquet`` (recording, channel, label, onset, offset, peak,
  score; seconds), ``recordings.parquet``, ``intervals.parquet`` (ECG), ``gaps.parquet`` when
  there is one, and ``run.json``;
* a folder of ``segment``/``delineate`` outputs (every recording in it);
* WFDB annotations ``<record>.<annotator>`` (a reference, such as LUDB's ``<record>.i``):
  LUDB-style wave marks read as P, QRS and T events on the lead the annotator names.

:func:`check_belongs` refuses, in one line, results that cannot be a recording's: events past
its end, another sampling rate, another length.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sigseg.data.events import SIDECAR_SUFFIX, read_events_tsv

EVENT_FIELDS = ("onset", "offset", "label", "channel", "peak")
"""Columns of :attr:`RecordingResult.events`: times in seconds (``offset == onset`` for a
point event), the class, the channel it was found on (``all``: every channel at once)."""
GAP_FIELDS = ("onset", "offset", "kind", "channel")
INTERVAL_FIELDS = ("time", "channel", "rr_ms", "pr_ms", "qrs_ms", "qt_ms", "qtc_bazett_ms")
"""Columns of :attr:`RecordingResult.intervals`: one ECG beat a row, ``time`` its QRS onset
(seconds)."""
ALL_CHANNELS = "all"
WAVES_SUFFIX = "_waves.csv"
RUN_FILES = ("events.parquet", "run.json")
"""A folder holding either of these is a batch run."""
LUDB_LABELS = {"p": "P", "N": "QRS", "t": "T"}
"""LUDB's peak symbols and the ECG classes they mark."""


@dataclass
class RecordingResult:
    """One recording's results: ``events``, ``gaps`` and ``intervals`` frames (see the
    ``*_FIELDS`` tuples), where they came from, and what they say of the recording (its
    sampling rate, length and signal file, when the source records them)."""

    name: str
    source: Path
    events: pd.DataFrame
    gaps: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(GAP_FIELDS)))
    intervals: pd.DataFrame | None = None
    fs: float | None = None
    num_samples: int | None = None
    signal_path: Path | None = None
    task: str | None = None

    @property
    def labels(self) -> list[str]:
        """The classes found, in order of first appearance."""
        return list(dict.fromkeys(self.events["label"].astype(str)))


def load_results(path: str | Path) -> list[RecordingResult]:
    """Every recording's results under ``path`` (a file or folder of the kinds the module
    lists), sorted by name. A missing path, or one holding no results, is a one-line error."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.is_dir():
        if any((path / name).is_file() for name in RUN_FILES):
            return _read_run(path)
        found = sorted(path.glob(f"*{SIDECAR_SUFFIX}")) + sorted(path.glob(f"*{WAVES_SUFFIX}"))
        if not found:
            raise ValueError(
                f"{path}: no results in it (no *{SIDECAR_SUFFIX}, *{WAVES_SUFFIX}, or a batch "
                "run's events.parquet)"
            )
        return sorted((_read_file(p) for p in found), key=lambda r: r.name)
    return [_read_file(path)]


def results_for(path: str | Path, recording: str) -> RecordingResult:
    """The results of the recording named ``recording`` under ``path``: the only one in a
    file, or the one of that name in a folder (a one-line error lists the names there)."""
    found = load_results(path)
    if len(found) == 1 and not Path(path).is_dir():
        return found[0]
    for result in found:  # a batch run names a recording by its path under an input folder
        if recording in (result.name, Path(result.name).name):
            return result
    names = ", ".join(r.name for r in found[:10]) + (" ..." if len(found) > 10 else "")
    raise ValueError(f"{path}: no results for recording {recording!r} (it has {names})")


def _read_file(path: Path) -> RecordingResult:
    name = path.name
    if name.endswith(SIDECAR_SUFFIX):
        return _read_events_tsv(path)
    if name.endswith(WAVES_SUFFIX):
        return _read_waves_csv(path)
    if path.suffix.lower() in (".tsv", ".csv", ".parquet"):
        raise ValueError(
            f"{path}: not a results file (expected <stem>{SIDECAR_SUFFIX}, <name>{WAVES_SUFFIX} "
            "or a batch run folder)"
        )
    base = path.with_suffix("")
    if base.with_name(base.name + ".hea").is_file():
        return _read_wfdb_annotations(path)
    raise ValueError(
        f"{path}: not a results file (expected <stem>{SIDECAR_SUFFIX}, <name>{WAVES_SUFFIX}, "
        "WFDB annotations <record>.<annotator> or a batch run folder)"
    )


def _events(frame: pd.DataFrame) -> pd.DataFrame:
    """An :data:`EVENT_FIELDS` frame sorted by onset, index from 0."""
    out = pd.DataFrame(
        {
            "onset": frame["onset"].astype(float).to_numpy(),
            "offset": frame["offset"].astype(float).to_numpy(),
            "label": frame["label"].astype(str).to_numpy(),
            "channel": frame["channel"].astype(str).to_numpy(),
            "peak": pd.to_numeric(frame["peak"], errors="coerce").astype(float).to_numpy(),
        }
    )
    return out.sort_values(["onset", "channel"], kind="stable").reset_index(drop=True)


def _gaps(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({k: frame[k].to_numpy() for k in GAP_FIELDS})
    out["onset"], out["offset"] = out["onset"].astype(float), out["offset"].astype(float)
    return out.reset_index(drop=True)


def _read_events_tsv(path: Path) -> RecordingResult:
    table = read_events_tsv(path)
    frame = pd.DataFrame(
        {
            "onset": table["onset"],
            "offset": table["onset"] + table["duration"],
            "label": table["label"],
            "channel": table.get("channel", ALL_CHANNELS),
            "peak": table.get("peak", math.nan),
        }
    )
    stem = path.name[: -len(SIDECAR_SUFFIX)]
    gaps_path = path.with_name(f"{stem}_gaps.tsv")
    gaps = pd.DataFrame(columns=list(GAP_FIELDS))
    if gaps_path.is_file():
        raw = pd.read_csv(gaps_path, sep="\t")
        raw["offset"] = raw["onset"] + raw["duration"]
        gaps = _gaps(raw)
    return RecordingResult(stem, path, _events(frame), gaps)


def _read_waves_csv(path: Path) -> RecordingResult:
    """``sigseg delineate``'s wave table: the sampling rate is what its sample and seconds
    columns say together."""
    waves = _read_csv(path, ("lead", "kind", "onset", "offset", "onset_s", "offset_s"))
    fs = _rate(waves, path)
    last = waves["offset"].astype(float)
    frame = pd.DataFrame(
        {
            "onset": waves["onset_s"],
            "offset": (last + 1) / fs if fs else waves["offset_s"],
            "label": waves["kind"],
            "channel": waves["lead"],
            "peak": waves.get("peak_s", math.nan),
        }
    )
    name = path.name[: -len(WAVES_SUFFIX)]
    gaps = pd.DataFrame(columns=list(GAP_FIELDS))
    gaps_path = path.with_name(f"{name}_gaps.csv")
    if gaps_path.is_file():
        raw = _read_csv(gaps_path, ("lead", "kind", "onset_s", "duration_s"))
        gaps = _gaps(
            pd.DataFrame(
                {
                    "onset": raw["onset_s"],
                    "offset": raw["onset_s"] + raw["duration_s"],
                    "kind": raw["kind"],
                    "channel": raw["lead"],
                }
            )
        )
    intervals = None
    intervals_path = path.with_name(f"{name}_intervals.csv")
    if intervals_path.is_file() and fs:
        raw = _read_csv(intervals_path, ("lead", "qrs_onset"))
        intervals = _intervals(raw, raw["qrs_onset"].astype(float) / fs, raw["lead"])
    return RecordingResult(name, path, _events(frame), gaps, intervals, fs=fs, task="ecg")


def _intervals(raw: pd.DataFrame, time: pd.Series, channel: pd.Series) -> pd.DataFrame:
    out = pd.DataFrame({"time": time.to_numpy(), "channel": channel.astype(str).to_numpy()})
    for column in INTERVAL_FIELDS[2:]:
        values = raw.get(column, math.nan)
        out[column] = pd.to_numeric(values, errors="coerce")
    return out


def _read_csv(path: Path, needed: tuple[str, ...]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"{path}: not a readable CSV table ({exc})") from exc
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: no column(s) {', '.join(missing)}")
    return frame


def _rate(waves: pd.DataFrame, path: Path) -> float | None:
    """The sampling rate a wave table's samples and seconds imply (``None`` without a wave
    past 0 s); two rates in one table are an error."""
    seconds = waves["onset_s"].astype(float).to_numpy()
    samples = waves["onset"].astype(float).to_numpy()
    keep = seconds > 0.05
    if not keep.any():
        return None
    rates = samples[keep] / seconds[keep]
    fs = float(np.median(rates))
    if np.any(np.abs(rates - fs) > 1e-3 * fs):  # seconds are written to 6 decimals
        raise ValueError(f"{path}: its sample and seconds columns disagree on the sampling rate")
    return round(fs, 3)


def _read_wfdb_annotations(path: Path) -> RecordingResult:
    from sigseg.data.events import read_wfdb_events

    base = path.with_suffix("")
    table = read_wfdb_events(base, path.suffix[1:])
    labels = table["label"].map(lambda s: LUDB_LABELS.get(s, s))
    frame = pd.DataFrame(
        {
            "onset": table["onset"],
            "offset": table["onset"] + table["duration"],
            "label": labels,
            "channel": path.suffix[1:],
            "peak": table.get("peak", math.nan),
        }
    )
    return RecordingResult(base.name, path, _events(frame), signal_path=base)


def _read_run(folder: Path) -> list[RecordingResult]:
    """A batch run's tables, split by recording."""
    events_path = folder / "events.parquet"
    if not events_path.is_file():
        raise FileNotFoundError(f"{events_path}: no such file (a batch run writes it)")
    events = _read_parquet(events_path, ("recording", "channel", "label", "onset", "offset"))
    recordings = _optional_parquet(folder / "recordings.parquet")
    intervals = _optional_parquet(folder / "intervals.parquet")
    gaps = _optional_parquet(folder / "gaps.parquet")
    task = _run_task(folder / "run.json")
    names = list(dict.fromkeys(events["recording"].astype(str)))
    if recordings is not None and "recording" in recordings:
        names = list(dict.fromkeys([*recordings["recording"].astype(str), *names]))
    if "peak" not in events:
        events["peak"] = math.nan
    results = []
    for name in names:
        rows = events[events["recording"].astype(str) == name]
        result = RecordingResult(name, folder, _events(rows), task=task)
        if recordings is not None and "recording" in recordings:
            _describe(result, recordings[recordings["recording"].astype(str) == name])
        lead = next(
            (c for c in ("lead", "channel") if intervals is not None and c in intervals), None
        )
        if intervals is not None and lead is not None and "recording" in intervals:
            beats = intervals[intervals["recording"].astype(str) == name]
            time = _interval_time(beats, result.fs)
            if time is not None:
                result.intervals = _intervals(beats, time, beats[lead])
        if gaps is not None and set(GAP_FIELDS) | {"recording"} <= set(gaps.columns):
            result.gaps = _gaps(gaps[gaps["recording"].astype(str) == name])
        results.append(result)
    return results


def _interval_time(beats: pd.DataFrame, fs: float | None) -> pd.Series | None:
    """A beat's time in seconds: a ``time``/``qrs_onset_s`` column, else its QRS onset
    sample over the rate."""
    for column in ("time", "qrs_onset_s", "onset"):
        if column in beats:
            return beats[column].astype(float)
    if "qrs_onset" in beats and fs:
        return beats["qrs_onset"].astype(float) / fs
    return None


def _describe(result: RecordingResult, row: pd.DataFrame) -> None:
    """Fill in a recording's rate, length and signal file from its ``recordings`` row
    (:data:`sigseg.batch.tables.RECORDINGS`)."""
    if row.empty:
        return
    first = row.iloc[0]
    if "sampling_rate" in row and pd.notna(first["sampling_rate"]):
        result.fs = float(first["sampling_rate"])
        if "duration_s" in row and pd.notna(first["duration_s"]):
            result.num_samples = round(float(first["duration_s"]) * result.fs)
    if "path" in row and isinstance(first["path"], str) and first["path"]:
        result.signal_path = Path(first["path"])


def _read_parquet(path: Path, needed: tuple[str, ...]) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except ImportError as exc:
        raise ValueError(f"{path}: reading Parquet needs pyarrow (pip install pyarrow)") from exc
    except Exception as exc:  # pyarrow raises assorted types on a damaged file
        raise ValueError(f"{path}: not a readable Parquet table ({exc})") from exc
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: no column(s) {', '.join(missing)}")
    return frame


def _optional_parquet(path: Path) -> pd.DataFrame | None:
    return _read_parquet(path, ()) if path.is_file() else None


def _run_task(path: Path) -> str | None:
    if not path.is_file():
        return None
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a readable JSON file ({exc})") from exc
    task = run.get("task") if isinstance(run, dict) else None
    if isinstance(task, dict):
        task = task.get("name")
    return str(task) if task else None


def check_belongs(
    result: RecordingResult, fs: float, num_samples: int, what: str = "predictions"
) -> None:
    """Refuse ``result`` for a recording of ``num_samples`` at ``fs`` Hz in one line: another
    rate or length where the source records them, or an event or gap past the end (one sample
    of rounding slack)."""
    where = f"{result.source}: {what} for {result.name!r}"
    if result.fs is not None and not math.isclose(result.fs, fs, rel_tol=1e-3):
        raise ValueError(f"{where} are at {result.fs:g} Hz; the recording is at {fs:g} Hz")
    if result.num_samples is not None and result.num_samples != num_samples:
        raise ValueError(
            f"{where} cover {result.num_samples} samples; the recording has {num_samples}"
        )
    duration = num_samples / fs
    ends = [result.events["offset"], result.gaps["offset"]]
    last = max((float(e.max()) for e in ends if len(e)), default=0.0)
    if last > duration + 1.0 / fs + 1e-6:
        raise ValueError(
            f"{where} reach {last:.3f} s, past the end of the recording ({duration:.3f} s): "
            "they belong to another recording"
        )
