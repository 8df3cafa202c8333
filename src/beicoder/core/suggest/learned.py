"""The learned suggester: a spaCy ``textcat_multilabel`` model trained on one coder's
decisions, and the blend of its scores with the lexicon's.

Training data: every passage the coder has decided; its labels are the codes the coder gave
it (none for a "no code" decision). The dictionary's own coded example passages (its
``examples``, if it has any) are added, so the model knows the dictionary's meaning of each
code beyond the writers of one study. Text is folded like the lexicon's (Simplified, NFKC) and
segmented by jieba. The model is spaCy's bag-of-words text classifier (``TextCatBOW``, unigrams
and bigrams of jieba words; no pretrained vectors), trained with a fixed seed and a fixed
example order, so two runs on the same data give the same scores.

The model is saved in a folder beside the study (``STUDY.db.model-CODER/``) with
``beicoder-model.json``: dictionary hash, coder, number of examples, codes, seed, epochs, date.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .. import BeicoderError
from . import Suggestion

META_FILE = "beicoder-model.json"
SEED = 0
EPOCHS = 6
LEARN_RATE = 0.01
# Blend: each source's score weighted; lexicon scores are 0 where no keyword matched.
# Weight, thresholds, epochs and learning rate were chosen by 5-fold cross-validation over
# the interviewees of the bundled study (beicoder evaluate), never on a gold file; checked
# again by cross-validation once the dictionary's examples joined the training data, which
# moved the model's own threshold from 0.15 to 0.2.
LEXICON_WEIGHT = 0.3
BLEND_THRESHOLD = 0.2
MODEL_THRESHOLD = 0.2
# The model alone does not suggest a code on a passage shorter than this (characters);
# chosen by cross-validation (40 to 60 were alike; seeds 0-3 gained .02-.03 micro-F1).
MODEL_ONLY_MIN_CHARS = 40
# Model evidence (LearnedSuggester.explain): at most this many words per code, each one
# lowering the code's log-odds by at least this much when left out (0.2: odds x 0.82).
EVIDENCE_WORDS = 3
EVIDENCE_MIN_DROP = 0.2


class ModelError(BeicoderError):
    """A model that cannot be trained or loaded; one line."""


@dataclass
class TrainResult:
    """What :func:`train` did: where the model is, and its metadata."""

    path: Path
    meta: dict


@dataclass(frozen=True)
class ModelInfo:
    """What a coder's saved model says of itself (its ``beicoder-model.json``), for showing it.

    ``decisions``: the coder's decided passages it learned from; ``dictionary_examples``: the
    dictionary's example passages it also learned from; ``learned_passages``: the ids of the
    passages whose decisions it learned (its score there is no second opinion); ``stale``:
    trained with another version of the dictionary than the one asked about (then it must
    not be used until retrained)."""

    path: Path
    decisions: int
    dictionary_examples: int
    learned_passages: frozenset[int]
    stale: bool
    trained_at: str = ""


def read_model_meta(db_path: str | Path, coder: str, dictionary) -> ModelInfo | None:
    """The metadata of ``coder``'s model beside the study ``db_path`` (see :func:`model_dir`),
    checked against ``dictionary`` (its ``sha256``). Returns None when there is no model or
    its metadata cannot be read; never loads spaCy."""
    path = model_dir(db_path, coder)
    try:
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
        return ModelInfo(path=path, decisions=int(meta.get("examples", 0)),
                         dictionary_examples=int(meta.get("dictionary_examples", 0)),
                         learned_passages=frozenset(int(i) for i in meta.get("learned_passages", [])),
                         stale=meta.get("dictionary_sha256") != dictionary.sha256,
                         trained_at=str(meta.get("trained_at", "")))
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def model_dir(db_path: str | Path, coder: str) -> Path:
    """The folder of ``coder``'s model beside the study file ``db_path``: ``STUDY.db.model-CODER``,
    characters other than letters, digits, ``-`` and ``_`` replaced by ``_`` and, when any
    was, a short hash of the name appended, so no two coders share a folder."""
    import hashlib

    db_path = Path(db_path)
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in coder)
    if safe != coder:  # keep 'a/b' and 'a_b' apart
        safe += "-" + hashlib.sha256(coder.encode("utf-8")).hexdigest()[:8]
    return db_path.with_name(f"{db_path.name}.model-{safe}")


def examples_from_study(store, coder: str) -> list[tuple[str, set[str]]]:
    """``(passage text, set of codes)`` for every passage ``coder`` has decided, in
    reading order; a "no code" decision gives an empty set."""
    decided = store.decided_passages(coder)
    codes: dict[int, set[str]] = {}
    for r in store.coding_rows(coder):
        codes.setdefault(r["passage_id"], set()).add(r["code"])
    return [(p.text, codes.get(p.id, set())) for p in store.passages() if p.id in decided]


def _blank(codes: Sequence[str]):
    import spacy

    from .lexicon import zh_pipeline

    zh_pipeline()  # silence jieba's log before spaCy loads it
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    textcat = nlp.add_pipe("textcat_multilabel", config={"model": {
        "@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": False, "ngram_size": 2,
        "no_output_layer": False, "length": 262144}})
    for code in codes:
        textcat.add_label(code)
    return nlp


def prepare_texts(texts: Sequence[str], vocab, lexicon):
    """Fold, match keywords in and segment ``texts`` once: ``(folded texts, docs, word
    starts, keyword hits)``. The docs carry the jieba words and, appended, the lexicon's
    match tokens (see :meth:`~beicoder.core.suggest.lexicon.LexiconSuggester.hit_tokens`)."""
    from .lexicon import fold, segment

    folded = [fold(t) for t in texts]
    hits = [lexicon._find(t, f) for t, f in zip(texts, folded)]
    docs, starts = segment(folded, vocab, [lexicon.hit_tokens(h) for h in hits])
    return folded, docs, starts, hits


def train_model(examples: Sequence[tuple[str, set[str]]], dictionary, seed: int = SEED,
                epochs: int | None = None, dictionary_examples: bool = True,
                extra: Sequence[tuple[str, set[str]]] | None = None):
    """Train a multi-label text classifier on ``examples`` (a coder's decided passages: text,
    set of codes) for the codes of ``dictionary`` and return the spaCy pipeline. Features:
    jieba words and the dictionary's keyword matches. ``extra`` passages are added to the
    training data; by default (None) the dictionary's example passages, or none when
    ``dictionary_examples`` is False.

    Raises:
        ModelError: fewer than 10 decided passages, or none with a code.
    """
    import spacy
    from spacy.training import Example

    from .lexicon import LexiconSuggester

    codes = dictionary.codes
    if len(examples) < 10:
        raise ModelError(f"too little to learn from: {len(examples)} decided passages; decide at least 10 first")
    if not any(labels for _, labels in examples):
        raise ModelError(f"nothing to learn from: none of the {len(examples)} decided passages has a code")
    epochs = epochs or EPOCHS
    if extra is None:
        extra = [(text, set(labels)) for text, labels in dictionary.examples] if dictionary_examples else []
    examples = list(examples) + list(extra)
    spacy.util.fix_random_seed(seed)
    nlp = _blank(codes)
    _, docs, _, _ = prepare_texts([text for text, _ in examples], nlp.vocab, LexiconSuggester(dictionary))
    data = [Example.from_dict(doc, {"cats": {c: float(c in labels) for c in codes}})
            for doc, (_, labels) in zip(docs, examples)]
    optimizer = nlp.initialize(lambda: data)
    optimizer.learn_rate = LEARN_RATE
    rng = random.Random(seed)
    order = list(range(len(data)))
    for _ in range(epochs):
        rng.shuffle(order)
        for start in range(0, len(order), 16):
            nlp.update([data[i] for i in order[start:start + 16]], sgd=optimizer, drop=0.0)
    return nlp


def train(store, coder: str, dictionary, db_path: str | Path, seed: int = SEED, epochs: int = EPOCHS,
          dictionary_examples: bool = True) -> TrainResult:
    """Train ``coder``'s model on the study (and the dictionary's examples, unless
    ``dictionary_examples`` is False) and save it beside ``db_path`` (see :func:`model_dir`),
    replacing an older one. Returns the path and metadata; ``learned_passages`` in it lists
    the ids of the passages whose decisions the model learned (its verdict there is no
    independent opinion).

    Raises:
        ModelError: fewer than 10 decided passages, or none with a code.
    """
    import shutil

    coder = store.resolve_coder(coder)
    learned = sorted(store.decided_passages(coder))
    examples = examples_from_study(store, coder)
    nlp = train_model(examples, dictionary, seed, epochs, dictionary_examples)
    path = model_dir(db_path, coder)
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    nlp.to_disk(tmp)
    meta = {"coder": coder, "dictionary_sha256": dictionary.sha256, "examples": len(examples),
            "examples_with_codes": sum(1 for _, labels in examples if labels),
            "dictionary_examples": len(dictionary.examples) if dictionary_examples else 0,
            "codes": list(dictionary.codes), "learned_passages": learned, "seed": seed, "epochs": epochs,
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds")}
    (tmp / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)
    return TrainResult(path, meta)


class LearnedSuggester:
    """Scores from a trained model: ``suggest(texts)`` gives every code with its probability."""

    name = "model"

    def __init__(self, nlp, dictionary, meta: dict | None = None):
        from .lexicon import LexiconSuggester

        self.nlp = nlp
        self.lexicon = LexiconSuggester(dictionary)
        self.meta = meta or {}
        self.codes = list(nlp.get_pipe("textcat_multilabel").labels)

    @classmethod
    def load(cls, path: str | Path, dictionary) -> LearnedSuggester:
        """Load a saved model.

        Raises:
            ModelError: no model there, or it was trained with another dictionary.
        """
        import spacy

        path = Path(path)
        meta_path = path / META_FILE
        if not meta_path.exists():
            raise ModelError(f"{path}: no trained model (run 'beicoder train')")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("dictionary_sha256") != dictionary.sha256:
            raise ModelError(f"{path}: trained with another version of the dictionary; run 'beicoder train' again")
        from .lexicon import zh_pipeline

        zh_pipeline()
        return cls(spacy.load(path), dictionary, meta)

    def scores(self, texts: Sequence[str], prepared=None) -> list[dict[str, float]]:
        """Probability of each code for each text. ``prepared`` is ``(folded texts, docs,
        token starts)`` from :func:`~beicoder.core.suggest.lexicon.segment` with this model's
        vocabulary (see :meth:`prepare`), to share one jieba pass with the lexicon."""
        if prepared is None:
            prepared = self.prepare(texts)
        textcat = self.nlp.get_pipe("textcat_multilabel")
        return [dict(doc.cats) for doc in textcat.pipe(prepared[1], batch_size=256)]

    def prepare(self, texts: Sequence[str]):
        """Fold and segment ``texts`` once, for :meth:`scores` and the lexicon's ``suggest``."""
        return prepare_texts(texts, self.nlp.vocab, self.lexicon)

    def suggest(self, texts: Sequence[str]) -> list[list[Suggestion]]:
        return [[Suggestion(code, round(p, 4)) for code, p in sorted(cats.items(), key=lambda kv: -kv[1])]
                for cats in self.scores(texts)]

    def explain(self, texts: Sequence[str], wanted: Sequence[Sequence[str]], top: int = EVIDENCE_WORDS,
                min_drop: float = EVIDENCE_MIN_DROP, prepared=None) -> list[dict[str, list[dict]]]:
        """The model's evidence: for each text and each code of ``wanted`` (one list per text),
        the words whose removal lowers the code's score most (leave-one-word-out occlusion:
        every distinct jieba word of two or more characters, with a letter or Han character,
        that is not one of spaCy's Chinese or English stop words (我们, 就是, the …) is taken
        out, all its occurrences,
        and the passage scored again; the lexicon's match tokens stay). The
        score compared is the model's log-odds, which, unlike a probability near 1, does not
        saturate.

        Returns, per text, ``code -> evidence dicts`` like the lexicon's: start, end
        (character offsets in the text), keyword ``"model"``, matched (the text's own
        characters), token (the jieba word) and drop (log-odds lost without the word), for
        at most ``top`` words whose drop is at least ``min_drop``, largest drop first; every
        occurrence of a word is listed.
        """
        if prepared is None:
            prepared = self.prepare(texts)
        out: list[dict[str, list[dict]]] = []
        for k in range(0, len(texts), 64):  # a few thousand variant docs at a time
            part = slice(k, k + 64)
            out.extend(self._explain(texts[part], wanted[part], prepared[1][part], prepared[2][part], top, min_drop))
        return out

    def _explain(self, texts, wanted, docs, starts, top: int, min_drop: float) -> list[dict[str, list[dict]]]:
        from spacy.lang.en.stop_words import STOP_WORDS as EN_STOP_WORDS
        from spacy.lang.zh.stop_words import STOP_WORDS as ZH_STOP_WORDS
        from spacy.tokens import Doc

        stop_words = ZH_STOP_WORDS | EN_STOP_WORDS
        plan: list[tuple[int, str | None]] = []  # (text index, word left out or None) per doc
        variants = []
        for k, (doc, offs, codes) in enumerate(zip(docs, starts, wanted)):
            if not codes:
                continue
            tokens = [t.text for t in doc]
            plan.append((k, None))
            variants.append(doc)
            for w in dict.fromkeys(w for w in tokens[:len(offs)]
                                   if len(w) >= 2 and any(ch.isalpha() for ch in w) and w.lower() not in stop_words):
                plan.append((k, w))
                kept = [t for i, t in enumerate(tokens) if i >= len(offs) or t != w]
                variants.append(Doc(doc.vocab, words=kept or [""]))
        if not variants:
            return [{} for _ in texts]
        scores = self._log_odds(variants)
        column = {code: i for i, code in enumerate(self.codes)}
        base: dict[int, object] = {}
        left_out: dict[int, list[tuple[str, object]]] = {}
        for (k, w), row in zip(plan, scores):
            if w is None:
                base[k] = row
            else:
                left_out.setdefault(k, []).append((w, base[k] - row))
        out: list[dict[str, list[dict]]] = []
        for k, text in enumerate(texts):
            found: dict[str, list[dict]] = {}
            if k in base:
                words = [t.text for t in docs[k]][:len(starts[k])]
                for code in wanted[k]:
                    j = column[code]
                    best = sorted(((float(d[j]), w) for w, d in left_out.get(k, []) if d[j] >= min_drop),
                                  key=lambda x: (-x[0], x[1]))[:top]
                    found[code] = [{"start": a, "end": a + len(w), "keyword": "model", "matched": text[a:a + len(w)],
                                    "token": w, "drop": round(drop, 3)}
                                   for drop, w in best for a, word in zip(starts[k], words) if word == w]
            out.append(found)
        return out

    def _log_odds(self, docs):
        """Log-odds of every code (columns in ``self.codes`` order) for ``docs``: the text
        classifier's output before its logistic layer, or the logit of its probabilities
        when the model is built otherwise."""
        import numpy as np

        model = self.nlp.get_pipe("textcat_multilabel").model
        if len(model.layers) == 2 and model.layers[-1].name == "with_cpu(logistic)":
            return np.asarray(model.layers[0].predict(list(docs)), dtype="float64")
        probs = np.clip(np.asarray(model.predict(list(docs)), dtype="float64"), 1e-9, 1 - 1e-9)
        return np.log(probs / (1 - probs))


