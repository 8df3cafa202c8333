"""The lexicon suggester for English passages: keywords, token patterns and cues matched by
lemma.

A passage is English when CJK characters are under a tenth of its letters
(:func:`is_english`); the Chinese path of :mod:`.lexicon` never sees it. The passage is
folded without changing its length (NFKC per character and lower case, as for Chinese, and
``’`` read as ``'``), cut into tokens by spaCy's ``blank("en")`` tokenizer, and each token is
given one lemma by lemminflect (:func:`lemma`: its verb lemma if it has one, else its noun,
adjective or adverb lemma; a word lemminflect does not know gets its out-of-vocabulary rules).
White space and hyphens are not words: what is left is the passage's word sequence, each word
with its exact character offsets in the passage.

A keyword (``keywords_en``: base form, one to five words) matches a run of consecutive words
whose lemmas are those of its own words, so "check the receipt" matches "checked the
receipts" and "Checking the\\nreceipt", and "follow-up" matches "followed up". A keyword word
accepts the lemma of any of its inflected forms (:func:`lemma_alternatives`: "meeting" accepts
"meet", the lemma of "meeting", and "meeting", that of "meetings"). Token patterns
(``patterns_en``) run through spaCy's ``Matcher`` over the same words, their ``LEMMA`` set;
a ``LEMMA`` value of a pattern is widened the same way.

Negation: a match does not count when, in its clause (words between ``, ; : . ! ?`` and blank
lines; a single line break is a hard-wrapped line, not a boundary), a ``negation_cues_en`` cue
ends at most :data:`NEGATION_WINDOW` words before it, or a ``hypothetical_cues_en`` cue stands
earlier in its sentence, with no word of :data:`SCOPE_BREAKERS` (so, but, because, a subject
pronoun, ...) between the cue and the match, or one of the code's
``negative_cues_en`` is in its sentence; a negation cue inside a ``negation_exceptions_en``
phrase ("not only", "no problem") does not negate. Cues are matched by lemma, as keywords are.

Score of a code: ``1 - prod(1 - w_k)`` over the distinct keywords and patterns matched and not
negated, ``w_k = 0.45 + 0.1 * min(words, 3)`` (0.55 for one word, 0.75 for three or more;
0.65 for a pattern). Level: the highest level of the code whose ``cues_en`` occur in the passage.
spaCy's English tokenizer and lemminflect are loaded on the first English passage.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from ..textutil import match_form
from . import Evidence, Suggestion, noisy_or

NEGATION_WINDOW = 4  # words allowed between a negation cue and the match it negates
# Words that start a new scope between a cue and a match: "I couldn't believe it so I checked
# the receipts", "I wasn't sure I checked", "If I had doubts, I checked" all checked. A subject
# pronoun after the cue begins another clause; "didn't go and check" stays negated.
# For a hypothetical cue a pronoun only breaks in a later clause ("I wish I had gone back to
# check" stays hypothetical).
SCOPE_BREAKERS = frozenset({"so", "but", "because", "then", "when", "whenever", "while", "although",
                            "though", "until", "after", "before", "since", "i", "we", "he", "she", "they"})
_PRONOUNS = frozenset({"i", "we", "he", "she", "they"})
PATTERN_WEIGHT = 0.65
# letters counted for the language of a passage: CJK characters, and Latin letters (ASCII,
# accented, full-width)
CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U000323af]")
_LATIN = re.compile("[A-Za-z\u00c0-\u024f\uff21-\uff3a\uff41-\uff5a]")
_HYPHENS = set("-\u2010\u2011\u2012\u2013\u2014")
_CLAUSE_PUNCT = set(",;:.!?，；：。！？")
_SENTENCE_PUNCT = set(".!?。！？")
_LEMMA_POS = ("VERB", "NOUN", "ADJ", "ADV")
# an article or possessive inside a keyword ("check the receipt") stands for at most one word
# of these in the text: "checked receipts", "checked her receipts", "set myself targets"
DETERMINERS = frozenset("a an the my your his her its our their this that these those some".split())
SLOT_WORDS = DETERMINERS | frozenset(
    "any all every each both another other me him them us it myself himself herself itself ourselves yourself "
    "yourselves themselves one two three four five six several many few more".split())


def is_english(text: str) -> bool:
    """True when ``text`` is read as English: it has Latin letters and its CJK characters are
    under a tenth of its letters (CJK and Latin). Text with neither is not English. Cheap on
    Chinese text: one search finds no Latin letter, or CJK characters are counted only until
    there are enough of them."""
    if _LATIN.search(text) is None:
        return False
    latin = len(_LATIN.findall(text))
    # English when 9 * cjk < latin, i.e. cjk <= (latin - 1) // 9
    enough = (latin - 1) // 9 + 1
    for count, _ in enumerate(CJK.finditer(text), start=1):
        if count >= enough:
            return False
    return True


def english_form(text: str) -> str:
    """``text`` as English matching reads it: :func:`~beicoder.core.textutil.match_form` (NFKC,
    lower case) with typographic apostrophes as ``'``; same length as ``text``."""
    return match_form(text).replace("\u2019", "'").replace("\u2018", "'")


