"""The LUDB protocol of the published delineation results, so sigseg's numbers sit beside them.

The protocol is Moskalenko et al.'s: Moskalenko V., Zolotykh N., Osipov G., "Deep Learning for
ECG Segmentation", International Conference on Neuroinformatics (Springer, 2019),
arXiv:2001.04689. The LUDB results published since then are quoted beside theirs, with the same
150-ms tolerance. ``BENCHMARK.md``'s 150-ms set treats the record edges differently and gives
other numbers, so this module implements the protocol on its own. Per lead, per boundary (P,
QRS and T onsets and offsets):

* the scored window is the record without its first and last 2 s (LUDB: 2.0 to 8.0 s);
* predicted positions are matched one-to-one to reference positions, closest pairs first,
  within 150 ms, over the whole lead;
* a matched pair whose reference lies in the window is a true positive, an unmatched reference
  in the window a false negative, an unmatched prediction in the window a false positive;
  nothing outside the window counts, so a wave that straddles the window's edge is never
  half-counted;
* the counts add up over every lead of every record, and only then become Se, PPV and F1
  (micro-averaging); each wave's F1 is the lower of its onset and offset F1 (the papers
  report "F1 at least ..." per wave), beside the mean of the six.

Where each detail comes from. We had the paper's wording through torch_ecg's reproduction of
it (``DeepPSP/torch_ecg``, ``benchmarks/train_unet_ludb``), not the paper itself:

* The paper (section 3.2, as torch_ecg quotes it): 150 ms for every onset and offset; a
  detected boundary is correct within 150 ms of the cardiologists' mark; a detected boundary
  with no mark within 150 ms is a false positive; an undetected mark is a false negative; Se,
  PPV, F1 and the error's mean and SD per boundary. "At least" per wave: the abstract.
* torch_ecg's reproduction: the 2-s edges (``start_from`` = ``end_at`` = 2 s, which torch_ecg
  attributes to the paper's section 3.1); counts summed over leads and records before the
  ratios; all 12 leads; samples nobody annotated read as background, so a wave predicted
  where the cardiologists marked nothing inside the window is a false positive. torch_ecg
  counts a reference as found when any prediction lies within 150 ms and sets FP =
  predictions - TP.
* Ours: one-to-one matching (:func:`sigseg.metrics.matching.match_positions`). It gives
  torch_ecg's counts except when one prediction lies within 150 ms of two references of the
  same boundary, which torch_ecg counts as two hits. torch_ecg scores random 4-s crops of the
  2..8 s stretch, fed to the model alone. We delineate the whole record and score all of
  2..8 s, which is deterministic. torch_ecg scores one label mask per record, the 12 leads'
  masks merged; we score every lead on its own annotation (LUDB annotates each lead).

How ``BENCHMARK.md``'s protocol (:mod:`~sigseg.tasks.ecg.boundaries`) differs: it scores the
whole record, every reference boundary counts, and a prediction counts only inside the lead's
annotated span (first annotation - tolerance .. last + tolerance); it also reports CSE-style
strict tolerances, and its 150-ms headline is the mean of the six F1s. Here a prediction in
the window outside the annotated span is a false positive: of LUDB's 2,400 leads, 70 have
their first annotation after 2 s and 119 their last before 8 s. ``fp_unannotated`` counts
those false positives, so that both readings can be given.

Example: a QRS predicted 20 ms early, and a P wave in the first second that is neither
annotated nor scored::

    >>> from sigseg.data.record import Wave
    >>> ref = [Wave("QRS", 1500, 1520, 1540)]
    >>> pred = [Wave("QRS", 1490, 1520, 1540), Wave("P", 300, 320, 340)]
    >>> counts = match_literature(pred, ref, fs=500, num_samples=5000)
    >>> counts.boundaries["QRS_on"]
    BoundaryTally(tp=1, fp=0, fn=0, errors_ms=(-20.0,))
    >>> counts.boundaries["P_on"].fp
    0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from sigseg.data.record import IGNORE_INDEX, Record, Wave
from sigseg.metrics.matching import EPS, BoundaryTally, Span, annotated_span, match_positions
from sigseg.metrics.tables import format_score, text_table
from sigseg.tasks.ecg import WAVE_KINDS
from sigseg.tasks.ecg.boundaries import (
    BOUNDARIES,
    BoundaryCounts,
    boundary_positions,
    reference_span,
    tally_scores,
)


@dataclass(frozen=True)
class LiteratureProtocol:
    """The protocol's two numbers: the tolerance for every boundary (ms) and the length left
    out at each end of a record (s)."""

    tolerance_ms: float = 150.0
    edge_s: float = 2.0

    def __post_init__(self) -> None:
        if not self.tolerance_ms >= 0 or not self.edge_s >= 0:
            raise ValueError(
                f"tolerance_ms and edge_s must be >= 0, got {self.tolerance_ms}, {self.edge_s}"
            )

    def window(self, num_samples: int, fs: float) -> Span | None:
        """The scored samples ``(first, last)``, inclusive; ``None`` when a record is too short
        to keep any.

        >>> LiteratureProtocol().window(5000, fs=500)
        (1000, 3999)
        """
        edge = round(self.edge_s * fs)
        first, last = edge, num_samples - 1 - edge
        return (first, last) if first <= last else None


PROTOCOL = LiteratureProtocol()
"""Moskalenko et al.'s protocol: 150 ms, the first and last 2 s of a record left out."""


