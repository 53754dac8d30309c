"""A model of any task ships like the ECG ones: weights with its task, a JSON card scored on
its data set's test split, and a Markdown card with the hand-written intended-use notes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from labelled_data import class_names, write_folder

from sigseg.checkpoint import read_info
from sigseg.pretrained.build import build
from sigseg.training import TrainConfig, train

NOTES = "## Intended input\n\nTwo channels at 100 Hz.\n\n## Not for\n\nAnything real."


def test_a_states_model_is_packaged_with_its_task_and_test_scores(tmp_path: Path) -> None:
    write_folder(tmp_path / "data", "states", 3)
    manifest = tmp_path / "data.yaml"
    splits = {"train": ["sub-0[0-4]*"], "val": ["sub-05*"], "test": ["sub-0[67]*"]}
    manifest.write_text(yaml.safe_dump({"root": "data", "splits": splits}))
    run = tmp_path / "run"
    options = {"widths": [8, 8], "dilations": [1, 2]}
    config = TrainConfig(
        model="dilated", model_options=options, data=str(manifest), epochs=2, crop_seconds=4.0,
        out_dir=str(run), progress=False,
    )  # fmt: skip
    train(config)
    config_path = tmp_path / "toy-states.yaml"
    config.save(config_path)
    with pytest.raises(ValueError, match=r"toy-states\.md"):
        build(run, "toy-states", out_dir=tmp_path / "out", config=str(config_path))

    config_path.with_suffix(".md").write_text(NOTES)
    card = build(run, "toy-states", out_dir=tmp_path / "out", config=str(config_path))
    assert card["test"]["recordings"] == 4 and 0.0 <= card["test"]["headline"] <= 1.0
    assert card["test"]["headline"] == card["test"]["scores"]["samples"]["macro_f1"]
    info = read_info(tmp_path / "out" / "toy-states.safetensors")
    assert list(info.task.classes) == class_names(3) and info.task.kind == "states"
    text = (tmp_path / "out" / "toy-states.md").read_text()
    assert "## Not for" in text and "class_a, class_b, class_c" in text
    saved = json.loads((tmp_path / "out" / "toy-states.json").read_text())
    assert saved["task"]["channels"] == ["ch0", "ch1"]