def suggest_blended(texts: Sequence[str], lexicon, model: LearnedSuggester) -> list[dict[str, float]]:
    """Blended scores (code -> score, see :func:`blend`) for each text, from one jieba pass
    shared by the lexicon and the model."""
    prepared = model.prepare(texts)
    lex = [{s.code: s.score for s in sugg} for sugg in lexicon.suggest(texts, prepared)]
    return [blend(a, b, length=len(t)) for a, b, t in zip(lex, model.scores(texts, prepared), texts)]


def blend(lexicon: dict[str, float], model: dict[str, float], weight: float = LEXICON_WEIGHT,
          length: int | None = None) -> dict[str, float]:
    """Blended score per code: ``weight * lexicon + (1 - weight) * model`` (a missing lexicon
    score is 0: no keyword matched). For a passage of ``length`` characters below
    ``MODEL_ONLY_MIN_CHARS`` a code without a keyword match scores 0: on a short passage
    (有的。/ 为什么会想问这个？) the model alone is mostly guessing."""
    short = length is not None and length < MODEL_ONLY_MIN_CHARS
    codes = set(lexicon) | set(model)
    return {c: round(weight * lexicon.get(c, 0.0) + (1 - weight) * model.get(c, 0.0), 4)
            if not short or lexicon.get(c, 0.0) > 0 else 0.0 for c in codes}


