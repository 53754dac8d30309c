"""Bad input gets a clear answer: one test per case.

Every user error ends in one line that names the file and the problem (``error: ...`` with exit
status 2, or a listed failure with exit status 1 for ``sigseg delineate``); odd but valid input
(clipped, short) runs and gives finite probabilities and well-formed waves. NaN/Inf samples and
flat leads in a recording are gaps, delineated around (``test_gaps.py``); in a record read to
train or score on they are refused, and the message gives the first bad sample.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
import wfdb
from cli_helpers import CliResult, assert_user_error
from reliability_helpers import FS, ecg, write_edf, write_npy

import sigseg
from sigseg.data.readers import open_signal, read_edf, read_record
from sigseg.data.record import Wave
from sigseg.inference.predict import predict_long
from sigseg.inference.windows import WindowOptions
from sigseg.tasks.ecg.delineate import delineate_signal
from sigseg.tasks.ecg.outputs import write_wfdb_annotations

Cli = Callable[..., CliResult]


def assert_sane(probs: np.ndarray, waves: Sequence[Wave], length: int) -> None:
    """Finite probabilities that sum to one, and waves inside the signal in onset-peak-offset
    order."""
    assert probs.shape[-1] == length
    assert np.isfinite(probs).all()
    np.testing.assert_allclose(probs.sum(axis=-2), 1.0, atol=1e-4)
    for w in waves:
        assert w.kind in ("P", "QRS", "T")
        assert 0 <= w.onset <= w.peak <= w.offset < length, w


def write_wfdb(folder: Path, name: str = "rec", leads: Sequence[str] = ("i", "ii")) -> Path:
    x = ecg(2.0, len(leads)).T.astype(np.float64)
    wfdb.wrsamp(
        name,
        fs=FS,
        units=["mV"] * len(leads),
        sig_name=list(leads),
        p_signal=x,
        fmt=["16"] * len(leads),
        write_dir=str(folder),
    )
    return folder / name


# --- NaN and Inf: delineated around in a recording, refused in a data set ----------------------


def test_nan_in_a_numpy_file(cli: Cli, model_path: Path, tmp_path: Path) -> None:
    x = ecg()
    x[1, 1234] = np.nan
    path = write_npy(tmp_path / "gap.npy", x)
    out = tmp_path / "o"
    result = cli("delineate", path, "--model", model_path, "--fs", FS, "--out", out)
    assert result.code == 0, result.err
    assert "1 gap (0.002 s) in lead ch1" in result.out
    assert (out / "gap_gaps.csv").read_text().splitlines()[1:] == [
        "ch1,missing,1234,1234,2.468,2.468,0.002"
    ]


def test_inf_in_a_csv_file(tmp_path: Path) -> None:
    path = tmp_path / "spike.csv"
    path.write_text("v\n0.1\n0.2\n0.3\ninf\n0.1\n")
    with pytest.raises(ValueError, match=r"spike\.csv: 1 NaN/Inf values \(first at sample 3\)"):
        read_record(path, fs=FS)  # a record to train or score on
    with open_signal(path, fs=FS, allow_gaps=True) as reader:  # a recording to delineate
        assert np.isinf(reader.read()[0, 3])


def test_invalid_samples_in_a_wfdb_record(tmp_path: Path) -> None:
    base = write_wfdb(tmp_path)
    dat = bytearray(base.with_suffix(".dat").read_bytes())
    dat[4 * 50 : 4 * 50 + 2] = (-32768).to_bytes(2, "little", signed=True)  # WFDB's "no value"
    base.with_suffix(".dat").write_bytes(bytes(dat))
    with pytest.raises(ValueError, match=r"rec: 1 NaN/Inf values \(first at sample 50\)"):
        read_record(base.with_suffix(".hea"))
    with open_signal(base, allow_gaps=True) as reader:
        assert np.flatnonzero(np.isnan(reader.read()[0])).tolist() == [50]


def test_nan_in_an_array_through_the_api(backend: object) -> None:
    x = ecg()
    x[0, 999] = np.nan
    result = delineate_signal(backend, x, FS)
    assert [(g.lead, g.kind, g.onset, g.offset) for g in result.gaps] == [(0, "missing", 999, 999)]
    assert np.isnan(result.probs[0, :, 999]).all() and np.isfinite(result.probs[1]).all()
    with pytest.raises(ValueError, match="first at sample 999"):
        predict_long(backend, x, 250.0)  # the low-level API refuses unless asked to fill


# --- odd but valid signals: no crash, no NaN, sane waves ---------------------------------------


def test_flat_and_all_zero_leads(backend: object) -> None:
    x = ecg(leads=3)
    x[0] = 0.0
    x[1] = 3.3  # a lead stuck at a DC offset
    with pytest.warns(UserWarning, match=r"channel\(s\) ch0, ch1 hold no usable signal"):
        result = delineate_signal(backend, x, FS)
    assert [(g.lead, g.kind, g.onset, g.offset) for g in result.gaps] == [
        (0, "flat", 0, x.shape[1] - 1),
        (1, "flat", 0, x.shape[1] - 1),
    ]
    assert not result.lead_waves(0) and not result.lead_waves(1)
    assert np.isnan(result.probs[:2]).all()
    assert_sane(result.probs[2:], result.waves, x.shape[1])
    with pytest.raises(ValueError, match="no usable signal"):
        delineate_signal(backend, x[:2], FS)


def test_clipped_signal(backend: object) -> None:
    x = np.clip(ecg(leads=1) * 5, -0.5, 0.5)  # amplifier saturation: long runs at the rails
    result = delineate_signal(backend, x, FS, combine_leads=True)
    assert_sane(result.probs, result.waves + result.fused, x.shape[1])


@pytest.mark.parametrize("pad_short", [True, False])
@pytest.mark.parametrize(("length", "fs"), [(300, FS), (150, 250.0), (151, 250.0), (2559, 250.0)])
def test_shorter_than_one_window(backend: object, length: int, fs: float, pad_short: bool) -> None:
    # from the task's minimum (0.6 s, test_gaps.py refuses less) to one sample short of a window
    x = ecg(seconds=length / fs + 1.0, leads=1, fs=fs)[:, :length]
    options = WindowOptions(window=2560, pad_short=pad_short)
    result = delineate_signal(backend, x, fs, window_options=options)
    assert_sane(result.probs, result.waves, length)


def test_one_sample_csv_through_the_cli(cli: Cli, model_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("ii\n0.25\n")
    out = tmp_path / "o"
    result = cli("delineate", path, "--model", model_path, "--fs", "360", "--out", out)
    assert_user_error(result, "one.csv", "0.00278 s long", "needs at least 0.6 s", code=1)
    assert not [p for p in out.iterdir() if p.name.startswith("one")]


# --- sampling rates -----------------------------------------------------------------------------


@pytest.mark.parametrize("fs", ["0", "-250", "nan", "inf"])
def test_impossible_sampling_rate(cli: Cli, model_path: Path, tmp_path: Path, fs: str) -> None:
    path = write_npy(tmp_path / "x.npy", ecg())
    result = cli("delineate", path, "--model", model_path, "--fs", fs, "--out", tmp_path / "o")
    assert_user_error(result, "x.npy", "sampling rate must be a finite number > 0", code=1)


@pytest.mark.parametrize("fs", [1e9, 1e-3])
def test_absurd_sampling_rate_is_refused_at_once(backend: object, fs: float) -> None:
    # resampling 1e-3 Hz to 250 Hz would mean 250 000 samples per sample (it used to hang)
    with pytest.raises(ValueError, match="more than 1000 times away from the model's 250 Hz"):
        predict_long(backend, ecg(), fs)


@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_missing_sampling_rate(cli: Cli, model_path: Path, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"x{suffix}"
    if suffix == ".npy":
        write_npy(path, ecg())
    else:
        np.savetxt(path, ecg().T, delimiter=",")
    result = cli("delineate", path, "--model", model_path, "--out", tmp_path / "o")
    assert_user_error(result, f"x{suffix}", "sampling rate unknown", code=1)


@pytest.mark.parametrize("field", ["-500", "1e9", "fast"])
def test_unreadable_rate_in_a_wfdb_header(tmp_path: Path, field: str) -> None:
    # wfdb itself reads "-500" as its default 250 Hz and "1e9" as 1 Hz: silently wrong
    base = write_wfdb(tmp_path)
    header = base.with_suffix(".hea")
    header.write_text(header.read_text().replace("rec 2 500 ", f"rec 2 {field} ", 1))
    with pytest.raises(ValueError, match=rf"rec\.hea: unreadable sampling rate '{field}'"):
        read_record(header)


# --- dtypes -------------------------------------------------------------------------------------


def test_int16_signal_gives_the_same_result_as_float(backend: object, tmp_path: Path) -> None:
    digital = np.round(ecg() * 1000).astype(np.int16)
    as_int = read_record(write_npy(tmp_path / "int.npy", digital), fs=FS).signal
    expected = delineate_signal(backend, digital.astype(np.float32), FS)
    for signal in (digital, as_int):
        got = delineate_signal(backend, signal, FS)
        np.testing.assert_allclose(got.probs, expected.probs, atol=1e-6)
        assert got.waves == expected.waves


def test_complex_signal_is_refused(backend: object, tmp_path: Path) -> None:
    x = ecg().astype(np.complex64)
    with pytest.raises(ValueError, match=r"c\.npy: signal must be real numbers, got dtype complex"):
        read_record(write_npy(tmp_path / "c.npy", x), fs=FS)
    with pytest.raises(ValueError, match="signal must be real numbers, got dtype complex64"):
        predict_long(backend, x, FS)  # numpy alone would drop the imaginary part silently


def test_object_array_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "objects.npy"
    np.save(path, np.array([[1.0, "a"], [2.0, None]], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"objects\.npy: not a readable NumPy file"):
        read_record(path, fs=FS)


def test_strings_are_refused(backend: object, tmp_path: Path) -> None:
    csv_path = tmp_path / "text.csv"
    csv_path.write_text("i,ii\n0.1,0.2\n0.3,n/a\n0.1,0.2\n")
    with pytest.raises(ValueError, match=r"text\.csv: non-numeric or ragged data \(line 3"):
        read_record(csv_path, fs=FS)
    with pytest.raises(ValueError, match=r"s\.npy: signal must be real numbers, got dtype <U"):
        read_record(write_npy(tmp_path / "s.npy", np.array([["1", "2", "3"]])), fs=FS)
    with pytest.raises(ValueError, match="got dtype <U"):
        predict_long(backend, np.array([["1", "2", "3"]]), FS)


# --- channels and leads -------------------------------------------------------------------------


def test_wrong_channel_count_for_a_multi_lead_model(cli: Cli, tmp_path: Path) -> None:
    model = sigseg.create_model("dilated", in_channels=3, widths=(8, 8), dilations=(1, 2))
    checkpoint = sigseg.save_checkpoint(model, tmp_path / "three.safetensors")
    path = write_npy(tmp_path / "two.npy", ecg(leads=2))
    result = cli("delineate", path, "--model", checkpoint, "--fs", FS, "--out", tmp_path / "o")
    assert_user_error(result, "two.npy", "the model takes 3 channels; the signal has 2", code=1)


def test_unknown_edf_channel_name(tmp_path: Path) -> None:
    path = write_edf(tmp_path / "x.edf")
    with pytest.raises(ValueError, match=r"x\.edf: no channel\(s\) \['V7'\]; it has \['I', 'II'\]"):
        read_edf(path, channels=["V7"])


def test_unknown_lead_names_in_a_ludb_folder(tmp_path: Path) -> None:
    from sigseg.tasks.ecg.ludb import load_ludb

    write_wfdb(tmp_path, "1", leads=("a", "b"))
    (tmp_path / "ludb.csv").write_text("ID,Sex,Age,Rhythms\n1,M,50,Sinus rhythm\n")
    with pytest.raises(ValueError, match=r"1\.hea: expected leads \('i', .*got \['a', 'b'\]"):
        load_ludb(tmp_path, split="all")


# --- corrupt and truncated files ----------------------------------------------------------------


def test_corrupt_wfdb_header(tmp_path: Path) -> None:
    base = write_wfdb(tmp_path)
    base.with_suffix(".hea").write_bytes(b"\x89PNG\r\n\x1a\n not a header at all")
    with pytest.raises(ValueError, match=r"rec\.hea: (not a readable WFDB header|unreadable)"):
        read_record(base.with_suffix(".hea"))


def test_truncated_wfdb_signal_file(tmp_path: Path) -> None:
    base = write_wfdb(tmp_path)
    dat = base.with_suffix(".dat")
    dat.write_bytes(dat.read_bytes()[:999])
    with pytest.raises(ValueError, match=r"rec: cannot read WFDB samples 0:1000"):
        read_record(base.with_suffix(".hea"))


def test_missing_wfdb_signal_file(tmp_path: Path) -> None:
    base = write_wfdb(tmp_path)
    base.with_suffix(".dat").unlink()
    with pytest.raises(FileNotFoundError, match=r"rec\.dat: no such file \(named in rec\.hea\)"):
        read_record(base)


def test_truncated_edf(tmp_path: Path) -> None:
    path = write_edf(tmp_path / "x.edf")
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match=r"x\.edf: not a readable EDF/BDF file"):
        read_record(path)


def test_ragged_csv(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    path.write_text("i,ii\n0.1,0.2\n0.3,0.4\n0.5\n")  # the last row was cut mid-line
    with pytest.raises(ValueError, match=r"cut\.csv: non-numeric or ragged data \(line 4"):
        read_record(path, fs=FS)


def test_truncated_npy(tmp_path: Path) -> None:
    path = write_npy(tmp_path / "cut.npy", ecg())
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ValueError, match=r"cut\.npy: not a readable NumPy file"):
        read_record(path, fs=FS)


# --- annotations that do not match their record -------------------------------------------------


@pytest.fixture()
def ludb_copy(ludb_root: Path, tmp_path: Path) -> Path:
    """A LUDB-layout folder (outside the repository) holding test-split record 5 only."""
    folder = tmp_path / "ludb"
    folder.mkdir()
    shutil.copy(ludb_root / "ludb.csv", folder)
    for path in ludb_root.glob("5.*"):
        shutil.copy(path, folder)
    return folder


def test_reference_annotation_beyond_its_record(ludb_copy: Path) -> None:
    from sigseg.tasks.ecg.ludb import load_ludb

    write_wfdb_annotations(ludb_copy, "5", "v2", [Wave("QRS", 100, 120, 9000)], 500.0)
    with pytest.raises(ValueError, match=r"5\.v2: annotation at sample 9000 lies outside"):
        load_ludb(ludb_copy, split="test")


def test_predicted_annotation_beyond_its_record(cli: Cli, ludb_copy: Path, tmp_path: Path) -> None:
    predictions = tmp_path / "pred"
    predictions.mkdir()
    wfdb.wrann("5", "i", np.array([10, 20, 70000]), ["(", "N", ")"], write_dir=str(predictions))
    result = cli("evaluate", "--data", ludb_copy, "--predictions", predictions)
    assert_user_error(result, "5.i", "annotation at sample 70000 lies outside the record's 5000")


# --- empty folders ------------------------------------------------------------------------------


def test_evaluate_on_an_empty_folder(cli: Cli, tmp_path: Path) -> None:
    assert_user_error(cli("evaluate", "--data", tmp_path), str(tmp_path), "no signal files found")


def test_data_info_on_an_empty_folder(cli: Cli, tmp_path: Path) -> None:
    assert_user_error(cli("data", "info", tmp_path), str(tmp_path), "is a folder")


def test_delineate_a_folder(cli: Cli, model_path: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("delineate", empty, "--model", model_path, "--out", tmp_path / "o")
    # a folder is a batch run's input: one with no signal file is a one-line error
    assert_user_error(result, "empty: no signal files found")
    assert not (tmp_path / "o").exists()


def test_train_on_an_empty_folder(cli: Cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("train", "--data", empty, "--out", tmp_path / "run", "--epochs", "1")
    assert_user_error(result, "empty", "no signal files found")
    assert not (tmp_path / "run").exists()  # nothing is written for a bad data set


# --- unwritable outputs (tests run as root: a path under a regular file is unwritable) ----------


def test_output_folder_is_a_file(cli: Cli, model_path: Path, tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("")
    path = write_npy(tmp_path / "x.npy", ecg())
    result = cli("delineate", path, "--model", model_path, "--fs", FS, "--out", taken)
    assert_user_error(result, "taken: cannot create output folder")


@pytest.mark.parametrize("command", ["delineate", "train", "export", "data synth"])
def test_output_under_a_regular_file(
    cli: Cli, model_path: Path, tmp_path: Path, command: str
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    target = blocker / "sub"
    signal = write_npy(tmp_path / "x.npy", ecg())
    args = {
        "delineate": ["delineate", signal, "--model", model_path, "--fs", FS, "--out", target],
        "train": ["train", "--data", "synthetic", "--epochs", "1", "--out", target],
        "export": ["export", model_path, "--onnx", target / "m.onnx"],
        "data synth": ["data", "synth", target / "rec", "--hours", "0.001"],
    }[command]
    result = cli(*args)
    assert_user_error(result, "blocker")
    assert blocker.read_text() == ""


def test_delineating_an_eeg_file_says_it_is_no_ecg(
    cli: Cli, model_path: Path, tmp_path: Path
) -> None:
    eeg = write_edf(tmp_path / "sleep.edf", labels=("EEG Fpz-Cz", "EEG Pz-Oz"))
    result = cli("delineate", eeg, "--model", model_path, "--out", tmp_path / "o", "--no-plot")
    assert result.code == 0, result.err
    assert "warning:" in result.err and "EEG Fpz-Cz, EEG Pz-Oz do not look like ECG" in result.err
    ecg_file = write_edf(tmp_path / "holter.edf", labels=("II", "V5"))
    result = cli("delineate", ecg_file, "--model", model_path, "--out", tmp_path / "o2")
    assert result.code == 0 and "warning" not in result.err, result.err
