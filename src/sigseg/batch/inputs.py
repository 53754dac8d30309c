"""The recordings of a batch run, from what the command line names: signal files, folders,
glob patterns, YAML manifests and list files.

Each recording gets a name unique in the run (the ``recording`` column of every table):

* a folder: every signal file under it (recursively; hidden folders and BIDS side tables
  skipped, a WFDB record once by its ``.hea``), named by its path relative to the folder
  without the extension (``sub-01/night1``), as :mod:`sigseg.data.dataset` names them;
* a manifest (``.yaml``/``.yml``, :mod:`sigseg.data.manifest`): its ``recordings`` patterns
  under its ``root`` (else every signal file under the root), named the same way; a pattern
  that matches no file is kept as a recording whose file is missing, so the run records the
  error and goes on;
* ``@list.txt``: one path per line (blank lines and ``#`` comments skipped; relative paths
  are relative to the list file), named by the path as written without the extension;
* a glob pattern (``'data/*.edf'``, quoted so the shell leaves it) or a file: named by the
  path without the extension.

Nothing is opened here: a recording that cannot be read is found when it is read, recorded,
and the run goes on.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sigseg.data.dataset import FOLDER_SUFFIXES, NOT_SIGNALS, SIGNAL_SUFFIXES
from sigseg.data.readers import signal_suffix

MANIFEST_SUFFIXES = (".yaml", ".yml")
LIST_PREFIX = "@"
GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class Item:
    """One recording of a run: its ``index`` in the run's order, unique ``name`` and file."""

    index: int
    name: str
    path: Path


def is_collection(spec: str) -> bool:
    """Whether an input names many recordings (a folder, glob, manifest or ``@list``)."""
    return (
        spec.startswith(LIST_PREFIX)
        or bool(GLOB_CHARS & set(spec))
        or Path(spec).suffix.lower() in MANIFEST_SUFFIXES
        or Path(spec).is_dir()
    )


def collect_inputs(specs: Sequence[str]) -> list[Item]:
    """Every recording the inputs name, in order, with unique names. Two inputs naming the
    same file keep the first; two different files with one name are a one-line error."""
    named: dict[str, Path] = {}
    for spec in specs:
        for name, path in _expand(spec):
            if name in named:
                if _same(named[name], path):
                    continue
                raise ValueError(
                    f"{spec}: recording name {name!r} is taken by {named[name]} and {path}"
                )
            named[name] = path
    if not named:
        raise ValueError(f"no recordings found in {', '.join(specs)}")
    return [Item(i, name, path) for i, (name, path) in enumerate(named.items())]


def _same(a: Path, b: Path) -> bool:
    return a.absolute() == b.absolute()


def _expand(spec: str) -> list[tuple[str, Path]]:
    if spec.startswith(LIST_PREFIX):
        return _list_file(Path(spec[len(LIST_PREFIX) :]))
    path = Path(spec)
    if path.suffix.lower() in MANIFEST_SUFFIXES:
        return _manifest(path)
    if path.is_dir():
        return _folder(path)
    if GLOB_CHARS & set(spec):
        found = sorted({_header(Path(p)) for p in glob.glob(spec, recursive=True)})
        found = [p for p in found if p.is_file() and signal_suffix(p) in SIGNAL_SUFFIXES]
        if not found:
            raise ValueError(f"{spec}: the pattern matches no signal file")
        return [(_stem(p), p) for p in found]
    return [(_stem(path), path)]


def _list_file(path: Path) -> list[tuple[str, Path]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"{LIST_PREFIX}{path}: cannot read the list file ({err})") from None
    out = []
    for line in lines:
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        file = Path(entry)
        out.append((_stem(file), file if file.is_absolute() else path.parent / file))
    return out


def _manifest(path: Path) -> list[tuple[str, Path]]:
    from sigseg.data.manifest import read_spec

    spec = read_spec(path)
    if not spec.recordings:
        return _folder(spec.root)
    out = []
    for pattern in spec.recordings:
        found = sorted({_header(f) for f in spec.root.glob(pattern)})
        found = [f for f in found if f.is_file() and _is_signal(f, spec.root)]
        if not found:  # a missing file: recorded as an error when the run reads it
            out.append((Path(pattern).with_suffix("").as_posix(), spec.root / pattern))
        out += [(_relative_name(f, spec.root), f) for f in found]
    return out


def _folder(root: Path) -> list[tuple[str, Path]]:
    files = [f for f in sorted(root.rglob("*")) if _is_signal(f, root)]
    files = [f for f in files if signal_suffix(f) in FOLDER_SUFFIXES]
    if not files:
        raise ValueError(f"{root}: no signal files found")
    return [(_relative_name(f, root), f) for f in files]


def _is_signal(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    return (
        not any(part.startswith(".") for part in parts)
        and not NOT_SIGNALS.search(path.name)
        and path.is_file()
        and signal_suffix(path) in SIGNAL_SUFFIXES
    )


def _header(path: Path) -> Path:
    """A WFDB record's ``.dat`` stands for its ``.hea``."""
    return path.with_suffix(".hea") if path.suffix.lower() == ".dat" else path


def _relative_name(path: Path, root: Path) -> str:
    return _strip(path.relative_to(root)).as_posix()


def _stem(path: Path) -> str:
    return _strip(path).as_posix()


def _strip(path: Path) -> Path:
    """The path without its signal suffix (and ``.gz``): ``a/b.csv.gz`` -> ``a/b``."""
    if path.suffix.lower() == ".gz":
        path = path.with_suffix("")
    return path.with_suffix("") if path.suffix.lower() in SIGNAL_SUFFIXES else path
