"""Code suggestions for passages.

A suggester takes passage texts and returns, per passage, a list of :class:`Suggestion`:
a dictionary code, a score in [0, 1] and the evidence (the matched spans) that explains it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Sequence


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

    def as_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "keyword": self.keyword, "matched": self.matched,
                "token": self.token}


@dataclass
class Suggestion:
    """A suggested code for a passage: ``score`` in [0, 1], ``evidence`` the spans behind it."""

    code: str
    score: float
    evidence: list[Evidence] = field(default_factory=list)


class Suggester(Protocol):
    """Anything that suggests codes: ``suggest(texts)`` returns one list per text, best first."""

    name: str

    def suggest(self, texts: Sequence[str]) -> list[list[Suggestion]]: ...
