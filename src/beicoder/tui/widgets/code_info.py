"""What a code means: its names, definition and level indicators, for the code highlighted in
the Codes pane or the code picker."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from ..linebreak import WrappedText


def code_info(comp, level: int | None = None, english: bool = False) -> Group:
    """A Rich renderable for the competency ``comp``: ``CODE 中文名 / English name``, the
    definition (Chinese, else English; English first with ``english``, for an English study)
    and one row per level with its behavioural indicator; ``level`` (the passage's level for
    the code, if any) is marked."""
    names = " / ".join(n for n in ((comp.name_en, comp.name_zh) if english else (comp.name_zh, comp.name_en)) if n)
    parts = [Text.assemble((comp.code, "bold"), " ", (names, "bold"))]
    definition = (comp.definition_en or comp.definition_zh) if english else (comp.definition_zh or comp.definition_en)
    if definition:
        parts.append(WrappedText(Text(definition, style="dim")))
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(ratio=1)
    for lv in comp.levels:
        mark = "▶" if level == lv.level else " "
        indicator = (lv.indicator_en or lv.indicator_zh) if english else (lv.indicator_zh or lv.indicator_en)
        grid.add_row(Text(f"{mark}L{lv.level}", style="bold" if level == lv.level else ""), WrappedText(indicator))
    parts.append(grid)
    return Group(*parts)


class CodeInfo(Static):
    """The definition and level indicators of one code (see :func:`code_info`); redrawn only
    when the code or its level changes."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._drawn: tuple | None = None
        self.english = False  # the English definition and indicators first (an English study)

    def show(self, comp, level: int | None = None) -> None:
        """Show ``comp`` (a Competency, or None for nothing) with ``level`` marked."""
        key = (comp.code, level) if comp is not None else None
        if key == self._drawn:
            return
        self._drawn = key
        self.update(code_info(comp, level, self.english) if comp is not None else "")
