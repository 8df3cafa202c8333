"""The study file: one SQLite database holding transcripts, passages, suggestions and codings.

Every write is one transaction (``Database.atomic``), committed before the call returns, so
a coder's decision is on disk as soon as the TUI shows it. Coding actions write an audit trail
(``audit``: one row per changed row, with its state before and after, grouped by action) from
which :meth:`Store.undo` restores the state before a coder's last action.

Connections are per thread: open one :class:`Store` in each thread that needs the study.
"""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from . import BeicoderError

SCHEMA_VERSION = 4

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS dictionary (
    id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT, source TEXT, sha256 TEXT, yaml TEXT, loaded_at TEXT);
CREATE TABLE IF NOT EXISTS codes (
    code TEXT PRIMARY KEY, position INTEGER, name_zh TEXT, name_en TEXT,
    definition_zh TEXT, definition_en TEXT, min_level INTEGER, max_level INTEGER);
CREATE TABLE IF NOT EXISTS interviewees (
    id TEXT PRIMARY KEY, grp TEXT, tenure_years REAL, branch TEXT, extra TEXT);
CREATE TABLE IF NOT EXISTS transcripts (
    id INTEGER PRIMARY KEY, interviewee TEXT NOT NULL REFERENCES interviewees(id), title TEXT,
    source_path TEXT, sha256 TEXT NOT NULL UNIQUE, encoding TEXT, speaker TEXT, text TEXT NOT NULL,
    speech_length INTEGER, imported_at TEXT, version INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS transcript_versions (
    transcript_id INTEGER NOT NULL REFERENCES transcripts(id), version INTEGER NOT NULL, sha256 TEXT,
    source_path TEXT, text TEXT NOT NULL, replaced_at TEXT, PRIMARY KEY (transcript_id, version));
CREATE TABLE IF NOT EXISTS review_codings (
    id INTEGER PRIMARY KEY, transcript_id INTEGER NOT NULL REFERENCES transcripts(id), version INTEGER NOT NULL,
    passage_ordinal INTEGER, start INTEGER, "end" INTEGER, passage_text TEXT, coder TEXT NOT NULL, code TEXT,
    level INTEGER, no_code INTEGER NOT NULL DEFAULT 0, memo TEXT, decided_at TEXT, reason TEXT,
    resolved INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY, transcript_id INTEGER NOT NULL REFERENCES transcripts(id),
    ordinal INTEGER, speaker TEXT, role TEXT, start INTEGER, "end" INTEGER);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY, transcript_id INTEGER NOT NULL REFERENCES transcripts(id),
    turn_id INTEGER REFERENCES turns(id), ordinal INTEGER NOT NULL, start INTEGER NOT NULL,
    "end" INTEGER NOT NULL, text TEXT NOT NULL, UNIQUE (transcript_id, ordinal));
CREATE TABLE IF NOT EXISTS suggestions (
    passage_id INTEGER NOT NULL REFERENCES passages(id), code TEXT NOT NULL REFERENCES codes(code),
    score REAL NOT NULL, evidence TEXT NOT NULL, source TEXT NOT NULL, created_at TEXT,
    level INTEGER, level_cue TEXT, PRIMARY KEY (passage_id, code, source));
CREATE TABLE IF NOT EXISTS suggested (
    passage_id INTEGER NOT NULL REFERENCES passages(id), source TEXT NOT NULL, dictionary_sha256 TEXT,
    at TEXT, PRIMARY KEY (passage_id, source));
CREATE TABLE IF NOT EXISTS coders (name TEXT PRIMARY KEY, created_at TEXT);
CREATE TABLE IF NOT EXISTS codings (
    passage_id INTEGER NOT NULL REFERENCES passages(id), coder TEXT NOT NULL REFERENCES coders(name),
    code TEXT NOT NULL REFERENCES codes(code), level INTEGER, origin TEXT,
    created_at TEXT, updated_at TEXT, decided_by TEXT, PRIMARY KEY (passage_id, coder, code));
CREATE TABLE IF NOT EXISTS passage_marks (
    passage_id INTEGER NOT NULL REFERENCES passages(id), coder TEXT NOT NULL REFERENCES coders(name),
    no_code INTEGER NOT NULL DEFAULT 0, memo TEXT, updated_at TEXT, decided_by TEXT,
    PRIMARY KEY (passage_id, coder));
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY, action INTEGER NOT NULL, coder TEXT NOT NULL, at TEXT NOT NULL,
    description TEXT, tbl TEXT NOT NULL, key TEXT NOT NULL, before TEXT, after TEXT,
    undone INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS idx_passages_transcript ON passages(transcript_id, ordinal);
