"""Untrusted files stay inert: model and data files never run code when loaded, checkpoints
that do not describe a valid model are refused, and no name inside a file can make the
package write outside the output folder."""

from __future__ import annotations

import ast
import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_helpers import CliResult, assert_user_error
from reliability_helpers import FS, ecg, write_npy
from safetensors.torch import save_file

import sigseg
from sigseg.checkpoint import CheckpointError, load_checkpoint, read_info
from sigseg.data.readers import read_record

Cli = Callable[..., CliResult]
SRC = Path(sigseg.__file__).resolve().parent


class Payload:
    """Unpickling this object runs ``os.system``: it creates the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture()
def marker(tmp_path: Path) -> Path:
    path = tmp_path / "code-ran"
    yield path
    assert not path.exists(), "a planted payload was unpickled"


def plant(path: Path, marker: Path, *, torch_format: bool = False) -> Path:
    """A pickle whose loading would create ``marker``: raw, or in ``torch.save``'s zip."""
    content = {"state_dict": Payload(marker), "epoch": 0}
    if torch_format:
        torch.save(content, path)
    else:
        path.write_bytes(pickle.dumps(content))
    return path


def test_the_payload_works_when_unpickled(tmp_path: Path) -> None:
    """The control: plain ``pickle.load`` of the planted file does run the code."""
    ran = tmp_path / "ran"
    pickle.loads(plant(tmp_path / "x.ckpt", ran).read_bytes())
    assert ran.exists()


# --- weights never execute code -----------------------------------------------------------------


@pytest.mark.parametrize("torch_format", [False, True], ids=["pickle", "torch-zip"])
def test_pickle_named_safetensors_is_refused(
    cli: Cli, tmp_path: Path, marker: Path, torch_format: bool
) -> None:
    evil = plant(tmp_path / "model.safetensors", marker, torch_format=torch_format)
    with pytest.raises(CheckpointError, match=r"model\.safetensors: not a safetensors checkpoint"):
        load_checkpoint(evil)
    with pytest.raises(CheckpointError, match="not a safetensors checkpoint"):
        read_info(evil)
    signal = write_npy(tmp_path / "x.npy", ecg())
    result = cli("delineate", signal, "--model", evil, "--fs", FS, "--out", tmp_path / "o")
    assert_user_error(result, "model.safetensors: not a safetensors checkpoint")


@pytest.mark.parametrize("torch_format", [False, True], ids=["pickle", "torch-zip"])
def test_pickle_named_ckpt_is_refused_on_resume(
    cli: Cli, tmp_path: Path, marker: Path, torch_format: bool
) -> None:
    evil = plant(tmp_path / "last.ckpt", marker, torch_format=torch_format)
    result = cli(
        "train",
        "--model",
        "dilated",
        "--data",
        "synthetic",
        "--set",
        "synthetic_train=4",
        "--set",
        "synthetic_val=2",
        "--epochs",
        "1",
        "--out",
        tmp_path / "run",
        "--resume",
        evil,
    )
    assert_user_error(result, "last.ckpt: not a loadable Lightning checkpoint")


def test_pickle_in_numpy_files_is_refused(tmp_path: Path, marker: Path) -> None:
    objects = np.array([Payload(marker), 1.0], dtype=object)
    npy = tmp_path / "x.npy"
    np.save(npy, objects, allow_pickle=True)
    npz = tmp_path / "x.npz"
    np.savez(npz, signal=objects, fs=np.array(FS))
    for path in (npy, npz):
        with pytest.raises(ValueError, match=rf"{path.name}: (not a readable NumPy file|.*pickle)"):
            read_record(path, fs=FS)


def _calls(name: str) -> list[tuple[str, ast.Call]]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                value = getattr(func, "value", None)
                owner = getattr(value, "attr", None) or getattr(value, "id", "")
                if f"{owner}.{called}" == name:
                    found.append((f"{path.relative_to(SRC)}:{node.lineno}", node))
    return found


def _keyword(call: ast.Call, name: str) -> object:
    value = next((k.value for k in call.keywords if k.arg == name), None)
    return value.value if isinstance(value, ast.Constant) else value


def test_every_load_in_the_package_refuses_pickles() -> None:
    """``torch.load`` and Lightning's resume always with ``weights_only=True``, ``np.load``
    never with pickles, and no ``pickle``/``torch.jit`` loading at all."""
    loads = _calls("torch.load") + _calls("trainer.fit")
    assert loads  # the audit looks at something
    for where, call in loads:
        assert _keyword(call, "weights_only") is True, where
    for where, call in _calls("np.load"):
        assert _keyword(call, "allow_pickle") is False, where
    unsafe = [w for name in ("pickle.load", "pickle.loads", "jit.load") for w, _ in _calls(name)]
    assert not unsafe


