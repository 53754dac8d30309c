"""``python -m sigseg``: the same as the ``sigseg`` command."""

from sigseg.cli import main

main()
