"""Small text helpers the screens and widgets share: names cut to a width in terminal cells
(Han characters count two), the colour of each code, and the interviewer's question line."""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.text import Text

# The background each code is highlighted with, by its place in the dictionary.
CODE_STYLES = ["on dark_red", "on dark_blue", "on dark_green", "on dark_magenta", "on dark_cyan",
               "on orange4", "on purple4", "on deep_pink4", "on grey37"]


def shorten_middle(name: str, width: int) -> str:
    """``name`` cut to ``width`` terminal cells by dropping its middle (start and end kept:
    ``2019-06-04-胡曉萍訪問.BIG5`` -> ``2019-06…訪問.BIG5``), so names sharing a long prefix
    stay apart. A name that fits comes back unchanged; ``width`` below 3 counts as 3."""
    if cell_len(name) <= width:
        return name
    width = max(width, 3)
    head_w = (width - 1) // 2
    tail_w = width - 1 - head_w
    head, used = "", 0
    for ch in name:
        if used + cell_len(ch) > head_w:
            break
        head += ch
        used += cell_len(ch)
    tail, used = "", 0
    for ch in reversed(name):
        if used + cell_len(ch) > tail_w:
            break
        tail = ch + tail
        used += cell_len(ch)
    return f"{head}…{tail}"


def cut_end(name: str, width: int) -> str:
    """``name`` cut to ``width`` terminal cells at its end (``consensus``, 7 -> ``consen…``);
    a name that fits comes back unchanged."""
    if cell_len(name) <= width:
        return name
    return set_cell_size(name, max(width - 1, 0)).rstrip() + "…"


def code_style(code_order: list[str], code: str) -> str:
    """The Rich style ``code`` is highlighted with: its dictionary place's colour."""
    return CODE_STYLES[code_order.index(code) % len(CODE_STYLES)]


def question_line(turn: dict | None) -> Text:
    """The interviewer's turn before a passage, dimmed, as ``LABEL: question``: the turn's own
    speaker label, ``Interviewer`` when it has none, ``—`` for a missing question. ``turn``
    is a dict with ``speaker`` and ``text`` (see ``Store.question_turn_for``) or None."""
    turn = turn or {"speaker": "", "text": ""}
    label = turn["speaker"].strip() or "Interviewer"
    return Text.assemble((f"{label}: ", "bold dim"), (turn["text"].strip() or "—", "dim"))
