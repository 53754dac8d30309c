"""Writing delineations: WFDB annotation files in LUDB's convention, wave and interval tables
(CSV and JSON), and a PNG plot. Every file is written atomically."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sigseg.atomic import atomic_path, write_text
from sigseg.data.record import Wave

PEAK_SYMBOLS = {"P": "p", "QRS": "N", "T": "t"}
"""LUDB's peak symbols; onsets are ``(`` and offsets ``)``."""

WAVE_COLORS = {"P": "tab:green", "QRS": "tab:red", "T": "tab:blue"}


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
    the peak and ``)`` at the offset (missing marks are skipped), as LUDB annotates."""
    import wfdb

    marks: list[tuple[int, int, str]] = []
    for w in waves:
        if w.kind not in PEAK_SYMBOLS:
            continue
        for order, sample, symbol in (
            (0, w.onset, "("),
            (1, w.peak, PEAK_SYMBOLS[w.kind]),
            (2, w.offset, ")"),
        ):
            if sample is not None:
                marks.append((int(sample), order, symbol))
    marks.sort()
    target = out_dir / f"{record_name}.{extension}"
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".wrann-") as tmp:
        # wfdb only writes letter-only extensions; LUDB's are like "v1", so write under a
        # neutral one and rename (the extension is not stored inside the file)
        written = Path(tmp, "ann.atr")
        if marks:
            wfdb.wrann(
                "ann",
                "atr",
                np.array([m[0] for m in marks], dtype=np.int64),
                symbol=[m[2] for m in marks],
                fs=fs,
                write_dir=tmp,
            )
        else:  # wfdb refuses an empty annotation list; an end marker alone is a valid empty set
            written.write_bytes(b"\x00\x00")
        os.replace(written, target)
    return target


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


def write_table(
    path_stem: Path, rows: Sequence[dict[str, Any]], columns: Sequence[str]
) -> tuple[Path, Path]:
    """Write ``rows`` as ``{stem}.csv`` and ``{stem}.json`` (empty cells / ``null`` where a
    value is missing)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in columns})
    csv_path, json_path = path_stem.with_suffix(".csv"), path_stem.with_suffix(".json")
    write_text(csv_path, buffer.getvalue())
    write_text(json_path, json.dumps(list(rows), indent=1))
    return csv_path, json_path


def plot_delineation(
    path: Path,
    signal: np.ndarray,
    fs: float,
    waves: Sequence[Wave],
    channels: Sequence[str],
    title: str = "",
    start: int = 0,
) -> Path:
    """PNG of up to 12 leads with each wave's span shaded in its kind's colour.

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
