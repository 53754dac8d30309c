"""``sigseg report``: a summary report per recording of what a model found, as figures a
person would rather look at than read.

* :mod:`~sigseg.report.declare`: how a task declares its figures, and which apply;
* :mod:`~sigseg.report.generic`: every task's (time in each class over time, counts,
  durations);
* :mod:`~sigseg.report.eye_movements`: counts and durations per class, saccade main sequence;
* ECG's are in :mod:`sigseg.tasks.ecg.report_figures`;
* :mod:`~sigseg.report.page`: the HTML pages, PNG figures and the index.

Results are read by :mod:`sigseg.results` (``segment``, ``delineate`` or a batch run).
"""
