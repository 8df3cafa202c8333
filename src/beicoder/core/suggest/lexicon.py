"""The lexicon suggester: the dictionary's keywords and token patterns found in a passage,
with evidence, negation and a level proposal.

Matching works on a folded copy of the passage with the same length (so offsets stay on the
original): NFKC per character (full-width digits and letters), lower case, and OpenCC
Traditional-to-Simplified conversion character by character. Keywords are found at character
level, not token level, by an Aho-Corasick automaton (pyahocorasick): jieba often puts a
keyword inside a longer word (``流水`` in ``流水账``), where a token matcher would miss it. jieba
still segments the folded text once (into spaCy Docs of the ``blank("zh")`` vocabulary): each
piece of evidence names the jieba word(s) holding it, and the dictionary's optional token
``patterns`` run through spaCy's ``Matcher``.

Negation: a match does not count when, in its clause (text between ，。！？；：, and line
breaks), a negation cue of the dictionary ends at most 6 characters before it (``没有去核实``),
or a hypothetical cue stands earlier in its sentence (``如果当时去看一下就好了``), or the code's
own negative cue appears in its sentence (``他拿着红包来，我就收下了`` is not self-control). Cues inside one of ``negation_exceptions``
(``没想到``) do not negate. Negated matches stay in the evidence, flagged.

Score of a code for a passage: ``1 - prod(1 - w_k)`` over the distinct keywords (and
patterns) of that code matched and not negated, with ``w_k = 0.35 + 0.1 * min(len(k), 4)``
(0.55 for a two-character keyword, 0.75 for four or more; 0.65 for a pattern): one long
keyword gives 0.75, two short ones 0.80; repeats of the same keyword add nothing.

Level: the highest level of the code whose ``cues`` occur in the passage.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Sequence

from ..textutil import match_form
from . import Evidence, Suggestion

NEGATION_WINDOW = 6  # characters allowed between a negation cue and the match it negates
PATTERN_WEIGHT = 0.65
_CLAUSE_END = re.compile(r"[，,。！？!?；;：:\n]")
_SENTENCE_END = re.compile(r"[。！？!?\n]")


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


def segment(folded_texts: Sequence[str], vocab=None, extras: Sequence[Sequence[str]] | None = None):
    """jieba words of each (folded) text as spaCy Docs, one jieba pass per text.

    The Docs are built from the words alone (no spacing), which is all the Matcher and the
    text classifier need and costs a third of spaCy's own tokenizer; ``starts`` gives each
    word's character offset in the text. ``extras`` (one list per text) are tokens appended
    after the words, such as the lexicon's matches for the learned model; they have no offset.
    Returns ``(docs, starts)``.
    """
    import jieba
    from spacy.tokens import Doc

    vocab = vocab or zh_pipeline().vocab
    docs, starts = [], []
    for k, text in enumerate(folded_texts):
        words = [w for w in jieba.lcut(text) if w]
        offsets, pos = [], 0
        for w in words:
            offsets.append(pos)
            pos += len(w)
        docs.append(Doc(vocab, words=words + list(extras[k] if extras else [])))
        starts.append(offsets)
    return docs, starts


def keyword_weight(keyword: str) -> float:
    """Weight of one distinct keyword in a code's score (see the module docstring)."""
    return 0.35 + 0.1 * min(len(keyword), 4)


def _occurrences(folded: str, needle: str):
    i = folded.find(needle)
    while i >= 0:
        yield i
        i = folded.find(needle, i + 1)


