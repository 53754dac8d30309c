"""The LightningModule: a registry model, a weighted loss, AdamW with a schedule, and
validation by the task's own metric (the signal early stopping and ``best.safetensors``
follow): the ECG task's strict boundary F1, or the generic sample, event or point F1."""

from __future__ import annotations

import math
from typing import Any

import lightning as L
import numpy as np
import torch

from sigseg.data.record import IGNORE_INDEX, Wave
from sigseg.inference.decode import decode, events_to_labels
from sigseg.metrics.events import TaskEvaluation, evaluate_recording, headline
from sigseg.metrics.segments import label_segments
from sigseg.models import create_model
from sigseg.tasks import ECG_DELINEATION, Task
from sigseg.tasks.ecg.report import Evaluation, evaluate_lead
from sigseg.tasks.ecg.waves import WaveOptions, labels_to_waves
from sigseg.training.losses import WeightedLoss, point_targets, soft_cross_entropy

VALIDATION_DECODING = WaveOptions()


class SegmentationTask(L.LightningModule):
    """Trains ``create_model(model_name, **model_options)`` on the classes of ``task`` (a
    :meth:`Task.to_dict`; default ECG delineation).

    Logged each validation epoch: ``val_loss``, ``val_acc`` (labelled samples) and, for the
    ECG task, ``val_strict_f1`` (strict macro boundary F1, the headline of BENCHMARK.md) and
    ``val_f1_150`` (the 150 ms macro-F1); for any other task ``val_macro_f1`` (macro sample F1
    of the decoded labels) and ``val_event_f1`` (macro onset/offset or point-event F1). An
    undefined score (no event of any class) is logged as 0, so the monitor is never NaN.
    Point-event tasks train on soft Gaussian targets (:func:`point_targets`)."""

    def __init__(
        self,
        model_name: str,
        model_options: dict[str, Any],
        loss: dict[str, float],
        lr: float,
        weight_decay: float,
        schedule: str,
        sampling_rate: float,
        task: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.task = Task.from_dict(task) if task is not None else ECG_DELINEATION
        self.model = create_model(model_name, sampling_rate=sampling_rate, **model_options)
        if max(self.model.num_classes, 2) != self.task.num_classes:
            raise ValueError(
                f"model {model_name!r} outputs {self.model.num_classes} classes; task "
                f"{self.task.name!r} has {self.task.num_classes} ({', '.join(self.task.classes)})"
            )
        if self.task.monitor == "val_strict_f1" and self.task.classes != ECG_DELINEATION.classes:
            raise ValueError(
                f"task {self.task.name!r}: monitor val_strict_f1 is the ECG delineation task's "
                "(P, QRS, T boundaries); use val_macro_f1, val_event_f1 or val_loss"
            )
        self.loss = WeightedLoss(loss)
        self._val: Evaluation | TaskEvaluation | None = None

    @property
    def is_ecg(self) -> bool:
        return self.task.monitor == "val_strict_f1"

    def _loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.task.kind != "events":
            return self.loss(logits, y)
        sigma = self.task.event_sigma_s * float(self.hparams.sampling_rate)
        return soft_cross_entropy(logits, point_targets(y, logits.shape[1], sigma), y)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> torch.Tensor:
        x, y = batch
        loss = self._loss(self.model(x), y)
        self.log("train_loss", loss, prog_bar=True, batch_size=len(x))
        return loss

    def on_validation_epoch_start(self) -> None:
        self._val = None

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> None:
        x, y = batch
        logits = self.model(x)
        self.log("val_loss", self._loss(logits, y), batch_size=len(x), sync_dist=True)
        fs = float(self.hparams.sampling_rate)
        probs = _probabilities(logits).cpu().numpy()
        for prob, ref in zip(probs, y.cpu().numpy(), strict=True):
            valid = ref != IGNORE_INDEX
            if not valid.any():
                continue
            if self.is_ecg:
                result: Evaluation | TaskEvaluation = self._score_ecg(prob, ref, fs)
            else:  # the collate's padding is no part of the recording
                end = _labelled_end(valid)
                result = self._score(prob[:, :end], ref[:end], fs)
            self._val = result if self._val is None else self._val + result

    def _score_ecg(self, prob: np.ndarray, ref: np.ndarray, fs: float) -> Evaluation:
        pred = np.where(ref == IGNORE_INDEX, 0, prob.argmax(axis=0))
        return evaluate_lead(
            labels_to_waves(pred, fs, VALIDATION_DECODING),
            pred,
            labels_to_waves(ref, fs, WaveOptions.plain()),
            ref,
            fs,
        )

    def _score(self, prob: np.ndarray, ref: np.ndarray, fs: float) -> TaskEvaluation:
        pred_events = decode(prob, fs, self.task)
        pred = events_to_labels(pred_events, len(ref), self.task)
        ref_events = reference_events(ref, self.task)
        return evaluate_recording(ref, pred, ref_events, pred_events, fs, self.task)

    def on_validation_epoch_end(self) -> None:
        if self._val is None:
            return
        result = self._val.result()
        confusion = np.asarray(self._val.confusion)  # both evaluations sum one
        scores = {"val_acc": float(np.trace(confusion) / max(confusion.sum(), 1))}
        if isinstance(self._val, Evaluation):
            scores["val_strict_f1"] = result["boundaries"]["strict"]["macro_f1"]
            scores["val_f1_150"] = result["boundaries"]["150ms"]["macro_f1"]
        else:
            scores["val_macro_f1"] = headline(result, self.task.replace(monitor="val_macro_f1"))
            scores["val_event_f1"] = headline(result, self.task.replace(monitor="val_event_f1"))
        self.log_dict(
            {k: 0.0 if math.isnan(v) else float(v) for k, v in scores.items()},
            prog_bar=True,
            sync_dist=True,
        )

    def configure_optimizers(self) -> Any:
        hp = self.hparams
        optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=hp.lr, weight_decay=hp.weight_decay
        )
        if hp.schedule == "constant":
            return optimizer
        if hp.schedule == "plateau":  # for training to convergence: lower the rate on a stall
            monitor = self.task.monitor
            scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, mode="min" if monitor == "val_loss" else "max", factor=0.3, patience=2
            )
            return {
                "optimizer": optimizer,
                "lr_scheduler": {"scheduler": scheduler, "interval": "epoch", "monitor": monitor},
            }
        steps = int(self.trainer.estimated_stepping_batches)
        if hp.schedule == "onecycle":
            scheduler = torch.optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=hp.lr, total_steps=max(steps, 1)
            )
        else:
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, max(steps, 1))
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }


def _probabilities(logits: torch.Tensor) -> torch.Tensor:
    """``(N, K, L)`` class probabilities; a single logit (binary) becomes two rows."""
    if logits.shape[1] == 1:
        p = torch.sigmoid(logits)
        return torch.cat([1 - p, p], dim=1)
    return logits.softmax(dim=1)


def _labelled_end(valid: np.ndarray) -> int:
    """One past the last labelled sample (padding added by the collate is cut off)."""
    return int(np.flatnonzero(valid)[-1]) + 1


def reference_events(labels: np.ndarray, task: Task) -> list[Wave]:
    """The events a label array states: runs of one foreground class (points: each marked
    sample). Unlabelled samples end a run and belong to none."""
    background = None if task.kind == "states" else 0
    runs = label_segments(labels, IGNORE_INDEX, background=background)
    if task.kind == "events":
        return [
            Wave(task.classes[r.label], i, i, i) for r in runs for i in range(r.start, r.end + 1)
        ]
    return [Wave(task.classes[r.label], r.start, None, r.end) for r in runs]
