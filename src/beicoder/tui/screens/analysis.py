"""The analysis screen: outstanding vs average for one coder's codings, rerun in a worker.

A table of the comparison on the primary score (group means, Hedges' g with its CI, the
verdict test's p, BH q over the codes, verdict) and a terminal bar chart of the mean score
per code for each group, differentiating codes marked. It reruns when shown
again after coding (``on_screen_resume``) and on ``r``; ``s`` switches the score shown in the
chart, ``c`` the coder. The worker posts AnalysisReady or AnalysisFailed.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static
from textual.worker import get_current_worker

from ...core.analysis import SCORES, AnalysisError, Rule, compare_groups, compute_scores, study_frames
from ...core.store import Store
from ..commands import PaletteBinding
from ..messages import AnalysisFailed, AnalysisReady
from ..widgets.bar_chart import bar_chart
from ..widgets.comparison_grid import ComparisonGrid


class AnalysisScreen(Screen):
    """Outstanding vs average for ``coder``'s codings in the study ``db_path``, by ``rule``;
    ``escape`` returns to coding."""

    BINDINGS = [
        PaletteBinding("escape", "app.pop_screen", "Back to coding", tooltip="Leave the analysis screen"),
        PaletteBinding("r", "rerun", "Rerun", title="Rerun the analysis", tooltip="Compute the comparison again"),
        PaletteBinding("s", "next_score", "Score shown", title="Next score in the chart",
                       tooltip="Chart the next score: frequency, rate, level score, mean levels, max level, presence"),
        PaletteBinding("c", "next_coder", "Coder", title="Analyse the next coder",
                       tooltip="The comparison for the next coder with decisions"),
    ]

    def __init__(self, db_path: str, coder: str, rule: Rule | None = None):
        super().__init__()
        self.db_path = db_path
        self.coder = coder
        self.rule = rule or Rule()
        self.score = self.rule.primary
        self.names: dict = {}
        self.comparison = None
        self.state = "computing…"

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static(id="analysis-status")
            yield Static(id="chart")
            yield ComparisonGrid(id="comparison")
            yield Static(id="rule")
        yield Footer()

    def on_mount(self) -> None:
        with Store(self.db_path, create=False) as store:
            from ...core.language import code_names

            self.names = code_names(store)
        self.run_analysis()

    def on_screen_resume(self) -> None:
        self.run_analysis()

    def action_rerun(self) -> None:
        """r: compute the comparison again."""
        self.run_analysis()

    def action_next_score(self) -> None:
        """s: chart the next score."""
        self.score = SCORES[(SCORES.index(self.score) + 1) % len(SCORES)]
        self._draw()

    def action_next_coder(self) -> None:
        """c: the comparison for the next coder with decisions."""
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

    def run_analysis(self) -> None:
        """Say that the comparison is being computed and compute it in a worker."""
        self._show_state(f"computing for {self.coder}…")
        self._analyse(self.coder)

    @work(thread=True, exclusive=True, group="analysis")
    def _analyse(self, coder: str) -> None:
        """Compute the comparison for ``coder`` in a thread with its own connection; post
        AnalysisReady or AnalysisFailed (nothing when superseded by a newer run)."""
        worker = get_current_worker()
        store = Store(self.db_path, create=False)
        try:
            codings, interviewees, codes = study_frames(store, coder)
            comparison = compare_groups(compute_scores(codings, interviewees, codes), codes, self.rule)
            message = AnalysisReady(coder, comparison, len(interviewees), int(interviewees["decided"].sum()),
                                    int(interviewees["passages"].sum()))
        except AnalysisError as exc:
            message = AnalysisFailed(coder, str(exc))
        finally:
            store.close()
        if not worker.is_cancelled:
            self.post_message(message)

    def on_analysis_ready(self, message: AnalysisReady) -> None:
        """Draw the comparison, unless it is for a coder no longer shown."""
        if message.coder != self.coder:
            return  # a run for the coder shown before
        self.comparison = message.comparison
        self.state = (f"coder {message.coder}: {message.interviewees} interviewees, {message.decided} of "
                      f"{message.passages} passages decided")
        self._draw()

    def on_analysis_failed(self, message: AnalysisFailed) -> None:
        """Say why there is no comparison, unless for a coder no longer shown."""
        if message.coder != self.coder:
            return
        self.comparison = None
        self.state = f"coder {message.coder}: {message.error} (c: another coder)"
        self._draw()

    def _show_state(self, state: str) -> None:
        self.query_one("#analysis-status", Static).update(Text(state, style="bold"))

    def _draw(self) -> None:
        self._show_state(self.state)
        self.query_one(ComparisonGrid).show(self.comparison, self.names)
        chart = self.query_one("#chart", Static)
        if self.comparison is None:
            chart.update("")
            return
        chart.update(bar_chart(self.comparison, self.score))
        self.query_one("#rule", Static).update(Text(f"Rule: {self.rule.describe()}", style="dim"))
