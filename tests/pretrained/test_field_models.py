"""The field comparison's shipped models load by name and do their job on held-out recordings
of their data sets (read in place from ../shared/data): HAPT activity from the Python API,
GazeCom eye movements from the command line."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml
from cli_helpers import CliResult

from sigseg.data.dataset import open_dataset
from sigseg.evaluation import score_segmenter
from sigseg.inference.segment import load_segmenter
from sigseg.pretrained import list_pretrained

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_the_field_models_ship() -> None:
    assert {"hapt-hybrid", "gazecom-hybrid"} <= set(list_pretrained())


def test_hapt_hybrid_by_name_on_test_volunteers() -> None:
    records = open_dataset(CONFIGS / "datasets" / "hapt.yaml").records("test")[:2]
    segmenter = load_segmenter("hapt-hybrid", "auto")
    samples = score_segmenter(segmenter, records, segmenter.task).result()["samples"]
    assert samples["accuracy"] > 0.85 and samples["macro_f1"] > 0.8  # card: 0.91 on all 19


def test_gazecom_hybrid_by_name_from_the_command_line(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    # One held-out recording through the shipped manifest (opening all 843 files takes ~45 s)
    shipped = CONFIGS / "datasets" / "gazecom.yaml"
    assert "golf/*" in yaml.safe_load(shipped.read_text())["splits"]["test"]
    one = tmp_path / "golf.yaml"
    one.write_text(
        yaml.safe_dump(
            {
                "base": str(shipped),
                "recordings": ["golf/AAF_golf.arff.gz"],
                "exclude": [],
                "splits": {"test": ["golf/*"]},
            }
        )
    )
    dataset = open_dataset(one)
    (record,) = dataset.records("test")
    result = cli("segment", "gazecom-hybrid", record.metadata["source"], "--out", tmp_path / "out")
    assert result.code == 0, result.err
    with (tmp_path / "out" / "AAF_golf_events.tsv").open(newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    kinds = Counter(row["label"] for row in rows)
    assert kinds["fixation"] >= 10 and kinds["saccade"] >= 10, kinds
    # the events' samples against the hand labels: most samples agree
    classes = list(dataset.task.classes)
    predicted = np.full(record.num_samples, -1)
    for row in rows:
        onset = round(float(row["onset"]) * record.fs)
        end = onset + round(float(row["duration"]) * record.fs)
        predicted[onset:end] = classes.index(row["label"])
    labels = record.labels.reshape(-1)
    labelled = labels >= 0
    assert np.mean(predicted[labelled] == labels[labelled]) > 0.8
