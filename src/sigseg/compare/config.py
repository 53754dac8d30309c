"""What a comparison runs: the models, seeds, budget, data and ablation, as typed dataclasses,
and the plan of training runs they expand to.

Every run shares one training recipe (:class:`~sigseg.training.TrainConfig` defaults plus
``train_options``): same data, split, crops, augmentation, loss and optimizer schedule. Only
the model (and the seed) changes between runs, and every run gets the same :class:`Budget`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sigseg.models.registry import resolve_config

DEFAULT_MODELS: tuple[str, ...] = (
    "unet", "dilated", "attention", "hybrid", "unet-seed", "dilated-seed", "attention-seed",
)  # fmt: skip
"""The models compared by default: the four architectures and the article's three examples."""

QUICK_MODELS: tuple[str, ...] = ("unet", "dilated", "dilated-seed")
"""The demo's models: the floor U-Net, the dilated network and the article's Example 1."""

DEFAULT_MINUTES = 1.5
"""The default equal-time budget per run: the full comparison (28 runs) then fits in about two
hours on 2 CPU cores, and even the slowest model trains for a few dozen steps."""

DATA_SOURCES = ("auto", "ludb", "synthetic")
ABLATION_MODEL = "dilated"
ABLATION_WIDTH = 32


@dataclass(frozen=True)
class Budget:
    """The training budget every run gets.

    * ``minutes > 0``: equal wall time. Each model's epochs (or, below one epoch, its number of
      training batches) are sized from its measured step time so that its learning-rate
      schedule ends near the budget, and ``minutes`` is also Lightning's hard wall-time cap;
      ``epochs`` is then unused.
    * ``minutes == 0``: equal epochs (``epochs`` each, no time cap).
    """

    epochs: int = 8
    minutes: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "epochs", int(self.epochs))
        object.__setattr__(self, "minutes", float(self.minutes))
        if self.epochs < 1:
            raise ValueError(f"budget epochs must be >= 1, got {self.epochs}")
        if not self.minutes >= 0:
            raise ValueError(f"budget minutes must be >= 0, got {self.minutes}")

    @property
    def kind(self) -> str:
        return "minutes" if self.minutes > 0 else "epochs"

    def describe(self) -> str:
        if self.kind == "minutes":
            return f"{self.minutes:g} min of wall time per run (epochs sized to fit)"
        return f"{self.epochs} epoch(s) per run, no time cap"


