"""The training configuration: one dataclass, read from YAML and CLI overrides, saved beside
the checkpoint fully resolved so that passing it back reproduces the run."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sigseg.atomic import write_text
from sigseg.models.registry import resolve_config

SCHEDULES: tuple[str, ...] = ("onecycle", "cosine", "constant", "plateau")
"""Learning-rate schedules: one cycle or cosine over all epochs, a constant rate, or
``plateau``: the rate falls to 0.3x when the task's monitored score has not improved for two
epochs (with ``patience``, training to convergence)."""


@dataclass
class TrainConfig:
    """Everything a training run depends on.

    ``data`` is ``synthetic`` (the built-in ECG generator), ``ludb`` (``data_root``, else
    ``$SIGSEG_DATA``), an LUDB folder, or any folder of recordings with ``_events.tsv``
    sidecars or a YAML manifest (see :mod:`sigseg.data.dataset`); for the latter ``fs`` (the
    rate of files that store none), ``channels`` (names or indices), ``classes`` (their order,
    else inferred from the labels) and ``gaps`` (``background`` or ``unlabelled``) say how to
    read it. Signals are resampled to ``sampling_rate``: by default, for the ECG sources, the
    rate the model is designed for (250 Hz, or the rate a preset fixes, e.g. 125 Hz for
    ``hybrid-fast``), for other data the task's rate if its manifest gives one, else the
    data's own (median) rate. They are cut into random crops of ``crop_seconds`` (an epoch
    draws ``crops_per_recording`` from each) and normalized per crop.
    ``loss`` weights named losses (``ce``, ``bce``, ``dice``, ``focal``).
    ``oversample`` (metadata key -> value -> integer factor) draws that many crops per epoch
    from each training record whose metadata has the value, e.g. LUDB's
    ``{rhythms: {Atrial fibrillation: 4}}``
    (:func:`sigseg.training.datamodule.oversampling_factors`).
    ``noise_data`` (an NSTDB folder) adds real ECG noise to half the ECG training crops, at an
    SNR drawn from ``noise_snr_db`` (nst's definition; default 0-24 dB), from the first half
    of each noise record only (the noise benchmark uses the second;
    :class:`sigseg.tasks.ecg.noise.NstdbNoise`).
    ``schedule`` is one of :data:`SCHEDULES`; ``patience`` > 0 stops training when the task's
    monitored score has not improved for that many epochs.
    ``max_minutes`` caps wall time (the comparison's equal-time budget); 0 = no cap.
    """

    model: str = "hybrid"
    model_options: dict[str, Any] = field(default_factory=dict)
    data: str = "synthetic"
    data_root: str | None = None
    fs: float | None = None
    channels: list[str | int] | None = None
    classes: list[str] | None = None
    gaps: str | None = None
    sampling_rate: float | None = None
    normalize: str = "robust"
    bandpass: tuple[float, float] | None = None
    crop_seconds: float = 8.192
    crops_per_recording: int = 1
    oversample: dict[str, dict[str, int]] = field(default_factory=dict)
    batch_size: int = 16
    epochs: int = 8
    max_minutes: float = 0.0
    lr: float = 3e-3
    weight_decay: float = 1e-2
    schedule: str = "onecycle"
    loss: dict[str, float] = field(default_factory=lambda: {"ce": 1.0})
    augment: bool = True
    noise_data: str | None = None
    noise_snr_db: tuple[float, float] = (0.0, 24.0)
    seed: int = 0
    patience: int = 0
    synthetic_train: int = 256
    synthetic_val: int = 32
    synthetic_seconds: float = 10.0
    out_dir: str = "runs/train"
    accelerator: str = "auto"
    devices: str = "1"
    strategy: str = "auto"
    num_nodes: int = 1
    num_workers: int = 0
    limit_train_batches: float = 1.0
    progress: bool = True

    def __post_init__(self) -> None:
        if self.sampling_rate is None and self.reads_ecg:
            self.sampling_rate = self.model_rate()
        if self.schedule not in SCHEDULES:
            raise ValueError(
                f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}"
            )
        for name in ("batch_size", "epochs", "crops_per_recording"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.crop_seconds > 0 or not self.lr > 0:
            raise ValueError("crop_seconds and lr must be > 0")
        if self.sampling_rate is not None and not self.sampling_rate > 0:
            raise ValueError(f"sampling_rate must be > 0, got {self.sampling_rate}")
        if self.fs is not None and not self.fs > 0:
            raise ValueError(f"fs must be > 0, got {self.fs}")
        for key, values in self.oversample.items():
            factors = values.values() if isinstance(values, dict) else [None]
            if not all(isinstance(f, int) and not isinstance(f, bool) and f >= 1 for f in factors):
                raise ValueError(
                    f"oversample: {key} needs a mapping of values to integer factors >= 1"
                )
        if self.gaps not in (None, "background", "unlabelled"):
            raise ValueError(f"gaps must be background or unlabelled, got {self.gaps!r}")
        if self.bandpass is not None:
            self.bandpass = (float(self.bandpass[0]), float(self.bandpass[1]))
        low, high = self.noise_snr_db
        if not low <= high:
            raise ValueError(f"noise_snr_db must be low <= high (dB), got {low}, {high}")
        self.noise_snr_db = (float(low), float(high))

    @property
    def reads_ecg(self) -> bool:
        """Whether ``data`` is one of the ECG delineation sources (synthetic, LUDB)."""
        return self.data in ("synthetic", "ludb") or (Path(self.data) / "ludb.csv").is_file()

    def model_rate(self) -> float:
        """The rate the model (or its preset) is designed for."""
        options = {k: v for k, v in self.model_options.items() if k != "sampling_rate"}
        return float(resolve_config(self.model, **options)[1].sampling_rate)

    @property
    def crop_length(self) -> int:
        if self.sampling_rate is None:
            raise ValueError("the sampling rate is not resolved yet (it comes from the data)")
        return round(self.crop_seconds * self.sampling_rate)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["bandpass"] = list(self.bandpass) if self.bandpass else None
        d["noise_snr_db"] = list(self.noise_snr_db)
        return d

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "config") -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{source}: unknown training option(s) {', '.join(unknown)}")
        return cls(**values)

    def save(self, path: str | Path) -> None:
        write_text(path, yaml.safe_dump(self.to_dict(), sort_keys=False))


def load_config(path: str | Path, **overrides: Any) -> TrainConfig:
    """Read a YAML config and apply overrides (``None`` values are ignored)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: config file not found")
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: invalid YAML ({err})") from None
    if not isinstance(values, dict):
        raise ValueError(f"{path}: a training config must be a mapping of options")
    values.update({k: v for k, v in overrides.items() if v is not None})
    return TrainConfig.from_dict(values, source=str(path))
