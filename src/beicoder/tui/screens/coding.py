"""The coding screen: transcripts on the left, the passage in the middle, codes on the right.

Every decision goes straight to the study file through :class:`beicoder.core.store.Store`.
The NLP pipeline (jieba + spaCy) loads in a thread worker, so the screen paints first and
suggestions appear when ready; training the coder's model runs in another. Workers post the
messages of :mod:`beicoder.tui.messages`; only their handlers change the screen's state.

What the screen counts (progress per transcript, the coder's usual levels, which passages
are decided) is kept by a :class:`~beicoder.core.progress.ProgressTracker` and updated from
the study's change log after each decision, so a keystroke costs the same at 10 interviews
as at 1,000. The same log, polled once a second, brings in what other sessions on the study
file did: their progress, and any change to the passage on screen, shows without a key.
"""

from __future__ import annotations

import gc
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static
from textual.worker import get_current_worker

from ...core.progress import Changed, ProgressTracker
from ...core.store import ActionRecord, Store, StoreError
from ...core.suggest.learned import ModelInfo, read_model_meta
from ...core.textutil import search_form
from ..commands import PaletteBinding, code_commands
from ..messages import ModelTrained, SuggestionsFailed, SuggestionsProgress, SuggestionsReady, TrainingFailed
from ..widgets.code_info import CodeInfo
from ..widgets.codes_panel import CodesPanel
from ..widgets.evidence_panel import EvidencePanel
from ..widgets.passage_view import PassageView, decision_line
from ..widgets.transcript_list import TranscriptList
from ..widgets.transcript_panel import TranscriptPanel
from .consensus import CONSENSUS_CODER
from .dialogs import ConfirmScreen, GoToScreen, HelpScreen, LevelScreen, MemoScreen
from .finder import FinderScreen, FinderState
from .footer import NARROW_BELOW, NarrowFooter
from .llm_source import LlmSource
from .picker import CodePickerScreen, Pick

RETRAIN_EVERY = 20  # new decisions after which retraining the coder's model is offered
READY = "suggestions ready"
POLL_S = 1.0  # how often the study is checked for other sessions' changes
HEARTBEAT_S = 60.0  # how often this session says it is still open (see Store.open_sessions)
NO_PASSAGES = ("This transcript has no interviewee passages: no turn in it was taken as the interviewee's. "
               "Check its speaker labels, or import the file again with --interviewee-label NAME "
               "(see 'beicoder import --help').")


class _Cancelled(Exception):
    """Raised inside the suggestion worker when the app is closing."""


def resolve_goto(typed: str, transcripts: list[dict], current: int | None) -> tuple[int, int | None]:
    """Where ``typed`` (from the go-to dialog) points: ``(transcript id, passage number or
    None)``. ``17`` is passage 17 of the ``current`` transcript; ``MC03`` an interviewee (or a
    transcript's title): equal, else the only one starting with it, else the only one holding
    it (case, full width and Traditional/Simplified do not matter); ``MC03 17`` both.

    Raises:
        ValueError: nothing or more than one transcript matches (the message says which)."""
    typed = unicodedata.normalize("NFKC", typed).strip()
    parts = typed.rsplit(None, 1)
    number = None
    if parts and parts[-1].isdigit():
        number = int(parts[-1])
        typed = parts[0] if len(parts) == 2 else ""
    if not typed:
        if current is None:
            raise ValueError("no transcript is open: name an interviewee")
        return current, number
    want = search_form(typed)
    names = [(t["id"], [search_form(t["interviewee"]), search_form(t.get("title") or "")]) for t in transcripts]
    for test in (lambda n: n == want, lambda n: n.startswith(want), lambda n: want in n):
        found = [tid for tid, ns in names if any(n and test(n) for n in ns)]
        if len(found) == 1:
            return found[0], number
        if len(found) > 1:
            by_id = {t["id"]: t["interviewee"] for t in transcripts}
            listed = ", ".join(by_id[t] for t in found[:8]) + (" …" if len(found) > 8 else "")
            raise ValueError(f"“{typed}” matches {len(found)} transcripts ({listed}): type more of the name")
    raise ValueError(f"no interviewee or transcript “{typed}”")