def model_source(coder: str) -> str:
    """The ``source`` under which a coder's model suggestions are stored."""
    return f"model:{coder}"


def store_model_suggestions(store, model: LearnedSuggester, coder: str, passage_ids: Sequence[int] | None = None,
                            batch: int = 200, floor: float = 0.01) -> int:
    """Score passages (all by default) with ``coder``'s model and store, per passage, every
    code with probability >= ``floor`` under source ``model:CODER``, with the model's evidence
    (:meth:`LearnedSuggester.explain`) for the codes at ``MODEL_THRESHOLD`` or above.
    Returns passages done."""
    wanted = None if passage_ids is None else set(passage_ids)
    passages = [p for p in store.passages() if wanted is None or p.id in wanted]
    for k in range(0, len(passages), batch):
        chunk = passages[k:k + batch]
        texts = [p.text for p in chunk]
        prepared = model.prepare(texts)
        scores = model.scores(texts, prepared)
        evidence = model.explain(texts, [[c for c, v in cats.items() if v >= MODEL_THRESHOLD] for cats in scores],
                                 prepared=prepared)
        rows = [{"passage_id": p.id, "code": code, "score": round(score, 4), "evidence": ev.get(code, [])}
                for p, cats, ev in zip(chunk, scores, evidence)
                for code, score in cats.items() if score >= floor]
        store.replace_suggestions(model_source(coder), rows, [p.id for p in chunk],
                                  model.meta.get("dictionary_sha256", ""))
    return len(passages)


