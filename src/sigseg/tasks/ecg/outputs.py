"""Writing delineations: WFDB annotation files in LUDB's convention, wave, interval and gap
tables (CSV, and JSON on request), and a PNG plot. Every file is written atomically."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import re
import tempfile
from collections.abc import Hashable, Sequence
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any

import numpy as np

from sigseg.atomic import atomic_path, write_text
from sigseg.data.gaps import Gap
from sigseg.data.record import Wave

PEAK_SYMBOLS = {"P": "p", "QRS": "N", "T": "t"}
"""LUDB's peak symbols; onsets are ``(`` and offsets ``)``."""

WAVE_COLORS = {"P": "tab:green", "QRS": "tab:red", "T": "tab:blue"}

WAVE_COLUMNS = ("lead", "kind", "onset", "peak", "offset", "onset_s", "peak_s", "offset_s")
"""Columns of the wave table: one row per wave (:func:`wave_rows`)."""
INTERVAL_COLUMNS = (
    "lead",
    "qrs_onset",
    "qrs_peak",
    "qrs_offset",
    "rr_ms",
    "pr_ms",
    "qrs_ms",
    "qt_ms",
    "qtc_bazett_ms",
    "qtc_fridericia_ms",
)
"""Columns of the interval table: one row per beat
(:func:`~sigseg.tasks.ecg.waves.beat_intervals`) and lead."""
GAP_COLUMNS = ("lead", "kind", "onset", "offset", "onset_s", "offset_s", "duration_s")
"""Columns of the gap table: one row per stretch of a lead with no signal (:func:`gap_rows`);
``kind`` is ``missing`` (NaN/Inf samples) or ``flat`` (the lead stuck at one value)."""


def annotation_extension(channel: str) -> str:
    """A WFDB annotation extension for a channel name (LUDB uses the lead name: ``i``,
    ``ii``, ``avr``...): letters and digits only, lower case."""
    ext = re.sub(r"[^a-z0-9]", "", channel.lower())
    return ext or "ann"


RESERVED_EXTENSIONS = frozenset({"all", "png", "csv", "json", "hea", "dat"})
"""Extensions a lead's annotation file must not take: the fused delineation's (``all``) and
those of the other files written beside it or of a WFDB record that may share the folder."""


def annotation_extensions(channels: Sequence[str]) -> list[str]:
    """One distinct :func:`annotation_extension` per channel: a name that clashes with an
    earlier channel's or a reserved one gets a number (``v1``, ``V1`` -> ``v1``, ``v12``), so
    no lead's file overwrites another's.

    >>> annotation_extensions(["I", "i", "png", "!!"])
    ['i', 'i2', 'png2', 'ann']
    """
    taken = set(RESERVED_EXTENSIONS)
    out = []
    for channel in channels:
        base = ext = annotation_extension(channel)
        n = 2
        while ext in taken:
            ext, n = f"{base}{n}", n + 1
        taken.add(ext)
        out.append(ext)
    return out


def write_wfdb_annotations(
    out_dir: Path, record_name: str, extension: str, waves: Sequence[Wave], fs: float
) -> Path:
    """Write ``{record_name}.{extension}``: per wave ``(`` at the onset, ``p``/``N``/``t`` at
    the peak and ``)`` at the offset (missing marks are skipped), as LUDB annotates. The file
    is byte for byte what ``wfdb.wrann`` writes (see :class:`AnnotationWriter`)."""
    with AnnotationWriter(out_dir, record_name, extension, fs) as writer:
        writer.add(waves)
    return writer.path


