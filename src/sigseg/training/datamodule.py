"""Datasets and the Lightning DataModule: records -> leads at the model's rate -> crops."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from sigseg.data.augment import (
    AmplitudeScale,
    BaselineWander,
    GaussianNoise,
    LeadInversion,
    RandomApply,
    TimeStretch,
)
from sigseg.data.record import IGNORE_INDEX, Record
from sigseg.data.transforms import Preprocessing, normalize_signal, resample_labels

Augment = Callable[[Record, np.random.Generator], Record]


@dataclass(frozen=True)
class Lead:
    """One training example: a ``(C, L)`` signal at the model's rate and its ``(L,)`` labels."""

    signal: np.ndarray
    labels: np.ndarray
    name: str
    fs: float


def records_to_leads(records: Sequence[Record], preprocessing: Preprocessing) -> list[Lead]:
    """Resample (and band-pass) every record to the model's rate; one :class:`Lead` per
    labelled channel of a single-lead record, or per record for multi-channel records (whose
    first channel's labels are the target)."""
    leads = []
    for record in records:
        if record.labels is None:
            raise ValueError(f"{record.name}: record has no labels to train on")
        signal = preprocessing.to_model_rate(record.signal, record.fs)
        labels = resample_labels(
            record.labels[0], record.fs, preprocessing.sampling_rate, signal.shape[-1]
        )
        leads.append(Lead(signal, labels, record.name, preprocessing.sampling_rate))
    return leads


class CropDataset(Dataset):
    """Random fixed-length crops, normalized per crop (as inference normalizes per window).

    The crop and augmentation of item ``i`` at epoch ``e`` depend only on ``(seed, e, i)``, so
    a run resumed from a checkpoint draws exactly the crops the uninterrupted run would."""

    def __init__(
        self,
        leads: Sequence[Lead],
        crop_length: int,
        normalize: str,
        seed: int,
        augment: Augment | None = None,
    ) -> None:
        self.leads, self.crop_length, self.normalize = list(leads), crop_length, normalize
        self.seed, self.augment, self.epoch = seed, augment, 0

    def __len__(self) -> int:
        return len(self.leads)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        lead = self.leads[index]
        x, y = lead.signal, lead.labels
        if self.augment is not None:
            record = self.augment(Record(x, lead.fs, ["lead"] * len(x), labels=y[None]), rng)
            assert record.labels is not None
            x, y = record.signal, record.labels[0]
        x, y = crop(x, y, self.crop_length, rng)
        x = normalize_signal(x, self.normalize)
        return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y.astype(np.int64))


def default_augmentation(record: Record, rng: np.random.Generator) -> Record:
    """The training recipe's light augmentation, drawn from ``rng`` (the item's generator):
    amplitude scaling, white noise, baseline wander, a small time stretch (labels follow) and
    occasional polarity inversion."""
    steps = [
        AmplitudeScale(0.7, 1.4, rng=rng),
        RandomApply(GaussianNoise((20.0, 40.0), rng=rng), 0.5, rng=rng),
        RandomApply(BaselineWander((0.0, 0.5), rng=rng), 0.5, rng=rng),
        RandomApply(TimeStretch(0.9, 1.1, rng=rng), 0.3, rng=rng),
        LeadInversion(0.1, rng=rng),
    ]
    for step in steps:
        record = step(record)
    return record


