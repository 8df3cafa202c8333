"""Beyond the dictionary: what outstanding interviewees say that average ones do not, and
candidate themes in what no code covers (``beicoder discover``, issue 16).

A BEI study does not only count known competencies: the seed paper built its dimensions by
comparing what outstanding and average performers said, and Boyatzis (1998) describes the
same inductive step (themes developed from a criterion sample, then validated on another).
This module proposes; the researcher reads the evidence and decides.

**Terms.** Only interviewee speech counts (the passages). Each passage is folded for
counting (NFKC per character, lower case, OpenCC Traditional to Simplified:
:func:`beicoder.core.suggest.lexicon.fold`, which keeps every offset) and cut into the words
of jieba's dictionary (without the HMM that guesses unknown words: in interviews it mostly
proposes names and fragments such as 万到, and it takes 40% of the time); a term is a word of
two or more Han characters (numerals such as 两万 left out), or a word of another script
(English words) of two letters or more, that is not a stop word
(spaCy's Chinese and English lists, as the learned suggester uses, and a few interview
fillers, :data:`FILLERS`). A term is counted in its folded form (so 貸款 and 贷款 are one term)
and shown as written most often.

**Distinctive terms** (:func:`distinctive_terms`). For a term w with counts y_w^O and y_w^A
in the outstanding and the average group's speech, n^O and n^A the groups' numbers of term
tokens, the weighted log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi &
Quinn 2008, section 3.5.1) is::

    delta_w = log[(y_w^O + a_w) / (n^O + a_0 - y_w^O - a_w)] - log[(y_w^A + a_w) / (n^A + a_0 - y_w^A - a_w)]
    var(delta_w) ~ 1 / (y_w^O + a_w) + 1 / (y_w^A + a_w),     z_w = delta_w / sqrt(var(delta_w))

(:func:`log_odds_z`), with the prior a_w = a_0 * y_w / n taken from the pooled speech of both
groups and a_0 = n (:data:`PRIOR_WEIGHT` times the pooled number of term tokens), so each
group's rate is shrunk towards the pooled one, rare terms most. The z is model-based: it
treats every token as an independent draw, so one talkative interviewee who repeats a word
can make it look distinctive. The unit that was sampled is the interviewee, so each term also
gets a **permutation p over interviewees**: the group labels are shuffled across
interviewees (the group sizes kept), the z is computed again for every split, and p is the
two-sided share of splits whose z is at least as extreme as the observed one (twice the
smaller one-sided share, at most 1): every split when there are at most 100,000, else 9,999
seeded random splits with p = (b + 1) / (R + 1) (Phipson & Smyth 2010); the machinery of
:mod:`beicoder.core.stats`. The pooled prior does not change under relabelling. The family
is the terms used by at least :data:`MIN_INTERVIEWEES` interviewees (a filter that does not
look at the groups, so it leaves the p values valid: Bourgon, Gentleman & Huber 2010);
Benjamini-Hochberg q over that family.

**Candidate themes** (:func:`candidate_themes`). The passages the coder marked "no code" or
has not decided are clustered by their text: TF-IDF over the same terms (scikit-learn;
sublinear tf, terms in at least 2 and at most half of these passages), non-negative matrix
factorisation (NMF by coordinate descent, at most 1,000 iterations, started by NNDSVD,
Boutsidis & Gallopoulos 2008, from one seeded randomized SVD) for k = 2 ... 12 themes (at most
one per 10 passages), each passage assigned to its heaviest theme. The number of themes is the k whose
themes are most coherent: the mean over themes of the NPMI coherence of their top 10 terms
(Bouma 2009; Lau, Newman & Baldwin 2014), co-occurrence counted in all interviewee passages
of the study; ties go to the smaller k. Per theme: its top terms, five example passages (the
passages it weighs most, one per interviewee first), and two interviewee-level comparisons,
each with a permutation p over interviewees (exact or seeded, as above) and BH q over the
themes: the share of outstanding and of average interviewees who speak of it (at least one
passage; p of the difference in shares; p = 1 when everyone or nobody does), and the mean
share of each interviewee's uncoded passages that fall in it (p of the difference in means),
since a group with more uncoded passages speaks of every theme more often.

The result (:class:`Discovery`) is saved beside the study as ``STUDY.db.discover.json``
(:func:`save_discovery`), as a trained model is saved beside it: so themes keep their numbers
for ``beicoder dictionary add-code --from-theme N`` (:func:`draft_code_from_theme`), the
TUI's discovery screen and ``beicoder report --discover``, without a change to the study's
schema. Running ``discover`` again replaces it.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import BeicoderError
from .textutil import HAN_RE

MIN_INTERVIEWEES = 3  # a term is tested when at least this many interviewees use it
PRIOR_WEIGHT = 1.0  # a_0 = PRIOR_WEIGHT * pooled number of term tokens
SEED = 0
MAX_THEMES = 12
NMF_ITERATIONS = 1000
PASSAGES_PER_THEME = 10  # at most one theme per this many uncoded passages
MIN_PASSAGES = 20  # fewer uncoded passages with terms than this: no themes
COHERENCE_TERMS = 10
THEME_EXAMPLES = 5
TERM_EXAMPLES = 2
TOP_WITH_EVIDENCE = 20  # terms per group saved with their examples and passages
TERM_PASSAGES = 200  # passages listed per such term
KWIC_WIDTH = 10  # characters of context either side of a term
RESULT_VERSION = 1

# Interview fillers spaCy's Chinese stop words lack (the generator's answer openings among them).
FILLERS = frozenset({"说实话", "坦白讲", "怎么说呢", "反正", "的话", "那种", "这块", "那块", "这边", "那边",
                     "后来想想", "想想", "段时间", "那段时间", "我记得", "记得", "好像", "基本上", "有点",
                     "对吧", "是不是", "这么", "那么", "东西", "谢谢", "客气", "不客气"})
_NUMERALS = frozenset("零〇一二三四五六七八九十百千万亿两几半")
GROUPS = ("outstanding", "average")


class DiscoveryError(BeicoderError):
    """Discovery cannot run, or its saved result cannot be used as asked; one line."""


# -- results ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Example:
    """A passage shown as evidence: its id, interviewee and group, and ``text`` (the whole
    passage for a theme; for a term a keyword-in-context window in which ``text[start:end]``
    is the term as written)."""

    passage_id: int
    interviewee: str
    group: str
    text: str
    start: int = 0
    end: int = 0


@dataclass(frozen=True)
class Term:
    """One tested term: ``term`` as written most often, ``key`` its folded form (what is
    counted), ``forms`` every written form; the group it ``favours`` (the sign of z), the
    log-odds ``delta``, ``z``, the permutation ``p`` and BH ``q``; per group the interviewees
    using it and its count. The top terms also carry ``examples`` (keyword in context) and
    ``passages`` (ids of passages holding it, in reading order, at most 200)."""

    term: str
    key: str
    forms: tuple[str, ...]
    favours: str
    delta: float
    z: float
    p: float
    q: float
    interviewees_outstanding: int
    interviewees_average: int
    count_outstanding: int
    count_average: int
    examples: tuple[Example, ...] = ()
    passages: tuple[int, ...] = ()


@dataclass(frozen=True)
class Theme:
    """One candidate theme, numbered from 1 by size: its top terms (as written), the ids of
    its passages, five example passages, its NPMI ``coherence``; the interviewees of each group
    who speak of it (``speakers_*``, ``share_*`` of the group) with the permutation ``p`` and
    BH ``q`` of the difference in shares; the mean share of an interviewee's uncoded passages
    in it (``passage_share_*``) with ``p_share`` and ``q_share``; and the group it
    ``favours`` (the larger mean passage share)."""

    number: int
    top_terms: tuple[str, ...]
    passages: tuple[int, ...]
    examples: tuple[Example, ...]
    coherence: float
    speakers_outstanding: int
    speakers_average: int
    share_outstanding: float
    share_average: float
    p: float
    q: float
    passage_share_outstanding: float
    passage_share_average: float
    p_share: float
    q_share: float
    favours: str


@dataclass
class Discovery:
    """What :func:`discover` found in a study.

    ``terms``: the tested terms (the family), most distinctive first (smallest p, then largest
    |z|); ``themes``: the candidate themes, numbered 1..k; ``k_coherence``: the mean NPMI
    coherence of each number of themes tried; ``method``: the method in words (``terms``,
    ``themes``) and how the p values were computed (``terms_p``, ``themes_p``); ``notes``:
    what was left out and why. The counts say how many interviewees of each group, term
    types seen, and uncoded passages clustered."""

    study: str
    coder: str | None
    created: str
    n_outstanding: int
    n_average: int
    terms: list[Term]
    themes: list[Theme]
    n_term_types: int
    n_theme_passages: int
    k_coherence: dict[int, float]
    method: dict[str, str]
    notes: list[str] = field(default_factory=list)
    parameters: dict = field(default_factory=dict)

    @property
    def k(self) -> int:
        """The number of themes chosen (the most coherent k; the smaller on a tie), 0 when none."""
        if not self.k_coherence:
            return 0
        return max(self.k_coherence, key=lambda k: (self.k_coherence[k], -k))

    def top_terms(self, group: str, n: int = 10) -> list[Term]:
        """The ``n`` most distinctive terms favouring ``group`` (outstanding or average)."""
        return [t for t in self.terms if t.favours == group][:n]

    def theme(self, number: int) -> Theme:
        """Theme ``number`` (1 = the first).

        Raises:
            DiscoveryError: there is no such theme in this result."""
        for t in self.themes:
            if t.number == number:
                return t
        have = f"themes 1-{len(self.themes)}" if self.themes else "no themes"
        raise DiscoveryError(f"theme {number}: the discovery of {self.created[:16].replace('T', ' ')} has {have}")

    def to_json(self) -> str:
        """The result as JSON text (what :func:`save_discovery` writes)."""
        data = asdict(self)
        data["version"] = RESULT_VERSION
        data["k_coherence"] = {str(k): v for k, v in self.k_coherence.items()}
        return json.dumps(data, ensure_ascii=False, indent=1, allow_nan=True)

    @classmethod
    def from_json(cls, text: str) -> Discovery:
        """The result :meth:`to_json` wrote.

        Raises:
            DiscoveryError: not such a result, or one of another version."""
        try:
            data = json.loads(text)
            if data.pop("version", None) != RESULT_VERSION:
                raise DiscoveryError("written by another version of beicoder; run 'beicoder discover' again")
            data["terms"] = [Term(**{**t, "forms": tuple(t["forms"]), "passages": tuple(t["passages"]),
                                     "examples": tuple(Example(**e) for e in t["examples"])}) for t in data["terms"]]
            data["themes"] = [Theme(**{**t, "top_terms": tuple(t["top_terms"]), "passages": tuple(t["passages"]),
                                       "examples": tuple(Example(**e) for e in t["examples"])})
                              for t in data["themes"]]
            data["k_coherence"] = {int(k): v for k, v in data["k_coherence"].items()}
            return cls(**data)
        except DiscoveryError:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise DiscoveryError(f"not a saved discovery ({exc})") from None


# -- terms --------------------------------------------------------------------------------------
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    return jieba


def stop_words() -> frozenset[str]:
    """The words never counted as terms: spaCy's Chinese and English stop words and
    :data:`FILLERS`."""
    from spacy.lang.en.stop_words import STOP_WORDS as EN
    from spacy.lang.zh.stop_words import STOP_WORDS as ZH

    return frozenset(ZH | EN | FILLERS)


def is_term(word: str, stop: frozenset[str]) -> bool:
    """Whether a (folded) jieba word is a term: two or more Han characters and not only
    numerals, or two or more letters of another script; never a stop word."""
    if len(word) < 2 or word in stop:
        return False
    if HAN_RE.search(word):
        return all(HAN_RE.match(ch) for ch in word) and not set(word) <= _NUMERALS
    return word.isalpha()


def term_spans(texts, stop: frozenset[str] | None = None) -> list[list[tuple[str, int, int]]]:
    """The terms of each text as (folded term, start, end), offsets into the text as given
    (the folding keeps the length; see the module docstring)."""
    from .suggest.lexicon import fold

    jieba = _jieba()
    stop = stop if stop is not None else stop_words()
    out = []
    for text in texts:
        spans, pos = [], 0
        for word in jieba.lcut(fold(text), HMM=False):
            start, pos = pos, pos + len(word)
            if is_term(word, stop):
                spans.append((word, start, pos))
        out.append(spans)
    return out


def log_odds_z(y_i, y_j, n_i, n_j, alpha, alpha0):
    """The weighted log-odds ratio of group i against group j with an informative Dirichlet
    prior, and its z-score (Monroe, Colaresi & Quinn 2008, eqs. 16 and 18-22; see the module
    docstring). ``y_i``, ``y_j``: a term's counts in each group (numbers or numpy arrays);
    ``n_i``, ``n_j``: the groups' total term counts; ``alpha``: the term's prior count a_w;
    ``alpha0``: the prior's total a_0. Returns ``(delta, z)``, broadcast as numpy does."""
    import numpy as np

    y_i, y_j = np.asarray(y_i, dtype=float), np.asarray(y_j, dtype=float)
    delta = (np.log(y_i + alpha) - np.log(n_i + alpha0 - y_i - alpha)
             - np.log(y_j + alpha) + np.log(n_j + alpha0 - y_j - alpha))
    return delta, delta / np.sqrt(1.0 / (y_i + alpha) + 1.0 / (y_j + alpha))


