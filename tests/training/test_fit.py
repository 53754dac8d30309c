"""Training end to end on synthetic data: accuracy, determinism, resume, config round trip."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import lightning as L
import numpy as np
import pytest
from lightning.pytorch.callbacks import Callback
from safetensors.torch import load_file

from sigseg.checkpoint import load_checkpoint
from sigseg.inference.predict import predict_long
from sigseg.tasks.ecg.synthetic import synthetic_records
from sigseg.training import TrainConfig, load_config, train

TINY = TrainConfig(
    model="dilated",
    model_options={"widths": [8, 8, 8], "dilations": [1, 2, 4]},
    data="synthetic",
    synthetic_train=16,
    synthetic_val=4,
    synthetic_seconds=4.0,
    crop_seconds=2.0,
    batch_size=8,
    epochs=2,
    progress=False,
)


class StopAfterFirstEpoch(Callback):
    """Interrupts a run after its first epoch, as a crash would (the epoch-end checkpoint is
    already written)."""

    def on_train_epoch_end(self, trainer: L.Trainer, task: L.LightningModule) -> None:
        trainer.should_stop = True


def weights(path: Path) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in load_file(str(path)).items()}


def same_weights(a: Path, b: Path) -> bool:
    wa, wb = weights(a), weights(b)
    return wa.keys() == wb.keys() and all(np.array_equal(wa[k], wb[k]) for k in wa)


def test_short_training_reaches_accuracy_on_held_out_signals(tmp_path: Path) -> None:
    config = TrainConfig(
        model="hybrid",
        data="synthetic",
        epochs=5,
        synthetic_train=128,
        synthetic_val=16,
        synthetic_seconds=8.0,
        crop_seconds=4.0,
        batch_size=16,
        lr=5e-3,
        out_dir=str(tmp_path),
        progress=False,
    )
    result = train(config)
    model, info = load_checkpoint(result.best)
    assert info.preprocessing["sampling_rate"] == 250.0
    correct = total = 0
    for record in synthetic_records(6, duration_s=10.0, fs=500.0, seed=424242):
        probs = predict_long(model, record.signal, record.fs)  # resampled to 250 Hz and back
        assert probs.shape == (4, record.num_samples)
        correct += int((probs.argmax(0) == record.labels[0]).sum())
        total += record.num_samples
    assert correct / total >= 0.9


def test_resume_continues_the_same_run_and_config_reproduces_it(tmp_path: Path) -> None:
    full = train(dataclasses.replace(TINY, out_dir=str(tmp_path / "full")))
    half = train(
        dataclasses.replace(TINY, out_dir=str(tmp_path / "half")), callbacks=[StopAfterFirstEpoch()]
    )
    assert half.epochs == 1
    assert not same_weights(half.last, full.last)  # one epoch is not two
    resumed = train(
        dataclasses.replace(TINY, out_dir=str(tmp_path / "half")),
        resume=tmp_path / "half" / "checkpoints" / "last.ckpt",
    )
    assert resumed.epochs == full.epochs == 2
    assert same_weights(resumed.last, full.last)

    again = train(load_config(full.config, out_dir=str(tmp_path / "again")))
    assert same_weights(again.last, full.last)
    assert load_config(again.config).to_dict() == {
        **full_config_dict(full.config),
        "out_dir": str(tmp_path / "again"),
    }


def full_config_dict(path: Path) -> dict:
    return load_config(path).to_dict()


def test_bad_configs_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("epochz: 3\n")
    with pytest.raises(ValueError, match="bad.yaml: unknown training option"):
        load_config(bad)
    with pytest.raises(ValueError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(ValueError, match="resume from not found"):
        train(dataclasses.replace(TINY, out_dir=str(tmp_path)), resume=tmp_path / "x.ckpt")


def test_the_rate_defaults_to_the_one_the_model_is_designed_for(tmp_path: Path) -> None:
    """``sigseg train --model hybrid-fast`` trains at the preset's 125 Hz (its dilations and
    token attention are sized for it); an explicit rate still wins; the saved config holds
    the resolved rate, so passing it back reproduces the run."""
    fast = TrainConfig(model="hybrid-fast")
    assert fast.sampling_rate == 125.0 and fast.crop_length == round(8.192 * 125)
    assert TrainConfig(model="unet").sampling_rate == 250.0
    assert TrainConfig(model="hybrid-fast", sampling_rate=250.0).sampling_rate == 250.0
    fast.save(tmp_path / "config.yaml")
    assert load_config(tmp_path / "config.yaml").sampling_rate == 125.0
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        TrainConfig(model="nope")
