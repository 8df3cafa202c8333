"""The consensus screen's table: each code, how each coder coded it, and the consensus."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table


def level_cell(coding: dict, code: str) -> str:
    """``✓ L3`` when ``coding`` (code -> level) has ``code`` (``✓ L?``: no level), else ``·``."""
    if code not in coding:
        return "·"
    return "✓ L?" if coding[code] is None else f"✓ L{coding[code]}"


class ComparisonTable:
    """A Rich renderable: code | coder A | coder B ... | consensus, drawn at the width it gets
    (compact under 70 cells). ``headers``: one per coder, then the consensus; ``rows``: (key,
    code, name, [cells], row style)."""

    def __init__(self, headers: list[str], rows: list[tuple]):
        self.headers = headers
        self.rows = rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        compact = options.max_width < 70
        table = Table(box=None, pad_edge=False, padding=(0, 1), header_style="bold", expand=False)
        table.add_column("#" if compact else "key", width=1 if compact else 3)
        table.add_column("code", no_wrap=True)
        table.add_column("competency", no_wrap=True, overflow="ellipsis", max_width=10 if compact else 24)
        for h in self.headers:
            table.add_column(h, no_wrap=True, justify="center")
        for key, code, name, cells, style in self.rows:
            table.add_row(key, code, name, *cells, style=style)
        yield table
