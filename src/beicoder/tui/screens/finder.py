"""The find view: coded segments and text search in one list, across every interviewee.

Type a text (Chinese of any length, Simplified or Traditional, or other words), or choose a
code, and optionally a coder, a group, a level, and "undecided" or "suggested, undecided":
the list shows every passage that passes, with interviewee, passage number, coder, code and
level, memo and the passage around the first match; the highlighted passage is shown whole
under the list. Enter jumps to it in the coding screen, where ``b`` comes back to the list as
it was left. Queries run in a thread worker (:func:`beicoder.core.retrieval.find_passages`);
the view keeps its state in a :class:`FinderState` owned by the coding screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Select, Static

from ...core import BeicoderError
from ...core.retrieval import PassageHit, PassageQuery, PassageResults, find_passages
from ...core.store import Store
from ..linebreak import WrappedText
from ..messages import FindFailed, PassagesFound
from ..text import cut_end, shorten_middle

SHOW_AT_MOST = 2000  # rows in the list (the summary says how many were found)
MATCH = "bold reverse"
ANY = ""


@dataclass
class FinderState:
    """What the find view shows, kept between visits: the ``text`` typed, the ``code`` chosen
    (a key, or "" for any), ``who`` (``me``, ``all`` or another coder's name), ``group`` and
    ``level`` ("" for any), ``status`` (``any``, ``undecided``, ``suggested``) and ``row``, the
    key of the row last highlighted (``passage id:coder``)."""

    coder: str
    text: str = ""
    code: str = ANY
    who: str = "me"
    group: str = ANY
    level: str = ANY
    status: str = "any"
    row: str | None = None

    def to_query(self) -> PassageQuery:
        """The :class:`~beicoder.core.retrieval.PassageQuery` of this state."""
        coder = None if self.who == "all" and self.status == "any" else (self.coder if self.who in ("me", "all")
                                                                         else self.who)
        return PassageQuery(code=self.code or None, text=self.text, coder=coder, group=self.group or None,
                            level=int(self.level) if self.level and self.code else None, status=self.status)


def snippet(hit: PassageHit, width: int) -> Text:
    """The passage on one line, cut to ``width`` cells, starting a little before the first
    match (matches highlighted)."""
    text = hit.text.replace("\n", " ")
    start = 0
    if hit.matches:
        first = hit.matches[0][0]
        start = max(0, first - 6)
        while start > 0 and cell_len(text[start:first]) > 12:
            start += 1
    body = Text("…" if start else "")
    body.append(text[start:])
    shift = len(body.plain) - len(text)
    for a, b in hit.matches:
        if b + shift > 0:
            body.stylize(MATCH, max(a + shift, 0), b + shift)
    if cell_len(body.plain) > width:
        body.truncate(width, overflow="ellipsis")
    return body


class FinderScreen(Screen[int | None]):
    """The find view; returns the id of the passage to jump to, or None (Esc).

    ``FinderScreen(db_path, dictionary, state, coders, groups, blind)``: ``state`` (a
    :class:`FinderState`) is read and updated; ``coders``: the other coders with decisions,
    ``groups``: the interviewees' groups (both empty when coding blind)."""

    BINDINGS = [
        Binding("escape", "back", "Back to coding"),
        Binding("slash", "focus_text", "Search text", key_display="/"),
        Binding("ctrl+o", "open", "Open passage", show=False),
    ]
    AUTO_FOCUS = "#find-text"

    def __init__(self, db_path: str, dictionary, state: FinderState, coders: list[str], groups: list[str],
                 blind: bool = False):
        super().__init__()
        self.db_path = db_path
        self.dictionary = dictionary
        self.state = state
        self.coders = coders
        self.groups = groups
        self.blind = blind
        self.serial = 0
        self.results: PassageResults | None = None
        self.hits: dict[str, PassageHit] = {}
        self._typing = None

    # -- layout -------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        st = self.state
        comps = self.dictionary.competencies
        yield Header()
        yield Input(value=st.text, placeholder="search the passages' text (中文 of any length, 繁體 or 简体, English)…",
                    id="find-text", compact=True)
        with Horizontal(id="find-filters"):
            yield Select([("any code", ANY)] + [(f"{c.code} {c.name_zh or c.name_en}", c.code) for c in comps],
                         value=st.code, allow_blank=False, id="find-code", compact=True)
            who = [("your codings", "me")] + ([] if self.blind else [("every coder's", "all")]
                                              + [(f"{c}'s", c) for c in self.coders])
            yield Select(who, value=st.who if st.who in {v for _, v in who} else "me", allow_blank=False,
                         id="find-who", compact=True)
            if not self.blind:
                yield Select([("any group", ANY)] + [(g, g) for g in self.groups],
                             value=st.group if st.group in self.groups else ANY, allow_blank=False,
                             id="find-group", compact=True)
            top = max((c.max_level for c in comps), default=5)
            low = min((c.min_level for c in comps), default=0)
            yield Select([("any level", ANY)] + [(f"level {lv}", str(lv)) for lv in range(low, top + 1)],
                         value=st.level, allow_blank=False, id="find-level", compact=True)
            yield Select([("all passages", "any"), ("undecided by you", "undecided"),
                          ("suggested, undecided", "suggested")], value=st.status, allow_blank=False,
                         id="find-status", compact=True)
        yield Static(id="find-summary")
        yield DataTable(id="find-results", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="find-preview-box"):
            yield Static(id="find-preview")
        yield Footer()

    def on_mount(self) -> None:
        self.app.sub_title = "find passages · Enter opens · Esc back to coding"
        self.run_query()

    # -- querying -----------------------------------------------------------------------------------
    def run_query(self) -> None:
        """Run the state's query in a thread worker (the list keeps showing the last result
        until the new one arrives)."""
        self.serial += 1
        self.query_one("#find-summary", Static).update(Text("searching…", style="dim"))
        self._find(self.serial, self.state.to_query())

    @work(thread=True, group="find", exit_on_error=False)
    def _find(self, serial: int, query: PassageQuery) -> None:
        """Run ``query`` with a connection of this thread; post PassagesFound or FindFailed."""
        try:
            store = Store(self.db_path, create=False)
        except BeicoderError as exc:
            self.post_message(FindFailed(serial, str(exc)))
            return
        try:
            results = find_passages(store, query, self.dictionary)
        except BeicoderError as exc:
            self.post_message(FindFailed(serial, str(exc)))
            return
        finally:
            store.close()
        self.post_message(PassagesFound(serial, results))

    def on_passages_found(self, message: PassagesFound) -> None:
        """Show the rows of the latest query (an older reply is dropped)."""
        if message.serial != self.serial:
            return
        self.results = message.results
        self._fill()

    def on_find_failed(self, message: FindFailed) -> None:
        """Say why the query could not run; the list is emptied."""
        if message.serial != self.serial:
            return
        self.results = None
        self.query_one(DataTable).clear(columns=True)
        self.query_one("#find-summary", Static).update(Text(message.error, style="bold red"))
        self.query_one("#find-preview", Static).update("")

    def on_input_changed(self, event: Input.Changed) -> None:
        """Typing: run the query once the typing pauses (a quarter of a second)."""
        event.stop()
        self.state.text = event.value
        if self._typing is not None:
            self._typing.stop()
        self._typing = self.set_timer(0.25, self.run_query)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the text box: run now and go to the list."""
        event.stop()
        if self._typing is not None:
            self._typing.stop()
        if event.value != self.state.text or self._typing is not None:
            self.state.text = event.value
            self.run_query()
        self._typing = None
        self.query_one(DataTable).focus()

    def on_key(self, event) -> None:
        """↓ in the text box goes down into the list (running a query still waiting for the
        typing to pause), so "type, ↓, ↓, Enter" opens the second passage found."""
        focused = self.focused
        if event.key == "down" and isinstance(focused, Input) and focused.id == "find-text":
            event.stop()
            event.prevent_default()
            if self._typing is not None:
                self._typing.stop()
                self._typing = None
                self.state.text = focused.value
                self.run_query()
            self.query_one(DataTable).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        field = {"find-code": "code", "find-who": "who", "find-group": "group", "find-level": "level",
                 "find-status": "status"}[event.select.id]
        value = event.value if isinstance(event.value, str) else ANY
        if getattr(self.state, field) != value:
            setattr(self.state, field, value)
            self.run_query()

    # -- the list -----------------------------------------------------------------------------------
    def _fill(self) -> None:
        res = self.results
        table = self.query_one(DataTable)
        table.clear(columns=True)
        by_code = bool(res.query.code) and res.query.status == "any"
        shown = res.hits[:SHOW_AT_MOST]
        width = max(table.size.width or self.size.width - 2, 40)
        narrow = width < 110  # the passage keeps at least half of a narrow terminal
        with_group = not self.blind and any(h.group for h in shown)
        name_w = 10 if narrow else 14
        columns = [("interviewee", name_w), ("#", 4)] + ([("group", 8 if narrow else 11)] if with_group else [])
        if by_code:
            columns += [("coder", 8 if narrow else 10), ("level", 5)]
        else:
            columns += [("suggested" if res.query.status == "suggested" else "codes", 10 if narrow else 16)]
        columns += [("memo", 8 if narrow else 16)]
        rest = width - sum(w + 2 for _, w in columns) - 4
        for name, w in columns:
            table.add_column(name, key=name, width=w)
        table.add_column("passage", key="passage", width=max(rest, 20))
        self.hits = {}
        rows = []
        for h in shown:
            key = f"{h.passage_id}:{h.coder or ''}"
            if key in self.hits:
                continue
            self.hits[key] = h
            memo = h.memo.strip().splitlines()[0] + (" …" if len(h.memo.strip().splitlines()) > 1 else "") \
                if h.memo.strip() else ""
            w = dict(columns)
            row = [shorten_middle(h.interviewee, name_w), str(h.ordinal)]
            row += [cut_end(h.group or "", w["group"])] if with_group else []
            if by_code:
                row += [cut_end(h.coder or "", w["coder"]), "" if h.level is None else f"L{h.level}"]
            else:
                column = "suggested" if res.query.status == "suggested" else "codes"
                row += [cut_end(", ".join(h.suggested) if column == "suggested" else h.codes, w[column])]
            row += [cut_end(memo, w["memo"]), snippet(h, max(rest, 20))]
            rows.append((row, key))
        for row, key in rows:
            table.add_row(*row, key=key)
        more = f" · showing the first {SHOW_AT_MOST:,}" if len(res.hits) > SHOW_AT_MOST else ""
        self.query_one("#find-summary", Static).update(Text.assemble(
            (res.describe(), "bold"), more, ("   Enter opens the passage · Esc back to coding", "dim")))
        if self.state.row in self.hits:
            table.move_cursor(row=list(self.hits).index(self.state.row), animate=False)
        self._preview()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.row_key is not None and event.row_key.value in self.hits:
            self.state.row = event.row_key.value
        self._preview()

    def _current(self) -> PassageHit | None:
        table = self.query_one(DataTable)
        if not self.hits or table.row_count == 0:
            return None
        key = list(self.hits)[min(table.cursor_row, len(self.hits) - 1)]
        return self.hits[key]

    def _preview(self) -> None:
        hit = self._current()
        box = self.query_one("#find-preview", Static)
        if hit is None:
            box.update(Text("no passage found" if self.results is not None else "", style="dim"))
            return
        body = Text(hit.text)
        for a, b in hit.matches:
            body.stylize(MATCH, a, b)
        group = "" if self.blind or not hit.group else f" ({hit.group})"
        parts = [Text.assemble((f"{hit.interviewee}{group} · passage {hit.ordinal}", "bold"),
                               f"  ·  {hit.title}" if hit.title and hit.title != hit.interviewee else ""),
                 WrappedText(body)]
        codes = hit.codes or ", ".join(hit.suggested)
        if codes:
            parts.append(Text(("suggested: " if hit.suggested and not hit.codes else "codes: ") + codes, style="cyan"))
        if hit.memo:
            parts.append(WrappedText(Text.assemble(("Memo: ", "italic bold"), (hit.memo, "italic"))))
        box.update(Group(*parts))
        self.query_one("#find-preview-box", VerticalScroll).scroll_home(animate=False)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter (or a click on the highlighted row): jump to that passage."""
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        """Jump to the highlighted passage in the coding screen."""
        hit = self._current()
        if hit is not None:
            self.state.row = f"{hit.passage_id}:{hit.coder or ''}"
            self.dismiss(hit.passage_id)

    def action_focus_text(self) -> None:
        """/: back to the text box."""
        self.query_one("#find-text", Input).focus()

    def action_back(self) -> None:
        """Esc: back to coding, where you were."""
        self.dismiss(None)
