"""The viewer's page as Bokeh models: stacked channels sharing one time axis, events as
coloured spans (predicted above, reference below), gaps hatched, a navigator of the whole
recording, class toggles, and the disagreements table.

:func:`build_view` makes the models and fills them for one window; :class:`ViewState` redraws
a window (:meth:`ViewState.draw`). The server (:mod:`sigseg.view.server`) calls ``draw``
whenever the time range changes; an exported page (:mod:`sigseg.view.export`) is drawn once.
What needs no new data (class toggles, jumps to a disagreement, "whole recording") runs in
the browser, so it works the same in both.
"""

from __future__ import annotations

import datetime as dt
import html
import time
from dataclasses import dataclass

import numpy as np
from bokeh.layouts import column, row
from bokeh.models import (
    Button,
    CDSView,
    CheckboxGroup,
    ColumnDataSource,
    CustomJS,
    DataRange1d,
    DataTable,
    DatetimeTickFormatter,
    Div,
    GroupFilter,
    Range1d,
    RangeTool,
    TableColumn,
)
from bokeh.plotting import figure

from sigseg.view.lod import Trace, window_trace
from sigseg.view.recording import ViewSource
from sigseg.view.spans import ALL_TRACK, Spans, channel_key, channel_keys

FRAME_WIDTH = 1100
"""Width of every plot's frame (pixels): windows are downsampled to about two points each."""
CHANNEL_HEIGHT = 130
TABLE_ROWS = 10_000
"""The disagreements table lists at most this many (the count says how many there are)."""
LANES = {"predicted": (0.5, 1.0), "reference": (0.0, 0.5)}
"""Where each lane's spans lie in a channel's height (0 bottom, 1 top) when both are shown."""
DOTS_BELOW = FRAME_WIDTH // 4
"""Samples are marked with dots when a window holds fewer than this."""


@dataclass(frozen=True)
class TimeAxis:
    """Plot x coordinates: milliseconds since the epoch (a clock-time axis) when the
    recording's start is known, else seconds from its first sample."""

    start: dt.datetime | None

    @property
    def clock(self) -> bool:
        return self.start is not None

    @property
    def origin(self) -> float:
        if self.start is None:
            return 0.0
        return self.start.replace(tzinfo=dt.timezone.utc).timestamp() * 1000.0

    def to_plot(self, seconds: np.ndarray | float) -> np.ndarray | float:
        return self.origin + np.asarray(seconds) * 1000.0 if self.clock else seconds

    def to_seconds(self, x: float) -> float:
        return (x - self.origin) / 1000.0 if self.clock else x

    def label(self, seconds: float) -> str:
        if self.start is None:
            return f"{seconds:.3f} s"
        return (self.start + dt.timedelta(seconds=seconds)).strftime("%H:%M:%S.%f")[:-3]


