"""``report.md`` from a comparison's ``results.json`` dict: a pure formatting function.

Every learned model's numbers are ``mean ± SD`` over its seeds (sample SD; a single seed shows
the mean alone). The NeuroKit2 rows are deterministic and have no SD.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sigseg.atomic import write_text
from sigseg.compare.aggregate import MeanSD
from sigseg.tasks.ecg.boundaries import BOUNDARIES

CLASS_NAMES = ("background", "P", "QRS", "T")
SEGMENT_KEYS = ("f1@10", "f1@25", "f1@50", "edit")


def _cell(metrics: Mapping[str, Any], key: str, digits: int = 3, scale: float = 1.0) -> str:
    value = metrics.get(key)
    if value is None:
        return "-"
    return MeanSD(value["mean"], value["sd"], value["n"]).format(digits, scale)


def _num(value: Any, digits: int = 3, scale: float = 1.0) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value * scale:.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    align = ["---"] + ["---:"] * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _rf(profile: Mapping[str, Any]) -> str:
    ms = profile.get("receptive_field_ms")
    return "global" if ms is None else f"{ms:.0f}"


def _baseline_rows(baseline: Mapping[str, Any] | None) -> list[tuple[str, Mapping[str, Any]]]:
    """(row name, Evaluation.result()) of the NeuroKit2 rows present."""
    if not baseline:
        return []
    rows = [("NeuroKit2 DWT (all leads)", baseline["all_leads"])]
    if baseline.get("lead_ii"):
        rows.append(("NeuroKit2 DWT (lead II)", baseline["lead_ii"]))
    return rows


def _models(results: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    return list(results.get("models", {}).items())


def headline_table(results: Mapping[str, Any]) -> list[str]:
    """Accuracy and cost side by side, one row per model, NeuroKit2 rows last."""
    header = [
        "model",
        "params",
        "MMAC/s",
        "RF (ms)",
        "strict macro-F1",
        "150-ms macro-F1",
        "train (s)",
        "epochs",
        "steps",
        "fwd ksamples/s",
        "x real time",
        "peak MiB",
    ]
    rows = []
    for name, m in _models(results):
        p, mt = m["profile"], m["metrics"]
        rows.append(
            [
                f"`{name}`",
                f"{p['parameters']:,}",
                _num(p["macs_per_second"], 1, 1e-6),
                _rf(p),
                _cell(mt, "boundaries.strict.macro_f1"),
                _cell(mt, "boundaries.150ms.macro_f1"),
                _cell(mt, "train.seconds", 0),
                _cell(mt, "train.epochs", 1),
                _cell(mt, "train.steps", 0),
                _cell(mt, "inference.forward_samples_per_s", 1, 1e-3),
                _cell(mt, "inference.realtime_factor", 0),
                _cell(mt, "inference.peak_rss_delta_mib", 1),
            ]
        )
    for name, r in _baseline_rows(results.get("baseline")):
        b = r["boundaries"]
        rows.append(
            [
                name,
                "-",
                "-",
                "-",
                _num(b["strict"]["macro_f1"]),
                _num(b["150ms"]["macro_f1"]),
                "-",
                "-",
                "-",
                "-",
                "-",
                "-",
            ]
        )
    return _table(header, rows)


def boundary_table(results: Mapping[str, Any], tolerance: str, stat: str = "f1") -> list[str]:
    """One column per boundary (``stat`` = ``f1``, ``se`` or ``ppv``) plus the macro-F1."""
    header = ["model", *BOUNDARIES] + (["macro-F1"] if stat == "f1" else [])
    rows = []
    for name, m in _models(results):
        mt = m["metrics"]
        row = [f"`{name}`"] + [_cell(mt, f"boundaries.{tolerance}.{b}.{stat}") for b in BOUNDARIES]
        if stat == "f1":
            row.append(_cell(mt, f"boundaries.{tolerance}.macro_f1"))
        rows.append(row)
    for name, r in _baseline_rows(results.get("baseline")):
        scores = r["boundaries"][tolerance]
        row = [name] + [_num(scores[b][stat]) for b in BOUNDARIES]
        if stat == "f1":
            row.append(_num(scores["macro_f1"]))
        rows.append(row)
    return _table(header, rows)


def _error(mean: Any, sd: Any) -> str:
    if mean is None or (isinstance(mean, float) and not math.isfinite(mean)):
        return "-"
    return f"{mean:.1f} ± {_num(sd, 1)}"


def error_table(results: Mapping[str, Any], tolerance: str = "150ms") -> list[str]:
    """Signed boundary error (predicted - reference, ms) of the matched pairs: the mean error
    and the SD of the errors, each averaged over seeds."""
    rows = []
    for name, m in _models(results):
        mt = m["metrics"]
        cells = []
        for b in BOUNDARIES:
            mean = mt.get(f"boundaries.{tolerance}.{b}.error_mean_ms") or {}
            sd = mt.get(f"boundaries.{tolerance}.{b}.error_sd_ms") or {}
            cells.append(_error(mean.get("mean"), sd.get("mean")))
        rows.append([f"`{name}`", *cells])
    for name, r in _baseline_rows(results.get("baseline")):
        s = r["boundaries"][tolerance]
        cells = [_error(s[b]["error_mean_ms"], s[b]["error_sd_ms"]) for b in BOUNDARIES]
        rows.append([name, *cells])
    return _table(["model", *BOUNDARIES], rows)


def sample_segment_table(results: Mapping[str, Any]) -> list[str]:
    """Sample F1 per class (annotated samples) and segmental F1@{10,25,50} and edit score."""
    header = ["model", *(f"sample F1 {c}" for c in CLASS_NAMES), *SEGMENT_KEYS]
    rows = []
    for name, m in _models(results):
        mt = m["metrics"]
        rows.append(
            [f"`{name}`"]
            + [_cell(mt, f"samples.{c}.f1") for c in CLASS_NAMES]
            + [_cell(mt, f"segments.{k}") for k in SEGMENT_KEYS]
        )
    for name, r in _baseline_rows(results.get("baseline")):
        rows.append(
            [name]
            + [_num(r["samples"][c]["f1"]) for c in CLASS_NAMES]
            + [_num(r["segments"][k]) for k in SEGMENT_KEYS]
        )
    return _table(header, rows)


def ablation_table(results: Mapping[str, Any]) -> list[str]:
    header = [
        "dilation levels",
        "RF (ms)",
        "params",
        "MMAC/s",
        "strict macro-F1",
        "150-ms macro-F1",
        "seeds",
    ]
    rows = []
    for point in results.get("ablation", []):
        p, mt = point["profile"], point["metrics"]
        rows.append(
            [
                str(point["levels"]),
                _rf(p),
                f"{p['parameters']:,}",
                _num(p["macs_per_second"], 1, 1e-6),
                _cell(mt, "boundaries.strict.macro_f1"),
                _cell(mt, "boundaries.150ms.macro_f1"),
                ", ".join(map(str, point["seeds"])),
            ]
        )
    return _table(header, rows)


def _baseline_notes(baseline: Mapping[str, Any] | None) -> list[str]:
    if not baseline:
        return ["NeuroKit2 baseline not run."]
    ref = baseline["reference_lead_ii"]
    lines = [
        f"Method: `{baseline['method']}` (NeuroKit2 {baseline['version']}), at the records' "
        f"own rate; {baseline['leads']} leads, {baseline['seconds_per_lead'] * 1000:.0f} ms "
        f"per lead; {len(baseline['failures'])} lead(s) on which NeuroKit2 raised (scored "
        "with no waves).",
    ]
    if baseline.get("lead_ii"):
        b = baseline["lead_ii"]["boundaries"]
        lines.append(
            f"Lead II only: strict macro-F1 {_num(b['strict']['macro_f1'])}, 150-ms "
            f"{_num(b['150ms']['macro_f1'])}; BENCHMARK.md measured {ref['strict']:.3f} strict "
            f"and {ref['150ms']:.3f} 150-ms on lead II of the full test split (40 records); "
            "a subset of records gives different numbers."
        )
    for record, lead, error in baseline["failures"][:10]:
        lines.append(f"- failed: {record} lead {lead}: {error}")
    return lines


def format_report(results: Mapping[str, Any]) -> str:
    """The whole ``report.md`` text."""
    data, machine, versions = results["data"], results["machine"], results["versions"]
    config = results["config"]
    models = results.get("models", {})
    lines = [
        "# sigseg compare: ECG delineation, learned models against NeuroKit2",
        "",
        f"Data: **{data['source']}** ({len(data['test_records'])} test records, "
        f"{data['test_leads']} lead-signals scored; {data['train_examples']} training "
        f"examples per epoch). Budget: {results['budget']}. Seeds: "
        f"{', '.join(map(str, config['seeds']))}"
        + (" (quick demo settings: not a benchmark result)." if config.get("quick") else "."),
        "",
        "Command:",
        "",
        "```",
        results.get("command") or "(library call)",
        "```",
        "",
        "Protocol: BENCHMARK.md (boundary matching within the annotated span, strict and 150-ms "
        "tolerances, sample F1 over annotated samples, segmental F1). Learned models: "
        "`mean ± SD` over seeds (sample SD).",
        "",
        "## Accuracy and cost",
        "",
        *headline_table(results),
        "",
        "MMAC/s: multiply-accumulates per second of signal (torch flop counter). RF: receptive "
        "field at the model's rate. train: wall time of the training run, including data "
        "setup and validation. "
        "fwd ksamples/s: model forward on one 12-lead 10-s record's windows at the model rate, "
        "median of repeats. x real time: end-to-end `predict_long` on a 12-lead 10-s 500-Hz "
        "record, lead-seconds per second. peak MiB: rise of the resident set size (psutil "
        "sampling and ru_maxrss) during the first forward pass on that record, measured in a "
        f"fresh process with {machine.get('torch_threads')} thread(s).",
        "",
        "## Boundaries, strict tolerances (F1)",
        "",
        *boundary_table(results, "strict"),
        "",
        "## Boundaries, 150-ms tolerance (F1)",
        "",
        *boundary_table(results, "150ms"),
        "",
        "## Sensitivity and PPV, strict tolerances",
        "",
        "Sensitivity:",
        "",
        *boundary_table(results, "strict", "se"),
        "",
        "Positive predictive value:",
        "",
        *boundary_table(results, "strict", "ppv"),
        "",
        "## Boundary error (ms, predicted - reference; 150-ms matches; mean ± SD)",
        "",
        *error_table(results),
        "",
        "## Samples and segments",
        "",
        *sample_segment_table(results),
        "",
    ]
    if results.get("ablation"):
        lines += [
            "## Ablation: receptive field of the dilated network",
            "",
            "`dilated` with n levels of 32 channels at dilations 1, 2, ..., 2^(n-1) "
            "(kernel 3, residual), same budget and recipe.",
            "",
            *ablation_table(results),
            "",
        ]
    plots = results.get("plots", {})
    if plots:
        lines += ["## Plots", ""]
        titles = {
            "compute": "F1 against compute",
            "receptive_field": "F1 against receptive field (ablation)",
            "delineation": "Delineations of one test record",
        }
        for key, name in plots.items():
            lines += [f"![{titles.get(key, key)}]({name})", ""]
    lines += ["## NeuroKit2 baseline", "", *_baseline_notes(results.get("baseline")), ""]
    failed = results.get("runs_failed") or []
    if failed:
        lines += ["## Failed runs", ""]
        lines += [
            f"- {r['run_id']}: {r['error']}"
            for r in results["runs"]
            if r["run_id"] in failed and r.get("status") == "failed"
        ]
        lines.append("")
    missing = [
        r
        for r in results.get("runs_planned", [])
        if r not in {x["run_id"] for x in results.get("runs", [])}
    ]
    if missing:
        lines += [f"Runs not yet finished: {', '.join(missing)}.", ""]
    recipe = results.get("recipe", {})
    lines += [
        "## Setup",
        "",
        f"- Models: {', '.join(f'`{m}`' for m in models) or '-'} with `{config['model_options']}`.",
        f"- Training recipe (every run): rate {recipe.get('sampling_rate')} Hz, crops of "
        f"{recipe.get('crop_seconds')} s, batch {recipe.get('batch_size')}, lr {recipe.get('lr')}"
        f", {recipe.get('schedule')} schedule, loss {recipe.get('loss')}, augment "
        f"{recipe.get('augment')}, normalize {recipe.get('normalize')}.",
        f"- Decoding: `{results.get('decoding')}`.",
        f"- Machine: {machine['cpu']}, {machine['logical_cores']} logical cores "
        f"({machine.get('usable_cores')} usable), {machine['ram_gib']} GiB RAM, "
        f"{machine['os']}, Python {machine['python']}, PyTorch threads "
        f"{machine.get('torch_threads')}.",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".",
        f"- Wall time of the comparison: {results.get('wall_seconds', 0) / 60:.1f} min.",
        "",
    ]
    return "\n".join(lines)


def write_report(results: Mapping[str, Any], path: str | Path) -> Path:
    """Atomically write :func:`format_report` to ``path``."""
    path = Path(path)
    write_text(path, format_report(results))
    return path
