"""Suggestions: what each suggester (the lexicon, a coder's model) proposed for a passage."""

from __future__ import annotations

import json
from collections.abc import Iterable

from .base import StoreBase, now


class SuggestionsMixin(StoreBase):
    """Suggestion rows per (passage, code, source) and the record of which passages a source
    has scored with which dictionary version."""

    def replace_suggestions(self, source: str, rows: list[dict], passage_ids: Iterable[int],
                            dictionary_sha256: str = "") -> int:
        """Replace the suggestions of ``source`` for ``passage_ids`` by ``rows``: dicts with
        passage_id, code, score (0..1), evidence (list of dicts, stored as JSON) and optionally
        level and level_cue (a suggested level and the cue behind it). The passages
        are recorded as suggested with that dictionary hash, also when they got no suggestion.
        One transaction; returns the number of suggestion rows written."""
        passage_ids = list(passage_ids)
        stamp = now()
        with self.write():
            self._run_many("DELETE FROM suggestions WHERE source = ? AND passage_id = ?",
                           [(source, p) for p in passage_ids])
            self._run_many(
                "INSERT INTO suggestions(passage_id, code, score, evidence, source, created_at, level, level_cue) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(r["passage_id"], r["code"], float(r["score"]), json.dumps(r["evidence"], ensure_ascii=False), source,
                  stamp, r.get("level"), r.get("level_cue") or None) for r in rows])
            self._run_many(
                "INSERT OR REPLACE INTO suggested(passage_id, source, dictionary_sha256, at) VALUES (?, ?, ?, ?)",
                [(p, source, dictionary_sha256, stamp) for p in passage_ids])
        return len(rows)

    def suggestions_for(self, passage_id: int) -> list[dict]:
        """Suggestions of a passage, best first: dicts with code, score, source, level,
        level_cue and evidence (a list of ``{"start", "end", "keyword", "matched", "token"
        [, "negated"]}`` with offsets relative to the passage)."""
        rows = self._all(
            """SELECT s.code, s.score, s.source, s.level, s.level_cue, s.evidence FROM suggestions s
               JOIN codes c ON c.code = s.code
               WHERE s.passage_id = ? ORDER BY s.score DESC, c.position""",
            [passage_id])
        for r in rows:
            r["evidence"] = json.loads(r["evidence"])
        return rows

    def suggestion_counts(self, source: str) -> tuple[int, int]:
        """(suggestion rows, passages with at least one) stored for ``source``."""
        row = self._one("SELECT count(*), count(DISTINCT passage_id) FROM suggestions WHERE source = ?", [source])
        return (row[0], row[1]) if row else (0, 0)

    def passages_needing_suggestions(self, source: str, dictionary_sha256: str) -> list[int]:
        """Ids of passages not yet suggested by ``source`` with this dictionary version, in
        reading order."""
        return [r[0] for r in self._run(
            """SELECT p.id FROM passages p WHERE NOT EXISTS (
                   SELECT 1 FROM suggested s WHERE s.passage_id = p.id AND s.source = ? AND s.dictionary_sha256 = ?)
               ORDER BY p.transcript_id, p.ordinal""", [source, dictionary_sha256]).fetchall()]

    def has_suggestions_from(self, passage_id: int, source: str, dictionary_sha256: str | None = None) -> bool:
        """True when ``source`` has scored the passage (even if it suggested nothing), with
        the dictionary version ``dictionary_sha256`` when one is given."""
        sql = "SELECT 1 FROM suggested WHERE passage_id = ? AND source = ?"
        args: list = [passage_id, source]
        if dictionary_sha256 is not None:
            sql += " AND dictionary_sha256 = ?"
            args.append(dictionary_sha256)
        return self._one(sql, args) is not None
