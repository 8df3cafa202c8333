"""The discovery screen's table of distinctive terms: the top terms of each group."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from ...core.fmt import num, p_value, stars

COLUMNS = ("favours", "term", "z", "p", "q", "interviewees O/A", "count O/A")
GROUP_STYLE = {"outstanding": "bold green", "average": "magenta"}


class TermTable(DataTable):
    """One row per top term of each group (keyed by its folded form): the group it favours,
    the term as written, z, permutation p, BH q, the interviewees of each group using it and
    its count per group. Enter (or a click) on a row posts :class:`TermTable.Chosen`."""

    class Chosen(Message):
        """The researcher chose the term whose folded form is ``key``."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, **kwargs) -> None:
        super().__init__(zebra_stripes=True, cursor_type="row", **kwargs)

    def on_mount(self) -> None:
        for col in COLUMNS:
            self.add_column(col, key=col)

    def show(self, result, top: int = 15) -> None:
        """Show the ``top`` terms of each group of ``result`` (a
        :class:`~beicoder.core.discover.Discovery`); None empties the table."""
        self.clear()
        if result is None:
            return
        for group in ("outstanding", "average"):
            for t in result.top_terms(group, top):
                self.add_row(Text(group, style=GROUP_STYLE[group]), t.term, num(t.z), p_value(t.p),
                             p_value(t.q) + stars(t.q), f"{t.interviewees_outstanding}/{t.interviewees_average}",
                             f"{t.count_outstanding}/{t.count_average}", key=t.key)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter or a click on a row: say which term was chosen."""
        event.stop()
        self.post_message(self.Chosen(str(event.row_key.value)))
