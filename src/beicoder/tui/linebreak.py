"""Line breaking for Chinese, Japanese and mixed text in the terminal.

Rich wraps at spaces and folds a run without spaces where it reaches the edge, so a Chinese
line may start with ``。`` or ``，``, and ``Interviewer asked: 然后我去了客户家`` leaves
``Interviewer asked:`` alone on its line (the Chinese run is one "word" too long for the rest
of the line). :func:`break_lines` breaks as Chinese typesetting does (a small part of Unicode's
line breaking algorithm, UAX #14, with the kinsoku rules):

- a line may break between two CJK characters (Han, kana, Hangul, full-width forms, emoji),
  between a CJK character and a Latin word either way, and after spaces; never inside a Latin
  word or number;
- no line starts with closing punctuation (``。，、；：！？）」』`` and the like, ``……``) and none
  ends with opening punctuation (``（「『《``...); ``——`` and ``……`` stay whole;
- widths are Rich's own cell widths, counted per grapheme (a CJK character or an emoji is two
  cells, a combining accent or a skin-tone modifier none), so a line never overflows and a
  grapheme is never cut;
- spaces where a line breaks are dropped from its end; the text's own newlines always break.

:class:`WrappedText` draws a Rich :class:`~rich.text.Text` (styles kept) with these breaks at
whatever width it is given.
"""

from __future__ import annotations

import unicodedata

from rich.cells import split_graphemes
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.text import Text

# No line starts with these (closing brackets and quotes, stops, commas, small kana...).
CLOSING = set("。，、；：！？）」』】》〉〕］｝〗〙〛〞’”．｡､!?)]}>,.;:%‰℃°′″…‥ー々〻ゝゞヽヾ・～"
              "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ％﹐﹑﹒﹔﹕﹖﹗﹚﹜﹞")
# No line ends with these (opening brackets and quotes, prefixed currency signs).
OPENING = set("（「『【《〈〔［｛〖〘〚〝‘“([{<¿¡＄￥＃$£¥€﹙﹛﹝")
# Quotes that open or close (ASCII): they stay with their neighbours.
AMBIGUOUS = set("\"'")
# Pairs of these are not split: ——, ……, ⋯⋯.
INSEPARABLE = set("—…‥⋯")


def _is_space(ch: str) -> bool:
    return ch in " \t\u3000" or (ch.isspace() and ch not in "\n\r")


def _is_cjk(ch: str, cells: int) -> bool:
    """A character that may break on either side: two cells wide (Han, kana, Hangul,
    full-width forms, emoji) or a Han character of the astral planes."""
    return cells >= 2 or unicodedata.east_asian_width(ch) in ("W", "F")


def _may_break(prev: str, prev_cells: int, cur: str, cur_cells: int) -> bool:
    """May a line break between the grapheme starting with ``prev`` and the one starting with
    ``cur``? (Spaces are handled by the caller.)"""
    if cur in CLOSING or prev in OPENING:
        return False
    if cur in AMBIGUOUS or prev in AMBIGUOUS:
        return False
    if cur in INSEPARABLE and prev in INSEPARABLE:
        return False
    if cur_cells == 0:
        return False
    if _is_cjk(prev, prev_cells) or _is_cjk(cur, cur_cells):
        return True
    if prev in CLOSING:  # after "，" or "." a Latin word may start a line
        return not (cur.isalnum() and prev in ".,:%")  # 3.14, 1,000, 10:30, 50%
    if prev == "-" or prev == "/":
        return cur.isalnum()
    return cur in OPENING and not prev.isalnum()


def break_lines(text: str, width: int) -> list[tuple[int, int]]:
    """The lines of ``text`` at ``width`` terminal cells, as ``(start, end)`` offsets into
    ``text`` (spaces at a break left out of the line before it; a newline ends a line and
    belongs to none). Every line is at most ``width`` cells (Rich's cell widths), except a
    single grapheme wider than ``width``. Empty text gives one empty line."""
    width = max(1, width)
    lines: list[tuple[int, int]] = []
    pos = 0
    for paragraph in text.split("\n"):
        lines.extend((pos + a, pos + b) for a, b in _break_paragraph(paragraph, width))
        pos += len(paragraph) + 1
    return lines


