"""Any task's events decoded block by block equal one pass's, gaps included, and
``segment_stream`` gives ``segment_source``'s events in bounded memory."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter1d

from sigseg.checkpoint import save_checkpoint
from sigseg.inference.segment import _decode_around, load_segmenter, segment_source, segment_stream
from sigseg.inference.streaming import EventStream
from sigseg.models import create_model
from sigseg.tasks import Task

TASKS = {
    "segments": Task("s", ("background", "a", "b"), merge_gap_s=0.05, min_duration_s={"a": 0.1}),
    "events": Task("e", ("noise", "p", "q"), kind="events", event_sigma_s=0.05),
    "states": Task("st", ("w", "n1", "n2"), kind="states", min_duration_s={"n1": 0.1}),
}


def _probs(rng: np.random.Generator, n: int) -> np.ndarray:
    """Smooth random class probabilities ``(3, n)`` with quiet stretches."""
    logits = gaussian_filter1d(rng.standard_normal((3, n)) * 6, 4, axis=-1)
    logits[0] += 2.0 * (np.sin(np.arange(n) / 150.0) > 0)
    e = np.exp(logits - logits.max(axis=0))
    return (e / e.sum(axis=0)).astype(np.float32)


@pytest.mark.parametrize("kind", list(TASKS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_blocks_give_one_pass_events(kind: str, seed: int) -> None:
    task, fs, n = TASKS[kind], 100.0, 6000
    rng = np.random.default_rng(seed)
    probs = _probs(rng, n)
    gaps = np.zeros(n, dtype=bool)
    for start in rng.integers(0, n - 50, 3):
        gaps[start : start + rng.integers(1, 40)] = True
    expected = _decode_around(probs.astype(np.float64), gaps, fs, task)
    stream = EventStream(task, fs)
    cuts = np.sort(rng.choice(np.arange(1, n), 12, replace=False))
    got = []
    for a, b in zip([0, *cuts], [*cuts, n], strict=True):
        got += stream.push(probs[:, a:b], gaps[a:b])
    got += stream.finish()
    assert len(expected) > 5
    key = lambda w: (w.onset, w.kind)  # noqa: E731
    assert sorted(got, key=key) == sorted(expected, key=key)
    scores = {(w.onset, w.kind): w.score for w in expected}
    assert all(abs(w.score - scores[(w.onset, w.kind)]) < 1e-9 for w in got)


def test_segment_stream_equals_segment_source(tmp_path) -> None:
    torch.manual_seed(0)
    model = create_model(
        "dilated", in_channels=1, num_classes=3, sampling_rate=100.0, widths=[8], dilations=[1]
    )
    path = save_checkpoint(model, tmp_path / "m.safetensors", task=TASKS["segments"])
    segmenter = load_segmenter(path, "torch")
    rng = np.random.default_rng(0)
    x = gaussian_filter1d(rng.standard_normal((2, 150_000)), 3, axis=-1)  # > 2 blocks
    x[1, 70_000:70_300] = np.nan
    whole = segment_source(segmenter, x, 100.0)
    streamed = segment_stream(segmenter, x, 100.0)
    assert len(streamed.events) == len(whole.events) > 100
    assert streamed.events.equals(whole.events)
    assert streamed.gaps.equals(whole.gaps)
