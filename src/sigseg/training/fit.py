"""Run a training: data, model, Lightning trainer, checkpoints and logs in one folder.

``out_dir`` receives ``config.yaml`` (the fully resolved config: pass it back with
``--config`` to reproduce the run), ``best.safetensors`` and ``last.safetensors``
(self-describing sigseg checkpoints that carry the task: class names, label kind, channels,
rate, preprocessing), ``checkpoints/last.ckpt`` (Lightning's full training state, for
``resume``) and ``metrics.csv``. The data is read and checked whole before anything is
written, so a bad data set leaves no half-made run folder.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint

from sigseg.checkpoint import save_checkpoint
from sigseg.data.transforms import Preprocessing
from sigseg.tasks import Task
from sigseg.training.config import TrainConfig
from sigseg.training.datamodule import (
    SegmentationDataModule,
    TrainingData,
    augmentation_for,
    training_data,
)
from sigseg.training.durable import AtomicCheckpointIO, ResumableCSVLogger
from sigseg.training.module import SegmentationTask


@dataclass(frozen=True)
class TrainResult:
    best: Path
    last: Path
    config: Path
    best_score: float
    epochs: int
    seconds: float
    monitor: str = "val_strict_f1"
    primary: bool = True
    """False in the extra processes of a multi-process (DDP) run, which write no files."""


class ExportSafetensors(Callback):
    """After each validation, write ``last.safetensors`` and, when the task's monitored score
    improves (or no ``best.safetensors`` exists yet), ``best.safetensors`` (atomically). Its
    best score travels in Lightning's checkpoint so a resumed run keeps comparing against it.
    Scores are kept as "higher is better" (a loss is negated)."""

    def __init__(
        self, out_dir: Path, config: TrainConfig, preprocessing: Preprocessing, task: Task
    ) -> None:
        self.out_dir, self.config, self.preprocessing = out_dir, config, preprocessing
        self.task = task
        self.best_score = float("-inf")

    @property
    def sign(self) -> float:
        return -1.0 if self.task.monitor == "val_loss" else 1.0

    def on_validation_end(self, trainer: L.Trainer, task: L.LightningModule) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        self.save(task.model, trainer)

    def save(self, model: Any, trainer: L.Trainer) -> None:
        """Write ``last`` and, if it is the best so far, ``best``."""
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
        extra = {
            "epoch": trainer.current_epoch,
            "global_step": trainer.global_step,
            "validation": metrics,
            "train_config": self.config.to_dict(),
        }
        kwargs: dict[str, Any] = {
            "name": self.config.model,
            "preprocessing": self.preprocessing.to_dict(),
            "extra": extra,
            "task": self.task,
        }
        save_checkpoint(model, self.out_dir / "last.safetensors", **kwargs)
        score = self.sign * metrics.get(self.task.monitor, float("nan"))
        best = self.out_dir / "best.safetensors"
        improved = score > self.best_score  # False for NaN: a missing score
        if improved:
            self.best_score = score
        if improved or not best.is_file():
            save_checkpoint(model, best, **kwargs)

    def state_dict(self) -> dict[str, float]:
        return {"best_score": self.best_score}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.best_score = float(state["best_score"])


class _EpochSeed(Callback):
    """Tell the crop dataset which epoch it serves (crops depend on seed, epoch and index)."""

    def on_train_epoch_start(self, trainer: L.Trainer, task: L.LightningModule) -> None:
        trainer.datamodule.set_epoch(trainer.current_epoch)


def _devices(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def train(
    config: TrainConfig, resume: str | Path | None = None, callbacks: Sequence[Callback] = ()
) -> TrainResult:
    """Train as ``config`` says (resuming from a Lightning ``.ckpt`` when given); extra
    Lightning ``callbacks`` join the run's own."""
    start = time.perf_counter()
    out_dir = Path(config.out_dir)
    if resume is not None and not Path(resume).is_file():
        raise ValueError(f"{resume}: checkpoint to resume from not found")
    data = training_data(
        config.data,
        config.data_root,
        synthetic_train=config.synthetic_train,
        synthetic_val=config.synthetic_val,
        synthetic_seconds=config.synthetic_seconds,
        seed=config.seed,
        fs=config.fs,
        channels=config.channels,
        classes=config.classes,
        gaps=config.gaps,
    )
    resolve_for_data(config, data)
    L.seed_everything(config.seed, workers=True, verbose=False)
    assert config.sampling_rate is not None
    preprocessing = Preprocessing(config.sampling_rate, config.bandpass, config.normalize)
    label_set = data.task.replace(sampling_rate=config.sampling_rate, channels=data.channels)
    datamodule = SegmentationDataModule(
        data.load,
        preprocessing,
        config.crop_length,
        config.batch_size,
        config.seed,
        augment=(
            augmentation_for(label_set, config.noise_data, config.noise_snr_db)
            if config.augment
            else None
        ),
        num_workers=config.num_workers,
        task=label_set,
        crops_per_recording=config.crops_per_recording,
        oversample=config.oversample,
    )
    task = SegmentationTask(
        config.model,
        dict(config.model_options),
        dict(config.loss),
        config.lr,
        config.weight_decay,
        config.schedule,
        config.sampling_rate,
        label_set.to_dict(),
    )  # built before the run folder: a model option that does not fit writes nothing
    datamodule.setup("fit")  # so does an `oversample` value no training record has
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"{out_dir}: cannot create output folder ({err.strerror})") from None
    config.save(out_dir / "config.yaml")
    monitor = label_set.monitor
    mode = "min" if monitor == "val_loss" else "max"
    exporter = ExportSafetensors(out_dir, config, preprocessing, label_set)
    callbacks_: list[Callback] = [
        exporter,
        _EpochSeed(),
        ModelCheckpoint(
            dirpath=out_dir / "checkpoints",
            filename="best",
            monitor=monitor,
            mode=mode,
            save_top_k=1,
        ),
        # every epoch: Lightning's save_last writes only when the monitored score improves,
        # so a run killed after a worse epoch would resume from an older state
        ModelCheckpoint(
            dirpath=out_dir / "checkpoints", filename="last", enable_version_counter=False
        ),
    ]
    callbacks_ = [*callbacks_, *callbacks]
    if config.patience > 0:
        callbacks_.append(EarlyStopping(monitor, mode=mode, patience=config.patience))
    trainer = L.Trainer(
        max_epochs=config.epochs,
        max_time={"minutes": config.max_minutes} if config.max_minutes > 0 else None,
        accelerator=config.accelerator,
        devices=_devices(config.devices),
        strategy=config.strategy,
        num_nodes=config.num_nodes,
        deterministic=True,
        callbacks=callbacks_,
        logger=ResumableCSVLogger(save_dir=out_dir, name="", version="", resume=resume is not None),
        plugins=[AtomicCheckpointIO()],
        enable_progress_bar=config.progress,
        enable_model_summary=False,
        limit_train_batches=config.limit_train_batches,
        log_every_n_steps=10,
        default_root_dir=out_dir,
    )
    try:
        trainer.fit(task, datamodule=datamodule, ckpt_path=resume, weights_only=True)
    except RuntimeError as err:
        if resume is None or "loading state_dict" not in str(err):
            raise
        first = str(err).strip().splitlines()[0]
        raise ValueError(f"{resume}: does not fit the model this config builds ({first})") from None
    if trainer.is_global_zero and not (out_dir / "best.safetensors").is_file():
        exporter.save(task.model, trainer)  # no validation ran (time cap): the final weights
    return TrainResult(
        best=out_dir / "best.safetensors",
        last=out_dir / "last.safetensors",
        config=out_dir / "config.yaml",
        best_score=exporter.best_score,
        epochs=trainer.current_epoch,
        seconds=time.perf_counter() - start,
        monitor=monitor,
        primary=trainer.is_global_zero,
    )


def resolve_for_data(config: TrainConfig, data: TrainingData) -> None:
    """Fill in what the data decides, so the saved ``config.yaml`` reproduces the run: the
    rate (the task's, else the data's own, for data that is not one of the ECG sources), the
    class order and channel names, and the model's input channels and output classes (an
    explicit model option that contradicts the data is an error)."""
    if config.sampling_rate is None:
        rate = data.task.sampling_rate or data.data_rate or config.model_rate()
        config.sampling_rate = float(f"{rate:.9g}")  # a rate from time stamps: 50.000000000001
    if config.reads_ecg:
        return
    config.classes = list(data.task.foreground)
    config.channels = list(data.channels)
    wanted = {"in_channels": len(data.channels), "num_classes": data.task.num_classes}
    for key, value in wanted.items():
        given = config.model_options.get(key)
        if given is not None and int(given) != value:
            raise ValueError(
                f"--model-option {key}={given} contradicts the data ({value}: "
                f"{', '.join(data.channels if key == 'in_channels' else data.task.classes)})"
            )
    config.model_options = {**config.model_options, **wanted}
