"""The learned suggester: a linear model over character n-grams trained on one coder's
decisions, and the blend of its scores with the lexicon's.

Training data: every passage the coder has decided; its labels are the codes the coder gave
it (none for a "no code" decision). The dictionary's own coded example passages (its
``examples``, if it has any) are added, so the model knows the dictionary's meaning of each
code beyond the writers of one study.

The model (:class:`CharModel`): a TF-IDF vector of the character 1- to 3-grams of the folded
passage (:mod:`.ngrams`: Simplified script, NFKC, lower case; no jieba) and, per code, a
logistic regression (scikit-learn's liblinear, ``class_weight="balanced"``, L2). Its scores are
calibrated on out-of-fold decision values of the training data (Platt scaling: one logistic
curve per code, fitted on scores of passages the model did not learn from), so a score of 0.6
means that about six in ten such passages had the code in the coder's own decisions. The
thresholds at which the model alone, and the blend with the lexicon, suggest a code are chosen
on the same out-of-fold scores (the one that maximises micro-F1). The out-of-fold scores come
from ``INNER_FOLDS``-fold cross-validation over blocks of ``BLOCK`` consecutive passages
(reading order keeps an interview's passages together; the dictionary's examples come last),
on at most ``INNER_MAX`` passages. Everything is deterministic: a fixed seed places the blocks
in folds and drives liblinear, so two runs on the same data give the same scores.

Evidence: for a linear model the n-grams present are the evidence: each contributes its
TF-IDF weight times its coefficient to the code's log-odds (times the calibration slope).
The n-grams of two or more letters, digits or Han characters (no punctuation, no space; at
least one letter or Han character) that contribute most
(at least ``EVIDENCE_MIN_DROP``, at most ``EVIDENCE_WORDS`` per code, none inside another
one chosen) are shown, at every place they occur.

The model is saved in a folder beside the study (``STUDY.db.model-CODER/``): ``model.npz``
(n-grams, idf, coefficients, calibration) and ``beicoder-model.json``: dictionary hash,
coder, number of examples, codes, seed, settings, thresholds, date.

Settings (n-gram lengths, ``min_df``, ``C``, the lexicon's weight in the blend, the
short-passage rule) were chosen by cross-validation (``bench/choose_model.py``: the demo
study's reference coding and the dictionary's examples, grouped by interviewee and in blocks
of 20 examples), never on a gold file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .. import BeicoderError
from . import Suggestion

META_FILE = "beicoder-model.json"
WEIGHTS_FILE = "model.npz"
SEED = 0
EPOCHS = 0  # kept for callers of train_model(..., epochs): a linear model has no epochs
# Chosen by cross-validation (bench/choose_model.py), never on a gold file:
NGRAM_RANGE = (1, 3)
MIN_DF = 2
# C: CV (511 examples) gave blend micro-F1 .699 at C 1, .706 at 2, .710 at 4; C 4 trains 1,000
# generated interviews in about 31 s, over the 30 s budget, so 2 (about 24 s).
C = 2.0
TOL = 1e-3  # liblinear's stopping tolerance: the same CV figures as its default 1e-4, a fifth less time at C 4
INNER_FOLDS = 5
BLOCK = 20
INNER_MAX = 4000
# Blend: each source's score weighted; lexicon scores are 0 where no keyword matched.
LEXICON_WEIGHT = 0.3
# Thresholds used when a model carries none of its own (each model chooses its own on its
# out-of-fold scores, see the module docstring).
BLEND_THRESHOLD = 0.35
MODEL_THRESHOLD = 0.35
# The model alone does not suggest a code on a passage shorter than this (characters).
MODEL_ONLY_MIN_CHARS = 40
# Model evidence: at most this many n-grams per code, each adding at least this much to the
# code's log-odds (0.2: odds x 1.22).
EVIDENCE_WORDS = 3
EVIDENCE_MIN_DROP = 0.2
# The coding screen names the best code left out when its blended score is this close to the
# blend threshold (a second code of the passage is the one most often missed).
NEXT_BEST_MARGIN = 0.1


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
    blend_threshold: float = BLEND_THRESHOLD
    model_threshold: float = MODEL_THRESHOLD


def read_model_meta(db_path: str | Path, coder: str, dictionary) -> ModelInfo | None:
    """The metadata of ``coder``'s model beside the study ``db_path`` (see :func:`model_dir`),
    checked against ``dictionary`` (its ``sha256``). Returns None when there is no model or
    its metadata cannot be read; never loads the model's weights. ``blend_threshold`` and
    ``model_threshold`` are the model's own (the defaults for a model saved without them)."""
    path = model_dir(db_path, coder)
    try:
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
        return ModelInfo(path=path, decisions=int(meta.get("examples", 0)),
                         dictionary_examples=int(meta.get("dictionary_examples", 0)),
                         learned_passages=frozenset(int(i) for i in meta.get("learned_passages", [])),
                         stale=meta.get("dictionary_sha256") != dictionary.sha256,
                         trained_at=str(meta.get("trained_at", "")),
                         blend_threshold=float(meta.get("blend_threshold", BLEND_THRESHOLD)),
                         model_threshold=float(meta.get("model_threshold", MODEL_THRESHOLD)))
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


