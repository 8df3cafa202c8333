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
    """A p or q value in APA style: three decimals without the leading zero (``.023``),
    ``< .001`` below that, ``1`` for 1; ``–`` when missing."""
    if missing(p):
        return "–"
    if p < 0.001:
        return "< .001"
    text = f"{p:.3f}"
    return "1" if text == "1.000" else text.lstrip("0")


def signed(value, digits: int = 2) -> str:
    """A coefficient that can be negative in APA style, without the leading zero when it is
    bounded by 1 (a correlation): ``-.42``, ``.87``."""
    if missing(value):
        return "–"
    text = f"{value:.{digits}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    return text.replace("0.", ".", 1) if abs(value) < 1 else text


def stars(q) -> str:
    """``***`` for q < .001, ``**`` for < .01, ``*`` for < .05, else ''."""
    if missing(q):
        return ""
    return "***" if q < 0.001 else "**" if q < 0.01 else "*" if q < 0.05 else ""


def plural(n: int, word: str, words: str | None = None) -> str:
    """``n`` and the noun in the number it takes: ``1 passage``, ``2 passages``, ``0 passages``
    (``words``: the plural when it is not ``word + "s"``)."""
    return f"{n} {word if n == 1 else (words or word + 's')}"
