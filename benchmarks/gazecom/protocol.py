"""GazeCom under the anchor's protocol (Startsev, Agtzidis & Dorr 2019): cross-validation by
clip, every test recording scored at its own samples, per-sample F1 and episode F1 (sp_tool's
definition, :mod:`sigseg.metrics.episodes`) of fixation, saccade and pursuit, pooled over all
folds, set beside the anchor's six numbers.

    python benchmarks/gazecom/protocol.py --model hybrid --folds 6 --out benchmarks/gazecom

The anchor used 18 folds (leave one clip out); ``--folds 18`` does that, ``--folds 6`` uses six
folds of three clips each (no clip in two folds), which is what fits two CPU cores. Each fold
trains the chosen model of ``benchmarks/fields/gazecom.yaml`` with that field's recipe, on the
fold's training clips, stopping early on the next fold's clips (validation). Every fold's
training and scores are kept under ``--out/folds/``: a re-run resumes where it stopped, and
two copies of one command share the folds (each takes a fold the other is not training, and the
last to finish writes ``results.json``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from sigseg.compare.convergence import (
    execute_run,
    read_field_config,
    run_fingerprint,
    run_lock,
)
from sigseg.compare.runs import read_json, write_json

HERE = Path(__file__).resolve().parent
FIELD = HERE.parent / "fields" / "gazecom.yaml"
MANIFEST = HERE.parents[1] / "configs" / "datasets" / "gazecom.yaml"
SCORED = ("fixation", "saccade", "pursuit")
ANCHOR = {
    "name": "1D CNN-BLSTM (Startsev et al. 2019, final model; deep_em_classifier README)",
    "protocol": "leave-one-clip-out, 18 folds, 844 files",
    "sample_f1": {"fixation": 0.938, "saccade": 0.896, "pursuit": 0.707},
    "episode_f1": {"fixation": 0.915, "saccade": 0.949, "pursuit": 0.629},
}

#: The best temporal-convolution results published since (BENCHMARK.md), per class the best of
#: their variants, under leave-one-clip-out: a second row beside the anchor, not a target.
TCN_ANCHOR = {
    "name": "temporal convolutional networks (Elmadjian et al.), best variant per class",
    "sample_f1": {"fixation": 0.945, "saccade": 0.900, "pursuit": 0.764},
    "episode_f1": {"fixation": 0.929, "saccade": 0.959, "pursuit": 0.698},
}
FIGURES = ("sample_f1", "episode_f1", "episode_f1_iou50")


def fold_manifest(out: Path, folds: int, fold: int) -> Path:
    """A two-line manifest: the GazeCom manifest with fold ``fold`` of ``folds`` (by clip) as
    its test split."""
    path = out / "folds" / f"fold{fold}" / "data.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    rule = {"kfold": {"k": folds, "fold": fold, "by": "subject", "seed": 0}}
    path.write_text(yaml.safe_dump({"base": str(MANIFEST), "splits": rule}), encoding="utf-8")
    return path


#: The two label sequences scored (BENCHMARK.md: post-processing changes episode F1 a lot, so
#: both are reported): the task's decoding (short runs absorbed, the headline) and the raw
#: per-sample argmax of the model's probabilities.
VARIANTS = ("decoded", "argmax")
#: Episode matching (sp_tool): any overlap (the anchor's number), and IoU >= 0.5 beside it.
IOU_THRESHOLDS = {"episodes": 0.0, "episodes_iou50": 0.5}


def score_fold(checkpoint: Path, manifest: Path) -> dict[str, Any]:
    """Per variant, the confusion matrix and episode counts of the fold's test recordings, at
    their own samples."""
    from sigseg.data.dataset import open_dataset
    from sigseg.inference.segment import load_segmenter, segment_source
    from sigseg.metrics.episodes import EpisodeCounts, episode_counts
    from sigseg.metrics.samples import confusion_matrix

    segmenter = load_segmenter(checkpoint, "torch")
    classes = list(segmenter.task.classes)
    records = open_dataset(manifest).records("test")
    counts = {
        v: {
            "confusion": np.zeros((len(classes), len(classes)), dtype=np.int64),
            **{kind: {c: EpisodeCounts() for c in SCORED} for kind in IOU_THRESHOLDS},
        }
        for v in VARIANTS
    }
    for record in records:
        assert record.labels is not None
        ref = record.labels[0]
        pred = segment_source(segmenter, record.signal, record.fs, channels=record.channels)
        labels = {"decoded": pred.labels[0], "argmax": np.argmax(pred.probabilities[0], axis=0)}
        for v in VARIANTS:
            counts[v]["confusion"] += confusion_matrix(labels[v], ref, len(classes))
            for kind, iou in IOU_THRESHOLDS.items():
                for c in SCORED:
                    found = episode_counts(labels[v], ref, classes.index(c), iou_threshold=iou)
                    counts[v][kind][c] = counts[v][kind][c] + found
    return {
        "clips": sorted({r.name.split("/")[0] for r in records}),
        "recordings": len(records),
        "classes": classes,
        "variants": {
            v: {
                "confusion": counts[v]["confusion"].tolist(),
                **{k: {c: vars(e) for c, e in counts[v][k].items()} for k in IOU_THRESHOLDS},
            }
            for v in VARIANTS
        },
    }


def fresh_scores(fold_dir: Path, fingerprint: str) -> dict[str, Any] | None:
    """The fold's saved scores when they were made under today's model, recipe and seed and
    by today's scoring; else None (a fold of an earlier recipe is waiting to be redone)."""
    saved = read_json(fold_dir / "scores.json")
    fresh = saved and saved.get("fingerprint") == fingerprint and "variants" in saved
    return saved if fresh else None


