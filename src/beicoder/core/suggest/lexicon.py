"""The lexicon suggester: the dictionary's keywords and token patterns found in a passage,
with evidence, negation and a level proposal.

Matching works on a folded copy of the passage with the same length (so offsets stay on the
original): NFKC per character (full-width digits and letters), lower case, and OpenCC
Traditional-to-Simplified conversion character by character. Keywords are found at character
level, not token level, by an Aho-Corasick automaton (pyahocorasick): jieba often puts a
keyword inside a longer word (``流水`` in ``流水账``), where a token matcher would miss it. A
keyword of several words in an alphabetic script (``cash flow``) matches across any run of
white space or a hyphen (``cash\nflow``, ``cash-flow``); a joined form (``cashflow``) matches
when the dictionary lists it as a keyword of its own.

jieba runs only where it is needed, one block at a time: each piece of evidence names the
jieba word(s) holding it, and the dictionary's optional token ``patterns`` run through spaCy's
``Matcher`` on jieba words. jieba cuts a text into blocks at every character outside its own
word alphabet (Han characters, letters, digits and ``+#&._%-``: punctuation and white space)
and segments each block on its own, so the words of a block do not depend on the rest of the
text: segmenting only the blocks that hold a match, or a pattern's first word and the words
after it, gives the very words a jieba pass over the whole passage gives (see
:class:`LazyWords`). A passage without a keyword, and whose text cannot hold a pattern's
literal words in order, is never segmented.

Negation: a match does not count when, in its clause (text between ，。！？；：, and line
breaks), a negation cue of the dictionary ends at most 6 characters before it (``没有去核实``),
or a hypothetical cue stands earlier in its sentence (``如果当时去看一下就好了``), or the code's
own negative cue appears in its sentence (``他拿着红包来，我就收下了`` is not self-control).
Cues inside one of ``negation_exceptions`` (``没想到``) do not negate. Negated matches stay in
the evidence, flagged.

Score of a code for a passage: ``1 - prod(1 - w_k)`` over the distinct keywords (and
patterns) of that code matched and not negated, with ``w_k = 0.35 + 0.1 * min(len(k), 4)``
(0.55 for a two-character keyword, 0.75 for four or more; 0.65 for a pattern): one long
keyword gives 0.75, two short ones 0.80; repeats of the same keyword add nothing.

Level: the highest level of the code whose ``cues`` occur in the passage.

English passages (CJK characters under a tenth of the letters: see
:func:`~beicoder.core.suggest.english.is_english`) take another path, by lemma, over the
dictionary's ``_en`` entries: see :mod:`beicoder.core.suggest.english`, loaded on the first
English passage.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from functools import lru_cache

from ..textutil import match_form, simplified_form
from . import Evidence, Suggestion, noisy_or
from .english import is_english

# jieba's HMM guesses words its dictionary lacks; the lexicon's evidence names jieba's words
# as segmented with it.
JIEBA_HMM = True
NEGATION_WINDOW = 6  # characters allowed between a negation cue and the match it negates
PATTERN_WEIGHT = 0.65
_CLAUSE_END = re.compile(r"[，,。！？!?；;：:\n]")
_SENTENCE_END = re.compile(r"[。！？!?\n]")
# jieba's own block alphabet (jieba.re_han_default): a run of these characters is segmented
# as one block, every other character is a word of its own (\r\n and white space aside).
_JIEBA_BLOCK = re.compile("[\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+")
# a keyword of several words in an alphabetic script: words joined by white space or hyphens
_WORD_SEPARATOR = re.compile(r"[\s\-]+")
_BETWEEN_WORDS = r"(?:\s+|\s*-\s*)"


def to_simplified(text: str) -> str:
    """OpenCC Traditional-to-Simplified conversion that keeps the length of ``text`` (see
    :func:`~beicoder.core.textutil.simplified_form`), so offsets stay valid."""
    return simplified_form(text)


def fold(text: str) -> str:
    """The form of ``text`` used for matching: :func:`match_form` then :func:`to_simplified`;
    same length as ``text``."""
    return to_simplified(match_form(text))


@lru_cache(maxsize=1)
def _quiet_jieba():
    """jieba, its log silenced (once: setting a log level clears the logging caches)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    return jieba


