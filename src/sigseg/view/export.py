"""A stretch of a recording as one self-contained HTML page, to share: the viewer's page with
the signal, events and disagreements of that stretch inlined (Bokeh's scripts too), so it
opens anywhere without a server. Class toggles and jumps work in it; panning stays inside
the stretch."""

from __future__ import annotations

from pathlib import Path

from sigseg.atomic import write_text
from sigseg.view.document import FRAME_WIDTH, build_view
from sigseg.view.lod import RAW_LIMIT
from sigseg.view.recording import ViewSource


def export_html(source: ViewSource, path: Path, start: float, end: float, title: str) -> Path:
    """Write the stretch ``start..end`` seconds of ``source`` to ``path``: every sample when
    it holds at most :data:`~sigseg.view.lod.RAW_LIMIT` per channel (zoom in the page down
    to single samples), else a min/max envelope from the recording's overview (built here,
    in one pass)."""
    from bokeh.embed import file_html
    from bokeh.resources import INLINE

    if not 0.0 <= start < end <= source.duration + 1e-9:
        raise ValueError(
            f"--start {start:g} and --end {end:g} must satisfy 0 <= start < end <= "
            f"{source.duration:g} (the recording's length in seconds)"
        )
    samples = (end - start) * source.fs
    source.overview.build()  # the navigator's whole recording, and a long stretch's envelope
    if source.overview.error:
        raise ValueError(source.overview.error)
    points = RAW_LIMIT // 2 if samples <= RAW_LIMIT else 4 * FRAME_WIDTH
    layout, _ = build_view(source, start, end, title, bounds=(start, end), points=points)
    write_text(path, file_html(layout, resources=INLINE, title=f"sigseg: {title}"))
    return path
