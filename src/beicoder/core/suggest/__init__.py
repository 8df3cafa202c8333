"""Code suggestions for passages.

A suggester takes passage texts and returns, per passage, a list of :class:`Suggestion`:
a dictionary code, a score in [0, 1] and the evidence (the matched spans) that explains it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class Evidence:
    """One matched span. ``start``/``end`` are character offsets into the passage text;
    ``keyword`` is the dictionary keyword, ``matched`` the passage's own characters there
    (Traditional or full-width as written), ``token`` the jieba word(s) holding the match."""

    start: int
    end: int
    keyword: str
    matched: str
    token: str = ""
    negated: str = ""  # the negation or hypothetical cue that cancels this match, if any

    def as_dict(self) -> dict:
        out = {"start": self.start, "end": self.end, "keyword": self.keyword, "matched": self.matched,
               "token": self.token}
        if self.negated:
            out["negated"] = self.negated
        return out


@dataclass
class Suggestion:
    """A suggested code for a passage: ``score`` in [0, 1], ``evidence`` the spans behind it
    (negated matches included, flagged, for the coder to see), and optionally a suggested
    ``level`` with the cue that points to it."""

    code: str
    score: float
    evidence: list[Evidence] = field(default_factory=list)
    level: int | None = None
    level_cue: str = ""


class Suggester(Protocol):
    """Anything that suggests codes: ``suggest(texts)`` returns one list per text, best first."""

    name: str

    def suggest(self, texts: Sequence[str]) -> list[list[Suggestion]]: ...


def noisy_or(evidence, weight) -> float | None:
    """The score a code's ``evidence`` (Evidence items of one passage) gives it:
    ``1 - prod(1 - weight(k))`` over the distinct keywords (or ``pattern ...`` labels) of the
    matches that are not negated, rounded to 4 places; None when every match is negated.
    ``weight``: keyword -> its weight in [0, 1]. Used by the Chinese and English lexicons."""
    live = {e.keyword for e in evidence if not e.negated}
    if not live:
        return None
    miss = 1.0
    for kw in live:
        miss *= 1.0 - weight(kw)
    return round(1.0 - miss, 4)
