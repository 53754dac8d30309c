"""WFDB wave annotations (``(`` onset, a peak symbol, ``)`` offset) to waves and label masks.

LUDB and QTDB mark each wave as three consecutive annotations. Real files break that pattern
now and then: onsets or offsets are missing, an onset is placed one sample after its peak,
several overlapping waves are nested (``( ( t t ) )``), or an onset/offset pair has no peak.
:func:`group_waves` turns such a stream into :class:`~sigseg.data.record.Wave` objects without
crashing and without inventing a boundary; :func:`paint_labels` turns waves into a per-sample
mask, with :data:`~sigseg.data.record.IGNORE_INDEX` wherever the annotation does not say what
a sample is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sigseg.data.record import IGNORE_INDEX, Wave
from sigseg.tasks.ecg import CLASSES

ONSET = "("
OFFSET = ")"

QRS_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?")
"""WFDB beat symbols; as a peak mark between ``(`` and ``)`` each means a QRS complex."""

PEAK_KINDS: dict[str, str] = {"p": "P", "t": "T", "u": "U", **{s: "QRS" for s in QRS_SYMBOLS}}
"""Peak symbol -> wave kind."""

# The order of waves within a beat, used only to name an onset/offset pair that lacks its peak:
# a P wave is followed by a QRS, a QRS by a T, a T by the next P (or QRS when P is absent).
_FOLLOWS: dict[str, frozenset[str]] = {
    "P": frozenset({"QRS"}),
    "QRS": frozenset({"T"}),
    "T": frozenset({"P", "QRS"}),
}


@dataclass
class AnnotatedWaves:
    """Waves grouped from one annotation stream.

    * ``waves``: every wave, sorted by first mark.
    * ``marks``: sorted sample indices of every wave mark (onset, peak, offset) in the stream.
    * ``unknown``: ``(start, stop)`` inclusive sample ranges that are annotated as *some* wave
      whose kind cannot be told (an onset/offset pair without peak or clear context), and the
      samples of lone onsets/offsets that belong to no wave.
    """

    waves: list[Wave]
    marks: np.ndarray
    unknown: list[tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class _Token:
    role: str  # "on", "peak" or "off"
    sample: int
    kind: str = ""


def group_waves(
    samples: Sequence[int] | np.ndarray,
    symbols: Sequence[str],
    *,
    lead: int | None = None,
    merge_tolerance: int = 10,
) -> AnnotatedWaves:
    """Group an annotation stream into waves.

    ``samples``/``symbols`` are the annotation positions and symbols (any order); symbols that
    are not wave marks (rhythm, noise, comments) are skipped. ``merge_tolerance`` (samples) is
    how close an onset may follow its peak, or a peak follow its offset, for the two to be read
    as one misordered wave. Each onset and offset is used by at most one wave.

    >>> g = group_waves([10, 20, 30, 40, 50], ["(", "N", ")", "t", ")"])
    >>> [(w.kind, w.onset, w.peak, w.offset) for w in g.waves]
    [('QRS', 10, 20, 30), ('T', None, 40, 50)]
    """
    tokens = _tokenize(samples, symbols)
    waves: list[Wave] = []
    peakless: list[tuple[int, int]] = []
    unknown: list[tuple[int, int]] = []
    i = 0
    while i < len(tokens):
        step, found, pair = _match(tokens, i, lead, merge_tolerance)
        waves.extend(found)
        if pair is not None:
            peakless.append(pair)
        elif not found:  # a lone onset or offset
            unknown.append((tokens[i].sample, tokens[i].sample))
        i += step
    named, unnamed = _name_peakless(waves, peakless, lead)
    waves = sorted(waves + named, key=_first_mark)
    marks = np.array(sorted(t.sample for t in tokens), dtype=np.int64)
    return AnnotatedWaves(waves=waves, marks=marks, unknown=sorted(unknown + unnamed))


def check_annotation_samples(
    samples: Sequence[int] | np.ndarray, num_samples: int, source: object
) -> None:
    """Refuse an annotation file whose marks fall outside its record's ``num_samples``: it
    belongs to another record (or rate), and clipping it would score or train on wrong waves.
    ``source`` names the file in the message."""
    samples = np.asarray(samples, dtype=np.int64)
    outside = (samples < 0) | (samples >= num_samples)
    if outside.any():
        raise ValueError(
            f"{source}: annotation at sample {int(samples[outside][0])} lies outside the "
            f"record's {num_samples} samples; the file does not match its record"
        )


def _tokenize(samples: Sequence[int] | np.ndarray, symbols: Sequence[str]) -> list[_Token]:
    if len(samples) != len(symbols):
        raise ValueError(f"{len(samples)} annotation samples but {len(symbols)} symbols")
    tokens = []
    for sample, symbol in zip(samples, symbols, strict=True):
        if symbol == ONSET:
            tokens.append(_Token("on", int(sample)))
        elif symbol == OFFSET:
            tokens.append(_Token("off", int(sample)))
        elif symbol in PEAK_KINDS:
            tokens.append(_Token("peak", int(sample), PEAK_KINDS[symbol]))
    # A stable sort keeps the file order of marks that share a sample.
    return sorted(tokens, key=lambda t: t.sample)


def _roles(tokens: list[_Token], i: int, n: int) -> tuple[str, ...]:
    return tuple(t.role for t in tokens[i : i + n])


def _match(
    tokens: list[_Token], i: int, lead: int | None, tol: int
) -> tuple[int, list[Wave], tuple[int, int] | None]:
    """Match the pattern starting at token ``i``: (tokens used, waves, peakless pair)."""
    nested = _match_nested(tokens, i, lead)
    if nested:
        return 3 * len(nested), nested, None
    t = tokens[i]
    nxt = _roles(tokens, i, 4)
    if t.role == "peak":
        if nxt[1:3] == ("on", "off") and tokens[i + 1].sample - t.sample <= tol:
            # Onset placed just after its peak: '( N )' written as 'N ( )'.
            return (
                3,
                [Wave(t.kind, tokens[i + 1].sample, t.sample, tokens[i + 2].sample, lead)],
                None,
            )
        if nxt[1:2] == ("off",):
            return 2, [Wave(t.kind, None, t.sample, tokens[i + 1].sample, lead)], None
        return 1, [Wave(t.kind, None, t.sample, None, lead)], None
    if t.role == "on":
        if (
            nxt[1:3] == ("off", "peak")
            and nxt[3:4] != ("off",)
            and tokens[i + 2].sample - tokens[i + 1].sample <= tol
        ):
            # Peak placed just after its offset: '( N )' written as '( ) N'.
            p = tokens[i + 2]
            return 3, [Wave(p.kind, t.sample, p.sample, tokens[i + 1].sample, lead)], None
        if nxt[1:2] == ("peak",):
            p = tokens[i + 1]
            return 2, [Wave(p.kind, t.sample, p.sample, None, lead)], None
        if nxt[1:2] == ("off",):
            return 2, [], (t.sample, tokens[i + 1].sample)
    return 1, [], None


def _match_nested(tokens: list[_Token], i: int, lead: int | None) -> list[Wave]:
    """``k`` onsets, ``k`` peaks, ``k`` offsets (k = 1 is the ordinary wave); the j-th of each
    form one wave."""
    k = 0
    while i + k < len(tokens) and tokens[i + k].role == "on":
        k += 1
    if k == 0 or _roles(tokens, i + k, 2 * k) != ("peak",) * k + ("off",) * k:
        return []
    return [
        Wave(
            tokens[i + k + j].kind,
            tokens[i + j].sample,
            tokens[i + k + j].sample,
            tokens[i + 2 * k + j].sample,
            lead,
        )
        for j in range(k)
    ]


def _first_mark(w: Wave) -> int:
    return min(s for s in (w.onset, w.peak, w.offset) if s is not None)


def _name_peakless(
    waves: list[Wave], pairs: list[tuple[int, int]], lead: int | None
) -> tuple[list[Wave], list[tuple[int, int]]]:
    """Name each onset/offset pair that has no peak from its neighbours' kinds when exactly
    one kind fits the beat order (a pair between two T waves is a QRS); the rest stay
    unknown. The peak stays ``None``: it was not annotated."""
    ordered = sorted((w for w in waves if w.kind in _FOLLOWS), key=_first_mark)
    starts = [_first_mark(w) for w in ordered]
    named, unnamed = [], []
    for onset, offset in pairs:
        pos = int(np.searchsorted(starts, onset))
        prev = ordered[pos - 1].kind if pos > 0 else None
        nxt = ordered[pos].kind if pos < len(ordered) else None
        fits = [
            k
            for k in _FOLLOWS
            if (prev is None or k in _FOLLOWS[prev]) and (nxt is None or nxt in _FOLLOWS[k])
        ]
        if len(fits) == 1 and (prev or nxt):
            named.append(Wave(fits[0], onset, None, offset, lead))
        else:
            unnamed.append((onset, offset))
    return named, unnamed


def paint_labels(
    waves: Sequence[Wave],
    num_samples: int,
    marks: np.ndarray,
    annotated: Sequence[tuple[int, int]],
    unknown: Sequence[tuple[int, int]] = (),
) -> np.ndarray:
    """Per-sample class indices (int64) for one lead.

    Samples inside the ``annotated`` ranges (``(start, stop)`` inclusive) are background unless
    a wave covers them (``onset..offset`` inclusive; kinds without a class, like U, stay
    background); everything else is :data:`IGNORE_INDEX`. Where a wave lacks its onset, the
    samples between the previous mark and its peak are unknown and get :data:`IGNORE_INDEX`
    (likewise after the peak when the offset is missing), as do ``unknown`` ranges. Marks
    that fall outside ``[0, num_samples)`` are clipped."""
    labels = np.full(num_samples, IGNORE_INDEX, dtype=np.int64)
    for start, stop in annotated:
        labels[max(start, 0) : max(stop + 1, 0)] = 0
    inside = labels != IGNORE_INDEX
    for w in waves:
        if w.kind not in CLASSES:
            continue
        start = w.onset if w.onset is not None else w.peak
        stop = w.offset if w.offset is not None else w.peak
        if start is None or stop is None:
            continue
        labels[max(start, 0) : max(stop + 1, 0)] = CLASSES.index(w.kind)
    for start, stop in list(unknown) + _unsure_ranges(waves, marks):
        labels[max(start, 0) : max(stop + 1, 0)] = IGNORE_INDEX
    labels[~inside] = IGNORE_INDEX
    return labels


def _unsure_ranges(waves: Sequence[Wave], marks: np.ndarray) -> list[tuple[int, int]]:
    """Samples whose class is unknown because a wave's onset or offset is missing: from the
    mark before the peak (exclusive) to the peak (exclusive), or from the peak to the next."""
    ranges = []
    for w in waves:
        if w.peak is None or w.kind not in CLASSES:
            continue
        if w.onset is None:
            pos = int(np.searchsorted(marks, w.peak)) - 1
            if pos >= 0:
                ranges.append((int(marks[pos]) + 1, w.peak - 1))
        if w.offset is None:
            pos = int(np.searchsorted(marks, w.peak, side="right"))
            if pos < len(marks):
                ranges.append((w.peak + 1, int(marks[pos]) - 1))
    return ranges
