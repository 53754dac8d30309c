"""The README's batch commands run as written (LUDB cut to three records, the model an
untrained one), each giving a complete run folder."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import CliResult
from labelled_data import write_folder

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_batch_commands_run_as_written(
    cli: Callable[..., CliResult],
    ludb_root: Path,
    generic_model: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    block = re.search(r"<!-- batch:start -->\n```bash\n(.*?)```", README.read_text(), re.S)
    assert block is not None
    ludb = tmp_path / "shared" / "data" / "ludb"  # ../shared/data/ludb from work/
    ludb.mkdir(parents=True)
    for record in ("1", "2", "3"):
        for suffix in (".hea", ".dat"):
            (ludb / f"{record}{suffix}").symlink_to(ludb_root / f"{record}{suffix}")
    work = tmp_path / "work"
    work.mkdir()
    (work / "archive.yaml").write_text("root: ../shared/data/ludb\nrecordings: ['1.hea']\n")
    (work / "more-records.txt").write_text("../shared/data/ludb/2\n")
    write_folder(work / "my_recordings", "segments", 2, recordings=3)
    (work / "runs" / "mine").mkdir(parents=True)
    (work / "runs" / "mine" / "best.safetensors").write_bytes(generic_model.read_bytes())
    monkeypatch.chdir(work)
    lines = [ln for ln in block.group(1).splitlines() if ln.strip()]
    expected = [3, 2, 3]
    assert len(lines) == len(expected)
    for line, count in zip(lines, expected, strict=True):
        words = shlex.split(line.split("#", 1)[0])[1:]
        result = cli(*words)
        assert result.code == 0, f"{line}\n{result.err[-2000:]}"
        state = json.loads((work / words[words.index("--out") + 1] / "run.json").read_text())
        assert state["status"] == "complete" and state["counts"]["recordings"] == count
