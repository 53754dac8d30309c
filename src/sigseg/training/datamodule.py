"""Datasets and the Lightning DataModule: records -> leads at the model's rate -> crops."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
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
from sigseg.data.transforms import (
    Preprocessing,
    normalize_signal,
    resample_index,
    resample_labels,
)
from sigseg.tasks import ECG_DELINEATION, Task

Augment = Callable[[Record, np.random.Generator], Record]


@dataclass(frozen=True)
class Lead:
    """One training example: a ``(C, L)`` signal at the model's rate and its ``(L,)`` labels."""

    signal: np.ndarray
    labels: np.ndarray
    name: str
    fs: float


def records_to_leads(
    records: Sequence[Record], preprocessing: Preprocessing, task: Task = ECG_DELINEATION
) -> list[Lead]:
    """Resample (and band-pass) every record to the model's rate: one :class:`Lead` per record,
    its first label row the target (a record's only row, or an ECG record's first lead).

    Point events (``task.kind == "events"``) are moved as points, not as label runs: nearest-
    sample resampling of a one-sample mark could drop or double it."""
    leads = []
    for record in records:
        if record.labels is None:
            raise ValueError(f"{record.name}: record has no labels to train on")
        signal = preprocessing.to_model_rate(record.signal, record.fs)
        rate = preprocessing.sampling_rate
        labels = resample_labels(record.labels[0], record.fs, rate, signal.shape[-1])
        if task.kind == "events":
            labels = np.where(labels == IGNORE_INDEX, IGNORE_INDEX, 0)
            for wave in record.waves:
                i = int(resample_index(wave.onset, record.fs, rate))
                if 0 <= i < len(labels) and labels[i] != IGNORE_INDEX:
                    labels[i] = task.index(wave.kind)
        leads.append(Lead(signal, labels, record.name, rate))
    return leads


class CropDataset(Dataset):
    """Random fixed-length crops, normalized per crop (as inference normalizes per window).

    An epoch draws ``repeats`` crops from every lead (more than one where recordings are many
    crops long). The crop and augmentation of item ``i`` at epoch ``e`` depend only on
    ``(seed, e, i)``, so a run resumed from a checkpoint draws exactly the crops the
    uninterrupted run would."""

    def __init__(
        self,
        leads: Sequence[Lead],
        crop_length: int,
        normalize: str,
        seed: int,
        augment: Augment | None = None,
        repeats: int = 1,
    ) -> None:
        self.leads, self.crop_length, self.normalize = list(leads), crop_length, normalize
        self.seed, self.augment, self.epoch, self.repeats = seed, augment, 0, repeats

    def __len__(self) -> int:
        return len(self.leads) * self.repeats

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        lead = self.leads[index // self.repeats]
        x, y = lead.signal, lead.labels
        if self.augment is not None:
            record = self.augment(Record(x, lead.fs, ["lead"] * len(x), labels=y[None]), rng)
            assert record.labels is not None
            x, y = record.signal, record.labels[0]
        x, y = crop(x, y, self.crop_length, rng)
        x = normalize_signal(x, self.normalize)
        return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y.astype(np.int64))


def oversampling_factors(
    records: Sequence[Record], oversample: Mapping[str, Mapping[str, int]]
) -> list[int]:
    """How many times each record enters an epoch: the largest factor of ``oversample``
    (metadata key -> value -> integer factor >= 1, as :class:`~sigseg.training.config.TrainConfig`
    checks) whose value the record's metadata holds (equal to it, or
    among its items when the metadata is a list), else 1.

    Rare conditions then weigh more without a new loss, e.g. ``{"rhythms": {"Atrial
    fibrillation": 4}}`` shows the model four crops of each LUDB record in atrial fibrillation
    per epoch, each drawn on its own. A key or value that no record has is an error: a typo
    would otherwise train the plain recipe in silence."""
    factors = [1] * len(records)
    for key, values in oversample.items():
        for value, factor in values.items():
            hits = [i for i, r in enumerate(records) if _has_value(r.metadata.get(key), value)]
            if not hits:
                raise ValueError(f"oversample: no training record has {key}={value!r}")
            for i in hits:
                factors[i] = max(factors[i], factor)
    return factors


def _has_value(meta: object, value: str) -> bool:
    return value in meta if isinstance(meta, list | tuple) else meta == value


