"""How well the suggesters agree with a coder: precision, recall and F1 per code, micro and
macro averages, and recall of the top three suggestions.

Two designs: K-fold cross-validation over interviewees on a study's decided passages (the
model never sees the interviewees it is scored on), or training on the whole study and
scoring an external gold file. The model also learns from the dictionary's example passages
unless told not to; they never come from the study, and a gold passage that is a training
passage is refused. Metrics come from scikit-learn
(``precision_recall_fscore_support`` on multi-label indicator matrices; a figure with a zero
denominator, such as recall of a code the gold never uses, is NaN and prints as –).

Prediction rules: lexicon suggests a code when any non-negated keyword or pattern matches
(score > 0); the model when its calibrated probability reaches the model's own threshold; the
blend when ``LEXICON_WEIGHT * lexicon + (1 - LEXICON_WEIGHT) * model`` reaches the model's
blend threshold, a code without a keyword match only on passages of ``MODEL_ONLY_MIN_CHARS``
characters or more (:mod:`beicoder.core.suggest.learned`; each model chooses its thresholds on
out-of-fold scores of its own training data, never on the passages scored here).
With a local LLM (``evaluate_study(..., llm=config)``, gold files only) the ``llm`` suggester
suggests every code it gave with at least one quote verified in the passage (see
:mod:`beicoder.core.suggest.llm`).
Top-3 recall: the share of the gold (passage, code) pairs whose code is among the three
highest-scoring codes (score > 0) of the suggester for that passage. Multi-code passages
(two or three gold codes) get their own recall, and the recall of their further codes (see
:func:`multi_code_recall`): the second code of a passage is the one most often missed.

The learning curve (:func:`learning_curve`) trains on a coder's first N decided passages in
reading order and scores the passages after a fixed point, the same for every N.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import BeicoderError
from .textutil import read_text_input

SUGGESTERS = ("lexicon", "model", "blend")


class GoldFileError(BeicoderError):
    """A gold file that cannot be used; ``problems`` lists one line per bad row."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or []


@dataclass
class GoldItem:
    """One gold passage: its id, text and the set of codes an expert gave it."""

    id: str
    text: str
    codes: set[str]


def read_gold(path: str | Path, codes: Sequence[str]) -> list[GoldItem]:
    """The passages of the gold file at ``path``; see :func:`read_gold_file`."""
    return read_gold_file(path, codes)[0]