@lru_cache(maxsize=1)
def zh_pipeline():
    """spaCy ``blank("zh")`` with the jieba segmenter (loaded once; jieba's log silenced).
    Its vocabulary is the one the pattern Matcher runs on."""
    import spacy

    _quiet_jieba()
    return spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})


class LazyWords:
    """The jieba words of one folded text, segmented one block at a time, when asked for.

    jieba (``jieba.lcut(text, HMM=JIEBA_HMM)``) cuts a text into blocks, maximal runs of its
    word alphabet (``_JIEBA_BLOCK``) and the stretches between them, and segments each block
    on its own; so the words of a block are the same whether jieba is given the block or the
    whole text. ``word_at(i)`` and ``words_from(i)`` segment only the blocks they reach:
    the words they give are exactly those of one jieba pass over the whole text.
    ``segmented`` counts the characters handed to jieba so far."""

    def __init__(self, text: str):
        self.text = text
        self._starts: list[int] | None = None  # where each block starts (found when first needed)
        self._words: dict[int, list[int]] = {}  # block index -> start offsets of its words
        self.segmented = 0

    def _blocks(self) -> list[int]:
        if self._starts is None:
            starts = [0]
            for m in _JIEBA_BLOCK.finditer(self.text):
                a, b = m.span()
                if a > starts[-1]:
                    starts.append(a)
                starts.append(b)
            if starts[-1] == len(self.text) and len(starts) > 1:
                starts.pop()
            self._starts = starts if self.text else []
        return self._starts

    def _block(self, k: int) -> list[int]:
        words = self._words.get(k)
        if words is None:
            starts = self._blocks()
            a = starts[k]
            b = starts[k + 1] if k + 1 < len(starts) else len(self.text)
            words = []
            pos = a
            for w in _quiet_jieba().lcut(self.text[a:b], HMM=JIEBA_HMM):
                words.append(pos)
                pos += len(w)
            self._words[k] = words
            self.segmented += b - a
        return words

    def word_at(self, i: int) -> tuple[int, int]:
        """``(start, end)`` of the jieba word holding character ``i`` (0 <= i < len(text))."""
        starts = self._blocks()
        k = bisect_right(starts, i) - 1
        words = self._block(k)
        j = bisect_right(words, i) - 1
        if j + 1 < len(words):
            return words[j], words[j + 1]
        return words[j], starts[k + 1] if k + 1 < len(starts) else len(self.text)

    def words_from(self, i: int):
        """The jieba words from the one starting at character ``i`` (a word start) to the end
        of the text, as ``(start, end)`` pairs, segmenting blocks only as they are reached."""
        starts = self._blocks()
        k = bisect_right(starts, i) - 1
        while k < len(starts):
            words = self._block(k)
            end = starts[k + 1] if k + 1 < len(starts) else len(self.text)
            for j in range(bisect_left(words, i), len(words)):
                yield words[j], words[j + 1] if j + 1 < len(words) else end
            k += 1

    def all_words(self) -> list[tuple[int, int]]:
        """Every word of the text (the whole text segmented)."""
        return list(self.words_from(0)) if self.text else []


def keyword_weight(keyword: str) -> float:
    """Weight of one distinct keyword in a code's score (see the module docstring)."""
    return 0.35 + 0.1 * min(len(keyword), 4)


def _boundaries(folded: str) -> tuple[list[int], list[int]]:
    """Positions of clause-ending and sentence-ending characters in ``folded``."""
    return ([m.start() for m in _CLAUSE_END.finditer(folded)], [m.start() for m in _SENTENCE_END.finditer(folded)])


_REGEX_ITEM = re.compile(r"(\((?:[^\W\d_]+\|)*[^\W\d_]+\)|[^\W\d_])(\?)?")


