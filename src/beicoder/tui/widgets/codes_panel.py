"""The Codes pane: every dictionary code with its key, the suggestion's score and yours."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.message import Message

from ..text import CODE_STYLES, cut_end
from .line_table import LineTable

COMPACT_BELOW = 44  # cells: shorter headers under this width


class CodesPanel(LineTable):
    """One row per dictionary code (keyed by the code; a :class:`LineTable`, so a change
    redraws only its row): its key (1-9 for the first nine),
    the code, its name, the suggestion's score (dim and in brackets for a keyword match the
    coder's model scored low) and the coder's own level. However many codes the dictionary
    has, the table scrolls; its cursor is the *highlighted* code, whose definition the screen
    shows (:class:`CodesPanel.Highlighted`). Enter or a click on the highlighted row posts
    :class:`CodesPanel.Toggle`.

    :meth:`show` rewrites only the cells that changed, so moving between passages costs a
    few cells, not the whole table.
    """

    class Toggle(Message):
        """Add or remove ``code`` on the passage (Enter or a click on its row)."""

        def __init__(self, code: str) -> None:
            super().__init__()
            self.code = code

    class Highlighted(Message):
        """The cursor is on ``code``."""

        def __init__(self, code: str) -> None:
            super().__init__()
            self.code = code

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", **kwargs)
        self.code_order: list[str] = []
        self.competencies: dict = {}
        self._drawn_cells: dict[str, tuple] = {}  # code -> (code cell, score cell, yours cell) as drawn
        self._width: int | None = None
        self.compact = False
        self.english_names = False  # name the competencies in English (an English study)
        self._last: tuple[dict, dict] = ({}, {})  # the scores and codings shown

    @property
    def highlighted_code(self) -> str | None:
        """The code under the cursor (None before the table is filled)."""
        if not self.code_order or not 0 <= self.cursor_row < len(self.code_order):
            return None
        return self.code_order[self.cursor_row]

    def highlight(self, code: str) -> None:
        """Put the cursor on ``code``'s row (scrolling it into view)."""
        if code in self.code_order and self.highlighted_code != code:
            self.move_cursor(row=self.code_order.index(code), animate=False)

    def _row(self, i: int, code: str, s: dict | None, c: dict | None) -> tuple[Text, Text, Text]:
        style = "" if s is None or s.get("muted") else CODE_STYLES[i % len(CODE_STYLES)]
        bold = "bold" if c is not None else ""
        code_cell = Text(code, style=f"{bold} {style}".strip())
        if self.compact:  # the key in front of the code: "1 ACH"
            code_cell = Text.assemble((f"{i + 1 if i < 9 else ' '} ", "dim"), code_cell)
        if s is None:
            score = Text("")
        elif s.get("muted"):  # evidence, not a suggestion
            value = f"{s['score']:.2f}"
            score = Text(f"({value.lstrip('0') if self.compact else value})", style="dim")
        else:
            score = Text(f"{s['score']:.2f}", style=bold)
        level = "?" if c is None or c["level"] is None else c["level"]
        yours = Text("" if c is None else (f"✓L{level}" if self.compact else f"✓ L{level}"), style=bold)
        return code_cell, score, yours

    def _fill(self) -> None:
        """(Re)build the table at its width: under ``COMPACT_BELOW`` cells the key goes in
        front of the code and the columns touch (one space of their own), so a 30-cell pane
        still shows the names and your levels whole."""
        width = self.size.width or 40
        self.compact = compact = width < COMPACT_BELOW
        cursor = self.cursor_row
        self.clear(columns=True)
        self.cell_padding = 0 if compact else 1
        code_w = max([4] + [cell_len(c) for c in self.code_order])
        rows_shown = max(self.size.height - 1, 1)
        scrollbar = self.styles.scrollbar_size_vertical if len(self.code_order) > rows_shown else 0
        if compact:
            key_w, score_w, yours_w = 0, 6, 4
            self.add_column("code", key="code", width=code_w + 3)
        else:
            key_w, score_w, yours_w = 3, 9, 5
            self.add_column("key", key="key", width=key_w)
            self.add_column("code", key="code", width=code_w)
        pads = 0 if compact else 2 * 5 * self.cell_padding
        fixed = key_w + (code_w + 3 if compact else code_w) + score_w + yours_w + pads + scrollbar
        name_w = max(4, width - fixed)
        self.add_column("name" if compact else "competency", key="name", width=name_w)
        self.add_column("sug." if compact else "suggested", key="score", width=score_w)
        self.add_column("you" if compact else "yours", key="yours", width=yours_w)
        self._name_w = name_w
        for i, code in enumerate(self.code_order):
            comp = self.competencies[code]
            shown = (comp.name_en or comp.name_zh) if self.english_names else (comp.name_zh or comp.name_en)
            name = cut_end(shown, name_w - (1 if compact else 0))
            code_cell, score, yours = self._drawn_cells.get(code) or self._row(i, code, None, None)
            if compact:
                self.add_row(code_cell, name, score, yours, key=code)
            else:
                self.add_row(str(i + 1) if i < 9 else "", code_cell, name, score, yours, key=code)
        if self.code_order:
            self.move_cursor(row=min(max(cursor, 0), len(self.code_order) - 1), animate=False)
        self._width = width

    def show(self, code_order: list[str], competencies: dict, suggestions: list[dict], codings: dict) -> None:
        """Show the codes of ``code_order`` (``competencies``: code -> Competency) with the
        passage's ``suggestions`` (dicts with code, score and ``muted``; a suggested code is
        coloured) and the coder's ``codings`` (code -> row with ``level``; bold)."""
        scores = {s["code"]: s for s in suggestions}
        self._last = (scores, codings)
        if code_order != self.code_order:
            self.code_order, self.competencies = list(code_order), competencies
            self._drawn_cells = {}
            self._fill()
        self._apply(scores, codings)

    def _apply(self, scores: dict, codings: dict) -> None:
        for i, code in enumerate(self.code_order):
            cells = self._row(i, code, scores.get(code), codings.get(code))
            drawn = self._drawn_cells.get(code)
            if drawn is not None and all(a.plain == b.plain and a.style == b.style for a, b in zip(cells, drawn)):
                continue
            self._drawn_cells[code] = cells
            for column, value in zip(("code", "score", "yours"), cells):
                self.update_cell(code, column, value)

    def on_resize(self, event: events.Resize) -> None:
        if self.code_order and event.size.width != self._width:
            self._drawn_cells = {}
            self._fill()
            self._apply(*self._last)

    def on_line_table_row_selected(self, event: LineTable.RowSelected) -> None:
        event.stop()
        self.post_message(self.Toggle(event.row_key))

    def on_line_table_row_highlighted(self, event: LineTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(self.Highlighted(event.row_key))