def read_gold_file(path: str | Path, codes: Sequence[str]) -> tuple[list[GoldItem], str]:
    """Read a gold file and return ``(passages, encoding found)``. A gold file is a CSV in any
    encoding a transcript may have (UTF-8 with or without BOM, GB18030/GBK, Big5, UTF-16,
    Windows-1252; see :func:`~beicoder.core.textutil.read_text_input`) with columns
    ``id,text,codes``; ``codes`` is dictionary codes separated by ``;`` (empty = no code).

    Raises:
        GoldFileError: unreadable or undecodable, broken quoting, missing columns, no rows, or bad
            rows (an empty id or text, a text over several lines (an unclosed quote), a
            repeated id, a repeated text (compared like :func:`seen_in`'s exact rule), an
            unknown code), each listed with its line number.
    """
    path = Path(path)
    text, encoding = read_text_input(path, GoldFileError, "the gold file")
    if not text.strip():
        raise GoldFileError(f"{path}: file is empty")
    reader = csv.DictReader(text.splitlines(keepends=True), strict=True)
    try:
        fields = [f.strip() for f in reader.fieldnames or []]
    except csv.Error as exc:
        raise GoldFileError(f"{path}: broken CSV in the header ({exc})") from None
    missing = [c for c in ("id", "text", "codes") if c not in fields]
    if missing:
        raise GoldFileError(f"{path}: missing column(s) {', '.join(missing)}; expected id,text,codes")
    known = set(codes)
    items: list[GoldItem] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    texts: dict[str, int] = {}
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(f"{path.name} line {reader.line_num + 1}: broken CSV ({exc}); is a quote left open?")
            break
        cells = [v for v in row.values() if isinstance(v, str)] + [v for v in row.get(None, [])]
        breaks = sum(v.count("\n") for v in cells)
        start = reader.line_num - breaks
        row = {(k or "").strip(): (v or "") for k, v in row.items()}
        where = f"{path.name} line {start}"
        if breaks:
            problems.append(f"{where}: a cell runs on to line {reader.line_num}; is a quote left open? "
                            f"(write each passage on one line)")
            continue
        if None in row or "" in row and row[""]:
            problems.append(f"{where}: more cells than columns (quote texts that hold commas)")
            continue
        gid, body = row.get("id", "").strip(), row.get("text", "").strip()
        labels = {c.strip() for c in row.get("codes", "").replace("；", ";").split(";") if c.strip()}
        if not gid:
            problems.append(f"{where}: empty id")
            continue
        if gid in seen:
            problems.append(f"{where}: id {gid!r} repeats line {seen[gid]}")
            continue
        seen[gid] = start
        if not body:
            problems.append(f"{where}: empty text")
            continue
        key = _key(body)
        if key in texts:
            problems.append(f"{where}: same text as line {texts[key]} (script, case and punctuation aside)")
            continue
        texts[key] = start
        unknown = sorted(labels - known)
        if unknown:
            problems.append(f"{where}: unknown code(s) {', '.join(unknown)}")
            continue
        items.append(GoldItem(gid, body, labels))
    if problems:
        raise GoldFileError(f"{path}: {len(problems)} bad row(s)", problems)
    if not items:
        raise GoldFileError(f"{path}: no rows")
    return items, encoding


@dataclass
class Scored:
    """Scores of every suggester for a list of passages, with the gold codes, and the
    threshold each passage's model set for the model and the blend (a model chooses its own
    on its training data; see :mod:`beicoder.core.suggest.learned`)."""

    gold: list[set[str]]
    scores: dict[str, list[dict[str, float]]]  # suggester -> per passage: code -> score
    thresholds: dict[str, list[float]] = field(default_factory=dict)  # "model"/"blend" -> per passage
    #: each passage's language (zh-Hans, zh-Hant or en; see beicoder.core.language), or empty
    languages: list[str] = field(default_factory=list)

    def subset(self, keep: Sequence[int]) -> Scored:
        """The passages at indices ``keep`` only (their gold codes, scores, thresholds, languages)."""
        return Scored([self.gold[i] for i in keep],
                      {name: [sc[i] for i in keep] for name, sc in self.scores.items()},
                      {name: [t[i] for i in keep] for name, t in self.thresholds.items()},
                      [self.languages[i] for i in keep] if self.languages else [])


def score_passages(texts: Sequence[str], dictionary, model) -> dict[str, list[dict[str, float]]]:
    """Lexicon, model and blended scores (code -> score) for each text; ``model`` is a
    :class:`~beicoder.core.suggest.learned.LearnedSuggester` or None. The texts are folded
    once for both."""
    from .suggest.learned import blend
    from .suggest.lexicon import LexiconSuggester, fold

    folded = [fold(t) for t in texts]
    lexicon = LexiconSuggester(dictionary)
    lex = [{s.code: s.score for s in lexicon.suggest_one(t, f)} for t, f in zip(texts, folded)]
    out = {"lexicon": lex}
    if model is not None:
        mod = model.scores(texts, folded)
        out["model"] = mod
        out["blend"] = [blend(a, b, length=len(t)) for a, b, t in zip(lex, mod, texts)]
    return out


def _scored(gold: list[set[str]], scores: dict, model=None, n: int = 0, languages=None) -> Scored:
    """A :class:`Scored` whose model and blend thresholds are ``model``'s, for ``n`` passages."""
    thresholds = {"model": [model.model_threshold] * n, "blend": [model.blend_threshold] * n} if model else {}
    return Scored(gold, scores, thresholds, list(languages or []))