def _folded(texts: Sequence[str]) -> list[str]:
    from .lexicon import fold

    return [fold(t) for t in texts]


# English words as features: an English passage's words (lower case; or their lemmas, see
# .english) are appended to its folded text as one character each (a private-use code point
# per word, by a stable hash), so the character 1- to 3-grams of that run are the passage's
# word 1- to 3-grams; Chinese
# passages are read as before. English calibration: English passages get calibration curves
# of their own (one logistic curve per code fitted on the English training passages'
# out-of-fold scores), so that one pair of thresholds serves both languages. Both chosen by
# cross-validation (bench/choose_model.py --english: blend micro-F1 .713 with the words as
# written, against .693 for characters only). Lemmas as the words scored .718 in the same
# cross-validation, but lemminflect (which imports spaCy) then loads before the training
# matrix is built and lifts training's peak at 1,000 interviews from about 460 to 526 MB,
# over the 500 MB budget; .005 of micro-F1 is within what one fold assignment moves, so the
# words as written are used (``english_lemmas`` setting, for choose_model.py).
ENGLISH_WORDS = True
ENGLISH_LEMMAS = False
ENGLISH_CALIBRATION = True
_LEMMA_BASE, _LEMMA_SLOTS = 0xF0000, 0xFFFE  # Supplementary Private Use Area-A
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def model_form(folded: str, lemmas: bool = ENGLISH_LEMMAS) -> str:
    """What the model reads of a folded passage with English word features: the passage
    itself and, when it is English (:func:`~.english.is_english`), a space and one
    private-use character per word (a run of letters and digits, apostrophes inside it),
    standing for the word as written (lower case) or, with ``lemmas``, for its lemma
    (:func:`~.english.lemma`)."""
    from .english import is_english

    if not is_english(folded):
        return folded
    import zlib

    # words by a regular expression, not spaCy's tokenizer: training reads them before its
    # matrix is built, and spaCy's English tables would add to the peak of its memory
    words = _WORD.findall(folded.replace("\u2019", "'"))
    if lemmas:
        from .english import lemma

        words = [lemma(w) for w in words]
    else:
        words = [w.lower() for w in words]
    return folded + " " + "".join(chr(_LEMMA_BASE + zlib.crc32(w.encode("utf-8")) % _LEMMA_SLOTS) for w in words)


def _is_lemma_char(ch: str) -> bool:
    return _LEMMA_BASE <= ord(ch) < _LEMMA_BASE + _LEMMA_SLOTS


def _sigmoid(x):
    import numpy as np

    return 1.0 / (1.0 + np.exp(-np.clip(x, -35.0, 35.0)))


