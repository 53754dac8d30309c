"""What a comparison trains on and scores: the data source, the test records and the
training recipe every run shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sigseg.compare.config import CompareConfig
from sigseg.data.record import Record

SYNTHETIC_TEST_SEED = 2_000_000
"""Seed of the synthetic test records: fixed, and apart from every training seed's data."""


@dataclass
class CompareData:
    """The data of a comparison: where training reads from, and the scored test records
    (multi-lead, at their own rate)."""

    source: str
    root: str | None
    test: list[Record]
    train_examples: int
    val_examples: int
    val_seconds: float

    def describe(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "root": self.root,
            "test_records": [r.name for r in self.test],
            "test_leads": sum(r.signal.shape[0] for r in self.test),
            "train_examples": self.train_examples,
            "val_examples": self.val_examples,
        }


def resolve_source(config: CompareConfig) -> tuple[str, str | None]:
    """``("ludb", root)`` or ``("synthetic", None)``; ``auto`` picks LUDB when it is found at
    ``data_root`` or ``$SIGSEG_DATA``."""
    from sigseg.tasks.ecg.ludb import ludb_root

    if config.data == "synthetic":
        return "synthetic", None
    try:
        return "ludb", str(ludb_root(config.data_root))
    except (ValueError, OSError):
        if config.data == "ludb":
            raise
        return "synthetic", None


def load_data(config: CompareConfig, recipe: dict[str, Any]) -> CompareData:
    """Test records (the first ``test_records`` of the split) and the training set's size,
    from the source the recipe trains on."""
    source, root = recipe["data"], recipe["data_root"]
    if source == "ludb":
        from sigseg.tasks.ecg.ludb import load_ludb

        test = load_ludb(root, split="test", mode="multi")
        train_n = len(load_ludb(root, split="train", mode="single"))
        val = load_ludb(root, split="val", mode="single")
        val_n, val_s = len(val), max(r.duration for r in val)
    else:
        from sigseg.tasks.ecg.synthetic import synthetic_records

        n = config.test_records or config.synthetic_test
        test = synthetic_records(n, 10.0, 500.0, SYNTHETIC_TEST_SEED, config.synthetic_leads)
        train_n, val_n = int(recipe["synthetic_train"]), int(recipe["synthetic_val"])
        val_s = float(recipe["synthetic_seconds"])
    if config.test_records is not None:
        test = test[: config.test_records]
    return CompareData(source, root, test, train_n, val_n, val_s)


def train_recipe(config: CompareConfig) -> dict[str, Any]:
    """The training options every run shares (a :class:`TrainConfig` dict without the model,
    seed, output folder and length), on the data :func:`resolve_source` picks."""
    from sigseg.training import TrainConfig

    source, root = resolve_source(config)
    values = {"progress": False, **config.train_options, "data": source, "data_root": root}
    recipe = TrainConfig.from_dict(values, source="compare train_options").to_dict()
    for key in ("model", "model_options", "seed", "out_dir", "max_minutes", "epochs"):
        recipe.pop(key)
    return recipe


def plot_target(config: CompareConfig, records: list[Record]) -> tuple[Record, int]:
    """The record and lead index drawn in the stacked-delineation figure."""
    record = records[min(config.plot_record, len(records) - 1)]
    lead = config.plot_lead
    if isinstance(lead, str):
        names = [c.lower() for c in record.channels]
        return record, names.index(lead.lower()) if lead.lower() in names else 0
    return record, min(int(lead), record.signal.shape[0] - 1)