def predicted(suggester: str, scores: dict[str, float], threshold: float | None = None) -> set[str]:
    """The codes a suggester suggests, by the rules in the module docstring: the lexicon
    every code it scores above 0, the model and the blend every code from ``threshold`` on
    (default ``MODEL_THRESHOLD`` or ``BLEND_THRESHOLD``)."""
    if suggester in ("lexicon", "llm"):
        return {c for c, s in scores.items() if s > 0}
    from .suggest.learned import BLEND_THRESHOLD, MODEL_THRESHOLD

    if threshold is None:
        threshold = MODEL_THRESHOLD if suggester == "model" else BLEND_THRESHOLD
    return {c for c, s in scores.items() if s >= threshold}


def predictions(scored: Scored, suggester: str) -> list[set[str]]:
    """What ``suggester`` suggests for each passage of ``scored`` (each with its model's
    threshold)."""
    limits = scored.thresholds.get(suggester) or [None] * len(scored.gold)
    return [predicted(suggester, s, t) for s, t in zip(scored.scores[suggester], limits)]


def multi_code_recall(gold: Sequence[set[str]], pred: Sequence[set[str]]) -> tuple[float, float, int]:
    """Recall on the passages with two or more gold codes: ``(recall of all their codes,
    recall of their further codes, passages)``. A passage's further codes are all its gold
    codes but one: the suggester's first find counts as the passage's main code and each
    other code it finds as a further hit (three gold codes of which two are found: one of two
    further codes). NaN without multi-code passages."""
    hit = total = further_hit = further_total = n = 0
    for labels, got in zip(gold, pred):
        if len(labels) < 2:
            continue
        n += 1
        found = len(labels & got)
        hit += found
        total += len(labels)
        further_hit += max(found - 1, 0)
        further_total += len(labels) - 1
    nan = float("nan")
    return (hit / total if total else nan, further_hit / further_total if further_total else nan, n)


def top_k_recall(gold: Sequence[set[str]], scores: Sequence[dict[str, float]], k: int = 3) -> float:
    """Share of gold (passage, code) pairs whose code is among the ``k`` best-scoring codes
    (score > 0) of its passage; NaN when there is no gold code."""
    hit = total = 0
    for labels, sc in zip(gold, scores):
        top = {c for c, s in sorted(sc.items(), key=lambda kv: (-kv[1], kv[0]))[:k] if s > 0}
        hit += len(labels & top)
        total += len(labels)
    return hit / total if total else float("nan")


def metrics(scored: Scored, codes: Sequence[str]):
    """The evaluation table: every figure over all passages (``language`` ``all``), then, when
    the passages' languages are known (``scored.languages``), over the passages of each
    language found, in the order zh-Hans, zh-Hant, en.

    Returns:
        DataFrame with one row per language x suggester x (code, ``micro``, ``macro``),
        columns: language, suggester, code, precision, recall, f1, support (gold passages
        with the code; for micro/macro all gold codes), top3_recall, multi_recall,
        further_recall (see :func:`multi_code_recall`) and multi_passages (on the micro row;
        NaN elsewhere), and passages (how many passages the row's figures are over).
    """
    import pandas as pd

    from .language import LANGUAGES

    frames = [_metrics(scored, codes).assign(passages=len(scored.gold))]
    frames[0].insert(0, "language", "all")
    for lang in LANGUAGES:
        keep = [i for i, x in enumerate(scored.languages) if x == lang]
        if keep:
            part = _metrics(scored.subset(keep), codes).assign(passages=len(keep))
            part.insert(0, "language", lang)
            frames.append(part)
    return pd.concat(frames, ignore_index=True)


