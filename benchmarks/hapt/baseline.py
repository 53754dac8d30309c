"""HAPT baseline: the activity-recognition field's usual approach, scored per sample like sigseg.

Sliding windows of 2.56 s (128 samples at 50 Hz) with 50 % overlap, as in the HAPT paper
(Reyes-Ortiz et al. 2016); standard time- and frequency-domain features of each of the six
channels and of the acceleration and angular-velocity magnitudes; a scikit-learn
``HistGradientBoostingClassifier`` with balanced class weights (the transitions are 1 % of the
samples each), trained on the windows of the data set's 21 training volunteers (the manifest's
``train`` and ``val`` parts: the baseline needs no early stopping). Each window is labelled by
the majority of its labelled samples, and a window with fewer than half of its samples labelled
is not trained on. Every sample of the 9 test volunteers then gets the mean class probability of
the windows that cover it (the last window of a recording is flushed to its end, so every sample
is covered), and is scored where it is labelled with :mod:`sigseg.metrics.samples`: per-class F1
and macro-F1 over the 12 classes. Usage (about 6 minutes on a busy 2-core machine)::

    python benchmarks/hapt/baseline.py

reads ``configs/datasets/hapt.yaml`` (``--manifest``) and writes
``benchmarks/hapt/baseline.json`` (``--out``; an existing file is replaced only with
``--overwrite``).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
MANIFEST = REPO / "configs" / "datasets" / "hapt.yaml"
WINDOW = 128
"""Samples per window: 2.56 s at 50 Hz."""
HOP = 64
"""50 % overlap."""
MIN_LABELLED = 0.5
"""A training window needs at least this share of labelled samples."""
BANDS_HZ = ((0.0, 0.5), (0.5, 1.5), (1.5, 3.0), (3.0, 6.0), (6.0, 12.0), (12.0, 25.0))
"""Spectral energy bands: posture drift, gait fundamentals and harmonics, tremor and impacts."""
SEED = 0
CLASSIFIER = {
    "max_iter": 300,
    "learning_rate": 0.1,
    "max_leaf_nodes": 31,
    "l2_regularization": 1.0,
    "class_weight": "balanced",
    "early_stopping": False,
    "random_state": SEED,
}


# ------------------------------------------------------------------------------ windows


def window_starts(num_samples: int) -> np.ndarray:
    """First sample of each window, every :data:`HOP` samples, plus one flushed to the end so
    every sample is covered (a recording shorter than a window gets none)."""
    if num_samples < WINDOW:
        return np.zeros(0, dtype=np.int64)
    starts = np.arange(0, num_samples - WINDOW + 1, HOP)
    if starts[-1] != num_samples - WINDOW:
        starts = np.append(starts, num_samples - WINDOW)
    return starts


def windows(signal: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``(n, C, WINDOW)`` windows of a ``(C, L)`` signal starting at ``starts``."""
    view = np.lib.stride_tricks.sliding_window_view(signal, WINDOW, axis=1)
    return np.ascontiguousarray(view[:, starts].transpose(1, 0, 2))


def window_labels(labels: np.ndarray, starts: np.ndarray, num_classes: int) -> np.ndarray:
    """The majority class of each window's labelled samples; -1 where fewer than
    :data:`MIN_LABELLED` of its samples are labelled."""
    view = np.lib.stride_tricks.sliding_window_view(labels, WINDOW)[starts]
    counts = np.stack([(view == k).sum(axis=1) for k in range(num_classes)], axis=1)
    majority = counts.argmax(axis=1)
    return np.where(counts.sum(axis=1) >= MIN_LABELLED * WINDOW, majority, -1)


# ----------------------------------------------------------------------------- features


def _signals(x: np.ndarray) -> np.ndarray:
    """The six channels (acc xyz, gyro xyz) and the two magnitudes: ``(n, 8, WINDOW)``."""
    acc = np.linalg.norm(x[:, 0:3], axis=1, keepdims=True)
    gyro = np.linalg.norm(x[:, 3:6], axis=1, keepdims=True)
    return np.concatenate([x, acc, gyro], axis=1)


def features(x: np.ndarray, fs: float) -> np.ndarray:
    """Standard features of ``(n, 6, WINDOW)`` windows, ``(n, F)``: per signal (channels and
    magnitudes) mean, standard deviation, min, max, median, quartile range, mean absolute
    deviation, energy, skewness, kurtosis, mean absolute first difference (jerk), then the
    spectrum's band energies, dominant frequency and spectral entropy; and the correlations
    between the axes of each sensor."""
    s = _signals(x.astype(np.float64))
    mean = s.mean(axis=2)
    centred = s - mean[..., None]
    std = s.std(axis=2)
    safe = np.where(std > 1e-12, std, 1.0)
    q25, median, q75 = np.percentile(s, [25, 50, 75], axis=2)
    z = centred / safe[..., None]
    time_domain = [
        mean,
        std,
        s.min(axis=2),
        s.max(axis=2),
        median,
        q75 - q25,
        np.abs(centred).mean(axis=2),
        (s**2).mean(axis=2),
        (z**3).mean(axis=2),
        (z**4).mean(axis=2),
        np.abs(np.diff(s, axis=2)).mean(axis=2),
    ]
    power = np.abs(np.fft.rfft(centred * np.hanning(WINDOW), axis=2)) ** 2
    freqs = np.fft.rfftfreq(WINDOW, 1.0 / fs)
    total = power.sum(axis=2) + 1e-12
    bands = [power[..., (freqs >= lo) & (freqs < hi)].sum(axis=2) / total for lo, hi in BANDS_HZ]
    p = power / total[..., None]
    entropy = -(p * np.log(p + 1e-12)).sum(axis=2) / np.log(len(freqs))
    dominant = freqs[power[..., 1:].argmax(axis=2) + 1]
    frequency_domain = [*bands, np.log(total), dominant, entropy]
    correlations = []
    for first in (0, 3):
        for a, b in ((0, 1), (0, 2), (1, 2)):
            correlations.append((z[:, first + a] * z[:, first + b]).mean(axis=1, keepdims=True))
    return np.concatenate([*time_domain, *frequency_domain, *correlations], axis=1)