def pooled(folds: list[dict[str, Any]], variant: str) -> dict[str, Any]:
    """Sample and episode F1 of the scored classes over every fold's test recordings."""
    from sigseg.metrics.episodes import EpisodeCounts
    from sigseg.metrics.samples import sample_scores

    classes = folds[0]["classes"]
    parts = [f["variants"][variant] for f in folds]
    samples = sample_scores(sum(np.asarray(p["confusion"]) for p in parts), classes)
    episodes = {
        kind: {
            c: sum((EpisodeCounts(**p[kind][c]) for p in parts), EpisodeCounts()) for c in SCORED
        }
        for kind in IOU_THRESHOLDS
    }
    return {
        "sample_f1": {c: round(samples[c]["f1"], 4) for c in SCORED},
        "episode_f1": {c: round(episodes["episodes"][c].f1, 4) for c in SCORED},
        "episode_f1_iou50": {c: round(episodes["episodes_iou50"][c].f1, 4) for c in SCORED},
        "episode_counts": {c: vars(e) for c, e in episodes["episodes"].items()},
        "samples": {c: samples[c] for c in classes},
        "recordings": sum(f["recordings"] for f in folds),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="hybrid", help="a model label of the GazeCom field")
    parser.add_argument("--folds", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(HERE))
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--field", default=str(FIELD), help="the field (models and recipe)")
    args = parser.parse_args(argv)
    field = read_field_config(args.field)
    models = {m.label: m for m in field.models}
    if args.model not in models:
        parser.error(f"--model: {args.field} has no model {args.model!r} ({', '.join(models)})")
    if not 3 <= args.folds <= 18:
        parser.error("--folds: between 3 and 18 (test, validation and training folds; 18 clips)")
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    command = shlex.join(["python", "benchmarks/gazecom/protocol.py", *(argv or sys.argv[1:])])
    configs = [
        dataclasses.replace(
            field,
            name=f"gazecom-fold{fold}",
            data=str(fold_manifest(out, args.folds, fold)),
            seeds=(args.seed,),
        )
        for fold in range(args.folds)
    ]
    model = models[args.model]
    prints = [run_fingerprint(config, model, args.seed) for config in configs]
    for fold, (config, fingerprint) in enumerate(zip(configs, prints, strict=True)):
        print(f"fold {fold + 1}/{args.folds}", flush=True)
        fold_dir = out / "folds" / f"fold{fold}"
        if fresh_scores(fold_dir, fingerprint):
            print("  scored under today's recipe: reused", flush=True)
            continue
        with run_lock(fold_dir) as mine:
            if not mine:
                print("  being trained by another process: skipped", flush=True)
                continue
            run = execute_run(config, model, args.seed, fold_dir, print)
            checkpoint = fold_dir / "runs" / run["run_id"] / "train" / "best.safetensors"
            scores = {**score_fold(checkpoint, Path(config.data)), "fingerprint": fingerprint}
            write_json(fold_dir / "scores.json", {**scores, "train": run["train"]})
    folds = [fresh_scores(out / "folds" / f"fold{k}", fp) for k, fp in enumerate(prints)]
    missing = [str(k) for k, f in enumerate(folds) if f is None]
    if missing:
        print(f"folds {', '.join(missing)} not scored yet: results.json not written", flush=True)
        return
    scores = [f for f in folds if f is not None]
    result, raw = pooled(scores, "decoded"), pooled(scores, "argmax")
    write_json(
        out / "results.json",
        {
            "command": command,
            "protocol": f"{args.folds} folds by clip (no clip in two folds), seed {args.seed}; "
            "each fold's next fold is its validation (early stopping); scores pooled over all "
            f"test recordings at their own samples; 843 files (street/GGM_street excluded)",
            "model": {
                "label": args.model,
                "name": model.model,
                "options": dict(model.options),
            },
            "recipe": dict(field.recipe),
            "anchor": ANCHOR,
            "anchor_comparison": {
                "sample_f1": result["sample_f1"],
                "episode_f1": result["episode_f1"],
            },
            "beats_anchor": {
                kind: {c: result[kind][c] > ANCHOR[kind][c] for c in SCORED}
                for kind in ("sample_f1", "episode_f1")
            },
            "headline": "decoded: the task's decoding rules (configs/datasets/gazecom.yaml, "
            "min_duration_s) applied to the argmax, as `sigseg segment` reports",
            "pooled": result,
            "without_post_processing": {k: raw[k] for k in FIGURES},
            "other_anchors": [TCN_ANCHOR],
            "folds": [
                {
                    **{k: f[k] for k in ("clips", "recordings", "train")},
                    **{k: v for k, v in pooled([f], "decoded").items() if k in FIGURES},
                }
                for f in scores
            ],
            "train_minutes": round(sum(f["train"]["seconds"] for f in scores) / 60, 1),
        },
    )
    print(
        json.dumps(
            {
                "anchor_comparison": {
                    "sample_f1": result["sample_f1"],
                    "episode_f1": result["episode_f1"],
                }
            }
        )
    )


if __name__ == "__main__":
    main()
