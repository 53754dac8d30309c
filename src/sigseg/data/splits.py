"""How a data set's labelled recordings are split into ``train``, ``val`` and ``test``: by a
manifest's ``splits`` rule (see :mod:`sigseg.data.manifest`), or by default.

* **Explicit patterns** (``{train: [...], val: [...], test: [...]}``): shell patterns over
  recording names; each must match a labelled recording, and no recording may be in two splits.
* **k-fold** (``{kfold: {k, fold, by, seed}}``): the groups are shuffled with ``seed`` and dealt
  into ``k`` folds; fold ``fold`` is ``test``, the next one ``val``, the rest ``train``.
* **Leave one group out** (``{leave_out: {by, group}}``): that group is ``test``; the rest is
  split by the default rule.
* **Default**: recordings are grouped by subject (the manifest's ``subject`` pattern, else the
  BIDS ``sub-`` entity, else each recording is its own group), the groups are sorted and every
  fifth, from the second on, goes in ``val`` and the rest in ``train``; ``test`` is empty. A
  single group is used for both ``train`` and ``val``, with a warning.

A group is a recording's subject (``by: subject``, extracted as in the default rule) or the
recording itself (``by: recording``).
"""

from __future__ import annotations

import fnmatch
import re
import warnings
from collections.abc import Sequence

import numpy as np

from sigseg.data.manifest import ExplicitSplits, KFold, LeaveOut, Spec

__all__ = ["BIDS_SUBJECT", "SPLITS", "VAL_EVERY", "split_recordings"]

SPLITS: tuple[str, ...] = ("train", "val", "test", "all")
BIDS_SUBJECT = r"(?:^|[/_])sub-([A-Za-z0-9]+)"
VAL_EVERY = 5


def _group(name: str, by: str, spec: Spec) -> str:
    """The group a recording belongs to: itself, or its subject."""
    if by == "recording":
        return name
    match = re.search(spec.subject or BIDS_SUBJECT, name)
    if match:
        return match.group(1)
    if spec.subject is not None:
        raise ValueError(f"{spec.source}: subject: {spec.subject!r} does not match {name!r}")
    return name


def _default_split(names: Sequence[str], by: str, spec: Spec) -> tuple[list[str], list[str]]:
    """``(train, val)``: every fifth group from the second on is validation."""
    groups = sorted({_group(n, by, spec) for n in names})
    if len(groups) == 1:
        warnings.warn(
            f"{spec.source}: only one recording group ({groups[0]}): it is used for both "
            "training and validation, so validation scores are optimistic",
            stacklevel=4,
        )
        return list(names), list(names)
    val_groups = set(groups[1::VAL_EVERY])
    val = [n for n in names if _group(n, by, spec) in val_groups]
    return [n for n in names if n not in val], val


def split_recordings(spec: Spec, names: Sequence[str]) -> dict[str, list[str]]:
    """Split the labelled ``names`` by the manifest's rule (default: :func:`_default_split`)."""
    rule = spec.splits
    if isinstance(rule, ExplicitSplits):
        return _explicit_split(rule, names, spec)
    if isinstance(rule, KFold):
        return _kfold_split(rule, names, spec)
    if isinstance(rule, LeaveOut):
        test = [n for n in names if _group(n, rule.by, spec) == rule.group]
        if not test:
            raise ValueError(f"{spec.source}: splits.leave_out: no {rule.by} {rule.group!r}")
        rest = [n for n in names if n not in test]
        if not rest:
            raise ValueError(f"{spec.source}: splits.leave_out: nothing is left to train on")
        train, val = _default_split(rest, rule.by, spec)
        return {"train": train, "val": val, "test": test}
    train, val = _default_split(names, "subject", spec)
    return {"train": train, "val": val, "test": []}


def _explicit_split(rule: ExplicitSplits, names: Sequence[str], spec: Spec) -> dict[str, list[str]]:
    splits: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    placed: dict[str, str] = {}
    for split, patterns in rule.patterns.items():
        for pattern in patterns:
            matched = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
            if not matched:
                raise ValueError(
                    f"{spec.source}: splits.{split}: {pattern!r} matches no labelled recording"
                )
            for name in matched:
                if placed.get(name, split) != split:
                    raise ValueError(
                        f"{spec.source}: splits: recording {name!r} is in both "
                        f"{placed[name]} and {split}"
                    )
                if name not in splits[split]:
                    splits[split].append(name)
                placed[name] = split
    return {split: sorted(members) for split, members in splits.items()}


def _kfold_split(rule: KFold, names: Sequence[str], spec: Spec) -> dict[str, list[str]]:
    groups = sorted({_group(n, rule.by, spec) for n in names})
    if len(groups) < rule.k:
        raise ValueError(
            f"{spec.source}: splits.kfold: k={rule.k} folds but only {len(groups)} {rule.by}s"
        )
    order = np.random.default_rng(rule.seed).permutation(len(groups))
    fold_of = {groups[g]: position % rule.k for position, g in enumerate(order)}
    val_fold = (rule.fold + 1) % rule.k
    folds = [fold_of[_group(n, rule.by, spec)] for n in names]
    return {
        "train": [n for n, f in zip(names, folds, strict=True) if f not in (rule.fold, val_fold)],
        "val": [n for n, f in zip(names, folds, strict=True) if f == val_fold],
        "test": [n for n, f in zip(names, folds, strict=True) if f == rule.fold],
    }