def _metrics(scored: Scored, codes: Sequence[str]):
    """The rows of :func:`metrics` for the passages of ``scored``, without ``language``."""
    import numpy as np
    import pandas as pd
    from sklearn.metrics import precision_recall_fscore_support
    from sklearn.preprocessing import MultiLabelBinarizer

    mlb = MultiLabelBinarizer(classes=list(codes))
    y_true = mlb.fit_transform(scored.gold)
    rows = []
    for name in (*SUGGESTERS, "llm"):  # the local LLM only when it was scored (gold files)
        if name not in scored.scores:
            continue
        pred = predictions(scored, name)
        y_pred = mlb.transform(pred)
        p, r, f, n = precision_recall_fscore_support(y_true, y_pred, average=None, zero_division=np.nan,
                                                     labels=list(range(len(codes))))
        empty = {"top3_recall": np.nan, "multi_recall": np.nan, "further_recall": np.nan, "multi_passages": np.nan}
        for i, code in enumerate(codes):
            rows.append({"suggester": name, "code": code, "precision": p[i], "recall": r[i], "f1": f[i],
                         "support": int(n[i]), **empty})
        multi, further, n_multi = multi_code_recall(scored.gold, pred)
        for avg in ("micro", "macro"):
            p_, r_, f_, _ = precision_recall_fscore_support(y_true, y_pred, average=avg, zero_division=np.nan)
            extra = ({"top3_recall": top_k_recall(scored.gold, scored.scores[name]), "multi_recall": multi,
                      "further_recall": further, "multi_passages": n_multi} if avg == "micro" else empty)
            rows.append({"suggester": name, "code": avg, "precision": p_, "recall": r_, "f1": f_,
                         "support": int(y_true.sum()), **extra})
    return pd.DataFrame(rows)


def fold_of(interviewees: Sequence[str], k: int) -> dict[str, int]:
    """Assign interviewees to ``k`` folds: sorted by name, dealt round-robin (deterministic)."""
    return {iv: i % k for i, iv in enumerate(sorted(set(interviewees)))}


def _key(text: str) -> str:
    from .suggest.lexicon import fold

    return "".join(ch for ch in fold(text) if ch.isalnum())


# A text counts as seen when, folded and without spaces and punctuation, it equals a training
# text, or, when both have at least MIN_SHARED letters and digits, the shorter one lines up
# with a stretch of the longer one with a similarity of at least NEAR_COPY percent
# (rapidfuzz's partial_ratio, an Indel similarity): a trimmed, joined or lightly edited copy.
MIN_SHARED = 15
NEAR_COPY = 90


def _may_be_near(shorter_counts, longer_present, lengths):
    """For every (row, column) pair: can the row's key (its bigram counts ``shorter_counts``)
    lie within partial_ratio ``NEAR_COPY`` of the column's (its bigrams ``longer_present``)?
    A similarity of 90 % leaves an Indel distance of at most 0.2 m for a key of m characters,
    and each edit breaks at most two of its m - 1 bigrams, so at least m - 1 - 0.4 m of them
    are in the other key: pairs short of that cannot be near copies (``lengths``: m per row)."""
    shared = (shorter_counts @ longer_present.T).toarray()
    return shared >= (lengths - 1 - 0.4 * lengths)[:, None] - 1e-9


