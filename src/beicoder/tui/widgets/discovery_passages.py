"""The discovery screen's list of the passages of a term or a theme."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

WIDTH = 110  # characters of a passage shown (the whole passage is in the coding screen)


class DiscoveryPassages(OptionList):
    """The passages of one term (the term highlighted) or one theme, each as "interviewee
    (group): text", in reading order; one option per passage (id as the option's id). Enter
    (or a click) posts :class:`DiscoveryPassages.Chosen` to jump to the passage."""

    class Chosen(Message):
        """The researcher chose the passage ``passage_id``."""

        def __init__(self, passage_id: int) -> None:
            super().__init__()
            self.passage_id = passage_id

    def show(self, passage_ids, info: dict[int, dict], term: str | None = None, folded=None) -> int:
        """List ``passage_ids`` with their text from ``info`` (passage id -> dict with
        interviewee, grp, text; see ``Store.passage_info``). With ``term`` (its folded form,
        and ``folded``, a function folding a text the way terms are counted), its
        occurrences are highlighted. Returns the number listed."""
        self.clear_options()
        options = []
        for pid in passage_ids:
            p = info.get(pid)
            if p is None:  # re-imported since the discovery ran
                continue
            text = " ".join(p["text"].split())
            first = folded(text).find(term) if term and folded is not None else -1
            begin = max(0, first - WIDTH // 3) if first >= 0 else 0  # the term's first use in view
            text = ("…" if begin else "") + text[begin:begin + WIDTH] + ("…" if len(text) > begin + WIDTH else "")
            line = Text.assemble((f"{p['interviewee']} ({p['grp'] or 'no group'}) ", "dim"), text)
            if term and folded is not None:
                hay, offset = folded(text), len(line) - len(text)
                start = hay.find(term)
                while start >= 0:
                    line.stylize("bold yellow", offset + start, offset + start + len(term))
                    start = hay.find(term, start + len(term))
            options.append(Option(line, id=str(pid)))
        self.add_options(options)
        if options:
            self.highlighted = 0
        return len(options)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter or a click on a passage: ask to jump to it."""
        event.stop()
        self.post_message(self.Chosen(int(event.option.id)))
