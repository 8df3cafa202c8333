"""The dialogs (modal screens) of the coding and consensus screens: level, memo, confirm, go to,
help (the code picker has a module of its own)."""

from __future__ import annotations

import unicodedata

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

# What the level input lets through while typing: an optional minus (ASCII, full-width or
# the minus sign), digits (ASCII or full-width, as a Chinese IME types them), or "?" alone
# (ASCII or full-width), which clears the level. The value is NFKC-normalised on Enter.
LEVEL_INPUT = r"[-－−]?[0-9０-９]*|[?？]"


def normalize_level(value: str) -> str:
    """``value`` with full-width digits, minus and question mark made ASCII, spaces stripped."""
    return unicodedata.normalize("NFKC", value).replace("−", "-").strip()


class LevelScreen(ModalScreen[tuple[str, int | None] | None]):
    """Choose one of the passage's codes and type its level; returns (code, level) or None.

    The prompt above the input names the code the typed level goes to. ↑/↓ stop at the
    first and last code (no wrapping, so a level never lands on a code the coder did not
    see highlighted). Enter on an empty input only reminds; ``?`` + Enter clears the level.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("up", "move(-1)", "Previous code", show=False),
        Binding("down", "move(1)", "Next code", show=False),
        Binding("tab", "move(1)", "Next code", show=False),
        Binding("shift+tab", "move(-1)", "Previous code", show=False),
        Binding("pageup", "scroll_indicators(-1)", "Scroll the levels", show=False),
        Binding("pagedown", "scroll_indicators(1)", "Scroll the levels", show=False),
    ]

    # On a short terminal (under 18 rows) the help line and the level indicators give way, so
    # the codes, the prompt and the input always fit (even at 40x10).
    VERTICAL_BREAKPOINTS = [(0, "-short"), (18, "-tall")]

    def __init__(self, codings: list[dict], competencies: dict, selected: str | None = None):
        super().__init__()
        self.codings = codings
        self.competencies = competencies
        self.selected = selected

    def compose(self) -> ComposeResult:
        with Vertical(id="level-box", classes="modal-box"):
            yield Static("[b]Set the level of a code[/b]   ↑/↓ choose the code · type the level · Enter saves · "
                         "? + Enter clears the level · Esc cancels", id="level-help")
            options = [Option(self._option_text(c, False), id=c["code"]) for c in self.codings]
            codes = OptionList(*options, id="level-codes")
            codes.can_focus = False  # the input keeps the focus; ↑/↓ are the screen's (no wrap)
            yield codes
            yield Label(id="level-prompt")
            yield Input(placeholder="level, e.g. 3", id="level-input", restrict=LEVEL_INPUT, compact=True)
            with VerticalScroll(id="level-indicators-box"):
                yield Static(id="level-indicators")

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        # The first code still without a level, else the code last touched, else the first.
        unlevelled = [i for i, c in enumerate(self.codings) if c["level"] is None]
        touched = [i for i, c in enumerate(self.codings) if c["code"] == self.selected]
        index = (unlevelled or touched or [0])[0]
        ol.highlighted = index
        self._show_code()
        self.query_one(Input).focus()

    def _option_text(self, coding: dict, highlighted: bool) -> str:
        comp = self.competencies[coding["code"]]
        lv = "?" if coding["level"] is None else str(coding["level"])
        return f"{'▶' if highlighted else ' '} {coding['code']}  {self._competency_name(comp)}  level {lv}"

    def _competency_name(self, comp) -> str:
        """The competency's name, in English first in an English study (see CodingScreen)."""
        if getattr(self.app, "english_study", False):
            return comp.name_en or comp.name_zh
        return comp.name_zh or comp.name_en

    def _code(self) -> str:
        ol = self.query_one(OptionList)
        return self.codings[ol.highlighted or 0]["code"]

    def _show_code(self) -> None:
        """Mark the highlighted code, name it in the prompt and list its level indicators."""
        ol = self.query_one(OptionList)
        for i, c in enumerate(self.codings):
            ol.replace_option_prompt_at_index(i, self._option_text(c, i == (ol.highlighted or 0)))
        comp = self.competencies[self._code()]
        self.query_one("#level-prompt", Label).update(Text.assemble(
            "Level for ", (f"{comp.code} {self._competency_name(comp)}", "bold reverse"),
            f" ({comp.min_level}–{comp.max_level}):"))
        grid = Table.grid(padding=(0, 1))
        grid.add_column(justify="right", style="bold", no_wrap=True)
        grid.add_column(ratio=1, overflow="fold")
        english = getattr(self.app, "english_study", False)
        for lv in comp.levels:
            grid.add_row(str(lv.level), (lv.indicator_en or lv.indicator_zh) if english
                         else (lv.indicator_zh or lv.indicator_en))
        self.query_one("#level-indicators", Static).update(grid)

    def on_option_list_option_highlighted(self, _event) -> None:
        self._show_code()

    def on_option_list_option_selected(self, _event) -> None:
        self.query_one(Input).focus()  # a click on a code: type its level next

    def action_move(self, step: int) -> None:
        ol = self.query_one(OptionList)
        current = ol.highlighted or 0
        target = max(0, min(len(self.codings) - 1, current + step))
        if target == current:
            self.app.bell()  # already on the first / last code: stay there
            return
        ol.highlighted = target

    def action_scroll_indicators(self, direction: int) -> None:
        box = self.query_one("#level-indicators-box", VerticalScroll)
        box.scroll_page_down() if direction > 0 else box.scroll_page_up()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = normalize_level(event.value)
        comp = self.competencies[self._code()]
        if value == "":
            self.notify("type a level, or Esc to cancel", severity="warning")
            return
        if value == "?":
            self.dismiss((self._code(), None))
            return
        try:
            level = int(value)
        except ValueError:
            self.notify("type a whole number", severity="error")
            return
        if not comp.min_level <= level <= comp.max_level:
            self.notify(f"{comp.code} levels run {comp.min_level}..{comp.max_level}", severity="error")
            return
        self.dismiss((self._code(), level))

    def action_cancel(self) -> None:
        self.dismiss(None)


