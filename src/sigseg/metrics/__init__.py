"""Pure, typed evaluation metrics for segmentation (``BENCHMARK.md`` is the protocol).

Each family has two stages: per-lead counts that add up over leads and records, then scores.

* :mod:`~sigseg.metrics.samples`: per-class precision, recall, F1, IoU over annotated samples.
* :mod:`~sigseg.metrics.boundaries`: onset/offset matching within tolerances (the headline).
* :mod:`~sigseg.metrics.segments`: segmental F1@{10,25,50} and edit score.
* :mod:`~sigseg.metrics.matching`: one-to-one matching of positions within a tolerance and its
  summable counts (every timed family is built on it).
* :mod:`~sigseg.metrics.tables`: plain-text score tables.
* :mod:`~sigseg.metrics.report`: all of them for a lead, accumulated, and as text tables.
* :mod:`~sigseg.metrics.events`: the same two stages for any task (samples, intervals,
  episodes, boundaries, point events), summed over recordings.
"""

from sigseg.metrics.boundaries import (
    BOUNDARIES,
    TOLERANCE_SETS,
    TOLERANCES_150MS,
    TOLERANCES_STRICT,
    BoundaryCounts,
    boundary_scores,
    match_boundaries,
    reference_span,
)
from sigseg.metrics.events import (
    TaskEvaluation,
    cohen_kappa,
    evaluate_recording,
    format_task_tables,
    headline,
    match_episodes,
)
from sigseg.metrics.matching import BoundaryTally, annotated_span, match_positions
from sigseg.metrics.report import Evaluation, evaluate_lead, format_tables
from sigseg.metrics.samples import confusion_matrix, sample_scores
from sigseg.metrics.segments import (
    SEGMENT_THRESHOLDS,
    SegmentCounts,
    edit_score,
    label_segments,
    segment_counts,
    segment_scores,
)

__all__ = [
    "BOUNDARIES",
    "SEGMENT_THRESHOLDS",
    "TOLERANCES_150MS",
    "TOLERANCES_STRICT",
    "TOLERANCE_SETS",
    "BoundaryCounts",
    "BoundaryTally",
    "Evaluation",
    "SegmentCounts",
    "TaskEvaluation",
    "annotated_span",
    "boundary_scores",
    "cohen_kappa",
    "confusion_matrix",
    "edit_score",
    "evaluate_lead",
    "evaluate_recording",
    "format_tables",
    "format_task_tables",
    "headline",
    "label_segments",
    "match_boundaries",
    "match_episodes",
    "match_positions",
    "reference_span",
    "sample_scores",
    "segment_counts",
    "segment_scores",
]