def _parse_regex(regex: str) -> tuple[tuple[str, ...], int | None, int | None] | None:
    """A simple token regex (spaCy searches it in the word) as ``(words, slack, longest)``:
    the word must contain one of ``words``, starting at most ``slack`` characters into the
    word (None: anywhere), and the word is at most ``longest`` characters (None: any length).
    Simple means: an optional ``^``, then letters (or Han characters) and groups of
    alternatives ``(a|b)``, each possibly optional (``?``), then an optional ``$``:
    ``^我?(忍|憋)$`` gives ((忍, 憋), 1, 3), ``^(他|她)?怕(老婆)?$`` gives ((怕,), 1, 4),
    ``^(退|退回)`` gives ((退, 退回), 0, None). None for anything else (``[0-9]+``)."""
    body = regex
    start, end = body.startswith("^"), body.endswith("$") and not body.endswith("\\$")
    body = body[1 if start else 0:len(body) - 1 if end else len(body)]
    items: list[tuple[tuple[str, ...], bool]] = []
    pos = 0
    while pos < len(body):
        m = _REGEX_ITEM.match(body, pos)
        if not m:
            return None
        items.append((tuple(m.group(1).strip("()").split("|")), bool(m.group(2))))
        pos = m.end()
    first = next((k for k, (_, optional) in enumerate(items) if not optional), None)
    if first is None:
        return None
    words = items[first][0]
    k = first + 1
    while k < len(items) and not items[k][1] and len(items[k][0]) == 1:  # literal letters after it
        words = tuple(w + items[k][0][0] for w in words)
        k += 1
    slack = sum(max(map(len, alts)) for alts, _ in items[:first]) if start else None
    longest = sum(max(map(len, alts)) for alts, _ in items) if start and end else None
    return words, slack, longest


def _token_info(tok: dict) -> tuple[tuple[str, ...], int | None, int | None, bool]:
    """What a pattern token says of the word it matches: ``(words, slack, longest, exact)``.
    ``words``: the word contains one of them (empty: unknown), starting at most ``slack``
    characters in (None: anywhere); ``longest``: its most characters (None: unknown);
    ``exact``: the word is one of ``words``, whole (a ``TEXT``/``ORTH`` string or ``IN``
    list). A simple ``REGEX`` is read by :func:`_parse_regex`."""
    for key in ("TEXT", "ORTH", "LOWER", "NORM"):
        val = tok.get(key)
        exact = key in ("TEXT", "ORTH")
        if isinstance(val, str):
            return (val,), 0, len(val) if exact else None, exact
        if isinstance(val, dict):
            if isinstance(val.get("IN"), list) and val["IN"]:
                words = tuple(str(v) for v in val["IN"])
                exact = exact and set(val) == {"IN"}
                return words, 0, max(map(len, words)) if exact else None, exact
            regex = val.get("REGEX")
            if isinstance(regex, str) and len(val) == 1:
                parsed = _parse_regex(regex)
                if parsed:
                    return parsed[0], parsed[1], parsed[2] if exact else None, False
    return (), None, None, False


def _token_words(tok: dict) -> tuple[str, ...]:
    """Words one of which a word must contain for the pattern token ``tok`` to match it
    (see :func:`_token_info`); empty: unknown."""
    return _token_info(tok)[0]


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


def _in_order(text: str, groups, pos: int = 0) -> bool:
    """True when ``text`` holds, from ``pos`` on, a word of each group in the groups' order
    (a pattern's obligatory tokens match in order, so a text without that cannot match)."""
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


def _spaced_regex(folded_keyword: str):
    """For a keyword of several alphabetic words (``cash flow``, ``cash-flow``), the regex
    that matches its words joined by any run of white space or a hyphen; None for any other
    keyword (matched literally)."""
    words = [w for w in _WORD_SEPARATOR.split(folded_keyword) if w]
    if len(words) < 2 or not any(ch.isascii() and ch.isalpha() for ch in folded_keyword):
        return None
    return re.compile(_BETWEEN_WORDS.join(re.escape(w) for w in words))


def _reach(pattern) -> list[tuple[tuple[str, ...], int]]:
    """For a pattern that starts with an obligatory token, the words each later obligatory
    token with known words (see :func:`_token_info`) must contain, with the furthest from
    the start of a match that such a word can start: the longest words of the tokens before
    it (each taken at most once, ``OP`` none or ``?``) plus how far into its own word it can
    lie. A match starting at character ``a`` needs one of those words to start within
    ``a + reach``; the list stops at the first token whose length is unknown."""
    out = []
    reach = 0
    for k, tok in enumerate(pattern):
        words, slack, longest, _ = _token_info(tok)
        if k and words and slack is not None and tok.get("OP") in (None, "1"):
            out.append((words, reach + slack))
        if longest is None or tok.get("OP") not in (None, "1", "?"):
            break
        reach += longest
    return out


