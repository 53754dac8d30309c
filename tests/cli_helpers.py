"""What a CLI test checks: the exit status and output of a ``sigseg`` run, and that a user
error is one line naming the file and the problem."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CliResult:
    code: int
    out: str
    err: str


def assert_user_error(result: CliResult, *needles: str, code: int = 2) -> None:
    """A user error: the expected exit status, no traceback, every ``error:`` or failure
    line is one line, and the message names the file and the problem (``needles``)."""
    text = result.out + result.err
    assert result.code == code, text[-3000:]
    assert "Traceback" not in text and "╭" not in text, text[-3000:]
    for needle in needles:
        assert needle in result.err, f"{needle!r} not in stderr:\n{result.err[-3000:]}"
    if code == 2:
        lines = [ln for ln in result.err.splitlines() if ln.startswith("error:")]
        assert len(lines) == 1, result.err[-3000:]
