"""The typed messages thread workers post back to the screen that started them.

A worker (``@work(thread=True)``) never touches a widget or the screen's state: it posts one
of these (``post_message`` is thread-safe) and the screen's handler, on the UI thread,
updates the state and redraws. None of them bubbles past that screen.
"""

from __future__ import annotations

from typing import Any, Literal

from textual.message import Message

from ..core.suggest.learned import ModelInfo


class SuggestionsProgress(Message, bubble=False):
    """The suggestion worker is under way: the lexicon has suggested ``done`` of ``total``
    passages (``stage="lexicon"``), or the coder's saved model is scoring passages it has not
    seen yet (``stage="model"``; ``done`` and ``total`` are 0)."""

    def __init__(self, stage: Literal["lexicon", "model"], done: int = 0, total: int = 0) -> None:
        super().__init__()
        self.stage = stage
        self.done = done
        self.total = total


class SuggestionsReady(Message, bubble=False):
    """Every passage has its suggestions stored (the saved model's too, if any)."""


class SuggestionsFailed(Message, bubble=False):
    """Suggestions could not be made (NLP libraries missing, study locked...): ``error`` is
    the reason in one line; coding goes on without suggestions."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class ModelTrained(Message, bubble=False):
    """The coder's model was trained, saved and has scored every passage; ``info`` is its
    metadata as read back from the study's folder."""

    def __init__(self, info: ModelInfo) -> None:
        super().__init__()
        self.info = info


class TrainingFailed(Message, bubble=False):
    """Training the coder's model failed; ``error`` says why in one line. The model saved
    before, if any, is untouched."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class AnalysisReady(Message, bubble=False):
    """The group comparison of ``coder``'s codings: ``comparison`` (the DataFrame of
    :func:`beicoder.core.analysis.compare_groups`), the number of interviewees and the
    passages decided of all."""

    def __init__(self, coder: str, comparison: Any, interviewees: int, decided: int, passages: int) -> None:
        super().__init__()
        self.coder = coder
        self.comparison = comparison
        self.interviewees = interviewees
        self.decided = decided
        self.passages = passages


class AnalysisFailed(Message, bubble=False):
    """No comparison for ``coder``'s codings; ``error`` says why in one line (too few
    interviewees in a group, no decisions...)."""

    def __init__(self, coder: str, error: str) -> None:
        super().__init__()
        self.coder = coder
        self.error = error


class PassagesFound(Message, bubble=False):
    """The find view's query number ``serial`` ran: ``results`` is the
    :class:`~beicoder.core.retrieval.PassageResults` (a reply to an older query is ignored)."""

    def __init__(self, serial: int, results: Any) -> None:
        super().__init__()
        self.serial = serial
        self.results = results


class FindFailed(Message, bubble=False):
    """The find view's query number ``serial`` could not run; ``error`` says why in one line."""

    def __init__(self, serial: int, error: str) -> None:
        super().__init__()
        self.serial = serial
        self.error = error
