"""Package attributes imported on first use (PEP 562 module ``__getattr__``).

A package that re-exports names from modules needing PyTorch would import PyTorch whenever
any of its modules is imported (Python runs the package's ``__init__`` first). The ONNX
inference path needs no PyTorch, and importing it costs about a second and 200 MB, so such
names are declared lazy: imported from their module when first used."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` resolving each of ``names`` (name -> module
    that defines it) on first use."""

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__
