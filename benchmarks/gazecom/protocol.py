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
import time
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


def fold_manifest(out: Path, folds: int, fold: int) -> Path:
    """A two-line manifest: the GazeCom manifest with fold ``fold`` of ``folds`` (by clip) as
    its test split."""
    path = out / "folds" / f"fold{fold}" / "data.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    rule = {"kfold": {"k": folds, "fold": fold, "by": "subject", "seed": 0}}
    path.write_text(yaml.safe_dump({"base": str(MANIFEST), "splits": rule}), encoding="utf-8")
    return path


def score_fold(checkpoint: Path, manifest: Path) -> dict[str, Any]:
    """Confusion matrix and episode counts of the fold's test recordings, at their samples."""
    from sigseg.data.dataset import open_dataset
    from sigseg.inference.segment import load_segmenter, segment_source
    from sigseg.metrics.episodes import EpisodeCounts, episode_counts
    from sigseg.metrics.samples import confusion_matrix

    segmenter = load_segmenter(checkpoint, "torch")
    classes = list(segmenter.task.classes)
    records = open_dataset(manifest).records("test")
    confusion = np.zeros((len(classes), len(classes)), dtype=np.int64)
    episodes = {c: EpisodeCounts() for c in SCORED}
    clips = sorted({r.name.split("/")[0] for r in records})
    for record in records:
        assert record.labels is not None
        ref = record.labels[0]
        pred = segment_source(segmenter, record.signal, record.fs, channels=record.channels)
        labels = pred.labels[0]
        confusion += confusion_matrix(labels, ref, len(classes))
        for c in SCORED:
            episodes[c] = episodes[c] + episode_counts(labels, ref, classes.index(c))
    return {
        "clips": clips,
        "recordings": len(records),
        "classes": classes,
        "confusion": confusion.tolist(),
        "episodes": {c: vars(e) for c, e in episodes.items()},
    }


def pooled(folds: list[dict[str, Any]]) -> dict[str, Any]:
    """Sample and episode F1 of the scored classes over every fold's test recordings."""
    from sigseg.metrics.episodes import EpisodeCounts
    from sigseg.metrics.samples import sample_scores

    classes = folds[0]["classes"]
    confusion = sum(np.asarray(f["confusion"]) for f in folds)
    samples = sample_scores(confusion, classes)
    episodes = {
        c: sum((EpisodeCounts(**f["episodes"][c]) for f in folds), EpisodeCounts()) for c in SCORED
    }
    return {
        "sample_f1": {c: round(samples[c]["f1"], 4) for c in SCORED},
        "episode_f1": {c: round(episodes[c].f1, 4) for c in SCORED},
        "episode_counts": {c: vars(e) for c, e in episodes.items()},
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
    started = time.time()
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
    for fold, config in enumerate(configs):
        print(f"fold {fold + 1}/{args.folds}", flush=True)
        fold_dir = out / "folds" / f"fold{fold}"
        with run_lock(fold_dir) as mine:
            if not mine:
                print("  being trained by another process: skipped", flush=True)
                continue
            run = execute_run(config, model, args.seed, fold_dir, print)
            path = fold_dir / "scores.json"
            saved = read_json(path)
            if not saved or saved.get("fingerprint") != run["fingerprint"]:
                checkpoint = fold_dir / "runs" / run["run_id"] / "train" / "best.safetensors"
                saved = {
                    **score_fold(checkpoint, Path(config.data)),
                    "fingerprint": run["fingerprint"],
                }
                write_json(path, {**saved, "train": run["train"]})
    # only scores made under today's model, recipe and seed count: a fold scored under an
    # earlier recipe is waiting to be redone, not a result
    scores, missing = [], []
    for fold, config in enumerate(configs):
        saved = read_json(out / "folds" / f"fold{fold}" / "scores.json")
        fresh = saved and saved.get("fingerprint") == run_fingerprint(config, model, args.seed)
        if fresh:
            scores.append(saved)
        else:
            missing.append(str(fold))
    if missing:
        print(f"folds {', '.join(missing)} not scored yet: results.json not written", flush=True)
        return
    result = pooled(scores)
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
            "pooled": result,
            "folds": [{k: f[k] for k in ("clips", "recordings", "train")} for f in scores],
            "wall_seconds": time.time() - started,
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
