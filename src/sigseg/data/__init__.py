"""Data: records, readers, event tables, datasets (any folder or manifest), transforms and
augmentation, for any label set.

The ECG task's databases (LUDB, QTDB, their download) and its synthetic ECG live with that
task, which builds on this package; nothing here imports them. Importing this package reads no
files and touches no network; ``wfdb`` and ``pyedflib`` are imported when a reader first needs
them.
"""

from sigseg.data.dataset import SegDataset, open_dataset
from sigseg.data.events import (
    events_frame,
    events_to_labels,
    read_edf_events,
    read_events_tsv,
    read_wfdb_events,
    write_events_tsv,
)
from sigseg.data.readers import (
    SignalReader,
    open_signal,
    read_csv,
    read_edf,
    read_label_column,
    read_numpy,
    read_record,
    read_wfdb,
)
from sigseg.data.record import IGNORE_INDEX, Record, Wave
from sigseg.data.transforms import (
    Bandpass,
    Compose,
    Normalize,
    Preprocessing,
    RandomCrop,
    Resample,
    crop_record,
    resample_record,
)
from sigseg.lazy import lazy_attributes

__all__ = [
    "IGNORE_INDEX",
    "AmplitudeScale",
    "Bandpass",
    "BaselineWander",
    "Compose",
    "GaussianNoise",
    "LeadInversion",
    "Normalize",
    "Preprocessing",
    "RandomApply",
    "RandomCrop",
    "Record",
    "Resample",
    "SegDataset",
    "SignalReader",
    "TimeStretch",
    "Wave",
    "crop_record",
    "events_frame",
    "events_to_labels",
    "open_dataset",
    "open_signal",
    "read_csv",
    "read_edf",
    "read_edf_events",
    "read_events_tsv",
    "read_label_column",
    "read_numpy",
    "read_record",
    "read_wfdb",
    "read_wfdb_events",
    "resample_record",
    "write_events_tsv",
]

# augmentation runs on tensors: imported on first use, so reading data pulls in no PyTorch
__getattr__ = lazy_attributes(
    __name__,
    {
        name: "sigseg.data.augment"
        for name in (
            "AmplitudeScale",
            "BaselineWander",
            "GaussianNoise",
            "LeadInversion",
            "RandomApply",
            "TimeStretch",
        )
    },
)
