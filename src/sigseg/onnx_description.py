"""The description sigseg stores in an exported ONNX file's metadata, and its reader.

:func:`sigseg.export.export_onnx` writes it under the key ``"sigseg"`` (architecture, config,
sampling rate, preprocessing, receptive field, library version); the ONNX backend reads it.
Reading needs no PyTorch, so running an ONNX file never imports it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ONNX_METADATA_KEY = "sigseg"
FORMAT_VERSION = 1


def read_onnx_description(
    source: Any, path: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """The sigseg description of an exported model, from an ONNX Runtime session or a file
    path. ``path`` names the file in error messages when ``source`` is a session."""
    if hasattr(source, "get_modelmeta"):
        metadata = dict(source.get_modelmeta().custom_metadata_map)
        where = path or "ONNX model"
    else:
        from sigseg.optional import require

        onnx = require("onnx", "reading an ONNX file's description")
        where = source
        if not Path(source).is_file():
            raise FileNotFoundError(f"{source}: ONNX file not found")
        proto = onnx.load_model(str(source), load_external_data=False)
        metadata = {entry.key: entry.value for entry in proto.metadata_props}
    if ONNX_METADATA_KEY not in metadata:
        raise ValueError(
            f"{where}: ONNX file has no sigseg description "
            "(export it with `sigseg export` or sigseg.export.export_onnx)"
        )
    try:
        description = json.loads(metadata[ONNX_METADATA_KEY])
        config = description["config"]
        for key in ("in_channels", "num_classes", "sampling_rate"):
            float(config[key])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{where}: malformed sigseg description ({err})") from None
    return description
