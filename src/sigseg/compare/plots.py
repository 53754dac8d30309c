"""The comparison's figures, drawn from its results dict (no pyplot state; Agg canvas).

* ``f1_vs_compute.png``: strict and 150-ms macro-F1 (mean ± SD over seeds) against MACs per
  second of signal, one point per model, NeuroKit2 as a horizontal line.
* ``f1_vs_receptive_field.png``: the dilation ablation, F1 against receptive field.
* ``delineation.png``: one test lead, the reference and every model's delineation (its first
  seed) stacked underneath, NeuroKit2 last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sigseg.atomic import atomic_path
from sigseg.data.record import IGNORE_INDEX, Record

COLORS = {"P": "tab:blue", "QRS": "tab:red", "T": "tab:green"}
TOLERANCES = (("strict", "strict"), ("150ms", "150 ms"))


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _save(fig: Any, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path


def _mean_sd(metrics: Mapping[str, Any], key: str) -> tuple[float, float]:
    value = metrics.get(key) or {}
    mean = value.get("mean")
    sd = value.get("sd")
    return (np.nan if mean is None else mean), (0.0 if sd is None else sd)


def plot_f1_vs_compute(results: Mapping[str, Any], path: Path) -> Path | None:
    models = results.get("models", {})
    if not models:
        return None
    fig = _figure(11, 4.5)
    axes = fig.subplots(1, 2, sharey=True)
    baseline = results.get("baseline") or {}
    for ax, (key, title) in zip(axes, TOLERANCES, strict=True):
        for name, m in models.items():
            x = m["profile"]["macs_per_second"] / 1e6
            y, err = _mean_sd(m["metrics"], f"boundaries.{key}.macro_f1")
            ax.errorbar(x, y, yerr=err, fmt="o", capsize=3)
            ax.annotate(name, (x, y), textcoords="offset points", xytext=(5, 4), fontsize=8)
        if baseline.get("all_leads"):
            ax.axhline(
                baseline["all_leads"]["boundaries"][key]["macro_f1"],
                ls="--",
                color="gray",
                label="NeuroKit2 DWT (all leads)",
            )
            ax.legend(loc="best", fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel("MMAC per second of signal (log)")
        ax.set_title(f"macro-F1, {title} tolerances")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("boundary macro-F1 (mean ± SD over seeds)")
    return _save(fig, path)


def plot_f1_vs_receptive_field(results: Mapping[str, Any], path: Path) -> Path | None:
    points = [
        p for p in results.get("ablation", []) if p["profile"].get("receptive_field_ms") is not None
    ]
    if not points:
        return None
    fig = _figure(7, 4.5)
    ax = fig.subplots()
    xs = [p["profile"]["receptive_field_ms"] for p in points]
    for key, title in TOLERANCES:
        ys, errs = zip(
            *(_mean_sd(p["metrics"], f"boundaries.{key}.macro_f1") for p in points), strict=True
        )
        ax.errorbar(xs, ys, yerr=errs, fmt="o-", capsize=3, label=f"{title} macro-F1")
    for p, x in zip(points, xs, strict=True):
        y, _ = _mean_sd(p["metrics"], "boundaries.strict.macro_f1")
        ax.annotate(
            f"{p['levels']} levels", (x, y), textcoords="offset points", xytext=(4, -12), fontsize=8
        )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("receptive field (ms, log scale)")
    ax.set_ylabel("boundary macro-F1")
    ax.set_title("dilated network: F1 against receptive field")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def _bars(ax: Any, row: float, waves: Sequence[Sequence[Any]], fs: float) -> None:
    for kind, onset, _peak, offset in waves:
        if kind in COLORS and onset is not None and offset is not None:
            ax.broken_barh(
                [(onset / fs, (offset - onset + 1) / fs)], (row - 0.35, 0.7), color=COLORS[kind]
            )


def plot_delineation(
    results: Mapping[str, Any], path: Path, record: Record, lead: int
) -> Path | None:
    """The record's lead with its reference waves, and each model's first-seed delineation."""
    rows: list[tuple[str, list[Any]]] = []
    seen: set[str] = set()
    for run in results.get("runs", []):
        if run.get("status") != "ok" or run["label"] in seen or "main" not in run["groups"]:
            continue
        if run["plot"]["record"] != record.name:
            continue
        seen.add(run["label"])
        rows.append((f"{run['label']} (seed {run['seed']})", run["plot"]["waves"]))
    baseline = results.get("baseline") or {}
    if baseline.get("plot", {}).get("record") == record.name:
        rows.append(("NeuroKit2 DWT", baseline["plot"]["waves"]))
    reference = [[w.kind, w.onset, w.peak, w.offset] for w in record.lead_waves(lead)]
    rows.insert(0, ("reference", reference))
    fs = record.fs
    t = np.arange(record.num_samples) / fs
    fig = _figure(12, 2.2 + 0.4 * len(rows))
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[2.0, 0.4 * len(rows)])
    top.plot(t, record.signal[lead], color="black", lw=0.8)
    for kind, onset, _peak, offset in reference:
        if kind in COLORS and onset is not None and offset is not None:
            top.axvspan(onset / fs, (offset + 1) / fs, color=COLORS[kind], alpha=0.2, lw=0)
    if record.labels is not None:  # grey out the unannotated edges (not scored)
        annotated = np.flatnonzero(record.labels[lead] != IGNORE_INDEX)
        if annotated.size:
            top.axvspan(0, annotated[0] / fs, color="0.85", lw=0)
            top.axvspan((annotated[-1] + 1) / fs, record.duration, color="0.85", lw=0)
    top.set_title(
        f"{record.name}, lead {record.channels[lead]}: reference (shaded) and "
        "delineations (P blue, QRS red, T green; grey: not annotated, not scored)"
    )
    top.set_ylabel("mV")
    for i, (_, waves) in enumerate(rows):
        _bars(bottom, i, waves, fs)
    bottom.set_yticks(range(len(rows)), [name for name, _ in rows], fontsize=8)
    bottom.set_ylim(len(rows) - 0.5, -0.5)
    bottom.set_xlabel("time (s)")
    bottom.set_xlim(0, record.duration)
    bottom.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def write_plots(
    results: Mapping[str, Any],
    out_dir: str | Path,
    record: Record | None = None,
    lead: int = 0,
) -> dict[str, Path]:
    """Draw every figure the results allow; returns ``{key: path}`` of those written."""
    out_dir = Path(out_dir)
    made = {
        "compute": plot_f1_vs_compute(results, out_dir / "f1_vs_compute.png"),
        "receptive_field": plot_f1_vs_receptive_field(
            results, out_dir / "f1_vs_receptive_field.png"
        ),
        "delineation": (
            plot_delineation(results, out_dir / "delineation.png", record, lead)
            if record is not None
            else None
        ),
    }
    return {k: p for k, p in made.items() if p is not None}
