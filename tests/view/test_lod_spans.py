"""Level of detail and event spans: what the viewer draws for a window, in bounded size."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sigseg.data.readers import open_signal
from sigseg.view import lod
from sigseg.view.spans import ALL_TRACK, EventIndex, Spans, disagreements, merge_spans


@pytest.fixture()
def walk(tmp_path: Path) -> Path:
    """Two channels of a 3-M-sample random walk with a NaN stretch, as .npy."""
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.standard_normal((2, 3_000_003)), axis=1).astype(np.float32)
    x[1, 1_000_000:1_000_500] = np.nan
    np.save(tmp_path / "walk.npy", x)
    return tmp_path / "walk.npy"


def test_the_overview_holds_each_bins_min_and_max(walk: Path) -> None:
    x = np.load(walk)
    with open_signal(walk, fs=100.0, allow_gaps=True) as reader:
        overview = lod.Overview(reader, threading.Lock())
        overview.build()
        assert overview.done and overview.error is None
        assert overview.bins <= lod.OVERVIEW_BINS  # fixed size, whatever the length
        b = overview.bin
        for k in (0, 7, 1_000_000 // b, overview.bins - 1):
            block = x[:, k * b : (k + 1) * b]
            assert np.allclose(overview.low[:, k], np.nanmin(block, axis=1))
            assert np.allclose(overview.high[:, k], np.nanmax(block, axis=1))
        # a window longer than RAW_LIMIT comes from it: its extremes are the data's
        trace = lod.window_trace(reader, threading.Lock(), overview, 0.0, 30_000.03, 1000)
        assert not trace.raw and trace.x.size <= 2 * 1000 + 2
        assert np.nanmax(trace.y, axis=1) == pytest.approx(np.nanmax(x, axis=1))
        assert np.nanmin(trace.y, axis=1) == pytest.approx(np.nanmin(x, axis=1))


def test_short_windows_are_samples_and_longer_ones_thinned(walk: Path) -> None:
    x = np.load(walk)
    with open_signal(walk, fs=100.0, allow_gaps=True) as reader:
        overview = lod.Overview(reader, threading.Lock())  # not built: not needed here
        few = lod.window_trace(reader, threading.Lock(), overview, 10.0, 15.0, 1000)
        assert few.raw and np.allclose(few.y, x[:, 999:1502])
        many = lod.window_trace(reader, threading.Lock(), overview, 10.0, 2000.0, 1000)
        assert not many.raw and many.x.size <= 2 * 2 * 1000  # MinMaxLTTB picks, two channels
        start, stop = 999, 200_002
        assert (
            many.y[0].max() == x[0, start:stop].max() and many.y[0].min() == x[0, start:stop].min()
        )


def test_events_of_a_window_and_merging() -> None:
    events = pd.DataFrame(
        {
            "onset": [0.0, 5.0, 9.0, 20.0],
            "offset": [12.0, 5.0, 9.5, 21.0],  # a long one from before the window, a point
            "label": ["A", "B", "A", "B"],
            "channel": ["x", "x", "x", "all"],
            "peak": np.nan,
        }
    )
    index = EventIndex(events, ["A", "B"])
    found = index.window("x", 10.0, 15.0, pixel=0.01)
    assert found.start.tolist() == [0.0] and found.cls.tolist() == [0]
    points = index.window("x", 4.0, 6.0, pixel=0.5)
    assert points.start.tolist() == [0.0, 5.0] and points.stop.tolist() == [12.0, 5.5]
    assert index.keys_for("X", ["X", "Y"]) == ["x"]  # a channel's own events
    assert index.keys_for("Y", ["X", "Y"]) == ["all"]  # else those found on every channel
    assert index.keys_for(ALL_TRACK, ["X", "Y"]) == ["all"]
    merged = merge_spans(
        Spans(np.arange(5000.0), np.arange(5000.0) + 0.5, np.zeros(5000, int)), 1.0
    )
    assert merged.start.tolist() == [0.0] and merged.stop.tolist() == [4999.5]


def test_disagreements_pair_onsets_within_the_tolerance() -> None:
    def frame(onsets: list[float], labels: list[str], channel: str) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "onset": onsets,
                "offset": [t + 0.1 for t in onsets],
                "label": labels,
                "channel": channel,
                "peak": np.nan,
            }
        )

    ref = frame([1.0, 2.0, 3.0, 4.0], ["QRS", "QRS", "QRS", "T"], "ii")
    pred = frame([1.04, 3.3, 4.0, 5.0], ["QRS", "QRS", "P", "T"], "all")  # one channel: all
    found = disagreements(pred, ref, tolerance_s=0.05, fs=500.0)
    rows = list(zip(found["time"], found["label"], found["kind"], strict=True))
    assert rows == [
        (2.0, "QRS", "missed"),
        (3.0, "QRS", "missed"),
        (3.3, "QRS", "extra"),
        (4.0, "P", "extra"),
        (4.0, "T", "missed"),
        (5.0, "T", "extra"),
    ]
    assert set(found["channel"]) == {"ii"}
