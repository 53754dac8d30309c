"""``sigseg view``: an interactive browser view of a recording with its predicted and
reference events, served locally, for any task and any length.

* :mod:`~sigseg.view.recording`: the recording, its events (checked to belong to it), class
  colours and disagreements, shared by every browser session;
* :mod:`~sigseg.view.lod`: level of detail, what to draw of a window in a bounded number of
  points (raw samples thinned by MinMaxLTTB, or a min/max overview built in one pass);
* :mod:`~sigseg.view.spans`: a window's events as spans, merged at pixel scale, and the
  disagreements between predictions and a reference;
* :mod:`~sigseg.view.document`: the page as Bokeh models, redrawn per window;
* :mod:`~sigseg.view.server`: the Bokeh server on 127.0.0.1;
* :mod:`~sigseg.view.export`: a stretch as a self-contained HTML page.

Bokeh and tsdownsample come with the ``view`` extra (``pip install 'sigseg[view]'``).
"""
