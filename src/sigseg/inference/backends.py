"""Inference backends: what runs a batch of windows, PyTorch or ONNX Runtime.

Windowed inference (:mod:`sigseg.inference.predict`) needs only a callable that maps a float32
batch ``(N, C, L)`` to logits ``(N, K, L)`` and knows the model's ``in_channels``,
``num_classes`` and ``sampling_rate``: the :class:`Backend` protocol. A backend may also carry
``preprocessing`` (from a checkpoint or an ONNX file's metadata), which inference then applies.

Example::

    backend = load_backend("model.safetensors")             # PyTorch, CPU
    backend = load_backend("model.onnx", threads=2)          # ONNX Runtime
    probs = predict_long(backend, ecg, fs=500.0)
"""

from __future__ import annotations

import copy
import functools
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np

from sigseg.data.transforms import Preprocessing
from sigseg.layers.field import ReceptiveField

if TYPE_CHECKING:
    import torch
    from torch import nn

BackendName = Literal["torch", "onnx", "auto"]


@runtime_checkable
class Backend(Protocol):
    """Runs a batch: ``(N, C, L)`` float32 -> logits ``(N, K, L)`` (no activation)."""

    @property
    def num_classes(self) -> int: ...

    @property
    def in_channels(self) -> int: ...

    @property
    def sampling_rate(self) -> float: ...

    def __call__(self, batch: np.ndarray) -> np.ndarray: ...


def _preprocessing(sampling_rate: float, recorded: dict[str, Any] | None) -> Preprocessing:
    """A recorded preprocessing dict, with the model's rate where the dict has none."""
    return Preprocessing.from_dict({"sampling_rate": sampling_rate, **(recorded or {})})


class TorchBackend:
    """A PyTorch model as a :class:`Backend`, on ``device`` (``"cpu"``, ``"cuda"``,
    ``"cuda:1"``...), without autograd.

    The model is put in eval mode and moved to ``device`` (in place). Inputs are cast to the
    model's parameter dtype, so a half-precision model on a GPU works; logits come back as
    float32 NumPy arrays. ``threads`` sets PyTorch's intra-op threads during each call only
    (restored afterwards, since the setting is process-wide).
    """

    def __init__(
        self,
        model: nn.Module,
        device: str | torch.device = "cpu",
        threads: int | None = None,
        preprocessing: Preprocessing | None = None,
    ) -> None:
        import torch

        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {device!r} requested but CUDA is not available")
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        for attr in ("in_channels", "num_classes", "sampling_rate"):
            if not hasattr(model, attr):
                raise TypeError(f"{type(model).__name__} lacks {attr!r}: not a sigseg model")
        self.model = model.to(self.device).eval()
        self.threads = threads
        param = next(model.parameters(), None)
        self.dtype = param.dtype if param is not None else torch.float32
        self.preprocessing = preprocessing

    @property
    def num_classes(self) -> int:
        return int(self.model.num_classes)

    @property
    def in_channels(self) -> int:
        return int(self.model.in_channels)

    @property
    def sampling_rate(self) -> float:
        return float(self.model.sampling_rate)

    @property
    def receptive_field(self) -> ReceptiveField:
        return self.model.receptive_field

    @property
    def span_period(self) -> int:
        return int(getattr(self.model, "span_period", 1))

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        import torch

        x = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
        x = x.to(self.device, dtype=self.dtype, non_blocking=True)
        previous = torch.get_num_threads()
        if self.threads is not None:
            torch.set_num_threads(self.threads)
        try:
            with torch.inference_mode():
                logits = self.model(x)
        finally:
            if self.threads is not None:
                torch.set_num_threads(previous)
        return logits.float().cpu().numpy()


