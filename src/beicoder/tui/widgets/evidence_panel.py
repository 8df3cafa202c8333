"""The Evidence pane: why each code is suggested for the passage."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ..linebreak import WrappedText
from ..text import code_style


def _joined(words: list[str]) -> str:
    """Evidence words joined the way their language lists them: 、 between Chinese words,
    a comma and a space between English ones."""
    from ...core.suggest.english import CJK

    return ("、" if any(CJK.search(w) for w in words) else ", ").join(words)


def evidence_text(suggestions: list[dict], code_order: list[str], empty: str, learned: bool,
                  runner_up: dict | None = None) -> Text:
    """Per suggestion (dicts of ``blended_suggestions``): the code, its score, its sources and
    the model's dissenting score, the keywords matched (with the jieba word holding them, or
    why a negated one does not count), the local LLM's quotes (in quotation marks) and reason,
    and the model's own words, underlined. ``empty`` is
    shown when there is no suggestion; ``learned``: the model learned this passage from the
    coder's decision, so its score there is no second opinion. A ``muted`` suggestion (a
    keyword match the coder's model scores low) is shown dim, its blended score in brackets,
    marked "not suggested". ``runner_up``: the best code left out, when its score is close to
    the threshold (``next_best`` of :mod:`beicoder.core.suggest.learned`): named after the
    suggestions, since a passage's second code is the one most often missed."""
    out = Text("Evidence\n", style="bold")
    if learned:
        out.append("the model learned this passage from your decision: its score is no second opinion\n",
                   style="dim italic")
    if not suggestions:
        out.append(empty, style="dim")
    for s in suggestions:
        words = []
        for e in s["evidence"]:
            w = f"“{e['matched']}”" if e.get("source") == "llm" else e["matched"]
            if e["token"] and e["token"] != w:
                w += f" (in {e['token']})"
            if e.get("negated"):
                w += f" (not counted: {e['negated']})"
            if w not in words:
                words.append(w)
        model_words = list(dict.fromkeys(e["matched"] for e in s.get("model_evidence", [])))
        muted = bool(s.get("muted"))
        out.append(f"{s['code']}", style="dim" if muted else code_style(code_order, s["code"]))
        sources = "+".join(s["sources"])
        if s["model_score"] is not None and "model" not in s["sources"]:
            sources += f"; model {s['model_score']:.2f}"  # the model has scored it, and disagrees
        if muted:  # a keyword the model scores low: evidence kept, not suggested
            out.append(f" ({s['score']:.2f}) [{sources}]: {_joined(words)} — not suggested\n", style="dim")
            continue
        out.append(f" {s['score']:.2f} [{sources}]: {_joined(words)}")
        if model_words:
            if words:
                out.append("; model: ")
            out.append(_joined(model_words), style="underline")
        elif not words:
            out.append("(model: no single word stands out)")
        if s.get("llm_reason"):
            out.append(f" — llm: {s['llm_reason']}", style="italic")
        out.append("\n")
    if runner_up:
        out.append("also close: ", style="dim")
        out.append(runner_up["code"], style=code_style(code_order, runner_up["code"]))
        words = _joined(list(dict.fromkeys(e["matched"] for e in runner_up.get("model_evidence", []))))
        out.append(f" {runner_up['score']:.2f}" + (f" ({words})" if words else "") + "\n", style="dim")
    return out


class EvidencePanel(Static):
    """The Evidence pane; :meth:`show` takes what :func:`evidence_text` takes."""

    def show(self, suggestions: list[dict], code_order: list[str], empty: str, learned: bool,
             runner_up: dict | None = None) -> None:
        """Draw the evidence of ``suggestions`` (see :func:`evidence_text`), its lines broken
        the Chinese way; a new layout only when its number of lines changes."""
        from .passage_view import update_wrapped

        update_wrapped(self, WrappedText(evidence_text(suggestions, code_order, empty, learned, runner_up)))
