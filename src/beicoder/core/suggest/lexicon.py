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
own negative cue appears in its sentence (``他拿着红包来，我就收下了`` is not self-control).
Cues inside one of ``negation_exceptions`` (``没想到``) do not negate. Negated matches stay in the evidence, flagged.

Score of a code for a passage: ``1 - prod(1 - w_k)`` over the distinct keywords (and
patterns) of that code matched and not negated, with ``w_k = 0.35 + 0.1 * min(len(k), 4)``
(0.55 for a two-character keyword, 0.75 for four or more; 0.65 for a pattern): one long
keyword gives 0.75, two short ones 0.80; repeats of the same keyword add nothing.

Level: the highest level of the code whose ``cues`` occur in the passage.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import lru_cache
from itertools import accumulate

from ..textutil import match_form
from . import Evidence, Suggestion

# jieba's dictionary mode: its HMM guesses words jieba's dictionary lacks, which keyword
# matching (done on characters) does not need and the learned model gains nothing from
# (checked by cross-validation); it costs about 40% of segmentation time.
JIEBA_HMM = True
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
        words = jieba.lcut(text, HMM=JIEBA_HMM)
        offsets = list(accumulate(map(len, words), initial=0))
        offsets.pop()
        docs.append(Doc(vocab, words=words + extras[k] if extras else words))
        starts.append(offsets)
    return docs, starts


def keyword_weight(keyword: str) -> float:
    """Weight of one distinct keyword in a code's score (see the module docstring)."""
    return 0.35 + 0.1 * min(len(keyword), 4)


def _boundaries(folded: str) -> tuple[list[int], list[int]]:
    """Positions of clause-ending and sentence-ending characters in ``folded``."""
    return ([m.start() for m in _CLAUSE_END.finditer(folded)], [m.start() for m in _SENTENCE_END.finditer(folded)])


_SIMPLE_REGEX = re.compile(r"^\^?(?:[^\W\d_]\?)*(\((?:[^\W\d_]+\|)*[^\W\d_]+\)|[^\W\d_]+)")


def _token_words(tok: dict) -> tuple[str, ...]:
    """Words one of which a text must contain for the pattern token ``tok`` to match: from
    ``TEXT``/``ORTH`` (a string or an ``IN`` list), or a simple ``REGEX`` such as
    ``^我?(忍|憋)$`` (optional characters dropped, the alternatives kept). Empty: unknown."""
    for key in ("TEXT", "ORTH", "LOWER", "NORM"):
        val = tok.get(key)
        if isinstance(val, str):
            return (val,)
        if isinstance(val, dict):
            if isinstance(val.get("IN"), list) and val["IN"]:
                return tuple(str(v) for v in val["IN"])
            regex = val.get("REGEX")
            if isinstance(regex, str):
                m = _SIMPLE_REGEX.match(regex)
                if m:
                    return tuple(m.group(1).strip("()").split("|"))
    return ()


def _required_words(pattern) -> tuple[tuple[str, ...], ...]:
    """For each obligatory token of a Matcher pattern whose words are known (see
    :func:`_token_words`), those words: a text can only match when it contains at least one
    word of every group."""
    groups = []
    for tok in pattern:
        if tok.get("OP") not in (None, "+", "1"):
            continue
        words = _token_words(tok)
        if words:
            groups.append(words)
    return tuple(groups)


