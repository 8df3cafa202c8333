"""The study's competency dictionary, its codes, and the interviewees."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC

from .base import StoreBase, StoreError, now


class StudyMixin(StoreBase):
    """Dictionary, codes and interviewees of the study."""

    # -- dictionary -------------------------------------------------------------------------
    def dropped_codes(self, dictionary) -> dict[str, int]:
        """Codes of the study that ``dictionary`` no longer has, with their number of codings."""
        new_codes = set(dictionary.codes)
        return {r["code"]: r["n"] for r in self._all(
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
                ``drop_codings`` is False, or its scales leave out levels existing codings have.
        """
        new_codes = set(dictionary.codes)
        missing = sorted(c for c, n in self.dropped_codes(dictionary).items() if n)
        if missing and not drop_codings:
            raise StoreError(
                f"{dictionary.source}: drops code(s) {', '.join(missing)} that have codings in {self.path.name}")
        outside = []
        for c in dictionary.competencies:
            row = self._one("SELECT count(*), min(level), max(level) FROM codings WHERE code = ? AND level IS NOT NULL "
                            "AND (level < ? OR level > ?)", [c.code, c.min_level, c.max_level])
            if row and row[0]:
                outside.append(f"{c.code} ({row[0]} codings at levels {row[1]}..{row[2]}, "
                               f"scale {c.min_level}..{c.max_level})")
        if outside:
            raise StoreError(f"{dictionary.source}: levels of existing codings fall outside the new scales: "
                             f"{'; '.join(outside)}; widen the scales (or change those levels) first")
        with self.write():
            for code in missing:  # (the Store records these deletions as audited actions first)
                self._run("DELETE FROM codings WHERE code = ?", [code])
            self._run(
                "INSERT OR REPLACE INTO dictionary(id, name, source, sha256, yaml, loaded_at) "
                "VALUES (1, ?, ?, ?, ?, ?)",
                [dictionary.name, str(dictionary.source), dictionary.sha256, dictionary.yaml_text, now()])
            for row in self._all("SELECT code FROM codes"):
                if row["code"] not in new_codes:
                    self._run("DELETE FROM suggestions WHERE code = ?", [row["code"]])
                    self._run("DELETE FROM codes WHERE code = ?", [row["code"]])
            for pos, c in enumerate(dictionary.competencies, start=1):
                self._run(
                    """INSERT INTO codes(code, position, name_zh, name_en, definition_zh, definition_en, min_level,
                       max_level) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT(code) DO UPDATE SET position=excluded.position, name_zh=excluded.name_zh,
                       name_en=excluded.name_en, definition_zh=excluded.definition_zh,
                       definition_en=excluded.definition_en, min_level=excluded.min_level,
                       max_level=excluded.max_level""",
                    [c.code, pos, c.name_zh, c.name_en, c.definition_zh, c.definition_en, c.min_level, c.max_level])

    def dictionary(self):
        """The study's dictionary, parsed again from the YAML stored in it, or None."""
        from ..dictionary import parse_dictionary

        row = self._one("SELECT yaml, source FROM dictionary WHERE id = 1")
        return parse_dictionary(row[0], row[1]) if row else None

    def codes(self) -> list[dict]:
        """The study's codes in dictionary order: dicts with code, position, name_zh, name_en,
        definition_zh, definition_en, min_level, max_level."""
        return self._all("SELECT * FROM codes ORDER BY position")

    def code_keys(self) -> set[str]:
        """The keys of the study's codes (``{"ACH", "INFO", ...}``)."""
        return {r["code"] for r in self._all("SELECT code FROM codes")}

    # -- interviewees -------------------------------------------------------------------------
    def upsert_interviewees(self, rows: Iterable[dict]) -> int:
        """Insert or update interviewees: dicts with ``id`` and optional ``grp``, ``tenure_years``,
        ``branch``, ``extra`` (JSON text). Returns the number of rows written."""
        rows = list(rows)
        with self.write():
            for r in rows:
                self._run(
                    """INSERT INTO interviewees(id, grp, tenure_years, branch, extra) VALUES (?, ?, ?, ?, ?)
                       ON CONFLICT(id) DO UPDATE SET grp=coalesce(excluded.grp, grp),
                       tenure_years=coalesce(excluded.tenure_years, tenure_years),
                       branch=coalesce(excluded.branch, branch), extra=coalesce(excluded.extra, extra)""",
                    [r["id"], r.get("grp"), r.get("tenure_years"), r.get("branch"), r.get("extra")])
        return len(rows)

    def interviewees_with_transcripts(self) -> list[str]:
        """Interviewees that have at least one transcript, sorted."""
        return [r["interviewee"] for r in self._all(
            "SELECT DISTINCT interviewee FROM transcripts ORDER BY interviewee")]

    def ungrouped_interviewees(self) -> list[str]:
        """Interviewees with a transcript but no group, sorted."""
        return [r["id"] for r in self._all(
            """SELECT i.id FROM interviewees i JOIN transcripts t ON t.interviewee = i.id WHERE i.grp IS NULL
               GROUP BY i.id ORDER BY i.id""")]

    def interviewee_rows(self) -> list[dict]:
        """One dict per interviewee with a transcript, sorted: interviewee, group,
        speech_length (the sum over the interviewee's transcripts, in Han characters plus
        words of other scripts)."""
        return self._all(
            """SELECT t.interviewee, i.grp AS "group", sum(t.speech_length) AS speech_length
               FROM transcripts t LEFT JOIN interviewees i ON i.id = t.interviewee
               GROUP BY t.interviewee ORDER BY t.interviewee""")

    # -- coding sessions ------------------------------------------------------------------------
    def record_session(self, coder: str, blind: bool, kind: str = "coding") -> int:
        """Record that ``coder`` opened a coding (or consensus) screen, blind to the groups or
        not, in this process on this host (see :meth:`open_sessions`). Returns the session id."""
        import os
        import socket

        stamp = now()
        with self.write():
            return self._run("INSERT INTO sessions(coder, started_at, blind, kind, pid, host, last_seen) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)",
                             [self.resolve_coder(coder), stamp, int(bool(blind)), kind, os.getpid(),
                              socket.gethostname(), stamp]).lastrowid

    def touch_session(self, session_id: int) -> None:
        """Say that session ``session_id`` is still open (its heartbeat, every minute or so)."""
        with self.write():
            self._run("UPDATE sessions SET last_seen = ? WHERE id = ?", [now(), session_id])

    def end_session(self, session_id: int) -> None:
        """Record that session ``session_id`` was closed."""
        with self.write():
            self._run("UPDATE sessions SET ended_at = ? WHERE id = ?", [now(), session_id])

    def open_sessions(self, coder: str, besides: int | None = None, stale_after_s: float = 180.0) -> list[dict]:
        """The coding sessions of ``coder`` still open, apart from session ``besides``: not
        ended, and whose process is alive (on this host) or whose heartbeat is younger than
        ``stale_after_s`` seconds (on another host). A session killed with ``kill -9`` is not
        open. Returns dicts with id, started_at, pid, host, last_seen."""
        import os
        import socket
        from datetime import datetime


        rows = self._all("SELECT id, started_at, pid, host, last_seen FROM sessions WHERE coder = ? "
                         "AND kind = 'coding' AND ended_at IS NULL AND id != ? ORDER BY id",
                         [self.resolve_coder(coder), besides if besides is not None else -1])
        here = socket.gethostname()
        stamp = datetime.now(UTC)
        out = []
        for r in rows:
            if r["pid"] is None:
                continue  # recorded before schema 7: nothing says it is open
            if r["host"] == here:
                try:
                    os.kill(r["pid"], 0)
                except ProcessLookupError:
                    continue
                except PermissionError:
                    pass  # alive, another user's
            else:
                try:
                    age = (stamp - datetime.fromisoformat(r["last_seen"])).total_seconds()
                except (TypeError, ValueError):
                    continue
                if age > stale_after_s:
                    continue
            out.append(r)
        return out

    def blinding(self, coder: str) -> dict:
        """How ``coder`` coded: dict with sessions (coding screens opened), blind (of them,
        blind to the groups) and outside (the coder's actions made outside the TUI: imports,
        merges), so a report can say "blind", "not blind", "partly blind" or "unknown"."""
        coder = self.resolve_coder(coder)
        row = self._one("SELECT count(*), coalesce(sum(blind), 0) FROM sessions WHERE coder = ? AND kind = 'coding'",
                        [coder])
        outside = self._one("SELECT count(*) FROM actions WHERE coder = ? AND origin IN ('csv', 'qdpx', 'merge')",
                            [coder])
        return {"sessions": row[0], "blind": row[1], "outside": outside[0]}