class OnnxBackend:
    """An ONNX file written by :func:`sigseg.export.export_onnx` as a :class:`Backend`, run by
    ONNX Runtime with all graph optimizations on.

    The model's description (architecture, config, preprocessing, sampling rate) comes from the
    file's metadata. ``threads`` sets the session's intra-op threads (``None``: ONNX Runtime's
    default, all cores). ``device="cuda"`` asks for the CUDA execution provider (it needs the
    ``onnxruntime-gpu`` package); ``providers`` overrides the list outright.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        threads: int | None = None,
        device: str = "cpu",
        providers: Sequence[str] | None = None,
    ) -> None:
        from sigseg.onnx_description import read_onnx_description

        ort = _import_onnxruntime()
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: ONNX file not found")
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # no memory pattern: it preallocates every intermediate of a batch shape at once and
        # keeps one such block per shape seen (the hybrid at 4 x 8192: +300 MB), for no speed
        options.enable_mem_pattern = False
        # no spinning: idle intra-op threads would busy-wait between calls, taking the CPU
        # from the thread that reads ahead and decodes (and from other jobs on the machine)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads is not None:
            options.intra_op_num_threads = threads
        if providers is None:
            providers = _providers(ort, device)
        try:
            self.session = ort.InferenceSession(
                str(path), sess_options=options, providers=list(providers)
            )
        except Exception as err:  # onnxruntime raises its own exception types
            raise ValueError(f"{path}: ONNX Runtime cannot load it ({err})") from None
        self.description = read_onnx_description(self.session, path)
        config = self.description["config"]
        self._in_channels = int(config["in_channels"])
        self._num_classes = int(config["num_classes"])
        self._sampling_rate = float(config["sampling_rate"])
        self.preprocessing = _preprocessing(
            self._sampling_rate, self.description.get("preprocessing")
        )
        self.input_name = self.session.get_inputs()[0].name
        self.path = path

    @property
    def num_classes(self) -> int:
        return self._num_classes

    @property
    def in_channels(self) -> int:
        return self._in_channels

    @property
    def sampling_rate(self) -> float:
        return self._sampling_rate

    @property
    def arch(self) -> str:
        return str(self.description.get("arch", ""))

    @property
    def receptive_field(self) -> ReceptiveField:
        """The model's receptive field, from the architecture and config in the metadata."""
        return self._geometry[0]

    @property
    def span_period(self) -> int:
        return self._geometry[1]

    @functools.cached_property
    def _geometry(self) -> tuple[ReceptiveField, int]:
        """From the metadata; a file exported before it was recorded there builds the
        PyTorch model to learn it."""
        if "receptive_field" in self.description:
            field = self.description["receptive_field"]
            left, right = field if field is not None else (None, None)
            return ReceptiveField(left, right), int(self.description.get("span_period", 1))
        from sigseg.models import create_model

        model = create_model(self.arch, **self.description["config"])
        return model.receptive_field, int(model.span_period)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(batch, dtype=np.float32)
        return self.session.run(None, {self.input_name: x})[0]


def check_onnx(
    model: nn.Module,
    path: str | os.PathLike[str],
    lengths: Sequence[int] = (1000, 1001, 2500),
    batch: int = 2,
    seed: int = 0,
) -> float:
    """Largest absolute difference between ONNX Runtime's and PyTorch's logits on random
    input of each length in ``lengths`` (a parity check after export)."""
    import torch

    backend = OnnxBackend(path)
    cpu_model = copy.deepcopy(model).to("cpu", torch.float32).eval()
    rng = np.random.default_rng(seed)
    worst = 0.0
    for length in lengths:
        x = rng.standard_normal((batch, int(model.in_channels), length)).astype(np.float32)
        with torch.inference_mode():
            expected = cpu_model(torch.from_numpy(x)).numpy()
        got = backend(x)
        if got.shape != expected.shape:
            raise ValueError(
                f"{path}: ONNX output shape {got.shape} != PyTorch's "
                f"{expected.shape} for length {length}"
            )
        worst = max(worst, float(np.abs(got - expected).max()))
    return worst


def _import_onnxruntime() -> Any:
    """ONNX Runtime, or a one-line :class:`~sigseg.optional.MissingDependency`."""
    from sigseg.optional import require

    return require("onnxruntime", "the ONNX backend (--backend onnx)")


def _providers(ort: Any, device: str) -> list[str]:
    if device == "cpu":
        return ["CPUExecutionProvider"]
    if device.startswith("cuda"):
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise ValueError(
                "device 'cuda' needs the CUDA execution provider (pip install onnxruntime-gpu)"
            )
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    raise ValueError(f"unknown device {device!r}; use 'cpu' or 'cuda'")


def pick_backend(backend: str, device: str = "cpu") -> tuple[BackendName, str | None]:
    """The backend ``"auto"`` means: ONNX Runtime when it is installed and the device is the
    CPU (it runs the shipped models about twice as fast as PyTorch there), else PyTorch,
    with a one-line notice saying why. Other names are returned as they are."""
    if backend != "auto":
        return backend, None  # type: ignore[return-value]
    if device != "cpu":
        return "torch", None
    import importlib.util

    if importlib.util.find_spec("onnxruntime") is None:
        return "torch", (
            "ONNX Runtime is not installed: running on PyTorch (pip install 'sigseg[onnx]' "
            "for the faster default)"
        )
    return "onnx", None


def onnx_beside(checkpoint: str | os.PathLike[str]) -> Path:
    """Where a checkpoint's ONNX export may be shipped beside it: ``<stem>-<hash>.onnx``,
    the hash that of the checkpoint's bytes, so a changed checkpoint never runs a stale
    export. The shipped pretrained models have theirs (``python -m sigseg.pretrained.onnx``
    writes them), so no export is paid on first use."""
    import hashlib

    path = Path(checkpoint)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return path.with_name(f"{path.stem}-{digest}.onnx")


