"""Writing the report: per recording a folder with one HTML page and a PNG per figure (for
papers), and an index page listing every recording. Files are written atomically; an
output folder that already holds files is refused unless told to overwrite."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sigseg.atomic import atomic_path, write_text
from sigseg.report.declare import ReportContext, figures_for
from sigseg.results import RecordingResult

PAGE = "report.html"
INDEX = "index.html"
STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:1em auto;color:#222}"
    "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:2px 8px}"
    "img{max-width:100%}figure{margin:1.5em 0}figcaption{font-weight:bold}"
)


@dataclass(frozen=True)
class Written:
    """One recording's report: its page and figures."""

    name: str
    page: Path
    figures: tuple[Path, ...]
    events: int


def folder_name(name: str) -> str:
    """A recording name as a folder name (letters, digits, ``-``, ``_``, ``.``).

    >>> folder_name("sub/01 rest")
    'sub_01_rest'
    """
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "recording"


def write_report(
    results: Sequence[RecordingResult],
    out: Path,
    *,
    signal: Path | None = None,
    overwrite: bool = False,
) -> list[Written]:
    """Write every recording's report into ``out`` and the index page; ``signal`` is the
    recording's signal file when the results do not name it (one recording only)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ValueError(f"{out}: already holds files; pass --overwrite to replace the report")
    if signal is not None and len(results) != 1:
        raise ValueError(
            f"--recording names one signal file, but there are {len(results)} recordings"
        )
    out.mkdir(parents=True, exist_ok=True)
    written = []
    taken: set[str] = set()
    for result in results:
        folder = folder_name(result.name)
        while folder in taken:
            folder += "_"
        taken.add(folder)
        written.append(_write_one(result, out / folder, signal or result.signal_path))
    write_text(out / INDEX, _index(written, out))
    return written


def _context(result: RecordingResult, signal: Path | None) -> ReportContext:
    if result.fs and result.num_samples:
        duration = result.num_samples / result.fs
    else:
        ends = [result.events["offset"], result.gaps["offset"]]
        duration = max((float(e.max()) for e in ends if len(e)), default=1.0)
    if signal is not None and not Path(signal).exists() and not Path(f"{signal}.hea").exists():
        signal = None
    return ReportContext(duration_s=max(duration, 1e-3), signal_path=signal, fs=result.fs)


def _write_one(result: RecordingResult, folder: Path, signal: Path | None) -> Written:
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    context = _context(result, signal)
    sections, pngs = [], []
    for spec in figures_for(result):
        fig = spec.draw(result, context)
        if fig is None:
            continue
        png = folder / f"{spec.name}.png"
        with atomic_path(png) as tmp:
            fig.savefig(tmp, dpi=110, format="png", bbox_inches="tight")
        plt.close(fig)
        pngs.append(png)
        sections.append(
            f"<figure><figcaption>{html.escape(spec.title)}</figcaption>"
            f"<img src='{png.name}' alt='{html.escape(spec.title)}'></figure>"
        )
    page = folder / PAGE
    body = _summary(result, context) + "".join(sections)
    write_text(page, _html(f"sigseg report: {result.name}", body))
    return Written(result.name, page, tuple(pngs), len(result.events))


def _summary(result: RecordingResult, context: ReportContext) -> str:
    events = result.events
    rows = []
    for label in result.labels:
        mine = events[events["label"] == label]
        durations = 1000.0 * (mine["offset"] - mine["onset"])
        median = f"{durations.median():.0f} ms" if (durations > 0).any() else "point events"
        rows.append(f"<tr><td>{html.escape(label)}</td><td>{len(mine)}</td><td>{median}</td></tr>")
    gap_s = float((result.gaps["offset"] - result.gaps["onset"]).sum()) if len(result.gaps) else 0.0
    facts = [
        f"results: {html.escape(str(result.source))}",
        f"length: {context.duration_s:.1f} s" + (f" at {result.fs:g} Hz" if result.fs else ""),
        f"channels with events: {html.escape(', '.join(map(str, events['channel'].unique())))}",
        f"gaps (no signal): {len(result.gaps)} ({gap_s:.1f} channel-s)",
    ]
    return (
        f"<h1>{html.escape(result.name)}</h1><p>{'<br>'.join(facts)}</p>"
        "<table><tr><th>class</th><th>events</th><th>median duration</th></tr>"
        f"{''.join(rows)}</table>"
    )


def _index(written: Sequence[Written], out: Path) -> str:
    rows = "".join(
        f"<tr><td><a href='{w.page.relative_to(out).as_posix()}'>{html.escape(w.name)}</a></td>"
        f"<td>{w.events}</td><td>{len(w.figures)}</td></tr>"
        for w in written
    )
    body = (
        f"<h1>sigseg report: {len(written)} recording(s)</h1>"
        f"<table><tr><th>recording</th><th>events</th><th>figures</th></tr>{rows}</table>"
    )
    return _html("sigseg report", body)


def _html(title: str, body: str) -> str:
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>\n"
    )
