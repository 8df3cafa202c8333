"""Finding passages: by text (SQLite FTS5 with the trigram tokenizer over each passage's
folded text), by code, group, coder and level, undecided or suggested.

``passage_search`` holds, for every passage (rowid = passage id), its text in the form search
compares (:func:`beicoder.core.textutil.search_form`: Simplified, full-width folded, lower
case; same length as the text). Folding needs OpenCC, so rows are written from Python: by
:meth:`TranscriptsMixin.add_transcript` and ``replace_transcript`` as passages are stored, and
by :meth:`SearchMixin.index_passages` for any passage still missing (a study made before
schema 7); rows of deleted passages are deleted with them.

A term of three characters or more is an FTS5 phrase query (trigram index); a shorter one
(一两个汉字) is a substring scan of the folded texts (``LIKE``), which trigrams cannot serve.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .base import StoreBase

TRIGRAM = 3  # terms at least this long use the FTS5 index


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


class SearchMixin(StoreBase):
    """The search index of passage texts and the queries that find passages."""

    # -- the index ------------------------------------------------------------------------------
    def _index_rows(self, rows: Iterable[tuple[int, str]]) -> None:
        """Write the folded text of passages ``(id, text)`` into the index (inside a write)."""
        from ..textutil import search_form

        rows = [(pid, search_form(text)) for pid, text in rows]
        self._run_many("DELETE FROM passage_search WHERE rowid = ?", [(pid,) for pid, _ in rows])
        self._run_many("INSERT INTO passage_search(rowid, folded) VALUES (?, ?)", rows)

    def index_passages(self) -> int:
        """Index every passage not in the search index yet, and drop rows of passages that no
        longer exist, in one transaction. Returns the number of passages indexed (0 when the
        index was complete: then nothing is written)."""
        missing = self._all("SELECT id, text FROM passages WHERE id NOT IN (SELECT rowid FROM passage_search)")
        stale = self._one("SELECT count(*) FROM passage_search WHERE rowid NOT IN (SELECT id FROM passages)")[0]
        if not missing and not stale:
            return 0
        with self.write():
            if stale:
                self._run("DELETE FROM passage_search WHERE rowid NOT IN (SELECT id FROM passages)")
            self._index_rows((r["id"], r["text"]) for r in missing)
        return len(missing)

    # -- queries --------------------------------------------------------------------------------
    def passage_hits(self, *, code: str | None = None, coder: str | None = None, group: str | None = None,
                     level: int | None = None, terms: Sequence[str] = (), undecided_by: str | None = None,
                     suggested_for: str | None = None) -> list[dict]:
        """Passages that pass every filter given, in reading order (interviewee, transcript,
        passage number).

        - ``code``: passages carrying the code, one row per coding (per coder), with its
          ``coder``, ``level`` and that coder's ``memo``; only ``coder``'s codings when given,
          only those at ``level`` when given;
        - otherwise one row per passage; ``coder`` then names whose ``memo`` is returned;
        - ``group``: the interviewee's group; ``terms``: folded search terms
          (:func:`~beicoder.core.textutil.search_form`), each found in the passage;
        - ``undecided_by``: passages that coder has neither coded nor marked "no code";
        - ``suggested_for``: passages with a stored suggestion from the lexicon or from that
          coder's model (the caller decides which of them the coder is shown).

        Returns dicts with passage_id, transcript_id, interviewee, title, grp, ordinal, text,
        coder, code, level, memo. Call :meth:`index_passages` first when ``terms`` are given.
        """
        params: list = []
        if code is not None:
            sql = """SELECT p.id AS passage_id, p.transcript_id, t.interviewee, t.title, i.grp, p.ordinal, p.text,
                            c.coder, c.code, c.level, m.memo
                     FROM codings c JOIN passages p ON p.id = c.passage_id
                     JOIN transcripts t ON t.id = p.transcript_id LEFT JOIN interviewees i ON i.id = t.interviewee
                     LEFT JOIN passage_marks m ON m.passage_id = c.passage_id AND m.coder = c.coder
                     WHERE c.code = ?"""
            params.append(code)
            if coder is not None:
                sql += " AND c.coder = ?"
                params.append(self.resolve_coder(coder))
            if level is not None:
                sql += " AND c.level = ?"
                params.append(level)
        else:
            sql = """SELECT p.id AS passage_id, p.transcript_id, t.interviewee, t.title, i.grp, p.ordinal, p.text,
                            ? AS coder, NULL AS code, NULL AS level, m.memo
                     FROM passages p JOIN transcripts t ON t.id = p.transcript_id
                     LEFT JOIN interviewees i ON i.id = t.interviewee
                     LEFT JOIN passage_marks m ON m.passage_id = p.id AND m.coder = ?
                     WHERE 1"""
            who = self.resolve_coder(coder) if coder else None
            params += [who, who]
        if group is not None:
            sql += " AND i.grp = ?"
            params.append(group)
        long_terms = [t for t in terms if len(t) >= TRIGRAM]
        short_terms = [t for t in terms if t and len(t) < TRIGRAM]
        if long_terms:
            sql += " AND p.id IN (SELECT rowid FROM passage_search WHERE passage_search MATCH ?)"
            params.append(" AND ".join(_phrase(t) for t in long_terms))
        for term in short_terms:
            sql += " AND p.id IN (SELECT rowid FROM passage_search WHERE folded LIKE ? ESCAPE '\\')"
            params.append(_like_pattern(term))
        if undecided_by is not None:
            who = self.resolve_coder(undecided_by)
            sql += """ AND NOT EXISTS (SELECT 1 FROM codings d WHERE d.passage_id = p.id AND d.coder = ?)
                       AND NOT EXISTS (SELECT 1 FROM passage_marks n WHERE n.passage_id = p.id AND n.coder = ?
                                       AND n.no_code = 1)"""
            params += [who, who]
        if suggested_for is not None:
            sql += """ AND EXISTS (SELECT 1 FROM suggestions s WHERE s.passage_id = p.id
                                   AND s.source IN ('lexicon', ?))"""
            params.append(f"model:{self.resolve_coder(suggested_for)}")
        sql += " ORDER BY t.interviewee, t.id, p.ordinal"
        if code is not None:
            sql += ", c.coder"
        return self._all(sql, params)

    def codes_of_passages(self, passage_ids: Sequence[int], coder: str | None = None) -> dict[int, list[dict]]:
        """The codings of ``passage_ids`` (``coder``'s, or everyone's), in dictionary order:
        passage id -> list of dicts with coder, code, level."""
        out: dict[int, list[dict]] = {}
        ids = list(passage_ids)
        for k in range(0, len(ids), 500):
            chunk = ids[k:k + 500]
            sql = (f"""SELECT c.passage_id, c.coder, c.code, c.level FROM codings c JOIN codes k ON k.code = c.code
                       WHERE c.passage_id IN ({', '.join('?' for _ in chunk)})""")
            params: list = list(chunk)
            if coder is not None:
                sql += " AND c.coder = ?"
                params.append(self.resolve_coder(coder))
            for r in self._all(sql + " ORDER BY c.passage_id, k.position, c.coder", params):
                out.setdefault(r.pop("passage_id"), []).append(r)
        return out

    def suggestion_scores(self, passage_ids: Sequence[int], sources: Sequence[str]) -> dict[int, list[dict]]:
        """The stored suggestion rows of ``passage_ids`` from ``sources``, without their
        evidence: passage id -> list of dicts with code, score, source."""
        out: dict[int, list[dict]] = {}
        ids = list(passage_ids)
        for k in range(0, len(ids), 500):
            chunk = ids[k:k + 500]
            rows = self._all(
                f"""SELECT passage_id, code, score, source FROM suggestions
                    WHERE passage_id IN ({', '.join('?' for _ in chunk)})
                    AND source IN ({', '.join('?' for _ in sources)})""", [*chunk, *sources])
            for r in rows:
                out.setdefault(r.pop("passage_id"), []).append(r)
        return out

    def scored_passages(self, source: str, dictionary_sha256: str) -> set[int]:
        """Ids of the passages ``source`` has scored with that dictionary version."""
        return {r[0] for r in self._run("SELECT passage_id FROM suggested WHERE source = ? AND dictionary_sha256 = ?",
                                        [source, dictionary_sha256]).fetchall()}