class _Pattern:
    """One dictionary pattern with its Matcher (built on first use) and what a text must
    hold for it to match: ``required`` (see :func:`_required_words`), ``anchor`` (the words
    its first token can be, when that token is obligatory), ``reach`` (see :func:`_reach`)
    and ``length`` (tokens)."""

    def __init__(self, code: str, number: int, pattern):
        self.code = code
        self.label = f"{code}#{number}"
        self.pattern = [dict(t) for t in pattern]
        self.required = _required_words(pattern)
        self.required_sets = [frozenset(group) for group in self.required]
        first = pattern[0]
        words, slack, _, exact = _token_info(first)
        self.anchor = tuple(dict.fromkeys(words)) if first.get("OP") in (None, "+", "1") else ()
        # the first word of a match: one of the anchor words (exact) or holding one, starting
        # at most anchor_slack characters before it (None: anywhere in the word)
        self.anchor_exact = exact
        self.anchor_slack = slack
        self.reach = _reach(pattern) if self.anchor else []
        self.length = len(pattern)
        self._matcher = None

    def may_start_at(self, folded: str, a: int) -> bool:
        """False when no match can start at or before character ``a`` of ``folded`` with its
        first word holding the anchor word found at ``a``: a later obligatory word is not
        within its reach of ``a`` (see :func:`_reach`), or the obligatory words are not all
        there in order from ``a``."""
        for words, reach in self.reach:
            if not any(folded.find(w, a, a + reach + len(w)) >= 0 for w in words):
                return False
        return _in_order(folded, self.required, a)

    def matcher(self, vocab):
        if self._matcher is None:
            from spacy.matcher import Matcher

            self._matcher = Matcher(vocab)
            self._matcher.add(self.label, [self.pattern], greedy="LONGEST")
        return self._matcher