def default_augmentation(record: Record, rng: np.random.Generator) -> Record:
    """The ECG recipe's light augmentation, drawn from ``rng`` (the item's generator):
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


def generic_augmentation(record: Record, rng: np.random.Generator) -> Record:
    """The recipe for any signal: per-channel amplitude scaling and white noise, which change
    no meaning; no polarity flips or drifts (a gaze coordinate or an acceleration axis has a
    sign and a level that mean something) and no time stretch (durations can define classes,
    and a stretch would move one-sample point events by resampling)."""
    steps = [
        AmplitudeScale(0.8, 1.25, rng=rng),
        RandomApply(GaussianNoise((25.0, 45.0), rng=rng), 0.5, rng=rng),
    ]
    for step in steps:
        record = step(record)
    return record


def augmentation_for(
    task: Task, noise_data: str | None = None, noise_snr_db: tuple[float, float] = (0.0, 24.0)
) -> Augment | None:
    """The augmentation recipe a task names; for ECG with ``noise_data`` (an NSTDB folder),
    followed by real noise at ``noise_snr_db`` (:class:`~sigseg.tasks.ecg.noise.NstdbNoise`)."""
    recipe = {"ecg": default_augmentation, "generic": generic_augmentation, "none": None}[
        task.augmentation
    ]
    if noise_data is None:
        return recipe
    if task.augmentation != "ecg":
        raise ValueError(f"noise_data adds ECG noise; task {task.name!r} is not ECG")
    from sigseg.tasks.ecg.noise import NstdbNoise

    noise = NstdbNoise(noise_data, snr_db=noise_snr_db)

    def with_noise(record: Record, rng: np.random.Generator) -> Record:
        return noise(default_augmentation(record, rng), rng)

    return with_noise


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

    ``load(split)`` returns the records of ``"train"`` or ``"val"``; ``oversample`` repeats
    training records by their metadata (:func:`oversampling_factors`)."""

    def __init__(
        self,
        load: Callable[[str], Sequence[Record]],
        preprocessing: Preprocessing,
        crop_length: int,
        batch_size: int,
        seed: int,
        augment: Augment | None = None,
        num_workers: int = 0,
        task: Task = ECG_DELINEATION,
        crops_per_recording: int = 1,
        oversample: Mapping[str, Mapping[str, int]] | None = None,
    ) -> None:
        super().__init__()
        self.crops_per_recording, self.oversample = crops_per_recording, oversample or {}
        self.load, self.preprocessing, self.task = load, preprocessing, task
        self.crop_length, self.batch_size, self.seed = crop_length, batch_size, seed
        self.augment, self.num_workers = augment, num_workers
        self.train_set: CropDataset | None = None
        self.val_set: FullDataset | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is None:
            records = self.load("train")
            leads = records_to_leads(records, self.preprocessing, self.task)
            factors = oversampling_factors(records, self.oversample)
            self.train_set = CropDataset(
                [lead for lead, k in zip(leads, factors, strict=True) for _ in range(k)],
                self.crop_length,
                self.preprocessing.normalize,
                self.seed,
                self.augment,
                self.crops_per_recording,
            )
            self.val_set = FullDataset(
                records_to_leads(self.load("val"), self.preprocessing, self.task),
                self.preprocessing.normalize,
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


@dataclass(frozen=True)
class TrainingData:
    """What a training run reads: ``load(split)`` for ``"train"`` and ``"val"``, the task the
    labels belong to, the input channel names and the data's own sampling rate (``None``:
    decided by the model, as for the built-in ECG sources)."""

    load: Callable[[str], Sequence[Record]]
    task: Task
    channels: tuple[str, ...]
    data_rate: float | None = None


def is_ludb_folder(path: str | Path) -> bool:
    """Whether ``path`` is an LUDB folder (it holds ``ludb.csv``)."""
    return (Path(path) / "ludb.csv").is_file()


def training_data(
    name: str,
    root: str | None,
    *,
    synthetic_train: int = 256,
    synthetic_val: int = 32,
    synthetic_seconds: float = 10.0,
    seed: int = 0,
    fs: float | None = None,
    channels: Sequence[str | int] | None = None,
    classes: Sequence[str] | None = None,
    gaps: str | None = None,
) -> TrainingData:
    """The data a ``--data`` value names: ``synthetic`` (the ECG generator), ``ludb`` (at
    ``root``) or an LUDB folder (ECG delineation, single leads), else any folder in the
    sidecar convention or a YAML manifest (:func:`sigseg.data.dataset.open_dataset`, read and
    checked whole here, before anything is written). ``fs``, ``channels``, ``classes`` and
    ``gaps`` apply to the latter."""
    if name == "synthetic":
        from sigseg.tasks.ecg.synthetic import synthetic_records

        def load_synthetic(split: str) -> Sequence[Record]:
            n = synthetic_train if split == "train" else synthetic_val
            offset = {"train": 0, "val": 1_000_000, "test": 2_000_000}[split]
            return synthetic_records(n, duration_s=synthetic_seconds, fs=500.0, seed=seed + offset)

        return TrainingData(load_synthetic, ECG_DELINEATION, ("lead",))
    if name == "ludb" or is_ludb_folder(name):
        from sigseg.tasks.ecg.ludb import load_ludb

        folder = root if name == "ludb" else name
        return TrainingData(
            lambda split: load_ludb(folder, split=split, mode="single"), ECG_DELINEATION, ("lead",)
        )
    if not Path(name).exists():
        raise ValueError(f"--data {name!r}: not 'ludb', 'synthetic', a folder or a manifest file")
    from sigseg.data.dataset import open_dataset

    dataset = open_dataset(name, fs=fs, channels=channels, classes=classes, gaps=gaps)
    records = {split: dataset.records(split) for split in ("train", "val")}
    rates = sorted(r.fs for split in records.values() for r in split)
    return TrainingData(
        records.__getitem__, dataset.task, dataset.task.channels, rates[len(rates) // 2]
    )
