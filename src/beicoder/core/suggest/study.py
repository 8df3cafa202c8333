"""Suggestions for a whole study: the lexicon and every coder's saved model over all passages,
and training a coder's model then scoring the study with it (``beicoder suggest`` and
``beicoder train``)."""

from __future__ import annotations

from collections.abc import Callable
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


def _scaled(progress, start: int, share: int, total: int):
    """A ``progress(done, of)`` callback for one step, reporting to ``progress`` on a scale of
    ``total`` the step's ``share`` from ``start`` on."""
    if progress is None:
        return None
    return lambda done, of: progress(start + (share * done // of if of else share), total)


def suggest_everything(store, db_path: str | Path, progress: Callable[[int, int], None] | None = None) -> SuggestRun:
    """Suggest codes for every passage of the study in ``store`` (at ``db_path``) with the
    dictionary's keywords (storing the evidence), then let each coder's saved model score the
    passages it has not seen. A model that cannot be loaded is reported in its
    :class:`ModelRefresh` and does not stop the others. ``progress(done, total)`` is called
    as passages are done (the lexicon's and the models' together).

    Raises:
        BeicoderError: the study has no dictionary.
    """
    from .learned import model_dir, pending_model_passages, refresh_model_suggestions
    from .lexicon import suggest_study

    dictionary = store.dictionary()
    if dictionary is None:
        raise BeicoderError(f"{db_path}: the study has no dictionary; load one with "
                            "'beicoder dictionary FILE.yaml' (the bundled one: dictionary/micro_credit.yaml)")
    ids = [p.id for p in store.passages()]
    coders = store.coders()
    pending = {who: len(pending_model_passages(store, db_path, who, dictionary) or []) for who in coders}
    total = len(ids) + sum(pending.values())
    folded: dict[int, str] = {}  # each passage folded once, for the lexicon and the models
    done = suggest_study(store, dictionary, ids, progress=_scaled(progress, 0, len(ids), total), folded=folded)
    rows, with_any = store.suggestion_counts("lexicon")
    run = SuggestRun(done, rows, with_any)
    start = len(ids)
    for who in coders:
        refresh = ModelRefresh(who, model_dir(db_path, who))
        try:
            refresh.scored = refresh_model_suggestions(store, db_path, who, dictionary,
                                                       progress=_scaled(progress, start, pending[who], total),
                                                       folded=folded)
        except Exception as exc:  # noqa: BLE001 - a damaged model must not stop the others
            refresh.error = str(exc)
        start += pending[who]
        run.models.append(refresh)
    if progress:
        progress(total, total)
    return run


def train_and_score(store, coder: str, db_path: str | Path, dictionary_examples: bool = True,
                    progress: Callable[[int, int], None] | None = None) -> Trained:
    """Train ``coder``'s model on their decisions (and the dictionary's example passages unless
    ``dictionary_examples`` is False), save it beside ``db_path`` and store its suggestions for
    every passage of the study in ``store``. ``progress(done, 100)`` is called as it goes
    (training takes the first 80).

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
    result = train(store, coder, dictionary, db_path, dictionary_examples=dictionary_examples,
                   progress=_scaled(progress, 0, 80, 100))
    model = LearnedSuggester.load(result.path, dictionary)
    scored = store_model_suggestions(store, model, coder, progress=_scaled(progress, 80, 20, 100))
    return Trained(coder, result, scored)
