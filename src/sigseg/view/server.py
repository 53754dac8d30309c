"""The viewer's local web server: a Bokeh server on 127.0.0.1 with one page, the recording
it was given.

The page redraws on the server whenever its time range changes (at most once per event-loop
turn, however many range changes a drag sends), so only the points of the window travel to
the browser. The server reads no path from a request: it opens the files named when it was
started, and serves nothing else but Bokeh's own scripts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sigseg.view.document import build_view
from sigseg.view.lod import RAW_LIMIT
from sigseg.view.recording import ViewSource

HOST = "127.0.0.1"
PROGRESS_MS = 400
"""How often a page redraws while the overview is still being built."""
FIRST_WINDOW_S = None
"""The first screen: the whole recording (``None``) or its first seconds."""


@dataclass(frozen=True)
class Running:
    """A started server: its address and a way to stop it."""

    url: str
    port: int
    stop: Callable[[], None]
    run: Callable[[], None]


def _page(source: ViewSource, title: str) -> Callable[[object], None]:
    """The Bokeh function handler that builds one browser session's page."""

    def make(doc: object) -> None:
        layout, state = build_view(source, 0.0, source.duration, title)
        doc.add_root(layout)  # type: ignore[attr-defined]
        doc.title = f"sigseg view: {title}"  # type: ignore[attr-defined]
        pending = False

        def redraw() -> None:
            nonlocal pending
            pending = False
            state.draw()

        def on_range(attr: str, old: object, new: object) -> None:
            nonlocal pending
            if not pending:
                pending = True
                doc.add_next_tick_callback(redraw)  # type: ignore[attr-defined]

        state.x_range.on_change("start", on_range)
        state.x_range.on_change("end", on_range)
        if not source.overview.done:
            callback = None

            def progress() -> None:
                t0, t1 = state.window
                state.draw_navigator()
                if (t1 - t0) * source.fs > RAW_LIMIT:
                    state.draw()
                if source.overview.done and callback is not None:
                    doc.remove_periodic_callback(callback)  # type: ignore[attr-defined]

            callback = doc.add_periodic_callback(progress, PROGRESS_MS)  # type: ignore[attr-defined]

    return make


def start_server(source: ViewSource, title: str, port: int = 0) -> Running:
    """Start serving ``source`` on ``127.0.0.1:port`` (0: a free port) and build its
    overview in the background. Call ``run()`` to serve until interrupted."""
    from bokeh.application import Application
    from bokeh.application.handlers.function import FunctionHandler
    from bokeh.server.server import Server
    from tornado.ioloop import IOLoop

    bound = port or _free_port()
    origins = [f"{HOST}:{bound}", f"localhost:{bound}"]
    server = Server(
        {"/": Application(FunctionHandler(_page(source, title)))},
        io_loop=IOLoop.current(),
        port=bound,
        address=HOST,
        allow_websocket_origin=origins,
        check_unused_sessions_milliseconds=10_000,
        unused_session_lifetime_milliseconds=30_000,
    )
    server.start()
    source.start_overview()

    def stop() -> None:
        server.stop()
        server.io_loop.stop()

    return Running(f"http://{HOST}:{bound}/", bound, stop, server.io_loop.start)


def _free_port() -> int:
    """A port on 127.0.0.1 that is free now (the server binds it right after)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])
