"""Download LUDB or QTDB from PhysioNet (or a mirror of its layout) with ``wfdb``'s downloader.

``wfdb.dl_database`` looks up a database's current version on ``<base>/content/<db>/`` and
fetches files from ``<base>/files/<db>/<version>/``; :func:`fetch_database` points both at
``base_url`` for the duration of the download (default https://physionet.org), then fetches
what ``dl_database`` leaves out: the database's own files (``ludb.csv``, ``RECORDS``, licence)
and any per-lead annotation files that its ``ANNOTATORS`` list does not name.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sigseg.tasks.ecg.ludb import LEADS

PHYSIONET = "https://physionet.org"


@dataclass(frozen=True)
class PhysioNetDatabase:
    """What to download for one database: its PhysioNet slug and the version this library
    was written against, database-level files, and the annotation files every record has."""

    slug: str
    version: str
    files: tuple[str, ...]
    annotators: tuple[str, ...]
    record_folder: str = ""
    """Where ``RECORDS`` puts the records (``data/`` for LUDB), so ``--record 5`` works."""

    def record_path(self, name: str) -> str:
        """``5`` -> ``data/5`` for LUDB; names already holding a folder are kept."""
        return name if "/" in name else f"{self.record_folder}{name}"


DATABASES: dict[str, PhysioNetDatabase] = {
    "ludb": PhysioNetDatabase(
        "ludb", "1.0.1", ("ludb.csv", "RECORDS", "LICENSE.txt"), LEADS, record_folder="data/"
    ),
    "qtdb": PhysioNetDatabase("qtdb", "1.0.0", ("RECORDS",), ("q1c",)),
}


@dataclass(frozen=True)
class FetchResult:
    """Where a database went, which version the server had, and how many files are there."""

    database: str
    version: str
    path: Path
    files: int


def fetch_database(
    name: str,
    dest: str | os.PathLike[str],
    base_url: str | None = None,
    records: Sequence[str] | None = None,
    overwrite: bool = False,
) -> FetchResult:
    """Download database ``name`` (``ludb`` or ``qtdb``) into ``dest``, keeping PhysioNet's
    layout (LUDB records land in ``dest/data/``, which :func:`~sigseg.data.load_ludb` reads).

    ``records``: only these (as listed in the database's ``RECORDS``, e.g. ``data/1``, or
    just ``1``).
    Files already complete in ``dest`` are skipped unless ``overwrite``. Not thread-safe: it
    changes ``wfdb``'s download address while it runs."""
    import wfdb

    db = _database(name)
    folder = _writable_folder(Path(dest))
    base = (base_url or PHYSIONET).rstrip("/")
    chosen = [db.record_path(r) for r in records] if records is not None else "all"
    try:
        with _physionet_at(base), contextlib.redirect_stdout(io.StringIO()):
            version = _server_version(db.slug, base)
            wfdb.dl_database(
                db.slug,
                str(folder),
                records=chosen,
                annotators="all",
                keep_subdirs=True,
                overwrite=overwrite,
            )
            names = _record_names(db.slug, version, chosen)
            extra = list(db.files) + _missing_annotations(folder, names, db.annotators)
            wfdb.dl_files(db.slug, str(folder), extra, keep_subdirs=True, overwrite=overwrite)
    except (ValueError, OSError) as exc:
        raise OSError(f"{name}: download from {base} failed ({exc})") from exc
    if version != db.version:
        version = f"{version} (sigseg was written against {db.version})"
    count = sum(1 for p in folder.rglob("*") if p.is_file())
    return FetchResult(database=name, version=version, path=folder, files=count)


def _server_version(slug: str, base: str) -> str:
    """The version the server publishes (``Version: x`` on ``<base>/content/<slug>/``)."""
    from wfdb.io import download

    try:
        return str(download.get_version(slug))
    except IndexError as exc:  # the page has no "Version:" line
        raise OSError(
            f"{base}/content/{slug}/ shows no 'Version:'; not a PhysioNet mirror?"
        ) from exc


def _database(name: str) -> PhysioNetDatabase:
    if name not in DATABASES:
        raise ValueError(f"unknown database {name!r}; choose one of {', '.join(DATABASES)}")
    return DATABASES[name]


def _writable_folder(path: Path) -> Path:
    """Create ``path`` if needed and check a file can be written there."""
    if path.exists() and not path.is_dir():
        raise OSError(f"{path}: exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise OSError(f"{path}: cannot write there ({exc.strerror or exc})") from exc
    return path


@contextlib.contextmanager
def _physionet_at(base: str) -> Iterator[None]:
    """Point ``wfdb``'s downloader at ``base`` (``/files/`` and ``/content/``), restoring the
    previous addresses afterwards."""
    from wfdb.io import download

    saved = download.config.db_index_url, download.PN_CONTENT_URL
    download.config.db_index_url = f"{base}/files/"
    download.PN_CONTENT_URL = f"{base}/content/"
    try:
        yield
    finally:
        download.config.db_index_url, download.PN_CONTENT_URL = saved


def _record_names(slug: str, version: str, chosen: list[str] | str) -> list[str]:
    """The records asked for, or every record in the database's ``RECORDS`` listing."""
    if chosen != "all":
        return list(chosen)
    from wfdb.io import download

    return [r for r in download.get_record_list(f"{slug}/{version}") if r.strip()]


def _missing_annotations(folder: Path, names: list[str], annotators: tuple[str, ...]) -> list[str]:
    """Annotation files every record should have but ``dl_database`` did not fetch (it only
    fetches annotators listed in the database's ``ANNOTATORS`` file)."""
    return [
        f"{rec}.{ext}"
        for rec in names
        for ext in annotators
        if not (folder / f"{rec}.{ext}").is_file()
    ]
