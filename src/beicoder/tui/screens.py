"""Modal screens of the coding TUI: level, memo, help."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option


class LevelScreen(ModalScreen[tuple[str, int | None] | None]):
    """Choose one of the passage's codes and type its level; returns (code, level) or None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("up", "move(-1)", "Previous code", show=False),
        Binding("down", "move(1)", "Next code", show=False),
        Binding("tab", "move(1)", "Next code", show=False),
    ]

    def __init__(self, codings: list[dict], competencies: dict, selected: str | None = None):
        super().__init__()
        self.codings = codings
        self.competencies = competencies
        self.selected = selected

    def compose(self) -> ComposeResult:
        with Vertical(id="level-box", classes="modal-box"):
            yield Label("Set the level of a code  (↑/↓ choose the code, type the level, Enter)")
            options = []
            for c in self.codings:
                comp = self.competencies[c["code"]]
                lv = "?" if c["level"] is None else str(c["level"])
                options.append(Option(f"{c['code']}  {comp.name_zh or comp.name_en}  level {lv}", id=c["code"]))
            yield OptionList(*options, id="level-codes")
            yield Static(id="level-indicators")
            yield Input(placeholder="level, e.g. 3", id="level-input", restrict=r"-?[0-9]*")

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        # The first code still without a level, else the code last touched, else the first.
        unlevelled = [i for i, c in enumerate(self.codings) if c["level"] is None]
        touched = [i for i, c in enumerate(self.codings) if c["code"] == self.selected]
        index = (unlevelled or touched or [0])[0]
        ol.highlighted = index
        self._show_indicators()
        self.query_one(Input).focus()

    def _code(self) -> str:
        ol = self.query_one(OptionList)
        return self.codings[ol.highlighted or 0]["code"]

    def _show_indicators(self) -> None:
        comp = self.competencies[self._code()]
        grid = Table.grid(padding=(0, 1))
        grid.add_column(justify="right", style="bold", no_wrap=True)
        grid.add_column(ratio=1, overflow="fold")
        for lv in comp.levels:
            grid.add_row(str(lv.level), lv.indicator_zh or lv.indicator_en)
        self.query_one("#level-indicators", Static).update(grid)

    def on_option_list_option_highlighted(self, _event) -> None:
        self._show_indicators()

    def action_move(self, step: int) -> None:
        ol = self.query_one(OptionList)
        ol.highlighted = ((ol.highlighted or 0) + step) % len(self.codings)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        comp = self.competencies[self._code()]
        if value == "":
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
    """Edit the memo of a passage; returns the text (empty clears) or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, memo: str):
        super().__init__()
        self.memo = memo

    def compose(self) -> ComposeResult:
        with Vertical(id="memo-box", classes="modal-box"):
            yield Label("Memo for this passage (Enter saves, Esc cancels, empty clears)")
            yield Input(value=self.memo, id="memo-input")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


HELP = """\
[b]Moving[/b]
  j / ↓        next passage              k / ↑      previous passage
  n            next passage you have not decided (across transcripts)
  t            go to the transcript list (Enter opens the highlighted one)
[b]Coding[/b]   (every decision is saved at once)
  1 … 9        add / remove the n-th code of the dictionary (see the right-hand list)
  a            accept all suggestions shown for this passage (one action)
  x            mark the passage "no code" (removes your codes on it)
  l            set the level of a code on this passage
  m            write a memo on this passage
  u            undo your last action
[b]Other[/b]
  ctrl+p       command palette (every action is there)
  ?            this help            q   quit
"""


class HelpScreen(ModalScreen[None]):
    """Keys and the dictionary's codes."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(self, competencies: list):
        super().__init__()
        self.competencies = competencies

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box", classes="modal-box"):
            yield Static(HELP, markup=True)
            codes = Text("Dictionary codes\n", style="bold")
            for i, c in enumerate(self.competencies, start=1):
                codes.append(f"  {i}  {c.code:<5} {c.name_zh} / {c.name_en}\n")
                codes.append(f"        {c.definition_zh or c.definition_en}\n", style="dim")
            yield Static(codes)
            yield Label("Esc closes")

    def action_close(self) -> None:
        self.dismiss(None)
