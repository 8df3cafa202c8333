"""The consensus screen's pane: progress, the passage, the coders' table, the decision."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

# The parts of the pane, top to bottom.
PARTS = ("c-progress", "c-where", "c-question", "c-passage", "c-table", "c-decision", "c-memos")


class ConsensusPane(VerticalScroll, can_focus=True):
    """The disagreement being reconciled, one Static per part (ids in ``PARTS``); the
    arrows move between disagreements. :meth:`show` fills the parts."""

    BINDINGS = [Binding("up", "screen.prev", show=False), Binding("down", "screen.next", show=False)]

    def compose(self) -> ComposeResult:
        for part in PARTS:
            yield Static(id=part, classes="title" if part == "c-progress" else "")

    def show(self, **parts) -> None:
        """Update the parts named (``c_where=...``: the ``#c-where`` part); a part not named is
        emptied. Each value is anything a Static shows (str, Rich renderable)."""
        for part in PARTS:
            self.query_one(f"#{part}", Static).update(parts.get(part.replace("-", "_"), ""))
