"""A field's comparison to convergence as people read it: ``report.md`` (one row per model:
accuracy mean ± SD over seeds, cost, training time, inference speed) and the learning curves
``curves.png`` (validation score against epochs and against training minutes, one line per
run), drawn from ``results.json`` and the runs' ``curve.json`` files."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sigseg.atomic import atomic_path, write_text
from sigseg.compare.aggregate import MeanSD
from sigseg.metrics.tables import text_table

COLUMNS = (
    "model",
    "test score",
    "seeds",
    "parameters",
    "MMAC/s",
    "field (s)",
    "epochs",
    "train min",
    "x real time",
)


def _stat(metrics: Mapping[str, Any], key: str) -> MeanSD:
    value = metrics.get(key) or {}
    return MeanSD(value.get("mean"), value.get("sd"), int(value.get("n", 0)))


def model_rows(results: Mapping[str, Any]) -> list[list[str]]:
    """One table row per model of a field's ``results.json``."""
    rows = []
    for label, model in results.get("models", {}).items():
        m, profile = model["metrics"], model["profile"]
        field_ms = profile.get("receptive_field_ms")
        rows.append(
            [
                label,
                _stat(m, "score").format(3),
                str(len(model["seeds"])),
                f"{profile['parameters']:,}",
                f"{profile['macs_per_second'] / 1e6:.1f}",
                "global" if field_ms is None else f"{field_ms / 1000:.1f}",
                _stat(m, "train.epochs").format(0),
                _stat(m, "train.seconds").format(1, 1 / 60),
                _stat(m, "inference.realtime").format(0),
            ]
        )
    return rows


def plot_curves(out: Path, results: Mapping[str, Any]) -> Path | None:
    """``curves.png``: every run's validation score against epochs and training minutes."""
    from matplotlib.figure import Figure

    curves = {}
    for run_id in results.get("planned", []):
        path = out / "runs" / run_id / "curve.json"
        if path.is_file():
            curves[run_id] = json.loads(path.read_text(encoding="utf-8"))
    if not curves:
        return None
    fig = Figure(figsize=(11, 4), dpi=110, layout="constrained")
    by_epoch, by_time = fig.subplots(1, 2, sharey=True)
    labels = list(results.get("models", {})) or sorted({r.rsplit("-seed", 1)[0] for r in curves})
    colors = {label: f"C{i % 10}" for i, label in enumerate(labels)}
    for run_id, points in curves.items():
        label, seed = run_id.rsplit("-seed", 1)
        style = {"color": colors.get(label, "k"), "alpha": 0.9 if seed == "0" else 0.5}
        legend = label if seed == "0" else None
        scores = [p["score"] for p in points]
        by_epoch.plot([p["epoch"] for p in points], scores, label=legend, **style)
        by_time.plot([p["seconds"] / 60 for p in points], scores, **style)
    by_epoch.set(xlabel="epoch", ylabel="validation score", title=f"{results['field']}: by epoch")
    by_time.set(xlabel="training minutes (2 CPU cores, shared)", title="by training time")
    by_epoch.legend(loc="lower right")
    path = out / "curves.png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path


def write_field_report(out: Path, results: Mapping[str, Any]) -> Path:
    """``report.md`` and ``curves.png`` of one field."""
    lines = [
        f"# {results['field']}: every model trained to convergence",
        "",
        f"Command: `{results.get('command', '')}`",
        "",
        f"Recipe: `{json.dumps(results.get('recipe', {}), sort_keys=True)}`. Test score: "
        f"{results.get('score', 'the headline score')}, mean ± SD over seeds.",
        "",
        "```",
        *text_table(COLUMNS, model_rows(results)),
        "```",
        "",
    ]
    done = sum(len(m["seeds"]) for m in results.get("models", {}).values())
    lines.append(f"Runs finished: {done} of {len(results.get('planned', []))}.")
    for failure in results.get("failed", []):
        lines.append(f"- failed: {failure['run_id']}: {failure['error']}")
    if plot_curves(out, results):
        lines += ["", "![learning curves](curves.png)"]
    path = out / "report.md"
    write_text(path, "\n".join(lines) + "\n")
    return path
