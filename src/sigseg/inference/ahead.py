"""Compute the next items of an iterator in a thread while the caller works on the current one.

The model call (ONNX Runtime or PyTorch) and most of reading and resampling release the GIL,
so a thread that advances the probability stream overlaps them with the caller's decoding and
writing, which are Python that holds it. At most ``depth`` items wait, so memory stays
bounded.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def ahead(items: Iterable[T], depth: int = 1) -> Iterator[T]:
    """``items`` in order, each computed by a thread up to ``depth`` items before the caller
    asks for it. An exception in ``items`` is raised in the caller, at its place in order.
    Leaving early stops the thread after the item it is computing."""
    results: queue.Queue[Any] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()
    end = object()

    def work() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                results.put((item, None))
        except BaseException as err:  # handed to the consumer, which raises it
            results.put((None, err))
        results.put((end, None))

    thread = threading.Thread(target=work, name="sigseg-ahead", daemon=True)
    thread.start()
    try:
        while True:
            value, err = results.get()
            if err is not None:
                raise err
            if value is end:
                return
            yield value
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                results.get_nowait()
            except queue.Empty:
                thread.join(0.01)
