"""Progress of a batch run: a bar with recordings/s and an ETA on a terminal, a log line
every :data:`LOG_EVERY_S` seconds (and at the end) elsewhere (CI logs, ``nohup``)."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

LOG_EVERY_S = 30.0


class Progress:
    """Counts recordings done (and failed) out of ``total``, ``done`` of them before this
    run started (a resumed run): the rate and ETA are this run's."""

    def __init__(
        self,
        total: int,
        done: int,
        label: str,
        stream: TextIO | None = None,
        tty: bool | None = None,
    ) -> None:
        self.total, self.done, self.label = total, done, label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.failed = 0
        self._start = time.perf_counter()
        self._first = done
        self._logged = self._start
        self._bar: Any = None

    def __enter__(self) -> Progress:
        if self.tty:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as Bar

            self._bar = Bar(
                TextColumn(self.label),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]} rec/s, {task.fields[failed]} failed, ETA"),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(
                self.label, total=self.total, completed=self.done, rate="-", failed=0
            )
        return self

    def advance(self, failed: bool = False) -> None:
        """One more recording done (``failed``: recorded in the error table)."""
        self.done += 1
        self.failed += failed
        if self._bar is not None:
            self._bar.update(
                self._task, completed=self.done, rate=f"{self.rate:.1f}", failed=self.failed
            )
            return
        now = time.perf_counter()
        if now - self._logged >= LOG_EVERY_S:
            self._logged = now
            print(self.line(), file=self.stream, flush=True)

    @property
    def rate(self) -> float:
        """Recordings per second in this run."""
        elapsed = time.perf_counter() - self._start
        return (self.done - self._first) / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        """``delineate: 120/200 recordings (35.2/s, 1 failed), ETA 2 s``."""
        rate = self.rate
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        return (
            f"{self.label}: {self.done}/{self.total} recordings ({rate:.1f}/s, "
            f"{self.failed} failed), ETA {left:.0f} s"
        )

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
