"""`sigseg data fetch` against a PhysioNet-shaped HTTP server on 127.0.0.1."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from sigseg.cli import main
from sigseg.tasks.ecg.fetch import fetch_database
from sigseg.tasks.ecg.ludb import LEADS, load_ludb, load_ludb_record

RECORDS = (1, 2)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``sigseg ARGS`` in this process: (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exit_.value.code or 0), out, err


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def mirror(ludb_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """PhysioNet's layout for two LUDB records (files linked, not copied): the version page
    under content/ and the files under files/ludb/1.0.1/, without an ANNOTATORS list, so the
    per-lead annotation files must be fetched explicitly; and a QTDB page with no version."""
    site = tmp_path_factory.mktemp("site")
    page = site / "content" / "ludb"
    (page / "1.0.1").mkdir(parents=True)
    (page / "index.html").write_text("<p>Published: Sept. 2021.\nVersion: 1.0.1</p>\n")
    (page / "1.0.1" / "index.html").write_text("<p>LUDB</p>\n")
    (site / "content" / "qtdb").mkdir()
    (site / "content" / "qtdb" / "index.html").write_text("<p>QT Database</p>\n")
    files = site / "files" / "ludb" / "1.0.1"
    (files / "data").mkdir(parents=True)
    (files / "RECORDS").write_text("".join(f"data/{r}\n" for r in RECORDS))
    for name in ("ludb.csv", "LICENSE.txt"):
        os.symlink(ludb_root / name, files / name)
    for r in RECORDS:
        for ext in ("hea", "dat", *LEADS):
            os.symlink(ludb_root / f"{r}.{ext}", files / "data" / f"{r}.{ext}")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_fetch_ludb_then_load_it(mirror: str, ludb_root: Path, tmp_path: Path) -> None:
    result = fetch_database("ludb", tmp_path / "ludb", base_url=mirror)
    assert result.version == "1.0.1"
    assert result.files == 3 + len(RECORDS) * (2 + len(LEADS))
    assert (tmp_path / "ludb" / "data" / "2.v6").is_file()
    got = load_ludb(tmp_path / "ludb", split="all", mode="multi")
    assert [r.metadata["id"] for r in got] == list(RECORDS)
    for rec in got:
        ref = load_ludb_record(rec.metadata["id"], ludb_root)
        np.testing.assert_array_equal(rec.signal, ref.signal)
        np.testing.assert_array_equal(rec.labels, ref.labels)
        assert rec.waves == ref.waves and rec.metadata["rhythms"] == ref.metadata["rhythms"]


def test_fetch_cli_one_record(
    mirror: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "out"
    code, out, err = run_cli(
        capsys, "data", "fetch", "ludb", str(dest), "--base-url", mirror, "--record", "2"
    )
    assert code == 0, err
    assert "ludb 1.0.1" in out and "SIGSEG_DATA" in out
    assert (dest / "data" / "2.i").is_file() and not (dest / "data" / "1.hea").exists()


def test_fetch_errors(mirror: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="unknown database 'mitdb'; choose one of ludb, qtdb"):
        fetch_database("mitdb", tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError, match="not a folder"):
        fetch_database("ludb", blocker, base_url=mirror)
    with pytest.raises(OSError, match="cannot write there"):
        fetch_database("ludb", blocker / "sub", base_url=mirror)
    with pytest.raises(OSError, match="ludb: download from http://127.0.0.1.*/files failed.*404"):
        fetch_database("ludb", tmp_path / "l", base_url=f"{mirror}/files")  # not the site root
    with pytest.raises(OSError, match="content/qtdb/ shows no 'Version:'"):
        fetch_database("qtdb", tmp_path / "q", base_url=mirror)
    code, _, err = run_cli(capsys, "data", "fetch", "ludb", str(blocker))
    assert code == 2 and err.startswith("error: ") and "not a folder" in err
