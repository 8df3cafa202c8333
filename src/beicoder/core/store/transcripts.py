"""Transcripts, their versions, speaker turns and passages."""

from __future__ import annotations

from dataclasses import dataclass

from .base import StoreError, now
from .search import SearchMixin


@dataclass
class Passage:
    """A passage as the TUI and analysis see it. ``start``/``end`` are character offsets
    into the stored transcript text, and ``text`` is ``transcript_text[start:end]``."""

    id: int
    transcript_id: int
    ordinal: int
    start: int
    end: int
    text: str
    turn_id: int | None


_PASSAGE_COLS = 'id, transcript_id, ordinal, start, "end", text, turn_id'


class TranscriptsMixin(SearchMixin):
    """Transcripts (with versions), turns and passages; every passage stored is indexed for
    search (see :mod:`.search`)."""

    def transcript_by_sha(self, sha256: str) -> dict | None:
        """The transcript imported from a file with this sha256: dict with id, interviewee,
        source_path; None when there is none."""
        rows = self._all("SELECT id, interviewee, source_path FROM transcripts WHERE sha256 = ?", [sha256])
        return rows[0] if rows else None

    def find_transcript(self, sha256: str, text: str) -> dict | None:
        """The first transcript whose sha256 or whose stored text is the given one: dict
        with id and interviewee; None when there is none."""
        rows = self._all("SELECT id, interviewee FROM transcripts WHERE sha256 = ? OR text = ? ORDER BY id LIMIT 1",
                         [sha256, text])
        return rows[0] if rows else None

    def transcripts_of(self, interviewee: str, title: str | None = None) -> list[dict]:
        """The interviewee's transcripts (optionally only those with ``title``): dicts with id,
        title, source_path, in import order."""
        sql = "SELECT id, title, source_path FROM transcripts WHERE interviewee = ?"
        params: list = [interviewee]
        if title is not None:
            sql += " AND title = ?"
            params.append(title)
        return self._all(sql + " ORDER BY id", params)

    def transcript_rows(self) -> list[dict]:
        """Every transcript with its text and interviewee data, sorted by interviewee and id:
        dicts with id, interviewee, title, sha256, text, grp, tenure_years, branch."""
        return self._all(
            """SELECT t.id, t.interviewee, t.title, t.sha256, t.text, i.grp, i.tenure_years, i.branch
               FROM transcripts t LEFT JOIN interviewees i ON i.id = t.interviewee ORDER BY t.interviewee, t.id""")

    def add_transcript(self, parsed, interviewee: str, title: str | None = None) -> int:
        """Store a :class:`~beicoder.core.ingest.ParsedTranscript` for ``interviewee`` in one
        transaction (transcript, turns, passages) and return its id.

        The interviewee row is created when missing. The caller checks for an existing sha256
        first (:meth:`transcript_by_sha`); a duplicate raises StoreError.
        """
        from ..textutil import speech_length

        text = parsed.text
        length = sum(speech_length(text[p.start:p.end]) for p in parsed.passages)
        language = _language_of(text, [(p.start, p.end) for p in parsed.passages])
        with self.write():
            self._run("INSERT OR IGNORE INTO interviewees(id) VALUES (?)", [interviewee])
            cur = self._run(
                """INSERT INTO transcripts(interviewee, title, source_path, sha256, encoding, speaker, text,
                   speech_length, imported_at, language) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [interviewee, title or parsed.path.stem, str(parsed.path), parsed.sha256, parsed.encoding,
                 parsed.interviewee_speaker, text, length, now(), language])
            tid = cur.lastrowid
            turn_ids = self._insert_turns(tid, parsed.turns)
            self._run_many(
                'INSERT INTO passages(transcript_id, turn_id, ordinal, start, "end", text) VALUES (?, ?, ?, ?, ?, ?)',
                [(tid, turn_ids[p.turn_index], n, p.start, p.end, text[p.start:p.end])
                 for n, p in enumerate(parsed.passages, start=1)])
            self._index_rows((r[0], r[1]) for r in self._run(
                "SELECT id, text FROM passages WHERE transcript_id = ?", [tid]).fetchall())
            self._changed("study")  # a new transcript: open screens list it
        return tid

    def _insert_turns(self, transcript_id: int, turns) -> list[int]:
        ids = []
        for i, t in enumerate(turns, start=1):
            cur = self._run(
                'INSERT INTO turns(transcript_id, ordinal, speaker, role, start, "end") VALUES (?, ?, ?, ?, ?, ?)',
                [transcript_id, i, t.speaker, t.role, t.start, t.end])
            ids.append(cur.lastrowid)
        return ids

    def replace_transcript(self, transcript_id: int, parsed) -> dict:
        """Replace a transcript by an edited version (a re-imported file whose bytes changed),
        in one transaction, losing no decision.

        The old text is kept in ``transcript_versions``. Old and new passages are aligned by
        their text (difflib's SequenceMatcher over the two lists of passage texts, then any
        remaining passage whose text occurs once on each side): codings and marks of a
        passage whose text is unchanged move to its new offsets. Decisions on a passage whose
        text changed go to ``review_codings`` with the old passage's text and offsets, for the
        coder to look at again (``beicoder review``); they are never shifted silently. The undo
        history of moved decisions follows them to the new passages; that of the changed
        passages is closed.

        Returns counts: ``version``, ``moved`` (passages whose decisions moved),
        ``review`` (decisions set aside), ``passages`` (new passage count).
        """
        from difflib import SequenceMatcher

        from ..textutil import speech_length

        old = self._all("SELECT * FROM transcripts WHERE id = ?", [transcript_id])[0]
        old_passages = self.passages(transcript_id)
        text = parsed.text
        new_spans = [(p, text[p.start:p.end]) for p in parsed.passages]
        a = [p.text for p in old_passages]
        b = [t for _, t in new_spans]
        mapping: dict[int, int] = {}  # old index -> new index
        for block in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks():
            for k in range(block.size):
                mapping[block.a + k] = block.b + k
        used = set(mapping.values())
        rest_a = [i for i in range(len(a)) if i not in mapping]
        rest_b = [j for j in range(len(b)) if j not in used]
        for i in rest_a:
            same = [j for j in rest_b if b[j] == a[i]]
            if len(same) == 1 and sum(1 for k in rest_a if a[k] == a[i]) == 1:
                mapping[i] = same[0]
                rest_b.remove(same[0])
        stamp = now()
        version = (old.get("version") or 1) + 1
        moved = review = 0
        reason = "passage text changed in the new version"
        with self.write():
            self._run("INSERT INTO transcript_versions(transcript_id, version, sha256, source_path, text, replaced_at) "
                      "VALUES (?, ?, ?, ?, ?, ?)",
                      [transcript_id, version - 1, old["sha256"], old["source_path"], old["text"], stamp])
            self._run("UPDATE passages SET turn_id = NULL WHERE transcript_id = ?", [transcript_id])
            self._run("DELETE FROM turns WHERE transcript_id = ?", [transcript_id])
            turn_ids = self._insert_turns(transcript_id, parsed.turns)
            # park old passages at negative ordinals so the new ones can take 1..n
            self._run("UPDATE passages SET ordinal = -ordinal WHERE transcript_id = ?", [transcript_id])
            new_ids = []
            for n, (p, ptext) in enumerate(new_spans, start=1):
                cur = self._run(
                    'INSERT INTO passages(transcript_id, turn_id, ordinal, start, "end", text) '
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [transcript_id, turn_ids[p.turn_index], n, p.start, p.end, ptext])
                new_ids.append(cur.lastrowid)
            self._index_rows((pid, ptext) for pid, (_, ptext) in zip(new_ids, new_spans))
            for i, op in enumerate(old_passages):
                codings = self._all("SELECT * FROM codings WHERE passage_id = ?", [op.id])
                marks = self._all("SELECT * FROM passage_marks WHERE passage_id = ?", [op.id])
                if i in mapping:
                    target = new_ids[mapping[i]]
                    if codings or marks:
                        moved += 1
                    self._run("UPDATE codings SET passage_id = ? WHERE passage_id = ?", [target, op.id])
                    self._run("UPDATE passage_marks SET passage_id = ? WHERE passage_id = ?", [target, op.id])
                    # the decisions' history follows them, so undo still finds them on the new passage
                    self._run(
                        """UPDATE audit SET passage_id = ?, key = json_set(key, '$.passage_id', ?),
                           before = CASE WHEN before IS NULL THEN NULL ELSE json_set(before, '$.passage_id', ?) END,
                           after = CASE WHEN after IS NULL THEN NULL ELSE json_set(after, '$.passage_id', ?) END
                           WHERE passage_id = ?""", [target, target, target, target, op.id])
                    self._run("UPDATE actions SET passage_id = ? WHERE passage_id = ?", [target, op.id])
                else:
                    for c in codings:
                        review += 1
                        self._run(
                            """INSERT INTO review_codings(transcript_id, version, passage_ordinal, start, "end",
                               passage_text, coder, code, level, decided_at, reason)
                               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                            [transcript_id, version - 1, op.ordinal, op.start, op.end, op.text, c["coder"], c["code"],
                             c["level"], c["updated_at"], reason])
                    for m in marks:
                        review += 1
                        self._run(
                            """INSERT INTO review_codings(transcript_id, version, passage_ordinal, start, "end",
                               passage_text, coder, no_code, memo, decided_at, reason)
                               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                            [transcript_id, version - 1, op.ordinal, op.start, op.end, op.text, m["coder"],
                             m["no_code"], m["memo"], m["updated_at"], reason])
                    self._run("DELETE FROM codings WHERE passage_id = ?", [op.id])
                    self._run("DELETE FROM passage_marks WHERE passage_id = ?", [op.id])
                self._run("DELETE FROM suggestions WHERE passage_id = ?", [op.id])
                self._run("DELETE FROM suggested WHERE passage_id = ?", [op.id])
                self._run("DELETE FROM llm_runs WHERE passage_id = ?", [op.id])
                self._run("UPDATE audit SET undone = 2 WHERE passage_id = ?", [op.id])  # closed: passage gone
                self._run("DELETE FROM passage_search WHERE rowid = ?", [op.id])
                self._run("DELETE FROM passages WHERE id = ?", [op.id])
            self._run(
                """UPDATE transcripts SET text = ?, sha256 = ?, source_path = ?, encoding = ?, speaker = ?,
                   speech_length = ?, imported_at = ?, version = ?, language = ? WHERE id = ?""",
                [text, parsed.sha256, str(parsed.path), parsed.encoding, parsed.interviewee_speaker,
                 sum(speech_length(t) for t in b), stamp, version,
                 _language_of(text, [(p.start, p.end) for p in parsed.passages]), transcript_id])
            self._changed("study")  # passages and decisions moved: open screens read them again
        return {"version": version, "moved": moved, "review": review, "passages": len(new_ids)}

    def review_items(self, coder: str | None = None) -> list[dict]:
        """Decisions set aside for review by :meth:`replace_transcript` and not resolved yet:
        dicts with id, interviewee, transcript_id, version, passage_ordinal, start, end,
        passage_text, coder, code, level, no_code, memo, decided_at, reason."""
        sql = """SELECT r.*, t.interviewee FROM review_codings r JOIN transcripts t ON t.id = r.transcript_id
                 WHERE r.resolved = 0"""
        params: list = []
        if coder:
            sql += " AND r.coder = ?"
            params.append(self.resolve_coder(coder))
        return self._all(sql + " ORDER BY t.interviewee, r.passage_ordinal, r.id", params)

    def review_item(self, item_id: int) -> dict | None:
        """One set-aside decision (as in :meth:`review_items`, resolved ones too), or None."""
        rows = self._all("""SELECT r.*, t.interviewee FROM review_codings r JOIN transcripts t ON t.id = r.transcript_id
                            WHERE r.id = ?""", [item_id])
        return rows[0] if rows else None

    def transcript_languages(self) -> dict[int, str]:
        """Transcript id -> language (``zh-Hans``, ``zh-Hant`` or ``en``: see
        :func:`~beicoder.core.language.detect_language`). A transcript stored before languages
        were (a study made by an older beicoder) has its language detected and stored now."""
        rows = self._all("SELECT id, language FROM transcripts ORDER BY id")
        missing = [r["id"] for r in rows if not r["language"]]
        if missing:
            found = {}
            for tid in missing:
                spans = [(p.start, p.end) for p in self.passages(tid)]
                found[tid] = _language_of(self.transcript_text(tid), spans)
            with self.write():
                self._run_many("UPDATE transcripts SET language = ? WHERE id = ?",
                               [(lang, tid) for tid, lang in found.items()])
            return {r["id"]: r["language"] or found[r["id"]] for r in rows}
        return {r["id"]: r["language"] for r in rows}

    def transcripts(self, coder: str | None = None) -> list[dict]:
        """One dict per transcript: id, interviewee, grp, title, speech_length, n_passages,
        and n_decided: with ``coder``, the passages this coder has coded or marked "no code"
        (without, 0, and nothing is counted)."""
        if not coder:
            return self._all(
                """SELECT t.id, t.interviewee, i.grp, t.title, t.speech_length,
                          (SELECT count(*) FROM passages p WHERE p.transcript_id = t.id) AS n_passages,
                          0 AS n_decided
                   FROM transcripts t LEFT JOIN interviewees i ON i.id = t.interviewee
                   ORDER BY t.interviewee, t.id""")
        coder = self.resolve_coder(coder)
        return self._all(
            """SELECT t.id, t.interviewee, i.grp, t.title, t.speech_length,
                      (SELECT count(*) FROM passages p WHERE p.transcript_id = t.id) AS n_passages,
                      (SELECT count(*) FROM passages p WHERE p.transcript_id = t.id AND (
                          EXISTS (SELECT 1 FROM codings c WHERE c.passage_id = p.id AND c.coder = ?)
                          OR EXISTS (SELECT 1 FROM passage_marks m WHERE m.passage_id = p.id AND m.coder = ?
                                     AND m.no_code = 1))) AS n_decided
               FROM transcripts t LEFT JOIN interviewees i ON i.id = t.interviewee
               ORDER BY t.interviewee, t.id""",
            [coder, coder])

    def transcript_text(self, transcript_id: int) -> str:
        """The stored text of a transcript.

        Raises:
            StoreError: no such transcript."""
        row = self._one("SELECT text FROM transcripts WHERE id = ?", [transcript_id])
        if not row:
            raise StoreError(f"{self.path.name}: no transcript {transcript_id}")
        return row[0]

    def passages(self, transcript_id: int | None = None) -> list[Passage]:
        """Passages of one transcript (or all), in reading order."""
        sql = f"SELECT {_PASSAGE_COLS} FROM passages"
        params: list = []
        if transcript_id is not None:
            sql += " WHERE transcript_id = ?"
            params.append(transcript_id)
        sql += " ORDER BY transcript_id, ordinal"
        return [Passage(*row) for row in self._run(sql, params).fetchall()]

    def passage(self, passage_id: int) -> Passage:
        """One passage by id.

        Raises:
            StoreError: no such passage."""
        row = self._one(f"SELECT {_PASSAGE_COLS} FROM passages WHERE id = ?", [passage_id])
        if row is None:
            raise StoreError(f"{self.path.name}: no passage {passage_id}")
        return Passage(*row)

    def passage_info(self) -> dict[int, dict]:
        """Every passage with its transcript and interviewee, in reading order (interviewee,
        transcript id, ordinal): passage id -> dict with id, transcript_id, ordinal, start,
        end, text, interviewee, title (of the transcript), grp."""
        return {r["id"]: r for r in self._all(
            """SELECT p.id, p.transcript_id, p.ordinal, p.start, p."end", p.text, t.interviewee, t.title, i.grp
               FROM passages p JOIN transcripts t ON t.id = p.transcript_id
               LEFT JOIN interviewees i ON i.id = t.interviewee ORDER BY t.interviewee, t.id, p.ordinal""")}

    def passage_index(self) -> dict[tuple[int, int], int]:
        """(transcript id, passage ordinal) -> passage id, for every passage."""
        return {(r[1], r[2]): r[0] for r in self._run("SELECT id, transcript_id, ordinal FROM passages").fetchall()}

    def passage_transcripts(self) -> dict[int, int]:
        """Passage id -> transcript id, for every passage."""
        return {r[0]: r[1] for r in self._run("SELECT id, transcript_id FROM passages").fetchall()}

    def transcript_of(self, passage_id: int) -> int | None:
        """The transcript id of a passage (None: no such passage)."""
        row = self._one("SELECT transcript_id FROM passages WHERE id = ?", [passage_id])
        return row[0] if row else None

    def decided_in(self, coder: str, transcript_id: int) -> int:
        """The number of the transcript's passages ``coder`` has coded or marked "no code"."""
        coder = self.resolve_coder(coder)
        return self._one(
            """SELECT count(*) FROM passages p WHERE p.transcript_id = ? AND (
                   EXISTS (SELECT 1 FROM codings c WHERE c.passage_id = p.id AND c.coder = ?)
                   OR EXISTS (SELECT 1 FROM passage_marks m WHERE m.passage_id = p.id AND m.coder = ?
                              AND m.no_code = 1))""", [transcript_id, coder, coder])[0]

    def passage_interviewees(self) -> dict[int, str]:
        """Passage id -> interviewee, for every passage."""
        return {r[0]: r[1] for r in self._run(
            "SELECT p.id, t.interviewee FROM passages p JOIN transcripts t ON t.id = p.transcript_id").fetchall()}

    def question_for(self, passage: Passage) -> str:
        """The interviewer's last turn before ``passage``'s turn ('' when there is none)."""
        turn = self.question_turn_for(passage)
        return turn["text"] if turn else ""

    def question_turn_for(self, passage: Passage) -> dict | None:
        """The interviewer's last turn before ``passage``'s turn as ``{"speaker": label as
        written in the transcript (may be ''), "text": its words}``; None when there is none."""
        row = self._one(
            """SELECT q.speaker, substr(tr.text, q.start + 1, q."end" - q.start)
               FROM turns q JOIN turns t ON t.id = ? JOIN transcripts tr ON tr.id = q.transcript_id
               WHERE q.transcript_id = t.transcript_id AND q.ordinal < t.ordinal AND q.role = 'interviewer'
               ORDER BY q.ordinal DESC LIMIT 1""",
            [passage.turn_id])
        return {"speaker": row[0] or "", "text": row[1] or ""} if row else None


def _language_of(text: str, spans: list[tuple[int, int]]) -> str:
    """The language of a transcript: that of its interviewee passages (``spans``), or of its
    whole text when it has none."""
    from ..language import detect_language

    return detect_language("\n".join(text[a:b] for a, b in spans) if spans else text)