class AnnotationWriter:
    """Writes a WFDB annotation file (MIT format) incrementally: :meth:`add` waves in time
    order as they come, :meth:`close` (or leave the ``with`` block) to finish. The file
    appears atomically on close.

    The bytes are those ``wfdb.wrann(record_name, extension, samples, symbol=..., fs=fs)``
    writes (a test compares them), encoded with array operations: ``wfdb.wrann`` encodes
    one mark at a time in Python (seconds for a day of beats) and needs every mark at once.
    A set without marks is written as the end marker alone, which ``wfdb.wrann`` refuses to
    write but reads back as empty.
    """

    def __init__(self, out_dir: Path, record_name: str, extension: str, fs: float) -> None:
        self.path = Path(out_dir) / f"{record_name}.{extension}"
        self.fs = fs
        self._codes = _annotation_codes()
        self._files = contextlib.ExitStack()
        tmp = self._files.enter_context(atomic_path(self.path))
        self._file = self._files.enter_context(tmp.open("wb"))
        self._last = 0
        self._marks = 0

    def add(self, waves: Sequence[Wave]) -> None:
        """Append the marks of ``waves``, which must not precede the marks added before.
        Marks are sorted by sample, then onset-peak-offset, then symbol."""
        samples: list[int] = []
        order: list[int] = []
        symbols: list[str] = []
        for w in waves:
            if w.kind not in PEAK_SYMBOLS:
                continue
            for rank, sample, symbol in (
                (0, w.onset, "("),
                (1, w.peak, PEAK_SYMBOLS[w.kind]),
                (2, w.offset, ")"),
            ):
                if sample is not None:
                    samples.append(int(sample))
                    order.append(rank)
                    symbols.append(symbol)
        if not samples:
            return
        where = np.asarray(samples, dtype=np.int64)
        sort = np.lexsort(([ord(c) for c in symbols], order, where))
        where = where[sort]
        if where[0] < self._last:
            raise ValueError(f"{self.path}: annotation marks must be added in time order")
        if where[0] < 0:
            raise ValueError(f"{self.path}: negative annotation sample {where[0]}")
        if self._marks == 0:
            self._file.write(_fs_bytes(self.fs))
        codes = np.array([self._codes[symbols[i]] for i in sort.tolist()], dtype=np.int64)
        self._file.write(_encode_marks(np.diff(where, prepend=self._last), codes))
        self._last = int(where[-1])
        self._marks += where.size

    def close(self) -> None:
        """Write the end marker and move the file into place."""
        if not self._file.closed:
            self._file.write(b"\x00\x00")
            self._files.close()

    def discard(self) -> None:
        """Drop the unfinished file (on an error)."""
        self._files.__exit__(RuntimeError, RuntimeError("discarded"), None)

    def __enter__(self) -> AnnotationWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.discard()


def _annotation_codes() -> dict[str, int]:
    """WFDB's annotation type code of each symbol (``wfdb``'s own table)."""
    from wfdb.io.annotation import ann_label_table

    symbols, codes = ann_label_table["symbol"], ann_label_table["label_store"].astype(int)
    return dict(zip(symbols, codes, strict=True))


_SKIP, _END_SPECIAL = 59, bytes([0, 236, 255, 255, 255, 255, 1, 0])


def _fs_bytes(fs: float) -> bytes:
    """The sampling-rate note ``wfdb.wrann`` writes first (and the end of special marks)."""
    if isinstance(fs, float) and round(fs, 8) == float(int(fs)):
        fs = int(fs)
    text = str(fs).encode("ascii")
    note = bytes([0, 88, len(text) + 20, 252]) + b"## time resolution: " + text
    return note + (b"\x00" if len(text) % 2 else b"") + _END_SPECIAL


def _encode_marks(diff: np.ndarray, codes: np.ndarray) -> bytes:
    """MIT-format words for marks ``diff`` samples after each other: a 16-bit little-endian
    word of 6-bit type code and 10-bit interval, preceded by a SKIP word and a 32-bit
    interval (high half first) when the interval exceeds 1023."""
    if diff.size and diff.max() > 0x7FFFFFFF:
        raise ValueError("annotation marks more than 2**31 - 1 samples apart")
    skip = diff > 1023
    short = np.where(skip, 0, diff)
    words = np.zeros((diff.size, 4), dtype="<u2")  # [SKIP, high, low] + annotation word
    words[:, 0] = _SKIP << 10
    words[:, 1] = diff >> 16
    words[:, 2] = diff & 0xFFFF
    words[:, 3] = (codes << 10) | short
    keep = np.ones((diff.size, 4), dtype=bool)
    keep[:, :3] = skip[:, None]
    return words[keep].tobytes()


