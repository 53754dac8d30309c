"""Batch mode of ``sigseg segment`` and ``sigseg delineate``: the options both share, and
running a :mod:`sigseg.batch` job from the command line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

BATCH_HELP = (
    "Batch mode: one run folder of Parquet tables for all inputs, resumable (implied by a "
    "folder, a quoted glob, a .yaml manifest or an @list file among the inputs)."
)
OVERWRITE_HELP = "Batch mode: replace a run of other inputs or options in --out."
SHARD_HELP = "Batch mode: recordings per committed shard (what a crash can lose)."
RAY_HELP = "Batch mode on Ray: 'local' starts a local cluster, else a cluster address."
WORKERS_HELP = (
    "Batch mode: worker processes, each with its own model (default: one per CPU core, at "
    "most 8; one on a GPU). With --ray: workers on the cluster (default: its CPUs)."
)


def wants_batch(inputs: Sequence[Path], batch: bool, ray: str | None) -> bool:
    """Batch mode: asked for, or implied by an input that names many recordings."""
    from sigseg.batch import is_collection

    return batch or ray is not None or any(is_collection(str(p)) for p in inputs)


def run_batch_command(
    spec: Any,
    inputs: Sequence[Path],
    out: Path,
    *,
    overwrite: bool,
    shard_size: int | None,
    ray: str | None,
    workers: int | None,
    verb: str,
) -> None:
    """Run the job ``spec`` (a :class:`~sigseg.batch.jobs.JobSpec`) describes over the
    inputs into ``out``, here or on Ray, and print what it did; exit 1 when a recording
    failed (they are listed in ``errors.parquet``)."""
    if ray is None:
        from sigseg.batch.workers import default_workers, start_fork_server

        workers = workers or default_workers(spec.device)
        if workers > 1:
            start_fork_server()  # its imports run while this process reads the inputs

    from sigseg import library_version
    from sigseg.batch import collect_inputs
    from sigseg.batch.progress import Progress
    from sigseg.batch.runner import SHARD_SIZE
    from sigseg.batch.shards import file_digest

    items = collect_inputs([str(p) for p in inputs])
    options = {k: str(v) if isinstance(v, Path) else v for k, v in spec.options.items()}
    settings = {
        "task": spec.kind,
        "model": spec.model,
        "model_sha256": file_digest(Path(spec.model)),
        "backend": spec.backend,
        "options": options,
        "sigseg_version": library_version(),
    }

    shard_size = SHARD_SIZE if shard_size is None else shard_size

    def progress(total: int, done: int) -> Progress:
        return Progress(total, done, verb)

    try:
        summary = _run(spec, items, out, settings, overwrite, shard_size, ray, workers, progress)
    except KeyboardInterrupt:
        typer.echo(
            f"interrupted: the shards committed in {out} are kept; run the same command again "
            "to resume",
            err=True,
        )
        raise typer.Exit(130) from None
    _report(summary, items, out, verb)


def _run(
    spec: Any,
    items: Sequence[Any],
    out: Path,
    settings: dict[str, Any],
    overwrite: bool,
    shard_size: int,
    ray: str | None,
    workers: int | None,
    progress: Any,
) -> Any:
    from sigseg.batch import run_batch

    if ray is None:
        return run_batch(
            spec,
            items,
            out,
            settings,
            overwrite=overwrite,
            shard_size=shard_size,
            progress=progress,
            workers=workers or 1,
        )
    from sigseg.batch.cluster import run_on_ray

    return run_on_ray(
        spec,
        items,
        out,
        settings,
        address=ray,
        workers=workers,
        overwrite=overwrite,
        shard_size=shard_size,
        progress=progress,
    )


def _report(summary: Any, items: Sequence[Any], out: Path, verb: str) -> None:
    """Print what the run did; exit 1 when a recording failed."""
    counts = summary.state.get("counts", {})
    failed = counts.get("errors", 0)
    if summary.ran == 0 and summary.skipped:
        typer.echo(f"{out}: run already complete ({len(items)} recordings); nothing to do")
    else:
        rate = summary.ran / summary.seconds if summary.seconds > 0 else 0.0
        resumed = f", {summary.skipped} done before" if summary.skipped else ""
        typer.echo(
            f"{verb} {summary.ran} recordings{resumed} in {summary.seconds:.1f} s "
            f"({rate:.1f}/s), {failed} failed -> {out}"
        )
    tables = ", ".join(f"{name}.parquet {rows} rows" for name, rows in counts.items())
    typer.echo(f"  {tables}")
    if failed:
        for line in summary.errors:
            typer.echo(f"  {line}", err=True)
        typer.echo(f"{failed} recording(s) failed: see {out / 'errors.parquet'}", err=True)
        raise typer.Exit(1)
