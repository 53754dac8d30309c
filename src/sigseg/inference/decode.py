"""From class probabilities to events for any :class:`~sigseg.tasks.base.Task`, and back to
labels.

A model gives probabilities ``(K, L)`` over ``task.classes``; :func:`decode` turns them into
:class:`~sigseg.data.record.Wave` events whose ``kind`` is a class name, with the rules the task
carries:

* ``segments`` and ``states``: the argmax label per sample, cleaned by :func:`clean_labels`
  (short gaps inside a class merged, then too-short runs dropped into the background or, for
  states, absorbed by a neighbouring state); each remaining run of an event class is one
  interval, its ``peak`` the sample of highest probability of its class, its ``score`` the
  mean probability of its class over the interval.
* ``events``: per foreground class, the peaks of its probability above ``threshold`` and at
  least ``task.event_sigma_s`` apart; each is a point ``Wave(cls, i, i, i)`` scored by its
  peak probability.

:func:`events_to_labels` paints events back into a label array (for the sample metrics), and
:func:`labels_from_probs` chains the two. A task may build a richer decoder of its own on top
(ECG delineation does, with beat-order rules); this module is the generic one.

Example at 100 Hz: a spindle broken by one sample of doubt is merged (gaps under 20 ms), and a
3-sample blip is shorter than the 50 ms minimum, so it is dropped::

    >>> task = Task("spindles", ("background", "spindle"), merge_gap_s=0.02,
    ...             min_duration_s={"spindle": 0.05})
    >>> p = np.zeros(30)
    >>> p[2:5] = 0.8; p[10:14] = 0.9; p[14] = 0.4; p[15:20] = [0.7, 0.95, 0.9, 0.6, 0.6]
    >>> waves = decode(np.stack([1 - p, p]), fs=100, task=task)
    >>> waves
    [Wave(kind='spindle', onset=10, peak=16, offset=19, lead=None)]
    >>> round(waves[0].score, 3)  # (4 * 0.9 + 0.4 + 3.75) / 10
    0.775
    >>> labels_from_probs(np.stack([1 - p, p]), fs=100, task=task)[8:21].tolist()
    [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import numpy as np
from scipy.signal import find_peaks

from sigseg.data.record import Wave
from sigseg.tasks.base import IGNORE_INDEX, Task

__all__ = ["class_probabilities", "clean_labels", "decode", "events_to_labels", "labels_from_probs"]

_EPS = 1e-9  # keeps "exactly the limit" inside despite seconds -> samples rounding


def class_probabilities(probs: np.ndarray, task: Task) -> np.ndarray:
    """``probs`` checked against ``task``: ``(K, L)`` float64 with one row per class.

    A single row ``(1, L)`` is a binary model's sigmoid output, accepted when the task has two
    classes: it becomes ``[1 - p, p]``, so the argmax is class 1 exactly where ``p > 0.5``.

        >>> task = Task("binary", ("background", "event"))
        >>> class_probabilities(np.array([[0.2, 0.5, 0.75]]), task).tolist()
        [[0.8, 0.5, 0.25], [0.2, 0.5, 0.75]]
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2:
        raise ValueError(f"probabilities must be (K, L), got shape {probs.shape}")
    if probs.shape[0] == 1 and task.num_classes == 2:
        return np.concatenate((1.0 - probs, probs))
    if probs.shape[0] != task.num_classes:
        raise ValueError(
            f"task {task.name!r} has {task.num_classes} classes, but probabilities have "
            f"{probs.shape[0]} rows"
        )
    return probs


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start, end (inclusive) and value of each maximal run of equal values.

    >>> [a.tolist() for a in _runs(np.array([3, 3, 0, 1, 1, 1]))]
    [[0, 2, 3], [1, 2, 5], [3, 0, 1]]
    """
    if values.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, values[:0]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(values)) + 1))
    ends = np.concatenate((starts[1:] - 1, [values.size - 1]))
    return starts, ends, values[starts]


def _merge_gaps(labels: np.ndarray, max_gap: float, classes: Sequence[int]) -> np.ndarray:
    """Fill every gap of fewer than ``max_gap`` samples between two runs of one class with that
    class, for each of ``classes`` in turn (each on the result of the previous one).

        >>> _merge_gaps(np.array([1, 0, 1, 0, 0, 1, 2, 2]), 2, [1]).tolist()
        [1, 1, 1, 0, 0, 1, 2, 2]
    """
    labels = labels.copy()
    for k in classes:
        starts, ends, inside = _runs(labels == k)
        starts, ends = starts[inside], ends[inside]
        lo, hi = ends[:-1] + 1, starts[1:]  # gap i is [lo[i], hi[i])
        fill = hi - lo < max_gap - _EPS
        if fill.any():
            edges = np.zeros(labels.size + 1, dtype=np.int64)
            np.add.at(edges, lo[fill], 1)
            np.add.at(edges, hi[fill], -1)
            labels[np.cumsum(edges[:-1]) > 0] = k
    return labels


def _drop_short(labels: np.ndarray, min_samples: np.ndarray, background: int) -> np.ndarray:
    """Runs shorter than ``min_samples[class]`` become ``background``.

    >>> _drop_short(np.array([0, 1, 1, 0, 2, 2, 2]), np.array([0, 3, 3]), 0).tolist()
    [0, 0, 0, 0, 2, 2, 2]
    """
    starts, ends, values = _runs(labels)
    lengths = ends - starts + 1
    short = lengths < min_samples[values] - _EPS
    return np.repeat(np.where(short, background, values), lengths)


def _absorb_short(labels: np.ndarray, min_samples: np.ndarray) -> np.ndarray:
    """Runs shorter than ``min_samples[class]`` join a neighbouring run, shortest run first
    (ties: the earlier); a run joins its longer neighbour (ties: the earlier one), and when
    the neighbours on both sides have the same class they become one run. A run with no
    neighbour (the whole signal) stays.

    Here the 1-sample run of 2 (shortest) joins the longer neighbour, the three 0s before it;
    then the 2-sample run of 1 has 4 samples of 0 on each side, joins the earlier, and the two
    runs of 0 around it become one::

        >>> _absorb_short(np.array([0, 0, 0, 2, 1, 1, 0, 0, 0, 0]), np.array([2, 3, 2])).tolist()
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    """
    starts, ends, values = _runs(labels)
    length = (ends - starts + 1).tolist()
    value = values.tolist()
    count = len(value)
    prev = list(range(-1, count - 1))
    after = [*range(1, count), -1]
    alive = [True] * count

    def short(i: int) -> bool:
        return length[i] < min_samples[value[i]] - _EPS

    def unlink(i: int) -> None:
        alive[i] = False
        if prev[i] >= 0:
            after[prev[i]] = after[i]
        if after[i] >= 0:
            prev[after[i]] = prev[i]

    heap = [(length[i], i) for i in range(count) if short(i)]
    heapq.heapify(heap)
    while heap:
        size, i = heapq.heappop(heap)
        if not alive[i] or size != length[i]:
            continue  # a stale entry: the run is gone or has grown since
        left, right = prev[i], after[i]
        if left < 0 and right < 0:
            continue
        take_left = right < 0 or (left >= 0 and length[left] >= length[right])
        j, other = (left, right) if take_left else (right, left)
        length[j] += length[i]
        unlink(i)
        if other >= 0 and value[other] == value[j]:
            length[j] += length[other]
            unlink(other)
        if short(j):
            heapq.heappush(heap, (length[j], j))
    kept = [i for i in range(count) if alive[i]]
    return np.repeat(
        np.array([value[i] for i in kept], dtype=labels.dtype), [length[i] for i in kept]
    )


def clean_labels(labels: np.ndarray, fs: float, task: Task) -> np.ndarray:
    """Apply ``task``'s decoding rules to an argmax label array ``(L,)`` at ``fs`` Hz.

    1. Gaps: two runs of one event class separated by fewer than ``task.merge_gap_s * fs``
       samples become one run (the gap takes the class); classes are merged in the order of
       ``task.classes``. Merging comes first, so the pieces of a split event count together.
    2. Short runs: a run of class ``c`` lasting fewer than ``task.min_duration_s[c] * fs``
       samples is dropped: ``segments`` and ``events``: it becomes background; ``states``: it
       joins a neighbouring state (see :func:`_absorb_short`).

    Example at 10 Hz, minimum 0.3 s (3 samples) for class ``b``: its 2-sample run is too short
    and joins the longer of its neighbours, ``c`` (5 samples against 3 of ``a``)::

        >>> task = Task("stages", ("a", "b", "c"), kind="states", min_duration_s={"b": 0.3})
        >>> clean_labels(np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 2]), 10, task).tolist()
        [0, 0, 0, 2, 2, 2, 2, 2, 2, 2]
    """
    if not fs > 0:
        raise ValueError(f"sampling rate must be > 0, got {fs}")
    labels = np.asarray(labels, dtype=np.int64)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {labels.shape}")
    if task.merge_gap_s > 0:
        events = [task.index(c) for c in task.foreground]
        labels = _merge_gaps(labels, task.merge_gap_s * fs, events)
    min_samples = np.array([task.min_duration_s.get(c, 0.0) * fs for c in task.classes])
    if task.kind == "states":
        return _absorb_short(labels, min_samples)
    return _drop_short(labels, min_samples, background=0)


def _intervals(probs: np.ndarray, fs: float, task: Task) -> list[Wave]:
    labels = clean_labels(probs.argmax(axis=0), fs, task)
    waves = []
    for start, end, k in zip(*(a.tolist() for a in _runs(labels)), strict=True):
        if task.kind != "states" and k == 0:
            continue
        p = probs[k, start : end + 1]
        peak = start + int(np.argmax(p))
        waves.append(Wave(task.classes[k], start, peak, end, score=float(p.mean())))
    return waves


def _points(probs: np.ndarray, fs: float, task: Task, threshold: float) -> list[Wave]:
    waves = []
    distance = max(1.0, np.ceil(task.event_sigma_s * fs - _EPS))  # samples, rounded up
    for k in range(1, task.num_classes):
        # -inf on both sides, so a maximum on the first or last sample is a peak too
        padded = np.concatenate(([-np.inf], probs[k], [-np.inf]))
        peaks, _ = find_peaks(padded, height=np.nextafter(threshold, np.inf), distance=distance)
        for i in (peaks - 1).tolist():
            waves.append(Wave(task.classes[k], i, i, i, score=float(probs[k, i])))
    return waves


def decode(probs: np.ndarray, fs: float, task: Task, *, threshold: float = 0.5) -> list[Wave]:
    """Events from the probabilities ``(K, L)`` of one recording (or ``(1, L)`` of a binary
    task, see :func:`class_probabilities`) at ``fs`` Hz, sorted by onset (ties: class order).

    ``segments``/``states``: intervals from the argmax labels after :func:`clean_labels`, one
    per run of an event class (every class for ``states``). ``events``: per foreground class,
    the samples where its probability has a local maximum strictly above ``threshold``, keeping
    the higher of two peaks closer than ``task.event_sigma_s`` (``scipy.signal.find_peaks``);
    ``threshold`` is used by ``events`` tasks only.

    Point events of two classes at 100 Hz, 50 ms apart at least (peaks at 0.6 and 0.7 are 2
    samples apart, so only the higher stays; 0.5 is not above the threshold)::

        >>> task = Task("picks", ("noise", "P", "S"), kind="events", event_sigma_s=0.05)
        >>> p = np.zeros((3, 20))
        >>> p[1, [3, 5, 12]] = [0.6, 0.7, 0.5]
        >>> p[2, 9] = 0.99
        >>> [(w.kind, w.peak, w.score) for w in decode(p, 100, task)]
        [('P', 5, 0.7), ('S', 9, 0.99)]
    """
    if not fs > 0:
        raise ValueError(f"sampling rate must be > 0, got {fs}")
    probs = class_probabilities(probs, task)
    if task.kind == "events":
        waves = _points(probs, fs, task, threshold)
    else:
        waves = _intervals(probs, fs, task)
    return sorted(waves, key=lambda w: (w.onset, task.index(w.kind)))


def events_to_labels(waves: Sequence[Wave], num_samples: int, task: Task) -> np.ndarray:
    """Label array ``(num_samples,)`` int64 with each event painted over its span.

    The rest is background (class 0) for ``segments`` and ``events``, and
    :data:`~sigseg.tasks.base.IGNORE_INDEX` for ``states`` (no state known there). A wave spans
    ``onset..offset`` inclusive, or its ``peak`` alone when either end is ``None`` (a point
    event); spans are clipped to the array, later waves overwrite earlier ones, and waves whose
    kind is not a class of ``task`` or with no position are skipped.

        >>> task = Task("picks", ("noise", "P", "S"), kind="events")
        >>> events_to_labels([Wave("S", 1, 1, 1), Wave("P", None, 4, None)], 6, task).tolist()
        [0, 2, 0, 0, 1, 0]
    """
    index = {c: k for k, c in enumerate(task.classes)}
    fill = IGNORE_INDEX if task.kind == "states" else 0
    labels = np.full(num_samples, fill, dtype=np.int64)
    for w in waves:
        if w.kind not in index:
            continue
        if w.onset is not None and w.offset is not None:
            start, end = w.onset, w.offset
        elif w.peak is not None:
            start = end = w.peak
        else:
            continue
        labels[max(start, 0) : max(end + 1, 0)] = index[w.kind]
    return labels


def labels_from_probs(
    probs: np.ndarray, fs: float, task: Task, *, threshold: float = 0.5
) -> np.ndarray:
    """The decoded labels ``(L,)``: :func:`decode`, then :func:`events_to_labels`; what the
    sample metrics score, so that they see the same cleaned-up output as the event metrics.

        >>> task = Task("binary", ("background", "event"), min_duration_s={"event": 0.02})
        >>> labels_from_probs(np.array([[0.9, 0.1, 0.8, 0.7, 0.6, 0.4]]), 100, task).tolist()
        [0, 0, 1, 1, 1, 0]
    """
    probs = np.asarray(probs)
    waves = decode(probs, fs, task, threshold=threshold)
    return events_to_labels(waves, probs.shape[-1], task)
