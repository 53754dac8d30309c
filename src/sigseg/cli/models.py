"""``sigseg models``: every registered model and preset with its figures."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from sigseg.models.profile import ModelProfile


def models(
    fs: float = typer.Option(
        500.0, "--fs", help="Rate (Hz) the models run at, unless a preset fixes its own."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List every model and preset: parameters, the rate it runs at, receptive field, MACs per
    second of signal.

    Architectures run at ``--fs``; a preset that fixes its rate (``hybrid-fast``: 125 Hz) runs
    at that rate, which is what inference resamples any signal to."""
    if not fs > 0:
        raise typer.BadParameter(f"--fs must be > 0, got {fs}")
    from sigseg.models import create_model, get_preset, list_models  # torch: only when run
    from sigseg.models.profile import profile_model

    profiles = []
    for name in list_models():
        preset = get_preset(name)
        fixed = preset is not None and "sampling_rate" in preset.overrides
        model = create_model(name, sampling_rate=None if fixed else fs)
        profiles.append(profile_model(model, name))
    if as_json:
        typer.echo(json.dumps([p.to_dict() for p in profiles], indent=2))
        return
    Console().print(_table(profiles, fs))


def _table(profiles: list[ModelProfile], fs: float) -> Table:
    from sigseg.models import get_preset

    table = Table(title=f"sigseg models (run at {fs:g} Hz unless a preset fixes its rate)")
    for col in ("model", "architecture", "parameters", "rate (Hz)", "receptive field", "MMAC/s"):
        table.add_column(col, justify="left" if col in ("model", "architecture") else "right")
    for p in profiles:
        preset = get_preset(p.name)
        rf = (
            "global"
            if math.isinf(p.receptive_field_samples)
            else f"{p.receptive_field_samples:.0f} ({p.receptive_field_ms:.0f} ms)"
        )
        arch = p.arch + (" (preset)" if preset else "")
        table.add_row(
            p.name,
            arch,
            f"{p.parameters:,}",
            f"{p.sampling_rate:g}",
            rf,
            f"{p.macs_per_second / 1e6:.1f}",
        )
    return table
