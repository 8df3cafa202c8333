"""The transcript list: interviewee, the coder's progress, other coders' progress, group."""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.message import Message

from ..text import cut_end, shorten_middle
from .line_table import LineTable

OTHER_NAME_CELLS = 7  # an other coder's column header is cut to this many cells


class TranscriptList(LineTable):
    """One row per transcript (keyed by its id): the interviewee, the coder's progress
    ("done", or "you" when other coders have decisions), one column per other coder with the
    passages that coder has decided (as many as fit), then the interviewee's group.

    It fits itself to its width whenever that changes (see :meth:`fit`). Enter or a click on
    a row posts :class:`TranscriptList.Opened`; when the coders given a column change it
    posts :class:`TranscriptList.ColumnsChanged`, so the panel can list the others' totals.
    """

    class Opened(Message):
        """The coder chose the transcript ``transcript_id``."""

        def __init__(self, transcript_id: int) -> None:
            super().__init__()
            self.transcript_id = transcript_id

    class ColumnsChanged(Message):
        """Other coders got or lost a column (see :attr:`TranscriptList.hidden_others`)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.transcripts: list[dict] = []
        self.others: list[str] = []  # other coders with decisions, in column order
        self.others_done: dict[str, dict[int, int]] = {}  # other coder -> transcript id -> decided
        self.with_groups = False
        self.other_columns: list[str] = []  # the others that have a column
        self._widths: tuple[int, int] | None = None  # (name, group) cells, None: uncut
        self._filled = False
        self._index_of: dict[int, dict] | None = None  # transcript id -> its dict in self.transcripts

    @property
    def hidden_others(self) -> list[str]:
        """The other coders with decisions but no column (no room)."""
        return [c for c in self.others if c not in self.other_columns]

    def show(self, transcripts: list[dict], others: list[str], others_done: dict[str, dict[int, int]],
             with_groups: bool) -> None:
        """Show ``transcripts`` (dicts of ``Store.transcripts``: id, interviewee, grp,
        n_decided, n_passages), the ``others`` coders' decided passages per transcript id
        (``others_done``) and, with ``with_groups``, a group column. When only the numbers
        changed, only the rows whose cells changed are redrawn."""
        before = list(self.others)
        same_rows = self._filled and [t["id"] for t in transcripts] == [t["id"] for t in self.transcripts]
        self.transcripts, self.others, self.others_done = transcripts, others, others_done
        self._index_of = None
        if not self._filled:
            self.with_groups = with_groups
            self.other_columns = list(others)  # until the list knows its width
            self._fill()
            self.fit()
            return
        if others != before or not same_rows or with_groups != self.with_groups:
            self.with_groups = with_groups
            self.other_columns = [c for c in self.other_columns if c in others]
            self._fill(self._widths)  # a coder appeared: fitted again
            self.fit()
            return
        for t in transcripts:
            self._update_row(t, self.other_columns)

    def update_counts(self, transcript_ids: set[int], coders: set[str] | None = None) -> None:
        """Redraw the progress cells of ``transcript_ids`` only (the coder's own and, in
        ``coders``, the other coders'), from the dicts given to :meth:`show` (which the screen
        keeps up to date): a decision costs one or two cells, whatever the study's size."""
        by_id = self._by_id()
        others = [c for c in self.other_columns if coders is None or c in coders]
        for tid in transcript_ids:
            t = by_id.get(tid)
            if t is not None:
                self._update_row(t, others)

    def _by_id(self) -> dict[int, dict]:
        if self._index_of is None:
            self._index_of = {t["id"]: t for t in self.transcripts}
        return self._index_of

    def _update_row(self, t: dict, others: list[str]) -> None:
        cells = [("done", f"{t['n_decided']}/{t['n_passages']}")]
        cells += [(f"coder:{c}", self._other_cell(c, t["id"])) for c in others]
        for column, value in cells:
            if self.get_cell(str(t["id"]), column) != value:
                self.update_cell(str(t["id"]), column, value)

    def select(self, transcript_id: int) -> None:
        """Put the cursor on the row of ``transcript_id``."""
        row = self.get_row_index(str(transcript_id))
        if self.cursor_row != row:
            self.move_cursor(row=row)

    def on_line_table_row_selected(self, event: LineTable.RowSelected) -> None:
        event.stop()
        self.post_message(self.Opened(int(event.row_key)))

    def on_resize(self, event: events.Resize) -> None:
        self.fit()

    def _other_cell(self, coder: str, transcript_id: int) -> str:
        return str(self.others_done.get(coder, {}).get(transcript_id, 0))

    def _done_width(self) -> int:
        return max([4] + [cell_len(f"{t['n_passages']}/{t['n_passages']}") for t in self.transcripts])

    def _other_widths(self) -> list[int]:
        most = max([0] + [t["n_passages"] for t in self.transcripts])
        return [max(cell_len(cut_end(c, OTHER_NAME_CELLS)), cell_len(str(most))) for c in self.others]

    def _fill(self, widths: tuple[int, int] | None = None) -> None:
        """(Re)fill the table; with ``widths`` = (name, group) cells, names are shortened in
        the middle and groups at the end to fit."""
        cursor = self.cursor_row
        name_w, group_w = widths or (10**6, 10**6)
        self.clear(columns=True)
        self.add_column("interviewee" if name_w >= 11 else "name", key="interviewee")
        # progress columns as wide as their widest value can become, so "12/26" is never cut
        self.add_column("you" if self.others else "done", key="done", width=self._done_width())
        for c, w in zip(self.others, self._other_widths()):
            if c in self.other_columns:
                self.add_column(cut_end(c, OTHER_NAME_CELLS), key=f"coder:{c}", width=w)
        if self.with_groups:
            self.add_column("group", key="group")
        for t in self.transcripts:
            row = [shorten_middle(t["interviewee"], name_w), f"{t['n_decided']}/{t['n_passages']}"]
            row += [self._other_cell(c, t["id"]) for c in self.other_columns]
            if self.with_groups:
                row.append(cut_end(t["grp"] or "", group_w))
            self.add_row(*row, key=str(t["id"]))
        if self.transcripts:
            self.move_cursor(row=min(max(cursor, 0), len(self.transcripts) - 1), animate=False)
        self._widths = widths
        self._filled = True

    def fit(self) -> None:
        """Fit the list to its width: first the "interviewee" header becomes "name", then the
        names are shortened in the middle (down to 12 cells), then the groups at the end (down
        to 5 cells), then the names further. The progress columns are never cut: other coders
        get a column while the names keep 8 cells and the groups 7 (in the order given); the
        rest are :attr:`hidden_others`."""
        if self.size.width == 0:
            return
        done_w = self._done_width()
        group_nat = max([5] + [cell_len(t["grp"] or "") for t in self.transcripts]) if self.with_groups else 0
        name_nat = max([4] + [cell_len(t["interviewee"]) for t in self.transcripts])
        scrollbar = self.styles.scrollbar_size_vertical if len(self.transcripts) > self.size.height - 1 else 0
        columns = 3 if self.with_groups else 2
        room = self.size.width - columns * 2 * self.cell_padding - scrollbar - done_w
        keep = min(name_nat, 8) + (min(group_nat, 7) if self.with_groups else 0)
        shown = []
        for c, w in zip(self.others, self._other_widths()):
            if room - (w + 2 * self.cell_padding) < keep:
                break
            shown.append(c)
            room -= w + 2 * self.cell_padding
        if max(name_nat, 11) + group_nat <= room:
            widths = None  # nothing to cut
        elif name_nat + group_nat <= room:
            widths = (name_nat, group_nat)  # only the header is too wide: "name" for "interviewee"
        else:
            group_w = max(5, min(group_nat, room - min(name_nat, 12))) if self.with_groups else 0
            widths = (max(room - group_w, 4), group_w)
        if widths != self._widths or shown != self.other_columns:
            changed = shown != self.other_columns
            self.other_columns = shown
            self._fill(widths)
            if changed:
                self.post_message(self.ColumnsChanged())
