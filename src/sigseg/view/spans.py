"""Events as spans to draw: those of a time window, at most a few per pixel, and the places
where predictions and a reference disagree.

Events are held as sorted arrays per channel (:class:`EventIndex`), so a window's events are
two binary searches away whatever the recording's length. A window with more events than
pixels (a whole day of beats) merges those of a class that lie closer than a pixel into one
span, so the browser gets at most a few spans per pixel and class.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sigseg.metrics.matching import match_positions

ALL_TRACK = "all channels"
"""The track of events found on every channel at once, drawn apart (without a signal) when
the same results also hold events of single channels."""
MERGE_ABOVE = 2000
"""A window with more events than this (in one channel's lane) is merged at pixel scale."""


def channel_key(name: str) -> str:
    """Channel names compared loosely: lower case, letters and digits (``V1``, ``v1`` and a
    WFDB annotator ``v1`` are one lead)."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def channel_keys(channels: pd.Series) -> pd.Series:
    """:func:`channel_key` of every row (computed once per distinct name)."""
    names = channels.astype(str)
    return names.map({name: channel_key(name) for name in names.unique()})


@dataclass(frozen=True)
class Spans:
    """Spans to draw: ``start``/``stop`` (seconds) and class index ``cls``."""

    start: np.ndarray
    stop: np.ndarray
    cls: np.ndarray

    def __len__(self) -> int:
        return int(self.start.size)


class EventIndex:
    """One events frame (:data:`sigseg.results.EVENT_FIELDS`) indexed by channel for window
    queries; ``classes`` fixes the class order (an index into it is a span's ``cls``)."""

    def __init__(self, events: pd.DataFrame, classes: Sequence[str]) -> None:
        self.classes = list(classes)
        code = {c: i for i, c in enumerate(self.classes)}
        self.by_channel: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
        keys = channel_keys(events["channel"])
        for key, rows in events.groupby(keys, sort=True):
            onset = rows["onset"].to_numpy(dtype=np.float64)
            order = np.argsort(onset, kind="stable")
            onset = onset[order]
            offset = rows["offset"].to_numpy(dtype=np.float64)[order]
            cls = rows["label"].map(code).to_numpy(dtype=np.int64)[order]
            self.by_channel[str(key)] = (onset, offset, cls, np.maximum.accumulate(offset))

    def unassigned(self, channels: Sequence[str]) -> list[str]:
        """The keys that name none of the recording's ``channels`` (``all``: events found on
        every channel at once, such as ECG's fused delineation)."""
        known = {channel_key(c) for c in channels}
        return [k for k in self.by_channel if k not in known]

    def keys_for(self, track: str, channels: Sequence[str]) -> list[str]:
        """The channel keys drawn on a track: a channel's own events, else (a channel with
        none, or the track :data:`ALL_TRACK`) the unassigned ones."""
        own = channel_key(track)
        if track != ALL_TRACK and own in self.by_channel:
            return [own]
        return self.unassigned(channels)

    def window(self, key: str, t0: float, t1: float, pixel: float) -> Spans:
        """Spans of channel ``key`` that overlap ``t0..t1``; point events and spans narrower
        than a pixel are widened to one (``pixel`` seconds), and when there are more than
        :data:`MERGE_ABOVE`, those of a class closer than a pixel are merged."""
        if key not in self.by_channel:
            return Spans(np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64))
        onset, offset, cls, reach = self.by_channel[key]
        lo = int(np.searchsorted(reach, t0, side="left"))
        hi = int(np.searchsorted(onset, t1, side="right"))
        start, stop, cls = onset[lo:hi], offset[lo:hi], cls[lo:hi]
        keep = stop >= t0
        start, stop, cls = start[keep], stop[keep], cls[keep]
        stop = np.maximum(stop, start + pixel)
        if start.size > MERGE_ABOVE:
            return merge_spans(Spans(start, stop, cls), pixel)
        return Spans(start, stop, cls)


def merge_spans(spans: Spans, gap: float) -> Spans:
    """Per class, spans less than ``gap`` apart merged into one.

    >>> s = merge_spans(Spans(np.array([0.0, 1.05, 3.0]), np.array([1.0, 2.0, 4.0]),
    ...                       np.array([0, 0, 0])), gap=0.1)
    >>> s.start.tolist(), s.stop.tolist()
    ([0.0, 3.0], [2.0, 4.0])
    """
    starts, stops, classes = [], [], []
    for c in np.unique(spans.cls):
        mine = spans.cls == c
        start, stop = spans.start[mine], spans.stop[mine]
        order = np.argsort(start, kind="stable")
        start, stop = start[order], stop[order]
        reach = np.maximum.accumulate(stop)
        new = np.ones(start.size, dtype=bool)
        new[1:] = start[1:] > reach[:-1] + gap
        first = np.flatnonzero(new)
        last = np.append(first[1:], start.size) - 1
        starts.append(start[first])
        stops.append(reach[last])
        classes.append(np.full(first.size, c, dtype=np.int64))
    if not starts:
        return spans
    return Spans(np.concatenate(starts), np.concatenate(stops), np.concatenate(classes))


DISAGREEMENT_COLUMNS = ("time", "end", "channel", "label", "kind")


def disagreements(
    predicted: pd.DataFrame, reference: pd.DataFrame, tolerance_s: float, fs: float
) -> pd.DataFrame:
    """Where ``predicted`` and ``reference`` events (:data:`sigseg.results.EVENT_FIELDS`)
    differ: per channel and class, onsets are matched one to one within ``tolerance_s``
    (:func:`~sigseg.metrics.matching.match_positions`, at ``fs``); a reference event left
    over is ``missed``, a predicted one ``extra``. Channels pair by name; when the two sides
    share no channel and one has a single one (``all``), it pairs with each of the other's.

    Returns a frame with :data:`DISAGREEMENT_COLUMNS` sorted by time."""
    pred_channel, ref_channel = (
        channel_keys(predicted["channel"]),
        channel_keys(reference["channel"]),
    )
    pred_keys, ref_keys = sorted(set(pred_channel)), sorted(set(ref_channel))
    common = sorted(set(pred_keys) & set(ref_keys))
    if common:
        pairs = [(k, k) for k in common]
    elif len(pred_keys) == 1:
        pairs = [(pred_keys[0], k) for k in ref_keys]
    elif len(ref_keys) == 1:
        pairs = [(k, ref_keys[0]) for k in pred_keys]
    else:
        pairs = []
    names = {channel_key(c): str(c) for c in {*predicted["channel"], *reference["channel"]}}
    rows = []
    pred_by = dict(tuple(predicted.groupby(pred_channel)))
    ref_by = dict(tuple(reference.groupby(ref_channel)))
    for pkey, rkey in pairs:
        pred, ref = pred_by.get(pkey, predicted.iloc[:0]), ref_by.get(rkey, reference.iloc[:0])
        channel = names[pkey] if len(ref_keys) == 1 and len(pred_keys) > 1 else names[rkey]
        for label in sorted(set(pred["label"]) | set(ref["label"])):
            p, r = pred[pred["label"] == label], ref[ref["label"] == label]
            p_on = np.round(p["onset"].to_numpy(dtype=np.float64) * fs)
            r_on = np.round(r["onset"].to_numpy(dtype=np.float64) * fs)
            _, p_hit, r_hit = match_positions(p_on, r_on, tolerance_s * fs)
            for frame, hit, kind in ((r, r_hit, "missed"), (p, p_hit, "extra")):
                left = frame[~hit]
                rows.extend(
                    zip(
                        left["onset"].to_numpy(dtype=np.float64),
                        left["offset"].to_numpy(dtype=np.float64),
                        [channel] * len(left),
                        [label] * len(left),
                        [kind] * len(left),
                        strict=True,
                    )
                )
    frame = pd.DataFrame(rows, columns=list(DISAGREEMENT_COLUMNS))
    return frame.sort_values(["time", "channel"], kind="stable").reset_index(drop=True)
