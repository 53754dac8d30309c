"""The comparison harness behind ``sigseg compare``: every model trained under one budget,
scored on the LUDB test split with the protocol of BENCHMARK.md, measured for cost, set
against NeuroKit2's wavelet delineator, and reported (``report.md``, ``results.json``, PNGs).

    from sigseg.compare import CompareConfig, Budget, run_compare, quick_config
    out = run_compare(quick_config(out_dir="runs/demo"), log=print)
    print(out.report.read_text())

Modules, one concern each: ``config`` (what runs), ``budget`` (equal epochs or equal time),
``data`` (test records, training recipe), ``runs`` (train and score one run or the baseline,
resume), ``harness`` (the whole comparison), ``baseline`` (NeuroKit2), ``probe`` (inference cost),
``aggregate`` (mean and SD over seeds), ``system`` (machine, versions), ``report`` (Markdown),
``plots`` (figures). Importing this package loads neither torch nor NeuroKit2's heavy parts
beyond what ``sigseg.models`` needs.
"""

from sigseg.compare.aggregate import MeanSD, aggregate, flatten, mean_sd
from sigseg.compare.baseline import NeuroKitDelineator, neurokit_delineate, neurokit_to_waves
from sigseg.compare.budget import BudgetPlan, Costs, plan_budget
from sigseg.compare.config import (
    DEFAULT_MODELS,
    QUICK_MODELS,
    Budget,
    CompareConfig,
    RunSpec,
    ablation_options,
    plan_runs,
    quick_config,
)
from sigseg.compare.harness import CompareOutput, run_compare

__all__ = [
    "DEFAULT_MODELS",
    "QUICK_MODELS",
    "Budget",
    "BudgetPlan",
    "CompareConfig",
    "CompareOutput",
    "Costs",
    "MeanSD",
    "NeuroKitDelineator",
    "RunSpec",
    "ablation_options",
    "aggregate",
    "flatten",
    "mean_sd",
    "neurokit_delineate",
    "neurokit_to_waves",
    "plan_budget",
    "plan_runs",
    "quick_config",
    "run_compare",
]