def crop(
    x: np.ndarray, y: np.ndarray, length: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A random window of ``length`` samples; shorter signals are padded (zeros, ignored)."""
    n = x.shape[-1]
    if n <= length:
        pad = length - n
        return (np.pad(x, ((0, 0), (0, pad))), np.pad(y, (0, pad), constant_values=IGNORE_INDEX))
    start = int(rng.integers(0, n - length + 1))
    return x[:, start : start + length], y[start : start + length]


class FullDataset(Dataset):
    """Whole leads, normalized as a single window (validation and evaluation)."""

    def __init__(self, leads: Sequence[Lead], normalize: str) -> None:
        self.leads, self.normalize = list(leads), normalize

    def __len__(self) -> int:
        return len(self.leads)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        lead = self.leads[index]
        x = normalize_signal(lead.signal, self.normalize)
        return torch.from_numpy(x), torch.from_numpy(lead.labels.astype(np.int64))


def pad_collate(
    batch: list[tuple[torch.Tensor, torch.Tensor]],
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack examples of different lengths, padding signals with zeros and labels with the
    ignore label."""
    length = max(x.shape[-1] for x, _ in batch)
    xs = [torch.nn.functional.pad(x, (0, length - x.shape[-1])) for x, _ in batch]
    ys = [
        torch.nn.functional.pad(y, (0, length - y.shape[-1]), value=IGNORE_INDEX) for _, y in batch
    ]
    return torch.stack(xs), torch.stack(ys)


class EpochShuffle(Sampler[int]):
    """A shuffle that depends only on ``(seed, epoch)``; Lightning calls :meth:`set_epoch`
    before each epoch, so a resumed run sees the same order as an uninterrupted one."""

    def __init__(self, size: int, seed: int) -> None:
        self.size, self.seed, self.epoch = size, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[int]:
        return iter(np.random.default_rng([self.seed, self.epoch]).permutation(self.size).tolist())


class SegmentationDataModule(L.LightningDataModule):
    """Train crops and whole validation leads from records loaded by ``load``.

    ``load(split)`` returns the records of ``"train"`` or ``"val"``."""

    def __init__(
        self,
        load: Callable[[str], Sequence[Record]],
        preprocessing: Preprocessing,
        crop_length: int,
        batch_size: int,
        seed: int,
        augment: Augment | None = None,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        self.load, self.preprocessing = load, preprocessing
        self.crop_length, self.batch_size, self.seed = crop_length, batch_size, seed
        self.augment, self.num_workers = augment, num_workers
        self.train_set: CropDataset | None = None
        self.val_set: FullDataset | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is None:
            self.train_set = CropDataset(
                records_to_leads(self.load("train"), self.preprocessing),
                self.crop_length,
                self.preprocessing.normalize,
                self.seed,
                self.augment,
            )
            self.val_set = FullDataset(
                records_to_leads(self.load("val"), self.preprocessing), self.preprocessing.normalize
            )

    def set_epoch(self, epoch: int) -> None:
        if self.train_set is not None:
            self.train_set.epoch = epoch

    def train_dataloader(self) -> DataLoader:
        assert self.train_set is not None
        return DataLoader(
            self.train_set,
            batch_size=self.batch_size,
            sampler=EpochShuffle(len(self.train_set), self.seed),
            num_workers=self.num_workers,
            drop_last=False,
            persistent_workers=False,
        )

    def val_dataloader(self) -> DataLoader:
        assert self.val_set is not None
        return DataLoader(
            self.val_set,
            batch_size=self.batch_size,
            shuffle=False,
            num_workers=self.num_workers,
            collate_fn=pad_collate,
        )


def data_loader_for(
    name: str,
    root: str | None,
    *,
    synthetic_train: int,
    synthetic_val: int,
    synthetic_seconds: float,
    seed: int,
) -> Callable[[str], Sequence[Record]]:
    """``load(split)`` for ``synthetic``, ``ludb`` or a folder in LUDB's layout."""
    if name == "synthetic":
        from sigseg.data.synthetic import synthetic_records

        def load_synthetic(split: str) -> Sequence[Record]:
            n = synthetic_train if split == "train" else synthetic_val
            offset = {"train": 0, "val": 1_000_000, "test": 2_000_000}[split]
            return synthetic_records(n, duration_s=synthetic_seconds, fs=500.0, seed=seed + offset)

        return load_synthetic
    from sigseg.data.ludb import load_ludb

    folder = root if name == "ludb" else name
    if name != "ludb" and not Path(name).is_dir():
        raise ValueError(f"--data {name!r}: not 'ludb', 'synthetic' or an existing folder")
    return lambda split: load_ludb(folder, split=split, mode="single")