def seen_in(texts: Sequence[str], training_texts: Sequence[str]) -> list[int]:
    """Indices of ``texts`` that are also training texts, by the rule above. Pairs that
    share too few character bigrams to be near copies are ruled out before rapidfuzz
    compares them (see :func:`_may_be_near`), which changes no result."""
    import numpy as np
    from rapidfuzz import fuzz
    from scipy.sparse import csr_matrix

    from .suggest.ngrams import ngram_keys

    train_keys = [_key(t) for t in training_texts]
    exact = set(train_keys)
    keys = [_key(t) for t in texts]
    out = {i for i, key in enumerate(keys) if key in exact}
    long_train = [k for k in train_keys if len(k) >= MIN_SHARED]
    long_texts = [(i, k) for i, k in enumerate(keys) if len(k) >= MIN_SHARED and i not in out]
    if long_train and long_texts:
        a_keys, a_doc = ngram_keys([k for _, k in long_texts], 2, 2)
        b_keys, b_doc = ngram_keys(long_train, 2, 2)
        vocab, inverse = np.unique(np.concatenate([a_keys, b_keys]), return_inverse=True)
        a_feat, b_feat = inverse[:len(a_keys)], inverse[len(a_keys):]
        shape_a, shape_b = (len(long_texts), len(vocab)), (len(long_train), len(vocab))
        a_counts = csr_matrix((np.ones(len(a_feat)), (a_doc, a_feat)), shape=shape_a)
        b_counts = csr_matrix((np.ones(len(b_feat)), (b_doc, b_feat)), shape=shape_b)
        a_present, b_present = (a_counts > 0).astype(np.float64), (b_counts > 0).astype(np.float64)
        a_len = np.array([len(k) for _, k in long_texts], dtype=np.float64)
        b_len = np.array([len(k) for k in long_train], dtype=np.float64)
        text_shorter = a_len[:, None] <= b_len[None, :]
        near = np.where(text_shorter, _may_be_near(a_counts, b_present, a_len),
                        _may_be_near(b_counts, a_present, b_len).T)
        for row, col in zip(*np.nonzero(near)):
            i, key = long_texts[row]
            if i not in out and fuzz.partial_ratio(key, long_train[col], score_cutoff=NEAR_COPY) >= NEAR_COPY:
                out.add(i)
    return sorted(out)


def unseen_violations(items: Sequence[GoldItem], training_texts: Sequence[str]) -> list[GoldItem]:
    """Gold items whose text is also a training text, by the rule of :func:`seen_in`."""
    return [items[i] for i in seen_in([it.text for it in items], training_texts)]


def cross_validate(store, coder: str, dictionary, folds: int = 5, progress=None,
                   dictionary_examples: bool = True) -> Scored:
    """K-fold cross-validation over interviewees on ``coder``'s decided passages: for each
    fold, a model is trained on the other interviewees (and the dictionary's examples, unless
    ``dictionary_examples`` is False) and every suggester scores the fold.

    Raises:
        BeicoderError: fewer than 2 folds or fewer interviewees than folds.
    """
    from .suggest.learned import LearnedSuggester, ModelError, train_model

    coder = store.resolve_coder(coder)
    decided = store.decided_passages(coder)
    labels: dict[int, set[str]] = {}
    for r in store.coding_rows(coder):
        labels.setdefault(r["passage_id"], set()).add(r["code"])
    owner = store.passage_interviewees()
    passages = [p for p in store.passages() if p.id in decided]
    language_of = store.transcript_languages()
    ivs = sorted({owner[p.id] for p in passages})
    if folds < 2 or len(ivs) < folds:
        raise BeicoderError(f"cross-validation needs at least 2 folds and as many interviewees as folds "
                            f"({len(ivs)} interviewees decided by {coder}, {folds} folds)")
    assign = fold_of(ivs, folds)
    examples = [(text, set(codes)) for text, codes in dictionary.examples] if dictionary_examples else []
    gold: list[set[str]] = []
    languages: list[str] = []
    scores: dict[str, list[dict[str, float]]] = {name: [] for name in SUGGESTERS}
    limits: dict[str, list[float]] = {"model": [], "blend": []}
    for k in range(folds):
        train_set = [(p.text, labels.get(p.id, set())) for p in passages if assign[owner[p.id]] != k]
        test_set = [p for p in passages if assign[owner[p.id]] == k]
        # a dictionary example that copies a passage of this fold would be a peek at the answer
        copies = set(seen_in([text for text, _ in examples], [p.text for p in test_set]))
        extra = [ex for i, ex in enumerate(examples) if i not in copies]
        try:
            model = LearnedSuggester(train_model(train_set, dictionary, extra=extra), dictionary)
        except ModelError as exc:
            fold_ivs = ", ".join(iv for iv in ivs if assign[iv] == k)
            raise ModelError(f"fold {k + 1} of {folds} (test: {fold_ivs}): {exc}; use fewer folds") from None
        fold_scores = score_passages([p.text for p in test_set], dictionary, model)
        for name in SUGGESTERS:
            scores[name].extend(fold_scores[name])
        limits["model"].extend([model.model_threshold] * len(test_set))
        limits["blend"].extend([model.blend_threshold] * len(test_set))
        gold.extend(labels.get(p.id, set()) for p in test_set)
        languages.extend(language_of[p.transcript_id] for p in test_set)
        if progress:
            progress(k + 1, folds)
    return Scored(gold, scores, limits, languages)


