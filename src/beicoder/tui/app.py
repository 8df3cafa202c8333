"""The coding TUI: transcripts on the left, the passage in the middle, codes on the right.

Every decision goes straight to the study file through :class:`beicoder.core.store.Store`;
the NLP pipeline (jieba + spaCy) loads in a thread worker, so the screen paints first and
suggestions appear when ready.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text
from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import get_current_worker

from ..core.store import Store, StoreError
from .screens import HelpScreen, LevelScreen, MemoScreen, bindings_in_order

CONSENSUS_CODER = "consensus"  # the default name the consensus coding is recorded under
OTHER_NAME_CELLS = 7  # an other coder's column header is cut to this many cells

NARROW_BELOW = 110  # columns: below this the transcript list hides (t shows it)

RETRAIN_EVERY = 20  # new decisions after which retraining the coder's model is offered
CODE_STYLES = ["on dark_red", "on dark_blue", "on dark_green", "on dark_magenta", "on dark_cyan",
               "on orange4", "on purple4", "on deep_pink4", "on grey37"]


class _Cancelled(Exception):
    """Raised inside the suggestion worker when the app is closing."""


class PassagePane(VerticalScroll, can_focus=True):
    """The question and the passage being coded (focusable, so coding keys reach the screen)."""

    # The arrows move between passages rather than scroll (a passage is short).
    BINDINGS = [Binding("up", "screen.prev_passage", show=False), Binding("down", "screen.next_passage", show=False)]


def shorten_middle(name: str, width: int) -> str:
    """``name`` cut to ``width`` terminal cells by dropping its middle (start and end kept:
    ``2019-06-04-胡曉萍訪問.BIG5`` -> ``2019-06…訪問.BIG5``), so names sharing a long prefix
    stay apart. Han characters count two cells."""
    if cell_len(name) <= width:
        return name
    width = max(width, 3)
    head_w = (width - 1) // 2
    tail_w = width - 1 - head_w
    head, used = "", 0
    for ch in name:
        if used + cell_len(ch) > head_w:
            break
        head += ch
        used += cell_len(ch)
    tail, used = "", 0
    for ch in reversed(name):
        if used + cell_len(ch) > tail_w:
            break
        tail = ch + tail
        used += cell_len(ch)
    return f"{head}…{tail}"


def cut_end(name: str, width: int) -> str:
    """``name`` cut to ``width`` terminal cells at its end (``consensus`` -> ``consen…``)."""
    if cell_len(name) <= width:
        return name
    return set_cell_size(name, width - 1).rstrip() + "…"


class TranscriptList(DataTable):
    """The transcript table; it re-fits the interviewee names whenever its width changes."""

    def on_resize(self, event: events.Resize) -> None:
        if isinstance(self.screen, CodingScreen):
            self.screen.fit_transcript_names()


class CodesTable:
    """The Codes pane: a rich table drawn at the width it gets, with short headers and no
    wrapped names when the pane is narrow."""

    def __init__(self, rows: list[tuple]):
        self.rows = rows  # (key, code Text, name, suggested, yours, row style)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        compact = options.max_width < 44
        table = Table(expand=True, box=None, pad_edge=False, title="Codes", title_justify="left",
                      collapse_padding=compact, padding=(0, 1))
        table.add_column("#" if compact else "key", width=1 if compact else 3)
        table.add_column("code", no_wrap=compact)
        table.add_column("name" if compact else "competency", ratio=1, no_wrap=compact, overflow="ellipsis")
        table.add_column("sug." if compact else "suggested", justify="right", no_wrap=True)
        table.add_column("you" if compact else "yours", justify="right", no_wrap=True)
        for key, code, name, suggested, yours, style in self.rows:
            table.add_row(key, code, name, suggested, yours, style=style)
        yield table


class CodingScreen(Screen):
    """The main screen; holds the coding state and every coding action.

    It only ever shows the coder's own codings. The transcript list shows the coder's
    progress ("done" or, when other coders have decisions, "you"), then one column per other
    coder with the passages that coder has decided (as many as fit; the others' totals are
    listed under the table), then the interviewee's group. With ``blind`` the groups (also on
    the passage's title line) and the other coders' progress are hidden and the consensus
    screen is refused.

    The layout follows the terminal width (classes set by ``HORIZONTAL_BREAKPOINTS``): the
    side panes take a share of the width within limits, so 160 columns look as they always
    did; below 110 columns the transcript list is hidden and ``t`` shows it (in place of the
    Codes pane) until a transcript is opened or ``t``/Esc is pressed again.
    """

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW_BELOW, "-wide")]
    AUTO_FOCUS = "#center"

    BINDINGS = [
        Binding("j", "next_passage", "Next", key_display="j/↓"),
        Binding("k", "prev_passage", "Prev", key_display="k/↑"),
        Binding("down", "next_passage", "Next", show=False),
        Binding("up", "prev_passage", "Prev", show=False),
        Binding("n", "next_undecided", "Next undecided"),
        Binding("a", "accept", "Accept suggestions"),
        Binding("x", "no_code", "No code"),
        Binding("l", "level", "Level"),
        Binding("L", "take_levels", "Take proposed levels", show=False),
        Binding("T", "retrain", "Retrain model", show=False),
        Binding("c", "consensus", "Consensus", show=False),
        Binding("A", "analysis", "Analysis", show=False),
        Binding("m", "memo", "Memo"),
        Binding("u", "undo", "Undo"),
        Binding("t", "focus_transcripts", "Transcripts"),
        Binding("escape", "close_transcripts", show=False),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
    ] + [Binding("1", "toggle(1)", "Toggle code", key_display="1–9")] + [
        Binding(str(i), f"toggle({i})", f"Toggle code {i}", show=False) for i in range(2, 10)]

    def __init__(self, db_path: str, coder: str, blind: bool = False):
        super().__init__()
        self.db_path = db_path
        self.coder = coder
        self.blind = blind
        self.store = Store(db_path, create=False)
        self.dictionary = self.store.dictionary()
        if self.dictionary is None:
            raise StoreError(f"{db_path}: the study has no dictionary")
        self.competencies = {c.code: c for c in self.dictionary.competencies}
        self.code_order = self.dictionary.codes
        self.transcripts: list[dict] = []
        self.transcript_id: int | None = None
        self.passages = []
        self.index = 0
        self.last_code: str | None = None
        self._list_widths: tuple[int, int] | None = None  # (name, group) cells, None: uncut
        self.others: list[str] = []  # other coders with decisions (none when blind), people first
        self.other_columns: list[str] = []  # those with a column in the transcript list
        self.others_done: dict[str, dict[int, int]] = {}  # other coder -> transcript id -> decided
        self._mounted = False
        self._narrow: bool | None = None  # below NARROW_BELOW columns (None: not laid out yet)
        self.nlp_state = "loading jieba + spaCy…"
        self.model_state = ""
        self.usual_levels: dict[str, int] = {}
        self.model_stale = False  # a saved model trained with another dictionary version
        self.manual_examples = 0  # the dictionary's example passages the model also learned from
        self.learned_passages: set[int] = set()  # passages whose decisions the model learned
        self.trained_on = self._trained_on()
        self.offered_at = 0

    # -- layout -------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            with Vertical(id="left"):
                yield Static("Transcripts", classes="title")
                yield TranscriptList(id="transcripts", cursor_type="row", zebra_stripes=True)
                yield Static(id="others-note")
            with PassagePane(id="center"):
                yield Static(id="where", classes="title")
                yield Static(id="question")
                yield Static(id="passage")
                yield Static(id="mine")
            with VerticalScroll(id="right"):
                yield Static(id="codes")
                yield Static(id="evidence")
        yield Footer()

    def on_mount(self) -> None:
        from ..core.suggest.learned import usual_levels

        self.usual_levels = usual_levels(self.store, self.coder)
        if self.trained_on:
            self.model_state = self._model_label(self.trained_on, self.manual_examples)
        elif self.model_stale:
            self.model_state = "model out of date: T retrains"
            self.notify("your model was trained with another version of the dictionary; its suggestions are "
                        "not shown until you press T to retrain", severity="warning", timeout=10)
        self.app.title = "beicoder"
        self.app.sub_title = self._sub_title()
        to_review = len(self.store.review_items(self.coder))
        if to_review:
            self.notify(f"{to_review} of your decisions were set aside when a transcript was re-imported with "
                        "changed passages: list them with 'beicoder review' and code those passages again",
                        severity="warning", timeout=12)
        self.transcripts = self.store.transcripts(self.coder)
        self._load_others()
        self.other_columns = list(self.others)  # until the list knows its width
        self._fill_transcripts()
        if self.transcripts:
            # Resume where this coder stopped: the first passage not decided yet.
            first = next((t for t in self.transcripts if t["n_decided"] < t["n_passages"]), self.transcripts[0])
            decided = self.store.decided_passages(self.coder)
            passages = self.store.passages(first["id"])
            index = next((i for i, p in enumerate(passages) if p.id not in decided), 0)
            self.open_transcript(first["id"], index)
        else:
            self.query_one("#passage", Static).update("This study has no transcripts yet: run 'beicoder import'.")
        self.query_one(PassagePane).focus()
        self._mounted = True
        self.load_suggestions()

    def _sub_title(self) -> str:
        to_review = len(self.store.review_items(self.coder))
        return (f"{self.store.path.name} · coder {self.coder}" + (" · blind" if self.blind else "")
                + (f" · {to_review} to review" if to_review else ""))

    def on_screen_resume(self) -> None:
        """Back from another screen (the consensus screen, a dialog): the other coders'
        progress may have changed."""
        if self._mounted:
            self.app.sub_title = self._sub_title()
            self._refresh_progress()
            self.refresh_passage()

    def on_resize(self, event: events.Resize) -> None:
        """Below NARROW_BELOW columns the footer lists first the keys one cannot guess, and a
        transcript list that had the focus stays shown (otherwise it hides, see the
        breakpoint classes in app.tcss)."""
        narrow = event.size.width < NARROW_BELOW
        if narrow and self._narrow is False and self.query_one("#transcripts", DataTable).has_focus:
            self.add_class("-show-transcripts")
        if narrow != self._narrow:
            self._narrow = narrow
            self.refresh_bindings()

    # Footer order on a narrow terminal, where the footer cannot show every key.
    _NARROW_FOOTER_FIRST = ["help", "focus_transcripts", "level", "memo", "undo", "accept", "no_code", "toggle(1)"]

    @property
    def active_bindings(self):
        bindings = super().active_bindings
        if not self._narrow:
            return bindings
        return bindings_in_order(bindings, self._NARROW_FOOTER_FIRST)

    # -- suggestions worker -------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="suggest")
    def load_suggestions(self) -> None:
        """Load jieba + spaCy and suggest codes for every passage not suggested yet (the open
        transcript first), in a thread with its own database connection. A failure (NLP
        libraries, a locked study file) is shown in the status line; coding goes on without
        suggestions instead of the app closing."""
        worker = get_current_worker()
        try:
            self._suggest_all(worker)
        except _Cancelled:
            return  # the app is closing: stop between batches, everything done so far is stored
        except Exception as exc:  # noqa: BLE001 - suggestions are optional
            if not worker.is_cancelled:
                self.app.call_from_thread(self._suggestions_ready, f"suggestions unavailable ({exc})")

    def _suggest_all(self, worker) -> None:
        from ..core.suggest.lexicon import suggest_study

        store = Store(self.db_path, create=False)
        try:
            ids = store.passages_needing_suggestions("lexicon", self.dictionary.sha256)
            if not ids:
                self._score_with_model(store)
                self.app.call_from_thread(self._suggestions_ready, "suggestions ready")
                return
            first = {p.id for p in self.passages}
            ids.sort(key=lambda i: i not in first)

            def progress(done: int, total: int) -> None:
                if worker.is_cancelled:
                    raise _Cancelled
                self.app.call_from_thread(self._suggestions_ready, f"suggesting… {done}/{total}")

            suggest_study(store, self.dictionary, ids, batch=50, progress=progress)
            self._score_with_model(store)
            self.app.call_from_thread(self._suggestions_ready, "suggestions ready")
        finally:
            store.close()

    def _score_with_model(self, store) -> None:
        """In the suggestion worker: let the coder's saved model score passages it has not
        seen (a transcript imported after training)."""
        from ..core.suggest.learned import model_source, refresh_model_suggestions

        if self.trained_on:
            if store.passages_needing_suggestions(model_source(self.coder), self.dictionary.sha256):
                self.app.call_from_thread(self._suggestions_ready, "model scoring new passages…")
                refresh_model_suggestions(store, self.db_path, self.coder, self.dictionary)

    def _suggestions_ready(self, state: str) -> None:
        self.nlp_state = state
        self.refresh_passage()

    # -- navigation ---------------------------------------------------------------------------
    def open_transcript(self, transcript_id: int, index: int = 0) -> None:
        self.transcript_id = transcript_id
        self.passages = self.store.passages(transcript_id)
        self.index = max(0, min(index, len(self.passages) - 1))
        table = self.query_one("#transcripts", DataTable)
        row = table.get_row_index(str(transcript_id))
        if table.cursor_row != row:
            table.move_cursor(row=row)
        self.refresh_passage()

    @property
    def passage(self):
        return self.passages[self.index] if self.passages else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.open_transcript(int(event.row_key.value))
        self.remove_class("-show-transcripts")
        self.query_one(PassagePane).focus()

    def action_focus_transcripts(self) -> None:
        """t: go to the transcript list (showing it on a narrow terminal); t again goes back."""
        table = self.query_one("#transcripts", DataTable)
        if table.has_focus:
            self.action_close_transcripts()
            return
        self.add_class("-show-transcripts")
        table.focus()

    def action_close_transcripts(self) -> None:
        if self.has_class("-show-transcripts") or self.query_one("#transcripts", DataTable).has_focus:
            self.remove_class("-show-transcripts")
            self.query_one(PassagePane).focus()

    def action_next_passage(self) -> None:
        if self.passages and self.index < len(self.passages) - 1:
            self.index += 1
            self.refresh_passage()

    def action_prev_passage(self) -> None:
        if self.passages and self.index > 0:
            self.index -= 1
            self.refresh_passage()

    def action_next_undecided(self) -> None:
        decided = self.store.decided_passages(self.coder)
        order = [t["id"] for t in self.transcripts]
        start = order.index(self.transcript_id) if self.transcript_id in order else 0
        for k in range(len(order)):
            tid = order[(start + k) % len(order)]
            passages = self.passages if tid == self.transcript_id else self.store.passages(tid)
            begin = self.index + 1 if k == 0 else 0
            for i in range(begin, len(passages)):
                if passages[i].id not in decided:
                    if tid != self.transcript_id:
                        self.open_transcript(tid, i)
                    else:
                        self.index = i
                        self.refresh_passage()
                    return
        for i in range(0, self.index + 1):  # wrap around inside the first transcript
            if self.passages and self.passages[i].id not in decided:
                self.index = i
                self.refresh_passage()
                return
        self.notify("every passage is decided by you")

    # -- suggestions as shown -----------------------------------------------------------------
    def shown_suggestions(self, passage_id: int) -> list[dict]:
        """What the coder sees for a passage: the lexicon's suggestions, blended with the
        coder's model where it has scored the passage (see core.suggest.learned)."""
        from ..core.suggest.learned import blended_suggestions, model_source

        rows = self.store.suggestions_for(passage_id)
        has_model = self.store.has_suggestions_from(passage_id, model_source(self.coder), self.dictionary.sha256)
        passage = next((p for p in self.passages if p.id == passage_id), None)
        if passage is not None:
            length = len(passage.text)
        else:
            length = len(self.store.passage(passage_id).text)
        return blended_suggestions(rows, self.coder, has_model, length)

    def proposed_levels(self, suggestions: list[dict], codings: dict) -> dict[str, tuple[int, str]]:
        """Proposed level and why, for each of the passage's codes that has no level yet: the
        dictionary's level cue found in the passage, else the level this coder usually gives."""
        by_code = {s["code"]: s for s in suggestions}
        out = {}
        for code, c in codings.items():
            if c["level"] is not None:
                continue
            s = by_code.get(code)
            if s and s.get("level") is not None:
                out[code] = (s["level"], f"cue {s['level_cue']}")
            elif code in self.usual_levels:
                out[code] = (self.usual_levels[code], "your usual level")
        return out

    def _trained_on(self) -> int:
        """Number of decisions the coder's saved model was trained on (0: no usable model;
        ``model_stale`` is set when it was trained with another version of the dictionary)."""
        import json

        from ..core.suggest.learned import META_FILE, model_dir

        meta_path = model_dir(self.db_path, self.coder) / META_FILE
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return 0
        if meta.get("dictionary_sha256") != self.dictionary.sha256:
            self.model_stale = True
            return 0
        self.manual_examples = int(meta.get("dictionary_examples", 0))
        self.learned_passages = set(meta.get("learned_passages", []))
        return int(meta.get("examples", 0))

    @staticmethod
    def _model_label(decisions: int, examples: int) -> str:
        return f"model: {decisions} decisions" + (f" + {examples} examples" if examples else "")

    def _offer_retraining(self) -> None:
        n = len(self.store.decided_passages(self.coder))
        if n - self.trained_on >= RETRAIN_EVERY and n - self.offered_at >= RETRAIN_EVERY:
            self.offered_at = n
            what = "retrain your model" if self.trained_on else "train a model on your decisions"
            self.notify(f"{n - self.trained_on} new decisions: press T to {what} (runs in the background)",
                        timeout=8)

    def action_retrain(self) -> None:
        if self.model_state.startswith("training"):
            self.notify("training is already running")
            return
        self.model_state = "training…"
        self.refresh_passage()
        self.retrain()

    @work(thread=True, exclusive=True, group="train")
    def retrain(self) -> None:
        """Train the coder's model and score every passage with it, in a thread with its own
        connection; coding goes on meanwhile."""
        from ..core.suggest.learned import LearnedSuggester, store_model_suggestions, train

        store = Store(self.db_path, create=False)
        try:
            current = store.dictionary()
            if current is None or current.sha256 != self.dictionary.sha256:
                raise RuntimeError("the study's dictionary changed since this screen opened; "
                                   "quit and open 'beicoder code' again, then press T")
            result = train(store, self.coder, self.dictionary, self.db_path)
            model = LearnedSuggester.load(result.path, self.dictionary)
            store_model_suggestions(store, model, self.coder)
            self.learned_passages = set(result.meta.get("learned_passages", []))
            self.app.call_from_thread(self._trained, result.meta["examples"], "",
                                      result.meta.get("dictionary_examples", 0))
        except Exception as exc:  # noqa: BLE001 - report, keep coding
            self.app.call_from_thread(self._trained, 0, str(exc))
        finally:
            store.close()

    def _trained(self, examples: int, error: str, manual: int = 0) -> None:
        if error:
            self.model_state = ""
            self.notify(f"model not trained: {error}", severity="error", timeout=10)
        else:
            self.trained_on = examples
            self.model_stale = False
            self.manual_examples = manual
            self.model_state = self._model_label(examples, manual)
            also = f" and the dictionary's {manual} examples" if manual else ""
            self.notify(f"model trained on {examples} of your decisions{also}; suggestions now blend it in")
        self.refresh_passage()

    def action_take_levels(self) -> None:
        if self.passage is None:
            return
        codings = {c["code"]: c for c in self.store.codings_for(self.passage.id, self.coder)}
        proposals = self.proposed_levels(self.shown_suggestions(self.passage.id), codings)
        if not proposals:
            self.notify("no proposed level for this passage's codes", severity="warning")
            return
        changed = self._save("levels", self.store.set_levels, self.passage.id, self.coder,
                             {code: lv for code, (lv, _) in proposals.items()})
        if changed is self._FAILED:
            return
        self._after_change("levels " + ", ".join(f"{c} L{proposals[c][0]}" for c in changed) + " · saved")

    # -- coding actions -----------------------------------------------------------------------
    _FAILED = object()

    def _save(self, what: str, fn: Callable[..., Any], *args) -> Any:
        """Run a store write; on failure say so loudly and keep the app running."""
        try:
            return fn(*args)
        except StoreError as exc:
            self.notify(f"NOT saved ({what}): {exc}", severity="error", timeout=10)
            return self._FAILED

    def _after_change(self, message: str) -> None:
        from ..core.suggest.learned import usual_levels

        self.usual_levels = usual_levels(self.store, self.coder)
        self.refresh_passage()
        self._refresh_progress()
        self.notify(message, timeout=2)
        self._offer_retraining()

    def action_toggle(self, n: int) -> None:
        if self.passage is None:
            return
        if n > len(self.code_order):
            self.notify(f"no code {n} in this dictionary ({len(self.code_order)} codes)", severity="warning")
            return
        code = self.code_order[n - 1]
        added = self._save(code, self.store.toggle_code, self.passage.id, self.coder, code)
        if added is self._FAILED:
            return
        self.last_code = code if added else self.last_code
        self._after_change(f"{'added' if added else 'removed'} {code} · saved")

    def action_accept(self) -> None:
        if self.passage is None:
            return
        suggested = [s["code"] for s in self.shown_suggestions(self.passage.id)]
        if not suggested:
            self.notify("no suggestions for this passage", severity="warning")
            return
        added = self._save("accept", self.store.add_codes, self.passage.id, self.coder, {c: None for c in suggested})
        if added is self._FAILED:
            return
        if added:
            self.last_code = added[-1]
        self._after_change(f"accepted {', '.join(added) or 'nothing new'} · saved")

    def action_no_code(self) -> None:
        if self.passage is None:
            return
        if self._save("no code", self.store.mark_no_code, self.passage.id, self.coder) is self._FAILED:
            return
        self._after_change("no code · saved")

    def action_undo(self) -> None:
        what = self._save("undo", self.store.undo, self.coder)
        if what is self._FAILED:
            return
        if what is None:
            self.notify("nothing to undo", severity="warning")
            return
        self.refresh_passage()
        self._refresh_progress()
        self.notify(f"undone: {what}", timeout=2)

    def action_level(self) -> None:
        if self.passage is None:
            return
        codings = self.store.codings_for(self.passage.id, self.coder)
        if not codings:
            self.notify("add a code first (1–9 or a)", severity="warning")
            return
        pid = self.passage.id

        def done(result) -> None:
            if result is None:
                return
            code, level = result
            if self._save("level", self.store.set_level, pid, self.coder, code, level) is self._FAILED:
                return
            self.last_code = code
            self._after_change(f"{code} level {level if level is not None else 'cleared'} · saved")

        self.app.push_screen(LevelScreen(codings, self.competencies, self.last_code), done)

    def action_memo(self) -> None:
        if self.passage is None:
            return
        mark = self.store.mark_for(self.passage.id, self.coder)
        pid = self.passage.id

        def done(text) -> None:
            if text is not None and self._save("memo", self.store.set_memo, pid, self.coder, text) is not self._FAILED:
                self._after_change("memo saved")

        self.app.push_screen(MemoScreen((mark or {}).get("memo") or ""), done)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(list(self.dictionary.competencies)))

    def action_consensus(self) -> None:
        """c: the consensus screen, for the coders named with --consensus, else for every coder
        with decisions except the consensus coder. Refused when coding blind."""
        from ..core.reliability import ReliabilityError
        from .consensus import ConsensusScreen

        if self.blind:
            self.notify("coding blind: the consensus screen shows the other coders' codings "
                        "(start without --blind to reconcile)", severity="warning", timeout=6)
            return
        app = self.app
        target = getattr(app, "consensus_coder", CONSENSUS_CODER)
        coders = list(getattr(app, "consensus", None) or [c for c in self.store.coders() if c != target])
        if len(coders) < 2:
            self.notify(f"a consensus needs decisions by two coders or more (coders: {', '.join(coders) or 'none'})",
                        severity="warning", timeout=6)
            return
        try:
            screen = ConsensusScreen(self.store, coders, target, self.coder, self.dictionary)
        except (ReliabilityError, StoreError) as exc:
            self.notify(f"no consensus screen: {exc}", severity="error", timeout=10)
            return
        app.push_screen(screen)

    def action_analysis(self) -> None:
        """A: outstanding vs average for this coder's codings (the analysis screen)."""
        from .analysis import AnalysisScreen

        if self.blind:
            self.notify("coding blind: the analysis shows the groups (start without --blind to see it)",
                        severity="warning", timeout=6)
            return
        self.app.push_screen(AnalysisScreen(self.db_path, self.coder))

    async def action_quit(self) -> None:
        self.app.exit()

    # -- drawing ------------------------------------------------------------------------------
    def _load_others(self) -> None:
        """The other coders with decisions and their progress per transcript (none when blind)."""
        if self.blind:
            self.others, self.others_done = [], {}
            return
        special = [getattr(self.app, "consensus_coder", CONSENSUS_CODER), "reference"]
        self.others = sorted((c for c in self.store.coders() if c != self.coder),
                             key=lambda c: (special.index(c) if c in special else -1, c))
        self.others_done = {c: {t["id"]: t["n_decided"] for t in self.store.transcripts(c)} for c in self.others}

    def _with_groups(self) -> bool:
        return not self.blind and any(t["grp"] for t in self.transcripts)

    def _other_cell(self, coder: str, transcript_id: int) -> str:
        return str(self.others_done.get(coder, {}).get(transcript_id, 0))

    def _other_widths(self) -> list[int]:
        return [max(cell_len(cut_end(c, OTHER_NAME_CELLS)),
                    *(cell_len(self._other_cell(c, t["id"])) for t in self.transcripts)) for c in self.others]

    def _show_others_note(self) -> None:
        """Under the list: the totals of the other coders who got no column."""
        note = self.query_one("#others-note", Static)
        rest = [c for c in self.others if c not in self.other_columns]
        total = sum(t["n_passages"] for t in self.transcripts)
        note.update(Text.assemble(("also decided: ", "dim"), " · ".join(
            f"{c} {sum(self.others_done.get(c, {}).values())}/{total}" for c in rest)) if rest else "")
        note.display = bool(rest)

    def _fill_transcripts(self, widths: tuple[int, int] | None = None) -> None:
        """(Re)fill the transcript table; with ``widths`` = (name, group) cells, names are
        shortened in the middle and groups at the end to fit. No group column when no
        transcript has a group or when coding blind; one column per other coder (none when
        blind) with the passages that coder has decided."""
        table = self.query_one("#transcripts", DataTable)
        cursor = table.cursor_row
        name_w, group_w = widths or (10**6, 10**6)
        table.clear(columns=True)
        table.add_column("interviewee" if name_w >= 11 else "name", key="interviewee")
        table.add_column("you" if self.others else "done", key="done")
        for c in self.other_columns:
            table.add_column(cut_end(c, OTHER_NAME_CELLS), key=f"coder:{c}")
        with_groups = self._with_groups()
        if with_groups:
            table.add_column("group", key="group")
        for t in self.transcripts:
            row = [shorten_middle(t["interviewee"], name_w), f"{t['n_decided']}/{t['n_passages']}"]
            row += [self._other_cell(c, t["id"]) for c in self.other_columns]
            if with_groups:
                group = t["grp"] or ""
                row.append(group if cell_len(group) <= group_w else set_cell_size(group, group_w - 1).rstrip() + "…")
            table.add_row(*row, key=str(t["id"]))
        if self.transcripts:
            table.move_cursor(row=min(max(cursor, 0), len(self.transcripts) - 1), animate=False)
        self._list_widths = widths
        self._show_others_note()

    def fit_transcript_names(self) -> None:
        """Fit the list to its width: first the "interviewee" header becomes "name", then the
        names are shortened in the middle (down to 12 cells), then the groups at the end (down
        to 5 cells), then the names further. The progress columns are never cut: other coders
        get a column while the names keep 8 cells and the groups 7 (people before the
        consensus and reference coders); the rest are listed under the table."""
        table = self.query_one("#transcripts", DataTable)
        if table.size.width == 0:
            return
        with_groups = self._with_groups()
        done_w = max([4] + [cell_len(f"{t['n_passages']}/{t['n_passages']}") for t in self.transcripts])
        group_nat = max([5] + [cell_len(t["grp"] or "") for t in self.transcripts]) if with_groups else 0
        name_nat = max([4] + [cell_len(t["interviewee"]) for t in self.transcripts])
        scrollbar = table.styles.scrollbar_size_vertical if len(self.transcripts) > table.size.height - 1 else 0
        columns = 3 if with_groups else 2
        room = table.size.width - columns * 2 * table.cell_padding - scrollbar - done_w
        keep = min(name_nat, 8) + (min(group_nat, 7) if with_groups else 0)
        shown = []
        for c, w in zip(self.others, self._other_widths()):
            if room - (w + 2 * table.cell_padding) < keep:
                break
            shown.append(c)
            room -= w + 2 * table.cell_padding
        if max(name_nat, 11) + group_nat <= room:
            widths = None  # nothing to cut
        elif name_nat + group_nat <= room:
            widths = (name_nat, group_nat)  # only the header is too wide: "name" for "interviewee"
        else:
            group_w = max(5, min(group_nat, room - min(name_nat, 12))) if with_groups else 0
            widths = (max(room - group_w, 4), group_w)
        if widths != self._list_widths or shown != self.other_columns:
            self.other_columns = shown
            self._fill_transcripts(widths)

    def _refresh_progress(self) -> None:
        self.transcripts = self.store.transcripts(self.coder)
        before = list(self.others)
        self._load_others()
        table = self.query_one("#transcripts", DataTable)
        if self.others != before or len(self.transcripts) != table.row_count:
            self.other_columns = [c for c in self.other_columns if c in self.others]
            self._fill_transcripts(self._list_widths)  # a coder appeared: fitted again
            self.fit_transcript_names()
            return
        for t in self.transcripts:
            # Only the cells that changed: every update_cell makes the DataTable draw all its rows again.
            cells = [("done", f"{t['n_decided']}/{t['n_passages']}")]
            cells += [(f"coder:{c}", self._other_cell(c, t["id"])) for c in self.other_columns]
            for column, value in cells:
                if table.get_cell(str(t["id"]), column) != value:
                    table.update_cell(str(t["id"]), column, value)
        self._show_others_note()

    def refresh_passage(self) -> None:
        p = self.passage
        where = self.query_one("#where", Static)
        if p is None:
            where.update("no passages in this transcript")
            for selector in ("#question", "#passage", "#mine"):  # not the previous transcript's
                self.query_one(selector, Static).update("")
            self._draw_codes([], {})
            return
        t = next(t for t in self.transcripts if t["id"] == self.transcript_id)
        suggestions = self.shown_suggestions(p.id)
        codings = {c["code"]: c for c in self.store.codings_for(p.id, self.coder)}
        mark = self.store.mark_for(p.id, self.coder) or {}
        where.update(Text.assemble(
            (f"{t['interviewee']}", "bold"), "" if self.blind else f"  ({t['grp'] or 'no group'})",
            f"  ·  passage {p.ordinal}/{len(self.passages)}",
            f"  ·  characters {p.start}–{p.end}  ·  {self.nlp_state}",
            f"  ·  {self.model_state}" if self.model_state else ""))
        question = self.store.question_turn_for(p) or {"speaker": "", "text": ""}
        label = question["speaker"].strip() or "Interviewer"
        self.query_one("#question", Static).update(
            Text.assemble((f"{label}: ", "bold dim"), (question["text"].strip() or "—", "dim")))
        body = Text(p.text)
        for s in suggestions:
            style = CODE_STYLES[self.code_order.index(s["code"]) % len(CODE_STYLES)]
            for ev in s["evidence"]:
                body.stylize("strike dim" if ev.get("negated") else style, ev["start"], ev["end"])
            for ev in s.get("model_evidence", []):  # the model's words: underlined
                body.stylize(f"{style} underline", ev["start"], ev["end"])
        self.query_one("#passage", Static).update(body)
        mine = Text("Your decision: ", style="bold")
        if codings:
            mine.append(", ".join(f"{c}{'' if v['level'] is None else ' L' + str(v['level'])}" for c, v in codings.items()))
            missing = [c for c, v in codings.items() if v["level"] is None]
            proposals = self.proposed_levels(suggestions, codings)
            if proposals:
                mine.append("   proposed: " + ", ".join(f"{c} L{lv} ({why})" for c, (lv, why) in proposals.items())
                            + " — press L to take", style="cyan")
            elif missing:
                mine.append(f"   (no level yet: {', '.join(missing)} — press l)", style="yellow")
        elif mark.get("no_code"):
            mine.append("no code")
        else:
            mine.append("not decided", style="yellow")
        if mark.get("memo"):
            mine.append(f"\nMemo: {mark['memo']}", style="italic")
        self.query_one("#mine", Static).update(mine)
        self._draw_codes(suggestions, codings)

    def _draw_codes(self, suggestions: list[dict], codings: dict) -> None:
        scores = {s["code"]: s for s in suggestions}
        rows = []
        for i, code in enumerate(self.code_order, start=1):
            comp = self.competencies[code]
            s = scores.get(code)
            c = codings.get(code)
            style = CODE_STYLES[(i - 1) % len(CODE_STYLES)] if s else ""
            yours = "" if c is None else ("✓ L?" if c["level"] is None else f"✓ L{c['level']}")
            rows.append((str(i) if i <= 9 else "", Text(code, style=style), comp.name_zh or comp.name_en,
                         f"{s['score']:.2f}" if s else "", yours, "bold" if c else None))
        drawn = [(k, code.plain, str(code.style), *rest) for k, code, *rest in rows]  # (Text == ignores style)
        if drawn != getattr(self, "_codes_drawn", None):  # redrawing the table is not free: only when it changed
            self._codes_drawn = drawn
            self.query_one("#codes", Static).update(CodesTable(rows))
        ev_text = Text("Evidence\n", style="bold")
        if self.trained_on and self.passage is not None and self.passage.id in self.learned_passages:
            ev_text.append("the model learned this passage from your decision: its score is no second opinion\n",
                           style="dim italic")
        if not suggestions:
            ev_text.append("none" if self.nlp_state == "suggestions ready" else self.nlp_state, style="dim")
        for s in suggestions:
            words = []
            for e in s["evidence"]:
                w = e["matched"]
                if e["token"] and e["token"] != w:
                    w += f" (in {e['token']})"
                if e.get("negated"):
                    w += f" (not counted: {e['negated']})"
                if w not in words:
                    words.append(w)
            model_words = list(dict.fromkeys(e["matched"] for e in s.get("model_evidence", [])))
            style = CODE_STYLES[self.code_order.index(s["code"]) % len(CODE_STYLES)]
            ev_text.append(f"{s['code']}", style=style)
            sources = "+".join(s["sources"])
            if s["model_score"] is not None and "model" not in s["sources"]:
                sources += f"; model {s['model_score']:.2f}"  # the model has scored it, and disagrees
            ev_text.append(f" {s['score']:.2f} [{sources}]: {'、'.join(words)}")
            if model_words:
                if words:
                    ev_text.append("; model: ")
                ev_text.append("、".join(model_words), style="underline")
            elif not words:
                ev_text.append("(model: no single word stands out)")
            ev_text.append("\n")
        self.query_one("#evidence", Static).update(ev_text)


