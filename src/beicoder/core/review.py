"""Decisions set aside when a re-imported transcript changed under them (``beicoder review``),
and undoing or redoing a coder's last action whoever made it (``beicoder undo``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import BeicoderError

REVIEW_COLUMNS = ["id", "interviewee", "version", "passage_ordinal", "passage_text", "coder", "code", "level",
                  "no_code", "memo", "decided_at", "reason"]


def apply_review(store, item_id: int, passage_ordinal: int) -> dict:
    """Apply set-aside decision ``item_id`` (its code and level, or "no code", and its memo)
    to passage number ``passage_ordinal`` of its transcript's current version, through the
    audited path (``beicoder undo`` takes it back). Returns the item as resolved (see
    :meth:`~beicoder.core.store.Store.resolve_review`).

    Raises:
        BeicoderError: no such item, or the transcript has no such passage.
        StoreError: the item is resolved already.
    """
    item = store.review_item(item_id)
    if item is None:
        raise BeicoderError(f"{store.path}: no decision set aside with id {item_id}")
    target = next((p.id for p in store.passages(item["transcript_id"]) if p.ordinal == passage_ordinal), None)
    if target is None:
        raise BeicoderError(f"{store.path}: {item['interviewee']}'s transcript has no passage {passage_ordinal}")
    return store.resolve_review(item_id, target)


def dismiss_review(store, item_id: int) -> dict:
    """Mark set-aside decision ``item_id`` settled without applying it (decided again by
    hand). Returns the item as resolved.

    Raises:
        StoreError: no such item, or it is resolved already.
    """
    return store.resolve_review(item_id, None)


def write_review_csv(items: list[dict], path: str | Path) -> Path:
    """Write set-aside decisions (as :meth:`~beicoder.core.store.Store.review_items` gives
    them) to ``path`` as CSV (UTF-8 with BOM, columns :data:`REVIEW_COLUMNS`).

    Raises:
        OutputError: ``path`` may not be written.
    """
    import pandas as pd

    from .export import write_csv

    return write_csv(pd.DataFrame(items, columns=REVIEW_COLUMNS), path)


@dataclass
class Undone:
    """An action undone or redone by :func:`undo_last`: the ``action``
    (:class:`~beicoder.core.store.ActionRecord`) and, when it concerned one passage, that
    passage's ``ordinal`` and ``interviewee``."""

    action: object
    ordinal: int | None = None
    interviewee: str | None = None


def undo_last(store, coder: str, redo: bool = False) -> Undone | None:
    """Undo ``coder``'s last action (``redo``: apply again the one undone last), whatever made
    it: every row it changed goes back to its state before, in one transaction. Returns what
    was done, or None when there was nothing to undo (redo).

    Raises:
        StoreError: the study cannot be written.
    """
    done = store.redo_action(coder) if redo else store.undo_action(coder)
    if done is None:
        return None
    if done.passage_id is None:
        return Undone(done)
    p = store.passage(done.passage_id)
    iv = next(t["interviewee"] for t in store.transcripts() if t["id"] == p.transcript_id)
    return Undone(done, p.ordinal, iv)
