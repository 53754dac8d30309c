"""Oversampling training records by metadata: LUDB's atrial fibrillation and flutter records."""

from __future__ import annotations

from pathlib import Path

import pytest

from sigseg.data.record import Record
from sigseg.data.transforms import Preprocessing
from sigseg.tasks.ecg.ludb import load_ludb
from sigseg.training.config import TrainConfig
from sigseg.training.datamodule import SegmentationDataModule, oversampling_factors

ATRIAL = {"rhythms": {"Atrial fibrillation": 4, "Sinus bradycardia": 3}}


@pytest.fixture(scope="module")
def val_records(ludb_root: Path) -> list[Record]:
    return load_ludb(ludb_root, split="val", mode="single")


def test_ludb_records_enter_each_epoch_by_their_rhythms_factor(
    val_records: list[Record],
) -> None:
    records = val_records
    factors = oversampling_factors(records, ATRIAL)
    by_id = {r.metadata["id"]: f for r, f in zip(records, factors, strict=True)}
    # ludb.csv: of the 20 validation records, 2 are in atrial fibrillation (51, 101) and 3 in
    # sinus bradycardia (1, 41, 71); every other record stays at 1.
    assert {i for i, f in by_id.items() if f == 4} == {51, 101}
    assert {i for i, f in by_id.items() if f == 3} == {1, 41, 71}
    assert sum(f == 1 for f in by_id.values()) == 15

    module = SegmentationDataModule(
        lambda split: records if split == "train" else records[:12],
        Preprocessing(125.0, None, "robust"),
        crop_length=1024,
        batch_size=4,
        seed=0,
        oversample=ATRIAL,
    )
    module.setup()
    assert module.train_set is not None
    assert len(module.train_set) == len(records) + 12 * (2 * 3 + 3 * 2)  # 12 leads each


def test_a_value_no_record_has_is_an_error(val_records: list[Record]) -> None:
    with pytest.raises(ValueError, match=r"no training record has rhythms='Atrial fibrilation'"):
        oversampling_factors(val_records, {"rhythms": {"Atrial fibrilation": 4}})


@pytest.mark.parametrize("bad", [{"rhythms": {"x": 0}}, {"rhythms": {"x": 1.5}}, {"rhythms": 4}])
def test_config_refuses_factors_that_are_not_positive_integers(bad: dict) -> None:
    with pytest.raises(ValueError, match="oversample: rhythms needs"):
        TrainConfig(data="synthetic", oversample=bad)