def _fit_codes(X, Y, seed: int, c: float = C):
    """One L2 logistic regression per column of ``Y`` (0/1 per code) on the TF-IDF matrix
    ``X``: ``(coef, intercept)``, shapes (features, codes) and (codes,). A code with no
    positive (or no negative) passage gets a constant score far on that side."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    coef = np.zeros((X.shape[1], Y.shape[1]), dtype=np.float64)
    intercept = np.zeros(Y.shape[1])
    for j in range(Y.shape[1]):
        y = Y[:, j]
        if y.all() or not y.any():
            intercept[j] = 10.0 if y.all() else -10.0
            continue
        lr = LogisticRegression(C=c, class_weight="balanced", solver="liblinear", dual=True, max_iter=1000,
                                tol=TOL, random_state=seed)
        lr.fit(X, y)
        coef[:, j] = lr.coef_[0]
        intercept[j] = lr.intercept_[0]
    return coef, intercept


def _platt(z, y):
    """Slope and offset of the logistic curve mapping out-of-fold decision values ``z`` of
    one code to the probability of the code (fitted by maximum likelihood, lightly
    regularised): ``(a, b)``; ``(1, 0)`` when ``y`` has one class only."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    if y.all() or not y.any():
        return 1.0, 0.0
    lr = LogisticRegression(C=100.0, solver="lbfgs").fit(np.asarray(z).reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def best_threshold(scores, Y, grid=None) -> float:
    """The threshold in ``grid`` (default 0.05, 0.06, ..., 0.95) at which ``scores >= t``
    (passages x codes) agrees best with the 0/1 matrix ``Y`` by micro-F1 (ties: the lowest)."""
    import numpy as np

    grid = np.round(np.arange(0.05, 0.951, 0.01), 2) if grid is None else np.asarray(grid)
    Y = np.asarray(Y, dtype=bool)
    best, best_f1 = float(grid[0]), -1.0
    positives = Y.sum()
    for t in grid:
        pred = scores >= t
        tp = (pred & Y).sum()
        f1 = 2 * tp / (pred.sum() + positives) if pred.sum() + positives else 0.0
        if f1 > best_f1 + 1e-12:
            best, best_f1 = float(t), f1
    return best


def _inner_folds(n: int, seed: int, folds: int = INNER_FOLDS, block: int = BLOCK, most: int = INNER_MAX):
    """Fold (0..folds-1) of each of ``n`` training rows for the out-of-fold scores, -1 for
    a row left out (more than ``most`` rows: whole blocks are left out, evenly spread):
    consecutive blocks of ``block`` rows, dealt to the folds in turn from a place the seed
    sets."""
    import numpy as np

    blocks = np.arange(n) // block
    n_blocks = int(blocks[-1]) + 1 if n else 0
    keep = np.ones(n_blocks, dtype=bool)
    if n > most:
        wanted = max(folds, most // block)
        keep[:] = False
        keep[np.unique(np.linspace(0, n_blocks - 1, wanted).round().astype(int))] = True
    order = np.cumsum(keep) - 1
    fold = (order + seed) % folds
    out = np.where(keep[blocks], fold[blocks], -1)
    return out


@dataclass
class CharModel:
    """A trained model: the n-gram ``vocabulary`` (:class:`~.ngrams.Vocabulary`), per code a
    coefficient column of ``coef`` and an ``intercept``, and the calibration ``slope`` and
    ``offset`` per code; ``model_threshold`` and ``blend_threshold`` chosen on out-of-fold
    scores; ``info`` what training saw (for the metadata)."""

    codes: list[str]
    vocabulary: object
    coef: object
    intercept: object
    slope: object
    offset: object
    model_threshold: float = MODEL_THRESHOLD
    blend_threshold: float = BLEND_THRESHOLD
    info: dict = field(default_factory=dict)
    #: the calibration of English passages, when the model calibrates them on their own
    #: (``slope`` and ``offset`` are then the other passages'); None: one calibration
    slope_en: object = None
    offset_en: object = None

    def calibration(self, folded: Sequence[str]):
        """``(slope, offset)`` per text of ``folded`` and code: arrays of shape (texts, codes),
        each text with its language's calibration (see ``slope_en``)."""
        import numpy as np

        slope = np.tile(self.slope, (len(folded), 1))
        offset = np.tile(self.offset, (len(folded), 1))
        if self.slope_en is not None:
            from .english import is_english

            en = np.array([is_english(t) for t in folded], dtype=bool)
            slope[en], offset[en] = self.slope_en, self.offset_en
        return slope, offset

    def entries(self, part: Sequence[str]):
        """The TF-IDF entries of ``part`` (see :meth:`~.ngrams.Vocabulary.entries`); the last
        part read is remembered, so scoring and explaining the same passages read them once."""
        last = getattr(self, "_last", None)
        if last is not None and last[0] == list(part):
            return last[1]
        out = self.vocabulary.entries(self._forms(part))
        self._last = (list(part), out)
        return out

    def _forms(self, folded: Sequence[str]) -> list[str]:
        """The texts the vocabulary reads: ``folded`` with English word features when the
        model was trained with them (see :func:`model_form`)."""
        if self.info.get("english_words"):
            lemmas = bool(self.info.get("english_lemmas", True))  # a model saved before the setting used lemmas
            return [model_form(t, lemmas) for t in folded]
        return list(folded)

    def decision(self, folded: Sequence[str]):
        """Calibrated log-odds of every code (columns in ``codes`` order) for the ``folded``
        texts, a numpy array."""
        import numpy as np

        out = np.empty((len(folded), len(self.codes)))
        for k in range(0, len(folded), 2000):
            part = folded[k:k + 2000]
            d, f, v = self.entries(part)
            z = np.tile(self.intercept, (len(part), 1))
            for j in range(len(self.codes)):
                z[:, j] += np.bincount(d, weights=v * self.coef[f, j], minlength=len(part))
            slope, offset = self.calibration(part)
            out[k:k + len(part)] = z * slope + offset
        return out

    def probabilities(self, folded: Sequence[str]):
        """Calibrated probability of every code for the ``folded`` texts (numpy array)."""
        return _sigmoid(self.decision(folded))

    def contributions(self, folded: str, code: str) -> list[tuple[float, str]]:
        """``(log-odds added, n-gram)`` for every n-gram of ``folded`` that is a feature, for
        ``code`` (calibrated scale), largest first; English word features (see
        :func:`model_form`) are left out, as they are not characters of the passage."""
        import numpy as np

        from .ngrams import key_text

        j = self.codes.index(code)
        _, f, v = self.vocabulary.entries(self._forms([folded]))
        add = v * self.coef[f, j] * self.calibration([folded])[0][0, j]
        order = np.argsort(-add, kind="stable")
        grams = ((float(add[i]), key_text(self.vocabulary.keys[f[i]])) for i in order)
        return [(a, g) for a, g in grams if not any(_is_lemma_char(ch) for ch in g)]

    def save(self, folder: Path) -> None:
        """Write ``model.npz`` into ``folder``."""
        import numpy as np

        by_language = {} if self.slope_en is None else {"slope_en": self.slope_en, "offset_en": self.offset_en}
        np.savez(folder / WEIGHTS_FILE, keys=self.vocabulary.keys, idf=self.vocabulary.idf,
                 coef=self.coef.astype(np.float32), intercept=self.intercept, slope=self.slope, offset=self.offset,
                 ngrams=np.array([self.vocabulary.n_min, self.vocabulary.n_max]), **by_language)

    @classmethod
    def load(cls, folder: Path, meta: dict) -> CharModel:
        """The model saved in ``folder`` with its metadata ``meta``.

        Raises:
            ModelError: the weights are missing or damaged."""
        import numpy as np

        from .ngrams import Vocabulary

        try:
            with np.load(folder / WEIGHTS_FILE) as z:
                n_min, n_max = (int(x) for x in z["ngrams"])
                vocabulary = Vocabulary(z["keys"], z["idf"], n_min, n_max)
                coef = z["coef"].astype(np.float64)
                intercept, slope, offset = z["intercept"], z["slope"], z["offset"]
                slope_en = z["slope_en"] if "slope_en" in z.files else None
                offset_en = z["offset_en"] if "offset_en" in z.files else None
        except (OSError, ValueError, KeyError, EOFError) as exc:
            raise ModelError(f"{folder}: the model's weights cannot be read ({exc})") from None
        codes = list(meta.get("codes", []))
        if coef.shape != (len(vocabulary.keys), len(codes)):
            raise ModelError(f"{folder}: the model's weights do not fit its codes; run 'beicoder train' again")
        return cls(codes, vocabulary, coef, intercept, slope, offset,
                   float(meta.get("model_threshold", MODEL_THRESHOLD)),
                   float(meta.get("blend_threshold", BLEND_THRESHOLD)), dict(meta.get("training", {})),
                   slope_en, offset_en)


def train_model(examples: Sequence[tuple[str, set[str]]], dictionary, seed: int = SEED,
                epochs: int | None = None, dictionary_examples: bool = True,
                extra: Sequence[tuple[str, set[str]]] | None = None,
                progress: Callable[[int, int], None] | None = None, settings: dict | None = None) -> CharModel:
    """Train a multi-label model on ``examples`` (a coder's decided passages: text, set of
    codes, in reading order) for the codes of ``dictionary`` and return it (see the module
    docstring). ``extra`` passages are added to the training data; by default (None) the
    dictionary's example passages, or none when ``dictionary_examples`` is False.
    ``epochs`` is not used (a linear model has none). ``progress(done, total)`` is called
    as the steps go; ``settings`` overrides the module's settings (``ngrams``, ``min_df``,
    ``C``, ``lexicon_weight``), for choosing them by cross-validation.

    Raises:
        ModelError: fewer than 10 decided passages, or none with a code.
    """
    import numpy as np

    from .lexicon import LexiconSuggester
    from .ngrams import Vocabulary

    codes = list(dictionary.codes)
    if len(examples) < 10:
        raise ModelError(f"too little to learn from: {len(examples)} decided passages; decide at least 10 first")
    if not any(labels for _, labels in examples):
        raise ModelError(f"nothing to learn from: none of the {len(examples)} decided passages has a code")
    settings = dict(settings or {})
    n_min, n_max = settings.get("ngrams", NGRAM_RANGE)
    c = float(settings.get("C", C))
    weight = float(settings.get("lexicon_weight", LEXICON_WEIGHT))
    if extra is None:
        extra = [(text, set(labels)) for text, labels in dictionary.examples] if dictionary_examples else []
    data = list(examples) + list(extra)
    texts = [text for text, _ in data]
    Y = np.array([[code in labels for code in codes] for _, labels in data], dtype=bool)
    steps = INNER_FOLDS + 3
    report = progress or (lambda done, total: None)
    english_words = bool(settings.get("english_words", ENGLISH_WORDS))
    english_lemmas = bool(settings.get("english_lemmas", ENGLISH_LEMMAS))
    folded = _folded(texts)
    if english_words:
        folded = [model_form(t, english_lemmas) for t in folded]
    vocabulary = Vocabulary.fit(folded, n_min, n_max, int(settings.get("min_df", MIN_DF)))
    X = vocabulary.matrix(folded)
    del folded
    report(1, steps)
    # out-of-fold decision values, for the calibration and the thresholds
    fold = _inner_folds(len(data), seed)
    inner = np.flatnonzero(fold >= 0)
    z = np.zeros((len(inner), len(codes)))
    for k in range(INNER_FOLDS):
        train_rows, test_rows = inner[fold[inner] != k], np.flatnonzero(fold[inner] == k)
        if len(test_rows) and len(train_rows):
            coef, intercept = _fit_codes(X[train_rows], Y[train_rows], seed, c)
            z[test_rows] = X[inner[test_rows]] @ coef + intercept
        report(2 + k, steps)
    slope = np.ones(len(codes))
    offset = np.zeros(len(codes))
    for j in range(len(codes)):
        slope[j], offset[j] = _platt(z[:, j], Y[inner, j])
    y_inner = Y[inner]
    slope_en = offset_en = None
    english = np.zeros(len(inner), dtype=bool)
    if bool(settings.get("english_calibration", ENGLISH_CALIBRATION)):
        from .english import is_english

        english = np.array([is_english(texts[i]) for i in inner], dtype=bool)
        if english.any() and (~english).any():
            # each language calibrated on its own passages; a code that one language's
            # passages show never (or always) keeps the common curve there
            slope_en, offset_en = slope.copy(), offset.copy()
            for part, (a, b) in ((english, (slope_en, offset_en)), (~english, (slope, offset))):
                for j in range(len(codes)):
                    y = y_inner[part, j]
                    if y.any() and not y.all():
                        a[j], b[j] = _platt(z[part, j], y)
    if slope_en is None:
        p = _sigmoid(z * slope + offset)
    else:
        p = _sigmoid(np.where(english[:, None], z * slope_en + offset_en, z * slope + offset))
    model_threshold = best_threshold(p, y_inner)
    coef, intercept = _fit_codes(X, Y, seed, c)
    n_features = X.shape[1]
    del X  # the lexicon (spaCy, jieba) loads below: the matrix and the solver's copy are gone by then
    report(INNER_FOLDS + 2, steps)
    lexicon = LexiconSuggester(dictionary)
    lex = np.array([[s.get(code, 0.0) for code in codes] for s in lexicon.scores([texts[i] for i in inner])])
    short = np.array([len(texts[i]) < MODEL_ONLY_MIN_CHARS for i in inner])
    blended = weight * lex + (1 - weight) * p
    blended[short[:, None] & (lex <= 0)] = 0.0
    blend_threshold = best_threshold(blended, y_inner)
    report(steps, steps)
    info = {"ngrams": [n_min, n_max], "min_df": int(settings.get("min_df", MIN_DF)), "C": c,
            "english_words": english_words, "english_lemmas": english_lemmas,
            "lexicon_weight": weight, "features": n_features, "calibrated_on": len(inner),
            "inner_folds": INNER_FOLDS}
    info["english_calibration"] = slope_en is not None
    return CharModel(codes, vocabulary, coef, intercept, slope, offset, model_threshold, blend_threshold, info,
                     slope_en, offset_en)


def train(store, coder: str, dictionary, db_path: str | Path, seed: int = SEED, epochs: int = EPOCHS,
          dictionary_examples: bool = True, progress: Callable[[int, int], None] | None = None) -> TrainResult:
    """Train ``coder``'s model on the study (and the dictionary's examples, unless
    ``dictionary_examples`` is False) and save it beside ``db_path`` (see :func:`model_dir`),
    replacing an older one. Returns the path and metadata; ``learned_passages`` in it lists
    the ids of the passages whose decisions the model learned (its verdict there is no
    independent opinion). ``progress(done, total)`` is called as training goes.

    Raises:
        ModelError: fewer than 10 decided passages, or none with a code.
    """
    import shutil

    coder = store.resolve_coder(coder)
    learned = sorted(store.decided_passages(coder))
    examples = examples_from_study(store, coder)
    model = train_model(examples, dictionary, seed, epochs, dictionary_examples, progress=progress)
    path = model_dir(db_path, coder)
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save(tmp)
    meta = {"coder": coder, "dictionary_sha256": dictionary.sha256, "model": "char-ngram logistic regression",
            "examples": len(examples), "examples_with_codes": sum(1 for _, labels in examples if labels),
            "dictionary_examples": len(dictionary.examples) if dictionary_examples else 0,
            "codes": list(dictionary.codes), "learned_passages": learned, "seed": seed,
            "model_threshold": model.model_threshold, "blend_threshold": model.blend_threshold,
            "training": model.info, "trained_at": datetime.now(UTC).isoformat(timespec="seconds")}
    (tmp / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)
    return TrainResult(path, meta)


class LearnedSuggester:
    """Scores from a trained :class:`CharModel`: ``suggest(texts)`` gives every code with its
    calibrated probability."""

    name = "model"

    def __init__(self, model: CharModel, dictionary, meta: dict | None = None):
        self.model = model
        self.dictionary = dictionary
        self.meta = meta or {}
        self.codes = list(model.codes)

    @property
    def model_threshold(self) -> float:
        """The score from which the model alone suggests a code."""
        return self.model.model_threshold

    @property
    def blend_threshold(self) -> float:
        """The blended score from which a code is suggested."""
        return self.model.blend_threshold

    @classmethod
    def load(cls, path: str | Path, dictionary) -> LearnedSuggester:
        """Load a saved model.

        Raises:
            ModelError: no model there, it was trained with another dictionary, or its files
                are damaged.
        """
        path = Path(path)
        meta_path = path / META_FILE
        if not meta_path.exists():
            raise ModelError(f"{path}: no trained model (run 'beicoder train')")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"{path}: the model's metadata cannot be read ({exc})") from None
        if meta.get("dictionary_sha256") != dictionary.sha256:
            raise ModelError(f"{path}: trained with another version of the dictionary; run 'beicoder train' again")
        return cls(CharModel.load(path, meta), dictionary, meta)

    def scores(self, texts: Sequence[str], folded: Sequence[str] | None = None) -> list[dict[str, float]]:
        """Calibrated probability of each code for each text (``folded``: the texts'
        :func:`~beicoder.core.suggest.lexicon.fold`, when already made)."""
        probs = self.model.probabilities(list(folded) if folded is not None else _folded(texts))
        return [dict(zip(self.codes, map(float, row))) for row in probs]

    def suggest(self, texts: Sequence[str]) -> list[list[Suggestion]]:
        """Every code with its probability for each text, best first."""
        return [[Suggestion(code, round(p, 4)) for code, p in sorted(cats.items(), key=lambda kv: -kv[1])]
                for cats in self.scores(texts)]

    def explain(self, texts: Sequence[str], wanted: Sequence[Sequence[str]], top: int = EVIDENCE_WORDS,
                min_drop: float = EVIDENCE_MIN_DROP,
                folded: Sequence[str] | None = None) -> list[dict[str, list[dict]]]:
        """The model's evidence for each text and each code of ``wanted`` (one list per text):
        the n-grams that add most to the code's log-odds (see the module docstring).

        Returns, per text, ``code -> evidence dicts`` like the lexicon's: start, end
        (character offsets in the text), keyword ``"model"``, matched (the text's own
        characters), token (the n-gram as folded) and drop (log-odds it adds), for at most
        ``top`` n-grams adding at least ``min_drop``, largest first; every occurrence listed.
        """
        import numpy as np

        from .ngrams import key_text

        folded = list(folded) if folded is not None else _folded(texts)
        model = self.model
        column = {code: j for j, code in enumerate(self.codes)}
        out: list[dict[str, list[dict]]] = [{code: [] for code in codes} for codes in wanted]
        for k in range(0, len(folded), 2000):
            part = folded[k:k + 2000]
            want = np.zeros((len(part), len(self.codes)), dtype=bool)
            for i, codes in enumerate(wanted[k:k + 2000]):
                want[i, [column[c] for c in codes]] = True
            if not want.any():
                continue
            d, f, v = model.entries(part)
            # only n-grams of 2+ characters that can add min_drop to some code, in passages
            # that want evidence, are weighed code by code
            most = getattr(model, "_most", None)
            if most is None:
                top_slope = model.slope if model.slope_en is None else np.maximum(model.slope, model.slope_en)
                most = model._most = np.where(model.vocabulary.keys >= 1 << 21,
                                              (model.coef * top_slope).max(axis=1), -np.inf)
            sel = np.flatnonzero((v * most[f] >= min_drop) & want.any(axis=1)[d])
            d, f, v = d[sel], f[sel], v[sel]
            slope = model.calibration(part)[0]  # each passage's language's calibration
            add = v[:, None] * model.coef[f] * slope[d]  # log-odds each n-gram adds, per code
            keep = (add >= min_drop) & want[d]
            entry, code = np.nonzero(keep)
            order = np.lexsort((-add[entry, code], code, d[entry]))
            entry, code = entry[order], code[order]
            if not len(entry):
                continue
            first = np.r_[True, (d[entry][1:] != d[entry][:-1]) | (code[1:] != code[:-1])]
            groups = np.flatnonzero(first)
            # a few more candidates than wanted per (passage, code): some are set aside below
            rank = np.arange(len(entry)) - np.repeat(groups, np.diff(np.r_[groups, len(entry)]))
            near = rank < 4 * top
            spelled: dict[int, str] = {}
            group_of = np.cumsum(first) - 1
            ends = np.r_[groups[1:], len(entry)]
            for g in np.unique(group_of[near]):
                start, end = groups[g], min(ends[g], groups[g] + 4 * top)
                i = int(d[entry[start]])
                chosen: list[tuple[float, str]] = []
                for e in entry[start:end]:
                    if len(chosen) >= top:
                        break
                    feature = int(f[e])
                    gram = spelled.get(feature)
                    if gram is None:
                        gram = spelled[feature] = key_text(model.vocabulary.keys[feature])
                    if not all(ch.isalnum() for ch in gram) or not any(ch.isalpha() for ch in gram):
                        continue  # punctuation or a space in it (我去、，店里) is no evidence to show
                    if any(gram in h or h in gram for _, h in chosen):
                        continue
                    chosen.append((float(add[e, code[start]]), gram))
                text, fold_text = texts[k + i], part[i]
                evs = out[k + i][self.codes[code[start]]]
                for drop, gram in chosen:
                    at = fold_text.find(gram)
                    while at >= 0:
                        evs.append({"start": at, "end": at + len(gram), "keyword": "model",
                                    "matched": text[at:at + len(gram)], "token": gram, "drop": round(drop, 3)})
                        at = fold_text.find(gram, at + 1)
        return out


def suggest_blended(texts: Sequence[str], lexicon, model: LearnedSuggester) -> list[dict[str, float]]:
    """Blended scores (code -> score, see :func:`blend`) for each text, the texts folded
    once for the lexicon and the model."""
    folded = _folded(texts)
    lex = [{s.code: s.score for s in lexicon.suggest_one(t, f)} for t, f in zip(texts, folded)]
    return [blend(a, b, length=len(t)) for a, b, t in zip(lex, model.scores(texts, folded), texts)]


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
                            batch: int = 1000, floor: float = 0.05,
                            progress: Callable[[int, int], None] | None = None,
                            folded: dict[int, str] | None = None) -> int:
    """Score passages (all by default) with ``coder``'s model and store, per passage, every
    code with probability >= ``floor`` under source ``model:CODER``, with the model's evidence
    (:meth:`LearnedSuggester.explain`) for the codes at the model's threshold or above.
    ``progress(done, total)`` is called after each batch; ``folded`` (passage id -> its
    :func:`~beicoder.core.suggest.lexicon.fold`) spares folding them again. Returns passages
    done."""
    wanted = None if passage_ids is None else set(passage_ids)
    passages = [p for p in store.passages() if wanted is None or p.id in wanted]
    for k in range(0, len(passages), batch):
        chunk = passages[k:k + batch]
        texts = [p.text for p in chunk]
        forms = [folded[p.id] for p in chunk] if folded and all(p.id in folded for p in chunk) else _folded(texts)
        scores = model.scores(texts, forms)
        evidence = model.explain(texts, [[c for c, v in cats.items() if v >= model.model_threshold]
                                         for cats in scores], folded=forms)
        rows = [{"passage_id": p.id, "code": code, "score": round(score, 4), "evidence": ev.get(code, [])}
                for p, cats, ev in zip(chunk, scores, evidence)
                for code, score in cats.items() if score >= floor]
        store.replace_suggestions(model_source(coder), rows, [p.id for p in chunk],
                                  model.meta.get("dictionary_sha256", ""))
        if progress:
            progress(k + len(chunk), len(passages))
    return len(passages)