class MemoScreen(ModalScreen[str | None]):
    """Edit the memo of a passage in a multi-line editor (Textual's ``TextArea``: Enter
    starts a new line, pasted text keeps all its lines); returns the whole text (empty
    clears the memo) or None when cancelled. Nothing is ever cut."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Save")]

    def __init__(self, memo: str, where: str = ""):
        super().__init__()
        self.memo = memo
        self.where = where

    def compose(self) -> ComposeResult:
        with Vertical(id="memo-box", classes="modal-box"):
            yield Static(f"[b]Memo{' on ' + self.where if self.where else ''}[/b]: Enter starts a new line · "
                         "ctrl+s saves · Esc cancels · empty clears", id="memo-help")
            yield TextArea(self.memo, id="memo-input", soft_wrap=True, show_line_numbers=False)
            with Horizontal(id="memo-buttons"):
                yield Button("Save (ctrl+s)", id="memo-save", variant="primary", compact=True)
                yield Button("Cancel (Esc)", id="memo-cancel", compact=True)

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_save() if event.button.id == "memo-save" else self.action_cancel()

    def action_save(self) -> None:
        """ctrl+s: save the memo as typed (every line)."""
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """A question with yes and no; returns True for yes (y, Enter on Yes), False for no (n, Esc)."""

    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str, yes: str = "Yes", no: str = "No"):
        super().__init__()
        self.question = question
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box", classes="modal-box"):
            yield Static(self.question, id="confirm-question")
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self.yes} (y)", id="confirm-yes", variant="warning", compact=True)
                yield Button(f"{self.no} (n)", id="confirm-no", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class GoToScreen(ModalScreen[str | None]):
    """Ask where to go: a passage number of the open transcript (``17``), an interviewee
    (``MC03``, completed as typed from ``names``), or both (``MC03 17``). Returns what was
    typed (stripped), or None when cancelled; the coding screen resolves it."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, names: list[str], passages: int):
        super().__init__()
        self.names = names
        self.passages = passages

    def compose(self) -> ComposeResult:
        from textual.suggester import SuggestFromList

        with Vertical(id="goto-box", classes="modal-box"):
            yield Static(f"[b]Go to[/b]: a passage number (1–{self.passages} here), an interviewee, or both "
                         "(MC03 17) · → completes · Enter goes · Esc cancels", id="goto-help")
            yield Input(placeholder="17, or an interviewee", id="goto-input",
                        suggester=SuggestFromList(self.names, case_sensitive=False))

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if not value:
            self.notify("type a passage number or an interviewee, or Esc", severity="warning")
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


