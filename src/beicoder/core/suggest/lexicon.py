"""The lexicon suggester: the dictionary's keywords found in a passage, with evidence.

Text runs through spaCy's ``blank("zh")`` pipeline with the jieba segmenter, so each piece of
evidence names the jieba word(s) that hold it. Matching itself is done on characters, not on
tokens: jieba often puts a keyword inside a longer word (``银行流水`` in ``查银行流水账``), and a
token matcher would miss it. Before matching, both passage and keywords are folded without
changing length: NFKC per character (full-width digits and letters), lower case, and OpenCC
Traditional-to-Simplified conversion character by character, so offsets stay on the original.

Score of a code for a passage: ``1 - prod(1 - w_k)`` over the distinct keywords of that code
found in it, with ``w_k = 0.35 + 0.1 * min(len(k), 4)`` (0.55 for a two-character keyword,
0.75 for four or more): one long keyword gives 0.75, two short ones 0.80; repeats of the same
keyword add nothing.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Sequence

from ..textutil import match_form
from . import Evidence, Suggestion


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """OpenCC Traditional-to-Simplified conversion that keeps the length of ``text``.

    OpenCC converts most text one character for one; where a phrase rule changes the length,
    the text is converted character by character instead, so offsets stay valid."""
    conv = _t2s()
    out = conv.convert(text)
    if len(out) == len(text):
        return out
    chars = []
    for ch in text:
        c = conv.convert(ch)
        chars.append(c if len(c) == 1 else ch)
    return "".join(chars)


def fold(text: str) -> str:
    """The form of ``text`` used for matching: :func:`match_form` then :func:`to_simplified`;
    same length as ``text``."""
    return to_simplified(match_form(text))


@lru_cache(maxsize=1)
def zh_pipeline():
    """spaCy ``blank("zh")`` with the jieba segmenter (loaded once; jieba's log silenced)."""
    import jieba
    import spacy

    jieba.setLogLevel(logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    return spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})


def keyword_weight(keyword: str) -> float:
    """Weight of one distinct keyword in a code's score (see the module docstring)."""
    return 0.35 + 0.1 * min(len(keyword), 4)


class LexiconSuggester:
    """Suggest codes from the keywords of a :class:`~beicoder.core.dictionary.Dictionary`."""

    name = "lexicon"

    def __init__(self, dictionary):
        self.dictionary = dictionary
        # folded keyword -> list of (code, keyword as written)
        self._keywords: dict[str, list[tuple[str, str]]] = {}
        for comp in dictionary.competencies:
            for kw in comp.keywords:
                self._keywords.setdefault(fold(kw), []).append((comp.code, kw))
        self._order = {c: i for i, c in enumerate(dictionary.codes)}

    def find(self, text: str) -> list[tuple[str, Evidence]]:
        """Every keyword occurrence in ``text`` as ``(code, Evidence)`` pairs, in text order.
        Evidence has no ``token`` yet (see :meth:`suggest`)."""
        folded = fold(text)
        hits: list[tuple[str, Evidence]] = []
        for fk, owners in self._keywords.items():
            i = folded.find(fk)
            while i >= 0:
                for code, kw in owners:
                    hits.append((code, Evidence(i, i + len(fk), kw, text[i:i + len(fk)])))
                i = folded.find(fk, i + 1)
        hits.sort(key=lambda h: (h[1].start, h[1].end, self._order[h[0]]))
        return hits

    def suggest(self, texts: Sequence[str]) -> list[list[Suggestion]]:
        """Suggestions for each text, best first (score, then dictionary order).

        Each evidence span is annotated with the jieba word(s) that contain it."""
        nlp = zh_pipeline()
        results: list[list[Suggestion]] = []
        for text, doc in zip(texts, nlp.pipe(texts)):
            by_code: dict[str, list[Evidence]] = {}
            for code, ev in self.find(text):
                span = doc.char_span(ev.start, ev.end, alignment_mode="expand")
                ev.token = span.text if span is not None else ""
                by_code.setdefault(code, []).append(ev)
            suggestions = []
            for code, evs in by_code.items():
                miss = 1.0
                for kw in {e.keyword for e in evs}:
                    miss *= 1.0 - keyword_weight(kw)
                suggestions.append(Suggestion(code, round(1.0 - miss, 4), evs))
            suggestions.sort(key=lambda s: (-s.score, self._order[s.code]))
            results.append(suggestions)
        return results


def suggest_study(store, dictionary, passage_ids: Sequence[int] | None = None, batch: int = 200,
                  progress=None) -> int:
    """Run the lexicon suggester over the study's passages and store the results.

    ``passage_ids`` defaults to every passage not yet suggested with this dictionary version.
    Commits every ``batch`` passages (so a long run can be interrupted without losing work);
    ``progress(done, total)`` is called after each batch. Returns the number of passages done.
    """
    suggester = LexiconSuggester(dictionary)
    if passage_ids is None:
        passage_ids = store.passages_needing_suggestions(suggester.name, dictionary.sha256)
    ids = list(passage_ids)
    texts = {p.id: p.text for p in store.passages() if p.id in set(ids)} if ids else {}
    done = 0
    for k in range(0, len(ids), batch):
        chunk = ids[k:k + batch]
        results = suggester.suggest([texts[i] for i in chunk])
        rows = [
            {"passage_id": pid, "code": s.code, "score": s.score, "evidence": [e.as_dict() for e in s.evidence]}
            for pid, sugg in zip(chunk, results) for s in sugg
        ]
        store.replace_suggestions(suggester.name, rows, chunk, dictionary.sha256)
        done += len(chunk)
        if progress:
            progress(done, len(ids))
    return done
