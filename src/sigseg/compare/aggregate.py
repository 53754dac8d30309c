"""Mean and standard deviation over seeds: pure functions on plain numbers and dicts.

A run's numbers are flattened to ``{"strict.P_on.f1": 0.91, ...}`` (:func:`flatten`); the
runs of one model are then reduced key by key (:func:`aggregate`) to a :class:`MeanSD` each.
The SD is the sample standard deviation (``ddof=1``): the spread one would expect from another
seed. With a single run it is undefined (``None``), not 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MeanSD:
    """Mean and sample SD of ``n`` finite values (``None`` where undefined)."""

    mean: float | None
    sd: float | None
    n: int

    def to_dict(self) -> dict[str, float | int | None]:
        return {"mean": self.mean, "sd": self.sd, "n": self.n}

    def format(self, digits: int = 3, scale: float = 1.0) -> str:
        """``0.950 ± 0.004``; ``0.950`` for one run; ``-`` with no value.

        >>> MeanSD(0.95, 0.004, 3).format()
        '0.950 ± 0.004'
        >>> MeanSD(12.5, None, 1).format(1)
        '12.5'
        """
        if self.mean is None:
            return "-"
        text = f"{self.mean * scale:.{digits}f}"
        if self.sd is not None:
            text += f" ± {self.sd * scale:.{digits}f}"
        return text


def mean_sd(values: Iterable[float | None]) -> MeanSD:
    """Mean and sample SD of the finite values (NaN and ``None`` are left out).

    >>> mean_sd([0.9, 0.8, 1.0])
    MeanSD(mean=0.9, sd=0.1, n=3)
    >>> mean_sd([0.5, float("nan")])
    MeanSD(mean=0.5, sd=None, n=1)
    """
    xs = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    n = len(xs)
    if n == 0:
        return MeanSD(None, None, 0)
    mean = math.fsum(xs) / n
    if n == 1:
        return MeanSD(_round(mean), None, 1)
    var = math.fsum((x - mean) ** 2 for x in xs) / (n - 1)
    return MeanSD(_round(mean), _round(math.sqrt(var)), n)


def _round(x: float) -> float:
    """Drop floating-point dust (0.9000000000000001 -> 0.9) without losing real digits."""
    return float(f"{x:.12g}")


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a nested dict under dotted keys (bools and strings are skipped).

    >>> flatten({"strict": {"P_on": {"f1": 0.9}, "macro_f1": 0.8}, "name": "unet"})
    {'strict.P_on.f1': 0.9, 'strict.macro_f1': 0.8}
    """
    out: dict[str, float] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = float(value)
    return out


def aggregate(runs: Sequence[Mapping[str, float]]) -> dict[str, MeanSD]:
    """Key-by-key :func:`mean_sd` over flat run dicts; a key missing from a run counts as
    missing for that run only.

    >>> agg = aggregate([{"f1": 0.9, "s": 10.0}, {"f1": 0.8}, {"f1": 1.0, "s": 14.0}])
    >>> agg["f1"], agg["s"]
    (MeanSD(mean=0.9, sd=0.1, n=3), MeanSD(mean=12.0, sd=2.82842712475, n=2))
    """
    keys: dict[str, None] = {}
    for run in runs:
        keys.update(dict.fromkeys(run))
    return {k: mean_sd(run.get(k) for run in runs) for k in keys}


def unflatten(values: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`flatten` for dotted keys (values kept as they are).

    >>> unflatten({"a.b": 1, "a.c": 2, "d": 3})
    {'a': {'b': 1, 'c': 2}, 'd': 3}
    """
    out: dict[str, Any] = {}
    for key, value in values.items():
        *path, last = key.split(".")
        node = out
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return out