def pending_model_passages(store, db_path: str | Path, coder: str, dictionary) -> list[int] | None:
    """Ids of the passages ``coder``'s saved model has not scored with this dictionary
    version, or None when the coder has no model, its metadata cannot be read, or it was
    trained with another version of the dictionary (retrain then)."""
    path = model_dir(db_path, coder)
    try:
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("dictionary_sha256") != dictionary.sha256:
        return None
    return store.passages_needing_suggestions(model_source(coder), dictionary.sha256)


def refresh_model_suggestions(store, db_path: str | Path, coder: str, dictionary,
                              progress: Callable[[int, int], None] | None = None,
                              folded: dict[int, str] | None = None) -> int | None:
    """Score with ``coder``'s saved model the passages it has not scored with this
    dictionary version (new transcripts, for instance). Returns the number of passages
    scored (0 when none was missing), or None when the coder has no model or it was
    trained with another version of the dictionary (retrain then). ``progress(done,
    total)`` is called as passages are scored; ``folded``: see :func:`store_model_suggestions`.

    Raises:
        ModelError: the model's files are damaged."""
    ids = pending_model_passages(store, db_path, coder, dictionary)
    if ids is None:
        return None
    if not ids:
        return 0
    model = LearnedSuggester.load(model_dir(db_path, coder), dictionary)
    return store_model_suggestions(store, model, coder, ids, progress=progress, folded=folded)


