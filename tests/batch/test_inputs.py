"""What a batch run reads: folders, globs, manifests and list files, with unique names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sigseg.batch.inputs import collect_inputs, is_collection


def _files(root: Path) -> None:
    (root / "sub-01").mkdir(parents=True)
    np.save(root / "sub-01" / "night1.npy", np.zeros((1, 100), np.float32))
    np.save(root / "b.npy", np.zeros((1, 100), np.float32))
    (root / "b_events.tsv").write_text("onset\tduration\ttrial_type\n")
    (root / ".hidden").mkdir()
    np.save(root / ".hidden" / "c.npy", np.zeros((1, 100), np.float32))


def test_a_folder_names_recordings_by_relative_path(tmp_path: Path) -> None:
    _files(tmp_path / "data")
    items = collect_inputs([str(tmp_path / "data")])
    assert [i.name for i in items] == ["b", "sub-01/night1"]
    assert [i.index for i in items] == [0, 1]
    assert items[1].path == tmp_path / "data" / "sub-01" / "night1.npy"


def test_glob_list_and_manifest(tmp_path: Path) -> None:
    _files(tmp_path / "data")
    glob_items = collect_inputs([str(tmp_path / "data" / "*.npy")])
    assert [i.path.name for i in glob_items] == ["b.npy"]
    listing = tmp_path / "list.txt"
    listing.write_text("# two recordings\ndata/b.npy\n\ndata/sub-01/night1.npy\n")
    listed = collect_inputs([f"@{listing}"])
    assert [i.path for i in listed] == [
        tmp_path / "data" / "b.npy",
        tmp_path / "data" / "sub-01" / "night1.npy",
    ]
    manifest = tmp_path / "data" / "set.yaml"
    manifest.write_text("recordings: [b.npy, sub-01/*.npy, missing.npy]\n")
    named = collect_inputs([str(manifest)])
    # a manifest's missing file stays a recording: the run records its error and goes on
    assert [i.name for i in named] == ["b", "sub-01/night1", "missing"]
    assert not named[2].path.exists()


def test_collections_are_told_from_files(tmp_path: Path) -> None:
    assert is_collection(str(tmp_path))
    assert is_collection("data/*.edf") and is_collection("@list.txt")
    assert is_collection("set.yaml") and not is_collection("record.edf")


def test_one_name_for_two_files_is_an_error(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        np.save(tmp_path / folder / "x.npy", np.zeros((1, 10), np.float32))
    listing = tmp_path / "list.txt"
    listing.write_text("a/x.npy\n")
    assert len(collect_inputs([f"@{listing}", f"@{listing}"])) == 1  # same file: once
    with pytest.raises(ValueError, match="recording name 'x' is taken"):
        collect_inputs([str(tmp_path / "a"), str(tmp_path / "b")])
    with pytest.raises(ValueError, match="matches no signal file"):
        collect_inputs([str(tmp_path / "*.edf")])
