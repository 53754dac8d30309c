"""Optional dependencies: the one place that imports them, so a missing one is a one-line
answer that says what to install, never a traceback.

    >>> ort = require("onnxruntime", "--backend onnx")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from types import ModuleType

EXTRAS: dict[str, str] = {
    "onnx": "onnx",
    "onnxruntime": "onnx",
    "onnxscript": "onnx",
    "neurokit2": "baselines",
    "bokeh": "view",
    "tsdownsample": "view",
    "ray": "ray",
}
"""The extra of ``pyproject.toml`` that installs each optional package."""


class MissingDependency(ImportError, ValueError):
    """An optional package is not installed (or cannot be imported). It is an ``ImportError``
    for code that expects one, and a ``ValueError`` so the CLI prints its one line."""


def require(module: str, purpose: str) -> ModuleType:
    """Import ``module`` (a key of :data:`EXTRAS`), or raise :class:`MissingDependency`
    naming ``purpose`` and the ``pip install`` line that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise MissingDependency(
            f"{purpose} needs {module}, which cannot be imported ({reason}); "
            f"install it with: pip install 'sigseg[{EXTRAS[module]}]'"
        ) from None