@lru_cache(maxsize=1)
def en_pipeline():
    """spaCy ``blank("en")`` (loaded once): its tokenizer and the vocabulary patterns run on."""
    import spacy

    return spacy.blank("en")


@lru_cache(maxsize=1 << 16)
def lemma(word: str) -> str:
    """The lemma of one lower-case ``word``: lemminflect's verb lemma if the word has one,
    else its noun, adjective, adverb or any other lemma; for a word lemminflect does not
    know, its out-of-vocabulary rules (verb rules for ``-ed``/``-ing``, noun rules for ``-s``)
    or the word itself. Always lower case."""
    from lemminflect import getAllLemmas, getAllLemmasOOV

    word = word.lower()
    if not any(ch.isalpha() for ch in word):
        return word
    found = getAllLemmas(word)
    for pos in _LEMMA_POS:
        if found.get(pos):
            return found[pos][0].lower()
    for forms in found.values():
        if forms:
            return forms[0].lower()
    if word.isalpha() and len(word) > 3:
        if word.endswith(("ed", "ing")):
            return getAllLemmasOOV(word, "VERB")["VERB"][0].lower()
        if word.endswith("s") and not word.endswith("ss"):
            return getAllLemmasOOV(word, "NOUN")["NOUN"][0].lower()
    return word


@lru_cache(maxsize=1 << 14)
def lemma_alternatives(word: str) -> frozenset[str]:
    """The token lemmas a keyword or pattern word ``word`` accepts: its own :func:`lemma`,
    the word itself, and the lemma of each of its inflected forms (lemminflect), so that a
    word whose forms lemminflect reads under different parts of speech ("meeting" -> "meet",
    "meetings" -> "meeting") matches all of them."""
    from lemminflect import getAllInflections

    word = word.lower()
    out = {lemma(word), word}
    for forms in getAllInflections(word).values():
        out.update(lemma(f) for f in forms)
    return frozenset(out)


class Words:
    """The word sequence of one English text: ``spans`` (start, end) offsets into the text,
    ``forms`` the folded words, ``lemmas`` their lemmas, and for each word the number of its
    run (words with no punctuation between them: a phrase matches within one), of its
    clause (a run or a line break ends it) and of its sentence (``run``, ``clause``,
    ``sentence``)."""

    def __init__(self, text: str):
        form = english_form(text)
        self.spans: list[tuple[int, int]] = []
        self.forms: list[str] = []
        self.run: list[int] = []
        self.clause: list[int] = []
        self.sentence: list[int] = []
        run = clause = sentence = 0
        for tok in en_pipeline().tokenizer(form):
            t = tok.text
            if tok.is_space or t in _HYPHENS or (t and set(t) <= _HYPHENS):
                if t.count("\n") >= 2:  # a blank line; one line break is a hard-wrapped line
                    clause += 1
                    sentence += 1
                continue
            if t in _CLAUSE_PUNCT or (t and set(t) <= _CLAUSE_PUNCT):
                run += 1
                clause += 1
                if set(t) & _SENTENCE_PUNCT:
                    sentence += 1
                continue  # punctuation ends a clause; no keyword runs across it
            self.spans.append((tok.idx, tok.idx + len(t)))
            self.forms.append(t)
            self.run.append(run)
            self.clause.append(clause)
            self.sentence.append(sentence)
        self.lemmas = [lemma(f) for f in self.forms]

    def __len__(self) -> int:
        return len(self.forms)