def refresh_model_suggestions(store, db_path: str | Path, coder: str, dictionary) -> int | None:
    """Score with ``coder``'s saved model the passages it has not scored with this
    dictionary version (new transcripts, for instance). Returns the number of passages
    scored (0 when none was missing), or None when the coder has no model or it was
    trained with another version of the dictionary (retrain then)."""
    path = model_dir(db_path, coder)
    if not (path / META_FILE).exists():
        return None
    try:
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("dictionary_sha256") != dictionary.sha256:
        return None
    ids = store.passages_needing_suggestions(model_source(coder), dictionary.sha256)
    if not ids:
        return 0
    return store_model_suggestions(store, LearnedSuggester.load(path, dictionary), coder, ids)


def blended_suggestions(rows: list[dict], coder: str, has_model: bool, length: int | None = None) -> list[dict]:
    """Combine a passage's stored suggestion rows (:meth:`Store.suggestions_for`) into what
    the coder is shown. Without a model for ``coder``: the lexicon's suggestions. With one:
    every code whose blended score (see :func:`blend`; ``length``: the passage's characters)
    reaches ``BLEND_THRESHOLD``.

    Returns dicts, best first, with code, score, sources (``["lexicon"]``, ``["model"]`` or
    both: the sources that support the code on their own), lexicon_score, model_score,
    level, level_cue, the lexicon's evidence and the model's (``model_evidence``: words
    whose removal lowers the model's score, see :meth:`LearnedSuggester.explain`)."""
    lex = {r["code"]: r for r in rows if r["source"] == "lexicon"}
    mod_rows = {r["code"]: r for r in rows if r["source"] == model_source(coder)} if has_model else {}
    mod = {code: r["score"] for code, r in mod_rows.items()}
    out = []
    for code in dict.fromkeys(list(lex) + list(mod)):
        lx = lex.get(code)
        ls = lx["score"] if lx else 0.0
        ms = mod.get(code, 0.0)
        score = blend({code: ls}, {code: ms}, length=length)[code] if has_model else ls
        if has_model and score < BLEND_THRESHOLD:
            continue
        sources = [name for name, ok in (("lexicon", ls > 0), ("model", has_model and ms >= MODEL_THRESHOLD)) if ok]
        out.append({"code": code, "score": score, "sources": sources, "lexicon_score": ls,
                    "model_score": ms if has_model else None, "level": lx["level"] if lx else None,
                    "level_cue": lx["level_cue"] if lx else None, "evidence": lx["evidence"] if lx else [],
                    "model_evidence": mod_rows[code].get("evidence") or [] if code in mod_rows else []})
    out.sort(key=lambda r: -r["score"])
    return out


def usual_levels(store, coder: str) -> dict[str, int]:
    """The level ``coder`` gives each code most often (ties: the lower level), from the
    coder's levelled codings; codes never levelled are absent."""
    from collections import Counter

    counts: dict[str, Counter] = {}
    for r in store.coding_rows(coder):
        if r["level"] is not None:
            counts.setdefault(r["code"], Counter())[r["level"]] += 1
    return {code: min(c, key=lambda lv: (-c[lv], lv)) for code, c in counts.items()}
