"""Suggestions for a whole study: the lexicon and every coder's saved model over all passages,
and training a coder's model then scoring the study with it (``beicoder suggest`` and
``beicoder train``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .. import BeicoderError


@dataclass
class ModelRefresh:
    """One coder's saved model in :func:`suggest_everything`: ``scored`` passages it had not
    seen (0: none missing; None: no model, or one trained with another version of the
    dictionary), ``error`` why a model that exists could not be loaded (empty otherwise)."""

    coder: str
    path: Path
    scored: int | None = None
    error: str = ""

    @property
    def outdated(self) -> bool:
        """The coder has a model, trained with another version of the dictionary."""
        return self.scored is None and not self.error and self.path.exists()


@dataclass
class SuggestRun:
    """What :func:`suggest_everything` did: ``passages`` suggested by the lexicon, the
    lexicon's ``suggestions`` stored in the study and the ``passages_with`` at least one, and
    one :class:`ModelRefresh` per coder."""

    passages: int
    suggestions: int
    passages_with: int
    models: list[ModelRefresh] = field(default_factory=list)


@dataclass
class Trained:
    """What :func:`train_and_score` did: the saved model (``result``:
    :class:`~beicoder.core.suggest.learned.TrainResult`, its path and metadata), the
    normalised ``coder`` and the passages ``scored`` with it."""

    coder: str
    result: object
    scored: int


def suggest_everything(store, db_path: str | Path) -> SuggestRun:
    """Suggest codes for every passage of the study in ``store`` (at ``db_path``) with the
    dictionary's keywords (storing the evidence), then let each coder's saved model score the
    passages it has not seen. A model that cannot be loaded is reported in its
    :class:`ModelRefresh` and does not stop the others.

    Raises:
        BeicoderError: the study has no dictionary.
    """
    from .learned import model_dir, refresh_model_suggestions
    from .lexicon import suggest_study

    dictionary = store.dictionary()
    if dictionary is None:
        raise BeicoderError(f"{db_path}: the study has no dictionary; load one with "
                            "'beicoder dictionary FILE.yaml' (the bundled one: dictionary/micro_credit.yaml)")
    done = suggest_study(store, dictionary, [p.id for p in store.passages()])
    rows, with_any = store.suggestion_counts("lexicon")
    run = SuggestRun(done, rows, with_any)
    for who in store.coders():
        refresh = ModelRefresh(who, model_dir(db_path, who))
        try:
            refresh.scored = refresh_model_suggestions(store, db_path, who, dictionary)
        except Exception as exc:  # noqa: BLE001 - a damaged model must not stop the others
            refresh.error = str(exc)
        run.models.append(refresh)
    return run


def train_and_score(store, coder: str, db_path: str | Path, dictionary_examples: bool = True) -> Trained:
    """Train ``coder``'s model on their decisions (and the dictionary's example passages unless
    ``dictionary_examples`` is False), save it beside ``db_path`` and store its suggestions for
    every passage of the study in ``store``.

    Raises:
        ModelError: too few decided passages, or none with a code.
        BeicoderError: the study has no dictionary.
    """
    from .learned import LearnedSuggester, store_model_suggestions, train

    dictionary = store.dictionary()
    if dictionary is None:
        raise BeicoderError(f"{db_path}: the study has no dictionary; load one with "
                            "'beicoder dictionary FILE.yaml' (the bundled one: dictionary/micro_credit.yaml)")
    coder = store.resolve_coder(coder)
    result = train(store, coder, dictionary, db_path, dictionary_examples=dictionary_examples)
    model = LearnedSuggester.load(result.path, dictionary)
    return Trained(coder, result, store_model_suggestions(store, model, coder))
