"""The comparison to convergence of one field (``benchmarks/fields/<field>.yaml``): every model
trained until validation stops improving, several seeds, scored on the field's test split.

    python benchmarks/fields.py benchmarks/fields/hapt.yaml --out benchmarks/fields/hapt

Finished runs are reused, a killed run resumes from its last checkpoint, and ``results.json``
is rewritten after every run (see :mod:`sigseg.compare.convergence`). ``--threads`` sets
PyTorch's intra-op threads; ``--only LABEL`` and ``--seed K`` limit what is trained (finished
runs of the others stay in ``results.json``); ``--report`` only redraws ``report.md`` and
``curves.png`` from the saved ``results.json``.
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

import torch

from sigseg.compare.convergence import read_field_config, run_field
from sigseg.compare.field_report import write_field_report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("field", help="the field's YAML file")
    parser.add_argument("--out", required=True, help="results folder")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--only", action="append", default=[], help="model label (repeatable)")
    parser.add_argument("--seed", type=int, action="append", default=[], help="seed (repeatable)")
    parser.add_argument("--report", action="store_true", help="only redraw the report")
    args = parser.parse_args(argv)
    if args.report:
        results = Path(args.out) / "results.json"
        if not results.is_file():
            parser.error(f"--report: {results} not found (no run has finished)")
        print(write_field_report(Path(args.out), json.loads(results.read_text(encoding="utf-8"))))
        return
    config = read_field_config(args.field)
    unknown = sorted(set(args.only) - {m.label for m in config.models})
    if unknown:
        parser.error(f"--only: no model labelled {', '.join(unknown)} in {args.field}")
    if sorted(set(args.seed) - set(config.seeds)):
        parser.error(f"--seed: {args.field} plans seeds {list(config.seeds)} only")
    labels, seeds = set(args.only), set(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    # the command that reproduces the whole field (--only and --seed only split the work)
    threads = ["--threads", str(args.threads)] if args.threads else []
    command = shlex.join(
        ["python", "benchmarks/fields.py", args.field, "--out", args.out, *threads]
    )
    run_field(
        config,
        args.out,
        select=lambda model, seed: (
            (not labels or model.label in labels) and (not seeds or seed in seeds)
        ),
        command=command,
        log=lambda line: print(line, flush=True),
    )


if __name__ == "__main__":
    main()
