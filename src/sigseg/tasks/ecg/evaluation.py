"""Scoring ECG delineation as ``BENCHMARK.md`` says: every lead is scored on its own
annotation at the record's own rate (LUDB: 500 Hz), with unannotated samples excluded; the
per-lead counts add up over the records."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sigseg.data.record import Record, Wave
from sigseg.inference.windows import WindowOptions
from sigseg.tasks.ecg.delineate import delineate_signal
from sigseg.tasks.ecg.report import Evaluation, evaluate_lead
from sigseg.tasks.ecg.waves import WaveOptions, waves_to_labels


def score_record(record: Record, predicted: Callable[[int], Sequence[Wave]]) -> Evaluation:
    """Score one annotated record; ``predicted(lead)`` gives the waves predicted on a lead."""
    if record.labels is None:
        raise ValueError(f"{record.name}: record has no annotation to score against")
    total = Evaluation.empty()
    for lead in range(record.signal.shape[0]):
        pred = list(predicted(lead))
        pred_labels = waves_to_labels(pred, record.num_samples)
        total = total + evaluate_lead(
            pred, pred_labels, record.lead_waves(lead), record.labels[lead], record.fs
        )
    return total


def evaluate_model(
    backend: Any,
    records: Iterable[Record],
    *,
    wave_options: WaveOptions | None = None,
    window_options: WindowOptions | None = None,
    progress: Callable[[Iterable[Record]], Iterable[Record]] | None = None,
) -> Evaluation:
    """Delineate every lead of every record with ``backend`` and score it."""
    total = Evaluation.empty()
    for record in progress(records) if progress else records:
        result = delineate_signal(
            backend,
            record.signal,
            record.fs,
            channels=record.channels,
            wave_options=wave_options,
            window_options=window_options,
        )
        total = total + score_record(record, result.lead_waves)
    return total


def result_summary(result: dict[str, Any]) -> dict[str, float]:
    """The headline numbers of an :meth:`Evaluation.result`: strict and 150-ms macro-F1 and
    the mean sample F1 of the three waves."""
    samples = result["samples"]
    return {
        "strict_macro_f1": result["boundaries"]["strict"]["macro_f1"],
        "f1_150ms": result["boundaries"]["150ms"]["macro_f1"],
        "sample_f1_waves": sum(samples[k]["f1"] for k in ("P", "QRS", "T")) / 3,
    }
