"""Pure, typed evaluation metrics for segmentation, for any label set.

Each family has two stages: counts that add up over leads and recordings, then scores.

* :mod:`~sigseg.metrics.samples`: per-class precision, recall, F1, IoU over annotated samples.
* :mod:`~sigseg.metrics.segments`: segmental F1@{10,25,50} and edit score.
* :mod:`~sigseg.metrics.matching`: one-to-one matching of positions within a tolerance and its
  summable counts (every timed family is built on it).
* :mod:`~sigseg.metrics.events`: the same two stages for any task (samples, intervals,
  episodes, boundaries, point events), summed over recordings.
* :mod:`~sigseg.metrics.episodes`: the episode-level F1 of the eye-movement field (the GazeCom
  anchor's evaluation code, sp_tool).
* :mod:`~sigseg.metrics.tables`: plain-text score tables.

A task's own protocol builds on these (the ECG delineation benchmark's boundaries and report
live with the ECG task); nothing here names a task's classes.
"""

from sigseg.metrics.episodes import EpisodeCounts, episode_counts
from sigseg.metrics.events import (
    TaskEvaluation,
    cohen_kappa,
    evaluate_recording,
    format_task_tables,
    headline,
)
from sigseg.metrics.matching import BoundaryTally, annotated_span, match_positions
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
    "SEGMENT_THRESHOLDS",
    "BoundaryTally",
    "EpisodeCounts",
    "SegmentCounts",
    "TaskEvaluation",
    "annotated_span",
    "cohen_kappa",
    "confusion_matrix",
    "edit_score",
    "episode_counts",
    "evaluate_recording",
    "format_task_tables",
    "headline",
    "label_segments",
    "match_positions",
    "sample_scores",
    "segment_counts",
    "segment_scores",
]
