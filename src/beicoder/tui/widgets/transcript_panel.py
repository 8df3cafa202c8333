"""The left pane: a title, the transcript list, and the totals of coders without a column."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from .transcript_list import TranscriptList


class TranscriptPanel(Vertical):
    """The transcript list (``#transcripts``) with, under it (``#others-note``), the totals of
    the other coders the list had no room for. :meth:`show` takes what
    :meth:`TranscriptList.show` takes."""

    def compose(self) -> ComposeResult:
        yield Static("Transcripts", classes="title")
        yield TranscriptList(id="transcripts")
        yield Static(id="others-note")

    @property
    def list(self) -> TranscriptList:
        """The transcript list."""
        return self.query_one(TranscriptList)

    def show(self, transcripts: list[dict], others: list[str], others_done: dict[str, dict[int, int]],
             with_groups: bool) -> None:
        """Show the transcripts and progress (see :meth:`TranscriptList.show`) and the note."""
        self.list.show(transcripts, others, others_done, with_groups)
        self._show_note()

    def update_counts(self, transcript_ids: set[int], coders: set[str]) -> None:
        """Redraw the progress of ``transcript_ids`` only (see :meth:`TranscriptList.update_counts`),
        and the note when it lists one of ``coders``."""
        self.list.update_counts(transcript_ids, coders)
        if set(self.list.hidden_others) & coders:
            self._show_note()

    def on_transcript_list_columns_changed(self, event: TranscriptList.ColumnsChanged) -> None:
        event.stop()
        self._show_note()

    def _show_note(self) -> None:
        table = self.list
        note = self.query_one("#others-note", Static)
        rest = table.hidden_others
        total = sum(t["n_passages"] for t in table.transcripts)
        note.update(Text.assemble(("also decided: ", "dim"), " · ".join(
            f"{c} {sum(table.others_done.get(c, {}).values())}/{total}" for c in rest)) if rest else "")
        note.display = bool(rest)
