"""How the learned model's settings were chosen: cross-validation only, never a gold file.

Data: the demo study's reference decisions (288 passages of ten interviewees) and the
dictionary's coded example passages. Five folds: study passages grouped by interviewee
(sorted, dealt in turn, as ``beicoder evaluate`` does), examples in blocks of 20 dealt in
turn; each fold is scored by a model trained on the other four, with the thresholds that
model chose on its own training data. Printed per candidate: micro-F1 of the model and of
the blend with the lexicon over every held-out passage, over the study's passages and over
the examples, recall on passages with two or three codes, and seconds.

Candidates: today's spaCy textcat (bag of jieba words and keyword tokens, 6 epochs, fixed
thresholds 0.2, blend 0.3 lexicon + 0.7 model: the model beicoder had before), the character
n-gram logistic regression with several settings, and both averaged.

With ``--english``: Chinese and English together. Data: both demo studies' reference
decisions (the ten Chinese interviews and the six English ones, ``beicoder demo --lang en``)
and all the dictionary's examples, each language's study passages grouped by interviewee and
its examples in blocks of 20, dealt into the five folds language by language (so every fold
holds both). Candidates: one model over character n-grams as for Chinese alone; one model
with English word features (each English passage's lemma 1- to 3-grams, see
``beicoder.core.suggest.learned.model_form``); each of them with English passages
calibrated on their own (one curve per code and language); and one model per language
(each scoring the passages of its language, with its own calibration and thresholds).
Printed: blend and model micro-F1 over all held-out passages, the Chinese ones and the
English ones, and seconds.

Run: python bench/choose_model.py [--quick | --english]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

BLOCK = 20


def load_data():
    from beicoder.core.evaluate import fold_of
    from beicoder.core.store import Store
    from beicoder.core.study import build_demo

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.db"
        build_demo(db, progress=lambda _m: None)
        store = Store(db)
        dictionary = store.dictionary()
        decided = store.decided_passages("reference")
        labels: dict[int, set[str]] = {}
        for r in store.coding_rows("reference"):
            labels.setdefault(r["passage_id"], set()).add(r["code"])
        owner = store.passage_interviewees()
        passages = [p for p in store.passages() if p.id in decided]
        store.close()
    assign = fold_of([owner[p.id] for p in passages], 5)
    rows = [(p.text, labels.get(p.id, set()), "study", assign[owner[p.id]]) for p in passages]
    rows += [(text, set(codes), "example", (i // BLOCK) % 5) for i, (text, codes) in enumerate(dictionary.examples)]
    return rows, dictionary


def load_bilingual():
    """Rows ``(text, codes, kind, fold, language)`` of both demo studies and every example
    (see the module docstring), and the dictionary."""
    from beicoder.core.evaluate import fold_of
    from beicoder.core.store import Store
    from beicoder.core.study import build_demo

    rows = []
    dictionary = None
    for lang in ("zh", "en"):
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "demo.db"
            build_demo(db, progress=lambda _m: None, lang=lang)
            store = Store(db)
            dictionary = store.dictionary()
            decided = store.decided_passages("reference")
            labels: dict[int, set[str]] = {}
            for r in store.coding_rows("reference"):
                labels.setdefault(r["passage_id"], set()).add(r["code"])
            owner = store.passage_interviewees()
            passages = [p for p in store.passages() if p.id in decided]
            store.close()
        assign = fold_of([owner[p.id] for p in passages], 5)
        rows += [(p.text, labels.get(p.id, set()), "study", assign[owner[p.id]], lang) for p in passages]
    for lang in ("zh", "en"):
        mine = [(text, codes) for (text, codes), x in zip(dictionary.examples, dictionary.example_languages)
                if x == lang]
        rows += [(text, set(codes), "example", (i // BLOCK) % 5, lang) for i, (text, codes) in enumerate(mine)]
    return rows, dictionary


class PerLanguageCandidate:
    """One character n-gram model per language, each trained on its language's passages and
    scoring them (English with word features)."""

    name = "one model per language"

    def fit(self, train, dictionary):
        return {lang: CharCandidate(lang, english_words=lang == "en", english_calibration=False).fit(
            [r for r in train if r[4] == lang], dictionary) for lang in ("zh", "en")}

    def predict(self, models, texts, lexicon_scores, languages):
        out_m, out_b = [None] * len(texts), [None] * len(texts)
        for lang, model in models.items():
            idx = [i for i, x in enumerate(languages) if x == lang]
            m, b, _ = CharCandidate(lang).predict(model, [texts[i] for i in idx], [lexicon_scores[i] for i in idx])
            for i, a, c in zip(idx, m, b):
                out_m[i], out_b[i] = a, c
        return out_m, out_b, None


def run_bilingual(candidate, rows, dictionary):
    from beicoder.core.suggest.lexicon import LexiconSuggester

    lexicon = LexiconSuggester(dictionary)
    t0 = time.perf_counter()
    gold, langs, model_pred, blend_pred, lex_pred = [], [], [], [], []
    for k in range(5):
        train = [r for r in rows if r[3] != k]
        test = [r for r in rows if r[3] == k]
        model = candidate.fit(train, dictionary)
        texts = [r[0] for r in test]
        lex = lexicon.scores(texts)
        if isinstance(candidate, PerLanguageCandidate):
            m, b, _ = candidate.predict(model, texts, lex, [r[4] for r in test])
        else:
            m, b, _ = candidate.predict(model, texts, lex)
        model_pred += m
        blend_pred += b
        lex_pred += [set(x) for x in lex]
        gold += [r[1] for r in test]
        langs += [r[4] for r in test]
    seconds = time.perf_counter() - t0

    def part(pred, lang=None):
        pairs = [(g, p) for g, p, x in zip(gold, pred, langs) if lang is None or x == lang]
        return micro([g for g, _ in pairs], [p for _, p in pairs])

    return {"name": candidate.name, "seconds": seconds,
            **{f"{what}_{lang or 'all'}": part(pred, lang) for what, pred in
               (("lexicon", lex_pred), ("model", model_pred), ("blend", blend_pred)) for lang in (None, "zh", "en")}}


def main_bilingual() -> int:
    rows, dictionary = load_bilingual()
    for lang in ("zh", "en"):
        print(f"{lang}: {sum(1 for r in rows if r[2] == 'study' and r[4] == lang)} study passages, "
              f"{sum(1 for r in rows if r[2] == 'example' and r[4] == lang)} dictionary examples")
    print(f"{'candidate':<44}{'blend':>7}{'zh b':>7}{'en b':>7}{'model':>7}{'zh m':>7}{'en m':>7}{'s':>6}")
    off = {"english_calibration": False}
    candidates = [CharCandidate("one model, characters only", english_words=False, **off),
                  CharCandidate("one model, characters + English words", english_words=True, **off),
                  CharCandidate("one model, English calibrated on its own", english_words=False),
                  CharCandidate("  + English words as written (chosen: memory)", english_words=True),
                  CharCandidate("  + English lemmas as the words", english_words=True, english_lemmas=True),
                  PerLanguageCandidate()]
    first = True
    for cand in candidates:
        r = run_bilingual(cand, rows, dictionary)
        if first:
            print(f"{'lexicon alone':<44}{r['lexicon_all']:>7.3f}{r['lexicon_zh']:>7.3f}{r['lexicon_en']:>7.3f}")
            first = False
        print(f"{r['name']:<44}{r['blend_all']:>7.3f}{r['blend_zh']:>7.3f}{r['blend_en']:>7.3f}{r['model_all']:>7.3f}"
              f"{r['model_zh']:>7.3f}{r['model_en']:>7.3f}{r['seconds']:>6.0f}", flush=True)
    return 0


def micro(gold, pred):
    tp = sum(len(g & p) for g, p in zip(gold, pred))
    n_pred = sum(len(p) for p in pred)
    n_gold = sum(len(g) for g in gold)
    return 2 * tp / (n_pred + n_gold) if n_pred + n_gold else float("nan")


def multi_recall(gold, pred):
    pairs = [(g, p) for g, p in zip(gold, pred) if len(g) >= 2]
    total = sum(len(g) for g, _ in pairs)
    return sum(len(g & p) for g, p in pairs) / total if total else float("nan")


class CharCandidate:
    def __init__(self, name, **settings):
        self.name, self.settings = name, settings

    def fit(self, train, dictionary):
        from beicoder.core.suggest.learned import LearnedSuggester, train_model

        study = [(r[0], r[1]) for r in train if r[2] == "study"]
        extra = [(r[0], r[1]) for r in train if r[2] == "example"]
        model = LearnedSuggester(train_model(study, dictionary, extra=extra, settings=self.settings), dictionary)
        return model

    def predict(self, model, texts, lexicon_scores):
        from beicoder.core.suggest.learned import MODEL_ONLY_MIN_CHARS

        weight = self.settings.get("lexicon_weight", 0.3)
        probs = model.scores(texts)
        out_model = [{c for c, v in p.items() if v >= model.model_threshold} for p in probs]
        out_blend = []
        for text, p, lex in zip(texts, probs, lexicon_scores):
            short = len(text) < MODEL_ONLY_MIN_CHARS
            b = {c: weight * lex.get(c, 0.0) + (1 - weight) * v for c, v in p.items()}
            out_blend.append({c for c, v in b.items() if v >= model.blend_threshold and not (short and not lex.get(c))})
        return out_model, out_blend, probs


def segment(folded_texts, vocab, extras):
    """jieba words of each folded text as spaCy Docs, ``extras`` (one list per text) appended
    (how the textcat model read a passage)."""
    from spacy.tokens import Doc

    from beicoder.core.suggest.lexicon import JIEBA_HMM, _quiet_jieba

    jieba = _quiet_jieba()
    return [Doc(vocab, words=jieba.lcut(text, HMM=JIEBA_HMM) + list(extra))
            for text, extra in zip(folded_texts, extras)]


def hit_tokens(hits):
    """One token per code and per keyword of the non-negated keyword matches ``hits``."""
    tokens = []
    for code, ev in hits:
        if not ev.negated:
            for tok in (f"⟦{code}⟧", f"⟦{ev.keyword}⟧"):
                if tok not in tokens:
                    tokens.append(tok)
    return tokens


class TextcatCandidate:
    """The model beicoder had before this change, rebuilt here for the comparison."""

    name = "spaCy textcat (before)"

    def fit(self, train, dictionary):
        import spacy
        from spacy.training import Example

        from beicoder.core.suggest.lexicon import LexiconSuggester, zh_pipeline

        zh_pipeline()
        spacy.util.fix_random_seed(0)
        nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
        textcat = nlp.add_pipe("textcat_multilabel", config={"model": {
            "@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": False, "ngram_size": 2,
            "no_output_layer": False, "length": 262144}})
        for code in dictionary.codes:
            textcat.add_label(code)
        self.lexicon = LexiconSuggester(dictionary)
        docs = self._docs(nlp, [t for t, *_ in train])
        data = [Example.from_dict(d, {"cats": {c: float(c in y) for c in dictionary.codes}})
                for d, (_, y, *_) in zip(docs, train)]
        optimizer = nlp.initialize(lambda: data)
        optimizer.learn_rate = 0.01
        rng = random.Random(0)
        order = list(range(len(data)))
        for _ in range(6):
            rng.shuffle(order)
            for start in range(0, len(order), 16):
                nlp.update([data[i] for i in order[start:start + 16]], sgd=optimizer, drop=0.0)
        return nlp

    def _docs(self, nlp, texts):
        from beicoder.core.suggest.lexicon import fold

        folded = [fold(t) for t in texts]
        hits = [self.lexicon._find(t, f) for t, f in zip(texts, folded)]
        return segment(folded, nlp.vocab, [hit_tokens(h) for h in hits])

    def probabilities(self, nlp, texts):
        textcat = nlp.get_pipe("textcat_multilabel")
        return [dict(d.cats) for d in textcat.pipe(self._docs(nlp, texts), batch_size=256)]

    def predict(self, nlp, texts, lexicon_scores):
        probs = self.probabilities(nlp, texts)
        out_model = [{c for c, v in p.items() if v >= 0.2} for p in probs]
        out_blend = []
        for text, p, lex in zip(texts, probs, lexicon_scores):
            short = len(text) < 40
            b = {c: 0.3 * lex.get(c, 0.0) + 0.7 * v for c, v in p.items()}
            out_blend.append({c for c, v in b.items() if v >= 0.2 and not (short and not lex.get(c))})
        return out_model, out_blend, probs


def run(candidate, rows, dictionary):
    from beicoder.core.suggest.lexicon import LexiconSuggester

    lexicon = LexiconSuggester(dictionary)
    t0 = time.perf_counter()
    gold, kinds, model_pred, blend_pred, lex_pred = [], [], [], [], []
    for k in range(5):
        train = [r for r in rows if r[3] != k]
        test = [r for r in rows if r[3] == k]
        model = candidate.fit(train, dictionary)
        texts = [t for t, *_ in test]
        lex = lexicon.scores(texts)
        m, b, _ = candidate.predict(model, texts, lex)
        model_pred += m
        blend_pred += b
        lex_pred += [set(x) for x in lex]
        gold += [y for _, y, *_ in test]
        kinds += [kind for _, _, kind, _ in test]
    seconds = time.perf_counter() - t0

    def part(pred, kind=None):
        pairs = [(g, p) for g, p, kd in zip(gold, pred, kinds) if kind is None or kd == kind]
        return micro([g for g, _ in pairs], [p for _, p in pairs])

    return {"name": candidate.name, "model": part(model_pred), "blend": part(blend_pred),
            "model_study": part(model_pred, "study"), "blend_study": part(blend_pred, "study"),
            "model_examples": part(model_pred, "example"), "blend_examples": part(blend_pred, "example"),
            "multi_blend": multi_recall(gold, blend_pred), "lexicon": part(lex_pred),
            "lexicon_study": part(lex_pred, "study"), "seconds": seconds}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only today's settings and the model before")
    ap.add_argument("--no-textcat", action="store_true", help="leave out the spaCy textcat (slow)")
    ap.add_argument("--english", action="store_true", help="Chinese and English together (see the docstring)")
    args = ap.parse_args(argv)
    if args.english:
        return main_bilingual()
    rows, dictionary = load_data()
    print(f"{sum(1 for r in rows if r[2] == 'study')} study passages, {sum(1 for r in rows if r[2] == 'example')} "
          f"dictionary examples, 5 folds")
    candidates = [] if args.no_textcat else [TextcatCandidate()]
    candidates.append(CharCandidate("char 1-3, min_df 2, C 2, lexicon 0.3 (chosen)"))
    if not args.quick:
        for c in (0.25, 0.5, 1.0, 4.0):
            candidates.append(CharCandidate(f"char 1-3, min_df 2, C {c}, lexicon 0.3", C=c))
        candidates.append(CharCandidate("char 1-2, min_df 2, C 2, lexicon 0.3", ngrams=(1, 2)))
        candidates.append(CharCandidate("char 1-4, min_df 2, C 2, lexicon 0.3", ngrams=(1, 4)))
        candidates.append(CharCandidate("char 2-3, min_df 2, C 2, lexicon 0.3", ngrams=(2, 3)))
        candidates.append(CharCandidate("char 1-3, min_df 1, C 2, lexicon 0.3", min_df=1))
        candidates.append(CharCandidate("char 1-3, min_df 3, C 2, lexicon 0.3", min_df=3))
        for w in (0.0, 0.15, 0.45):
            candidates.append(CharCandidate(f"char 1-3, min_df 2, C 2, lexicon {w}", lexicon_weight=w))
    header = (f"{'candidate':<40}{'model':>7}{'blend':>7}{'study m':>9}{'study b':>9}{'exam m':>8}{'exam b':>8}"
              f"{'multi b':>9}{'s':>6}")
    print(header)
    first = True
    for cand in candidates:
        r = run(cand, rows, dictionary)
        if first:
            print(f"{'lexicon alone':<40}{r['lexicon']:>7.3f}{'':>7}{r['lexicon_study']:>9.3f}")
            first = False
        print(f"{r['name']:<40}{r['model']:>7.3f}{r['blend']:>7.3f}{r['model_study']:>9.3f}{r['blend_study']:>9.3f}"
              f"{r['model_examples']:>8.3f}{r['blend_examples']:>8.3f}{r['multi_blend']:>9.3f}{r['seconds']:>6.0f}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
