"""Batch throughput of ``sigseg delineate`` end to end (whole processes, start-up included):
the 200 LUDB records (12 leads, 10 s at 500 Hz) and a 24-hour single-lead recording at
500 Hz, the command's defaults before and after issue 14 side by side, and batch runs on a
local Ray cluster.

"Before" is the code of ``--old`` (a git commit; default: the one before batch mode),
extracted with ``git archive`` into a temporary folder and run with the same virtual
environment; "after" is this working tree. Commands run in turn, A B A B..., so a drift in
the machine's load touches both; each figure is the median of ``--runs`` runs (a warm-up run
of each first, not counted: it fills the OS file cache and the old code's ONNX export
cache). Peak memory is each child's own high-water mark (``ru_maxrss`` from ``wait4``). The
machine's load average is recorded before and after each section: other jobs share it.

    python benchmarks/batch/run.py                 # ~40 min on 2 busy cores
    python benchmarks/batch/run.py --quick         # the script end to end, ~3 min

writes ``benchmarks/batch/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
LUDB_DEFAULT = REPO.parent / "shared" / "data" / "ludb"
OLD_DEFAULT = "bdc81d2"
"""The last commit before batch mode (issue 14)."""


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def timed(command: list[str], env: dict[str, str], out: Path | None) -> dict[str, float]:
    """Run ``command`` (``{out}`` in it replaced by a fresh folder); wall seconds, CPU
    seconds and peak resident memory (MB) of the child."""
    if out is not None:
        shutil.rmtree(out, ignore_errors=True)
        command = [str(out) if c == "{out}" else c for c in command]
    start = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    err = child.stderr.read().decode(errors="replace") if child.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{err[-2000:]}")
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,
    }


def paired(
    commands: dict[str, list[str]],
    envs: dict[str, dict[str, str]],
    runs: int,
    work: Path,
    warmup: bool = True,
) -> dict[str, Any]:
    """Each command ``runs`` times in turn (after one warm-up each); medians and all runs."""
    for name, command in commands.items() if warmup else ():
        timed(command, envs[name], work / name)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in commands}
    before = load()
    for _ in range(runs):
        for name, command in commands.items():
            results[name].append(timed(command, envs[name], work / name))
    summary = {}
    for name, rows in results.items():
        summary[name] = {
            "command": " ".join(commands[name]),
            **{
                f"median_{key}": round(statistics.median(r[key] for r in rows), 3)
                for key in ("wall_s", "cpu_s", "peak_mb")
            },
            "runs": [{k: round(v, 3) for k, v in r.items()} for r in rows],
        }
    return {"load_before": before, "load_after": load(), "commands": summary}


def old_tree(commit: str, work: Path) -> Path:
    """The package sources of ``commit``, extracted (no checkout touched)."""
    target = work / "old"
    target.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", commit, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "src"


def make_day(path: Path, hours: float) -> Path:
    """A synthetic single-lead recording at 500 Hz (``sigseg data synth``)."""
    if not path.with_suffix(".hea").is_file():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "sigseg",
                "data",
                "synth",
                str(path),
                "--hours",
                str(hours),
                "--leads",
                "1",
                "--fs",
                "500",
                "--no-annotations",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return path


def replicated_ludb(ludb: Path, copies: int, work: Path) -> Path:
    """A folder of ``copies`` sub-folders, each with links to the 200 LUDB records."""
    root = work / f"ludb-x{copies}"
    for i in range(copies):
        folder = root / f"copy{i}"
        folder.mkdir(parents=True)
        for file in ludb.iterdir():
            if file.suffix in (".hea", ".dat"):
                (folder / file.name).symlink_to(file)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ludb", type=Path, default=LUDB_DEFAULT)
    parser.add_argument("--old", default=OLD_DEFAULT, help="the commit measured as 'before'")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--day", type=Path, default=None, help="where the recording is kept")
    parser.add_argument("--sections", default="ludb,day,ray")
    parser.add_argument("--quick", action="store_true", help="small inputs, one run")
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.hours = 1, 0.2
    sections = args.sections.split(",")
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "old_commit": args.old,
        "command": " ".join(["python", "benchmarks/batch/run.py", *sys.argv[1:]]),
    }
    if args.out.is_file():  # keep the sections not measured now
        results = {**json.loads(args.out.read_text()), **results}
    with tempfile.TemporaryDirectory(prefix="sigseg-batch-bench-") as tmp:
        work = Path(tmp)
        new_env = {**os.environ, "SIGSEG_CACHE_DIR": str(work / "cache-new")}
        old_env = {
            **os.environ,
            "PYTHONPATH": str(old_tree(args.old, work)),
            "SIGSEG_CACHE_DIR": str(work / "cache-old"),
        }
        sigseg = [sys.executable, "-m", "sigseg"]
        records = sorted(args.ludb.glob("*.hea"), key=lambda p: int(p.stem))
        if args.quick:
            records = records[:20]
        files = [str(p.with_suffix("")) for p in records]
        listing = work / "ludb.txt"
        listing.write_text("".join(f"{f}\n" for f in files))

        if "ludb" in sections:
            print(f"LUDB: {len(files)} records", flush=True)
            ludb = paired(
                {
                    "after_default": [*sigseg, "delineate", f"@{listing}", "--out", "{out}"],
                    "before_fast_flags": [
                        *sigseg,
                        "delineate",
                        *files,
                        "--backend",
                        "onnx",
                        "--no-tables",
                        "--no-plot",
                        "--out",
                        "{out}",
                    ],
                },
                {"after_default": new_env, "before_fast_flags": old_env},
                args.runs,
                work,
            )
            few = files[:20]
            old_default = paired(
                {"before_default_20": [*sigseg, "delineate", *few, "--out", "{out}"]},
                {"before_default_20": old_env},
                args.runs,
                work,
            )
            ludb["commands"].update(old_default["commands"])
            for name, row in ludb["commands"].items():
                n = 20 if name.endswith("_20") else len(files)
                row["records_per_s"] = round(n / row["median_wall_s"], 2)
            results["ludb"] = {"records": len(files), **ludb}
            print(json.dumps(results["ludb"]["commands"], indent=1)[:3000], flush=True)

        if "day" in sections:
            day = make_day(args.day or work / "day", args.hours)
            print(f"day: {args.hours} h", flush=True)
            results["day"] = {
                "hours": args.hours,
                **paired(
                    {
                        "after_default": [*sigseg, "delineate", str(day), "--out", "{out}"],
                        "before_default": [*sigseg, "delineate", str(day), "--out", "{out}"],
                        "after_batch": [
                            *sigseg,
                            "delineate",
                            str(day),
                            "--batch",
                            "--out",
                            "{out}",
                        ],
                        "after_no_tables_no_plot": [
                            *sigseg,
                            "delineate",
                            str(day),
                            "--no-tables",
                            "--no-plot",
                            "--out",
                            "{out}",
                        ],
                    },
                    {
                        "after_default": new_env,
                        "before_default": old_env,
                        "after_batch": new_env,
                        "after_no_tables_no_plot": new_env,
                    },
                    args.runs,
                    work,
                ),
            }
            print(json.dumps(results["day"]["commands"], indent=1)[:3000], flush=True)

        if "ray" in sections:
            copies = 1 if args.quick else 3
            folder = replicated_ludb(args.ludb, copies, work)
            n = 200 * copies
            print(f"ray: {n} records", flush=True)
            commands = {"single_process": [*sigseg, "delineate", str(folder), "--out", "{out}"]}
            for workers in (1, 2, 4):
                commands[f"ray_local_{workers}_workers"] = [
                    *sigseg,
                    "delineate",
                    str(folder),
                    "--ray",
                    "local",
                    "--workers",
                    str(workers),
                    "--out",
                    "{out}",
                ]
            # no warm-up (the file cache is warm from the single-process run's first turn)
            ray = paired(
                commands, dict.fromkeys(commands, new_env), min(args.runs, 2), work, warmup=False
            )
            for row in ray["commands"].values():
                row["records_per_s"] = round(n / row["median_wall_s"], 2)
            results["ray"] = {"records": n, **ray}
            print(json.dumps(results["ray"]["commands"], indent=1)[:3000], flush=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