# (section, [(keys, what they do)]) for the help screen.
KEYS = [
    ("Moving", [
        ("j / ↓", "next passage"),
        ("k / ↑", "previous passage"),
        ("PgUp / PgDn", "scroll a long passage"),
        ("n", "next passage you have not decided (across transcripts)"),
        ("g", "go to a passage number, an interviewee, or both (MC03 17)"),
        ("t", "show / go to the transcript list (Enter opens the highlighted one; t or Esc goes back)"),
        ("/", "find passages: text search (any length, 繁體 or 简体), coded segments by code, coder, group and "
              "level, undecided or suggested passages; Enter jumps to a passage"),
        ("b", "back to the list of passages found, where you left it"),
    ]),
    ("Coding   (every decision is saved at once)", [
        ("1 … 9", "add / remove the n-th code of the dictionary (see the list below and the Codes pane)"),
        ("p", "pick any code by typing part of its key or name; Enter adds or removes it, ACH 3 + Enter sets "
              "its level"),
        ("Tab", "to the Codes pane: ↑/↓ shows a code's definition and levels, Enter adds / removes it"),
        ("a", "accept all suggestions shown for this passage (one action; not the muted ones)"),
        ("x", 'mark the passage "no code" (removes your codes on it)'),
        ("l", "set the level of a code on this passage (? + Enter clears it)"),
        ("L", "give the codes without a level their proposed level (level cue or your usual level; one action)"),
        ("m", "write a memo on this passage (several lines: Enter starts a new line, ctrl+s saves)"),
        ("u", "undo your last action: it names the passage and goes there (asks once before undoing what you "
              "did before this session)"),
        ("U / ctrl+y", "redo the action undone last"),
    ]),
    ("Reading the evidence", [
        ("[lexicon]", "a dictionary keyword matched (coloured in the passage; struck through: negated, not counted)"),
        ("[model]", "your trained model supports the code; its words are underlined: leaving one out lowers "
                    "the model's score most"),
        ("[lexicon+model]", "both; \"model 0.11\" after lexicon: the model scored the passage and disagrees"),
        ("muted", "a keyword your model scores low: dim and underlined in the passage, the score in brackets; "
                  "shown as evidence, not suggested, not accepted by a"),
    ]),
    ("Other", [
        ("T", "train your suggestion model on your decisions and the dictionary's examples (background; "
              "offered every 20 decisions)"),
        ("A", "analysis: outstanding vs average for your codings, with a bar chart (r reruns, s score, c coder; "
              "not when coding blind)"),
        ("c", "consensus: reconcile the coders' disagreements (not when coding blind)"),
        ("ctrl+p", "command palette (every action and every code is there)"),
        ("?", "this help"),
        ("q", "quit"),
    ]),
]


# The keys of the consensus screen, for its help.
CONSENSUS_KEYS = [
    ("Moving   (only the passages where the coders disagree)", [
        ("j / ↓", "next disagreement"),
        ("k / ↑", "previous disagreement"),
        ("n", "next disagreement without a consensus decision"),
    ]),
    ("Deciding for the consensus   (saved at once, under the consensus coder, by you)", [
        ("a, b, …", "take coder A's (B's, …) coding of the passage: their codes with their levels"),
        ("1 … 9", "add / remove the n-th code of the dictionary"),
        ("p", "pick any code by typing part of its key or name (Enter adds / removes, ACH 3 + Enter sets level)"),
        ("x", '"no code" for the passage'),
        ("l", "set the level of a consensus code"),
        ("g", "accept all agreements: copy every passage the coders agree on to the consensus (one action)"),
        ("u", "undo the last consensus action"),
    ]),
    ("Other", [
        ("Esc", "back to coding"),
        ("?", "this help"),
        ("q", "quit"),
    ]),
]


def help_keys(keys: list | None = None) -> Group:
    """The keys as grids: a wrapped description stays indented under itself."""
    parts = []
    for title, rows in keys or KEYS:
        parts.append(Text(title, style="bold"))
        grid = Table.grid(padding=(0, 2), pad_edge=False)
        grid.add_column(no_wrap=True, min_width=13)
        grid.add_column(ratio=1, overflow="fold")
        for keys, what in rows:
            grid.add_row(Text("  " + keys), what)
        parts.append(grid)
    return Group(*parts)


def help_codes(competencies: list) -> Group:
    """The dictionary's codes as a grid: number, code, then name and definition in one column
    so a wrapped definition keeps its indent."""
    grid = Table.grid(padding=(0, 1), pad_edge=False)
    grid.add_column(justify="right", no_wrap=True, min_width=3)
    grid.add_column(no_wrap=True, style="bold")
    grid.add_column(ratio=1, overflow="fold")
    for i, c in enumerate(competencies, start=1):
        body = Text(" / ".join(n for n in (c.name_zh, c.name_en) if n))
        definition = c.definition_zh or c.definition_en
        if definition:
            body.append("\n" + definition, style="dim")
        grid.add_row(str(i) if i <= 9 else "", c.code, body)
    return Group(Text("Dictionary codes", style="bold"), grid)


class HelpScreen(ModalScreen[None]):
    """Keys (the coding screen's, or ``keys``) and the dictionary's codes."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(self, competencies: list, keys: list | None = None):
        super().__init__()
        self.competencies = competencies
        self.keys = keys

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box", classes="modal-box"):
            yield Static(help_keys(self.keys), id="help-keys")
            yield Static(help_codes(self.competencies), id="help-codes")
            yield Label("Esc closes · ↑/↓ scroll")

    def action_close(self) -> None:
        self.dismiss(None)