@dataclass(frozen=True)
class CompareConfig:
    """One comparison.

    * ``models``: registry names; each is built with ``model_options`` (``num_classes=4`` by
      default, which turns the binary seed presets into 4-class delineators) plus its entry in
      ``model_overrides``.
    * ``seeds``: training seeds; each model is trained once per seed.
    * ``budget``: see :class:`Budget`.
    * ``data``: ``ludb``, ``synthetic`` or ``auto`` (LUDB when ``data_root`` or
      ``$SIGSEG_DATA`` points at it, else synthetic).
    * ``test_records``: how many test records to score (``None``: all of the split).
    * ``ablation_levels``: numbers of dilation levels of the ``dilated`` model swept for the
      receptive-field ablation (``n`` levels: dilations ``1, 2, ..., 2**(n-1)``, ``n`` layers of
      32 channels), trained with ``ablation_seeds``. Empty: no ablation.
    * ``train_options``: overrides of :class:`~sigseg.training.TrainConfig` shared by all runs.
    * ``threads``: PyTorch intra-op threads for the whole run (``None``: PyTorch's default).
    * ``plot_record``: index into the scored test records of the record drawn in the stacked
      delineation figure; ``plot_lead`` the lead name (``ii``) or index shown.
    * ``baseline``: run NeuroKit2's DWT delineator as the non-learned row.
    """

    models: tuple[str, ...] = DEFAULT_MODELS
    seeds: tuple[int, ...] = (0, 1, 2)
    budget: Budget = field(default_factory=lambda: Budget(minutes=DEFAULT_MINUTES))
    data: str = "auto"
    data_root: str | None = None
    out_dir: str = "runs/compare"
    test_records: int | None = None
    ablation_levels: tuple[int, ...] = (2, 4, 6, 8)
    ablation_seeds: tuple[int, ...] = (0,)
    model_options: dict[str, Any] = field(default_factory=lambda: {"num_classes": 4})
    model_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    train_options: dict[str, Any] = field(default_factory=dict)
    threads: int | None = None
    synthetic_test: int = 8
    synthetic_leads: int = 2
    plot_record: int = 0
    plot_lead: str | int = "ii"
    baseline: bool = True
    probe_repeats: int = 5
    quick: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "models", tuple(self.models))
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
        object.__setattr__(self, "ablation_levels", tuple(int(n) for n in self.ablation_levels))
        object.__setattr__(self, "ablation_seeds", tuple(int(s) for s in self.ablation_seeds))
        if not self.models:
            raise ValueError("compare: give at least one model")
        if len(set(self.models)) != len(self.models):
            raise ValueError(f"compare: duplicate model names in {self.models}")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"compare: seeds must be distinct and non-empty, got {self.seeds}")
        if self.data not in DATA_SOURCES:
            raise ValueError(f"compare: data must be one of {DATA_SOURCES}, got {self.data!r}")
        if any(n < 1 for n in self.ablation_levels):
            raise ValueError(f"compare: ablation levels must be >= 1, got {self.ablation_levels}")
        if self.ablation_levels and not self.ablation_seeds:
            raise ValueError("compare: the ablation needs at least one seed")
        if self.test_records is not None and self.test_records < 1:
            raise ValueError(f"compare: test_records must be >= 1, got {self.test_records}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"compare: threads must be >= 1, got {self.threads}")
        if self.probe_repeats < 1:
            raise ValueError(f"compare: probe_repeats must be >= 1, got {self.probe_repeats}")
        unknown = sorted(set(self.model_overrides) - set(self.models))
        if unknown:
            raise ValueError(f"compare: overrides for models not compared: {', '.join(unknown)}")
        fixed = {
            "model",
            "model_options",
            "seed",
            "out_dir",
            "epochs",
            "max_minutes",
            "data",
            "data_root",
        }
        reserved = sorted(fixed & set(self.train_options))
        if reserved:
            raise ValueError(
                f"compare: train_options cannot set {', '.join(reserved)} (the comparison sets "
                "them: use models, seeds, budget, data and data_root)"
            )
        for run in plan_runs(self):  # fail now, not an hour in, on a bad name or option
            resolve_config(run.model, **run.model_options)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(dataclasses.asdict(self))


def quick_config(**changes: Any) -> CompareConfig:
    """The demo: three models, one seed, 30 s each, one ablation point, four test records.

    A few minutes on 2 CPU cores, on LUDB when present, else on synthetic data."""
    values: dict[str, Any] = {
        "models": QUICK_MODELS,
        "seeds": (0,),
        "budget": Budget(epochs=1, minutes=0.5),
        "test_records": 4,
        "ablation_levels": (4,),
        "ablation_seeds": (0,),
        "synthetic_test": 4,
        "probe_repeats": 3,
        "out_dir": "runs/compare-quick",
        "quick": True,
        "train_options": {"synthetic_train": 64, "synthetic_val": 8},
    }
    values.update(changes)
    return CompareConfig(**values)


def ablation_options(levels: int) -> dict[str, Any]:
    """Options of the ``dilated`` model with ``levels`` dilation levels (doubling from 1).

    >>> ablation_options(3)
    {'dilations': (1, 2, 4), 'widths': (32, 32, 32)}
    """
    return {
        "dilations": tuple(2**i for i in range(levels)),
        "widths": (ABLATION_WIDTH,) * levels,
    }


@dataclass(frozen=True)
class RunSpec:
    """One training run: a model (name plus options) and a seed.

    ``label`` names the model in tables (the registry name, or ``dilated-L<n>`` for an
    ablation point); ``groups`` says which tables it belongs to (``main``, ``ablation``): a run
    whose model equals an ablation point (the default ``dilated`` is the 8-level point) is
    trained once and counted in both."""

    label: str
    model: str
    model_options: dict[str, Any]
    seed: int
    groups: tuple[str, ...] = ("main",)
    levels: int | None = None

    @property
    def run_id(self) -> str:
        return f"{self.label}-seed{self.seed}"

    def model_identity(self) -> dict[str, Any]:
        """The resolved architecture and full config: two specs with equal identities train
        the same network."""
        arch, config = resolve_config(self.model, **self.model_options)
        return {"arch": arch, "config": _jsonable(dataclasses.asdict(config))}


def plan_runs(config: CompareConfig) -> list[RunSpec]:
    """Every training run of a comparison: the main runs seed by seed (every model's first seed,
    then every model's second...), then the ablation points; an ablation point identical to a
    main run (same resolved model and seed) is merged into it.

    >>> [r.run_id for r in plan_runs(CompareConfig(models=("unet", "dilated"), seeds=(0, 1),
    ...                                            ablation_levels=(2, 8)))]
    ['unet-seed0', 'dilated-seed0', 'unet-seed1', 'dilated-seed1', 'dilated-L2-seed0']
    """
    runs: list[RunSpec] = []
    for seed in config.seeds:  # seed-major: after the first seed, every model has a result
        for name in config.models:
            options = {**config.model_options, **config.model_overrides.get(name, {})}
            runs.append(RunSpec(name, name, options, seed))
    identities = {
        (json.dumps(r.model_identity(), sort_keys=True), r.seed): i for i, r in enumerate(runs)
    }
    for n in config.ablation_levels:
        options = {**config.model_options, **ablation_options(n)}
        for seed in config.ablation_seeds:
            spec = RunSpec(
                f"{ABLATION_MODEL}-L{n}", ABLATION_MODEL, options, seed, ("ablation",), n
            )
            key = (json.dumps(spec.model_identity(), sort_keys=True), seed)
            if key in identities:
                i = identities[key]
                runs[i] = dataclasses.replace(
                    runs[i], groups=(*runs[i].groups, "ablation"), levels=n
                )
            else:
                identities[key] = len(runs)
                runs.append(spec)
    return runs


def fingerprint(value: Any) -> str:
    """A short stable hash of a JSON-able value (what decides whether a saved run is reused)."""
    text = json.dumps(_jsonable(value), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _jsonable(value: Any) -> Any:
    """Tuples -> lists, dataclasses -> dicts, recursively."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