def _break_paragraph(text: str, width: int) -> list[tuple[int, int]]:
    spans, _ = split_graphemes(text)
    if not spans:
        return [(0, 0)]
    units = [(a, b, cells, text[a]) for a, b, cells in spans]
    lines: list[tuple[int, int]] = []
    start = 0  # index into units of the line's first grapheme
    used = 0  # cells of units[start:i]
    last_break = -1  # index into units of the best break so far (the line ends before it)
    i = 0
    while i < len(units):
        a, b, cells, ch = units[i]
        if i > start:
            prev = units[i - 1]
            if _is_space(prev[3]) and not _is_space(ch):
                if ch not in CLOSING and cells > 0:
                    last_break = i
            elif not _is_space(ch) and _may_break(prev[3], prev[2], ch, cells):
                last_break = i
        if _is_space(ch) or used + cells <= width or i == start:
            used += cells
            i += 1
            continue
        # units[i] does not fit: end the line at the last break, or force one
        if last_break > start:
            cut = last_break
        else:
            cut = i
            while cut - 1 > start and (units[cut][3] in CLOSING or units[cut - 1][3] in OPENING
                                       or units[cut][2] == 0):
                cut -= 1
        lines.append(_trimmed(units, start, cut))
        start = cut
        while start < len(units) and _is_space(units[start][3]):
            start += 1  # spaces left at the break belong to no line
        used = sum(u[2] for u in units[start:i])
        last_break = -1
        i = max(i, start)
        # breaks between start and i were passed: find them again
        for k in range(start + 1, i):
            p, c = units[k - 1], units[k]
            if (_is_space(p[3]) and not _is_space(c[3]) and c[3] not in CLOSING) or (
                    not _is_space(p[3]) and not _is_space(c[3]) and _may_break(p[3], p[2], c[3], c[2])):
                last_break = k
    if start < len(units) or not lines:
        lines.append(_trimmed(units, start, len(units)))
    return lines


def _trimmed(units, start: int, end: int) -> tuple[int, int]:
    """Offsets of units[start:end] with trailing spaces dropped."""
    while end > start and _is_space(units[end - 1][3]):
        end -= 1
    if end <= start:
        a = units[start][0] if start < len(units) else (units[-1][1] if units else 0)
        return a, a
    return units[start][0], units[end - 1][1]


class WrappedText:
    """A Rich renderable: ``text`` (a :class:`~rich.text.Text`, or a plain string) broken
    into lines by :func:`break_lines` at the width it is drawn at, its styles kept.
    ``str()`` gives the plain text."""

    def __init__(self, text: Text | str):
        self.text = text if isinstance(text, Text) else Text(text)
        self._lines: tuple[int, list[Text]] | None = None  # the last width asked and its lines

    def __str__(self) -> str:
        return self.text.plain

    @property
    def plain(self) -> str:
        """The text without styles."""
        return self.text.plain

    def lines(self, width: int) -> list[Text]:
        """The lines at ``width`` cells, as Texts with their styles (kept for the last width:
        Textual measures a widget's height and then draws it, at the same width)."""
        if self._lines is None or self._lines[0] != width:
            spans = break_lines(self.text.plain, width)
            cuts = sorted({x for span in spans for x in span} - {0})
            pieces = self.text.divide(cuts)  # one pass over the styles, not one per line
            at = dict(zip([0, *cuts], pieces))
            empty = Text("", style=self.text.style)
            self._lines = (width, [at[a] if a < b else empty for a, b in spans])
        return self._lines[1]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        base = console.get_style(self.text.style) if self.text.style else None
        for line in self.lines(options.max_width):
            if base is None:
                yield from line.render(console, end="")
            else:  # Text.render leaves out the Text's own style; apply it under the spans'
                yield from (Segment(s.text, base + s.style if s.style else base, s.control)
                            for s in line.render(console, end=""))
            yield Segment.line()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        from rich.cells import cell_len

        words = [w for w in self.text.plain.replace("\n", " ").split(" ") if w]
        widest = max((cell_len(line) for line in self.text.plain.split("\n")), default=0)
        narrowest = max((min(cell_len(w), 2) for w in words), default=1)
        return Measurement(narrowest, widest).clamp(max_width=options.max_width)
