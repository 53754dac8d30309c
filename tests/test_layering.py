"""The documented import direction (``sigseg.tasks``' docstring) cannot silently regress: the
generic layers import no ECG machinery, only (at most) the light ECG vocabulary package."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import sigseg

PACKAGE = Path(sigseg.__file__).parent
GENERIC = ("data", "inference", "metrics", "layers", "models")
GENERIC_MODULES = ("checkpoint.py", "export.py", "evaluation.py", "figures.py", "onnx_layout.py")
ECG = "sigseg.tasks.ecg"


def _generic_files() -> list[Path]:
    files = [p for folder in GENERIC for p in sorted((PACKAGE / folder).rglob("*.py"))]
    return files + [PACKAGE / name for name in GENERIC_MODULES]


def _imported(tree: ast.AST) -> set[str]:
    """Every module an ``import`` names, at any depth (lazy imports inside functions too);
    ``from a import b`` counts as ``a.b`` as well, since ``b`` may be a submodule."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _ecg_submodules() -> set[str]:
    return {f"{ECG}.{p.stem}" for p in (PACKAGE / "tasks" / "ecg").glob("*.py")} - {
        f"{ECG}.__init__"
    }


@pytest.mark.parametrize("path", _generic_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_generic_module_imports_no_ecg_submodule(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    submodules = _ecg_submodules()
    assert f"{ECG}.ludb" in submodules and f"{ECG}.waves" in submodules
    wrong = sorted(
        name
        for name in _imported(tree)
        if name in submodules or any(name.startswith(f"{m}.") for m in submodules)
    )
    assert not wrong, f"{path.relative_to(PACKAGE)} imports ECG machinery: {', '.join(wrong)}"


def test_ecg_package_is_light() -> None:
    """``sigseg.tasks.ecg`` is imported by ``sigseg.tasks``, under ``sigseg.data.record``: it may
    import only ``tasks.base`` (anything more is an import cycle or a heavy import)."""
    tree = ast.parse((PACKAGE / "tasks" / "ecg" / "__init__.py").read_text(encoding="utf-8"))
    imported = _imported(tree)
    assert imported and all(
        n.split(".")[0] == "__future__" or n.startswith("sigseg.tasks.base") for n in imported
    ), sorted(imported)


def test_generic_packages_load_no_ecg_submodule() -> None:
    code = (
        "import json, sys\n"
        "import sigseg.data, sigseg.inference, sigseg.metrics, sigseg.evaluation\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(out))
    assert ECG in loaded  # the vocabulary, through sigseg.tasks
    assert not loaded & _ecg_submodules(), sorted(loaded & _ecg_submodules())


def test_the_cli_starts_without_torch() -> None:
    """Loading the CLI (every command's module) imports no torch: `sigseg view`, `report` or
    `data check` start in a fraction of a second, and a command that runs a model imports it
    when it runs."""
    code = "import sys, sigseg.cli\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_delineating_with_onnx_imports_no_torch(ludb_root: Path, tmp_path: Path) -> None:
    """The shipped model's ONNX path (the default backend) runs without PyTorch: batch and
    single-file delineation of a LUDB record import no torch (a second and 200 MB saved per
    process, which matters for a whole database and for cluster workers)."""
    record = ludb_root / "1"
    code = (
        "import sys\nfrom sigseg.cli import main\n"
        f"for args in (['{record}', '--out', r'{tmp_path / 'one'}'],"
        f" ['@{tmp_path / 'list.txt'}', '--out', r'{tmp_path / 'run'}']):\n"
        "    try:\n        main(['delineate', *args, '--backend', 'onnx'])\n"
        "    except SystemExit as exit:\n        assert not exit.code, exit.code\n"
        "print('torch' in sys.modules)"
    )
    (tmp_path / "list.txt").write_text(f"{record}\n{ludb_root / '2'}\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr
    assert (tmp_path / "run" / "events.parquet").is_file()
