"""Killing a batch worker in the middle of a run, for the tests that show nothing is lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from sigseg.batch.shards import SHARDS


def kill_a_worker_mid_run(
    run: Callable[[], Any], out: Path, workers: Callable[[], list[psutil.Process]]
) -> tuple[psutil.Process | None, dict[str, Any]]:
    """Call ``run`` in a thread; once a shard is committed in ``out``, kill the first process
    ``workers()`` lists. Returns the killed process (``None``: the run ended first) and the
    run's outcome: ``{"result": ...}`` or ``{"error": exception}``."""
    outcome: dict[str, Any] = {}

    def drive() -> None:
        try:
            outcome["result"] = run()
        except BaseException as err:  # examined by the caller
            outcome["error"] = err

    driver = threading.Thread(target=drive)
    driver.start()
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and driver.is_alive() and time.monotonic() < deadline:
        found = workers()
        if found and list((out / SHARDS).glob("0*")):
            killed = found[0]
            killed.kill()
        time.sleep(0.02)
    driver.join(300)
    return killed, outcome