def evaluate_gold(store, coder: str, dictionary, items: Sequence[GoldItem], dictionary_examples: bool = True,
                  source: str = "gold file") -> Scored:
    """Train on all of ``coder``'s decisions in the study (and the dictionary's examples,
    unless ``dictionary_examples`` is False) and score the gold items.

    Raises:
        GoldFileError: a gold passage is also a training passage (see :func:`seen_in`),
            naming ``source`` and the ids.
    """
    from .suggest.learned import LearnedSuggester, examples_from_study, train_model

    examples = examples_from_study(store, store.resolve_coder(coder))
    training = [text for text, _ in examples]
    if dictionary_examples:
        training += [text for text, _ in dictionary.examples]
    seen = [it.id for it in unseen_violations(items, training)]  # see seen_in
    if seen:
        raise GoldFileError(f"{source}: {len(seen)} gold passage(s) are also training passages "
                            f"({', '.join(seen[:5])}{', ...' if len(seen) > 5 else ''}); score only unseen passages")
    from .language import detect_language

    model = LearnedSuggester(train_model(examples, dictionary, dictionary_examples=dictionary_examples), dictionary)
    return _scored([it.codes for it in items], score_passages([it.text for it in items], dictionary, model), model,
                   len(items), [detect_language(it.text) for it in items])


@dataclass
class Evaluation:
    """What :func:`evaluate_study` measured: ``table`` (the frame of :func:`metrics`, one row
    per suggester and code plus ``micro`` and ``macro``) and ``design``, one sentence saying
    who was the truth, on which passages, and what the model learned from."""

    table: object
    design: str


def evaluate_study(store, coder: str, gold: str | Path | None = None, folds: int = 5,
                   dictionary_examples: bool = True, progress=None, llm=None, llm_progress=None,
                   llm_notice=None) -> Evaluation:
    """Evaluate the lexicon, model and blend against ``coder``'s decisions in the study in
    ``store``: by ``folds``-fold cross-validation over interviewees, or, with ``gold`` (a gold
    file, see :func:`read_gold`), by a model trained on the whole study and scored on it. The
    dictionary's example passages are learned from too when ``dictionary_examples`` is True and
    the dictionary has any. ``progress(done, folds)`` is called after each fold. ``llm`` (an
    :class:`~beicoder.core.suggest.llm.LlmConfig`, with ``gold`` only) scores the local LLM
    too, its prompts showing the same coder's decisions and examples the model learns from;
    ``llm_progress`` and ``llm_notice`` as in :func:`~beicoder.core.suggest.llm.score_texts_llm`.

    Raises:
        GoldFileError: the gold file cannot be used (``problems`` lists its bad lines), or a
            gold passage is also a training passage.
        BeicoderError: too few interviewees for the folds, or a fold without codes; ``llm``
            without ``gold``.
        LlmError: the LLM's endpoint is refused or cannot be reached.
    """
    if llm is not None and not gold:
        raise BeicoderError("the LLM is scored on a gold file: give --gold FILE with --llm")

    coder = store.resolve_coder(coder)
    dictionary = store.dictionary()
    with_examples = dictionary_examples and bool(dictionary.examples)
    also = f" and the dictionary's {len(dictionary.examples)} example passages" if with_examples else ""
    if gold:
        items, encoding = read_gold_file(gold, dictionary.codes)
        scored = evaluate_gold(store, coder, dictionary, items, with_examples, str(gold))
        design = (f"trained on {coder}'s decisions in {store.path}{also}, scored on {len(items)} passages of {gold} "
                  f"(read as {encoding})")
        if llm is not None:
            from .suggest.llm import score_texts_llm

            scored.scores["llm"], run = score_texts_llm(store, llm, dictionary, [it.text for it in items], coder,
                                                        with_examples, llm_progress, llm_notice)
            design += f"; LLM {run.summary()}"
    else:
        scored = cross_validate(store, coder, dictionary, folds, progress=progress, dictionary_examples=with_examples)
        design = (f"{folds}-fold cross-validation over interviewees on {len(scored.gold)} passages decided by "
                  f"{coder}{also}")
    return Evaluation(metrics(scored, dictionary.codes), design)


