"""Run a training: data, model, Lightning trainer, checkpoints and logs in one folder.

``out_dir`` receives ``config.yaml`` (the fully resolved config: pass it back with
``--config`` to reproduce the run), ``best.safetensors`` and ``last.safetensors``
(self-describing sigseg checkpoints), ``checkpoints/last.ckpt`` (Lightning's full training
state, for ``resume``) and ``metrics.csv``.
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
from sigseg.training.config import TrainConfig
from sigseg.training.datamodule import (
    SegmentationDataModule,
    data_loader_for,
    default_augmentation,
)
from sigseg.training.durable import AtomicCheckpointIO, ResumableCSVLogger
from sigseg.training.module import SegmentationTask

MONITOR = "val_strict_f1"


@dataclass(frozen=True)
class TrainResult:
    best: Path
    last: Path
    config: Path
    best_score: float
    epochs: int
    seconds: float
    primary: bool = True
    """False in the extra processes of a multi-process (DDP) run, which write no files."""


class ExportSafetensors(Callback):
    """After each validation, write ``last.safetensors`` and, when the monitored score
    improves, ``best.safetensors`` (atomically). Its best score travels in Lightning's
    checkpoint so a resumed run keeps comparing against it."""

    def __init__(self, out_dir: Path, config: TrainConfig, preprocessing: Preprocessing) -> None:
        self.out_dir, self.config, self.preprocessing = out_dir, config, preprocessing
        self.best_score = float("-inf")

    def on_validation_end(self, trainer: L.Trainer, task: L.LightningModule) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
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
        }
        save_checkpoint(task.model, self.out_dir / "last.safetensors", **kwargs)
        score = metrics.get(MONITOR, float("-inf"))
        if score > self.best_score:
            self.best_score = score
            save_checkpoint(task.model, self.out_dir / "best.safetensors", **kwargs)

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
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"{out_dir}: cannot create output folder ({err.strerror})") from None
    if resume is not None and not Path(resume).is_file():
        raise ValueError(f"{resume}: checkpoint to resume from not found")
    config.save(out_dir / "config.yaml")
    L.seed_everything(config.seed, workers=True, verbose=False)
    preprocessing = Preprocessing(config.sampling_rate, config.bandpass, config.normalize)
    load = data_loader_for(
        config.data,
        config.data_root,
        synthetic_train=config.synthetic_train,
        synthetic_val=config.synthetic_val,
        synthetic_seconds=config.synthetic_seconds,
        seed=config.seed,
    )
    datamodule = SegmentationDataModule(
        load,
        preprocessing,
        config.crop_length,
        config.batch_size,
        config.seed,
        augment=default_augmentation if config.augment else None,
        num_workers=config.num_workers,
    )
    task = SegmentationTask(
        config.model,
        dict(config.model_options),
        dict(config.loss),
        config.lr,
        config.weight_decay,
        config.schedule,
        config.sampling_rate,
    )
    exporter = ExportSafetensors(out_dir, config, preprocessing)
    callbacks_: list[Callback] = [
        exporter,
        _EpochSeed(),
        ModelCheckpoint(
            dirpath=out_dir / "checkpoints",
            filename="best",
            monitor=MONITOR,
            mode="max",
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
        callbacks_.append(EarlyStopping(MONITOR, mode="max", patience=config.patience))
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
    return TrainResult(
        best=out_dir / "best.safetensors",
        last=out_dir / "last.safetensors",
        config=out_dir / "config.yaml",
        best_score=exporter.best_score,
        epochs=trainer.current_epoch,
        seconds=time.perf_counter() - start,
        primary=trainer.is_global_zero,
    )