class CodingScreen(LlmSource, NarrowFooter, Screen):
    """The main screen; holds the coding state and every coding action.

    ``CodingScreen(db_path, coder, blind)`` opens the study file ``db_path`` (a StoreError
    when it has no dictionary) for ``coder``. It only ever shows the coder's own codings.
    The transcript list shows the coder's progress, then one column per other coder (as many
    as fit; the others' totals are listed under it), then the interviewee's group. With
    ``blind`` the groups (also on the passage's title line) and the other coders' progress
    are hidden and the consensus and analysis screens are refused.

    The layout follows the terminal width (classes set by ``HORIZONTAL_BREAKPOINTS``): the
    side panes take a share of the width within limits; below 110 columns the transcript
    list is hidden and ``t`` shows it (in place of the Codes pane) until a transcript is
    opened or ``t``/Esc is pressed again.
    """

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW_BELOW, "-wide")]
    AUTO_FOCUS = "#center"

    BINDINGS = [
        PaletteBinding("j", "next_passage", "Next", key_display="j/↓", title="Next passage",
                       tooltip="Move to the next passage"),
        PaletteBinding("k", "prev_passage", "Prev", key_display="k/↑", title="Previous passage", show=False,
                       tooltip="Move to the previous passage"),
        Binding("down", "next_passage", "Next", show=False),
        Binding("up", "prev_passage", "Prev", show=False),
        PaletteBinding("n", "next_undecided", "Undecided", title="Next undecided passage",
                       tooltip="Next passage you have not coded or marked"),
        Binding("1", "toggle(1)", "Code", key_display="1–9"),
        *[Binding(str(i), f"toggle({i})", f"Toggle code {i}", show=False) for i in range(2, 10)],
        PaletteBinding("p", "pick_code", "Pick", title="Pick a code",
                       tooltip="Add, remove or level any code: type part of its key or name"),
        PaletteBinding("a", "accept", "Accept", title="Accept suggestions",
                       tooltip="Add every suggested code to this passage"),
        Binding("x", "no_code", "No code", tooltip="Record that this passage shows no competency"),
        PaletteBinding("l", "level", "Level", title="Set level", tooltip="Set the level of a code on this passage"),
        Binding("L", "take_levels", "Take proposed levels", show=False,
                tooltip="Give this passage's codes their proposed levels"),
        Binding("m", "memo", "Memo", tooltip="Write a memo on this passage (several lines)"),
        PaletteBinding("u", "undo", "Undo", title="Undo", tooltip="Undo your last action, moving to its passage"),
        PaletteBinding("U", "redo", "Redo", key_display="U/^y", title="Redo", show=False,
                       tooltip="Apply again the action you undid last"),
        Binding("ctrl+y", "redo", "Redo", show=False),
        PaletteBinding("slash", "find", "Find", key_display="/", title="Find passages",
                       tooltip="Search the text, or list the passages coded with a code, undecided or suggested"),
        PaletteBinding("b", "back_to_list", "Back", title="Back to the passages found",
                       tooltip="Return to the list of passages you jumped from"),
        PaletteBinding("g", "go_to", "Go to", title="Go to a passage or an interviewee",
                       tooltip="Type a passage number, an interviewee, or both (MC03 17)"),
        Binding("t", "focus_transcripts", "Transcripts", tooltip="Go to the transcript list"),
        Binding("escape", "close_transcripts", show=False),
        Binding("T", "retrain", "Retrain model", show=False,
                tooltip="Train your suggestion model on your decisions, in the background"),
        Binding("c", "consensus", "Consensus", show=False,
                tooltip="Reconcile the coders' disagreements into the consensus coding"),
        Binding("A", "analysis", "Analysis", show=False,
                tooltip="Outstanding vs average for your codings, with a bar chart"),
        Binding("D", "discover", "Discover", show=False,
                tooltip="Distinctive terms of each group and candidate themes in what no code covers"),
        PaletteBinding("question_mark", "help", "Help", key_display="?", title="Keys and codes",
                       tooltip="Show the keys and the dictionary"),
        Binding("q", "quit", "Quit", show=False),
    ]

    # Footer order on a narrow terminal, where the footer cannot show every key.
    NARROW_FOOTER_FIRST = ["help", "focus_transcripts", "pick_code", "find", "go_to", "level", "memo", "undo",
                           "accept", "no_code", "toggle(1)", "back_to_list"]

    def __init__(self, db_path: str, coder: str, blind: bool = False):
        super().__init__()
        self.db_path = db_path
        self.coder = coder
        self.blind = blind
        self.store = Store(db_path, create=False)
        self.dictionary = self.store.dictionary()
        if self.dictionary is None:
            raise StoreError(f"{db_path}: the study has no dictionary; load one with 'beicoder dictionary FILE.yaml'")
        self.competencies = {c.code: c for c in self.dictionary.competencies}
        self.code_order = self.dictionary.codes
        self.tracker = ProgressTracker(self.store, coder)
        self.transcripts: list[dict] = []
        self.by_id: dict[int, dict] = {}  # transcript id -> its dict in self.transcripts
        self.transcript_id: int | None = None
        self.passages = []
        self.index = 0
        self.last_code: str | None = None
        self.others: list[str] = []  # other coders with decisions (none when blind), people first
        self.others_done: dict[str, dict[int, int]] = {}  # other coder -> transcript id -> decided
        self._mounted = False
        self._narrow: bool | None = None  # below NARROW_BELOW columns (None: not laid out yet)
        self.nlp_state = "loading jieba + spaCy…"
        self.model: ModelInfo | None = read_model_meta(db_path, coder, self.dictionary)
        self.model_state = self._model_label()
        self.offered_at = 0
        self.session_id: int | None = None
        self.session_start = self.store.last_action_id()  # undoing an action up to this one asks first
        self._past_start_confirmed = False
        self._data_version: int | None = None
        self._shown_codes: set[str] = set()  # the coder's codes on the passage as last drawn
        self._shown_passage: int | None = None
        self.finder = FinderState(coder=coder)  # the find view's query and place, kept for "back"
        self.status: tuple[str, int | None] = ("", None)  # what the last key saved, and on which passage
        self.came_from_list = False
        self.next_best: dict | None = None  # the best code left out of the passage shown, when close

    @property
    def usual_levels(self) -> dict[str, int]:
        """The level this coder gives each code most often (kept by the tracker)."""
        return self.tracker.usual_levels()

    # -- the coder's model, as its metadata says ------------------------------------------------
    @property
    def model_stale(self) -> bool:
        """The saved model was trained with another version of the dictionary."""
        return self.model is not None and self.model.stale

    @property
    def trained_on(self) -> int:
        """Number of decisions the coder's saved model learned from (0: no usable model)."""
        return self.model.decisions if self.model is not None and not self.model.stale else 0

    @property
    def learned_passages(self) -> frozenset[int]:
        """Ids of the passages whose decisions the usable model learned (else none)."""
        return self.model.learned_passages if self.trained_on else frozenset()

    def _model_label(self) -> str:
        if self.trained_on:
            examples = self.model.dictionary_examples
            return f"model: {self.trained_on} decisions" + (f" + {examples} examples" if examples else "")
        return "model out of date: T retrains" if self.model_stale else ""

    # -- layout ---------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield TranscriptPanel(id="left")
            yield PassageView(id="center")
            with VerticalScroll(id="right", can_focus=False):
                with Horizontal(id="codes-title"):
                    yield Static("Codes", classes="title")
                    yield Static("Tab ↑/↓ Enter · p any code", id="codes-hint")
                yield CodesPanel(id="codes")
                yield EvidencePanel(id="evidence")
                yield CodeInfo(id="code-info")
        yield Footer()

    def on_mount(self) -> None:
        try:  # the report says whether coding was blind to the groups
            self.session_id = self.store.record_session(self.coder, self.blind)
        except StoreError as exc:
            self.notify(f"could not record this session: {exc}", severity="warning", timeout=6)
        self._warn_other_sessions()
        if self.model_stale:
            self.notify("your model was trained with another version of the dictionary; its suggestions are "
                        "not shown until you press T to retrain", severity="warning", timeout=10)
        self.app.title = "beicoder"
        self.app.sub_title = self._sub_title()
        to_review = len(self.store.review_items(self.coder))
        if to_review:
            self.notify(f"{to_review} of your decisions were set aside when a transcript was re-imported with "
                        "changed passages: list them with 'beicoder review' and code those passages again",
                        severity="warning", timeout=12)
        from ...core.language import english_study

        english = english_study(self.store)
        self.app.english_study = english  # the dialogs name codes in the study's language
        self.query_one(CodesPanel).english_names = english
        self.query_one("#code-info", CodeInfo).english = english
        self._show_progress()
        if self.transcripts:
            # Resume where this coder stopped: the first passage not decided yet.
            first = next((t for t in self.transcripts if t["n_decided"] < t["n_passages"]), self.transcripts[0])
            passages = self.store.passages(first["id"])
            index = next((i for i, p in enumerate(passages) if not self.tracker.is_decided(self.coder, p.id)), 0)
            self.open_transcript(first["id"], index)
        else:
            self.query_one(PassageView).show_message("", "This study has no transcripts yet: run 'beicoder import'.")
        self.query_one(PassageView).focus()
        self._mounted = True
        self._data_version = self.store.data_version()
        self.poll_timer = self.set_interval(POLL_S, self._poll)
        self.set_interval(HEARTBEAT_S, self._heartbeat)
        self.load_suggestions({p.id for p in self.passages}, self.trained_on > 0)
        self.start_llm({p.id for p in self.passages})  # a local LLM, when the config file names one
        # What was just read (the counts of a large study, the widgets) lives as long as the
        # screen: out of the garbage collector's way, its full collections stop showing up as
        # slow keystrokes.
        self.call_after_refresh(gc.freeze)

    def on_unmount(self) -> None:
        """Record that this session ended (the warning to a second session stops)."""
        if self.session_id is not None:
            try:
                self.store.end_session(self.session_id)
            except StoreError:
                pass
            self.session_id = None

    def _warn_other_sessions(self) -> None:
        try:
            others = self.store.open_sessions(self.coder, besides=self.session_id)
        except StoreError:
            return
        if not others:
            return
        where = "; ".join(f"since {o['started_at'][:16].replace('T', ' ')} UTC (process {o['pid']} on {o['host']})"
                          for o in others[:3])
        self.notify(f"another session of coder {self.coder} is open on this study: {where}. Both save every "
                    "decision, and each screen shows the other's changes within a second; a key acts on the "
                    "passage as stored, so you never undo the other's work unseen.",
                    title="Second session", severity="warning", timeout=20)

    def _sub_title(self) -> str:
        to_review = len(self.store.review_items(self.coder))
        return (f"{self.store.path.name} · coder {self.coder}" + (" · blind" if self.blind else "")
                + (f" · {to_review} to review" if to_review else ""))

    def on_screen_resume(self) -> None:
        """Back from another screen (the consensus screen, a dialog): take in what changed."""
        if self._mounted:
            self.app.sub_title = self._sub_title()
            self._sync()
            self.refresh_passage()

    def on_resize(self, event: events.Resize) -> None:
        """Below NARROW_BELOW columns the footer lists first the keys one cannot guess, and a
        transcript list that had the focus stays shown (otherwise it hides, see the
        breakpoint classes in app.tcss)."""
        narrow = event.size.width < NARROW_BELOW
        if narrow and self._narrow is False and self.query_one(TranscriptList).has_focus:
            self.add_class("-show-transcripts")
        if narrow != self._narrow:
            self._narrow = narrow
            self.refresh_bindings()

    # -- the palette ----------------------------------------------------------------------------
    def palette_offers(self, action: str) -> bool:
        """The command palette leaves out the screens refused while coding blind, and "back
        to the list" while there is no list to go back to."""
        if action == "back_to_list":
            return self.came_from_list
        return not (self.blind and action in ("consensus", "analysis", "discover"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The footer shows "back to list" only after a jump from the find view."""
        if action == "back_to_list":
            return self.came_from_list
        return True

    def palette_items(self) -> Iterable[SystemCommand]:
        """One palette command per dictionary code (toggle it on this passage), however many."""
        return code_commands(self.code_order, self.competencies, self.action_toggle)

    # -- other sessions and the change log ------------------------------------------------------
    def _poll(self) -> None:
        """Every second: has another connection written to the study? Then replay its changes."""
        try:
            version = self.store.data_version()
        except StoreError:
            return
        if version == self._data_version:
            return
        self._data_version = version
        changed = self._sync()
        mine = [c for c in changed.actions if c["coder"] == self.coder and c["kind"] != "study"]
        if mine and self.passage is not None and self.passage.id in changed.passages:
            self.notify("another session of yours changed this passage: the screen shows it as stored now",
                        severity="warning", timeout=6)

    def _heartbeat(self) -> None:
        if self.session_id is not None:
            self._touch_session(self.session_id)

    @work(thread=True, exclusive=True, group="heartbeat", exit_on_error=False)
    def _touch_session(self, session_id: int) -> None:
        """Say this session is still open, from a thread (the study may be busy a moment)."""
        store = Store(self.db_path, create=False)
        try:
            store.touch_session(session_id)
        finally:
            store.close()

    def _sync(self) -> Changed:
        """Replay the study's changes since the last look (this screen's own decisions and
        other sessions') into the counts, and redraw only what they touched: the progress
        cells of the transcripts concerned and, when it changed, the passage on screen."""
        try:
            changed = self.tracker.sync()
        except StoreError as exc:
            self.notify(f"could not read the study's changes: {exc}", severity="error", timeout=8)
            return Changed()
        if not changed:
            return changed
        if changed.reload:
            self._show_progress()
            if self.transcript_id in self.by_id:
                current = self.passage.id if self.passage is not None else None
                self.passages = self.store.passages(self.transcript_id)
                ids = [p.id for p in self.passages]
                self.index = ids.index(current) if current in ids else min(self.index, max(len(ids) - 1, 0))
            self.refresh_passage()
            return changed
        new_coders = False
        mine: set[int] = set()
        others: set[str] = set()
        for coder, tids in changed.counts.items():
            if coder == self.coder:
                for tid in tids:
                    if tid in self.by_id:
                        self.by_id[tid]["n_decided"] = self.tracker.done(coder, tid)
                mine |= tids
            elif coder in self.others_done:
                for tid in tids:
                    self.others_done[coder][tid] = self.tracker.done(coder, tid)
                mine |= tids
                others.add(coder)
            elif not self.blind:
                new_coders = True
        if new_coders:
            self._show_progress()
        elif mine:
            self.query_one(TranscriptPanel).update_counts(mine, others)
        if self.passage is not None and self.passage.id in changed.passages:
            self.refresh_passage()
        return changed

    # -- suggestions worker ---------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="suggest")
    def load_suggestions(self, first: set[int], with_model: bool) -> None:
        """Load jieba + spaCy and suggest codes for every passage not suggested yet (those in
        ``first`` first), then, ``with_model``, let the coder's saved model score the passages
        it has not seen (a transcript imported after training); in a thread with its own
        database connection. Posts SuggestionsProgress, then SuggestionsReady or, on a
        failure (NLP libraries, a locked study file), SuggestionsFailed: coding goes on
        without suggestions instead of the app closing."""
        worker = get_current_worker()
        try:
            self._suggest_all(worker, first, with_model)
        except _Cancelled:
            return  # the app is closing: stop between batches, everything done so far is stored
        except Exception as exc:  # noqa: BLE001 - suggestions are optional
            if not worker.is_cancelled:
                self.post_message(SuggestionsFailed(str(exc)))
            return
        self.post_message(SuggestionsReady())

    def _suggest_all(self, worker, first: set[int], with_model: bool) -> None:
        from ...core.suggest.learned import model_source, refresh_model_suggestions
        from ...core.suggest.lexicon import suggest_study

        store = Store(self.db_path, create=False)
        try:
            ids = store.passages_needing_suggestions("lexicon", self.dictionary.sha256)
            if ids:
                ids.sort(key=lambda i: i not in first)

                def progress(done: int, total: int) -> None:
                    if worker.is_cancelled:
                        raise _Cancelled
                    self.post_message(SuggestionsProgress("lexicon", done, total))

                suggest_study(store, self.dictionary, ids, batch=50, progress=progress)
            if with_model and store.passages_needing_suggestions(model_source(self.coder), self.dictionary.sha256):
                self.post_message(SuggestionsProgress("model"))
                refresh_model_suggestions(store, self.db_path, self.coder, self.dictionary)
        finally:
            store.close()

    def on_suggestions_progress(self, message: SuggestionsProgress) -> None:
        """Show how far the suggestion worker is on the title line."""
        if message.stage == "model":
            self.nlp_state = "model scoring new passages…"
        else:
            self.nlp_state = f"suggesting… {message.done}/{message.total}"
        self.refresh_passage()

    def on_suggestions_ready(self, _message: SuggestionsReady) -> None:
        """Every passage has its suggestions: show them."""
        self.nlp_state = READY
        self.refresh_passage()

    def on_suggestions_failed(self, message: SuggestionsFailed) -> None:
        """No suggestions this time: say why on the title line; coding goes on."""
        self.nlp_state = f"suggestions unavailable ({message.error})"
        self.refresh_passage()

    # -- training worker ------------------------------------------------------------------------
    def action_retrain(self) -> None:
        """T: train the coder's model in the background (once at a time)."""
        if self.model_state.startswith("training"):
            self.notify("training is already running")
            return
        self.model_state = "training…"
        self.refresh_passage()
        self.retrain()

    @work(thread=True, exclusive=True, group="train")
    def retrain(self) -> None:
        """Train the coder's model and score every passage with it, in a thread with its own
        connection; coding goes on meanwhile. Posts ModelTrained or TrainingFailed."""
        from ...core.suggest.learned import LearnedSuggester, store_model_suggestions, train

        store = Store(self.db_path, create=False)
        try:
            current = store.dictionary()
            if current is None or current.sha256 != self.dictionary.sha256:
                raise RuntimeError("the study's dictionary changed since this screen opened; "
                                   "quit and open 'beicoder code' again, then press T")
            result = train(store, self.coder, self.dictionary, self.db_path)
            store_model_suggestions(store, LearnedSuggester.load(result.path, self.dictionary), self.coder)
            info = read_model_meta(self.db_path, self.coder, self.dictionary)
            if info is None or info.stale:
                raise RuntimeError(f"{result.path}: the model was saved but its metadata cannot be read")
            self.post_message(ModelTrained(info))
        except Exception as exc:  # noqa: BLE001 - report, keep coding
            self.post_message(TrainingFailed(str(exc)))
        finally:
            store.close()

    def on_model_trained(self, message: ModelTrained) -> None:
        """Use the model just trained: its label, the passages it learned, a note."""
        self.model = message.info
        self.model_state = self._model_label()
        manual = message.info.dictionary_examples
        also = f" and the dictionary's {manual} examples" if manual else ""
        self.notify(f"model trained on {self.trained_on} of your decisions{also}; suggestions now blend it in")
        self.refresh_passage()

    def on_training_failed(self, message: TrainingFailed) -> None:
        """Say why training failed; the model saved before, if any, stays in use."""
        self.model_state = self._model_label()  # the model saved before, if any, is still the one in use
        self.notify(f"model not trained: {message.error}", severity="error", timeout=10)
        self.refresh_passage()

    def _offer_retraining(self) -> None:
        n = self.tracker.total(self.coder)
        if n - self.trained_on >= RETRAIN_EVERY and n - self.offered_at >= RETRAIN_EVERY:
            self.offered_at = n
            what = "retrain your model" if self.trained_on else "train a model on your decisions"
            self.notify(f"{n - self.trained_on} new decisions: press T to {what} (runs in the background)"
                        + self._curve_note(), timeout=8)

    def _curve_note(self) -> str:
        """What the coder's last learning curve ('beicoder evaluate --learning-curve') found at
        its last point, or nothing when there is none."""
        from ...core.evaluate import last_curve_point

        point = last_curve_point(self.db_path, self.coder)
        if point is None:
            return ""
        blend, lexicon = point["blend"], point["lexicon"]
        return (f"; your last learning curve: trained on {point['n']} decisions, the blend found {blend['recall']:.0%} "
                f"of the codes of your last {point['held_out']} passages at F1 {blend['f1']:.2f} (lexicon "
                f"{lexicon['f1']:.2f})")

    # -- navigation -----------------------------------------------------------------------------
    def open_transcript(self, transcript_id: int, index: int = 0) -> None:
        """Show passage ``index`` (clamped) of the transcript ``transcript_id``."""
        self.transcript_id = transcript_id
        self.passages = self.store.passages(transcript_id)
        self.index = max(0, min(index, len(self.passages) - 1))
        self.query_one(TranscriptList).select(transcript_id)
        self.refresh_passage()

    def go_to_passage(self, passage_id: int) -> bool:
        """Show the passage ``passage_id`` (opening its transcript). False when it is gone."""
        tid = self.tracker.transcript_of.get(passage_id) or self.store.transcript_of(passage_id)
        if tid is None or tid not in self.by_id:
            self.notify("that passage is no longer in the study (its transcript was re-imported?)",
                        severity="warning")
            return False
        if tid != self.transcript_id:
            self.transcript_id = tid
            self.passages = self.store.passages(tid)
            self.query_one(TranscriptList).select(tid)
        ids = [p.id for p in self.passages]
        self.index = ids.index(passage_id) if passage_id in ids else 0
        self.refresh_passage()
        self.query_one(PassageView).focus()
        return True

    def describe_passage(self, passage_id: int | None) -> str:
        """``MC03 passage 17`` for a passage id ('' for None or a passage no longer there)."""
        if passage_id is None:
            return ""
        tid = self.tracker.transcript_of.get(passage_id) or self.store.transcript_of(passage_id)
        if tid is None or tid not in self.by_id:
            return ""
        if tid == self.transcript_id:
            ordinal = next((p.ordinal for p in self.passages if p.id == passage_id), None)
        else:
            ordinal = None
        if ordinal is None:
            try:
                ordinal = self.store.passage(passage_id).ordinal
            except StoreError:
                return ""
        return f"{self.by_id[tid]['interviewee']} passage {ordinal}"

    @property
    def passage(self):
        """The passage shown, or None (a transcript without passages, or none open)."""
        return self.passages[self.index] if self.passages else None

    def on_transcript_list_opened(self, event: TranscriptList.Opened) -> None:
        """Open the transcript chosen in the list and go back to the passage."""
        self.open_transcript(event.transcript_id)
        self.remove_class("-show-transcripts")
        self.query_one(PassageView).focus()

    def action_focus_transcripts(self) -> None:
        """t: go to the transcript list (showing it on a narrow terminal); t again goes back."""
        table = self.query_one(TranscriptList)
        if table.has_focus:
            self.action_close_transcripts()
            return
        self.add_class("-show-transcripts")
        table.focus()

    def action_close_transcripts(self) -> None:
        """Esc: hide the transcript list (narrow terminal) and go back to the passage."""
        if self.has_class("-show-transcripts") or self.query_one(TranscriptList).has_focus:
            self.remove_class("-show-transcripts")
            self.query_one(PassageView).focus()
        elif self.query_one(CodesPanel).has_focus:
            self.query_one(PassageView).focus()

    def action_next_passage(self) -> None:
        """j/↓: the next passage of this transcript (stays on the last)."""
        if self.passages and self.index < len(self.passages) - 1:
            self.index += 1
            self.refresh_passage()

    def action_prev_passage(self) -> None:
        """k/↑: the previous passage of this transcript (stays on the first)."""
        if self.passages and self.index > 0:
            self.index -= 1
            self.refresh_passage()

    def action_next_undecided(self) -> None:
        """n: the next passage the coder has not decided, across transcripts, wrapping around
        (transcripts the coder has finished are skipped without being read)."""
        order = [t["id"] for t in self.transcripts]
        if not order:
            return
        start = order.index(self.transcript_id) if self.transcript_id in order else 0
        for k in range(len(order) + 1):
            tid = order[(start + k) % len(order)]
            t = self.by_id[tid]
            if 0 < k < len(order) and t["n_decided"] >= t["n_passages"]:
                continue
            passages = self.passages if tid == self.transcript_id else self.store.passages(tid)
            begin = self.index + 1 if k == 0 else 0
            end = self.index + 1 if k == len(order) else len(passages)
            for i in range(begin, min(end, len(passages))):
                if not self.tracker.is_decided(self.coder, passages[i].id):
                    if tid != self.transcript_id:
                        self.open_transcript(tid, i)
                    else:
                        self.index = i
                        self.refresh_passage()
                    return
        self.notify("every passage is decided by you")

    def action_go_to(self) -> None:
        """g: go to a passage number of this transcript, an interviewee, or both (``MC03 17``)."""
        names = sorted({t["interviewee"] for t in self.transcripts})

        def done(typed: str | None) -> None:
            if typed is None:
                return
            try:
                tid, number = resolve_goto(typed, self.transcripts, self.transcript_id)
            except ValueError as exc:
                self.notify(str(exc), severity="warning", timeout=6)
                return
            passages = self.passages if tid == self.transcript_id else self.store.passages(tid)
            t = self.by_id[tid]
            if number is not None and not 1 <= number <= len(passages):
                self.notify(f"{t['interviewee']} has {len(passages)} passage{'' if len(passages) == 1 else 's'}: "
                            f"there is no passage {number}", severity="warning", timeout=6)
                return
            index = next((i for i, p in enumerate(passages) if p.ordinal == number), number - 1) if number else 0
            self.open_transcript(tid, index)
            self.remove_class("-show-transcripts")
            self.query_one(PassageView).focus()

        self.app.push_screen(GoToScreen(names, len(self.passages)), done)

    # -- the find view (coded segments and text search) --------------------------------------------
    def action_find(self) -> None:
        """/: the find view: passages holding some text, coded with a code (by group, coder,
        level), undecided or suggested; Enter there jumps to the passage, b comes back."""
        coders = [] if self.blind else [c for c in self.tracker.coders() if c != self.coder]
        groups = [] if self.blind else sorted({t["grp"] for t in self.transcripts if t["grp"]})

        def done(passage_id: int | None) -> None:
            if passage_id is None:
                return
            if self.go_to_passage(passage_id):
                self.came_from_list = True
                self.refresh_bindings()
                self.query_one(PassageView).focus()

        self.app.push_screen(FinderScreen(self.db_path, self.dictionary, self.finder, coders, groups, self.blind),
                             done)

    def action_back_to_list(self) -> None:
        """b: back to the list of passages found, where it was left."""
        if self.came_from_list:
            self.action_find()

    # -- suggestions as shown -------------------------------------------------------------------
    def shown_suggestions(self, passage_id: int) -> list[dict]:
        """What the coder sees for a passage: the lexicon's suggestions, blended with the
        coder's model where it has scored the passage, the keyword matches the model scored
        low, muted (see :mod:`beicoder.core.suggest.shown`), and the local LLM's when one is
        configured (see llm_source). For the passage on screen, also keeps in ``next_best``
        the best code left out when its score is close (see ``next_best`` in
        :mod:`beicoder.core.suggest.learned`)."""
        from ...core.suggest.learned import model_source, next_best
        from ...core.suggest.shown import shown_suggestions

        rows = self.store.suggestions_for(passage_id)
        has_model = self.trained_on > 0 and self.store.has_suggestions_from(
            passage_id, model_source(self.coder), self.dictionary.sha256)
        passage = self.passage if self.passage is not None and self.passage.id == passage_id else None
        on_screen = passage is not None
        passage = passage or next((p for p in self.passages if p.id == passage_id), None)
        length = len(passage.text) if passage is not None else len(self.store.passage(passage_id).text)
        thresholds = {"blend_threshold": self.model.blend_threshold,
                      "model_threshold": self.model.model_threshold} if self.trained_on else {}
        if on_screen:
            self.next_best = next_best(rows, self.coder, has_model, length, **thresholds)
        return self.with_llm_suggestions(shown_suggestions(rows, self.coder, has_model, length, **thresholds),
                                         passage_id)

    def proposed_levels(self, suggestions: list[dict], codings: dict) -> dict[str, tuple[int, str]]:
        """Proposed level and why, for each of the passage's codes that has no level yet: the
        dictionary's level cue found in the passage, else the level this coder usually gives."""
        by_code = {s["code"]: s for s in suggestions}
        usual = self.usual_levels
        out = {}
        for code, c in codings.items():
            if c["level"] is not None:
                continue
            s = by_code.get(code)
            if s and s.get("level") is not None:
                out[code] = (s["level"], f"cue {s['level_cue']}")
            elif code in usual:
                out[code] = (usual[code], "your usual level")
        return out

    # -- coding actions -------------------------------------------------------------------------
    _FAILED = object()

    def _save(self, what: str, fn: Callable[..., Any], *args) -> Any:
        """Run a store write; on failure say so loudly and keep the app running."""
        try:
            return fn(*args)
        except StoreError as exc:
            self.notify(f"NOT saved ({what}): {exc}", severity="error", timeout=10)
            return self._FAILED

    def _after_change(self, message: str, toast: bool = False) -> None:
        """After a write: replay it into the counts, redraw what it touched, and say what was
        saved on the passage's title line (``message``; also as a toast with ``toast``: an
        undo that moved the screen, a key that met another session's change)."""
        self.status = (message, self.passage.id if self.passage is not None else None)
        changed = self._sync()
        if changed.reload or self.passage is None or self.passage.id not in changed.passages:
            self.refresh_passage()  # (else _sync has redrawn it)
        if toast:
            self.notify(message, timeout=4)
        self._offer_retraining()

    def action_toggle(self, n: int) -> None:
        """1–9: add or remove the ``n``-th dictionary code (1 = first) on this passage, as
        stored (another session's change is never undone unseen: the note says so)."""
        if self.passage is None:
            return
        if not 1 <= n <= len(self.code_order):
            self.notify(f"no code {n} in this dictionary ({len(self.code_order)} codes)", severity="warning")
            return
        code = self.code_order[n - 1]
        self.query_one(CodesPanel).highlight(code)
        self._toggle(code)

    def _toggle(self, code: str) -> None:
        seen = code in self._shown_codes and self._shown_passage == self.passage.id
        added = self._save(code, self.store.toggle_code, self.passage.id, self.coder, code)
        if added is self._FAILED:
            return
        self.last_code = code if added else self.last_code
        note = ""
        if added == seen:  # the stored state was not what the screen showed
            note = f" (another session had {'removed' if added else 'added'} it)"
        self._after_change(f"{'added' if added else 'removed'} {code}{note} · saved", toast=bool(note))

    def on_codes_panel_toggle(self, message: CodesPanel.Toggle) -> None:
        """Enter or a click on a row of the Codes pane: add or remove that code."""
        if self.passage is not None:
            self._toggle(message.code)

    def on_codes_panel_highlighted(self, message: CodesPanel.Highlighted) -> None:
        """The Codes pane's cursor moved: show that code's definition and levels."""
        self._show_code_info(message.code)
        if self.query_one(CodesPanel).has_focus:
            self.query_one("#right", VerticalScroll).scroll_to_widget(self.query_one(CodeInfo), animate=False)

    def action_pick_code(self) -> None:
        """p: the code picker: any code by its key or name; add, remove or give it a level."""
        if self.passage is None:
            return
        pid = self.passage.id
        codings = {c["code"]: c for c in self.store.codings_for(pid, self.coder)}
        scores = {s["code"]: s["score"] for s in self.shown_suggestions(pid) if not s.get("muted")}

        def done(pick: Pick | None) -> None:
            if pick is None or self.passage is None or self.passage.id != pid:
                return
            self.query_one(CodesPanel).highlight(pick.code)
            if pick.op == "toggle":
                self._toggle(pick.code)
                return
            what = self._save(pick.code, self.store.put_code, pid, self.coder, pick.code, pick.level)
            if what is self._FAILED:
                return
            self.last_code = pick.code
            self._after_change(f"{pick.code} level {pick.level} ({'added' if what == 'added' else what}) · saved")

        self.app.push_screen(CodePickerScreen(self.code_order, self.competencies, codings, scores, self.last_code),
                             done)

    def action_accept(self) -> None:
        """a: add every suggested code to this passage, in one undoable action (not the muted
        keyword matches your model scored low: they are evidence, not suggestions)."""
        if self.passage is None:
            return
        suggested = [s["code"] for s in self.shown_suggestions(self.passage.id) if not s.get("muted")]
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
        """x: record that this passage shows no competency (removes the coder's codes on it)."""
        if self.passage is None:
            return
        if self._save("no code", self.store.mark_no_code, self.passage.id, self.coder) is self._FAILED:
            return
        self._after_change("no code · saved")

    def action_take_levels(self) -> None:
        """L: give the codes without a level their proposed level, in one action."""
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

    def action_undo(self) -> None:
        """u: undo the coder's last action, say what and where, and move to its passage. The
        first undo that would reach back before this session began asks first (once)."""
        upcoming = self._save("undo", self.store.next_undo, self.coder)
        if upcoming is self._FAILED:
            return
        if upcoming is None:
            self.notify("nothing to undo", severity="warning")
            return
        if upcoming.id <= self.session_start and not self._past_start_confirmed:
            where = self.describe_passage(upcoming.passage_id)
            where = f" on {where}" if where else f" ({upcoming.rows} changes on several passages)"
            made = upcoming.at[:16].replace("T", " ")
            origin = "" if upcoming.origin == "keyboard" else f", from {upcoming.origin}"

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self._past_start_confirmed = True
                    self._undo_or_redo(redo=False)

            self.app.push_screen(ConfirmScreen(
                "Undo past the start of this session?\n\n"
                f"Everything you did in this session is undone. The next undo takes back “{upcoming.description}”"
                f"{where}, made {made} UTC{origin}, before this session began; each further u goes further back "
                "through your history.\n\nAsked once per session.", yes="Undo it", no="Keep it"), confirmed)
            return
        self._undo_or_redo(redo=False)

    def action_redo(self) -> None:
        """U / ctrl+y: apply again the action undone last, and move to its passage."""
        self._undo_or_redo(redo=True)

    def _undo_or_redo(self, redo: bool) -> None:
        what = "redo" if redo else "undo"
        done = self._save(what, self.store.redo_action if redo else self.store.undo_action, self.coder)
        if done is self._FAILED:
            return
        if done is None:
            self.notify(f"nothing to {what}", severity="warning")
            return
        self._after_change(f"{'redone' if redo else 'undone'}: {self._moved_to(done)}", toast=True)

    def _moved_to(self, done: ActionRecord) -> str:
        """Move to the passage of an action undone or redone; its description and place."""
        if done.passage_id is not None and self.go_to_passage(done.passage_id):
            return f"{done.description} on {self.describe_passage(done.passage_id)}"
        return f"{done.description} ({done.rows} changes on several passages)"

    def action_level(self) -> None:
        """l: the level dialog for one of this passage's codes."""
        if self.passage is None:
            return
        codings = self.store.codings_for(self.passage.id, self.coder)
        if not codings:
            self.notify("add a code first (1–9, p or a)", severity="warning")
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
        """m: the memo editor for this passage (several lines; saved whole)."""
        if self.passage is None:
            return
        mark = self.store.mark_for(self.passage.id, self.coder)
        pid = self.passage.id

        def done(text) -> None:
            if text is not None and self._save("memo", self.store.set_memo, pid, self.coder, text) is not self._FAILED:
                self._after_change("memo saved" if text.strip() else "memo cleared")

        self.app.push_screen(MemoScreen((mark or {}).get("memo") or "", self.describe_passage(pid)), done)

    def action_help(self) -> None:
        """?: the keys and the dictionary's codes."""
        self.app.push_screen(HelpScreen(list(self.dictionary.competencies)))

    def action_consensus(self) -> None:
        """c: the consensus screen, for the coders named with --consensus, else for every coder
        with decisions except the consensus coder. Refused when coding blind."""
        from ...core.reliability import ReliabilityError
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

    def action_discover(self) -> None:
        """D: distinctive terms and candidate themes (the discovery screen). Refused when coding blind."""
        from .discovery import DiscoveryScreen

        if self.blind:
            self.notify("coding blind: discovery compares the groups (start without --blind to see it)",
                        severity="warning", timeout=6)
            return
        self.app.push_screen(DiscoveryScreen(self.db_path, self.coder))

    async def action_quit(self) -> None:
        """q: quit."""
        self.app.exit()

    # -- drawing --------------------------------------------------------------------------------
    def _show_progress(self) -> None:
        """Show every coder's progress in the transcript list, from the tracker's counts: the
        other coders with decisions (none when blind; people first, then the consensus and
        reference)."""
        self.transcripts = self.store.transcripts()
        for t in self.transcripts:
            t["n_decided"] = self.tracker.done(self.coder, t["id"])
        self.by_id = {t["id"]: t for t in self.transcripts}
        if self.blind:
            self.others, self.others_done = [], {}
        else:
            special = [getattr(self.app, "consensus_coder", CONSENSUS_CODER), "reference"]
            self.others = sorted((c for c in self.tracker.coders() if c != self.coder),
                                 key=lambda c: (special.index(c) if c in special else -1, c))
            self.others_done = {c: self.tracker.done_by(c) for c in self.others}
        with_groups = not self.blind and any(t["grp"] for t in self.transcripts)
        self.query_one(TranscriptPanel).show(self.transcripts, self.others, self.others_done, with_groups)

    def refresh_passage(self) -> None:
        """Redraw the passage, its decision, the Codes and the Evidence panes."""
        p = self.passage
        view = self.query_one(PassageView)
        if p is None:
            t = self.by_id.get(self.transcript_id)
            view.show_message(f"{t['interviewee']}  ·  no passages" if t else "no passages in this transcript",
                              NO_PASSAGES if t else "")
            self._shown_codes, self._shown_passage = set(), None
            self.next_best = None
            self._show_panes([], {}, False)
            return
        t = self.by_id[self.transcript_id]
        suggestions = self.shown_suggestions(p.id)
        codings = {c["code"]: c for c in self.store.codings_for(p.id, self.coder)}
        mark = self.store.mark_for(p.id, self.coder) or {}
        status, on = self.status
        where = Text.assemble(
            (f"{t['interviewee']}", "bold"), "" if self.blind else f"  ({t['grp'] or 'no group'})",
            f"  ·  passage {p.ordinal}/{len(self.passages)}",
            f"  ·  characters {p.start}–{p.end}  ·  {self.nlp_state}",
            f"  ·  {self.model_state}" if self.model_state else "", f"  ·  {self.llm_state}" if self.llm_state else "",
            (f"  ·  {status}" if status and on == p.id else "", "bold green"))
        if p.id != self._shown_passage:
            view.scroll_to_top()
        view.show(where, self.store.question_turn_for(p), p.text, suggestions, self.code_order,
                  decision_line(codings, mark, self.proposed_levels(suggestions, codings)), self._found_in(p.text))
        self._shown_codes, self._shown_passage = set(codings), p.id
        self._show_panes(suggestions, codings, p.id in self.learned_passages)

    def _found_in(self, text: str) -> tuple[tuple[int, int], ...]:
        """Spans of the find view's search words in ``text``, once a passage was opened from
        the list (so the words searched for stand out); none otherwise."""
        if not self.came_from_list or not self.finder.text.strip():
            return ()
        from ...core.retrieval import match_spans, search_terms

        return match_spans(text, search_terms(self.finder.text))

    def _show_panes(self, suggestions: list[dict], codings: dict, learned: bool) -> None:
        panel = self.query_one(CodesPanel)
        panel.show(self.code_order, self.competencies, suggestions, codings)
        empty = "none" if self.nlp_state == READY else self.nlp_state
        self.query_one(EvidencePanel).show(suggestions, self.code_order, empty, learned, self.next_best)
        self._show_code_info(panel.highlighted_code, codings)

    def _show_code_info(self, code: str | None, codings: dict | None = None) -> None:
        if code is None:
            return
        if codings is None:
            rows = self.store.codings_for(self.passage.id, self.coder) if self.passage else []
            codings = {c["code"]: c for c in rows}
        level = codings[code]["level"] if code in codings else None
        self.query_one(CodeInfo).show(self.competencies[code], level)
