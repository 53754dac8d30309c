r"""Plain-text tables of scores, for a CLI to print: every metric family formats with these.

>>> print("\n".join(text_table(["class", "F1"], [["P", format_score(0.9512)],
...                                             ["T", format_score(float("nan"))]])))
class     F1
-----  -----
P      0.951
T          -
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def format_score(x: float | None, digits: int = 3) -> str:
    """``x`` with ``digits`` decimals; ``-`` for an undefined score (``None`` or NaN)."""
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """The lines of a table: the first column left-aligned, the others right-aligned, a rule
    under the header, no trailing spaces."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = zip(row, widths, strict=True)
        text = "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(cells))
        return text.rstrip()

    return [line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]