def _zeros() -> Mapping[str, int]:
    return MappingProxyType(dict.fromkeys(BOUNDARIES, 0))


@dataclass(frozen=True)
class LiteratureCounts:
    """Summable counts of the literature protocol over any number of leads.

    * ``boundaries``: TP, FP, FN and signed errors per boundary.
    * ``fp_unannotated``: per boundary, the false positives that lie outside the lead's
      annotated span by more than the tolerance (those ``BENCHMARK.md`` would not count).
    * ``leads``: how many leads went in; ``protocol``: the settings (adding counts made with
      other settings is an error).
    """

    boundaries: BoundaryCounts = field(default_factory=BoundaryCounts)
    fp_unannotated: Mapping[str, int] = field(default_factory=_zeros)
    leads: int = 0
    protocol: LiteratureProtocol = PROTOCOL

    def __post_init__(self) -> None:
        if set(self.fp_unannotated) != set(BOUNDARIES):
            raise ValueError(f"fp_unannotated must have exactly the keys {BOUNDARIES}")
        object.__setattr__(self, "fp_unannotated", MappingProxyType(dict(self.fp_unannotated)))

    def __add__(self, other: LiteratureCounts) -> LiteratureCounts:
        if not isinstance(other, LiteratureCounts):
            return NotImplemented
        if self.protocol != other.protocol:
            raise ValueError("cannot add literature counts made with different settings")
        return LiteratureCounts(
            self.boundaries + other.boundaries,
            {b: self.fp_unannotated[b] + other.fp_unannotated[b] for b in BOUNDARIES},
            self.leads + other.leads,
            self.protocol,
        )

    def __radd__(self, other: object) -> LiteratureCounts:
        if other == 0:  # the start value of sum()
            return self
        return NotImplemented

    def result(self) -> dict[str, Any]:
        """Final scores, a JSON-friendly dict (NaN where undefined)::

        {"protocol": "literature", "tolerance_ms": 150.0, "edge_s": 2.0, "leads": int,
         "boundaries": {"P_on": {"se", "ppv", "f1", "error_mean_ms", "error_sd_ms",
                                 "tp", "fp", "fn", "fp_unannotated"}, ...},
         "wave_f1": {"P": float, "QRS": float, "T": float},   # min of onset and offset F1
         "mean_f1": float}                                     # mean of the six F1s

        >>> tally = BoundaryTally(tp=9, fp=1, fn=1)
        >>> counts = LiteratureCounts(BoundaryCounts(dict.fromkeys(BOUNDARIES, tally)))
        >>> r = counts.result()
        >>> r["wave_f1"]["P"], r["mean_f1"]
        (0.9, 0.9)
        """
        boundaries: dict[str, dict[str, float]] = {}
        for b in BOUNDARIES:
            scores = tally_scores(self.boundaries[b])
            scores["fp_unannotated"] = float(self.fp_unannotated[b])
            boundaries[b] = scores
        f1 = {b: boundaries[b]["f1"] for b in BOUNDARIES}
        return {
            "protocol": "literature",
            "tolerance_ms": self.protocol.tolerance_ms,
            "edge_s": self.protocol.edge_s,
            "leads": self.leads,
            "boundaries": boundaries,
            "wave_f1": {k: _lower(f1[f"{k}_on"], f1[f"{k}_off"]) for k in WAVE_KINDS},
            "mean_f1": float(np.mean(list(f1.values()))),
        }


def _lower(a: float, b: float) -> float:
    """The lower of two scores, NaN when either is undefined."""
    return math.nan if math.isnan(a) or math.isnan(b) else min(a, b)


