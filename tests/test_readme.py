"""The README stays true: every ``sigseg`` command it shows names a real subcommand and only
options that subcommand accepts (behaviour is tested per command elsewhere)."""

from __future__ import annotations

import glob
import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import CliResult
from labelled_data import write_folder
from typer.testing import CliRunner

from sigseg.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_commands() -> list[list[str]]:
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    commands = []
    for block in blocks:
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith(".venv/bin/sigseg "):
                commands.append(shlex.split(line)[1:])
    return commands


def test_readme_shows_the_two_commands_and_sigseg_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text
    assert len(readme_commands()) >= 8


def test_every_readme_command_uses_existing_options() -> None:
    runner = CliRunner()
    helps: dict[str, str] = {}
    for args in readme_commands():
        sub = args[:2] if args[0] == "data" else args[:1]
        key = " ".join(sub)
        if key not in helps:
            result = runner.invoke(app, [*sub, "--help"], env={"COLUMNS": "200"})
            assert result.exit_code == 0, f"sigseg {key}: {result.output}"
            helps[key] = result.output
        for option in (a.split("=", 1)[0] for a in args if a.startswith("-")):
            assert option in helps[key], f"README: sigseg {key} has no option {option}"


def test_bring_your_own_data_commands_run_as_written(
    cli: Callable[..., CliResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's bring-your-own-data commands, verbatim but for one epoch, on a generated
    folder named as in the README."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- byod:start -->\n```bash\n(.*?)```", text, re.S)
    assert block is not None
    write_folder(tmp_path / "my_recordings", "states", 2)
    monkeypatch.chdir(tmp_path)
    for line in block.group(1).splitlines():
        words = shlex.split(line.split("#", 1)[0])[1:]
        args = [
            "1" if before == "--epochs" else a  # one epoch instead of the README's
            for before, a in zip(["", *words], words, strict=False)
        ]
        args = [f for a in args for f in (sorted(glob.glob(a)) if "*" in a else [a])]  # as a shell
        result = cli(*args, *(["--set", "progress=false"] if args[0] == "train" else []))
        assert result.code == 0, f"{line}\n{result.err[-2000:]}"
    assert "macro" in result.out  # evaluate printed its tables
    assert (tmp_path / "segmented" / "sub-01_run-0_events.tsv").is_file()
