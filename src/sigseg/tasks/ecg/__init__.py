"""ECG delineation as a task: P waves, QRS complexes and T waves on a background.

This package is the one place for everything ECG. Its ``__init__`` is the vocabulary: the class
names and the task's rules (its 250-Hz design rate, decoding minimums, strict-boundary monitor,
ECG augmentation and default pretrained model), plain data that every layer may import. The
machinery built on it, and on the generic ``data``, ``inference`` and ``metrics`` layers, is in
submodules, imported by name (never from here, so importing the vocabulary stays light and
``sigseg.tasks`` has no import cycle):

* data: :mod:`~sigseg.tasks.ecg.annotations` (WFDB wave symbols to waves and label masks),
  :mod:`~sigseg.tasks.ecg.ludb` and :mod:`~sigseg.tasks.ecg.qtdb` (the two databases),
  :mod:`~sigseg.tasks.ecg.fetch` (their PhysioNet download), :mod:`~sigseg.tasks.ecg.synthetic`
  (synthetic ECG with exact ground truth);
* inference: :mod:`~sigseg.tasks.ecg.waves` (probabilities to waves, beat-order rules, lead
  fusion, PR/QRS/QT intervals), :mod:`~sigseg.tasks.ecg.streaming` (the same, block by block),
  :mod:`~sigseg.tasks.ecg.atrial` (no P wave where the rhythm has none),
  :mod:`~sigseg.tasks.ecg.delineate` (a record's per-lead and fused delineation);
* metrics: :mod:`~sigseg.tasks.ecg.boundaries` (the six boundaries and both tolerance sets of
  ``BENCHMARK.md``), :mod:`~sigseg.tasks.ecg.report` (the whole protocol for a lead, summed,
  as tables), :mod:`~sigseg.tasks.ecg.literature` (the published LUDB protocol, for side by
  side comparisons), :mod:`~sigseg.tasks.ecg.evaluation` (a model scored on annotated records);
* noise: :mod:`~sigseg.tasks.ecg.noise` (NSTDB noise at nst's SNR, for the noise benchmark
  and for training augmentation, on disjoint halves of each noise record);
* outputs: :mod:`~sigseg.tasks.ecg.outputs` (WFDB annotations in LUDB's convention, wave and
  interval tables, the plot) and :mod:`~sigseg.tasks.ecg.pipeline` (recordings to files, and
  the ``sigseg.delineate`` API).
"""

from __future__ import annotations

from sigseg.tasks.base import Task

CLASSES: tuple[str, ...] = ("background", "P", "QRS", "T")
"""ECG delineation classes; a wave kind's label is its index here."""

WAVE_KINDS: tuple[str, ...] = CLASSES[1:]

ECG_DELINEATION = Task(
    name="ecg-delineation",
    classes=CLASSES,
    kind="segments",
    sampling_rate=250.0,
    min_duration_s={"P": 0.02, "QRS": 0.02, "T": 0.04},
    merge_gap_s=0.02,
    tolerance_s=0.15,
    monitor="val_strict_f1",
    augmentation="ecg",
    default_model="ecg-hybrid-fast-ludb-noise",
    min_input_s=0.6,
    min_sampling_rate=50.0,
)
"""The flagship task. Its decoding and scoring follow ``BENCHMARK.md`` through
:mod:`~sigseg.tasks.ecg.waves` and :mod:`~sigseg.tasks.ecg.report` (both tolerance sets); the
fields here describe it to the generic layer (checkpoints, ``sigseg segment``).

Its input limits come from physiology. An input must last 0.6 s, about one whole P-QRS-T
complex at a normal rate (PR interval 0.12-0.20 s plus QT interval 0.35-0.45 s): anything
shorter cannot hold one beat, and what a model reports on it is noise (a 20-ms input used to
give two QRS complexes). A longer input may still hold no beat (one beat at 30 bpm takes 2 s);
the model then reports none, which is the right answer, so the limit stops there. The rate
must be 50 Hz: a QRS complex lasts 80-100 ms, 4-5 samples at 50 Hz, and below that it spans
too few samples to have an onset and an offset (a 1-Hz "ECG" used to give seven)."""