def distinctive_terms(counts, tokens, outstanding, min_interviewees: int = MIN_INTERVIEWEES, seed: int = SEED):
    """Score every term of an interviewee x term count matrix (see the module docstring).

    Args:
        counts: (N interviewees, V terms) array of counts.
        tokens: (N,) each interviewee's number of term tokens (all terms).
        outstanding: (N,) booleans, True for the outstanding group (the others are average).
        min_interviewees: terms used by fewer interviewees are not tested.
        seed: seed of the Monte-Carlo splits.

    Returns:
        dict of numpy arrays over the V terms: ``delta``, ``z`` (outstanding against average),
        ``tested`` (bool), ``p`` (NaN where not tested), ``users`` (interviewees using it),
        and ``method`` (how p was computed).
    """
    import numpy as np

    from .stats import p_from_hits, split_members

    counts = np.asarray(counts, dtype=float)
    tokens = np.asarray(tokens, dtype=float)
    outstanding = np.asarray(outstanding, dtype=bool)
    n_int, n_terms = counts.shape
    pooled = counts.sum(axis=0)
    n = tokens.sum()
    alpha0 = PRIOR_WEIGHT * n
    alpha = alpha0 * pooled / n
    delta, z = log_odds_z(counts[outstanding].sum(axis=0), counts[~outstanding].sum(axis=0),
                          tokens[outstanding].sum(), tokens[~outstanding].sum(), alpha, alpha0)
    users = (counts > 0).sum(axis=0)
    tested = users >= min_interviewees
    p = np.full(n_terms, np.nan)
    n1 = int(outstanding.sum())
    splits = split_members(n1, n_int - n1, seed=seed)
    idx = np.flatnonzero(tested)
    if len(idx) and 0 < n1 < n_int:
        # positions 0..n1-1 of a split are the outstanding group: order the interviewees so
        # that the observed split is the first n1 positions, then relabel
        order = np.concatenate([np.flatnonzero(outstanding), np.flatnonzero(~outstanding)])
        sub = counts[order][:, idx]
        tok = tokens[order]
        tot, a, zo = sub.sum(axis=0), alpha[idx], z[idx]
        tol = 1e-9 * np.maximum(1.0, np.abs(zo))
        greater = np.zeros(len(idx), dtype=np.int64)
        less = np.zeros(len(idx), dtype=np.int64)
        step = max(1, 2_000_000 // len(idx))
        members = splits.members
        for start in range(0, splits.count, step):
            block = members[start:start + step]
            ind = np.zeros((len(block), n_int))
            np.put_along_axis(ind, block.astype(np.int64), 1.0, axis=1)
            y_o = ind @ sub
            n_o = (ind @ tok)[:, None]
            _, zp = log_odds_z(y_o, tot - y_o, n_o, n - n_o, a, alpha0)
            greater += np.count_nonzero(zp >= zo - tol, axis=0)
            less += np.count_nonzero(zp <= zo + tol, axis=0)
        p[idx] = [p_from_hits(int(g), int(b), splits.count, splits.exact) for g, b in zip(greater, less)]
    return {"delta": delta, "z": z, "tested": tested, "p": p, "users": users, "method": splits.method}


# -- themes -------------------------------------------------------------------------------------
def npmi_coherence(top: list[list[int]], binary) -> list[float]:
    """The NPMI coherence of each list of term columns in ``top`` (Bouma 2009; Lau, Newman &
    Baldwin 2014): the mean over pairs of log(P(a, b) / (P(a) P(b))) / -log P(a, b), the
    probabilities being shares of the rows (passages) of the binary passage x term matrix
    ``binary`` that hold the terms; -1 for a pair never together, 1 for a pair in every row."""
    import numpy as np

    d = binary.shape[0]
    out = []
    for cols in top:
        sub = binary[:, cols]
        co = np.asarray((sub.T @ sub).todense(), dtype=float) / d
        marg = np.diag(co)
        vals = []
        for i in range(len(cols)):
            for j in range(i + 1, len(cols)):
                pij = co[i, j]
                if pij <= 0:
                    vals.append(-1.0)
                elif pij >= 1:
                    vals.append(1.0)
                else:
                    vals.append(math.log(pij / (marg[i] * marg[j])) / -math.log(pij))
        out.append(float(np.mean(vals)) if vals else float("nan"))
    return out


def nndsvd(u, s, vt, k: int):
    """The NNDSVD start of a rank-``k`` NMF (Boutsidis & Gallopoulos 2008) from a truncated SVD
    ``u``, ``s``, ``vt`` of the data (at least ``k`` factors, largest first): the first factor's
    absolute values, then for each further factor the positive or the negative part of its
    singular vectors, whichever carries more of it, scaled by the root of the singular value
    times that part's norms. Returns ``(W, H)``; entries below 1e-6 are set to 0."""
    import numpy as np

    n, m = u.shape[0], vt.shape[1]
    w, h = np.zeros((n, k)), np.zeros((k, m))
    w[:, 0] = np.sqrt(s[0]) * np.abs(u[:, 0])
    h[0, :] = np.sqrt(s[0]) * np.abs(vt[0, :])
    for j in range(1, k):
        x, y = u[:, j], vt[j, :]
        xp, yp, xn, yn = np.maximum(x, 0), np.maximum(y, 0), np.maximum(-x, 0), np.maximum(-y, 0)
        np_, nn_ = np.linalg.norm(xp) * np.linalg.norm(yp), np.linalg.norm(xn) * np.linalg.norm(yn)
        (a, b, norm) = (xp, yp, np_) if np_ >= nn_ else (xn, yn, nn_)
        if norm <= 0:
            continue
        scale = np.sqrt(s[j] * norm)
        w[:, j] = scale * a / np.linalg.norm(a)
        h[j, :] = scale * b / np.linalg.norm(b)
    w[w < 1e-6] = 0
    h[h < 1e-6] = 0
    return w, h


def candidate_themes(docs: list[list[str]], reference, vocab: dict[str, int], seed: int = SEED,
                     max_themes: int = MAX_THEMES):
    """Cluster the term lists ``docs`` (one per uncoded passage) into themes by TF-IDF + NMF,
    choosing the number of themes by NPMI coherence in ``reference`` (a binary passage x term
    matrix over all passages, columns by ``vocab``); see the module docstring.

    Returns ``(labels, weights, top, k_coherence)``: for each doc its theme (0..k-1, or -1
    when it has no weight in any), the weight of that theme, each theme's top terms (folded,
    best first), and the mean coherence of each k tried; ``([-1]*len(docs), ..., [], {})``
    when there are too few docs.
    """
    import warnings

    import numpy as np
    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer

    usable = [i for i, d in enumerate(docs) if d]
    labels, weights = [-1] * len(docs), [0.0] * len(docs)
    if len(usable) < MIN_PASSAGES:
        return labels, weights, [], {}
    vectorizer = TfidfVectorizer(analyzer=lambda d: d, min_df=2, max_df=0.5, sublinear_tf=True)
    try:
        x = vectorizer.fit_transform([docs[i] for i in usable])
    except ValueError:  # no term in two passages or more
        return labels, weights, [], {}
    names = vectorizer.get_feature_names_out()
    keep = np.asarray(x.sum(axis=1)).ravel() > 0
    x = x[keep]
    usable = [i for i, k in zip(usable, keep) if k]
    k_max = min(max_themes, len(usable) // PASSAGES_PER_THEME, x.shape[1] - 1)
    best = None
    scores: dict[int, float] = {}
    if k_max >= 2:
        from sklearn.utils.extmath import randomized_svd

        svd = randomized_svd(x, k_max, random_state=seed)  # one SVD: every k starts from its first k factors
    for k in range(2, k_max + 1):
        w0, h0 = nndsvd(*svd, k)
        model = NMF(n_components=k, init="custom", max_iter=NMF_ITERATIONS)
        with warnings.catch_warnings():  # a factorisation still moving after 1,000 steps is used as it stands
            warnings.simplefilter("ignore", ConvergenceWarning)
            w = model.fit_transform(x, W=w0, H=h0)
        top = [[str(names[j]) for j in np.argsort(-row, kind="stable")[:COHERENCE_TERMS]] for row in model.components_]
        score = float(np.mean(npmi_coherence([[vocab[t] for t in terms] for terms in top], reference)))
        scores[k] = score
        if best is None or score > best[0] + 1e-12:
            best = (score, w, top)
    if best is None:
        return labels, weights, [], {}
    _, w, top = best
    for row, i in enumerate(usable):
        if w[row].max() > 0:
            labels[i] = int(np.argmax(w[row]))
            weights[i] = float(w[row].max())
    return labels, weights, top, scores


# -- the whole -------------------------------------------------------------------------------------
def _kwic(text: str, start: int, end: int, width: int = KWIC_WIDTH) -> tuple[str, int, int]:
    """A keyword-in-context window of ``text`` around ``text[start:end]`` (line breaks as
    spaces, an ellipsis where cut): the window and the term's span in it."""
    left = text[max(0, start - width):start].replace("\n", " ")
    right = text[end:end + width].replace("\n", " ")
    if start > width:
        left = "…" + left
    if end + width < len(text):
        right += "…"
    return left + text[start:end] + right, len(left), len(left) + end - start


def _speaker_tests(members: list[str], passages_per_iv: dict[str, int], in_theme: Counter,
                   group_of: dict[str, str], seed: int):
    """The two interviewee-level comparisons of one theme (see the module docstring)."""
    from .stats import permutation_test

    o = [iv for iv in members if group_of[iv] == "outstanding"]
    a = [iv for iv in members if group_of[iv] == "average"]
    pres_o = [1.0 if in_theme[iv] else 0.0 for iv in o]
    pres_a = [1.0 if in_theme[iv] else 0.0 for iv in a]
    share_o = [in_theme[iv] / passages_per_iv[iv] if passages_per_iv.get(iv) else 0.0 for iv in o]
    share_a = [in_theme[iv] / passages_per_iv[iv] if passages_per_iv.get(iv) else 0.0 for iv in a]
    p_pres = permutation_test(pres_o, pres_a, "mean", seed=seed).p
    p_share = permutation_test(share_o, share_a, "mean", seed=seed).p

    def mean(values: list[float]) -> float:
        return sum(values) / len(values) if values else float("nan")

    return {"speakers_outstanding": int(sum(pres_o)), "speakers_average": int(sum(pres_a)),
            "share_outstanding": mean(pres_o), "share_average": mean(pres_a),
            "p": 1.0 if math.isnan(p_pres) else p_pres,
            "passage_share_outstanding": mean(share_o), "passage_share_average": mean(share_a),
            "p_share": 1.0 if math.isnan(p_share) else p_share}


def discover(store, coder: str | None = None, min_interviewees: int = MIN_INTERVIEWEES, seed: int = SEED,
             max_themes: int = MAX_THEMES, progress=None) -> Discovery:
    """Distinctive terms of the outstanding vs the average group's speech, and candidate themes
    in the passages ``coder`` marked "no code" or has not decided (every passage when
    ``coder`` is None), for the study in ``store``; see the module docstring for the method.
    ``progress`` (optional) is called with a short line at each stage.

    Raises:
        AnalysisError: a group label that is neither outstanding nor average.
        DiscoveryError: no interviewee in one of the groups.
    """
    import numpy as np
    from scipy import sparse

    from .analysis import _bh, normalize_group

    say = progress or (lambda _m: None)
    rows = store.passage_decisions(coder)
    group_of: dict[str, str] = {}
    left_out: set[str] = set()
    for r in rows:
        g = normalize_group(r["grp"])
        if g is None:
            left_out.add(r["interviewee"])
        else:
            group_of[r["interviewee"]] = g
    rows = [r for r in rows if r["interviewee"] in group_of]
    members = sorted(group_of)
    n_o = sum(1 for iv in members if group_of[iv] == "outstanding")
    n_a = len(members) - n_o
    if n_o == 0 or n_a == 0:
        missing = "outstanding" if n_o == 0 else "average"
        raise DiscoveryError(f"{store.path.name}: no {missing} interviewee with passages (groups come from the "
                             "metadata CSV given to 'beicoder import --meta')")
    say(f"segmenting {len(rows)} passages of {len(members)} interviewees (jieba)")
    stop = stop_words()
    spans = term_spans([r["text"] for r in rows], stop)
    vocab: dict[str, int] = {}
    forms: dict[str, Counter] = {}
    iv_index = {iv: i for i, iv in enumerate(members)}
    ri, ci = [], []
    for r, sp in zip(rows, spans):
        row = iv_index[r["interviewee"]]
        for key, s, e in sp:
            col = vocab.setdefault(key, len(vocab))
            forms.setdefault(key, Counter())[r["text"][s:e]] += 1
            ri.append(row)
            ci.append(col)
    keys = list(vocab)
    counts = sparse.coo_matrix((np.ones(len(ri)), (ri, ci)), shape=(len(members), len(vocab))).toarray()
    tokens = counts.sum(axis=1)
    is_o = np.array([group_of[iv] == "outstanding" for iv in members])
    say(f"scoring {len(vocab)} terms (log-odds, permutation over interviewees)")
    scored = distinctive_terms(counts, tokens, is_o, min_interviewees, seed)
    tested = np.flatnonzero(scored["tested"])
    qs = _bh([float(scored["p"][j]) for j in tested])
    users_o = (counts[is_o] > 0).sum(axis=0)
    users_a = (counts[~is_o] > 0).sum(axis=0)
    count_o = counts[is_o].sum(axis=0)
    count_a = counts[~is_o].sum(axis=0)

    def written(key: str) -> str:
        return sorted(forms[key].items(), key=lambda kv: (-kv[1], kv[0]))[0][0]

    terms = []
    for j, q in zip(tested, qs):
        key = keys[j]
        terms.append(Term(written(key), key, tuple(sorted(forms[key], key=lambda f: (-forms[key][f], f))),
                          "outstanding" if scored["z"][j] > 0 else "average", float(scored["delta"][j]),
                          float(scored["z"][j]), float(scored["p"][j]), q, int(users_o[j]), int(users_a[j]),
                          int(count_o[j]), int(count_a[j])))
    terms.sort(key=lambda t: (t.p, -abs(t.z), t.key))
    terms = _with_evidence(terms, rows, spans, group_of)

    say("clustering the passages no code covers (TF-IDF + NMF)")
    uncoded = [k for k, r in enumerate(rows) if r["n_codes"] == 0]
    docs = [[key for key, _, _ in spans[k]] for k in uncoded]
    binary = sparse.coo_matrix((np.ones(len(ci)), (_passage_rows(spans), ci)), shape=(len(rows), len(vocab))).tocsr()
    binary.data[:] = 1.0  # the passage holds the term
    labels, weights, top, k_scores = candidate_themes(docs, binary, vocab, seed, max_themes)
    themes = _themes(rows, uncoded, labels, weights, top, binary, vocab, members, group_of, seed, written)
    notes = []
    if left_out:
        notes.append(f"{len(left_out)} interviewees without a group left out: {', '.join(sorted(left_out))}")
    n_docs = sum(1 for d in docs if d)
    if not themes:
        notes.append(f"no themes: {n_docs} uncoded passages with terms (at least {MIN_PASSAGES} needed)")
    result = Discovery(
        study=store.path.name, coder=coder, created=datetime.now(UTC).isoformat(timespec="seconds"),
        n_outstanding=n_o, n_average=n_a, terms=terms, themes=themes, n_term_types=len(vocab),
        n_theme_passages=n_docs, k_coherence=k_scores, method={}, notes=notes,
        parameters={"min_interviewees": min_interviewees, "seed": seed, "max_themes": max_themes,
                    "prior_weight": PRIOR_WEIGHT})
    result.method = _method(result, scored["method"], len(uncoded))
    return result


def _passage_rows(spans) -> list[int]:
    return [k for k, sp in enumerate(spans) for _ in sp]


def _with_evidence(terms: list[Term], rows, spans, group_of) -> list[Term]:
    """The top terms of each group with their keyword-in-context examples (two passages of
    different interviewees of the favoured group, those who use the term most first) and the
    passages that hold them."""
    from dataclasses import replace

    wanted: dict[str, Term] = {}
    for group in GROUPS:
        for t in [t for t in terms if t.favours == group][:TOP_WITH_EVIDENCE]:
            wanted[t.key] = t
    hits: dict[str, list[tuple[int, int, int]]] = {k: [] for k in wanted}  # key -> (row, start, end)
    for k, sp in enumerate(spans):
        for key, s, e in sp:
            if key in hits:
                hits[key].append((k, s, e))
    done = {}
    for key, t in wanted.items():
        per_iv = Counter(rows[k]["interviewee"] for k, _, _ in hits[key])
        first: dict[str, tuple[int, int, int]] = {}
        for h in hits[key]:
            first.setdefault(rows[h[0]]["interviewee"], h)
        chosen = sorted((iv for iv in first if group_of[iv] == t.favours), key=lambda iv: (-per_iv[iv], iv))
        chosen += sorted((iv for iv in first if group_of[iv] != t.favours), key=lambda iv: (-per_iv[iv], iv))
        examples = []
        for iv in chosen[:TERM_EXAMPLES]:
            k, s, e = first[iv]
            text, a, b = _kwic(rows[k]["text"], s, e)
            examples.append(Example(rows[k]["id"], iv, group_of[iv], text, a, b))
        passages = tuple(dict.fromkeys(rows[k]["id"] for k, _, _ in hits[key]))[:TERM_PASSAGES]
        done[key] = replace(t, examples=tuple(examples), passages=passages)
    return [done.get(t.key, t) for t in terms]


def _themes(rows, uncoded, labels, weights, top, binary, vocab, members, group_of, seed, written) -> list[Theme]:
    """Number the themes by size and give each its evidence and its two tests."""
    from .analysis import _bh

    if not top:
        return []
    k = len(top)
    by_theme: list[list[int]] = [[] for _ in range(k)]
    for pos, lab in enumerate(labels):
        if lab >= 0:
            by_theme[lab].append(pos)
    order = sorted(range(k), key=lambda c: (-len(by_theme[c]), c))
    coherence = npmi_coherence([[vocab[t] for t in top[c]] for c in range(k)], binary)
    per_iv = Counter(rows[uncoded[pos]]["interviewee"] for pos, lab in enumerate(labels) if lab >= 0)
    drafts = []
    for c in order:
        if not by_theme[c]:
            continue
        positions = by_theme[c]
        in_theme = Counter(rows[uncoded[pos]]["interviewee"] for pos in positions)
        tests = _speaker_tests(members, per_iv, in_theme, group_of, seed)
        ranked = sorted(positions, key=lambda pos: (-weights[pos], pos))
        picked, seen = [], set()
        for pos in ranked:  # one passage per interviewee first, then the others
            iv = rows[uncoded[pos]]["interviewee"]
            if iv not in seen:
                seen.add(iv)
                picked.append(pos)
            if len(picked) == THEME_EXAMPLES:
                break
        picked += [pos for pos in ranked if pos not in picked][:THEME_EXAMPLES - len(picked)]
        examples = tuple(Example(rows[uncoded[pos]]["id"], rows[uncoded[pos]]["interviewee"],
                                 group_of[rows[uncoded[pos]]["interviewee"]], rows[uncoded[pos]]["text"])
                         for pos in picked)
        passages = tuple(rows[uncoded[pos]]["id"] for pos in sorted(positions))
        drafts.append((tuple(written(t) for t in top[c]), passages, examples, coherence[c], tests))
    qs = _bh([d[4]["p"] for d in drafts])
    qs_share = _bh([d[4]["p_share"] for d in drafts])
    out = []
    for n, (terms, passages, examples, coh, tests), q, q_share in zip(range(1, len(drafts) + 1), drafts, qs,
                                                                      qs_share):
        favours = "outstanding" if tests["passage_share_outstanding"] >= tests["passage_share_average"] else "average"
        out.append(Theme(n, terms, passages, examples, coh, tests["speakers_outstanding"], tests["speakers_average"],
                         tests["share_outstanding"], tests["share_average"], tests["p"], q,
                         tests["passage_share_outstanding"], tests["passage_share_average"], tests["p_share"],
                         q_share, favours))
    return out


def _method(result: Discovery, terms_p: str, n_uncoded: int) -> dict[str, str]:
    """The method in words, for the screen, the CSV readers and the report: ``terms``,
    ``themes`` (a paragraph each), ``terms_p`` and ``themes_p`` (how the p values were
    computed), ``coder`` (whose decisions chose the passages to cluster)."""
    from .stats import MAX_SPLITS, RESAMPLES, n_splits

    n = result.n_outstanding + result.n_average
    splits = n_splits(result.n_outstanding, result.n_average)
    p_how = (f"every one of the {splits:,} splits" if splits <= MAX_SPLITS else
             f"{RESAMPLES:,} random splits, seed {result.parameters['seed']}, p = (b + 1) / (R + 1)")
    terms = (
        "Terms are words of jieba's dictionary of two or more Han characters (or words of another script) that are "
        "not stop words, "
        "counted after folding Traditional to Simplified (OpenCC), in the speech of "
        f"{result.n_outstanding} outstanding and {result.n_average} average interviewees "
        f"({result.n_term_types:,} term types). Each term is scored by the weighted log-odds ratio with an "
        "informative Dirichlet prior (Monroe, Colaresi & Quinn 2008), the prior being the pooled speech of both "
        "groups with a total weight equal to its number of term tokens, and by its z-score. Because z treats every "
        "token as independent, the p value comes from a permutation test over interviewees, the unit sampled: the "
        f"group labels were reassigned across the {n} interviewees ({p_how}), z recomputed, and p is two-sided "
        "(twice the smaller one-sided share, at most 1). The family is the "
        f"{len(result.terms):,} terms used by at least {result.parameters['min_interviewees']} interviewees (a filter "
        "blind to the groups; Bourgon, Gentleman & Huber 2010), with Benjamini-Hochberg q over it.")
    which = (f"the {n_uncoded} passages that coder {result.coder} marked \"no code\" or left undecided"
             if result.coder else f"all {n_uncoded} passages (no coder has decided any)")
    if result.themes:
        k = result.k
        empty = f" ({k - len(result.themes)} of the {k} took no passage)" if len(result.themes) < k else ""
        themes = (
            f"Candidate themes: {which} ({result.n_theme_passages} with terms) were represented by TF-IDF and "
            "factorised by NMF (scikit-learn; NNDSVD start from a randomized SVD, seed "
            f"{result.parameters['seed']}; at most 1,000 iterations) into k themes, each passage assigned to its "
            f"heaviest theme; k = {k} of the "
            f"values 2-{max(result.k_coherence)} gave the most coherent themes (mean NPMI of each theme's top 10 "
            "terms over all interviewee passages; Bouma 2009; Lau, Newman & Baldwin 2014). For each theme, the share "
            "of interviewees of each group with at least one passage in it, and the mean share of an interviewee's "
            f"uncoded passages in it, were compared by permutation tests over interviewees ({p_how}; two-sided), "
            f"each with Benjamini-Hochberg q over the {len(result.themes)} themes{empty}.")
    else:
        themes = f"No candidate themes: {result.notes[-1] if result.notes else 'too few uncoded passages'}."
    return {"terms": terms, "themes": themes, "terms_p": terms_p, "themes_p": p_how,
            "coder": f"coder {result.coder}" if result.coder else "no coder"}


# -- files -------------------------------------------------------------------------------------------
def discovery_path(db: str | Path) -> Path:
    """Where the last discovery of the study ``db`` is kept: ``STUDY.db.discover.json``."""
    return Path(f"{db}.discover.json")


def save_discovery(result: Discovery, db: str | Path) -> Path:
    """Write ``result`` beside the study ``db`` (replacing the one before). Returns the path.

    Raises:
        OutputError: the file cannot be written."""
    from .export import write_atomically

    return write_atomically(discovery_path(db), result.to_json().encode("utf-8"))


def load_discovery(db: str | Path) -> Discovery:
    """The last discovery saved beside the study ``db``.

    Raises:
        DiscoveryError: there is none, or it cannot be read."""
    path = discovery_path(db)
    if not path.is_file():
        raise DiscoveryError(f"{Path(db).name}: no discovery yet; run 'beicoder discover --db {db}' first")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DiscoveryError(f"{path}: cannot read ({exc})") from None
    try:
        return Discovery.from_json(text)
    except DiscoveryError as exc:
        raise DiscoveryError(f"{path}: {exc}") from None


def terms_frame(result: Discovery):
    """``terms.csv`` as a DataFrame: one row per tested term, most distinctive first (term,
    favours, z, p, q, interviewees and count per group, log-odds delta, written forms)."""
    import pandas as pd

    return pd.DataFrame([{
        "term": t.term, "favours": t.favours, "z": t.z, "p": t.p, "q": t.q,
        "interviewees_outstanding": t.interviewees_outstanding, "interviewees_average": t.interviewees_average,
        "count_outstanding": t.count_outstanding, "count_average": t.count_average, "log_odds": t.delta,
        "forms": " ".join(t.forms)} for t in result.terms],
        columns=["term", "favours", "z", "p", "q", "interviewees_outstanding", "interviewees_average",
                 "count_outstanding", "count_average", "log_odds", "forms"])


def themes_frame(result: Discovery):
    """``themes.csv`` as a DataFrame: one row per theme (number, top terms, passages, speakers
    and their share per group with p and q, mean passage share per group with p and q, the
    group it favours, coherence, five example passages as ``interviewee (group): text``)."""
    import pandas as pd

    rows = []
    for t in result.themes:
        row = {"theme": t.number, "top_terms": " ".join(t.top_terms), "passages": len(t.passages),
               "speakers_outstanding": t.speakers_outstanding, "speakers_average": t.speakers_average,
               "share_outstanding": t.share_outstanding, "share_average": t.share_average, "p": t.p, "q": t.q,
               "passage_share_outstanding": t.passage_share_outstanding,
               "passage_share_average": t.passage_share_average, "p_share": t.p_share, "q_share": t.q_share,
               "favours": t.favours, "coherence": t.coherence}
        for k in range(THEME_EXAMPLES):
            e = t.examples[k] if k < len(t.examples) else None
            row[f"example_{k + 1}"] = f"{e.interviewee} ({e.group}): {e.text}" if e else ""
        rows.append(row)
    return pd.DataFrame(rows)


def write_discovery(result: Discovery, out: str | Path) -> list[Path]:
    """Write ``terms.csv`` and ``themes.csv`` into the folder ``out`` (UTF-8 with BOM,
    formula-like cells neutralised, full precision). Returns the paths.

    Raises:
        OutputError: a file cannot be written."""
    from .export import write_csv

    out = Path(out)
    return [write_csv(terms_frame(result), out / "terms.csv"), write_csv(themes_frame(result), out / "themes.csv")]


# -- from theme to code -------------------------------------------------------------------------------
@dataclass(frozen=True)
class DraftCode:
    """What :func:`draft_code_from_theme` wrote: the dictionary file ``path``, the
    ``dictionary`` as loaded back from it, the ``theme`` used, the number of its example
    passages added (``examples``) and of those left out because the dictionary has the same
    text already (``skipped``), and whether the file's comments and layout were ``kept``."""

    path: Path
    dictionary: object
    theme: Theme
    examples: int
    skipped: int
    kept: bool


def draft_code_from_theme(db: str | Path, code: str, name_zh: str, name_en: str | None, theme_number: int,
                          out: str | Path | None = None, dictionary_file: str | Path | None = None) -> DraftCode:
    """Write a copy of the study's dictionary (or of ``dictionary_file``) with a draft code
    ``code`` made from theme ``theme_number`` of the last discovery saved beside the study
    ``db``: its names, one placeholder level 1 to be replaced by real levels, no keywords (the
    theme's top terms are named in a comment as candidates) and the theme's example passages
    as the code's ``examples:``. The researcher completes the definition, the levels and the
    keywords, then uses the file (``beicoder dictionary use``).

    ``out`` defaults to ``STEM-CODE.yaml`` in the current folder (STEM: the dictionary file's
    name). The file is written through a temporary name and loaded back with
    :func:`~beicoder.core.dictionary.load_dictionary`; when it does not load it is removed.
    An existing file is never overwritten.

    Raises:
        DiscoveryError: no saved discovery, no such theme, or the theme has no passages.
        DictionaryError: the code exists or is not a valid code, the source does not load.
        OutputError: ``out`` exists, is a folder, does not end in .yaml/.yml, or cannot be written.
    """
    from .dictionary import (
        CODE_CHARS,
        DictionaryError,
        _same_text_key,
        load_dictionary,
        parse_dictionary,
        with_code_added,
    )
    from .export import OutputError, check_output, write_atomically
    from .store import Store

    result = load_discovery(db)
    theme = result.theme(theme_number)
    code = (code or "").strip()
    if not code or not set(code) <= CODE_CHARS:
        raise DictionaryError(f"{code!r}: a code is upper-case letters, digits, '_', '-' or '.' (e.g. TRUST)")
    if not (name_zh or "").strip():
        raise DictionaryError(f"{code}: --name-zh is empty")
    if dictionary_file is not None:
        source = str(dictionary_file)
        dictionary = load_dictionary(dictionary_file)
    else:
        with Store(db, create=False) as store:
            dictionary = store.dictionary()
        if dictionary is None:
            raise DictionaryError(f"{Path(db).name}: the study has no dictionary; give one with --dictionary")
        source = dictionary.source
        dictionary = parse_dictionary(dictionary.yaml_text, source)
    if code in dictionary.codes:
        raise DictionaryError(f"{Path(source).name}: code {code} exists already "
                              f"({dictionary.get(code).name_zh or dictionary.get(code).name_en}); choose another")
    out = Path(out) if out is not None else Path.cwd() / f"{Path(source).stem}-{code}.yaml"
    if out.suffix.lower() not in (".yaml", ".yml"):
        raise OutputError(f"{out}: a dictionary is a YAML file; give a name ending in .yaml")
    check_output(out)
    if out.exists():
        raise OutputError(f"{out}: exists; move it away or give another file name")
    have = {_same_text_key(text) for text, _ in dictionary.examples}
    examples, skipped = [], 0
    for e in theme.examples:
        key = _same_text_key(e.text)
        if key in have or not key:
            skipped += 1
            continue
        have.add(key)
        examples.append({"codes": [code], "text": e.text})
    entry = {"code": code, "name_zh": name_zh.strip()}
    if name_en and name_en.strip():
        entry["name_en"] = name_en.strip()
    entry["levels"] = [{"level": 1, "indicator_zh": "（草稿）待补充：本级的行为指标",
                        "indicator_en": "(draft) to complete: the behavioural indicator of this level"}]
    entry["keywords"] = []
    when = result.created[:16].replace("T", " ")
    comment = (f"Draft code from theme {theme.number} of 'beicoder discover' "
               f"({result.study}, {result.method['coder']}, {when} UTC): {len(theme.passages)} passages;\n"
               f"{theme.speakers_outstanding}/{result.n_outstanding} outstanding and "
               f"{theme.speakers_average}/{result.n_average} average interviewees speak of it. "
               f"Its {len(examples)} example passages are under examples: at the end.\n"
               "To complete: definition_zh/en, the levels with their behavioural indicators, keywords\n"
               f"(candidates from the theme's top terms: {', '.join(theme.top_terms)}).")
    text, kept = with_code_added(dictionary.yaml_text, entry, examples, comment, str(out))
    write_atomically(out, text.encode("utf-8"))
    try:
        written = load_dictionary(out)  # the file written loads as a dictionary
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return DraftCode(out, written, theme, len(examples), skipped, kept)