def blended_suggestions(rows: list[dict], coder: str, has_model: bool, length: int | None = None,
                        blend_threshold: float | None = None, model_threshold: float | None = None) -> list[dict]:
    """Combine a passage's stored suggestion rows (:meth:`Store.suggestions_for`) into what
    the coder is shown. Without a model for ``coder``: the lexicon's suggestions. With one:
    every code whose blended score (see :func:`blend`; ``length``: the passage's characters)
    reaches ``blend_threshold`` (the model's own, see :class:`ModelInfo`; default
    ``BLEND_THRESHOLD``).

    Returns dicts, best first, with code, score, sources (``["lexicon"]``, ``["model"]`` or
    both: the sources that support the code on their own; the model from
    ``model_threshold``), lexicon_score, model_score, level, level_cue, the lexicon's evidence
    and the model's (``model_evidence``: the n-grams that add most to the model's score, see
    :meth:`LearnedSuggester.explain`)."""
    return _combined(rows, coder, has_model, length, blend_threshold, model_threshold)[0]


def next_best(rows: list[dict], coder: str, has_model: bool, length: int | None = None,
              blend_threshold: float | None = None, model_threshold: float | None = None,
              margin: float | None = None) -> dict | None:
    """The best code that :func:`blended_suggestions` leaves out, when its blended score is
    within ``margin`` (default ``NEXT_BEST_MARGIN``) of the threshold: a second or third code
    the coder should look at. A dict like theirs, or None (no model, or nothing close)."""
    if not has_model:
        return None
    margin = NEXT_BEST_MARGIN if margin is None else margin
    shown, left_out = _combined(rows, coder, has_model, length, blend_threshold, model_threshold)
    threshold = BLEND_THRESHOLD if blend_threshold is None else blend_threshold
    close = [r for r in left_out if r["score"] > 0 and r["score"] >= threshold - margin]
    return close[0] if close else None


