"""LUDB scored per rhythm, with and without the P-wave rule of ``sigseg.tasks.ecg.atrial``
(a P wave is dropped when too few of the beats around it have one).

The default model delineates every lead of every record of the chosen splits once, with the
rule off (``min_p_share=None``); each setting then applies the rule to those waves with
``gate_p_waves``, which is what ``delineate_signal`` does with ``min_p_share``, and is scored
with ``BENCHMARK.md``'s protocol (``sigseg.tasks.ecg.evaluation.score_record``). Per setting:
strict macro-F1, strict P onset and offset F1, and per rhythm (``ludb.csv``) what
``sigseg evaluate --by rhythms`` reports (``group_summary``: P onsets predicted where none is
annotated within 150 ms, per annotated beat), plus atrial fibrillation and flutter pooled.

    .venv/bin/python benchmarks/rhythms/run.py    # the test split, off vs MIN_P_SHARE
    .venv/bin/python benchmarks/rhythms/run.py --split train --split val \\
        --share off 0.1 0.2 0.3 0.4 0.45 0.5 0.6 0.7 --out benchmarks/rhythms/trainval.json

The threshold was chosen on train and validation (the second command) before the test split
was scored once (the first). About a minute per 40 records on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LUDB_DEFAULT = HERE.parents[1].parent / "shared" / "data" / "ludb"
ATRIAL = ("Atrial fibrillation", "Atrial flutter, typical")
"""The rhythms LUDB annotates no P wave in."""


def main() -> None:
    from sigseg.tasks.ecg.atrial import MIN_P_SHARE

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=LUDB_DEFAULT)
    parser.add_argument("--split", action="append", help="LUDB split(s); default: test")
    parser.add_argument("--share", nargs="+", default=["off", str(MIN_P_SHARE)])
    parser.add_argument("--model", default=None, help="default: the shipped ECG model")
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    args = parser.parse_args()
    splits = args.split or ["test"]
    shares = [None if s == "off" else float(s) for s in args.share]
    result = run(args.data, splits, shares, args.model)
    args.out.write_text(json.dumps(_json_safe(result), indent=1) + "\n")
    for setting in result["settings"]:
        print(_line(setting))
    print(f"wrote {args.out}")


def run(
    data: Path, splits: list[str], shares: list[float | None], model: str | None
) -> dict[str, Any]:
    """Every setting's scores on ``splits`` (see the module docstring)."""
    from rich.progress import track

    from sigseg.inference.backends import load_backend
    from sigseg.pretrained import resolve_model
    from sigseg.tasks.ecg.atrial import P_WINDOW_S
    from sigseg.tasks.ecg.delineate import delineate_signal
    from sigseg.tasks.ecg.ludb import load_ludb

    path = resolve_model(model)
    backend = load_backend(path, "torch")
    records = [r for s in splits for r in load_ludb(data, split=s, mode="multi")]
    plain = {}
    for r in track(records, description="delineating", transient=True):
        plain[r.name] = delineate_signal(backend, r.signal, r.fs, min_p_share=None).waves
    return {
        "model": path.name,
        "splits": splits,
        "records": len(records),
        "window_s": P_WINDOW_S,
        "settings": [_setting(records, plain, share) for share in shares],
    }


def _setting(records: list[Any], plain: dict[str, Any], share: float | None) -> dict[str, Any]:
    from sigseg.tasks.ecg.atrial import gate_p_waves
    from sigseg.tasks.ecg.evaluation import score_record
    from sigseg.tasks.ecg.report import Evaluation

    groups: dict[str, Any] = {}
    total = Evaluation.empty()
    for r in records:
        waves = plain[r.name] if share is None else gate_p_waves(plain[r.name], r.fs, share)
        score = score_record(r, lambda lead, w=waves: [x for x in w if x.lead == lead])
        total = total + score
        rhythms = r.metadata["rhythms"]
        pooled = ["AF or flutter" if any(x in ATRIAL for x in rhythms) else "other rhythms"]
        for name in [*rhythms, *pooled]:
            groups[name] = groups.get(name, Evaluation.empty()) + score
    return {
        "min_p_share": share,
        **_summary(total.result()),
        "by_rhythm": {k: _summary(v.result()) for k, v in sorted(groups.items())},
    }


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    from sigseg.tasks.ecg.report import group_summary

    strict = result["boundaries"]["strict"]
    return {
        **group_summary(result),
        "p_on_f1": strict["P_on"]["f1"],
        "p_off_f1": strict["P_off"]["f1"],
        "predicted_p": strict["P_on"]["tp"] + strict["P_on"]["fp"],
    }


def _line(setting: dict[str, Any]) -> str:
    share = setting["min_p_share"]
    atrial = setting["by_rhythm"].get("AF or flutter", {})
    other = setting["by_rhythm"]["other rhythms"]
    return (
        f"min_p_share {'off' if share is None else share}: strict {setting['strict_macro_f1']:.4f}"
        f"  P on/off {setting['p_on_f1']:.4f}/{setting['p_off_f1']:.4f}"
        f"  AF+flutter P FP/beat {atrial.get('p_fp_per_beat', math.nan):.1%}"
        f"  other rhythms: P on/off {other['p_on_f1']:.4f}/{other['p_off_f1']:.4f}"
        f", P FP/beat {other['p_fp_per_beat']:.1%}"
    )


def _json_safe(value: Any) -> Any:
    """NaN (no P wave predicted nor annotated: an undefined F1) becomes null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


if __name__ == "__main__":
    main()
