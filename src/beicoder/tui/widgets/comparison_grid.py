"""The analysis screen's table: the primary score's row per code, with the verdict."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from ...core.fmt import num, p_value, stars
from .bar_chart import VERDICT_STYLE

COLUMNS = ("code", "competency", "outstanding M (SD)", "average M (SD)", "g [95% CI]", "p", "q", "verdict")


class ComparisonGrid(DataTable):
    """Per code, on the primary score: group means (SD), Hedges' g with its noncentral-t CI,
    the verdict test's p, Benjamini-Hochberg q over the codes, and the verdict (its colour on
    the code and the verdict)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(zebra_stripes=True, cursor_type="row", **kwargs)

    def on_mount(self) -> None:
        for col in COLUMNS:
            self.add_column(col, key=col)

    def show(self, comparison, names: dict | None = None) -> None:
        """Show the primary rows of ``comparison`` (the DataFrame of
        :func:`beicoder.core.analysis.compare_groups`; ``names``: code -> competency name);
        None empties the table."""
        self.clear()
        if comparison is None:
            return
        names = names or {}
        rows = comparison[comparison["role"] == "primary"] if "role" in comparison else comparison
        for r in rows.to_dict("records"):
            style = VERDICT_STYLE.get(r["verdict"], "")
            self.add_row(Text(r["code"], style=style), names.get(r["code"], ""),
                         f"{num(r['mean_outstanding'])} ({num(r['sd_outstanding'])})",
                         f"{num(r['mean_average'])} ({num(r['sd_average'])})",
                         f"{num(r['hedges_g'])} [{num(r['hedges_g_low'])}, {num(r['hedges_g_high'])}]",
                         p_value(r["p"]), p_value(r["q"]) + stars(r["q"]), Text(r["verdict"], style=style))