def _combined(rows, coder, has_model, length, blend_threshold, model_threshold) -> tuple[list[dict], list[dict]]:
    threshold = BLEND_THRESHOLD if blend_threshold is None else blend_threshold
    model_bar = MODEL_THRESHOLD if model_threshold is None else model_threshold
    lex = {r["code"]: r for r in rows if r["source"] == "lexicon"}
    mod_rows = {r["code"]: r for r in rows if r["source"] == model_source(coder)} if has_model else {}
    mod = {code: r["score"] for code, r in mod_rows.items()}
    shown, left_out = [], []
    for code in dict.fromkeys(list(lex) + list(mod)):
        lx = lex.get(code)
        ls = lx["score"] if lx else 0.0
        ms = mod.get(code, 0.0)
        score = blend({code: ls}, {code: ms}, length=length)[code] if has_model else ls
        sources = [name for name, ok in (("lexicon", ls > 0), ("model", has_model and ms >= model_bar)) if ok]
        row = {"code": code, "score": score, "sources": sources, "lexicon_score": ls,
               "model_score": ms if has_model else None, "level": lx["level"] if lx else None,
               "level_cue": lx["level_cue"] if lx else None, "evidence": lx["evidence"] if lx else [],
               "model_evidence": mod_rows[code].get("evidence") or [] if code in mod_rows else []}
        (left_out if has_model and score < threshold else shown).append(row)
    shown.sort(key=lambda r: -r["score"])
    left_out.sort(key=lambda r: -r["score"])
    return shown, left_out


def usual_levels(store, coder: str) -> dict[str, int]:
    """The level ``coder`` gives each code most often (ties: the lower level), from the
    coder's levelled codings; codes never levelled are absent."""
    from collections import Counter

    counts: dict[str, Counter] = {}
    for r in store.coding_rows(coder):
        if r["level"] is not None:
            counts.setdefault(r["code"], Counter())[r["level"]] += 1
    return {code: min(c, key=lambda lv: (-c[lv], lv)) for code, c in counts.items()}
