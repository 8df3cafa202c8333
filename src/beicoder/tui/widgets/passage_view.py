"""The middle pane: where we are, the interviewer's question, the passage, the decision."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from ..linebreak import WrappedText
from ..text import code_style, question_line

MUTED = "dim underline"  # a keyword match the coder's model scored low (see blended_suggestions)
FOUND = "bold reverse"  # a word searched for in the find view


def highlighted(text: str, suggestions: list[dict], code_order: list[str],
                found: tuple[tuple[int, int], ...] = ()) -> Text:
    """The passage ``text`` with each suggestion's evidence in its code's colour (struck
    through and dim where negated, not counted; dim and underlined where the coder's model
    scored the keyword's passage low: ``muted``), the model's words underlined and the
    ``found`` spans (start, end) in reverse. ``suggestions``: dicts of ``blended_suggestions``
    (offsets into ``text``)."""
    body = Text(text)
    for s in suggestions:
        style = MUTED if s.get("muted") else code_style(code_order, s["code"])
        for ev in s["evidence"]:
            body.stylize("strike dim" if ev.get("negated") else style, ev["start"], ev["end"])
        for ev in s.get("model_evidence", []):
            body.stylize(f"{style} underline", ev["start"], ev["end"])
    for a, b in found:  # the words of the find view's search, when the passage was opened from it
        body.stylize(FOUND, a, b)
    return body


def decision_line(codings: dict[str, dict], mark: dict, proposals: dict[str, tuple[int, str]]) -> Text:
    """``Your decision: ...`` for the coder's ``codings`` (code -> row with ``level``), their
    ``mark`` (``no_code``, ``memo``) and the levels ``proposals`` (code -> (level, why))."""
    mine = Text("Your decision: ", style="bold")
    if codings:
        mine.append(", ".join(f"{c}{'' if v['level'] is None else ' L' + str(v['level'])}" for c, v in codings.items()))
        missing = [c for c, v in codings.items() if v["level"] is None]
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
        mine.append("\nMemo: ", style="italic bold")
        mine.append(mark["memo"], style="italic")
    return mine


def update_wrapped(static: Static, content: WrappedText) -> None:
    """Show ``content`` in ``static``, asking Textual for a new layout only when the number of
    lines changes (a layout of the whole screen is most of a keystroke's cost)."""
    width = static.content_region.width
    lines = len(content.lines(width)) if width > 0 else None
    static.update(content, layout=lines is None or lines != getattr(static, "_lines_shown", None))
    static._lines_shown = lines


class PassageView(Vertical, can_focus=True):
    """The passage being coded: a title line (``#where``), then, in a scrolling box
    (``#passage-scroll``), the question (``#question``) and the highlighted passage
    (``#passage``), both broken into lines the Chinese way (:mod:`beicoder.tui.linebreak`),
    and under them the coder's decision (``#mine``, in a box of its own so that a long
    passage never pushes it out of sight). It takes the focus, so the coding keys reach the
    screen; ↑/↓ move between passages (a passage is short) and PgUp/PgDn scroll a long one."""

    BINDINGS = [Binding("up", "screen.prev_passage", show=False), Binding("down", "screen.next_passage", show=False),
                Binding("pageup", "scroll_passage(-1)", show=False),
                Binding("pagedown", "scroll_passage(1)", show=False)]

    def compose(self) -> ComposeResult:
        yield Static(id="where", classes="title")
        with VerticalScroll(id="passage-scroll", can_focus=False):
            yield Static(id="question")
            yield Static(id="passage")
        with VerticalScroll(id="mine-box", can_focus=False):
            yield Static(id="mine")

    def action_scroll_passage(self, direction: int) -> None:
        """PgUp/PgDn: scroll a passage longer than its box."""
        box = self.query_one("#passage-scroll", VerticalScroll)
        box.scroll_page_down() if direction > 0 else box.scroll_page_up()

    def show(self, where: Text, question: dict | None, text: str, suggestions: list[dict], code_order: list[str],
             decision: Text, found: tuple[tuple[int, int], ...] = ()) -> None:
        """Draw a passage: the ``where`` line, the ``question`` turn (see
        :func:`~beicoder.tui.text.question_line`), ``text`` highlighted for ``suggestions``
        and the ``decision`` line (see :func:`decision_line`); ``found``: spans of the
        find view's search words."""
        update_wrapped(self.query_one("#where", Static), WrappedText(where))
        update_wrapped(self.query_one("#question", Static), WrappedText(question_line(question)))
        body = highlighted(text, suggestions, code_order, found)
        update_wrapped(self.query_one("#passage", Static), WrappedText(body))
        update_wrapped(self.query_one("#mine", Static), WrappedText(decision))

    def scroll_to_top(self) -> None:
        """Show a new passage from its start."""
        self.query_one("#passage-scroll", VerticalScroll).scroll_home(animate=False)

    def show_message(self, where: str, passage: str = "") -> None:
        """No passage to show: ``where`` on the title line, ``passage`` in the passage box."""
        self.query_one("#where", Static).update(where)
        for selector in ("#question", "#mine"):
            self.query_one(selector, Static).update("")
        self.query_one("#passage", Static).update(WrappedText(passage))