@dataclass
class ViewState:
    """One page's models that are redrawn for a window."""

    source: ViewSource
    axis: TimeAxis
    x_range: Range1d
    signals: list[ColumnDataSource]
    dots: list[ColumnDataSource]
    lanes: list[dict[str, ColumnDataSource]]
    gaps: list[ColumnDataSource]
    status: Div
    navigator: ColumnDataSource
    window: tuple[float, float] = (0.0, 0.0)
    points: int = FRAME_WIDTH
    last_draw_s: float = 0.0

    def seconds_window(self) -> tuple[float, float]:
        start = self.axis.to_seconds(float(self.x_range.start))
        end = self.axis.to_seconds(float(self.x_range.end))
        return max(0.0, start), min(self.source.duration, end)

    def draw(self) -> None:
        """Redraw the signals, events and gaps of the current x range."""
        began = time.perf_counter()
        t0, t1 = self.seconds_window()
        src = self.source
        trace = window_trace(src.reader, src.lock, src.overview, t0, t1, self.points)
        pixel = max((t1 - t0) / FRAME_WIDTH, 1.0 / src.fs)
        x = self.axis.to_plot(trace.x)
        few = trace.raw and trace.x.size < DOTS_BELOW
        for i, channel in enumerate(tracks(src)):
            y = trace.y[i] if i < len(src.channels) else []
            self.signals[i].data = {"x": x if len(y) else [], "y": y}
            self.dots[i].data = {"x": x if few and len(y) else [], "y": y if few else []}
            for lane, index in src.indexes.items():
                spans = [
                    index.window(k, t0, t1, pixel) for k in index.keys_for(channel, src.channels)
                ]
                self.lanes[i][lane].data = self._span_data(spans, lane)
            self.gaps[i].data = self._gap_data(channel, t0, t1)
        self.window = (t0, t1)
        self.last_draw_s = time.perf_counter() - began
        self.status.text = self._status(trace)

    def draw_navigator(self) -> None:
        """The whole recording's envelope (first channel) from the overview built so far."""
        src = self.source
        env = src.overview.envelope(0, src.reader.num_samples, FRAME_WIDTH // 2)
        self.navigator.data = {"x": self.axis.to_plot(env.x), "y": env.y[0]}

    def _span_data(self, spans: list[Spans], lane: str) -> dict[str, object]:
        start = np.concatenate([s.start for s in spans]) if spans else np.zeros(0)
        stop = np.concatenate([s.stop for s in spans]) if spans else np.zeros(0)
        cls = np.concatenate([s.cls for s in spans]) if spans else np.zeros(0, dtype=int)
        bottom, top = LANES[lane] if len(self.source.indexes) > 1 else (0.0, 1.0)
        classes = self.source.classes
        return {
            "left": self.axis.to_plot(start),
            "right": self.axis.to_plot(stop),
            "bottom": np.full(start.size, bottom),
            "top": np.full(start.size, top),
            "label": [classes[c] for c in cls.tolist()],
        }

    def _gap_data(self, channel: str, t0: float, t1: float) -> dict[str, object]:
        left: list[float] = []
        right: list[float] = []
        for result in (self.source.predicted, self.source.reference):
            if result is None or result.gaps.empty:
                continue
            gaps = result.gaps
            mine = channel_keys(gaps["channel"]) == channel_key(channel)
            inside = (gaps["offset"] >= t0) & (gaps["onset"] <= t1) & mine
            left += gaps.loc[inside, "onset"].tolist()
            right += gaps.loc[inside, "offset"].tolist()
        return {
            "left": self.axis.to_plot(np.asarray(left)),
            "right": self.axis.to_plot(np.asarray(right)),
        }

    def _status(self, trace: Trace) -> str:
        t0, t1 = self.window
        src = self.source
        what = "samples" if trace.raw else "min/max envelope"
        building = ""
        if not (trace.raw or src.overview.done):
            building = f" · overview {100 * src.overview.progress:.0f} %"
        if src.overview.error:
            building = f" · overview failed: {html.escape(src.overview.error)}"
        return (
            f"<span class='sigseg-window' data-t0='{t0:.6f}' data-t1='{t1:.6f}'>"
            f"{self.axis.label(t0)} – {self.axis.label(t1)}</span> · {trace.x.size} points "
            f"per channel ({what}){building}"
        )


def tracks(source: ViewSource) -> list[str]:
    """The rows of the page: the channels, and :data:`~sigseg.view.spans.ALL_TRACK` when
    results hold events of every channel at once beside events of single channels."""
    both = any(
        index.unassigned(source.channels)
        and len(index.unassigned(source.channels)) < len(index.by_channel)
        for index in source.indexes.values()
    )
    return [*source.channels, *([ALL_TRACK] if both else [])]


def build_view(
    source: ViewSource,
    t0: float,
    t1: float,
    title: str,
    *,
    bounds: tuple[float, float] | None = None,
    points: int = FRAME_WIDTH,
) -> tuple[object, ViewState]:
    """The page's layout and its :class:`ViewState`, drawn for ``t0..t1`` seconds. Panning
    stops at ``bounds`` (seconds; default the whole recording); ``points`` is how many x
    positions a window is drawn with (two values each for an envelope)."""
    axis = TimeAxis(source.start_time)
    low, high = bounds or (0.0, source.duration)
    scale = 1000.0 if axis.clock else 1.0
    x_range = Range1d(
        axis.to_plot(t0),
        axis.to_plot(t1),
        bounds=(axis.to_plot(low), axis.to_plot(high)),
        min_interval=4.0 / source.fs * scale,
        name="time",
    )
    lanes_present = list(source.indexes)
    signals, dots, lanes, gaps, figures = [], [], [], [], []
    renderers: dict[str, list[object]] = {c: [] for c in source.classes}
    shown = tracks(source)
    for i, channel in enumerate(shown):
        fig = _figure(axis, x_range, channel, last=i == len(shown) - 1)
        fig.extra_y_ranges = {"lanes": Range1d(0.0, 1.0)}
        gap_source = ColumnDataSource({"left": [], "right": []}, name=f"gaps-{i}")
        fig.quad(
            left="left",
            right="right",
            bottom=0.0,
            top=1.0,
            source=gap_source,
            y_range_name="lanes",
            fill_color=None,
            hatch_pattern="/",
            hatch_color="#888888",
            hatch_alpha=0.6,
            line_color=None,
        )
        lane_sources = {}
        for lane in lanes_present:
            lane_source = ColumnDataSource(
                {"left": [], "right": [], "bottom": [], "top": [], "label": []},
                name=f"{lane}-{i}",
            )
            lane_sources[lane] = lane_source
            for cls in source.classes:
                glyph = fig.quad(
                    left="left",
                    right="right",
                    bottom="bottom",
                    top="top",
                    source=lane_source,
                    view=CDSView(filter=GroupFilter(column_name="label", group=cls)),
                    y_range_name="lanes",
                    fill_color=source.colors[cls],
                    fill_alpha=0.45 if lane == "predicted" else 0.35,
                    line_color=None,
                    name=f"{lane}-{i}-{cls}",
                )
                renderers[cls].append(glyph)
        signal = ColumnDataSource({"x": [], "y": []}, name=f"signal-{i}")
        dot_source = ColumnDataSource({"x": [], "y": []}, name=f"dots-{i}")
        line = fig.line("x", "y", source=signal, color="black", line_width=1)
        marks = fig.scatter("x", "y", source=dot_source, size=4, color="black")
        fig.y_range = DataRange1d(renderers=[line, marks], range_padding=0.08)
        signals.append(signal)
        dots.append(dot_source)
        lanes.append(lane_sources)
        gaps.append(gap_source)
        figures.append(fig)
    status = Div(text="", name="status", styles={"font-size": "12px", "color": "#333"})
    nav_source = ColumnDataSource({"x": [], "y": []}, name="navigator")
    navigator = _navigator(axis, source, x_range, nav_source)
    state = ViewState(
        source, axis, x_range, signals, dots, lanes, gaps, status, nav_source, points=points
    )
    state.draw()
    state.draw_navigator()
    header = Div(text=_header(source, title, lanes_present), name="header")
    controls = _controls(source, axis, x_range, renderers)
    table = _disagreement_table(source, axis, x_range)
    layout = column(header, controls, status, *figures, navigator, *table)
    return layout, state


def _figure(axis: TimeAxis, x_range: Range1d, channel: str, last: bool) -> figure:
    fig = figure(
        frame_width=FRAME_WIDTH,
        frame_height=CHANNEL_HEIGHT,
        x_range=x_range,
        x_axis_type="datetime" if axis.clock else "linear",
        tools="xpan,xwheel_zoom,xbox_zoom,reset,save",
        active_scroll="xwheel_zoom",
        active_drag="xpan",
        toolbar_location="right",
        min_border_left=70,
        name=f"channel-{channel}",
    )
    fig.yaxis.axis_label = channel
    fig.xaxis.visible = last
    if axis.clock:
        fig.xaxis.formatter = _clock_formatter()
    elif last:
        fig.xaxis.axis_label = "time (s)"
    fig.grid.grid_line_alpha = 0.3
    return fig


def _clock_formatter() -> DatetimeTickFormatter:
    return DatetimeTickFormatter(
        milliseconds="%H:%M:%S.%3N",
        seconds="%H:%M:%S",
        minsec="%H:%M:%S",
        minutes="%H:%M",
        hourmin="%H:%M",
        hours="%H:%M",
        days="%d %b %H:%M",
    )


def _navigator(
    axis: TimeAxis, source: ViewSource, x_range: Range1d, nav_source: ColumnDataSource
) -> figure:
    """The whole recording's first channel, with the shown window as a box to drag."""
    fig = figure(
        frame_width=FRAME_WIDTH,
        frame_height=60,
        x_range=Range1d(axis.to_plot(0.0), axis.to_plot(source.duration)),
        x_axis_type="datetime" if axis.clock else "linear",
        tools="",
        toolbar_location=None,
        min_border_left=70,
        name="navigator",
    )
    fig.line("x", "y", source=nav_source, color="#555555", line_width=1)
    fig.yaxis.visible = False
    fig.grid.visible = False
    if axis.clock:
        fig.xaxis.formatter = _clock_formatter()
    tool = RangeTool(x_range=x_range)
    tool.overlay.fill_color = "#1f77b4"
    tool.overlay.fill_alpha = 0.15
    fig.add_tools(tool)
    return fig


def _header(source: ViewSource, title: str, lanes: list[str]) -> str:
    start = f" · starts {source.start_time:%Y-%m-%d %H:%M:%S}" if source.start_time else ""
    swatches = " ".join(
        f"<span style='background:{source.colors[c]};opacity:0.6;padding:0 8px'>&nbsp;</span> "
        f"{html.escape(c)}"
        for c in source.classes
    )
    where = ""
    if len(lanes) > 1:
        where = " · upper half of each channel: predicted, lower half: reference"
    elif lanes:
        where = f" · {lanes[0]} events"
    return (
        f"<b>{html.escape(title)}</b> · {source.duration:.1f} s at {source.fs:g} Hz · "
        f"{len(source.channels)} channel(s){start}<br>{swatches}{where} · hatched: gaps"
    )


def _controls(
    source: ViewSource, axis: TimeAxis, x_range: Range1d, renderers: dict[str, list[object]]
) -> object:
    classes = CheckboxGroup(
        labels=source.classes, active=list(range(len(source.classes))), inline=True, name="classes"
    )
    classes.js_on_change(
        "active",
        CustomJS(
            args={"groups": [renderers[c] for c in source.classes]},
            code="""
for (let i = 0; i < groups.length; i++) {
  const on = cb_obj.active.includes(i);
  for (const r of groups[i]) { r.visible = on; }
}""",
        ),
    )
    whole = Button(label="whole recording", width=140, name="whole")
    whole.js_on_click(
        CustomJS(
            args={"r": x_range, "a": axis.to_plot(0.0), "b": axis.to_plot(source.duration)},
            code="r.setv({start: a, end: b});",
        )
    )
    return row(whole, classes)


def _disagreement_table(source: ViewSource, axis: TimeAxis, x_range: Range1d) -> list[object]:
    """The disagreements listed (a click on a row, or next/previous, centres the view on it)."""
    found = source.disagreements
    if found is None:
        return []
    shown = found.iloc[:TABLE_ROWS]
    table_source = ColumnDataSource(
        {
            "x0": axis.to_plot(shown["time"].to_numpy()),
            "x1": axis.to_plot(shown["end"].to_numpy()),
            "when": [axis.label(t) for t in shown["time"]],
            "channel": shown["channel"].tolist(),
            "label": shown["label"].tolist(),
            "kind": shown["kind"].tolist(),
        },
        name="disagreements",
    )
    scale = 1000.0 if axis.clock else 1.0
    jump = CustomJS(
        args={"s": table_source, "r": x_range, "least": 2.0 * scale},
        code="""
const i = s.selected.indices[0];
if (i === undefined) { return; }
const a = s.data.x0[i], b = s.data.x1[i];
const width = Math.max(least, 8 * (b - a));
const mid = (a + b) / 2;
r.setv({start: mid - width / 2, end: mid + width / 2});""",
    )
    table_source.selected.js_on_change("indices", jump)
    step = """
const xs = s.data.x0, mid = (r.start + r.end) / 2;
let k = -1;
if (forward) { k = xs.findIndex((x) => x > mid + 1e-9); }
else { for (let j = xs.length - 1; j >= 0; j--) { if (xs[j] < mid - 1e-9) { k = j; break; } } }
if (k >= 0) { s.selected.indices = [k]; }"""
    buttons = []
    for label, forward in (("◀ previous disagreement", False), ("next disagreement ▶", True)):
        button = Button(label=label, width=190, name="next" if forward else "previous")
        button.js_on_click(
            CustomJS(args={"s": table_source, "r": x_range, "forward": forward}, code=step)
        )
        buttons.append(button)
    counts = found.groupby(["kind", "label"]).size()
    summary = ", ".join(f"{n} {kind} {label}" for (kind, label), n in counts.items()) or "none"
    more = f" (the first {TABLE_ROWS} listed)" if len(found) > TABLE_ROWS else ""
    text = (
        f"<b>Disagreements</b> (onsets matched within {source.tolerance_s * 1000:g} ms): "
        f"{len(found)}{more}: {html.escape(summary)}"
    )
    columns = [
        TableColumn(field="when", title="time"),
        TableColumn(field="channel", title="channel"),
        TableColumn(field="label", title="class"),
        TableColumn(field="kind", title="kind (missed: in reference only)"),
    ]
    table = DataTable(
        source=table_source, columns=columns, width=FRAME_WIDTH, height=220, name="table"
    )
    return [Div(text=text, name="disagreement-summary"), row(*buttons), table]