def _in_order(text: str, groups) -> bool:
    """True when ``text`` holds a word of each group, in the groups' order (a pattern's
    obligatory tokens match in order, so a text without that cannot match)."""
    pos = 0
    for group in groups:
        best = -1
        for w in group:
            i = text.find(w, pos)
            if i >= 0 and (best < 0 or i + len(w) < best):
                best = i + len(w)
        if best < 0:
            return False
        pos = best
    return True


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
    def _pattern_matchers(self, vocab) -> list[tuple[object, tuple[str, ...]]]:
        """One spaCy Matcher per dictionary pattern, with the groups of literal words the
        text must contain for the pattern to match at all (see :func:`_required_words`).
        Matching is the costly part; the literal check skips most patterns for most passages."""
        if id(vocab) not in self._matchers:
            from spacy.matcher import Matcher

            out = []
            for comp in self.dictionary.competencies:
                for k, pat in enumerate(comp.patterns, start=1):
                    matcher = Matcher(vocab)
                    matcher.add(f"{comp.code}#{k}", [[dict(t) for t in pat]], greedy="LONGEST")
                    first = pat[0]
                    anchor = _token_words(first) if first.get("OP") in (None, "+", "1") else ()
                    out.append((matcher, _required_words(pat), anchor, len(pat)))
            self._matchers[id(vocab)] = out
        return self._matchers[id(vocab)]

    def _negation(self, folded: str, code: str, start: int, bounds=None) -> str:
        """The cue that cancels a match of ``code`` starting at ``start``, or ''.
        ``bounds`` caches :func:`_boundaries` of ``folded``."""
        from bisect import bisect_left, bisect_right

        clause_ends, sentence_ends = bounds or _boundaries(folded)
        k = bisect_left(clause_ends, start)
        clause_start = clause_ends[k - 1] + 1 if k else 0
        k = bisect_left(sentence_ends, start)
        sentence_start = sentence_ends[k - 1] + 1 if k else 0
        j = bisect_right(sentence_ends, start)
        sentence = folded[sentence_start:sentence_ends[j] if j < len(sentence_ends) else len(folded)]
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
        bounds = None
        for end, (fk, owners) in self._automaton.iter(folded):
            i = end + 1 - len(fk)
            bounds = bounds or _boundaries(folded)
            for code, kw in owners:
                ev = Evidence(i, i + len(fk), kw, text[i:i + len(fk)])
                ev.negated = self._negation(folded, code, i, bounds)
                hits.append((code, ev))
        hits.sort(key=lambda h: (h[1].start, h[1].end, self._order[h[0]]))
        return hits

    def suggest(self, texts: Sequence[str], prepared=None) -> list[list[Suggestion]]:
        """Suggestions for each text, best first (score, then dictionary order).

        A code is suggested when at least one of its matches is not negated. Each evidence
        span is annotated with the jieba word(s) that contain it. ``prepared`` is
        ``(folded texts, docs, token starts[, keyword hits])`` from :func:`fold`,
        :func:`segment` and :meth:`find`, when the caller segments once for several
        suggesters."""
        from bisect import bisect_right

        if prepared is None:
            folded_texts = [fold(t) for t in texts]
            docs, starts = segment(folded_texts)
            found = [None] * len(texts)
        else:
            folded_texts, docs, starts = prepared[:3]
            found = prepared[3] if len(prepared) > 3 else [None] * len(texts)
        has_patterns = any(c.patterns for c in self.dictionary.competencies)
        results: list[list[Suggestion]] = []
        for text, folded, doc, offs, hits in zip(texts, folded_texts, docs, starts, found):
            hits = list(hits) if hits is not None else self._find(text, folded)
            matches = []
            if has_patterns and len(doc):
                for matcher, required, anchor, length in self._pattern_matchers(doc.vocab):
                    if not _in_order(folded, required):
                        continue
                    if not anchor:
                        matches.extend(matcher(doc))
                        continue
                    # run only on windows that start at a word the first token can match
                    anchors = set(anchor)
                    ends = offs[1:] + [len(folded)]
                    for i, (a, b) in enumerate(zip(offs, ends)):
                        if folded[a:b] in anchors:
                            window = doc[i:min(len(offs), i + length + 2)]
                            for m_id, a, b in matcher(window):
                                if a == 0:
                                    matches.append((m_id, i + a, i + b))
            if matches:
                for match_id, s, e in matches:
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

    @staticmethod
    def hit_tokens(hits: list[tuple[str, Evidence]]) -> list[str]:
        """Tokens standing for the non-negated keyword matches ``hits`` (from :meth:`find`):
        one ``⟦CODE⟧`` per code and one ``⟦keyword⟧`` per keyword, for the learned model,
        which so learns from the coder how far each keyword and code can be trusted."""
        tokens: list[str] = []
        for code, ev in hits:
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
