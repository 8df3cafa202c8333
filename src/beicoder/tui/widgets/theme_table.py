"""The discovery screen's table of candidate themes in what no code covers."""

from __future__ import annotations

from textual.message import Message
from textual.widgets import DataTable

from ...core.fmt import p_value, stars

COLUMNS = ("theme", "top terms", "passages", "speak of it O/A", "p (q)", "passage share O/A", "p (q) ")


class ThemeTable(DataTable):
    """One row per candidate theme (keyed by its number): its top terms, passages, the
    interviewees of each group who speak of it and the mean share of their uncoded passages
    in it, each with the permutation p and BH q. Enter (or a click) on a row posts
    :class:`ThemeTable.Chosen`."""

    class Chosen(Message):
        """The researcher chose theme ``number``."""

        def __init__(self, number: int) -> None:
            super().__init__()
            self.number = number

    def __init__(self, **kwargs) -> None:
        super().__init__(zebra_stripes=True, cursor_type="row", **kwargs)

    def on_mount(self) -> None:
        for col in COLUMNS:
            self.add_column(col, key=col)

    def show(self, result) -> None:
        """Show the themes of ``result`` (a :class:`~beicoder.core.discover.Discovery`); None
        empties the table."""
        self.clear()
        if result is None:
            return
        for t in result.themes:
            self.add_row(str(t.number), " ".join(t.top_terms[:6]), str(len(t.passages)),
                         f"{t.speakers_outstanding}/{result.n_outstanding} {t.speakers_average}/{result.n_average}",
                         f"{p_value(t.p)} ({p_value(t.q)}{stars(t.q)})",
                         f"{t.passage_share_outstanding:.0%} {t.passage_share_average:.0%}",
                         f"{p_value(t.p_share)} ({p_value(t.q_share)}{stars(t.q_share)})", key=str(t.number))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter or a click on a row: say which theme was chosen."""
        event.stop()
        self.post_message(self.Chosen(int(event.row_key.value)))