# -------------------------------------------------------------------------------- the run


def load(manifest: Path) -> tuple[Any, dict[str, list[Any]]]:
    """The data set and its records by part: ``train`` (the data set's 21 training volunteers:
    the manifest's train and val) and ``test``."""
    from sigseg.data.dataset import open_dataset

    dataset = open_dataset(manifest)
    parts = {
        "train": dataset.records("train") + dataset.records("val"),
        "test": dataset.records("test"),
    }
    return dataset, parts


def training_set(records: Sequence[Any], num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of every training window with enough labelled samples."""
    xs, ys = [], []
    for record in records:
        starts = window_starts(record.num_samples)
        y = window_labels(record.labels[0], starts, num_classes)
        keep = y >= 0
        xs.append(features(windows(record.signal, starts[keep]), record.fs))
        ys.append(y[keep])
    return np.concatenate(xs), np.concatenate(ys)


def sample_probabilities(model: Any, record: Any, num_classes: int) -> np.ndarray:
    """``(num_classes, L)``: per sample, the mean probability of the windows covering it."""
    starts = window_starts(record.num_samples)
    proba = model.predict_proba(features(windows(record.signal, starts), record.fs))
    full = np.zeros((num_classes, proba.shape[0]))
    full[model.classes_] = proba.T  # a class no training window had keeps probability 0
    total = np.zeros((num_classes, record.num_samples))
    cover = np.zeros(record.num_samples)
    for k, start in enumerate(starts):
        total[:, start : start + WINDOW] += full[:, k : k + 1]
        cover[start : start + WINDOW] += 1
    return total / cover


def run(manifest: Path, threads: int) -> dict[str, Any]:
    import sklearn
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    from sigseg.metrics.samples import confusion_matrix, sample_scores

    t0 = time.perf_counter()
    dataset, parts = load(manifest)
    classes = list(dataset.task.classes)
    k = len(classes)
    x, y = training_set(parts["train"], k)
    t_features = time.perf_counter() - t0
    model = HistGradientBoostingClassifier(**CLASSIFIER)
    t1 = time.perf_counter()
    with threadpool_limits(threads):  # OpenMP threads spin badly on a shared, busy machine
        model.fit(x, y)
    t_fit = time.perf_counter() - t1
    t2 = time.perf_counter()
    cm = np.zeros((k, k), dtype=np.int64)
    for record in parts["test"]:
        pred = sample_probabilities(model, record, k).argmax(axis=0)
        cm += confusion_matrix(pred, record.labels[0], k)
    t_predict = time.perf_counter() - t2
    scores = sample_scores(cm, classes)
    f1 = {name: round(scores[name]["f1"], 4) for name in classes}
    return {
        "method": "sliding-window features + HistGradientBoosting, per-sample mean probability",
        "command": "python benchmarks/hapt/baseline.py",
        "manifest": str(manifest.relative_to(REPO))
        if manifest.is_relative_to(REPO)
        else str(manifest),
        "protocol": (
            "train on the data set's 21 training volunteers (manifest train + val), score every "
            "labelled sample of its 9 test volunteers (manifest test); unlabelled samples ignored"
        ),
        "macro_f1": round(float(np.mean([scores[c]["f1"] for c in classes])), 4),
        "per_class_f1": f1,
        "per_class": {
            name: {key: round(v, 4) for key, v in scores[name].items()} for name in classes
        },
        "confusion": {"classes": classes, "rows_reference_cols_predicted": cm.tolist()},
        "train": {
            "recordings": len(parts["train"]),
            "windows": len(y),
            "windows_per_class": dict(
                zip(classes, np.bincount(y, minlength=k).tolist(), strict=True)
            ),
        },
        "test": {
            "recordings": len(parts["test"]),
            "labelled_samples": int(cm.sum()),
        },
        "windows": {
            "samples": WINDOW,
            "seconds": WINDOW / 50,
            "hop": HOP,
            "min_labelled": MIN_LABELLED,
        },
        "features": int(x.shape[1]),
        "classifier": {"name": "HistGradientBoostingClassifier", **CLASSIFIER},
        "threads": threads,
        "seconds": {
            "read_and_features": round(t_features, 1),
            "fit": round(t_fit, 1),
            "predict_and_score": round(t_predict, 1),
        },
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, default=MANIFEST, help="The HAPT manifest.")
    parser.add_argument("--out", type=Path, default=HERE / "baseline.json", help="Result file.")
    parser.add_argument("--overwrite", action="store_true", help="Replace an existing result.")
    parser.add_argument("--threads", type=int, default=1, help="OpenMP threads for the fit.")
    args = parser.parse_args(argv)
    if args.out.exists() and not args.overwrite:
        sys.exit(f"error: {args.out} exists; pass --overwrite to replace it")
    from sigseg.atomic import write_text

    result = run(args.manifest.resolve(), args.threads)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_text(args.out, json.dumps(result, indent=2) + "\n")
    print(f"macro-F1 {result['macro_f1']:.3f} over {len(result['per_class_f1'])} classes")
    for name, value in result["per_class_f1"].items():
        print(f"  {name:<20} {value:.3f}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
