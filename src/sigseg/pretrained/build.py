"""Package a training run as a shipped pretrained model: weights (safetensors), a JSON config
and a model card with its test metrics: for ECG delineation the LUDB test split under
BENCHMARK.md (both tolerance sets), for any other task the test split of the data set it was
trained on (its manifest), scored with :mod:`sigseg.metrics.events`.

    python -m sigseg.pretrained.build RUN_DIR --name NAME --config CONFIG
    python -m sigseg.pretrained.build --rescore --name NAME   # an ECG card, today's decoding

``make pretrained`` runs ``sigseg train --config configs/NAME.yaml`` and then this, for each
shipped model. A non-ECG model's card also takes ``configs/NAME.md`` verbatim: the intended
input (channels, units, rate) and what the model must not be used on, in our words.
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path
from typing import Any

import torch

from sigseg import library_version
from sigseg.atomic import write_text
from sigseg.checkpoint import load_checkpoint, save_checkpoint
from sigseg.inference.backends import load_backend
from sigseg.models.profile import profile_model
from sigseg.pretrained import DEFAULT_MODEL, _folder
from sigseg.tasks.ecg.evaluation import evaluate_model
from sigseg.tasks.ecg.ludb import load_ludb
from sigseg.tasks.ecg.report import format_tables

CONFIG = "config.yaml"
"""The config file ``sigseg train`` writes into its run folder."""


def build(
    run_dir: Path,
    name: str = DEFAULT_MODEL,
    data: str | None = None,
    out_dir: Path | None = None,
    config: str | None = None,
) -> dict[str, Any]:
    """Evaluate ``run_dir/best.safetensors`` on the LUDB test split and write the model's
    three files to ``out_dir`` (default: this package's folder). ``config`` is the YAML file
    the run was trained with, for the card. Returns the card's numbers."""
    out_dir = out_dir or _folder()
    model, info = load_checkpoint(run_dir / "best.safetensors")
    if info.task.monitor != "val_strict_f1":
        return build_any(run_dir, name, out_dir, config)
    result = _ludb_test(model, data)
    profile = profile_model(model, name)
    train_config = info.extra.get("train_config", {})
    card = {
        "name": name,
        "arch": info.arch,
        "config": info.config,
        "preprocessing": info.preprocessing,
        "training": {
            "config": train_config,
            "epoch": info.extra.get("epoch"),
            "validation": info.extra.get("validation"),
            "command": f"make pretrained  (sigseg train --config {config or run_dir / CONFIG})",
        },
        "profile": profile.to_dict(),
        "test": _test_section(result),
        "library_version": library_version(),
        "torch_version": torch.__version__,
    }
    save_checkpoint(
        model,
        out_dir / f"{name}.safetensors",
        name=name,
        preprocessing=info.preprocessing,
        extra={"train_config": train_config},
    )
    _write_card(out_dir, card, result)
    return card


def rescore(name: str, data: str | None = None, out_dir: Path | None = None) -> dict[str, Any]:
    """Score a shipped ECG model again on the LUDB test split with today's decoding and rewrite
    its card (``NAME.json`` and ``NAME.md``); the weights file is not touched, so its ONNX
    export stays valid. For when decoding changes after a model was built."""
    out_dir = out_dir or _folder()
    path = out_dir / f"{name}.json"
    if not path.is_file():
        raise ValueError(f"{path}: no card of a shipped model {name!r}")
    card = json.loads(path.read_text(encoding="utf-8"))
    if "strict_macro_f1" not in card.get("test", {}):
        raise ValueError(f"{path}: not an ECG delineation card; rebuild it with its run instead")
    model, _ = load_checkpoint(out_dir / f"{name}.safetensors")
    result = _ludb_test(model, data)
    card = {**card, "test": _test_section(result), "library_version": library_version()}
    _write_card(out_dir, card, result)
    return card


def _ludb_test(model: torch.nn.Module, data: str | None) -> dict[str, Any]:
    """BENCHMARK.md's scores of ``model`` on the LUDB test split, default decoding."""
    records = load_ludb(data, split="test", mode="multi")
    return evaluate_model(load_backend(model), records).result()


def _test_section(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "split": "LUDB test (id % 5 == 0), 40 records x 12 leads",
        "strict_macro_f1": result["strict_macro_f1"],
        "f1_150ms": result["boundaries"]["150ms"]["macro_f1"],
        "boundaries": result["boundaries"],
        "samples": result["samples"],
        "segments": result["segments"],
    }


def _write_card(out_dir: Path, card: dict[str, Any], result: dict[str, Any]) -> None:
    write_text(out_dir / f"{card['name']}.json", json.dumps(card, indent=1, default=str))
    write_text(out_dir / f"{card['name']}.md", _model_card(card, format_tables(result)))


def build_any(run_dir: Path, name: str, out_dir: Path, config: str | None = None) -> dict[str, Any]:
    """A model of any task other than ECG delineation: scored on the test split of the data
    set its run trained on; its card adds ``<config without .yaml>.md`` (intended use)."""
    from sigseg.data.dataset import open_dataset
    from sigseg.evaluation import score_segmenter
    from sigseg.inference.segment import load_segmenter
    from sigseg.metrics.events import format_task_tables, headline

    notes_path = Path(config).with_suffix(".md") if config else None
    if notes_path is None or not notes_path.is_file():
        raise ValueError(f"{notes_path or '--config'}: a model card needs its intended-use notes")
    segmenter = load_segmenter(run_dir / "best.safetensors", "torch")
    model, info = load_checkpoint(run_dir / "best.safetensors")
    train_config = info.extra.get("train_config", {})
    data = _shown(str(train_config.get("data", "")))
    records = open_dataset(data).records("test")
    if not records:
        raise ValueError(f"{data}: its test split is empty; nothing to score the model on")
    task = segmenter.task
    result = score_segmenter(segmenter, records, task).result()
    card = {
        "name": name,
        "arch": info.arch,
        "config": info.config,
        "task": task.to_dict(),
        "preprocessing": info.preprocessing,
        "training": {
            "config": {**train_config, "data": data},
            "epoch": info.extra.get("epoch"),
            "validation": info.extra.get("validation"),
            "command": f"make pretrained  (sigseg train --config {config})",
        },
        "profile": profile_model(model, name).to_dict(),
        "test": {
            "data": data,
            "recordings": len(records),
            "headline": headline(result, task),
            "scores": result,
        },
        "library_version": library_version(),
        "torch_version": torch.__version__,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    save_checkpoint(
        model,
        out_dir / f"{name}.safetensors",
        name=name,
        preprocessing=info.preprocessing,
        task=task,
        extra={"test_headline": card["test"]["headline"], "train_config": train_config},
    )
    write_text(out_dir / f"{name}.json", json.dumps(card, indent=1, default=str))
    notes = notes_path.read_text(encoding="utf-8")
    write_text(out_dir / f"{name}.md", _any_card(card, format_task_tables(result, task), notes))
    return card


def _shown(path: str) -> str:
    """A data path as the card shows it: relative to the working folder when inside it (the
    repository root, where ``make pretrained`` runs), so cards do not carry one machine's
    paths."""
    here = Path.cwd()
    resolved = Path(path).resolve()
    return str(resolved.relative_to(here)) if resolved.is_relative_to(here) else path


def _any_card(card: dict[str, Any], tables: str, notes: str) -> str:
    t, p, task = card["training"]["config"], card["profile"], card["task"]
    return f"""# {card["name"]}: {task["name"]} ({", ".join(task["classes"])})

Architecture `{card["arch"]}` ({p["parameters"]:,} parameters, receptive field
{p["receptive_field_ms"] / 1000:.1f} s, {p["macs_per_second"] / 1e6:.1f} MMAC per second of
signal), running at {card["preprocessing"].get("sampling_rate")} Hz on the channels
{", ".join(task["channels"])} with per-window `{card["preprocessing"].get("normalize")}`
normalization; inference resamples any input rate.

{notes.strip()}

## Training

- Data: `{t.get("data")}` (train split; model selection on its validation split by
  {task["monitor"]}).
- Recipe: at most {t.get("epochs")} epochs (early stopping after {t.get("patience")} without
  improvement), batch {t.get("batch_size")}, random crops of {t.get("crop_seconds")} s
  ({t.get("crops_per_recording")} per recording per epoch), AdamW lr {t.get("lr")}
  ({t.get("schedule")}), loss {t.get("loss")}, augmentation {t.get("augment")}, seed
  {t.get("seed")}; best epoch {card["training"].get("epoch")}.
- Command: `{card["training"]["command"]}`.

## Test metrics ({card["test"]["recordings"]} recordings of the test split)

```
{tables}
```

sigseg {card["library_version"]}, torch {card["torch_version"]}, {platform.python_version()}.
"""


def _model_card(card: dict[str, Any], tables: str) -> str:
    t = card["training"]["config"]
    p = card["profile"]
    return f"""# {card["name"]}: ECG delineation (P, QRS, T) for single leads

Architecture `{card["arch"]}` ({p["parameters"]:,} parameters, receptive field
{p["receptive_field_ms"]:.0f} ms, {p["macs_per_second"] / 1e6:.1f} MMAC per second of signal),
running at {card["preprocessing"].get("sampling_rate")} Hz with per-window
`{card["preprocessing"].get("normalize")}` normalization; inference resamples any input rate.

## Data and training

- Data: LUDB v1.0.1 (PhysioNet, ODC-By 1.0; Kalyakulina et al., IEEE Access 2020), each of
  the 12 leads its own example; split by record id: train = the 140 ids with id % 5 != 0 and
  id % 10 != 1, validation = id % 10 == 1 (model selection by strict boundary macro-F1),
  test = id % 5 == 0 (never used for any choice).
- Unannotated samples (before a lead's first and after its last annotation) are ignored.
- Recipe: {t.get("epochs")} epochs, batch {t.get("batch_size")}, random crops of
  {t.get("crop_seconds")} s, AdamW lr {t.get("lr")} ({t.get("schedule")}), loss {t.get("loss")},
  augmentation {t.get("augment")}{_noise_note(t)}{_oversample_note(t)}, seed {t.get("seed")};
  best epoch
  {card["training"].get("epoch")}.
- Command: `{card["training"]["command"]}`.

## LUDB test metrics (BENCHMARK.md protocol, 480 lead-signals)

Strict macro-F1 **{card["test"]["strict_macro_f1"]:.3f}**; 150-ms macro-F1
**{card["test"]["f1_150ms"]:.3f}**.

```
{tables}
```

## Limits

Trained on 140 ten-second 500 Hz records of one database; paced rhythms and rare
morphologies are few. Boundaries are model outputs, not a diagnosis.

sigseg {card["library_version"]}, torch {card["torch_version"]}, {platform.python_version()}.
"""


def _noise_note(train_config: dict[str, Any]) -> str:
    """The recipe's real-noise augmentation, when it had one (see ``benchmarks/noise``)."""
    if not train_config.get("noise_data"):
        return ""
    return (
        " with real NSTDB noise (first half of each noise record; the noise benchmark in "
        "`benchmarks/noise` uses the second) on half the crops at 0-24 dB"
    )


def _oversample_note(train_config: dict[str, Any]) -> str:
    """The recipe's oversampled records (``oversample``), when it had any."""
    rules = [
        f"{key} {value} x{factor}"
        for key, values in (train_config.get("oversample") or {}).items()
        for value, factor in values.items()
    ]
    return f", training records oversampled ({'; '.join(rules)})" if rules else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, nargs="?")
    parser.add_argument("--name", default=DEFAULT_MODEL)
    parser.add_argument("--data", default=None, help="LUDB folder (default $SIGSEG_DATA)")
    parser.add_argument("--config", default=None, help="the YAML config the run was trained with")
    parser.add_argument(
        "--rescore", action="store_true",
        help="rescore the shipped ECG model --name and rewrite its card (no run_dir)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.rescore != (args.run_dir is None):
        parser.error("give a run_dir to build, or --rescore without one")
    try:
        if args.rescore:
            card = rescore(args.name, args.data)
        else:
            card = build(args.run_dir, args.name, args.data, config=args.config)
    except (ValueError, FileNotFoundError) as err:
        parser.exit(2, f"error: {err}\n")
    if "headline" in card["test"]:
        score = card["task"]["monitor"].removeprefix("val_")
        print(f"{card['name']}: test {score} {card['test']['headline']:.3f}")
        return
    print(
        f"{card['name']}: strict macro-F1 {card['test']['strict_macro_f1']:.3f}, "
        f"150-ms {card['test']['f1_150ms']:.3f}"
    )


if __name__ == "__main__":
    main()