def load_backend(
    model_or_path: nn.Module | str | os.PathLike[str],
    backend: BackendName | None = None,
    *,
    device: str = "cpu",
    threads: int | None = None,
) -> TorchBackend | OnnxBackend:
    """A backend for a model, a checkpoint (``.safetensors``) or an ONNX file.

    ``backend`` defaults to ``"onnx"`` for ``.onnx`` files and ``"torch"`` otherwise;
    ``"auto"`` is :func:`pick_backend`'s choice. Asking for ``"onnx"`` with a model or a
    checkpoint runs the export shipped beside it (:func:`onnx_beside`), else exports it to
    ONNX first (see :func:`sigseg.export.export_onnx`): a checkpoint's export is kept in
    :func:`onnx_cache_dir` and reused, a model's goes to a temporary file. An ONNX file
    cannot run on PyTorch.
    """
    is_path = isinstance(model_or_path, str | os.PathLike)
    is_onnx_file = is_path and Path(model_or_path).suffix.lower() == ".onnx"
    if backend == "auto":
        backend = "onnx" if is_onnx_file else pick_backend("auto", device)[0]
    backend = backend or ("onnx" if is_onnx_file else "torch")
    if backend not in ("torch", "onnx"):
        raise ValueError(f"unknown backend {backend!r}; use 'torch', 'onnx' or 'auto'")
    if is_onnx_file:
        if backend == "torch":
            raise ValueError(f"{model_or_path}: an ONNX file runs with backend='onnx'")
        return OnnxBackend(model_or_path, threads=threads, device=device)

    cached = None
    if backend == "onnx" and is_path:
        if Path(model_or_path).is_file():  # else load_checkpoint says what is wrong
            beside = onnx_beside(model_or_path)
            if beside.is_file():
                return OnnxBackend(beside, threads=threads, device=device)
            cached = _onnx_cache_path(model_or_path)
        if cached is not None and cached.is_file():  # exported before: no model to build
            return OnnxBackend(cached, threads=threads, device=device)

    recorded: dict[str, Any] | None = None
    if not is_path:
        model = model_or_path
    else:
        from sigseg.checkpoint import load_checkpoint

        model, info = load_checkpoint(model_or_path)
        recorded = info.preprocessing
    preprocessing = _preprocessing(float(model.sampling_rate), recorded)
    if backend == "torch":
        return TorchBackend(model, device=device, threads=threads, preprocessing=preprocessing)

    from sigseg.export import export_onnx

    if cached is not None:
        export_onnx(model, cached, preprocessing=preprocessing)
        return OnnxBackend(cached, threads=threads, device=device)
    with tempfile.TemporaryDirectory(prefix="sigseg-onnx-") as tmp:
        path = export_onnx(model, Path(tmp) / "model.onnx", preprocessing=preprocessing)
        return OnnxBackend(path, threads=threads, device=device)


def onnx_cache_dir() -> Path:
    """Where :func:`load_backend` keeps the ONNX exports of checkpoints:
    ``$SIGSEG_CACHE_DIR``, else ``$XDG_CACHE_HOME/sigseg``, else ``~/.cache/sigseg``."""
    if os.environ.get("SIGSEG_CACHE_DIR"):
        return Path(os.environ["SIGSEG_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "sigseg"


def _onnx_cache_path(checkpoint: str | os.PathLike[str]) -> Path | None:
    """The cached ONNX export of ``checkpoint`` (it may not exist yet), or ``None`` when the
    cache folder cannot be created. Exporting takes seconds (10 s for the default model on
    2 cores), longer than delineating an hour of ECG, so it is done once per checkpoint: the
    file is named by a hash of the checkpoint's bytes, of the exporter's, layers' and models'
    sources and of the library versions, so a changed checkpoint or code is exported anew."""
    import hashlib

    import torch

    import sigseg.export

    digest = hashlib.sha256()
    digest.update(Path(checkpoint).read_bytes())
    package = Path(sigseg.export.__file__).parent
    exporter = [package / "export.py", package / "onnx_layout.py"]
    for source in [*exporter, *sorted((package / "layers").glob("*.py"))]:
        digest.update(source.read_bytes())  # the graph follows the exporter and the layers
    for source in sorted((package / "models").glob("*.py")):
        digest.update(source.read_bytes())
    digest.update(f"{torch.__version__} {_import_onnxruntime().__version__}".encode())
    folder = onnx_cache_dir() / "onnx"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if not os.access(folder, os.W_OK):
        return None
    return folder / f"{Path(checkpoint).stem}-{digest.hexdigest()[:16]}.onnx"