class BeicoderApp(App):
    """``BeicoderApp(db_path, coder).run()`` opens the coding screen on a study file.

    ``blind``: hide the interviewees' groups and the other coders' progress (and refuse the
    consensus screen). ``consensus``: coders whose disagreements to reconcile; the app then
    opens on the consensus screen (Esc goes to coding), and ``c`` reopens it for them.
    ``consensus_coder``: the name the consensus coding is recorded under.
    """

    CSS_PATH = "app.tcss"
    TITLE = "beicoder"

    def __init__(self, db_path: str, coder: str, blind: bool = False, consensus: Iterable[str] | None = None,
                 consensus_coder: str = CONSENSUS_CODER):
        super().__init__()
        self.db_path = db_path
        self.coder = coder
        self.blind = blind
        self.consensus = list(consensus or [])
        self.consensus_coder = consensus_coder

    async def on_mount(self) -> None:
        await self.push_screen(CodingScreen(self.db_path, self.coder, self.blind))
        if self.consensus:
            self.coding.action_consensus()

    @property
    def coding(self) -> CodingScreen:
        return next(s for s in self.screen_stack if isinstance(s, CodingScreen))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from .consensus import TAKE_KEYS, ConsensusScreen

        yield from super().get_system_commands(screen)
        if isinstance(screen, ConsensusScreen):
            yield SystemCommand("Next disagreement", "Move to the next disagreement (j)", screen.action_next)
            yield SystemCommand("Previous disagreement", "Move to the previous disagreement (k)", screen.action_prev)
            yield SystemCommand("Next undecided disagreement", "Next disagreement without a consensus decision (n)",
                                screen.action_next_open)
            for k, coder in enumerate(screen.coders[:len(TAKE_KEYS)]):
                yield SystemCommand(f"Take {coder}'s coding", f"The consensus takes {coder}'s codes and levels "
                                    f"({TAKE_KEYS[k]})", lambda k=k: screen.action_take(k))
            yield SystemCommand("No code (consensus)", "The consensus: this passage shows no competency (x)",
                                screen.action_no_code)
            yield SystemCommand("Set level (consensus)", "Set the level of a consensus code (l)", screen.action_level)
            yield SystemCommand("Accept all agreements", "Copy every passage the coders agree on to the consensus (g)",
                                screen.action_accept_agreements)
            yield SystemCommand("Undo (consensus)", "Undo the last consensus action (u)", screen.action_undo)
            yield SystemCommand("Back to coding", "Leave the consensus screen (Esc)", screen.action_back)
            yield SystemCommand("Keys and codes", "Show the keys and the dictionary (?)", screen.action_help)
            for i, code in enumerate(screen.code_order[:9], start=1):
                comp = screen.competencies[code]
                yield SystemCommand(f"Toggle {code} {comp.name_zh} (consensus)",
                                    f"Add or remove {comp.name_en} for the consensus ({i})",
                                    lambda i=i: screen.action_toggle(i))
            return
        coding = self.coding
        yield SystemCommand("Next passage", "Move to the next passage (j)", coding.action_next_passage)
        yield SystemCommand("Previous passage", "Move to the previous passage (k)", coding.action_prev_passage)
        yield SystemCommand("Next undecided passage", "Next passage you have not coded or marked (n)",
                            coding.action_next_undecided)
        yield SystemCommand("Accept suggestions", "Add every suggested code to this passage (a)", coding.action_accept)
        yield SystemCommand("No code", "Record that this passage shows no competency (x)", coding.action_no_code)
        yield SystemCommand("Set level", "Set the level of a code on this passage (l)", coding.action_level)
        yield SystemCommand("Take proposed levels", "Give this passage's codes their proposed levels (L)",
                            coding.action_take_levels)
        yield SystemCommand("Retrain model", "Train your suggestion model on your decisions, in the background (T)",
                            coding.action_retrain)
        yield SystemCommand("Memo", "Write a memo on this passage (m)", coding.action_memo)
        yield SystemCommand("Undo", "Undo your last action (u)", coding.action_undo)
        yield SystemCommand("Transcripts", "Go to the transcript list (t)", coding.action_focus_transcripts)
        if not coding.blind:
            yield SystemCommand("Consensus", "Reconcile the coders' disagreements into the consensus coding (c)",
                                coding.action_consensus)
            yield SystemCommand("Analysis", "Outstanding vs average for your codings, with a bar chart (A)",
                                coding.action_analysis)
        yield SystemCommand("Keys and codes", "Show the keys and the dictionary (?)", coding.action_help)
        for i, code in enumerate(coding.code_order[:9], start=1):
            comp = coding.competencies[code]
            yield SystemCommand(f"Toggle {code} {comp.name_zh}", f"Add or remove {comp.name_en} ({i})",
                                lambda i=i: coding.action_toggle(i))