def wave_rows(waves: Sequence[Wave], fs: float, channels: Sequence[str]) -> list[dict[str, Any]]:
    """One row per wave with sample indices and seconds; ``lead`` is the channel name or
    ``all`` for record-level (fused) waves."""

    def seconds(x: int | None) -> float | None:
        return None if x is None else round(x / fs, 6)

    return [
        {
            "lead": "all" if w.lead is None else channels[w.lead],
            "kind": w.kind,
            "onset": w.onset,
            "peak": w.peak,
            "offset": w.offset,
            "onset_s": seconds(w.onset),
            "peak_s": seconds(w.peak),
            "offset_s": seconds(w.offset),
        }
        for w in waves
    ]


def gap_rows(gaps: Sequence[Gap], fs: float, channels: Sequence[str]) -> list[dict[str, Any]]:
    """One row per gap: its first and last samples (``onset``, ``offset``, inclusive, as a
    wave's), the same in seconds, and its duration (``n / fs`` for ``n`` samples)."""
    return [
        {
            "lead": channels[g.lead],
            "kind": g.kind,
            "onset": g.onset,
            "offset": g.offset,
            "onset_s": round(g.onset / fs, 6),
            "offset_s": round(g.offset / fs, 6),
            "duration_s": round(g.num_samples / fs, 6),
        }
        for g in gaps
    ]


def write_table(
    path_stem: Path,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    *,
    json_too: bool = False,
) -> list[Path]:
    """Write ``rows`` as ``{stem}.csv`` (empty cells where a value is missing) and, with
    ``json_too``, as ``{stem}.json`` (``null``); return the paths written."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in columns})
    paths = [path_stem.with_suffix(".csv")]
    write_text(paths[0], buffer.getvalue())
    if json_too:
        paths.append(path_stem.with_suffix(".json"))
        write_text(paths[1], json.dumps(list(rows), indent=1))
    return paths


class TableWriter:
    """:func:`write_table` for rows that come piece by piece and belong to ``groups`` (leads):
    each group's rows are spooled to temporary files and the groups joined in their given
    order on :meth:`close`, so the files equal ``write_table``'s for all the rows, group by
    group, while memory holds one piece at a time. The files appear atomically on close.

    The JSON copy (``json_too``) holds the CSV's rows again; formatting it is most of the
    writing time for a day of waves, so it is written only on request."""

    def __init__(
        self,
        path_stem: Path,
        columns: Sequence[str],
        groups: Sequence[Hashable],
        *,
        json_too: bool = False,
    ) -> None:
        self.csv_path = path_stem.with_suffix(".csv")
        self.json_path = path_stem.with_suffix(".json") if json_too else None
        self.columns = list(columns)
        self._files = contextlib.ExitStack()
        self._spools = {
            g: (self._spool(path_stem.parent), self._spool(path_stem.parent) if json_too else None)
            for g in groups
        }
        self._rows = dict.fromkeys(groups, 0)

    def _spool(self, folder: Path) -> Any:
        return self._files.enter_context(
            tempfile.TemporaryFile("w+", encoding="utf-8", newline="", dir=folder)
        )

    def add(self, group: Hashable, rows: Sequence[dict[str, Any]]) -> None:
        """Append ``rows`` to ``group``."""
        if not rows:
            return
        csv_spool, json_spool = self._spools[group]
        buffer = io.StringIO()
        csv.writer(buffer).writerows(
            ["" if (value := row.get(k)) is None else value for k in self.columns] for row in rows
        )
        csv_spool.write(buffer.getvalue())
        if json_spool is not None:
            json_spool.write((",\n" if self._rows[group] else "") + _json_rows(rows))
        self._rows[group] += len(rows)

    def close(self) -> list[Path]:
        """Join the groups into ``{stem}.csv`` (and ``{stem}.json``); return the paths."""
        with self._files:
            header = io.StringIO()
            csv.DictWriter(header, fieldnames=self.columns).writeheader()
            with atomic_path(self.csv_path) as tmp, tmp.open("w", encoding="utf-8") as out:
                out.write(header.getvalue())
                for csv_spool, _ in self._spools.values():
                    _copy(csv_spool, out)
            if self.json_path is None:
                return [self.csv_path]
            with atomic_path(self.json_path) as tmp, tmp.open("w", encoding="utf-8") as out:
                filled = [j for g, (_, j) in self._spools.items() if self._rows[g]]
                out.write("[\n" if filled else "[]")
                for i, json_spool in enumerate(filled):
                    out.write(",\n" if i else "")
                    _copy(json_spool, out)
                out.write("\n]" if filled else "")
        return [self.csv_path, self.json_path]

    def discard(self) -> None:
        """Drop the spooled rows (on an error)."""
        self._files.close()


def _json_rows(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as ``json.dumps(rows, indent=1)`` writes them between ``[`` and ``]``.

    Rows of plain values (``None``, bool, int, float, str) are formatted here, several times
    faster than the json module's pure-Python indenting encoder (a day of waves is hundreds
    of thousands of rows); anything else goes through ``json.dumps``."""
    out = []
    for row in rows:
        if not row:
            out.append(" {}")
            continue
        items = []
        for key, value in row.items():
            text = _JSON_SCALARS.get(type(value))
            if text is None or not isinstance(key, str):
                return json.dumps(list(rows), indent=1)[2:-2]
            items.append(f"  {encode_basestring_ascii(key)}: {text(value)}")
        out.append(" {\n" + ",\n".join(items) + "\n }")
    return ",\n".join(out)