class LexiconSuggester:
    """Suggest codes from the keywords, patterns and cues of a
    :class:`~beicoder.core.dictionary.Dictionary`.

    ``segmented_chars`` counts the characters jieba has segmented so far (the rest of the
    text never reached jieba)."""

    name = "lexicon"

    def __init__(self, dictionary):
        self.dictionary = dictionary
        import ahocorasick

        # folded keyword -> list of (code, keyword as written), searched all at once with an
        # Aho-Corasick automaton (every occurrence, overlapping ones included); keywords of
        # several alphabetic words are regexes instead (any white space or hyphen between)
        self._keywords: dict[str, list[tuple[str, str]]] = {}
        self._spaced: list[tuple[re.Pattern, str, list[tuple[str, str]]]] = []
        for comp in dictionary.competencies:
            for kw in comp.keywords:
                self._keywords.setdefault(fold(kw), []).append((comp.code, kw))
        self._automaton = ahocorasick.Automaton()
        literal = 0
        for fk, owners in self._keywords.items():
            regex = _spaced_regex(fk)
            if regex is not None:
                self._spaced.append((regex, _WORD_SEPARATOR.split(fk)[0], owners))
            else:
                self._automaton.add_word(fk, (fk, owners))
                literal += 1
        if literal:
            self._automaton.make_automaton()
        self._has_literal = literal > 0
        self._order = {c: i for i, c in enumerate(dictionary.codes)}
        self._negations = [fold(c) for c in dictionary.negation_cues]
        self._hypotheticals = [fold(c) for c in dictionary.hypothetical_cues]
        self._exceptions = [fold(c) for c in dictionary.negation_exceptions]
        self._negative = {c.code: [fold(x) for x in c.negative_cues] for c in dictionary.competencies}
        self._level_cues = {c.code: [(lv.level, fold(cue), cue) for lv in c.levels for cue in lv.cues]
                            for c in dictionary.competencies}
        self._patterns = [_Pattern(comp.code, k, pat) for comp in dictionary.competencies
                          for k, pat in enumerate(comp.patterns, start=1)]
        # every literal word the patterns require, found in one pass over a text
        self._pattern_words = ahocorasick.Automaton()
        for w in {w for pat in self._patterns for group in pat.required for w in group}:
            self._pattern_words.add_word(w, w)
        if len(self._pattern_words):
            self._pattern_words.make_automaton()
        self._vocab = None
        self._english = None
        self.segmented_chars = 0

    def english(self):
        """The :class:`~beicoder.core.suggest.english.EnglishLexicon` of the dictionary (built
        on first use: it loads spaCy's English tokenizer and lemminflect)."""
        if self._english is None:
            from .english import EnglishLexicon

            self._english = EnglishLexicon(self.dictionary)
        return self._english

    # -- matching -----------------------------------------------------------------------------
    def _negation(self, folded: str, code: str, start: int, bounds=None) -> str:
        """The cue that cancels a match of ``code`` starting at ``start``, or ''.
        ``bounds`` caches :func:`_boundaries` of ``folded``."""
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
        with negation marked. Evidence of a Chinese text has no ``token`` yet (see
        :meth:`suggest`); an English text (see :func:`~.english.is_english`) is matched by lemma."""
        if is_english(text):
            return self.english().find(text)
        return self._find(text, fold(text))

    def _find(self, text: str, folded: str, bounds=None) -> list[tuple[str, Evidence]]:
        hits: list[tuple[str, Evidence]] = []
        spans: list[tuple[int, int, str, list]] = []
        if self._has_literal:
            for end, (fk, owners) in self._automaton.iter(folded):
                spans.append((end + 1 - len(fk), end + 1, fk, owners))
        for regex, first_word, owners in self._spaced:
            if first_word in folded:
                spans.extend((m.start(), m.end(), "", owners) for m in regex.finditer(folded))
        for i, j, _, owners in spans:
            bounds = bounds or _boundaries(folded)
            for code, kw in owners:
                ev = Evidence(i, j, kw, text[i:j])
                ev.negated = self._negation(folded, code, i, bounds)
                hits.append((code, ev))
        hits.sort(key=lambda h: (h[1].start, h[1].end, self._order[h[0]]))
        return hits

    def _vocabulary(self):
        if self._vocab is None:
            self._vocab = zh_pipeline().vocab
        return self._vocab

    def _pattern_hits(self, text: str, folded: str, words: LazyWords, bounds) -> list[tuple[str, Evidence]]:
        """Matches of the dictionary's token patterns, as ``(code, Evidence)`` pairs. A
        pattern whose literal words the text does not hold in order is skipped without
        segmenting; one with an anchor (its first token's words) runs on the jieba words from
        each anchor occurrence on (the pattern's length plus two words, as many as a match
        can take); any other on every word of the text."""
        hits: list[tuple[str, Evidence]] = []
        present = {w for _, w in self._pattern_words.iter(folded)} if len(self._pattern_words) else set()
        for pat in self._patterns:
            if pat.required_sets and present.isdisjoint(pat.required_sets[-1]):
                continue  # the last obligatory word, the rarest as a rule, is not there
            if any(present.isdisjoint(group) for group in pat.required_sets):
                continue
            if not _in_order(folded, pat.required):
                continue
            found: list[tuple[int, int]] = []
            if pat.anchor:
                starts = set()
                for w in pat.anchor:
                    for i in _occurrences(folded, w):
                        if not pat.may_start_at(folded, i):  # text alone rules it out (a match starts at i or before)
                            continue
                        a, b = words.word_at(i)
                        if b < i + len(w) or (pat.anchor_exact and (a != i or b != i + len(w))):
                            continue  # not a word that can be the first of a match
                        if pat.anchor_slack is None or i - a <= pat.anchor_slack:
                            starts.add(a)
                for i in sorted(starts):
                    window = []
                    for span in words.words_from(i):
                        window.append(span)
                        if len(window) == pat.length + 2:
                            break
                    found.extend((window[s][0], window[e - 1][1])
                                 for s, e in self._match(pat, folded, window) if s == 0)
            else:
                every = words.all_words()
                found.extend((every[s][0], every[e - 1][1]) for s, e in self._match(pat, folded, every))
            for a, b in found:
                ev = Evidence(a, b, f"pattern {pat.label}", text[a:b])
                ev.negated = self._negation(folded, pat.code, a, bounds)
                hits.append((pat.code, ev))
        return hits

    def _match(self, pat: _Pattern, folded: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """``(first, end)`` word indices of ``pat``'s matches on the words ``spans``."""
        if not spans:
            return []
        from spacy.tokens import Doc

        doc = Doc(self._vocabulary(), words=[folded[a:b] for a, b in spans])
        return [(s, e) for _, s, e in pat.matcher(doc.vocab)(doc)]

    def suggest(self, texts: Sequence[str]) -> list[list[Suggestion]]:
        """Suggestions for each text, best first (score, then dictionary order).

        A code is suggested when at least one of its matches is not negated. Each evidence
        span is annotated with the jieba word(s) that contain it (``Evidence.token``); jieba
        segments only the blocks of the text that a match or a pattern reaches (see
        :class:`LazyWords`)."""
        return [self.suggest_one(text) for text in texts]

    def suggest_one(self, text: str, folded: str | None = None) -> list[Suggestion]:
        """:meth:`suggest` for one text (``folded``: its :func:`fold`, when already made). An
        English text goes to :meth:`english`."""
        if is_english(text):
            return self.english().suggest_one(text)
        folded = fold(text) if folded is None else folded
        bounds = _boundaries(folded)
        hits = self._find(text, folded, bounds)
        words = LazyWords(folded)
        if self._patterns and folded:
            hits.extend(self._pattern_hits(text, folded, words, bounds))
        by_code: dict[str, list[Evidence]] = {}
        for code, ev in hits:
            if folded:  # the jieba word(s) holding the match
                a = words.word_at(ev.start)[0]
                b = words.word_at(max(ev.start, ev.end - 1))[1]
                ev.token = text[a:b]
            by_code.setdefault(code, []).append(ev)
        self.segmented_chars += words.segmented
        suggestions = []
        for code, evs in by_code.items():
            score = noisy_or(evs, lambda kw: PATTERN_WEIGHT if kw.startswith("pattern ") else keyword_weight(kw))
            if score is None:
                continue
            sugg = Suggestion(code, score, sorted(evs, key=lambda e: e.start))
            sugg.level, sugg.level_cue = self._level(code, folded)
            suggestions.append(sugg)
        suggestions.sort(key=lambda s: (-s.score, self._order[s.code]))
        return suggestions

    def scores(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Code -> score for each text (the scores of :meth:`suggest`)."""
        return [{s.code: s.score for s in sugg} for sugg in self.suggest(texts)]

    def _level(self, code: str, folded: str) -> tuple[int | None, str]:
        best: tuple[int | None, str] = (None, "")
        for level, fcue, cue in self._level_cues.get(code, ()):
            if fcue in folded and (best[0] is None or level > best[0]):
                best = (level, cue)
        return best


def suggestion_rows(passage_ids: Sequence[int], results: Sequence[Sequence[Suggestion]]) -> list[dict]:
    """The rows :meth:`~beicoder.core.store.Store.replace_suggestions` stores for the
    lexicon's ``results`` (one list per passage of ``passage_ids``)."""
    return [{"passage_id": pid, "code": s.code, "score": s.score, "level": s.level, "level_cue": s.level_cue,
             "evidence": [e.as_dict() for e in s.evidence]}
            for pid, sugg in zip(passage_ids, results) for s in sugg]


def suggest_study(store, dictionary, passage_ids: Sequence[int] | None = None, batch: int = 500,
                  progress: Callable[[int, int], None] | None = None, folded: dict[int, str] | None = None) -> int:
    """Run the lexicon suggester over the study's passages and store the results.

    ``passage_ids`` defaults to every passage not yet suggested with this dictionary version.
    Commits every ``batch`` passages (so a long run can be interrupted without losing work);
    ``progress(done, total)`` is called after each batch. ``folded``, when given, receives
    each passage's :func:`fold` (passage id -> text), for a model scoring the same passages.
    Returns the number of passages done.
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
        forms = [fold(texts[i]) for i in chunk]
        results = [suggester.suggest_one(texts[i], f) for i, f in zip(chunk, forms)]
        if folded is not None:
            folded.update(zip(chunk, forms))
        store.replace_suggestions(suggester.name, suggestion_rows(chunk, results), chunk, dictionary.sha256)
        done += len(chunk)
        if progress:
            progress(done, len(ids))
    return done