class LexiconSuggester:
    """Suggest codes from the keywords, patterns and cues of a
    :class:`~beicoder.core.dictionary.Dictionary`."""

    name = "lexicon"

    def __init__(self, dictionary):
        self.dictionary = dictionary
        import ahocorasick

        # folded keyword -> list of (code, keyword as written), searched all at once with an
        # Aho-Corasick automaton (every occurrence, overlapping ones included)
        self._keywords: dict[str, list[tuple[str, str]]] = {}
        for comp in dictionary.competencies:
            for kw in comp.keywords:
                self._keywords.setdefault(fold(kw), []).append((comp.code, kw))
        self._automaton = ahocorasick.Automaton()
        for fk, owners in self._keywords.items():
            self._automaton.add_word(fk, (fk, owners))
        if self._keywords:
            self._automaton.make_automaton()
        self._order = {c: i for i, c in enumerate(dictionary.codes)}
        self._negations = [fold(c) for c in dictionary.negation_cues]
        self._hypotheticals = [fold(c) for c in dictionary.hypothetical_cues]
        self._exceptions = [fold(c) for c in dictionary.negation_exceptions]
        self._negative = {c.code: [fold(x) for x in c.negative_cues] for c in dictionary.competencies}
        self._level_cues = {c.code: [(lv.level, fold(cue), cue) for lv in c.levels for cue in lv.cues]
                            for c in dictionary.competencies}
        self._matchers: dict[int, object] = {}

    # -- matching -----------------------------------------------------------------------------
    def _pattern_matcher(self, vocab):
        if id(vocab) not in self._matchers:
            from spacy.matcher import Matcher

            matcher = Matcher(vocab)
            for comp in self.dictionary.competencies:
                for k, pat in enumerate(comp.patterns, start=1):
                    matcher.add(f"{comp.code}#{k}", [[dict(t) for t in pat]], greedy="LONGEST")
            self._matchers[id(vocab)] = matcher
        return self._matchers[id(vocab)]

    def _negation(self, folded: str, code: str, start: int) -> str:
        """The cue that cancels a match of ``code`` starting at ``start``, or ''."""
        clause_start = max((m.end() for m in _CLAUSE_END.finditer(folded, 0, start)), default=0)
        sentence_start = max((m.end() for m in _SENTENCE_END.finditer(folded, 0, start)), default=0)
        m = _SENTENCE_END.search(folded, start)
        sentence = folded[sentence_start:m.start() if m else len(folded)]
        for cue in self._negative.get(code, ()):
            if cue in sentence:
                return cue
        before = folded[sentence_start:start]
        for cue in self._hypotheticals:
            if cue in before:
                return cue
        window = folded[max(clause_start, start - NEGATION_WINDOW - 3):start]
        offset = start - len(window)
        for cue in self._negations:
            for i in _occurrences(window, cue):
                end = offset + i + len(cue)
                if start - end > NEGATION_WINDOW:
                    continue
                if any(self._inside(folded, offset + i, end, exc) for exc in self._exceptions):
                    continue
                return cue
        return ""

    @staticmethod
    def _inside(folded: str, start: int, end: int, exception: str) -> bool:
        """True when the span [start, end) lies inside an occurrence of ``exception``."""
        lo = max(0, end - len(exception))
        for i in _occurrences(folded[lo:start + len(exception)], exception):
            if lo + i <= start and lo + i + len(exception) >= end:
                return True
        return False

    def find(self, text: str) -> list[tuple[str, Evidence]]:
        """Every keyword occurrence in ``text`` as ``(code, Evidence)`` pairs, in text order,
        with negation marked. Evidence has no ``token`` yet (see :meth:`suggest`)."""
        return self._find(text, fold(text))

    def _find(self, text: str, folded: str) -> list[tuple[str, Evidence]]:
        hits: list[tuple[str, Evidence]] = []
        if not self._keywords:
            return hits
        for end, (fk, owners) in self._automaton.iter(folded):
            i = end + 1 - len(fk)
            for code, kw in owners:
                ev = Evidence(i, i + len(fk), kw, text[i:i + len(fk)])
                ev.negated = self._negation(folded, code, i)
                hits.append((code, ev))
        hits.sort(key=lambda h: (h[1].start, h[1].end, self._order[h[0]]))
        return hits

    def suggest(self, texts: Sequence[str], prepared=None) -> list[list[Suggestion]]:
        """Suggestions for each text, best first (score, then dictionary order).

        A code is suggested when at least one of its matches is not negated. Each evidence
        span is annotated with the jieba word(s) that contain it. ``prepared`` is
        ``(folded texts, docs, token starts)`` from :func:`fold` and :func:`segment`, when the
        caller segments once for several suggesters."""
        from bisect import bisect_right

        if prepared is None:
            folded_texts = [fold(t) for t in texts]
            docs, starts = segment(folded_texts)
        else:
            folded_texts, docs, starts = prepared
        has_patterns = any(c.patterns for c in self.dictionary.competencies)
        results: list[list[Suggestion]] = []
        for text, folded, doc, offs in zip(texts, folded_texts, docs, starts):
            hits = self._find(text, folded)
            if has_patterns and len(doc):
                matcher = self._pattern_matcher(doc.vocab)
                for match_id, s, e in matcher(doc):
                    if e > len(offs):  # a match that reaches into appended tokens
                        continue
                    label = doc.vocab.strings[match_id]
                    code = label.split("#")[0]
                    a = offs[s]
                    b = offs[e] if e < len(offs) else len(folded)
                    ev = Evidence(a, b, f"pattern {label}", text[a:b])
                    ev.negated = self._negation(folded, code, a)
                    hits.append((code, ev))
            by_code: dict[str, list[Evidence]] = {}
            for code, ev in hits:
                if offs:  # the jieba word(s) holding the match
                    first = max(0, bisect_right(offs, ev.start) - 1)
                    last = max(0, bisect_right(offs, ev.end - 1) - 1)
                    a = offs[first]
                    b = offs[last + 1] if last + 1 < len(offs) else len(text)
                    ev.token = text[a:b]
                by_code.setdefault(code, []).append(ev)
            suggestions = []
            for code, evs in by_code.items():
                live = {e.keyword for e in evs if not e.negated}
                if not live:
                    continue
                miss = 1.0
                for kw in live:
                    miss *= 1.0 - (PATTERN_WEIGHT if kw.startswith("pattern ") else keyword_weight(kw))
                sugg = Suggestion(code, round(1.0 - miss, 4), sorted(evs, key=lambda e: e.start))
                sugg.level, sugg.level_cue = self._level(code, folded)
                suggestions.append(sugg)
            suggestions.sort(key=lambda s: (-s.score, self._order[s.code]))
            results.append(suggestions)
        return results

    def hit_tokens(self, text: str, folded: str) -> list[str]:
        """Tokens standing for the lexicon's non-negated keyword matches in a text: one
        ``⟦CODE⟧`` per code and one ``⟦keyword⟧`` per keyword, for the learned model, which so
        learns from the coder how far each keyword and code can be trusted."""
        tokens: list[str] = []
        for code, ev in self._find(text, folded):
            if not ev.negated:
                for tok in (f"⟦{code}⟧", f"⟦{ev.keyword}⟧"):
                    if tok not in tokens:
                        tokens.append(tok)
        return tokens

    def _level(self, code: str, folded: str) -> tuple[int | None, str]:
        best: tuple[int | None, str] = (None, "")
        for level, fcue, cue in self._level_cues.get(code, ()):
            if fcue in folded and (best[0] is None or level > best[0]):
                best = (level, cue)
        return best


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
    wanted = set(ids)
    texts = {p.id: p.text for p in store.passages() if p.id in wanted} if ids else {}
    done = 0
    for k in range(0, len(ids), batch):
        chunk = ids[k:k + batch]
        results = suggester.suggest([texts[i] for i in chunk])
        rows = [
            {"passage_id": pid, "code": s.code, "score": s.score, "level": s.level, "level_cue": s.level_cue,
             "evidence": [e.as_dict() for e in s.evidence]}
            for pid, sugg in zip(chunk, results) for s in sugg
        ]
        store.replace_suggestions(suggester.name, rows, chunk, dictionary.sha256)
        done += len(chunk)
        if progress:
            progress(done, len(ids))
    return done
