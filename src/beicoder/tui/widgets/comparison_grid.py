"""The analysis screen's table: one row per code and score, with the verdict."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from ...core.analysis import SCORE_LABELS
from ...core.fmt import num, p_value
from .bar_chart import VERDICT_STYLE

COLUMNS = ("code", "score", "outstanding M (SD)", "average M (SD)", "Hedges g", "p", "q (BH)", "verdict")


class ComparisonGrid(DataTable):
    """Group means (SD), Hedges' g, Welch p, BH q and the verdict per code and score; the
    verdict's colour on the code and the verdict."""

    def __init__(self, **kwargs) -> None:
        super().__init__(zebra_stripes=True, cursor_type="row", **kwargs)

    def on_mount(self) -> None:
        for col in COLUMNS:
            self.add_column(col, key=col)

    def show(self, comparison) -> None:
        """Show ``comparison`` (the DataFrame of :func:`beicoder.core.analysis.compare_groups`);
        None empties the table."""
        self.clear()
        if comparison is None:
            return
        for r in comparison.to_dict("records"):
            style = VERDICT_STYLE.get(r["verdict"], "")
            self.add_row(Text(r["code"], style=style), SCORE_LABELS[r["score"]],
                         f"{num(r['mean_outstanding'])} ({num(r['sd_outstanding'])})",
                         f"{num(r['mean_average'])} ({num(r['sd_average'])})", num(r["hedges_g"]),
                         p_value(r["welch_p"]), p_value(r["q_bh"]), Text(r["verdict"], style=style))