def _match_at(slots, lemmas: list[str], forms: list[str], run: list[int], k: int, i: int) -> int:
    """The end (word index) of a match of ``slots[k:]`` starting at word ``i``, or -1; a slot is
    ``(lemmas accepted, optional)``, an optional one taking no word or one of :data:`SLOT_WORDS`."""
    if k == len(slots):
        return i
    accepted, optional = slots[k]
    if i < len(lemmas) and run[i] == run[i - 1]:
        if optional:
            if forms[i] in SLOT_WORDS:
                end = _match_at(slots, lemmas, forms, run, k + 1, i + 1)
                if end >= 0:
                    return end
        elif lemmas[i] in accepted:
            return _match_at(slots, lemmas, forms, run, k + 1, i + 1)
    return _match_at(slots, lemmas, forms, run, k + 1, i) if optional else -1


class _Phrases:
    """Phrases (keywords or cues, base form) matched by lemma over :class:`Words`: each
    phrase is cut into words as a text is, each word standing for its
    :func:`lemma_alternatives`, except an article or possessive after the first word
    (:data:`DETERMINERS`), which stands for no word or one of :data:`SLOT_WORDS`. Each phrase
    carries a payload (what it stands for)."""

    def __init__(self, phrases: Sequence[tuple[str, object]]):
        self._by_first: dict[str, list[tuple[tuple, str, object]]] = {}
        for phrase, payload in phrases:
            words = Words(phrase)
            if not len(words):
                continue
            slots = tuple((lemma_alternatives(f), k > 0 and k < len(words) - 1 and f in DETERMINERS)
                          for k, f in enumerate(words.forms))
            for first in slots[0][0]:
                self._by_first.setdefault(first, []).append((slots, phrase, payload))

    def __bool__(self) -> bool:
        return bool(self._by_first)

    def find(self, words: Words) -> list[tuple[int, int, str, object]]:
        """Every occurrence in ``words``: ``(first word, end word, phrase, payload)``, the
        words ``first .. end - 1`` in one run (no punctuation between them)."""
        out = []
        lemmas, forms, run = words.lemmas, words.forms, words.run
        for i, lem in enumerate(lemmas):
            for slots, phrase, payload in self._by_first.get(lem, ()):
                end = _match_at(slots, lemmas, forms, run, 1, i + 1)
                if end >= 0:
                    out.append((i, end, phrase, payload))
        return out


def _widen_pattern(pattern) -> list[dict]:
    """A ``patterns_en`` pattern with each ``LEMMA`` value (or ``IN`` list) widened to the
    lemmas of its inflected forms (:func:`lemma_alternatives`) and ``LOWER`` values lower-cased."""
    out = []
    for tok in pattern:
        tok = dict(tok)
        val = tok.get("LEMMA")
        if isinstance(val, str):
            tok["LEMMA"] = {"IN": sorted(lemma_alternatives(val))}
        elif isinstance(val, dict) and isinstance(val.get("IN"), list):
            tok["LEMMA"] = dict(val, IN=sorted({a for v in val["IN"] for a in lemma_alternatives(str(v))}))
        low = tok.get("LOWER")
        if isinstance(low, str):
            tok["LOWER"] = low.lower()
        elif isinstance(low, dict) and isinstance(low.get("IN"), list):
            tok["LOWER"] = dict(low, IN=[str(v).lower() for v in low["IN"]])
        out.append(tok)
    return out


def phrase_weight(phrase: str) -> float:
    """Weight of one distinct English keyword in a code's score (see the module docstring)."""
    return 0.45 + 0.1 * min(len(phrase.split()), 3)