# --- checkpoints that do not describe a valid model ---------------------------------------------


def _checkpoint(path: Path, arch: str, config: dict, tensors: dict | None = None) -> Path:
    meta = {"format": 1, "arch": arch, "config": config, "preprocessing": {}}
    save_file(tensors or {"w": torch.zeros(1)}, str(path), metadata={"sigseg": json.dumps(meta)})
    return path


def test_checkpoint_naming_an_unknown_architecture(cli: Cli, tmp_path: Path) -> None:
    path = _checkpoint(tmp_path / "odd.safetensors", "os.system", {"sampling_rate": 250.0})
    result = cli("export", path, "--onnx", tmp_path / "m.onnx")
    assert_user_error(result, "odd.safetensors: unknown architecture 'os.system'")
    assert not (tmp_path / "m.onnx").exists()


def test_checkpoint_with_mismatched_shapes(cli: Cli, tmp_path: Path) -> None:
    small = sigseg.create_model("dilated", widths=(8, 8), dilations=(1, 2))
    tensors = {k: v.contiguous() for k, v in small.state_dict().items()}
    config = {**small.config.to_dict(), "widths": [16, 16]}  # the description lies
    path = _checkpoint(tmp_path / "lies.safetensors", "dilated", config, tensors)
    result = cli("export", path, "--onnx", tmp_path / "m.onnx")
    assert_user_error(result, "lies.safetensors: weights do not match the 'dilated' config")


def test_checkpoint_with_an_invalid_config(cli: Cli, tmp_path: Path) -> None:
    path = _checkpoint(tmp_path / "bad.safetensors", "dilated", {"widths": "eight", "x": 1})
    result = cli("export", path, "--onnx", tmp_path / "m.onnx")
    assert_user_error(result, "bad.safetensors: invalid config for 'dilated'")


def test_lightning_checkpoint_of_another_model(cli: Cli, tmp_path: Path, tiny_train_args) -> None:
    import lightning

    from sigseg.training.module import SegmentationTask

    other = SegmentationTask(
        "dilated", {"widths": [16, 16], "dilations": [1, 2]}, {"ce": 1.0}, 1e-3, 0, "constant", 250
    )
    path = tmp_path / "other.ckpt"
    torch.save(
        {"state_dict": other.state_dict(), "pytorch-lightning_version": lightning.__version__},
        path,
    )
    train = ["train", *tiny_train_args(4, 2), "--epochs", "1", "--out", tmp_path / "run"]
    result = cli(*train, "--resume", path)
    assert_user_error(result, "other.ckpt: does not fit the model this config builds")


# --- names inside files cannot steer outputs -----------------------------------------------------


def test_channel_names_cannot_write_outside_the_output_folder(
    cli: Cli, model_path: Path, tmp_path: Path
) -> None:
    names = ["../../escape", "/tmp/abs", "..", "", "a/b", "V1", "v1", "png"]
    source = tmp_path / "in" / "rec.npz"
    source.parent.mkdir()
    np.savez(source, signal=ecg(2.0, leads=len(names)), fs=np.array(FS), channels=names)
    out = tmp_path / "nested" / "out"
    before = set(tmp_path.rglob("*"))
    result = cli("delineate", source, "--model", model_path, "--out", out, "--combine-leads")
    assert result.code == 0, result.err
    created = set(tmp_path.rglob("*")) - before
    assert all(out in p.parents or p == out or p == out.parent for p in created), created
    extensions = sorted(p.suffix[1:] for p in out.glob("rec.*") if p.suffix != ".png")
    assert extensions == sorted(
        ["escape", "tmpabs", "ann", "ann2", "ab", "v1", "v12", "png2", "all"]
    )
    assert not Path("/tmp/abs").exists() and not (tmp_path.parent / "escape").exists()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("rec 2 500", "../../evil 2 500"),
        ("rec.dat ", "../evil.dat "),
        ("rec.dat ", "/x.dat "),
    ],
    ids=["record-name", "relative-signal-file", "absolute-signal-file"],
)
def test_paths_inside_a_wfdb_header_are_refused(tmp_path: Path, old: str, new: str) -> None:
    import wfdb

    wfdb.wrsamp(
        "rec",
        fs=FS,
        units=["mV"] * 2,
        sig_name=["i", "ii"],
        p_signal=ecg(1.0).T.astype(float),
        write_dir=str(tmp_path),
    )
    header = tmp_path / "rec.hea"
    header.write_text(header.read_text().replace(old, new))
    with pytest.raises(ValueError, match=r"rec\.hea: not a readable WFDB header"):
        read_record(header)
