"""Nothing is lost: a bad input does not stop the others, a killed training resumes, and a
crash while writing any output leaves the previous file whole (temporary file, then rename)."""

from __future__ import annotations

import ast
import csv
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import wfdb
from cli_helpers import CliResult, assert_user_error
from reliability_helpers import FS, ecg, sigseg_process, write_npy

import sigseg
from sigseg.data.record import Wave
from sigseg.tasks.ecg.outputs import INTERVAL_COLUMNS

SRC = Path(sigseg.__file__).resolve().parent


def leftovers(folder: Path) -> list[Path]:
    """Temporary files or folders an interrupted atomic write could leave behind."""
    return [p for p in folder.rglob(".*") if p.name.endswith(".tmp") or ".wrann-" in p.name]


# --- one bad input among good ones ---------------------------------------------------------------


def test_delineate_writes_every_good_result_past_a_bad_input(
    model_path: Path, tmp_path: Path
) -> None:
    first = write_npy(tmp_path / "first.npy", ecg(seed=1))
    bad = np.full_like(ecg(seed=2), np.nan)  # refused once read to the end: no usable signal
    middle = write_npy(tmp_path / "middle.npy", bad)
    last = tmp_path / "last.csv"
    np.savetxt(last, ecg(seed=3).T, delimiter=",", header="i,ii", comments="")
    out = tmp_path / "out"
    result = sigseg_process(
        "delineate", first, middle, last, "--model", model_path, "--fs", FS, "--out", out
    )
    assert_user_error(result, "1 of 3 input(s) failed", "middle.npy", "no usable signal", code=1)
    assert "first.npy:" in result.out and "last.csv:" in result.out
    for name in ("first", "last"):
        for lead in ("ch0", "ch1") if name == "first" else ("i", "ii"):
            ann = wfdb.rdann(str(out / name), lead)
            assert np.all(ann.sample < 2000)
        with (out / f"{name}_waves.csv").open() as f:
            assert list(csv.DictReader(f))  # a random model still finds some waves
        with (out / f"{name}_intervals.csv").open() as f:  # complete, if maybe no beat
            assert csv.DictReader(f).fieldnames == list(INTERVAL_COLUMNS)
        assert (out / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    assert not list(out.glob("middle*")) and not leftovers(out)


def test_two_inputs_with_one_output_name(
    cli: Callable[..., CliResult], model_path: Path, tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write_npy(tmp_path / "a" / "rec.npy", ecg(seed=1))
    second = write_npy(tmp_path / "b" / "rec.npy", ecg(seed=2))
    out = tmp_path / "out"
    result = cli("delineate", first, second, "--model", model_path, "--fs", FS, "--out", out)
    assert_user_error(result, "b/rec.npy", "output name 'rec' is already taken", code=1)
    before = (out / "rec_waves.csv").read_bytes()
    assert before and str(first) in result.out  # the first input's files stay its own


# --- a training killed with SIGKILL resumes ------------------------------------------------------

EPOCHS = 3
STEPS = 4  # 32 records, batches of 8


def test_training_killed_with_sigkill_resumes_from_its_last_checkpoint(
    tmp_path: Path, tiny_train_args
) -> None:
    train = ["train", *tiny_train_args(32), "--batch-size", "8"]
    out = tmp_path / "run"
    last_ckpt = out / "checkpoints" / "last.ckpt"
    args = [sys.executable, "-m", "sigseg", *train, "--epochs", str(EPOCHS), "--out", out]
    with subprocess.Popen(
        [str(a) for a in args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ) as proc:
        deadline = time.monotonic() + 240
        while not last_ckpt.is_file() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.05)  # into the next epoch's training steps
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    killed_at = torch.load(last_ckpt, weights_only=True)["epoch"]
    assert killed_at < EPOCHS - 1

    result = sigseg_process(*train, "--epochs", EPOCHS, "--out", out, "--resume", last_ckpt)
    assert result.code == 0, result.err[-3000:]
    state = torch.load(last_ckpt, weights_only=True)
    assert state["epoch"] == EPOCHS - 1 and state["global_step"] == EPOCHS * STEPS
    for name in ("best", "last"):
        model, info = sigseg.load_checkpoint(out / f"{name}.safetensors")
        assert all(torch.isfinite(p).all() for p in model.parameters())
    assert info.extra["epoch"] == EPOCHS - 1
    with (out / "metrics.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["val_strict_f1"]]
    assert [int(r["epoch"]) for r in rows] == list(range(EPOCHS))  # every epoch, once
    assert all(np.isfinite(float(r["val_loss"])) for r in rows)


# --- a crash mid-write keeps the previous file ---------------------------------------------------


class Crash(OSError):
    """The simulated crash (a full disk, a killed process) in the middle of a write."""


def half_then_crash(real: Callable[..., Any], path_arg: int = 1) -> Callable[..., Any]:
    """A writer that lets ``real`` write, cuts the file it wrote to half, and raises."""

    def writer(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)
        path = Path(args[path_arg]) if len(args) > path_arg else Path(kwargs["path"])
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        raise Crash("no space left on device")

    return writer


def _checkpoint(mp: pytest.MonkeyPatch, folder: Path, seed: int) -> Iterator[Path]:
    model = sigseg.create_model("dilated", widths=(8, 8), dilations=(1, 2 + seed))
    path = folder / "model.safetensors"
    yield sigseg.save_checkpoint(model, path)
    mp.setattr("sigseg.checkpoint.save_file", half_then_crash(sigseg.checkpoint.save_file))
    sigseg.save_checkpoint(model, path)


def _config(mp: pytest.MonkeyPatch, folder: Path, seed: int) -> Iterator[Path]:
    from sigseg.training import TrainConfig

    path = folder / "config.yaml"
    TrainConfig(epochs=3).save(path)
    yield path
    real = Path.write_text
    mp.setattr(Path, "write_text", lambda self, text, **kw: half_then_crash(real, 0)(self, text))
    TrainConfig(epochs=4).save(path)


def _tables(mp: pytest.MonkeyPatch, folder: Path, seed: int) -> Iterator[Path]:
    from sigseg.tasks.ecg.outputs import wave_rows, write_table

    rows = wave_rows([Wave("QRS", 10, 12, 20, 0)], FS, ["ii"])
    write_table(folder / "rec_waves", rows, list(rows[0]))
    yield folder / "rec_waves.csv"
    real = Path.write_text
    mp.setattr(Path, "write_text", lambda self, text, **kw: half_then_crash(real, 0)(self, text))
    write_table(folder / "rec_waves", rows * 50, list(rows[0]))


def _annotations(mp: pytest.MonkeyPatch, folder: Path, seed: int) -> Iterator[Path]:
    from sigseg.tasks.ecg.outputs import write_wfdb_annotations

    waves = [Wave("P", 10 + 200 * i, 20 + 200 * i, 30 + 200 * i) for i in range(20)]
    yield write_wfdb_annotations(folder, "rec", "v1", waves, FS)

    def waves_then_crash() -> Iterator[Wave]:  # the process dies while the marks go out
        yield from waves[:5]
        raise Crash("killed")

    write_wfdb_annotations(folder, "rec", "v1", waves_then_crash(), FS)  # type: ignore[arg-type]


def _plot(mp: pytest.MonkeyPatch, folder: Path, seed: int) -> Iterator[Path]:
    from matplotlib.figure import Figure

    from sigseg.tasks.ecg.outputs import plot_delineation

    x = ecg(1.0, 1)
    path = plot_delineation(folder / "rec.png", x, FS, [], ["ii"])
    yield path
    mp.setattr(Figure, "savefig", half_then_crash(Figure.savefig))
    plot_delineation(folder / "rec.png", x * 2, FS, [], ["ii"])


def _onnx(mp: pytest.MonkeyPatch, folder: Path, seed: int) -> Iterator[Path]:
    import onnx
    from onnx import TensorProto, helper

    from sigseg import export

    def tiny_graph(*args: Any) -> onnx.ModelProto:  # the exporter itself is tested elsewhere
        x = helper.make_tensor_value_info("signal", TensorProto.FLOAT, ["n", 1, "l"])
        y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", 1, "l"])
        node = helper.make_node("Identity", ["signal"], ["logits"])
        return helper.make_model(helper.make_graph([node], "g", [x], [y]))

    mp.setattr(export, "_export_dynamo", tiny_graph)
    model = sigseg.create_model("dilated", widths=(8, 8), dilations=(1, 2))
    yield export.export_onnx(model, folder / "model.onnx")
    mp.setattr(onnx, "save_model", half_then_crash(onnx.save_model))
    export.export_onnx(model, folder / "model.onnx", name="second")


def _lightning_ckpt(mp: pytest.MonkeyPatch, folder: Path, seed: int) -> Iterator[Path]:
    from sigseg.training.durable import AtomicCheckpointIO

    io = AtomicCheckpointIO()
    path = folder / "checkpoints" / "last.ckpt"
    io.save_checkpoint({"state_dict": {"w": torch.ones(100)}, "epoch": 1}, path)
    yield path
    mp.setattr(torch, "save", half_then_crash(torch.save))
    io.save_checkpoint({"state_dict": {"w": torch.zeros(100)}, "epoch": 2}, path)


def _metrics(mp: pytest.MonkeyPatch, folder: Path, seed: int) -> Iterator[Path]:
    from sigseg.training.durable import ResumableCSVLogger

    logger = ResumableCSVLogger(save_dir=folder, name="", version="")
    logger.log_metrics({"val_loss": 1.0, "epoch": 0}, step=0)
    logger.save()
    yield folder / "metrics.csv"
    real = Path.write_text
    mp.setattr(Path, "write_text", lambda self, text, **kw: half_then_crash(real, 0)(self, text))
    logger.log_metrics({"val_loss": 0.5, "epoch": 1}, step=1)
    logger.save()


def _synthetic(mp: pytest.MonkeyPatch, folder: Path, seed: int) -> Iterator[Path]:
    from sigseg.tasks.ecg import synthetic

    base = synthetic.write_synthetic_wfdb(folder / "synth", 0.002, fs=250.0, leads=1)
    yield base.with_name("synth.hea")
    real = synthetic._write_annotations

    def crash_after_first_file(base: Path, *args: Any) -> None:
        real(base, *args)
        raise Crash("killed while writing the annotations")

    mp.setattr(synthetic, "_write_annotations", crash_after_first_file)
    synthetic.write_synthetic_wfdb(folder / "synth", 0.003, fs=250.0, leads=1, seed=5)


WRITERS: dict[str, Callable[[pytest.MonkeyPatch, Path, int], Iterator[Path]]] = {
    "checkpoint": _checkpoint,
    "config.yaml": _config,
    "tables": _tables,
    "annotations": _annotations,
    "plot": _plot,
    "onnx": _onnx,
    "lightning .ckpt": _lightning_ckpt,
    "metrics.csv": _metrics,
    "synthetic WFDB": _synthetic,
}


@pytest.mark.parametrize("writer", list(WRITERS))
def test_a_crash_mid_write_keeps_the_previous_file(
    writer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = WRITERS[writer](monkeypatch, tmp_path, 0)
    target = next(steps)
    siblings = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert siblings.get(target)
    with pytest.raises(Crash):
        next(steps)
    monkeypatch.undo()
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == siblings  # every earlier file whole and unchanged, nothing half-written
    assert not leftovers(tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.is_dir() and p.name.startswith(".")]


# --- the audit: every file the package writes goes through a temporary file ----------------------

WRITE_METHODS = {
    "write_text",
    "write_bytes",
    "savefig",
    "save_file",
    "save_model",
    "wrann",
    "wrsamp",
    "wrheader",
    "to_csv",
}
WRITE_FUNCTIONS = {
    ("torch", "save"),
    ("np", "save"),
    ("np", "savez"),
    ("np", "savetxt"),
    ("json", "dump"),
    ("yaml", "dump"),
    ("yaml", "safe_dump"),
}
SAFE_CONTEXTS = {"atomic_path", "TemporaryDirectory", "TemporaryFile"}
REVIEWED = {
    ("tasks/ecg/synthetic.py", "_write_wfdb"): (
        "writes into write_synthetic_wfdb's temporary folder"
    ),
    ("tasks/ecg/synthetic.py", "_write_annotations"): "the same temporary folder",
    ("tasks/ecg/noise.py", "_plain_copy"): "copies into _read_wfdb's temporary folder",
    ("inference/segment.py", "prepare_output_folder"): (
        "an empty probe that --out is writable, then deleted"
    ),
}
"""Functions whose raw writes were reviewed; anything new must use sigseg.atomic or be listed."""


def _writes_a_file(call: ast.Call) -> bool:
    name = _name(call.func)
    owner = _name(getattr(call.func, "value", None))
    if (owner, name) in WRITE_FUNCTIONS:
        return name not in ("dump", "safe_dump") or len(call.args) > 1  # to a stream
    if name == "open":
        mode = call.args[1] if owner == "" and len(call.args) > 1 else None
        mode = mode or (call.args[0] if owner and call.args else None)
        mode = mode or next((k.value for k in call.keywords if k.arg == "mode"), None)
        return isinstance(mode, ast.Constant) and bool(set(str(mode.value)) & set("wax+"))
    if name == "to_csv" and not call.args and all(k.arg != "path_or_buf" for k in call.keywords):
        return False  # pandas returns the text when given no file
    return name in WRITE_METHODS and isinstance(call.func, ast.Attribute)  # not atomic's own


def _raw_writes(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """(enclosing function, line) of each file write outside an atomic or temporary context."""

    def visit(node: ast.AST, func: str, safe: bool) -> Iterator[tuple[str, int]]:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            # a function that opens an atomic or temporary context (also through an
            # ExitStack) writes inside it
            func, safe = (
                node.name,
                any(
                    isinstance(n, ast.Call) and _name(n.func) in SAFE_CONTEXTS
                    for n in ast.walk(node)
                ),
            )
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                call = item.context_expr
                if isinstance(call, ast.Call) and _name(call.func) in SAFE_CONTEXTS:
                    safe = True
        if isinstance(node, ast.Call) and not safe and _writes_a_file(node):
            yield func, node.lineno
        for child in ast.iter_child_nodes(node):
            yield from visit(child, func, safe)

    yield from visit(tree, "<module>", False)


def _name(node: ast.AST | None) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def test_every_writer_in_the_package_is_atomic() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        for func, line in _raw_writes(ast.parse(path.read_text(), str(path))):
            if (rel, func) not in REVIEWED:
                found.append(f"{rel}:{line} in {func}()")
    assert not found, "non-atomic writes (use sigseg.atomic.atomic_path):\n" + "\n".join(found)
