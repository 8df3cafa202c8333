"""How numbers and p values are written, the same in the terminal, the TUI and the report."""

from __future__ import annotations

import math


def missing(value) -> bool:
    """True for None and NaN (a figure that could not be computed)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def num(value, digits: int = 2) -> str:
    """``value`` with ``digits`` decimals; ``–`` when it is missing."""
    if missing(value):
        return "–"
    return f"{value:.{digits}f}"


def p_value(p) -> str:
    """A p or q value as papers print it: three decimals, ``<.001`` below that; ``–`` when
    missing."""
    if missing(p):
        return "–"
    return "<.001" if p < 0.001 else f"{p:.3f}"
