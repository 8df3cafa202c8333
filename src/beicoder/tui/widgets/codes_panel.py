"""The Codes pane: every dictionary code with its key, the suggestion's score and yours."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from ..text import CODE_STYLES


class CodesTable:
    """A Rich renderable: the codes as a table drawn at the width it gets, with short
    headers and no wrapped names when it is narrow (under 44 cells). ``rows``: (key, code
    Text, name, suggested score, yours, row style)."""

    def __init__(self, rows: list[tuple]):
        self.rows = rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        compact = options.max_width < 44
        table = Table(expand=True, box=None, pad_edge=False, title="Codes", title_justify="left",
                      collapse_padding=compact, padding=(0, 1))
        table.add_column("#" if compact else "key", width=1 if compact else 3)
        table.add_column("code", no_wrap=compact)
        table.add_column("name" if compact else "competency", ratio=1, no_wrap=compact, overflow="ellipsis")
        table.add_column("sug." if compact else "suggested", justify="right", no_wrap=True)
        table.add_column("you" if compact else "yours", justify="right", no_wrap=True)
        for key, code, name, suggested, yours, style in self.rows:
            table.add_row(key, code, name, suggested, yours, style=style)
        yield table


class CodesPanel(Static):
    """The Codes pane; :meth:`show` redraws it only when what it shows changed (drawing the
    table is not free, and it happens on every key)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._drawn: list | None = None

    def show(self, code_order: list[str], competencies: dict, suggestions: list[dict], codings: dict) -> None:
        """Draw the codes of ``code_order`` (``competencies``: code -> Competency) with the
        passage's ``suggestions`` (dicts with code and score; a suggested code is coloured)
        and the coder's ``codings`` (code -> row with ``level``; bold)."""
        scores = {s["code"]: s for s in suggestions}
        rows = []
        for i, code in enumerate(code_order, start=1):
            comp = competencies[code]
            s = scores.get(code)
            c = codings.get(code)
            style = CODE_STYLES[(i - 1) % len(CODE_STYLES)] if s else ""
            yours = "" if c is None else ("✓ L?" if c["level"] is None else f"✓ L{c['level']}")
            rows.append((str(i) if i <= 9 else "", Text(code, style=style), comp.name_zh or comp.name_en,
                         f"{s['score']:.2f}" if s else "", yours, "bold" if c else None))
        drawn = [(k, code.plain, str(code.style), *rest) for k, code, *rest in rows]  # (Text == ignores style)
        if drawn != self._drawn:
            self._drawn = drawn
            self.update(CodesTable(rows))