CURVE_SIZES = (25, 50, 100, 200, 400, 800, 1600, 3200, 6400, 12800)
HELD_OUT_SHARE = 0.2  # the last fifth of a coder's decided passages, in reading order
HELD_OUT_MIN = 20


@dataclass
class LearningCurve:
    """What :func:`learning_curve` measured: per training size a point ``{"n", "model",
    "blend"}`` (each a dict of precision, recall, f1, top3_recall on the held-out passages),
    the ``lexicon``'s figures on the same passages, the number ``held_out`` and ``design``,
    one sentence saying what was trained and scored."""

    coder: str
    points: list[dict]
    lexicon: dict
    held_out: int
    design: str

    def as_dict(self) -> dict:
        """The curve as plain data (for its JSON file)."""
        return {"coder": self.coder, "points": self.points, "lexicon": self.lexicon, "held_out": self.held_out,
                "design": self.design}


def _figures(gold: Sequence[set[str]], pred: Sequence[set[str]], scores: Sequence[dict[str, float]]) -> dict:
    """Micro precision, recall, F1 and top-3 recall (NaN where a denominator is 0)."""
    nan = float("nan")
    tp = sum(len(g & p) for g, p in zip(gold, pred))
    n_pred, n_gold = sum(map(len, pred)), sum(map(len, gold))
    precision = tp / n_pred if n_pred else nan
    recall = tp / n_gold if n_gold else nan
    f1 = 2 * tp / (n_pred + n_gold) if n_pred + n_gold else nan
    return {"precision": precision, "recall": recall, "f1": f1, "top3_recall": top_k_recall(gold, scores)}


def learning_curve(store, coder: str, dictionary_examples: bool = True, sizes: Sequence[int] = CURVE_SIZES,
                   progress=None) -> LearningCurve:
    """How the model and the blend improve as ``coder`` decides more passages: for each N of
    ``sizes`` below the number available (and then all of them), a model trained on the
    coder's first N decided passages in reading order (and the dictionary's examples, unless
    ``dictionary_examples`` is False; an example that copies a held-out passage is left out)
    scores the held-out tail: the last ``HELD_OUT_SHARE`` of the decided passages, at least
    ``HELD_OUT_MIN``, the same for every N. ``progress(done, total)`` is called per point.

    Raises:
        BeicoderError: too few decided passages for a tail and a first point.
    """
    import math

    from .suggest.learned import LearnedSuggester, ModelError, examples_from_study, train_model

    coder = store.resolve_coder(coder)
    dictionary = store.dictionary()
    decided = examples_from_study(store, coder)
    tail_n = max(HELD_OUT_MIN, math.ceil(HELD_OUT_SHARE * len(decided)))
    pool, tail = decided[:len(decided) - tail_n], decided[len(decided) - tail_n:]
    steps = [n for n in sizes if n < len(pool)] + ([len(pool)] if pool else [])
    steps = [n for n in steps if n >= 10]
    if not steps:
        raise BeicoderError(f"a learning curve needs at least {10 + HELD_OUT_MIN} decided passages by {coder} "
                            f"(there are {len(decided)})")
    examples = [(text, set(codes)) for text, codes in dictionary.examples] if dictionary_examples else []
    copies = set(seen_in([t for t, _ in examples], [t for t, _ in tail])) if examples else set()
    extra = [ex for i, ex in enumerate(examples) if i not in copies]
    texts = [t for t, _ in tail]
    gold = [set(c) for _, c in tail]
    base = score_passages(texts, dictionary, None)
    lexicon = _figures(gold, [predicted("lexicon", s) for s in base["lexicon"]], base["lexicon"])
    points = []
    for k, n in enumerate(steps):
        try:
            model = LearnedSuggester(train_model(pool[:n], dictionary, extra=extra), dictionary)
        except ModelError:
            continue  # none of the first n passages has a code yet
        scores = score_passages(texts, dictionary, model)
        point = {"n": n}
        for name, limit in (("model", model.model_threshold), ("blend", model.blend_threshold)):
            point[name] = _figures(gold, [predicted(name, s, limit) for s in scores[name]], scores[name])
        points.append(point)
        if progress:
            progress(k + 1, len(steps))
    also = f" and the dictionary's {len(extra)} example passages" if extra else ""
    design = (f"models trained on {coder}'s first N decided passages in reading order{also}, scored on the last "
              f"{len(tail)} of {len(decided)}")
    return LearningCurve(coder, points, lexicon, len(tail), design)