CREATE INDEX IF NOT EXISTS idx_turns_transcript ON turns(transcript_id, ordinal);
CREATE INDEX IF NOT EXISTS idx_codings_coder ON codings(coder, passage_id);
CREATE INDEX IF NOT EXISTS idx_audit_coder ON audit(coder, action);
"""

# Upgrades of an existing study, by the schema version they lead to. A new study gets SCHEMA.
MIGRATIONS = {
    2: ["ALTER TABLE suggestions ADD COLUMN level INTEGER", "ALTER TABLE suggestions ADD COLUMN level_cue TEXT"],
    # who made a decision recorded under another coder's name (a consensus coding)
    3: ["ALTER TABLE codings ADD COLUMN decided_by TEXT", "ALTER TABLE passage_marks ADD COLUMN decided_by TEXT"],
    # versions of re-imported transcripts, and decisions set aside for review when their passage changed
    4: ["ALTER TABLE transcripts ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
        """CREATE TABLE transcript_versions (transcript_id INTEGER NOT NULL REFERENCES transcripts(id),
           version INTEGER NOT NULL, sha256 TEXT, source_path TEXT, text TEXT NOT NULL, replaced_at TEXT,
           PRIMARY KEY (transcript_id, version))""",
        """CREATE TABLE review_codings (id INTEGER PRIMARY KEY, transcript_id INTEGER NOT NULL REFERENCES transcripts(id),
           version INTEGER NOT NULL, passage_ordinal INTEGER, start INTEGER, "end" INTEGER, passage_text TEXT,
           coder TEXT NOT NULL, code TEXT, level INTEGER, no_code INTEGER NOT NULL DEFAULT 0, memo TEXT,
           decided_at TEXT, reason TEXT, resolved INTEGER NOT NULL DEFAULT 0)"""],
}

_KEYS = {"codings": ("passage_id", "coder", "code"), "passage_marks": ("passage_id", "coder")}


class StoreError(BeicoderError):
    """A study file that cannot be used or an operation it refuses; one line."""


def now() -> str:
    """The current time in UTC, ISO 8601 with milliseconds."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def normalize_coder(name: str) -> str:
    """A coder's name as stored: trimmed and NFC-normalised, case kept.

    Raises:
        StoreError: an empty name.
    """
    norm = unicodedata.normalize("NFC", (name or "").strip())
    if not norm:
        raise StoreError("coder name is empty")
    return norm


@dataclass
class Passage:
    """A passage as the TUI and analysis see it. ``start``/``end`` are character offsets."""

    id: int
    transcript_id: int
    ordinal: int
    start: int
    end: int
    text: str
    turn_id: int | None


