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
(score > 0); the model when its probability is at least ``MODEL_THRESHOLD``; the blend when
``LEXICON_WEIGHT * lexicon + (1 - LEXICON_WEIGHT) * model`` is at least ``BLEND_THRESHOLD``,
a code without a keyword match only on passages of ``MODEL_ONLY_MIN_CHARS`` characters or more
(constants of :mod:`beicoder.core.suggest.learned`).
With a local LLM (``evaluate_study(..., llm=config)``, gold files only) the ``llm`` suggester
suggests every code it gave with at least one quote verified in the passage (see
:mod:`beicoder.core.suggest.llm`).
Top-3 recall: the share of the gold (passage, code) pairs whose code is among the three
highest-scoring codes (score > 0) of the suggester for that passage.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
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
    """Scores of every suggester for a list of passages, with the gold codes."""

    gold: list[set[str]]
    scores: dict[str, list[dict[str, float]]]  # suggester -> per passage: code -> score


def score_passages(texts: Sequence[str], dictionary, model) -> dict[str, list[dict[str, float]]]:
    """Lexicon, model and blended scores (code -> score) for each text; ``model`` is a
    :class:`~beicoder.core.suggest.learned.LearnedSuggester` or None."""
    from .suggest.learned import blend
    from .suggest.lexicon import LexiconSuggester

    prepared = model.prepare(texts) if model is not None else None
    lex = [{s.code: s.score for s in sugg} for sugg in LexiconSuggester(dictionary).suggest(texts, prepared)]
    out = {"lexicon": lex}
    if model is not None:
        mod = model.scores(texts, prepared)
        out["model"] = mod
        out["blend"] = [blend(a, b, length=len(t)) for a, b, t in zip(lex, mod, texts)]
    return out


def predicted(suggester: str, scores: dict[str, float]) -> set[str]:
    """The codes a suggester suggests, by the rules in the module docstring."""
    if suggester in ("lexicon", "llm"):
        return {c for c, s in scores.items() if s > 0}
    from .suggest.learned import BLEND_THRESHOLD, MODEL_THRESHOLD

    threshold = MODEL_THRESHOLD if suggester == "model" else BLEND_THRESHOLD
    return {c for c, s in scores.items() if s >= threshold}


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
    """The evaluation table.

    Returns:
        DataFrame with one row per suggester x (code, ``micro``, ``macro``), columns:
        suggester, code, precision, recall, f1, support (gold passages with the code; for
        micro/macro all gold codes), top3_recall (on the micro row; NaN elsewhere).
    """
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
        y_pred = mlb.transform([predicted(name, s) for s in scored.scores[name]])
        p, r, f, n = precision_recall_fscore_support(y_true, y_pred, average=None, zero_division=np.nan,
                                                     labels=list(range(len(codes))))
        for i, code in enumerate(codes):
            rows.append({"suggester": name, "code": code, "precision": p[i], "recall": r[i], "f1": f[i],
                         "support": int(n[i]), "top3_recall": np.nan})
        for avg in ("micro", "macro"):
            p_, r_, f_, _ = precision_recall_fscore_support(y_true, y_pred, average=avg, zero_division=np.nan)
            rows.append({"suggester": name, "code": avg, "precision": p_, "recall": r_, "f1": f_,
                         "support": int(y_true.sum()),
                         "top3_recall": top_k_recall(scored.gold, scored.scores[name]) if avg == "micro" else np.nan})
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


def seen_in(texts: Sequence[str], training_texts: Sequence[str]) -> list[int]:
    """Indices of ``texts`` that are also training texts, by the rule above."""
    from rapidfuzz import fuzz, process

    train_keys = [_key(t) for t in training_texts]
    exact = set(train_keys)
    keys = [_key(t) for t in texts]
    out = {i for i, key in enumerate(keys) if key in exact}
    long_train = [k for k in train_keys if len(k) >= MIN_SHARED]
    long_texts = [(i, k) for i, k in enumerate(keys) if len(k) >= MIN_SHARED and i not in out]
    if long_train and long_texts:
        similar = process.cdist([k for _, k in long_texts], long_train, scorer=fuzz.partial_ratio,
                                score_cutoff=NEAR_COPY, workers=1)
        out.update(i for (i, _), row in zip(long_texts, similar) if row.max() >= NEAR_COPY)
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
    ivs = sorted({owner[p.id] for p in passages})
    if folds < 2 or len(ivs) < folds:
        raise BeicoderError(f"cross-validation needs at least 2 folds and as many interviewees as folds "
                            f"({len(ivs)} interviewees decided by {coder}, {folds} folds)")
    assign = fold_of(ivs, folds)
    examples = [(text, set(codes)) for text, codes in dictionary.examples] if dictionary_examples else []
    gold: list[set[str]] = []
    scores: dict[str, list[dict[str, float]]] = {name: [] for name in SUGGESTERS}
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
        gold.extend(labels.get(p.id, set()) for p in test_set)
        if progress:
            progress(k + 1, folds)
    return Scored(gold, scores)


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
    model = LearnedSuggester(train_model(examples, dictionary, dictionary_examples=dictionary_examples), dictionary)
    return Scored([it.codes for it in items], score_passages([it.text for it in items], dictionary, model))


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
