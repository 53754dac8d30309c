"""``sigseg evaluate``: score a model, or a folder of predictions, against labelled data:
LUDB with the ECG protocol of BENCHMARK.md (or, with ``--protocol literature``, the protocol
of the published LUDB results), or any folder or manifest with the generic sample, event,
episode, boundary and point metrics of the data's task."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import typer

PROTOCOLS = ("benchmark", "literature")
"""``--protocol`` values: BENCHMARK.md's, and the one of the published LUDB results."""


def evaluate(
    model: str = typer.Option(
        None,
        "--model",
        help="Pretrained name or checkpoint/ONNX path (default: the shipped ECG model).",
    ),
    predictions: Path = typer.Option(
        None,
        "--predictions",
        help="Folder of predictions to score instead: <stem>_events.tsv tables from "
        "`sigseg segment` (LUDB: WFDB annotation files <record>.<lead>).",
    ),
    data: str = typer.Option(
        None, "--data", help="A folder or manifest of labelled recordings, or LUDB (default)."
    ),
    split: str = typer.Option(
        None, "--split", help="train, val, test or all (default: LUDB test, other data all)."
    ),
    fs: float = typer.Option(None, "--fs", help="Sampling rate of files that store none (Hz)."),
    gaps: str = typer.Option(
        None, "--gaps", help="Samples no label covers: unlabelled (default) or background."
    ),
    by: str = typer.Option(None, "--by", help="Also break down by a metadata field, e.g. rhythms."),
    backend: str = typer.Option("torch", "--backend", help="torch or onnx."),
    protocol: str = typer.Option(
        "benchmark",
        "--protocol",
        help="LUDB: benchmark (BENCHMARK.md) or literature (Moskalenko et al. 2019: 150 ms, "
        "the first and last 2 s of each record not scored; sigseg.tasks.ecg.literature).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Score every recording of the split. LUDB: every lead, both tolerance sets, sample F1,
    segmental F1 and the edit score. Other data: per class sample precision/recall/F1 and
    Cohen's kappa, event F1 at IoU >= 0.5, episode F1, onset/offset F1 and point-event F1
    with timing errors within the task's tolerance. ``--protocol literature`` scores LUDB as
    the published results do: per-boundary Se, PPV and F1 and the F1 per wave."""
    from rich.progress import track

    from sigseg.training.datamodule import is_ludb_folder

    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    if data is not None and not is_ludb_folder(data):
        if protocol != "benchmark":
            raise ValueError(f"{data}: --protocol {protocol} scores LUDB only")
        _evaluate_any(data, fs, gaps, predictions, model, split or "all", backend, as_json)
        return
    split = split or "test"
    if protocol == "literature":
        _evaluate_literature(data, split, predictions, model, backend, by, as_json)
        return

    from sigseg.tasks.ecg.evaluation import evaluate_model, score_record
    from sigseg.tasks.ecg.ludb import load_ludb
    from sigseg.tasks.ecg.report import Evaluation, format_tables, group_summary

    records = load_ludb(data, split=split, mode="multi")
    if predictions is not None:
        if not predictions.is_dir():
            raise ValueError(f"{predictions}: predictions folder not found")
        per_record = [
            score_record(r, _predicted_reader(predictions, r))
            for r in track(records, description="scoring", transient=True)
        ]
    else:
        from sigseg.inference.backends import load_backend
        from sigseg.pretrained import resolve_model

        runner = load_backend(resolve_model(model), backend)
        per_record = [
            evaluate_model(runner, [r])
            for r in track(records, description="evaluating", transient=True)
        ]
    total = sum(per_record, Evaluation.empty())
    result: dict[str, Any] = {"split": split, "records": len(records), **total.result()}
    if by:
        groups = _grouped(records, per_record, by, Evaluation.empty())
        result["by"] = {by: {k: group_summary(v.result()) for k, v in groups.items()}}
    if as_json:
        typer.echo(json.dumps(_json_safe(result), indent=1))
        return
    typer.echo(f"{len(records)} records, split {split}")
    typer.echo(format_tables(result))
    for key, groups_ in result.get("by", {}).items():
        typer.echo(f"\nBy {key}: strict macro-F1, P false positives per beat, T strict F1")
        for value, row in sorted(groups_.items(), key=lambda kv: -kv[1]["leads"]):
            typer.echo(
                f"  {row['strict_macro_f1']:.3f}  {row['p_fp_per_beat']:6.1%}  {row['t_f1']:.3f}"
                f"  ({row['leads']:4d} leads)  {value}"
            )


def _evaluate_literature(
    data: str | None,
    split: str,
    predictions: Path | None,
    model: str | None,
    backend: str,
    by: str | None,
    as_json: bool,
) -> None:
    """``sigseg evaluate --protocol literature`` on LUDB."""
    from rich.progress import track

    from sigseg.tasks.ecg.literature import (
        LiteratureCounts,
        format_literature,
        score_record_literature,
    )
    from sigseg.tasks.ecg.ludb import load_ludb

    records = load_ludb(data, split=split, mode="multi")
    if predictions is not None:
        if not predictions.is_dir():
            raise ValueError(f"{predictions}: predictions folder not found")

        def predicted(record: Any) -> Any:
            return _predicted_reader(predictions, record)

    else:
        from sigseg.inference.backends import load_backend
        from sigseg.pretrained import resolve_model
        from sigseg.tasks.ecg.delineate import delineate_signal

        runner = load_backend(resolve_model(model), backend)

        def predicted(record: Any) -> Any:
            return delineate_signal(
                runner, record.signal, record.fs, channels=record.channels
            ).lead_waves

    per_record = [
        score_record_literature(r, predicted(r))
        for r in track(records, description="evaluating", transient=True)
    ]
    result: dict[str, Any] = {
        "split": split,
        "records": len(records),
        **sum(per_record, LiteratureCounts()).result(),
    }
    if by:
        groups = _grouped(records, per_record, by, LiteratureCounts())
        result["by"] = {
            by: {k: {"leads": v.leads, "mean_f1": v.result()["mean_f1"]} for k, v in groups.items()}
        }
    if as_json:
        typer.echo(json.dumps(_json_safe(result), indent=1))
        return
    typer.echo(f"{len(records)} records, split {split}")
    typer.echo(format_literature(result))
    for key, groups_ in result.get("by", {}).items():
        typer.echo(f"\nMean F1 of the six boundaries by {key}:")
        for value, row in sorted(groups_.items(), key=lambda kv: -kv[1]["leads"]):
            typer.echo(f"  {row['mean_f1']:.3f}  ({row['leads']:4d} leads)  {value}")


def _evaluate_any(
    data: str,
    fs: float | None,
    gaps: str | None,
    predictions: Path | None,
    model: str | None,
    split: str,
    backend: str,
    as_json: bool,
) -> None:
    """``sigseg evaluate`` on a folder or manifest of any task."""
    from sigseg.data.dataset import open_dataset
    from sigseg.evaluation import score_predictions, score_segmenter
    from sigseg.metrics.events import format_task_tables

    dataset = open_dataset(data, fs=fs, gaps=gaps)
    records = dataset.records(split)
    if not records:
        raise ValueError(f"{data}: split {split!r} has no recordings")
    if predictions is not None:
        if not predictions.is_dir():
            raise ValueError(f"{predictions}: predictions folder not found")
        total = score_predictions(records, predictions, dataset.task)
    else:
        from sigseg.inference.segment import load_segmenter

        if model is None:
            raise ValueError("--model or --predictions is needed to evaluate on this data")
        segmenter = load_segmenter(model, backend)
        unknown = sorted(set(dataset.task.foreground) - set(segmenter.task.foreground))
        if unknown:
            raise ValueError(
                f"{model}: the model does not know class(es) {', '.join(unknown)} of {data} "
                f"(it has {', '.join(segmenter.task.foreground)})"
            )
        total = score_segmenter(segmenter, records, dataset.task)
    result = {"split": split, "recordings": len(records), "task": dataset.task.to_dict()}
    result.update(total.result())
    if as_json:
        typer.echo(json.dumps(_json_safe(result), indent=1))
        return
    typer.echo(f"{len(records)} recordings, split {split}, task {dataset.task.kind}")
    typer.echo(format_task_tables(result, dataset.task))


def _predicted_reader(folder: Path, record: Any) -> Any:
    """``predicted(lead)`` reading ``<folder>/<id>.<lead>`` (missing file: no waves)."""
    import wfdb

    from sigseg.tasks.ecg.annotations import check_annotation_samples, group_waves
    from sigseg.tasks.ecg.outputs import annotation_extension

    base = folder / Path(record.name).name

    def predicted(lead: int) -> list:
        ext = annotation_extension(record.channels[lead])
        if not Path(f"{base}.{ext}").is_file():
            return []
        try:
            ann = wfdb.rdann(str(base), ext)
        except Exception as err:  # wfdb raises bare exceptions on corrupt files
            raise ValueError(f"{base}.{ext}: unreadable annotation file ({err})") from None
        check_annotation_samples(ann.sample, record.num_samples, f"{base}.{ext}")
        return group_waves(ann.sample, ann.symbol, lead=lead).waves

    return predicted


def _grouped(records: list[Any], scores: list[Any], by: str, empty: Any) -> dict[str, Any]:
    """Per-record scores (anything that adds with ``+``) summed per value of the metadata
    field ``by`` (a record with several values counts in each)."""
    groups: dict[str, Any] = {}
    for record, score in zip(records, scores, strict=True):
        for value in _values(record.metadata.get(by)):
            groups[value] = groups.get(value, empty) + score
    return groups


def _values(value: Any) -> list[str]:
    if value is None:
        return ["(none)"]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value] or ["(none)"]
    return [str(value)]


def _json_safe(value: Any) -> Any:
    """NaN (an undefined score) becomes null so the output is strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value
