"""The coding screen: transcripts on the left, the passage in the middle, codes on the right.

Every decision goes straight to the study file through :class:`beicoder.core.store.Store`.
The NLP pipeline (jieba + spaCy) loads in a thread worker, so the screen paints first and
suggestions appear when ready; training the coder's model runs in another. Workers post the
messages of :mod:`beicoder.tui.messages`; only their handlers change the screen's state.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header
from textual.worker import get_current_worker

from ...core.store import Store, StoreError
from ...core.suggest.learned import ModelInfo, read_model_meta
from ..commands import PaletteBinding, code_commands
from ..messages import ModelTrained, SuggestionsFailed, SuggestionsProgress, SuggestionsReady, TrainingFailed
from ..widgets.codes_panel import CodesPanel
from ..widgets.evidence_panel import EvidencePanel
from ..widgets.passage_view import PassageView, decision_line
from ..widgets.transcript_list import TranscriptList
from ..widgets.transcript_panel import TranscriptPanel
from .consensus import CONSENSUS_CODER
from .dialogs import HelpScreen, LevelScreen, MemoScreen
from .footer import NARROW_BELOW, NarrowFooter

RETRAIN_EVERY = 20  # new decisions after which retraining the coder's model is offered
READY = "suggestions ready"


class _Cancelled(Exception):
    """Raised inside the suggestion worker when the app is closing."""


class CodingScreen(NarrowFooter, Screen):
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
        PaletteBinding("k", "prev_passage", "Prev", key_display="k/↑", title="Previous passage",
                       tooltip="Move to the previous passage"),
        Binding("down", "next_passage", "Next", show=False),
        Binding("up", "prev_passage", "Prev", show=False),
        PaletteBinding("n", "next_undecided", "Next undecided", title="Next undecided passage",
                       tooltip="Next passage you have not coded or marked"),
        Binding("a", "accept", "Accept suggestions", tooltip="Add every suggested code to this passage"),
        Binding("x", "no_code", "No code", tooltip="Record that this passage shows no competency"),
        PaletteBinding("l", "level", "Level", title="Set level", tooltip="Set the level of a code on this passage"),
        Binding("L", "take_levels", "Take proposed levels", show=False,
                tooltip="Give this passage's codes their proposed levels"),
        Binding("T", "retrain", "Retrain model", show=False,
                tooltip="Train your suggestion model on your decisions, in the background"),
        Binding("c", "consensus", "Consensus", show=False,
                tooltip="Reconcile the coders' disagreements into the consensus coding"),
        Binding("A", "analysis", "Analysis", show=False,
                tooltip="Outstanding vs average for your codings, with a bar chart"),
        Binding("m", "memo", "Memo", tooltip="Write a memo on this passage"),
        Binding("u", "undo", "Undo", tooltip="Undo your last action"),
        Binding("t", "focus_transcripts", "Transcripts", tooltip="Go to the transcript list"),
        Binding("escape", "close_transcripts", show=False),
        PaletteBinding("question_mark", "help", "Help", key_display="?", title="Keys and codes",
                       tooltip="Show the keys and the dictionary"),
        Binding("q", "quit", "Quit"),
    ] + [Binding("1", "toggle(1)", "Toggle code", key_display="1–9")] + [
        Binding(str(i), f"toggle({i})", f"Toggle code {i}", show=False) for i in range(2, 10)]

    # Footer order on a narrow terminal, where the footer cannot show every key.
    NARROW_FOOTER_FIRST = ["help", "focus_transcripts", "level", "memo", "undo", "accept", "no_code", "toggle(1)"]

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
        self.others: list[str] = []  # other coders with decisions (none when blind), people first
        self.others_done: dict[str, dict[int, int]] = {}  # other coder -> transcript id -> decided
        self._mounted = False
        self._narrow: bool | None = None  # below NARROW_BELOW columns (None: not laid out yet)
        self.nlp_state = "loading jieba + spaCy…"
        self.usual_levels: dict[str, int] = {}
        self.model: ModelInfo | None = read_model_meta(db_path, coder, self.dictionary)
        self.model_state = self._model_label()
        self.offered_at = 0
        self.next_best: dict | None = None  # the best code left out of the passage shown, when close

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
            with VerticalScroll(id="right"):
                yield CodesPanel(id="codes")
                yield EvidencePanel(id="evidence")
        yield Footer()

    def on_mount(self) -> None:
        from ...core.suggest.learned import usual_levels

        self.usual_levels = usual_levels(self.store, self.coder)
        try:  # the report says whether coding was blind to the groups
            self.store.record_session(self.coder, self.blind)
        except StoreError as exc:
            self.notify(f"could not record this session: {exc}", severity="warning", timeout=6)
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
        self._show_progress()
        if self.transcripts:
            # Resume where this coder stopped: the first passage not decided yet.
            first = next((t for t in self.transcripts if t["n_decided"] < t["n_passages"]), self.transcripts[0])
            decided = self.store.decided_passages(self.coder)
            passages = self.store.passages(first["id"])
            index = next((i for i, p in enumerate(passages) if p.id not in decided), 0)
            self.open_transcript(first["id"], index)
        else:
            self.query_one(PassageView).show_message("", "This study has no transcripts yet: run 'beicoder import'.")
        self.query_one(PassageView).focus()
        self._mounted = True
        self.load_suggestions({p.id for p in self.passages}, self.trained_on > 0)

    def _sub_title(self) -> str:
        to_review = len(self.store.review_items(self.coder))
        return (f"{self.store.path.name} · coder {self.coder}" + (" · blind" if self.blind else "")
                + (f" · {to_review} to review" if to_review else ""))

    def on_screen_resume(self) -> None:
        """Back from another screen (the consensus screen, a dialog): the other coders'
        progress may have changed."""
        if self._mounted:
            self.app.sub_title = self._sub_title()
            self._show_progress()
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
        """The command palette leaves out the screens refused while coding blind."""
        return not (self.blind and action in ("consensus", "analysis"))

    def palette_items(self) -> Iterable[SystemCommand]:
        """One palette command per dictionary code (toggle it on this passage)."""
        return code_commands(self.code_order, self.competencies, self.action_toggle)

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
        n = len(self.store.decided_passages(self.coder))
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
        """n: the next passage the coder has not decided, across transcripts, wrapping around."""
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

    # -- suggestions as shown -------------------------------------------------------------------
    def shown_suggestions(self, passage_id: int) -> list[dict]:
        """What the coder sees for a passage: the lexicon's suggestions, blended with the
        coder's model where it has scored the passage (see core.suggest.learned)."""
        from ...core.suggest.learned import blended_suggestions, model_source, next_best

        rows = self.store.suggestions_for(passage_id)
        has_model = self.store.has_suggestions_from(passage_id, model_source(self.coder), self.dictionary.sha256)
        passage = next((p for p in self.passages if p.id == passage_id), None)
        if passage is not None:
            length = len(passage.text)
        else:
            length = len(self.store.passage(passage_id).text)
        thresholds = {"blend_threshold": self.model.blend_threshold,
                      "model_threshold": self.model.model_threshold} if self.trained_on else {}
        self.next_best = next_best(rows, self.coder, has_model, length, **thresholds)
        return blended_suggestions(rows, self.coder, has_model, length, **thresholds)

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

    # -- coding actions -------------------------------------------------------------------------
    _FAILED = object()

    def _save(self, what: str, fn: Callable[..., Any], *args) -> Any:
        """Run a store write; on failure say so loudly and keep the app running."""
        try:
            return fn(*args)
        except StoreError as exc:
            self.notify(f"NOT saved ({what}): {exc}", severity="error", timeout=10)
            return self._FAILED

    def _after_change(self, message: str) -> None:
        from ...core.suggest.learned import usual_levels

        self.usual_levels = usual_levels(self.store, self.coder)
        self.refresh_passage()
        self._show_progress()
        self.notify(message, timeout=2)
        self._offer_retraining()

    def action_toggle(self, n: int) -> None:
        """1–9: add or remove the ``n``-th dictionary code (1 = first) on this passage."""
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
        """a: add every suggested code to this passage, in one undoable action."""
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
        """u: undo the coder's last action."""
        what = self._save("undo", self.store.undo, self.coder)
        if what is self._FAILED:
            return
        if what is None:
            self.notify("nothing to undo", severity="warning")
            return
        self.refresh_passage()
        self._show_progress()
        self.notify(f"undone: {what}", timeout=2)

    def action_level(self) -> None:
        """l: the level dialog for one of this passage's codes."""
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
        """m: the memo dialog for this passage."""
        if self.passage is None:
            return
        mark = self.store.mark_for(self.passage.id, self.coder)
        pid = self.passage.id

        def done(text) -> None:
            if text is not None and self._save("memo", self.store.set_memo, pid, self.coder, text) is not self._FAILED:
                self._after_change("memo saved")

        self.app.push_screen(MemoScreen((mark or {}).get("memo") or ""), done)

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

    async def action_quit(self) -> None:
        """q: quit."""
        self.app.exit()

    # -- drawing --------------------------------------------------------------------------------
    def _show_progress(self) -> None:
        """Read every coder's progress and show it in the transcript list: the other coders
        with decisions (none when blind; people first, then the consensus and reference)."""
        self.transcripts = self.store.transcripts(self.coder)
        if self.blind:
            self.others, self.others_done = [], {}
        else:
            special = [getattr(self.app, "consensus_coder", CONSENSUS_CODER), "reference"]
            self.others = sorted((c for c in self.store.coders() if c != self.coder),
                                 key=lambda c: (special.index(c) if c in special else -1, c))
            self.others_done = {c: {t["id"]: t["n_decided"] for t in self.store.transcripts(c)} for c in self.others}
        with_groups = not self.blind and any(t["grp"] for t in self.transcripts)
        self.query_one(TranscriptPanel).show(self.transcripts, self.others, self.others_done, with_groups)

    def refresh_passage(self) -> None:
        """Redraw the passage, its decision, the Codes and the Evidence panes."""
        p = self.passage
        view = self.query_one(PassageView)
        if p is None:
            view.show_message("no passages in this transcript")  # not the previous transcript's
            self.next_best = None
            self._show_panes([], {}, False)
            return
        t = next(t for t in self.transcripts if t["id"] == self.transcript_id)
        suggestions = self.shown_suggestions(p.id)
        codings = {c["code"]: c for c in self.store.codings_for(p.id, self.coder)}
        mark = self.store.mark_for(p.id, self.coder) or {}
        where = Text.assemble(
            (f"{t['interviewee']}", "bold"), "" if self.blind else f"  ({t['grp'] or 'no group'})",
            f"  ·  passage {p.ordinal}/{len(self.passages)}",
            f"  ·  characters {p.start}–{p.end}  ·  {self.nlp_state}",
            f"  ·  {self.model_state}" if self.model_state else "")
        view.show(where, self.store.question_turn_for(p), p.text, suggestions, self.code_order,
                  decision_line(codings, mark, self.proposed_levels(suggestions, codings)))
        self._show_panes(suggestions, codings, p.id in self.learned_passages)

    def _show_panes(self, suggestions: list[dict], codings: dict, learned: bool) -> None:
        self.query_one(CodesPanel).show(self.code_order, self.competencies, suggestions, codings)
        empty = "none" if self.nlp_state == READY else self.nlp_state
        self.query_one(EvidencePanel).show(suggestions, self.code_order, empty, learned, self.next_best)
