"""The code picker: every code of the dictionary within reach, however many there are.

Type part of a code's key, its Chinese name (Simplified or Traditional) or its English
name; the list narrows as you type. Enter adds the highlighted code to the passage, or
removes it when the passage has it; ``ACH 3`` (a code, a space, a level) + Enter gives the
code that level, adding it if needed. ↑/↓ move in the list; the highlighted code's
definition and level indicators are shown under it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ...core.textutil import search_form
from ..widgets.code_info import code_info

_LEVEL_AT_END = re.compile(r"^(.*?)\s+([-－−]?[0-9０-９]+)$")


@dataclass(frozen=True)
class Pick:
    """What the picker returns: ``op`` is ``toggle`` (add the code, or remove it) or
    ``level`` (give the code ``level``, adding it when the passage does not have it)."""

    code: str
    op: str = "toggle"
    level: int | None = None


def split_level(typed: str) -> tuple[str, int | None]:
    """``"ACH 3"`` -> ``("ACH", 3)``; ``"成就"`` -> ``("成就", None)``; full-width digits too."""
    m = _LEVEL_AT_END.match(typed.strip())
    if not m:
        return typed.strip(), None
    level = unicodedata.normalize("NFKC", m.group(2)).replace("−", "-")
    return m.group(1).strip(), int(level)


def rank_codes(query: str, code_order: list[str], competencies: dict) -> list[str]:
    """The codes matching ``query`` (part of a key, a Chinese or an English name; case,
    full width and Traditional/Simplified do not matter), best first: key equal, key
    starting with it, a name starting with it, then any other match, each in dictionary
    order. An empty query lists every code in dictionary order."""
    q = search_form(query.strip())
    if not q:
        return list(code_order)
    ranked = []
    for i, code in enumerate(code_order):
        comp = competencies[code]
        key = search_form(code)
        names = [search_form(n) for n in (comp.name_zh, comp.name_en) if n]
        if key == q:
            rank = 0
        elif key.startswith(q):
            rank = 1
        elif any(n.startswith(q) for n in names):
            rank = 2
        elif q in key or any(q in n for n in names):
            rank = 3
        else:
            continue
        ranked.append((rank, i, code))
    return [code for _, _, code in sorted(ranked)]


class CodePickerScreen(ModalScreen[Pick | None]):
    """Pick any code of the dictionary for the passage; returns a :class:`Pick` or None.

    ``codings``: the coder's codings of the passage (code -> row with ``level``), to mark the
    codes it has; ``scores``: code -> suggestion score shown; ``first``: the code highlighted
    at first (the one last touched)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("up", "move(-1)", "Previous code", show=False),
        Binding("down", "move(1)", "Next code", show=False),
        Binding("pageup", "move(-8)", show=False),
        Binding("pagedown", "move(8)", show=False),
    ]

    def __init__(self, code_order: list[str], competencies: dict, codings: dict, scores: dict[str, float],
                 first: str | None = None):
        super().__init__()
        self.code_order = code_order
        self.competencies = competencies
        self.codings = codings
        self.scores = scores
        self.first = first
        self.shown: list[str] = list(code_order)

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-box", classes="modal-box"):
            yield Static("[b]Pick a code[/b]: type part of its key or name (中文 / English) · ↑/↓ · Enter adds or "
                         "removes it · [b]ACH 3[/b] + Enter sets level 3 · Esc cancels", id="picker-help")
            yield Input(placeholder="code or name, e.g. 成就 or ach", id="picker-input", compact=True)
            codes = OptionList(id="picker-codes", compact=True)
            codes.can_focus = False  # the input keeps the focus; ↑/↓ are the screen's
            yield codes
            with VerticalScroll(id="picker-info-box"):
                yield Static(id="picker-info")

    def on_mount(self) -> None:
        self._fill("")
        if self.first in self.shown:
            self.query_one(OptionList).highlighted = self.shown.index(self.first)
        self.query_one(Input).focus()

    def _prompt(self, code: str) -> Text:
        comp = self.competencies[code]
        n = self.code_order.index(code) + 1
        text = Text.assemble((f"{n if n <= 9 else ' ':>2} ", "dim"), (f"{code:<6}", "bold"),
                             f"{comp.name_zh}" + (f"  {comp.name_en}" if comp.name_en and comp.name_zh else
                                                  comp.name_en if not comp.name_zh else ""))
        coding = self.codings.get(code)
        if coding is not None:
            text.append(f"  ✓ L{'?' if coding['level'] is None else coding['level']}", style="bold green")
        if code in self.scores:
            text.append(f"  suggested {self.scores[code]:.2f}", style="cyan")
        return text

    def _fill(self, typed: str) -> None:
        ol = self.query_one(OptionList)
        name, _ = split_level(typed)
        self.shown = rank_codes(name, self.code_order, self.competencies)
        ol.clear_options()
        ol.add_options([Option(self._prompt(c), id=c) for c in self.shown])
        if self.shown:
            ol.highlighted = 0
        self._show_info()

    def _code(self) -> str | None:
        ol = self.query_one(OptionList)
        if not self.shown or ol.highlighted is None:
            return None
        return self.shown[ol.highlighted]

    def _show_info(self) -> None:
        code = self._code()
        info = self.query_one("#picker-info", Static)
        english = getattr(self.app, "english_study", False)
        info.update(code_info(self.competencies[code], english=english) if code
                    else Text("no code matches", style="yellow"))

    def on_input_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def on_option_list_option_highlighted(self, _event) -> None:
        self._show_info()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose()  # a click on a code

    def action_move(self, step: int) -> None:
        ol = self.query_one(OptionList)
        if self.shown:
            ol.highlighted = max(0, min(len(self.shown) - 1, (ol.highlighted or 0) + step))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._choose()

    def _choose(self) -> None:
        code = self._code()
        if code is None:
            self.notify("no code matches what you typed", severity="warning")
            return
        _, level = split_level(self.query_one(Input).value)
        if level is None:
            self.dismiss(Pick(code))
            return
        comp = self.competencies[code]
        if not comp.min_level <= level <= comp.max_level:
            self.notify(f"{code} levels run {comp.min_level}..{comp.max_level}", severity="error")
            return
        self.dismiss(Pick(code, "level", level))

    def action_cancel(self) -> None:
        self.dismiss(None)
