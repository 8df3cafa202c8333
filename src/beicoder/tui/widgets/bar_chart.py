"""The analysis screen's terminal bar chart of the group means per code."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ...core.analysis import SCORE_LABELS
from ...core.fmt import missing, num

VERDICT_STYLE = {"differentiating": "bold green", "marginal": "yellow", "threshold": "cyan", "reversed": "magenta",
                 "none": ""}


def bar_chart(comparison, score: str, width: int = 40) -> Group:
    """Horizontal bars of the outstanding (█) and average (▒) mean per code for ``score``,
    scaled to the largest mean; differentiating codes get a ★. ``comparison``: the DataFrame
    of :func:`beicoder.core.analysis.compare_groups`. Returns a Rich renderable."""
    rows = comparison[comparison["score"] == score]
    means = [v for v in list(rows["mean_outstanding"]) + list(rows["mean_average"]) if not missing(v)]
    top = max(means or [1.0]) or 1.0
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    bars = (("O", "mean_outstanding", "█", "blue"), ("A", "mean_average", "▒", "dark_orange"))
    for r in rows.to_dict("records"):
        mark = "★" if r["verdict"] == "differentiating" else " "
        for label, key, char, style in bars:
            value = r[key]
            n = 0 if missing(value) else round(width * value / top)
            table.add_row(Text(f"{mark} {r['code']:<5}{label}" if label == "O" else f"  {'':<5}{label}",
                               style=VERDICT_STYLE.get(r["verdict"], "") if label == "O" else ""),
                          Text(char * n, style=style), Text(num(value)))
    title = Text(f"{SCORE_LABELS[score][0].upper() + SCORE_LABELS[score][1:]} per code, group means (s: next score): "
                 "█ outstanding  ▒ average  ★ differentiating (primary score)", style="bold")
    return Group(title, table)
