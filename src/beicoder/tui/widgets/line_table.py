"""A table drawn line by line (Textual's Line API), for lists updated on every keystroke.

Textual's ``DataTable`` draws all its visible rows again whenever one cell changes (its row
cache is keyed by a counter that every ``update_cell`` bumps), and each cell goes through
Rich's renderer: about a millisecond a row here, so a coding decision that changes one
progress cell cost tens of milliseconds of painting. :class:`LineTable` keeps one rendered
line per row and redraws only the rows whose cells changed; the header stays on the first
line while the rows scroll under it.

Its API is the part of ``DataTable``'s the TUI uses: ``add_column``, ``add_row``,
``clear``, ``get_cell``, ``update_cell``, ``get_row``, ``get_row_at``, ``get_row_index``, ``row_count``,
``cursor_row``, ``move_cursor``, ``cell_padding``; it posts :class:`LineTable.RowHighlighted`
when the cursor moves and :class:`LineTable.RowSelected` on Enter or a click on the
highlighted row.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip


@dataclass
class Column:
    """A column: its ``key``, header ``label``, ``width`` in cells (None: as wide as its
    widest cell) and ``justify`` (``left`` or ``right``)."""

    key: str
    label: str
    width: int | None = None
    justify: str = "left"


class LineTable(ScrollView, can_focus=True):
    """Rows of cells (str or Rich Text) under a header line, one row per key; see the
    module docstring. ``zebra_stripes`` shades every other row; ``cursor_type`` ``"row"``
    shows the highlighted row (``"none"``: no cursor)."""

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", show=False),
        Binding("pagedown", "page(1)", show=False),
        Binding("home", "edge(0)", show=False),
        Binding("end", "edge(1)", show=False),
        Binding("enter", "select_cursor", "Select", show=False),
    ]

    COMPONENT_CLASSES = {"line-table--header", "line-table--cursor", "line-table--cursor-blurred",
                         "line-table--even"}

    DEFAULT_CSS = """
    LineTable {
        height: auto;
        max-height: 100%;
        background: $surface;
    }
    LineTable > .line-table--header {
        text-style: bold;
        background: $panel;
        color: $foreground;
    }
    LineTable > .line-table--cursor {
        color: $block-cursor-foreground;
        background: $block-cursor-background;
        text-style: $block-cursor-text-style;
    }
    LineTable > .line-table--cursor-blurred {
        background: $block-cursor-blurred-background;
    }
    LineTable > .line-table--even {
        background: $surface-lighten-1 20%;
    }
    """

    class _RowMessage(Message):
        """A message about the row ``row_key`` (its ``row_index``) of ``table``."""

        def __init__(self, table: LineTable, row_key: str, row_index: int) -> None:
            super().__init__()
            self.table = table
            self.row_key = row_key
            self.row_index = row_index

        @property
        def control(self) -> LineTable:
            return self.table

    class RowHighlighted(_RowMessage):
        """The cursor moved to the row ``row_key`` (its ``row_index``)."""

    class RowSelected(_RowMessage):
        """Enter, or a click on the highlighted row: the row ``row_key``."""

    def __init__(self, *, cursor_type: str = "row", zebra_stripes: bool = False, cell_padding: int = 1,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.cursor_type = cursor_type
        self.zebra_stripes = zebra_stripes
        self.cell_padding = cell_padding
        self.columns: list[Column] = []
        self._row_keys: list[str] = []
        self._row_index: dict[str, int] = {}
        self._row_cells: dict[str, dict[str, Text]] = {}
        self._row_lines: dict[str, Strip] = {}  # rendered rows (without cursor or stripes)
        self._col_widths: list[int] = []
        self.cursor_row = 0

    # -- contents ---------------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        """The number of rows."""
        return len(self._row_keys)

    @property
    def row_keys(self) -> list[str]:
        """The rows' keys, in order."""
        return list(self._row_keys)

    def clear(self, columns: bool = False) -> None:
        """Remove every row (and, with ``columns``, every column)."""
        self._row_keys, self._row_index, self._row_cells, self._row_lines = [], {}, {}, {}
        if columns:
            self.columns = []
        self._layout()

    def add_column(self, label: str, *, key: str | None = None, width: int | None = None,
                   justify: str = "left") -> str:
        """Add a column; returns its key (``label`` when no key is given)."""
        self.columns.append(Column(key or label, label, width, justify))
        self._row_lines = {}
        self._layout()
        return key or label

    def add_row(self, *cells, key: str | None = None) -> str:
        """Add a row of ``cells`` (one per column, str or Text); returns its key."""
        key = key if key is not None else str(len(self._row_keys))
        self._row_index[key] = len(self._row_keys)
        self._row_keys.append(key)
        self._row_cells[key] = {c.key: cell if isinstance(cell, Text) else Text(str(cell))
                            for c, cell in zip(self.columns, cells)}
        self._layout()
        return key

    def add_rows(self, rows) -> None:
        """Add rows given as ``(key, cells)`` pairs."""
        for key, cells in rows:
            self.add_row(*cells, key=key)

    def get_cell(self, row_key: str, column_key: str) -> str:
        """The plain text of a cell."""
        return self._row_cells[row_key][column_key].plain

    def get_row_at(self, row_index: int) -> list[str]:
        """The plain texts of row ``row_index``'s cells, in column order."""
        cells = self._row_cells[self._row_keys[row_index]]
        return [cells[c.key].plain for c in self.columns]

    def get_row(self, row_key: str) -> list[str]:
        """The plain texts of the row ``row_key``'s cells, in column order."""
        return self.get_row_at(self._row_index[row_key])

    def get_row_index(self, row_key: str) -> int:
        """The index of the row ``row_key``."""
        return self._row_index[row_key]

    def update_cell(self, row_key: str, column_key: str, value, **_ignored) -> None:
        """Change one cell and redraw that row only (all rows when the column must widen)."""
        text = value if isinstance(value, Text) else Text(str(value))
        row = self._row_cells[row_key]
        old = row.get(column_key)
        if old is not None and old.plain == text.plain and old.style == text.style and old.spans == text.spans:
            return
        row[column_key] = text
        self._row_lines.pop(row_key, None)
        i = next(k for k, c in enumerate(self.columns) if c.key == column_key)
        if self.columns[i].width is None and cell_len(text.plain) > self._col_widths[i]:
            self._row_lines = {}
            self._layout()
            return
        self._refresh_row(self._row_index[row_key])

    # -- the cursor -------------------------------------------------------------------------------
    def move_cursor(self, row: int | None = None, animate: bool = False, **_ignored) -> None:
        """Put the cursor on row ``row`` (clamped), scrolling it into view."""
        if row is None or not self._row_keys:
            return
        row = max(0, min(row, len(self._row_keys) - 1))
        before = self.cursor_row
        self.cursor_row = row
        self._refresh_row(before)
        self._refresh_row(row)
        self._scroll_to_row(row)
        if before != row or not getattr(self, "_announced", False):
            self._announced = True
            self.post_message(self.RowHighlighted(self, self._row_keys[row], row))

    def _scroll_to_row(self, row: int) -> None:
        rows_shown = max(self.size.height - 1, 1)
        top = int(self.scroll_y)
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif row >= top + rows_shown:
            self.scroll_to(y=row - rows_shown + 1, animate=False)

    def action_cursor(self, step: int) -> None:
        if self._row_keys:
            self.move_cursor(self.cursor_row + step)

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(self.size.height - 2, 1))

    def action_edge(self, end: int) -> None:
        if self._row_keys:
            self.move_cursor(len(self._row_keys) - 1 if end else 0)

    def action_select_cursor(self) -> None:
        if self._row_keys:
            self.post_message(self.RowSelected(self, self._row_keys[self.cursor_row], self.cursor_row))

    def on_click(self, event: events.Click) -> None:
        """A click highlights a row; a click on the highlighted row selects it."""
        y = event.get_content_offset(self)
        if y is None or y.y < 1:
            return
        row = int(self.scroll_y) + y.y - 1
        if 0 <= row < len(self._row_keys):
            if row == self.cursor_row:
                self.action_select_cursor()
            else:
                self.move_cursor(row)

    def on_focus(self) -> None:
        self._refresh_row(self.cursor_row)

    def on_blur(self) -> None:
        self._refresh_row(self.cursor_row)

    # -- drawing ------------------------------------------------------------------------------------
    def _layout(self) -> None:
        widths = []
        for c in self.columns:
            if c.width is not None:
                widths.append(c.width)
            else:
                widths.append(max([cell_len(c.label)] + [cell_len(self._row_cells[k][c.key].plain)
                                                          for k in self._row_keys if c.key in self._row_cells[k]]))
        self._col_widths = widths
        total = sum(w + 2 * self.cell_padding for w in widths)
        self.virtual_size = Size(total, len(self._row_keys) + 1)
        self.refresh()

    def _refresh_row(self, row: int) -> None:
        top = int(self.scroll_y)
        y = row - top + 1
        if 1 <= y < self.size.height:
            self.refresh_line(y + top)

    def refresh_line(self, y: int) -> None:
        """Redraw line ``y`` of the virtual table (0 is the header)."""
        from textual.geometry import Region

        self.refresh(Region(0, y - int(self.scroll_y), max(self.virtual_size.width, self.size.width), 1))

    def _render_cells(self, cells: list[Text], base: Style) -> Strip:
        console = self.app.console
        pad = [Segment(" " * self.cell_padding, base)] if self.cell_padding else []
        segments: list[Segment] = []
        for text, width, column in zip(cells, self._col_widths, self.columns):
            if cell_len(text.plain) > width:
                text = text.copy()
                text.truncate(width, overflow="ellipsis")
            gap = width - cell_len(text.plain)
            own = base + console.get_style(text.style) if text.style else base  # Text.render leaves it out
            parts = [Segment(s.text, own + s.style if s.style else own)
                     for s in text.render(console) if s.text and s.text != "\n"]
            if column.justify == "right":
                parts = [Segment(" " * gap, base)] + parts
            else:
                parts = parts + [Segment(" " * gap, base)]
            segments += pad + parts + pad
        return Strip(segments).simplify()

    def _row_strip(self, key: str) -> Strip:
        strip = self._row_lines.get(key)
        if strip is None:
            cells = self._row_cells[key]
            strip = self._render_cells([cells.get(c.key, Text("")) for c in self.columns], Style())
            self._row_lines[key] = strip
        return strip

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        scroll_x = int(self.scroll_x)
        if y == 0:
            header = self.get_component_rich_style("line-table--header")
            strip = self._render_cells([Text(c.label) for c in self.columns], Style())
            return strip.crop_extend(scroll_x, scroll_x + width, None).apply_style(base + header)
        row = int(self.scroll_y) + y - 1
        if not 0 <= row < len(self._row_keys):
            return Strip.blank(width, base)
        strip = self._row_strip(self._row_keys[row]).crop_extend(scroll_x, scroll_x + width, None)
        style = base
        if self.zebra_stripes and row % 2:
            style = style + self.get_component_rich_style("line-table--even")
        if self.cursor_type == "row" and row == self.cursor_row:
            name = "line-table--cursor" if self.has_focus else "line-table--cursor-blurred"
            cursor = self.get_component_rich_style(name)
            return Strip([Segment(s.text, style + (s.style or Style()) + cursor, s.control)
                          for s in strip], strip.cell_length)
        return Strip([Segment(s.text, style + s.style if s.style else style, s.control)
                      for s in strip], strip.cell_length)

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        """Textual's ScrollView takes every layout of the screen for a resize (the container
        size it is given never equals the one it keeps) and redraws its scroll bars, which
        made every keystroke repaint the whole left pane; here only a real change counts."""
        sizes = (size, self.virtual_size, container_size)
        if sizes == getattr(self, "_sizes_seen", None):
            return False
        self._sizes_seen = sizes
        return super()._size_updated(size, virtual_size, container_size, layout)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self.refresh()