def match_literature(
    pred_waves: Sequence[Wave],
    ref_waves: Sequence[Wave],
    fs: float,
    num_samples: int,
    protocol: LiteratureProtocol = PROTOCOL,
    annotated: Span | None = None,
) -> LiteratureCounts:
    """The literature protocol's counts for one lead.

    ``pred_waves`` and ``ref_waves`` are the waves of one lead (``Wave.lead`` is not looked
    at) at ``fs`` Hz in a record of ``num_samples`` samples. ``annotated`` (the lead's
    annotated span, e.g. :func:`~sigseg.metrics.matching.annotated_span` of its labels; by
    default the first..last reference mark) only sorts the false positives into
    ``fp_unannotated``; it changes no TP, FP or FN.

    A prediction in the window that a reference outside it claims is not counted (QRS onset),
    and a reference in the window is found by a prediction just outside it (T offset)::

        >>> ref = [Wave("QRS", 990, 1010, 1030), Wave("T", 800, 900, 1010)]
        >>> pred = [Wave("QRS", 1010, 1020, 1030), Wave("T", 800, 900, 980)]
        >>> c = match_literature(pred, ref, fs=500, num_samples=5000).boundaries
        >>> c["QRS_on"].tp, c["QRS_on"].fp, c["QRS_on"].fn
        (0, 0, 0)
        >>> c["T_off"].tp, c["T_off"].errors_ms
        (1, (-60.0,))
    """
    if not fs > 0:
        raise ValueError(f"sampling rate must be > 0, got {fs}")
    window = protocol.window(num_samples, fs)
    if annotated is None:
        annotated = reference_span(ref_waves)
    tol = protocol.tolerance_ms * fs / 1000.0
    tallies: dict[str, BoundaryTally] = {}
    unannotated: dict[str, int] = {}
    for boundary in BOUNDARIES:
        ref = boundary_positions(ref_waves, boundary)
        pred = boundary_positions(pred_waves, boundary)
        pairs, pred_used, ref_used = match_positions(pred, ref, tol)
        ref_in, pred_in = _inside(ref, window), _inside(pred, window)
        kept = [(p, r) for p, r in pairs if ref_in[r]]
        false_pos = ~pred_used & pred_in
        tallies[boundary] = BoundaryTally(
            tp=len(kept),
            fp=int(false_pos.sum()),
            fn=int((~ref_used & ref_in).sum()),
            errors_ms=tuple(float((pred[p] - ref[r]) * 1000.0 / fs) for p, r in kept),
        )
        if annotated is None:
            unannotated[boundary] = int(false_pos.sum())
        else:
            near = (pred >= annotated[0] - tol - EPS) & (pred <= annotated[1] + tol + EPS)
            unannotated[boundary] = int((false_pos & ~near).sum())
    return LiteratureCounts(BoundaryCounts(tallies), unannotated, 1, protocol)


def _inside(positions: np.ndarray, window: Span | None) -> np.ndarray:
    if window is None:
        return np.zeros(positions.size, dtype=bool)
    return (positions >= window[0]) & (positions <= window[1])


def score_record_literature(
    record: Record,
    predicted: Callable[[int], Sequence[Wave]],
    protocol: LiteratureProtocol = PROTOCOL,
) -> LiteratureCounts:
    """Every lead of an annotated record under the literature protocol; ``predicted(lead)``
    gives the waves predicted on a lead (as
    :func:`sigseg.tasks.ecg.evaluation.score_record` takes them)."""
    if record.labels is None:
        raise ValueError(f"{record.name}: record has no annotation to score against")
    total = LiteratureCounts(protocol=protocol)
    for lead in range(record.signal.shape[0]):
        total = total + match_literature(
            list(predicted(lead)),
            record.lead_waves(lead),
            record.fs,
            record.num_samples,
            protocol,
            annotated_span(record.labels[lead], IGNORE_INDEX),
        )
    return total


def format_literature(result: Mapping[str, Any]) -> str:
    """Plain-text tables of a :meth:`LiteratureCounts.result` dict, for a CLI to print: the
    six boundaries (Se, PPV, F1, error, counts), then the F1 per wave as the papers give it."""
    out = [
        f"Leads evaluated: {result['leads']}",
        "",
        f"Literature protocol (Moskalenko et al. 2019): {result['tolerance_ms']:g} ms for every "
        f"boundary, the first and last {result['edge_s']:g} s of each record not scored",
    ]
    rows = []
    for b in BOUNDARIES:
        s = result["boundaries"][b]
        err = "-"
        if not math.isnan(s["error_mean_ms"]):
            err = f"{format_score(s['error_mean_ms'], 1)} ± {format_score(s['error_sd_ms'], 1)}"
        counts = [f"{int(s[k])}" for k in ("tp", "fp", "fn", "fp_unannotated")]
        rows.append([b, *(format_score(s[k]) for k in ("se", "ppv", "f1")), err, *counts])
    header = ["boundary", "Se", "PPV", "F1", "error ms (mean ± SD)", "TP", "FP", "FN"]
    out += text_table([*header, "FP unannotated"], rows)
    waves = result["wave_f1"]
    out += ["", "F1 per wave (the lower of onset and offset, as the papers report it)"]
    out += text_table(
        [*WAVE_KINDS, "mean of six"],
        [[*(format_score(waves[k]) for k in WAVE_KINDS), format_score(result["mean_f1"])]],
    )
    return "\n".join(out)