def _json_float(x: float) -> str:
    if x != x:
        return "NaN"
    if x in (math.inf, -math.inf):
        return "Infinity" if x > 0 else "-Infinity"
    return float.__repr__(x)


_JSON_SCALARS: dict[type, Any] = {
    type(None): lambda _: "null",
    bool: lambda b: "true" if b else "false",
    int: int.__repr__,
    float: _json_float,
    str: encode_basestring_ascii,
}


def _copy(spool: Any, out: Any) -> None:
    spool.seek(0)
    while chunk := spool.read(1 << 20):
        out.write(chunk)


def plot_delineation(
    path: Path,
    signal: np.ndarray,
    fs: float,
    waves: Sequence[Wave],
    channels: Sequence[str],
    title: str = "",
    start: int = 0,
    gaps: Sequence[Gap] = (),
) -> Path:
    """PNG of up to 12 leads with each wave's span shaded in its kind's colour, and each of
    ``gaps`` hatched in grey.

    ``signal`` is the ``(C, n)`` excerpt starting at sample ``start`` of the recording."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    leads = min(signal.shape[0], 12)
    fig, axes = plt.subplots(leads, 1, figsize=(12, 1.3 + 1.1 * leads), sharex=True, squeeze=False)
    t = (start + np.arange(signal.shape[1])) / fs
    stop = start + signal.shape[1]
    for lead, ax in enumerate(axes[:, 0]):
        ax.plot(t, signal[lead], color="black", linewidth=0.7)
        for w in waves:
            if w.lead not in (lead, None) or w.onset is None or w.offset is None:
                continue
            if w.offset < start or w.onset >= stop:
                continue
            ax.axvspan(
                w.onset / fs,
                (w.offset + 1) / fs,
                color=WAVE_COLORS.get(w.kind, "grey"),
                alpha=0.3 if w.lead is not None else 0.15,
                linewidth=0,
            )
        for g in gaps:
            if g.lead == lead and g.offset >= start and g.onset < stop:
                span = (max(g.onset, start) / fs, (min(g.offset, stop - 1) + 1) / fs)
                ax.axvspan(*span, facecolor="none", edgecolor="grey", hatch="//", linewidth=0)
        ax.set_ylabel(channels[lead], rotation=0, labelpad=18)
        ax.tick_params(labelsize=7)
    axes[-1, 0].set_xlabel("time (s)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c, alpha=0.4) for c in WAVE_COLORS.values()]
    fig.legend(handles, list(WAVE_COLORS), loc="upper right", ncol=3, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10, x=0.01, ha="left")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return path
