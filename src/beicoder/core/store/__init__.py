"""The study file: one SQLite database holding transcripts, passages, suggestions and codings.

This package is the only part of beicoder that speaks SQL. :class:`Store` opens a study and
offers named methods for everything the product reads and writes; its rooms are

* :mod:`.schema`: the schema and its migrations;
* :mod:`.base`: the connection, transactions, backup, and SQLite errors as :class:`StoreError`;
* :mod:`.study`: the dictionary, codes and interviewees;
* :mod:`.transcripts`: transcripts, versions, turns and passages;
* :mod:`.search`: the passages' search index (FTS5, trigrams) and the queries that find passages;
* :mod:`.coding`: codings, marks and memos, written only through audited actions (undo, redo);
* :mod:`.suggestions`: what the suggesters proposed;
* :mod:`.llm`: the local-LLM suggester's cache, requests and provenance.

Every write is one transaction committed before the call returns, so a coder's decision is
on disk as soon as the TUI shows it. Connections are per thread: open one :class:`Store` in
each thread that needs the study.
"""

from __future__ import annotations

from pathlib import Path

from .base import StoreError, coder_identity, describe_sqlite_error, normalize_coder, now
from .coding import ORIGINS, Action, ActionRecord, CodingMixin
from .llm import LlmMixin
from .schema import SCHEMA_VERSION
from .study import StudyMixin
from .suggestions import SuggestionsMixin
from .transcripts import Passage, TranscriptsMixin

__all__ = ["ORIGINS", "SCHEMA_VERSION", "Action", "ActionRecord", "Passage", "Store", "StoreError",
           "coder_identity", "describe_sqlite_error", "normalize_coder", "now"]


class Store(CodingMixin, SuggestionsMixin, LlmMixin, TranscriptsMixin, StudyMixin):
    """An open study file (SQLite, WAL journal, foreign keys on, 10 s busy timeout); see the
    package docstring for what each part holds.

    ``Store(path, create=True)`` creates the file when missing; ``create=False`` refuses a
    path that is not already a beicoder study.

    Raises:
        StoreError: a folder, a missing file or folder, an empty file, a file that is not a
            beicoder study, or one made by a newer beicoder.
    """

    def __enter__(self) -> Store:
        return self

    def set_dictionary(self, dictionary, drop_codings: bool = False) -> None:  # noqa: D102 - see StudyMixin
        dropped = [c for c, n in self.dropped_codes(dictionary).items() if n] if drop_codings else []
        with self.write():
            self.drop_codings_of_codes(dropped, f"dictionary {Path(str(dictionary.source)).name} drops "
                                                f"{', '.join(dropped)}")
            super().set_dictionary(dictionary, drop_codings)
            self._changed("study")

    set_dictionary.__doc__ = StudyMixin.set_dictionary.__doc__