class Store:
    """An open study file (SQLite, WAL journal, foreign keys on, 10 s busy timeout)."""

    def __init__(self, path: str | Path, create: bool = True):
        import sqlite_utils  # lazy

        self.path = Path(path)
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a folder, not a study file")
        if not self.path.exists():
            if not create:
                raise StoreError(f"{self.path}: no such study file (run 'beicoder import' first)")
            if not self.path.parent.is_dir():
                raise StoreError(f"{self.path}: folder {self.path.parent} does not exist")
        elif self.path.stat().st_size == 0 and not create:
            raise StoreError(f"{self.path}: empty file, not a beicoder study file")
        try:
            conn = sqlite3.connect(str(self.path), timeout=10, isolation_level=None)
            conn.execute("PRAGMA busy_timeout = 10000")
            conn.execute("PRAGMA foreign_keys = ON")
            self.db = sqlite_utils.Database(conn)
            self._migrate(create)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a beicoder study file ({exc})") from None

    # -- schema -----------------------------------------------------------------------------
    def _migrate(self, create: bool) -> None:
        """Create the schema in a new file, or check (and upgrade) an existing study.

        Raises StoreError for a file that is not a beicoder study (other tables, or an empty
        database when ``create`` is False) and for one made by a newer beicoder."""
        tables = set(self.db.table_names())
        version = 0
        if "meta" in tables:
            row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: made by a newer beicoder (schema {version}, this one knows {SCHEMA_VERSION}); upgrade beicoder"
                )
        elif tables:
            raise StoreError(f"{self.path}: not a beicoder study file (it has other tables)")
        elif not create:
            raise StoreError(f"{self.path}: empty database, not a beicoder study file")
        if version == SCHEMA_VERSION:
            return
        with self.write():
            if version == 0:
                for stmt in SCHEMA.split(";"):
                    if stmt.strip():
                        self.db.execute(stmt)
            else:
                for target in range(version + 1, SCHEMA_VERSION + 1):
                    for stmt in MIGRATIONS.get(target, []):
                        self.db.execute(stmt)
            self.db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
            )

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def write(self):
        """One write transaction, begun IMMEDIATE so that the write lock is taken at the
        start: a deferred transaction that reads first and then writes fails at once when
        another coder's session wrote in between, busy timeout or not. Nested use becomes a
        savepoint. Commits on success, rolls back on any exception."""
        conn = self.db.conn
        if conn.in_transaction:
            with self.db.atomic():
                yield self
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def backup(self, target: str | Path) -> Path:
        """A consistent copy of the study at ``target``, made with SQLite's online backup API
        (safe while other sessions are coding); written to a temporary name and renamed.

        Raises:
            StoreError: ``target`` exists or its folder does not.
        """
        target = Path(target)
        if target.exists():
            raise StoreError(f"{target}: exists; choose a new file name for the backup")
        if not target.parent.is_dir():
            raise StoreError(f"{target}: folder {target.parent} does not exist")
        tmp = target.with_name(target.name + ".partial")
        tmp.unlink(missing_ok=True)
        dest = sqlite3.connect(str(tmp))
        try:
            self.db.conn.backup(dest)
            dest.execute("PRAGMA journal_mode = DELETE")
        finally:
            dest.close()
        tmp.replace(target)
        return target

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[dict]:
        """Run a read query and return its rows as dicts."""
        return list(self.db.query(sql, list(params)))

    # -- dictionary -------------------------------------------------------------------------
    def dropped_codes(self, dictionary) -> dict[str, int]:
        """Codes of the study that ``dictionary`` no longer has, with their number of codings."""
        new_codes = set(dictionary.codes)
        return {r["code"]: r["n"] for r in self.query(
            """SELECT k.code, (SELECT count(*) FROM codings c WHERE c.code = k.code) AS n FROM codes k
               ORDER BY k.position""") if r["code"] not in new_codes}

    def set_dictionary(self, dictionary, drop_codings: bool = False) -> None:
        """Store ``dictionary`` (a :class:`~beicoder.core.dictionary.Dictionary`) in the study,
        in one transaction.

        Codes are upserted by their key, so renaming a code's label keeps its codings. A code
        the new dictionary drops takes its codings with it only when ``drop_codings`` is True
        (the caller asked the user first; see :meth:`dropped_codes`).

        Raises:
            StoreError: the new dictionary drops a code that still has codings and
                ``drop_codings`` is False.
        """
        new_codes = set(dictionary.codes)
        missing = sorted(c for c, n in self.dropped_codes(dictionary).items() if n)
        if missing and not drop_codings:
            raise StoreError(
                f"{dictionary.source}: drops code(s) {', '.join(missing)} that have codings in {self.path.name}"
            )
        with self.write():
            for code in missing:
                self.db.execute("DELETE FROM codings WHERE code = ?", [code])
            self.db.execute(
                "INSERT OR REPLACE INTO dictionary(id, name, source, sha256, yaml, loaded_at) VALUES (1, ?, ?, ?, ?, ?)",
                [dictionary.name, str(dictionary.source), dictionary.sha256, dictionary.yaml_text, now()],
            )
            stale = self.query("SELECT code FROM codes")
            for row in stale:
                if row["code"] not in new_codes:
                    self.db.execute("DELETE FROM suggestions WHERE code = ?", [row["code"]])
                    self.db.execute("DELETE FROM codes WHERE code = ?", [row["code"]])
            for pos, c in enumerate(dictionary.competencies, start=1):
                self.db.execute(
                    """INSERT INTO codes(code, position, name_zh, name_en, definition_zh, definition_en, min_level, max_level)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT(code) DO UPDATE SET position=excluded.position, name_zh=excluded.name_zh,
                       name_en=excluded.name_en, definition_zh=excluded.definition_zh,
                       definition_en=excluded.definition_en, min_level=excluded.min_level, max_level=excluded.max_level""",
                    [c.code, pos, c.name_zh, c.name_en, c.definition_zh, c.definition_en, c.min_level, c.max_level],
                )

    def dictionary(self):
        """The study's dictionary, parsed again from the YAML stored in it, or None."""
        from .dictionary import parse_dictionary

        row = self.db.execute("SELECT yaml, source FROM dictionary WHERE id = 1").fetchone()
        return parse_dictionary(row[0], row[1]) if row else None

    def codes(self) -> list[dict]:
        """The study's codes in dictionary order: dicts with code, name_zh, name_en, min_level, max_level."""
        return self.query("SELECT * FROM codes ORDER BY position")

    # -- interviewees and transcripts -------------------------------------------------------
    def upsert_interviewees(self, rows: Iterable[dict]) -> int:
        """Insert or update interviewees: dicts with ``id`` and optional ``grp``, ``tenure_years``,
        ``branch``, ``extra`` (JSON text). Returns the number of rows written."""
        rows = list(rows)
        with self.write():
            for r in rows:
                self.db.execute(
                    """INSERT INTO interviewees(id, grp, tenure_years, branch, extra) VALUES (?, ?, ?, ?, ?)
                       ON CONFLICT(id) DO UPDATE SET grp=coalesce(excluded.grp, grp),
                       tenure_years=coalesce(excluded.tenure_years, tenure_years),
                       branch=coalesce(excluded.branch, branch), extra=coalesce(excluded.extra, extra)""",
                    [r["id"], r.get("grp"), r.get("tenure_years"), r.get("branch"), r.get("extra")],
                )
        return len(rows)

    def transcript_by_sha(self, sha256: str) -> dict | None:
        rows = self.query("SELECT id, interviewee, source_path FROM transcripts WHERE sha256 = ?", [sha256])
        return rows[0] if rows else None

    def add_transcript(self, parsed, interviewee: str, title: str | None = None) -> int:
        """Store a :class:`~beicoder.core.ingest.ParsedTranscript` for ``interviewee`` in one
        transaction (transcript, turns, passages) and return its id.

        The interviewee row is created when missing. The caller checks for an existing sha256
        first (:meth:`transcript_by_sha`); a duplicate raises ``sqlite3.IntegrityError``.
        """
        from .textutil import speech_length

        text = parsed.text
        length = sum(speech_length(text[p.start:p.end]) for p in parsed.passages)
        with self.write():
            self.db.execute("INSERT OR IGNORE INTO interviewees(id) VALUES (?)", [interviewee])
            cur = self.db.execute(
                """INSERT INTO transcripts(interviewee, title, source_path, sha256, encoding, speaker, text,
                   speech_length, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [interviewee, title or parsed.path.stem, str(parsed.path), parsed.sha256, parsed.encoding,
                 parsed.interviewee_speaker, text, length, now()],
            )
            tid = cur.lastrowid
            turn_ids = []
            for i, t in enumerate(parsed.turns, start=1):
                c = self.db.execute(
                    'INSERT INTO turns(transcript_id, ordinal, speaker, role, start, "end") VALUES (?, ?, ?, ?, ?, ?)',
                    [tid, i, t.speaker, t.role, t.start, t.end],
                )
                turn_ids.append(c.lastrowid)
            self.db.conn.executemany(
                'INSERT INTO passages(transcript_id, turn_id, ordinal, start, "end", text) VALUES (?, ?, ?, ?, ?, ?)',
                [(tid, turn_ids[p.turn_index], n, p.start, p.end, text[p.start:p.end])
                 for n, p in enumerate(parsed.passages, start=1)],
            )
        return tid

    def replace_transcript(self, transcript_id: int, parsed) -> dict:
        """Replace a transcript by an edited version (a re-imported file whose bytes changed),
        in one transaction, losing no decision.

        The old text is kept in ``transcript_versions``. Old and new passages are aligned by
        their text (difflib's SequenceMatcher over the two lists of passage texts, then any
        remaining passage whose text occurs once on each side): codings and marks of a
        passage whose text is unchanged move to its new offsets. Decisions on a passage whose
        text changed go to ``review_codings`` with the old passage's text and offsets, for the
        coder to look at again (``beicoder review``); they are never shifted silently. Undo
        history of the old passages is closed.

        Returns counts: ``version``, ``moved`` (passages whose decisions moved),
        ``review`` (decisions set aside), ``passages`` (new passage count).
        """
        from difflib import SequenceMatcher

        from .textutil import speech_length

        old = self.query("SELECT * FROM transcripts WHERE id = ?", [transcript_id])[0]
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
        with self.write():
            self.db.execute(
                "INSERT INTO transcript_versions(transcript_id, version, sha256, source_path, text, replaced_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [transcript_id, version - 1, old["sha256"], old["source_path"], old["text"], stamp])
            turn_ids = []
            self.db.execute("UPDATE passages SET turn_id = NULL WHERE transcript_id = ?", [transcript_id])
            self.db.execute("DELETE FROM turns WHERE transcript_id = ?", [transcript_id])
            for i, t in enumerate(parsed.turns, start=1):
                c = self.db.execute(
                    'INSERT INTO turns(transcript_id, ordinal, speaker, role, start, "end") VALUES (?, ?, ?, ?, ?, ?)',
                    [transcript_id, i, t.speaker, t.role, t.start, t.end])
                turn_ids.append(c.lastrowid)
            # park old passages at negative ordinals so the new ones can take 1..n
            self.db.execute("UPDATE passages SET ordinal = -ordinal WHERE transcript_id = ?", [transcript_id])
            new_ids = []
            for n, (p, ptext) in enumerate(new_spans, start=1):
                c = self.db.execute(
                    'INSERT INTO passages(transcript_id, turn_id, ordinal, start, "end", text) VALUES (?, ?, ?, ?, ?, ?)',
                    [transcript_id, turn_ids[p.turn_index], n, p.start, p.end, ptext])
                new_ids.append(c.lastrowid)
            for i, op in enumerate(old_passages):
                codings = self.query("SELECT * FROM codings WHERE passage_id = ?", [op.id])
                marks = self.query("SELECT * FROM passage_marks WHERE passage_id = ?", [op.id])
                if i in mapping:
                    target = new_ids[mapping[i]]
                    if codings or marks:
                        moved += 1
                    self.db.execute("UPDATE codings SET passage_id = ? WHERE passage_id = ?", [target, op.id])
                    self.db.execute("UPDATE passage_marks SET passage_id = ? WHERE passage_id = ?", [target, op.id])
                else:
                    for c in codings:
                        review += 1
                        self.db.execute(
                            """INSERT INTO review_codings(transcript_id, version, passage_ordinal, start, "end",
                               passage_text, coder, code, level, decided_at, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                            [transcript_id, version - 1, op.ordinal, op.start, op.end, op.text, c["coder"], c["code"],
                             c["level"], c["updated_at"], "passage text changed in the new version"])
                    for m in marks:
                        review += 1
                        self.db.execute(
                            """INSERT INTO review_codings(transcript_id, version, passage_ordinal, start, "end",
                               passage_text, coder, no_code, memo, decided_at, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                            [transcript_id, version - 1, op.ordinal, op.start, op.end, op.text, m["coder"], m["no_code"],
                             m["memo"], m["updated_at"], "passage text changed in the new version"])
                    self.db.execute("DELETE FROM codings WHERE passage_id = ?", [op.id])
                    self.db.execute("DELETE FROM passage_marks WHERE passage_id = ?", [op.id])
                self.db.execute("DELETE FROM suggestions WHERE passage_id = ?", [op.id])
                self.db.execute("DELETE FROM suggested WHERE passage_id = ?", [op.id])
                self.db.execute(
                    "UPDATE audit SET undone = 1 WHERE undone = 0 AND json_extract(key, '$.passage_id') = ?", [op.id])
                self.db.execute("DELETE FROM passages WHERE id = ?", [op.id])
            self.db.execute(
                """UPDATE transcripts SET text = ?, sha256 = ?, source_path = ?, encoding = ?, speaker = ?,
                   speech_length = ?, imported_at = ?, version = ? WHERE id = ?""",
                [text, parsed.sha256, str(parsed.path), parsed.encoding, parsed.interviewee_speaker,
                 sum(speech_length(t) for t in b), stamp, version, transcript_id])
        return {"version": version, "moved": moved, "review": review, "passages": len(new_ids)}

    def review_items(self, coder: str | None = None) -> list[dict]:
        """Decisions set aside for review by :meth:`replace_transcript` and not resolved yet:
        dicts with interviewee, version, passage_ordinal, passage_text, coder, code, level,
        no_code, memo, reason."""
        sql = """SELECT r.*, t.interviewee FROM review_codings r JOIN transcripts t ON t.id = r.transcript_id
                 WHERE r.resolved = 0"""
        params: list = []
        if coder:
            sql += " AND r.coder = ?"
            params.append(normalize_coder(coder))
        return self.query(sql + " ORDER BY t.interviewee, r.passage_ordinal, r.id", params)

    def transcripts(self, coder: str | None = None) -> list[dict]:
        """One dict per transcript: id, interviewee, grp, title, n_passages, and (with ``coder``)
        n_decided, the passages this coder has coded or marked "no code"."""
        coder = normalize_coder(coder) if coder else ""
        return self.query(
            """SELECT t.id, t.interviewee, i.grp, t.title, t.speech_length,
                      (SELECT count(*) FROM passages p WHERE p.transcript_id = t.id) AS n_passages,
                      (SELECT count(*) FROM passages p WHERE p.transcript_id = t.id AND (
                          EXISTS (SELECT 1 FROM codings c WHERE c.passage_id = p.id AND c.coder = ?)
                          OR EXISTS (SELECT 1 FROM passage_marks m WHERE m.passage_id = p.id AND m.coder = ?
                                     AND m.no_code = 1))) AS n_decided
               FROM transcripts t LEFT JOIN interviewees i ON i.id = t.interviewee
               ORDER BY t.interviewee, t.id""",
            [coder, coder],
        )

    def transcript_text(self, transcript_id: int) -> str:
        row = self.db.execute("SELECT text FROM transcripts WHERE id = ?", [transcript_id]).fetchone()
        if not row:
            raise StoreError(f"{self.path.name}: no transcript {transcript_id}")
        return row[0]

    def passages(self, transcript_id: int | None = None) -> list[Passage]:
        """Passages of one transcript (or all), in reading order."""
        sql = 'SELECT id, transcript_id, ordinal, start, "end", text, turn_id FROM passages'
        params: list = []
        if transcript_id is not None:
            sql += " WHERE transcript_id = ?"
            params.append(transcript_id)
        sql += " ORDER BY transcript_id, ordinal"
        return [Passage(*row) for row in self.db.execute(sql, params).fetchall()]

    def question_for(self, passage: Passage) -> str:
        """The interviewer's last turn before ``passage``'s turn ('' when there is none)."""
        row = self.db.execute(
            """SELECT q.start, q."end" FROM turns q JOIN turns t ON t.id = ?
               WHERE q.transcript_id = t.transcript_id AND q.ordinal < t.ordinal AND q.role = 'interviewer'
               ORDER BY q.ordinal DESC LIMIT 1""",
            [passage.turn_id],
        ).fetchone()
        if not row:
            return ""
        text = self.db.execute(
            "SELECT substr(text, ?, ?) FROM transcripts WHERE id = ?", [row[0] + 1, row[1] - row[0], passage.transcript_id]
        ).fetchone()
        return text[0] if text else ""

    def question_turn_for(self, passage: Passage) -> dict | None:
        """The interviewer's last turn before ``passage``'s turn as ``{"speaker": label as
        written in the transcript (may be ''), "text": its words}``; None when there is none.
        Read-only, like :meth:`question_for`."""
        row = self.db.execute(
            """SELECT q.speaker, substr(tr.text, q.start + 1, q."end" - q.start)
               FROM turns q JOIN turns t ON t.id = ? JOIN transcripts tr ON tr.id = q.transcript_id
               WHERE q.transcript_id = t.transcript_id AND q.ordinal < t.ordinal AND q.role = 'interviewer'
               ORDER BY q.ordinal DESC LIMIT 1""",
            [passage.turn_id],
        ).fetchone()
        return {"speaker": row[0] or "", "text": row[1] or ""} if row else None

    # -- suggestions ------------------------------------------------------------------------
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
            self.db.conn.executemany(
                "DELETE FROM suggestions WHERE source = ? AND passage_id = ?", [(source, p) for p in passage_ids]
            )
            self.db.conn.executemany(
                "INSERT INTO suggestions(passage_id, code, score, evidence, source, created_at, level, level_cue) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(r["passage_id"], r["code"], float(r["score"]), json.dumps(r["evidence"], ensure_ascii=False), source,
                  stamp, r.get("level"), r.get("level_cue") or None) for r in rows],
            )
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO suggested(passage_id, source, dictionary_sha256, at) VALUES (?, ?, ?, ?)",
                [(p, source, dictionary_sha256, stamp) for p in passage_ids],
            )
        return len(rows)

    def suggestions_for(self, passage_id: int) -> list[dict]:
        """Suggestions of a passage, best first: dicts with code, score, source, level,
        level_cue and evidence (a list of ``{"start", "end", "keyword", "matched", "token"
        [, "negated"]}`` with offsets relative to the passage)."""
        rows = self.query(
            """SELECT s.code, s.score, s.source, s.level, s.level_cue, s.evidence FROM suggestions s
               JOIN codes c ON c.code = s.code
               WHERE s.passage_id = ? ORDER BY s.score DESC, c.position""",
            [passage_id],
        )
        for r in rows:
            r["evidence"] = json.loads(r["evidence"])
        return rows

    def passages_needing_suggestions(self, source: str, dictionary_sha256: str) -> list[int]:
        """Ids of passages not yet suggested by ``source`` with this dictionary version."""
        return [r[0] for r in self.db.execute(
            """SELECT p.id FROM passages p WHERE NOT EXISTS (
                   SELECT 1 FROM suggested s WHERE s.passage_id = p.id AND s.source = ? AND s.dictionary_sha256 = ?)
               ORDER BY p.transcript_id, p.ordinal""", [source, dictionary_sha256]).fetchall()]

    # -- coding actions (each one transaction, audited) --------------------------------------
    def _row(self, tbl: str, key: dict) -> dict | None:
        cols = _KEYS[tbl]
        rows = self.query(
            f"SELECT * FROM {tbl} WHERE " + " AND ".join(f"{c} = ?" for c in cols), [key[c] for c in cols]
        )
        return rows[0] if rows else None

    def _put(self, action: int, coder: str, description: str, tbl: str, key: dict, after: dict | None) -> None:
        """Write ``after`` (or delete when None) for the row at ``key`` and audit the change."""
        before = self._row(tbl, key)
        cols = _KEYS[tbl]
        if after is None:
            if before is None:
                return
            self.db.execute(f"DELETE FROM {tbl} WHERE " + " AND ".join(f"{c} = ?" for c in cols), [key[c] for c in cols])
        else:
            names = list(after)
            self.db.execute(
                f"INSERT OR REPLACE INTO {tbl}({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
                [after[n] for n in names],
            )
        self.db.execute(
            "INSERT INTO audit(action, coder, at, description, tbl, key, before, after) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [action, coder, now(), description, tbl, json.dumps({c: key[c] for c in cols}, ensure_ascii=False),
             json.dumps(before, ensure_ascii=False) if before else None,
             json.dumps(after, ensure_ascii=False) if after else None],
        )

    def _begin_action(self, coder: str) -> int:
        self.db.execute("INSERT OR IGNORE INTO coders(name, created_at) VALUES (?, ?)", [coder, now()])
        row = self.db.execute("SELECT coalesce(max(action), 0) + 1 FROM audit").fetchone()
        return row[0]

    def _check_code(self, code: str) -> dict:
        rows = self.query("SELECT * FROM codes WHERE code = ?", [code])
        if not rows:
            raise StoreError(f"{self.path.name}: unknown code {code!r}")
        return rows[0]

    def _check_level(self, code_row: dict, level: int | None) -> None:
        if level is None:
            return
        if not isinstance(level, int) or isinstance(level, bool) or not (code_row["min_level"] <= level <= code_row["max_level"]):
            raise StoreError(
                f"level {level!r} is outside {code_row['code']}'s scale {code_row['min_level']}..{code_row['max_level']}"
            )

    def _coding_row(self, passage_id: int, coder: str, code: str, level: int | None, origin: str,
                    by: str | None = None) -> dict:
        old = self._row("codings", {"passage_id": passage_id, "coder": coder, "code": code})
        stamp = now()
        return {"passage_id": passage_id, "coder": coder, "code": code, "level": level, "origin": origin,
                "created_at": old["created_at"] if old else stamp, "updated_at": stamp, "decided_by": by or coder}

    def _clear_no_code(self, action: int, coder: str, passage_id: int, description: str) -> None:
        mark = self._row("passage_marks", {"passage_id": passage_id, "coder": coder})
        if mark and mark["no_code"]:
            self._put(action, coder, description, "passage_marks", mark, {**mark, "no_code": 0, "updated_at": now()})

    def codings_for(self, passage_id: int, coder: str) -> list[dict]:
        """The coder's codings of a passage in dictionary order: dicts with code, level, origin."""
        return self.query(
            """SELECT c.code, c.level, c.origin, c.updated_at FROM codings c JOIN codes k ON k.code = c.code
               WHERE c.passage_id = ? AND c.coder = ? ORDER BY k.position""",
            [passage_id, normalize_coder(coder)],
        )

    def mark_for(self, passage_id: int, coder: str) -> dict | None:
        """The coder's mark on a passage (no_code flag and memo), or None."""
        return self._row("passage_marks", {"passage_id": passage_id, "coder": normalize_coder(coder)})

    def toggle_code(self, passage_id: int, coder: str, code: str, level: int | None = None,
                    origin: str = "manual", by: str | None = None) -> bool:
        """Add ``code`` to the passage for ``coder``, or remove it when already there.

        Adding clears a "no code" mark. Returns True when the code is now present.
        Raises StoreError for an unknown code or a level outside its scale.
        """
        coder = normalize_coder(coder)
        code_row = self._check_code(code)
        self._check_level(code_row, level)
        with self.write():
            action = self._begin_action(coder)
            key = {"passage_id": passage_id, "coder": coder, "code": code}
            if self._row("codings", key):
                self._put(action, coder, f"remove {code}", "codings", key, None)
                return False
            self._put(action, coder, f"add {code}", "codings", key,
                      self._coding_row(passage_id, coder, code, level, origin, by))
            self._clear_no_code(action, coder, passage_id, f"add {code}")
            return True

    def add_codes(self, passage_id: int, coder: str, codes: dict[str, int | None], origin: str = "suggestion",
                  description: str = "accept suggestions", by: str | None = None) -> list[str]:
        """Add several codes (code -> level or None) as ONE action; codes already present keep
        their level. Returns the codes added."""
        coder = normalize_coder(coder)
        for code, level in codes.items():
            self._check_level(self._check_code(code), level)
        added = []
        with self.write():
            action = self._begin_action(coder)
            for code, level in codes.items():
                key = {"passage_id": passage_id, "coder": coder, "code": code}
                if self._row("codings", key):
                    continue
                self._put(action, coder, description, "codings", key,
                          self._coding_row(passage_id, coder, code, level, origin, by))
                added.append(code)
            if added:
                self._clear_no_code(action, coder, passage_id, description)
        return added

    def set_level(self, passage_id: int, coder: str, code: str, level: int | None, by: str | None = None) -> None:
        """Set the level of an existing coding (None clears it).

        Raises StoreError when the coder has not coded ``code`` on the passage or the level is
        outside the code's scale."""
        coder = normalize_coder(coder)
        self._check_level(self._check_code(code), level)
        key = {"passage_id": passage_id, "coder": coder, "code": code}
        with self.write():
            row = self._row("codings", key)
            if not row:
                raise StoreError(f"{code} is not coded on this passage")
            action = self._begin_action(coder)
            self._put(action, coder, f"level {code}={level}", "codings", key,
                      {**row, "level": level, "updated_at": now(), "decided_by": by or coder})

    def set_levels(self, passage_id: int, coder: str, levels: dict[str, int], by: str | None = None) -> list[str]:
        """Set the levels of several existing codings of the passage as ONE action (codes the
        coder has not coded on it are skipped). Returns the codes whose level changed.

        Raises StoreError for a level outside its code's scale."""
        coder = normalize_coder(coder)
        for code, level in levels.items():
            self._check_level(self._check_code(code), level)
        changed = []
        with self.write():
            action = self._begin_action(coder)
            for code, level in levels.items():
                key = {"passage_id": passage_id, "coder": coder, "code": code}
                row = self._row("codings", key)
                if row and row["level"] != level:
                    self._put(action, coder, "take proposed levels", "codings", key,
                              {**row, "level": level, "updated_at": now(), "decided_by": by or coder})
                    changed.append(code)
        return changed

    def has_suggestions_from(self, passage_id: int, source: str, dictionary_sha256: str | None = None) -> bool:
        """True when ``source`` has scored the passage (even if it suggested nothing), with
        the dictionary version ``dictionary_sha256`` when one is given."""
        sql = "SELECT 1 FROM suggested WHERE passage_id = ? AND source = ?"
        args: list = [passage_id, source]
        if dictionary_sha256 is not None:
            sql += " AND dictionary_sha256 = ?"
            args.append(dictionary_sha256)
        return self.db.execute(sql, args).fetchone() is not None

    def mark_no_code(self, passage_id: int, coder: str, by: str | None = None) -> None:
        """Record the decision that the passage shows no competency: removes the coder's codes
        on it and sets the mark, as one action."""
        coder = normalize_coder(coder)
        with self.write():
            action = self._begin_action(coder)
            for c in self.query("SELECT * FROM codings WHERE passage_id = ? AND coder = ?", [passage_id, coder]):
                self._put(action, coder, "no code", "codings", c, None)
            key = {"passage_id": passage_id, "coder": coder}
            mark = self._row("passage_marks", key) or {"memo": None}
            self._put(action, coder, "no code", "passage_marks", key,
                      {"passage_id": passage_id, "coder": coder, "no_code": 1, "memo": mark["memo"], "updated_at": now(),
                       "decided_by": by or coder})

    def set_memo(self, passage_id: int, coder: str, memo: str, by: str | None = None) -> None:
        """Attach a memo (free text; empty clears it) to the passage for the coder."""
        coder = normalize_coder(coder)
        key = {"passage_id": passage_id, "coder": coder}
        with self.write():
            action = self._begin_action(coder)
            mark = self._row("passage_marks", key) or {"no_code": 0}
            self._put(action, coder, "memo", "passage_marks", key,
                      {"passage_id": passage_id, "coder": coder, "no_code": mark["no_code"],
                       "memo": memo.strip() or None, "updated_at": now(), "decided_by": by or coder})

    def undo(self, coder: str) -> str | None:
        """Undo the coder's last action that is not undone yet, restoring every row it changed.

        Returns the description of the undone action, or None when there is nothing to undo.
        """
        coder = normalize_coder(coder)
        with self.write():
            row = self.db.execute(
                "SELECT max(action) FROM audit WHERE coder = ? AND undone = 0", [coder]
            ).fetchone()
            if not row or row[0] is None:
                return None
            action = row[0]
            entries = self.query("SELECT * FROM audit WHERE action = ? ORDER BY id DESC", [action])
            for e in entries:
                key = json.loads(e["key"])
                cols = _KEYS[e["tbl"]]
                self.db.execute(f"DELETE FROM {e['tbl']} WHERE " + " AND ".join(f"{c} = ?" for c in cols),
                                [key[c] for c in cols])
                if e["before"]:
                    before = json.loads(e["before"])
                    names = list(before)
                    self.db.execute(
                        f"INSERT INTO {e['tbl']}({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
                        [before[n] for n in names],
                    )
            self.db.execute("UPDATE audit SET undone = 1 WHERE action = ?", [action])
            return entries[-1]["description"] if entries else None

    # -- reading codings ----------------------------------------------------------------------
    def coders(self) -> list[str]:
        """Names of the coders who have made at least one decision."""
        return [r["coder"] for r in self.query(
            "SELECT coder FROM codings UNION SELECT coder FROM passage_marks WHERE no_code = 1 ORDER BY 1")]

    def decided_passages(self, coder: str) -> set[int]:
        """Ids of the passages the coder has coded or marked "no code"."""
        coder = normalize_coder(coder)
        return {r[0] for r in self.db.execute(
            "SELECT passage_id FROM codings WHERE coder = ? UNION "
            "SELECT passage_id FROM passage_marks WHERE coder = ? AND no_code = 1", [coder, coder]).fetchall()}

    def coding_rows(self, coder: str | None = None) -> list[dict]:
        """Every coding (of ``coder``, or all) with its context, in reading order: dicts with
        passage_id, interviewee, grp, transcript_id, transcript (title), passage_ordinal, start, end,
        passage_text, code, level, coder, origin, created_at, updated_at."""
        sql = """SELECT c.passage_id, t.interviewee, i.grp, t.id AS transcript_id, t.title AS transcript,
                        p.ordinal AS passage_ordinal,
                        p.start, p."end", p.text AS passage_text, c.code, c.level, c.coder, c.origin,
                        c.created_at, c.updated_at
                 FROM codings c JOIN passages p ON p.id = c.passage_id JOIN transcripts t ON t.id = p.transcript_id
                 LEFT JOIN interviewees i ON i.id = t.interviewee JOIN codes k ON k.code = c.code"""
        params: list = []
        if coder:
            sql += " WHERE c.coder = ?"
            params.append(normalize_coder(coder))
        sql += " ORDER BY t.interviewee, t.id, p.ordinal, k.position, c.coder"
        return self.query(sql, params)
