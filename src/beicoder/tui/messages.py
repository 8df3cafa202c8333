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


class LlmNotice(Message, bubble=False):
    """The local LLM is about to be sent passages for the first time from this study: ``text``
    says what is sent and where."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class LlmProgress(Message, bubble=False):
    """The local LLM has coded ``done`` of ``total`` passages (``failed`` of them failed);
    ``passage_id`` is the passage just stored."""

    def __init__(self, done: int, total: int, failed: int, passage_id: int | None) -> None:
        super().__init__()
        self.done = done
        self.total = total
        self.failed = failed
        self.passage_id = passage_id


class LlmReady(Message, bubble=False):
    """The local LLM has coded every passage it had not coded: ``summary`` in one line,
    ``failed`` passages left for the next run."""

    def __init__(self, summary: str, failed: int) -> None:
        super().__init__()
        self.summary = summary
        self.failed = failed


class LlmFailed(Message, bubble=False):
    """The local LLM cannot be used this time (host refused, server unreachable, model
    unknown, openai not installed): ``error`` in one line; coding goes on without it."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class DiscoveryReady(Message, bubble=False):
    """The discovery for ``coder`` is ready: ``result`` (a
    :class:`~beicoder.core.discover.Discovery`), ``info`` (passage id -> dict of
    ``Store.passage_info``), and whether it was computed now (``fresh``, and saved beside the
    study) or read from the last one saved."""

    def __init__(self, coder: str, result: Any, info: dict, fresh: bool) -> None:
        super().__init__()
        self.coder = coder
        self.result = result
        self.info = info
        self.fresh = fresh


class DiscoveryFailed(Message, bubble=False):
    """No discovery for ``coder``; ``error`` says why in one line (a group without
    interviewees, a study file that cannot be read...)."""

    def __init__(self, coder: str, error: str) -> None:
        super().__init__()
        self.coder = coder
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
