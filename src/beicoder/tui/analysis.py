"""The analysis screen: outstanding vs average for one coder's codings, rerun in a worker.

A table of the comparison (group means, Hedges' g, BH q, verdict) and a terminal bar chart of
the mean score per code for each group, differentiating codes marked. It reruns when shown
again after coding (``on_screen_resume``) and on ``r``; ``s`` switches the score shown in the
chart, ``c`` the coder.
"""

from __future__ import annotations

import math

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from ..core.analysis import SCORE_LABELS, SCORES, AnalysisError, Rule, compare_groups, compute_scores, study_frames
from ..core.store import Store

VERDICT_STYLE = {"differentiating": "bold green", "marginal": "yellow", "threshold": "cyan", "none": ""}


def bar_chart(comparison, score: str, width: int = 40) -> Group:
    """Horizontal bars of the outstanding (█) and average (▒) mean per code for ``score``,
    scaled to the largest mean; differentiating codes get a ★."""
    rows = comparison[comparison["score"] == score]
    top = max([v for v in list(rows["mean_outstanding"]) + list(rows["mean_average"]) if not math.isnan(v)] or [1.0]) or 1.0
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    for r in rows.to_dict("records"):
        mark = "★" if r["verdict"] == "differentiating" else " "
        for label, key, char, style in (("O", "mean_outstanding", "█", "blue"), ("A", "mean_average", "▒", "dark_orange")):
            value = r[key]
            n = 0 if math.isnan(value) else round(width * value / top)
            table.add_row(Text(f"{mark} {r['code']:<5}{label}" if label == "O" else f"  {'':<5}{label}",
                               style=VERDICT_STYLE.get(r["verdict"], "") if label == "O" else ""),
                          Text(char * n, style=style), Text("–" if math.isnan(value) else f"{value:.2f}"))
    title = Text(f"{SCORE_LABELS[score].capitalize()} per code, group means (s: next score): "
                 "█ outstanding  ▒ average  ★ differentiating", style="bold")
    return Group(title, table)


class AnalysisScreen(Screen):
    """Outstanding vs average for a coder; ``escape`` returns to coding."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back to coding"),
        Binding("r", "rerun", "Rerun"),
        Binding("s", "next_score", "Score shown"),
        Binding("c", "next_coder", "Coder"),
    ]

    def __init__(self, db_path: str, coder: str, rule: Rule = Rule()):
        super().__init__()
        self.db_path = db_path
        self.coder = coder
        self.rule = rule
        self.score = "mean_level"
        self.comparison = None
        self.state = "computing…"

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static(id="analysis-status")
            yield Static(id="chart")
            yield DataTable(id="comparison", zebra_stripes=True, cursor_type="row")
            yield Static(id="rule")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#comparison", DataTable)
        for col in ("code", "score", "outstanding M (SD)", "average M (SD)", "Hedges g", "p", "q (BH)", "verdict"):
            table.add_column(col, key=col)
        self.run_analysis()

    def on_screen_resume(self) -> None:
        self.run_analysis()

    def action_rerun(self) -> None:
        self.run_analysis()

    def action_next_score(self) -> None:
        self.score = SCORES[(SCORES.index(self.score) + 1) % len(SCORES)]
        self._draw()

    def action_next_coder(self) -> None:
        store = Store(self.db_path, create=False)
        try:
            coders = store.coders()
        finally:
            store.close()
        others = [c for c in coders if c != self.coder]
        if not others:
            self.notify(f"{self.coder} is the only coder with decisions", timeout=4)
            return
        self.coder = coders[(coders.index(self.coder) + 1) % len(coders)] if self.coder in coders else coders[0]
        self.notify(f"analysis of {self.coder}'s codings", timeout=3)
        self.run_analysis()

    @work(thread=True, exclusive=True, group="analysis")
    def run_analysis(self) -> None:
        """Compute the comparison in a thread with its own connection."""
        self.app.call_from_thread(self._show_state, f"computing for {self.coder}…")
        store = Store(self.db_path, create=False)
        try:
            codings, interviewees, codes = study_frames(store, self.coder)
            comparison = compare_groups(compute_scores(codings, interviewees, codes), codes, self.rule)
            decided, total = int(interviewees["decided"].sum()), int(interviewees["passages"].sum())
            state = f"coder {self.coder}: {len(interviewees)} interviewees, {decided} of {total} passages decided"
            self.app.call_from_thread(self._show, comparison, state)
        except AnalysisError as exc:
            self.app.call_from_thread(self._show, None, f"coder {self.coder}: {exc} (c: another coder)")
        finally:
            store.close()

    def _show_state(self, state: str) -> None:
        self.query_one("#analysis-status", Static).update(Text(state, style="bold"))

    def _show(self, comparison, state: str) -> None:
        self.comparison = comparison
        self.state = state
        self._draw()

    def _draw(self) -> None:
        self._show_state(self.state)
        table = self.query_one("#comparison", DataTable)
        table.clear()
        chart = self.query_one("#chart", Static)
        if self.comparison is None:
            chart.update("")
            return
        fmt = lambda v, nd=2: "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{nd}f}"  # noqa: E731
        pfmt = lambda v: "–" if v is None or math.isnan(v) else ("<.001" if v < 0.001 else f"{v:.3f}")  # noqa: E731
        for r in self.comparison.to_dict("records"):
            style = VERDICT_STYLE.get(r["verdict"], "")
            table.add_row(Text(r["code"], style=style), SCORE_LABELS[r["score"]],
                          f"{fmt(r['mean_outstanding'])} ({fmt(r['sd_outstanding'])})",
                          f"{fmt(r['mean_average'])} ({fmt(r['sd_average'])})", fmt(r["hedges_g"]),
                          pfmt(r["welch_p"]), pfmt(r["q_bh"]), Text(r["verdict"], style=style))
        chart.update(bar_chart(self.comparison, self.score))
        self.query_one("#rule", Static).update(Text(f"Rule: {self.rule.describe()}", style="dim"))