class EnglishLexicon:
    """The English half of the lexicon suggester, over the ``_en`` entries of a
    :class:`~beicoder.core.dictionary.Dictionary`; built by
    :class:`~beicoder.core.suggest.lexicon.LexiconSuggester` on its first English passage."""

    def __init__(self, dictionary):
        self.dictionary = dictionary
        self._order = {c: i for i, c in enumerate(dictionary.codes)}
        comps = dictionary.competencies
        self._keywords = _Phrases([(kw, c.code) for c in comps for kw in c.keywords_en])
        self._negations = _Phrases([(c, None) for c in dictionary.negation_cues_en])
        self._hypotheticals = _Phrases([(c, None) for c in dictionary.hypothetical_cues_en])
        self._exceptions = _Phrases([(c, None) for c in dictionary.negation_exceptions_en])
        self._negative = _Phrases([(cue, c.code) for c in comps for cue in c.negative_cues_en])
        self._levels = _Phrases([(cue, (c.code, lv.level)) for c in comps for lv in c.levels for cue in lv.cues_en])
        self._pattern_labels = {}
        self._matcher = None
        patterns = [(f"{c.code}#en{k}", c.code, pat) for c in comps for k, pat in enumerate(c.patterns_en, start=1)]
        if patterns:
            from spacy.matcher import Matcher

            self._matcher = Matcher(en_pipeline().vocab)
            for label, code, pat in patterns:
                self._matcher.add(label, [_widen_pattern(pat)], greedy="LONGEST")
                self._pattern_labels[en_pipeline().vocab.strings[label]] = (label, code)

    def _negation(self, words: Words, code: str, start: int, cues) -> str:
        """The cue that cancels a match of ``code`` starting at word ``start``, or ''. ``cues``:
        the occurrences of negation, hypothetical, exception and negative cues in ``words``."""
        negations, hypotheticals, exceptions, negative = cues
        sentence, clause = words.sentence[start], words.clause[start]
        for a, _, cue, owner in negative:
            if owner == code and words.sentence[a] == sentence:
                return cue
        def reaches(b: int, same_clause_pronouns: bool = True) -> bool:
            """No word between the cue's end (word ``b``) and the match starts a new scope."""
            for k in range(b, start):
                f = words.forms[k]
                if f in SCOPE_BREAKERS and (same_clause_pronouns or f not in _PRONOUNS
                                            or words.clause[k] != words.clause[b - 1]):
                    return False
            return True

        for a, b, cue, _ in hypotheticals:
            if b <= start and words.sentence[a] == sentence and reaches(b, same_clause_pronouns=False):
                return cue
        for a, b, cue, _ in negations:
            if b <= start and start - b <= NEGATION_WINDOW and words.clause[a] == clause and reaches(b):
                if any(x <= a and b <= y for x, y, _, _ in exceptions):
                    continue
                return cue
        return ""

    def find(self, text: str, words: Words | None = None) -> list[tuple[str, Evidence]]:
        """Every keyword and pattern match in the English ``text`` as ``(code, Evidence)``
        pairs in text order, negation marked; ``token`` is the words the match covers."""
        words = words or Words(text)
        if not len(words):
            return []
        cues = (self._negations.find(words), self._hypotheticals.find(words), self._exceptions.find(words),
                self._negative.find(words))
        matches = [(code, a, b, kw) for a, b, kw, code in self._keywords.find(words)]
        if self._matcher is not None:
            from spacy.tokens import Doc

            doc = Doc(en_pipeline().vocab, words=words.forms, lemmas=words.lemmas)
            for key, a, b in self._matcher(doc):
                label, code = self._pattern_labels[key]
                matches.append((code, a, b, f"pattern {label}"))
        hits = []
        for code, a, b, kw in matches:
            i, j = words.spans[a][0], words.spans[b - 1][1]
            ev = Evidence(i, j, kw, text[i:j], token=text[i:j])
            ev.negated = self._negation(words, code, a, cues)
            hits.append((code, ev))
        hits.sort(key=lambda h: (h[1].start, h[1].end, self._order[h[0]]))
        return hits

    def suggest_one(self, text: str) -> list[Suggestion]:
        """Suggestions for one English ``text``, best first (score, then dictionary order)."""
        words = Words(text)
        by_code: dict[str, list[Evidence]] = {}
        for code, ev in self.find(text, words):
            by_code.setdefault(code, []).append(ev)
        levels: dict[str, tuple[int, str]] = {}
        if self._levels and by_code:
            for _, _, cue, (code, level) in self._levels.find(words):
                if code not in levels or level > levels[code][0]:
                    levels[code] = (level, cue)
        out = []
        for code, evs in by_code.items():
            score = noisy_or(evs, lambda kw: PATTERN_WEIGHT if kw.startswith("pattern ") else phrase_weight(kw))
            if score is None:
                continue
            sugg = Suggestion(code, score, sorted(evs, key=lambda e: e.start))
            sugg.level, sugg.level_cue = levels.get(code, (None, ""))
            out.append(sugg)
        out.sort(key=lambda s: (-s.score, self._order[s.code]))
        return out

