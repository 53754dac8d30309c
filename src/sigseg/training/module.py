"""The LightningModule: a registry model, a weighted loss, AdamW with a schedule, and
validation by the project's boundary metrics (the signal early stopping watches)."""

from __future__ import annotations

from typing import Any

import lightning as L
import numpy as np
import torch

from sigseg.data.record import IGNORE_INDEX
from sigseg.inference.waves import WaveOptions, labels_to_waves
from sigseg.metrics.report import Evaluation, evaluate_lead
from sigseg.models import create_model
from sigseg.training.losses import WeightedLoss

VALIDATION_DECODING = WaveOptions()


class SegmentationTask(L.LightningModule):
    """Trains ``create_model(model_name, **model_options)``.

    Logged each validation epoch: ``val_loss``, ``val_acc`` (annotated samples),
    ``val_strict_f1`` (strict macro boundary F1, the headline of BENCHMARK.md) and
    ``val_f1_150`` (the 150 ms macro-F1)."""

    def __init__(
        self,
        model_name: str,
        model_options: dict[str, Any],
        loss: dict[str, float],
        lr: float,
        weight_decay: float,
        schedule: str,
        sampling_rate: float,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.model = create_model(model_name, sampling_rate=sampling_rate, **model_options)
        self.loss = WeightedLoss(loss)
        self._val: Evaluation | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> torch.Tensor:
        x, y = batch
        loss = self.loss(self.model(x), y)
        self.log("train_loss", loss, prog_bar=True, batch_size=len(x))
        return loss

    def on_validation_epoch_start(self) -> None:
        self._val = None

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> None:
        x, y = batch
        logits = self.model(x)
        self.log("val_loss", self.loss(logits, y), batch_size=len(x), sync_dist=True)
        pred = _predicted_labels(logits).cpu().numpy()
        ref = y.cpu().numpy()
        fs = self.hparams.sampling_rate
        for p, r in zip(pred, ref, strict=True):
            if not (r != IGNORE_INDEX).any():
                continue
            p = np.where(r == IGNORE_INDEX, 0, p)
            result = evaluate_lead(
                labels_to_waves(p, fs, VALIDATION_DECODING),
                p,
                labels_to_waves(r, fs, WaveOptions.plain()),
                r,
                fs,
            )
            self._val = result if self._val is None else self._val + result

    def on_validation_epoch_end(self) -> None:
        if self._val is None:
            return
        result = self._val.result()
        confusion = self._val.confusion
        self.log_dict(
            {
                "val_acc": float(np.trace(confusion) / max(confusion.sum(), 1)),
                "val_strict_f1": result["boundaries"]["strict"]["macro_f1"],
                "val_f1_150": result["boundaries"]["150ms"]["macro_f1"],
            },
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


def _predicted_labels(logits: torch.Tensor) -> torch.Tensor:
    if logits.shape[1] == 1:
        return (logits[:, 0] > 0).long()
    return logits.argmax(dim=1)