def curve_path(db_path: str | Path, coder: str, suffix: str = ".json") -> Path:
    """Where ``coder``'s last learning curve is kept beside the study: ``STUDY.db.curve-CODER``
    with ``suffix`` (``.json`` for the figures, ``.png`` for the chart); the coder's part of
    the name is made as for the model's folder."""
    from .suggest.learned import model_dir

    folder = model_dir(db_path, coder)
    return folder.with_name(folder.name.replace(".model-", ".curve-", 1) + suffix)


def save_learning_curve(curve: LearningCurve, db_path: str | Path) -> Path:
    """Write ``curve`` as JSON beside the study (see :func:`curve_path`); returns the path."""
    import json

    path = curve_path(db_path, curve.coder)
    path.write_text(json.dumps(curve.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def last_curve_point(db_path: str | Path, coder: str) -> dict | None:
    """The last point of ``coder``'s saved learning curve with the lexicon's figures
    (``{"n", "model", "blend", "lexicon", "held_out"}``), or None when there is none or it
    cannot be read."""
    import json

    try:
        data = json.loads(curve_path(db_path, coder).read_text(encoding="utf-8"))
        point = dict(data["points"][-1])
        point.update(lexicon=data["lexicon"], held_out=int(data["held_out"]))
        return point
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


def plot_learning_curve(curve: LearningCurve, path: str | Path) -> Path:
    """Draw ``curve`` as a PNG at ``path``: micro-F1 of the model and the blend and the
    blend's top-3 recall against the number of decided passages trained on (log scale), the
    lexicon's F1 as a dashed line. Returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    ns = [p["n"] for p in curve.points]
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    ax.plot(ns, [p["blend"]["f1"] for p in curve.points], "o-", color="#1f77b4", label="blend: micro-F1")
    ax.plot(ns, [p["model"]["f1"] for p in curve.points], "s--", color="#ff7f0e", label="model alone: micro-F1")
    ax.plot(ns, [p["blend"]["top3_recall"] for p in curve.points], "^:", color="#2ca02c",
            label="blend: top-3 recall")
    ax.axhline(curve.lexicon["f1"], color="grey", linestyle="--", linewidth=1,
               label=f"lexicon: micro-F1 {curve.lexicon['f1']:.2f}")
    ax.set_xscale("log", base=2)
    ax.set_xticks(ns)
    ax.set_xticklabels([str(n) for n in ns])
    ax.set_ylim(0, 1)
    ax.set_xlabel("decided passages the model learned from (first N in reading order)")
    ax.set_ylabel(f"on the last {curve.held_out} passages")
    who = f" ({curve.coder})" if curve.coder.isascii() else ""  # a CJK name needs a CJK font
    ax.set_title(f"Learning curve of the suggestions{who}", fontsize=11)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
