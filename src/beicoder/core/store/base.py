"""The connection to a study file: opening and checking it, transactions, backup, and the
one place where SQLite's errors become :class:`StoreError`.

Every method of the store reads and writes through :meth:`StoreBase._all`,
:meth:`StoreBase._one` and :meth:`StoreBase._run` (or inside :meth:`StoreBase.write`), so a
locked, read-only, damaged or full study file is reported as one line naming the file, and
no ``sqlite3`` exception leaves the store.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import BeicoderError
from .schema import MIGRATIONS, SCHEMA, SCHEMA_VERSION, statements


class StoreError(BeicoderError):
    """A study file that cannot be used or an operation it refuses; one line."""


def now() -> str:
    """The current time in UTC, ISO 8601 with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def normalize_coder(name: str) -> str:
    """A coder's name as typed and shown: trimmed and NFC-normalised, case and width kept.
    Who is the same coder is decided by :func:`coder_identity`, not by this form.

    Raises:
        StoreError: an empty name.
    """
    norm = unicodedata.normalize("NFC", (name or "").strip())
    if not norm:
        raise StoreError("coder name is empty")
    return norm


def coder_identity(name: str) -> str:
    """The identity of the coder named ``name``: the one rule that decides whether two names
    are the same person. NFKC (full-width ``Ｌｉ`` is ``Li``), case-folded (``LI`` is ``li``),
    and without white space or invisible format characters (zero-width space and joiners,
    BOM, soft hyphen: Unicode category Cf). ``Li``, ``li ``, ``Ｌｉ`` and ``Li\u200b`` are one
    coder; ``王老师`` and ``王 老师`` too.

    Raises:
        StoreError: a name that is empty once these are removed.
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name or "").casefold())
    key = "".join(ch for ch in folded if not ch.isspace() and unicodedata.category(ch) != "Cf")
    if not key:
        raise StoreError(f"coder name {name!r} is empty" if name else "coder name is empty")
    return key


def describe_sqlite_error(path: Path, exc: BaseException) -> str:
    """One line for a SQLite failure on the study file ``path``, saying what a user can do."""
    msg = str(exc)
    low = msg.lower()
    if "locked" in low or "busy" in low:
        return f"{path}: the study file is locked by another program (waited 10 s); nothing was saved, try again"
    if "readonly" in low or "read-only" in low:
        return f"{path}: the study file is read-only; nothing was saved (check its permissions)"
    if "malformed" in low or "not a database" in low or "corrupt" in low:
        return f"{path}: the study file is damaged ({msg}); restore it from a backup ('beicoder backup')"
    if "full" in low:
        return f"{path}: the disk is full; nothing was saved (free some space and try again)"
    if "unable to open" in low or "disk i/o" in low:
        return f"{path}: the study file cannot be read or written ({msg})"
    return f"{path}: {msg}"


_ADD_COLUMN = re.compile(r"^\s*ALTER\s+TABLE\s+(\w+)\s+ADD\s+COLUMN\s+(\w+)", re.IGNORECASE)


class StoreBase:
    """An open study file (SQLite, WAL journal, foreign keys on, 10 s busy timeout).

    ``create`` False refuses a path that is not already a beicoder study.

    Raises:
        StoreError: a folder, a missing file or folder, an empty file, a file that is not a
            beicoder study, or one made by a newer beicoder.
    """

    def __init__(self, path: str | Path, create: bool = True):
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
        except sqlite3.Error as exc:
            raise StoreError(describe_sqlite_error(self.path, exc)) from None
        self.conn = conn
        try:
            conn.execute("PRAGMA busy_timeout = 10000")
            conn.execute("PRAGMA foreign_keys = ON")
            self._migrate(create)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
        except StoreError:
            conn.close()
            raise
        except sqlite3.DatabaseError as exc:
            conn.close()
            if isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "readonly" in str(exc)):
                raise StoreError(describe_sqlite_error(self.path, exc)) from None
            raise StoreError(f"{self.path}: not a beicoder study file ({exc})") from None

    @property
    def db(self):
        """The connection as a ``sqlite_utils.Database`` (made on first use: importing
        sqlite-utils costs a third of a second that most commands never need)."""
        if getattr(self, "_db", None) is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    # -- running SQL ----------------------------------------------------------------------------
    def _fail(self, exc: BaseException) -> StoreError:
        return StoreError(describe_sqlite_error(self.path, exc))

    def _run(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        """Execute one statement; SQLite errors become StoreError."""
        try:
            return self.conn.execute(sql, list(params))
        except sqlite3.Error as exc:
            raise self._fail(exc) from None

    def _run_many(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        try:
            self.conn.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise self._fail(exc) from None

    def _all(self, sql: str, params: Iterable[Any] = ()) -> list[dict]:
        """Rows of a read query as dicts (column name -> value)."""
        cur = self._run(sql, params)
        names = [d[0] for d in cur.description or ()]
        try:
            return [dict(zip(names, row)) for row in cur.fetchall()]
        except sqlite3.Error as exc:
            raise self._fail(exc) from None

    def _one(self, sql: str, params: Iterable[Any] = ()) -> tuple | None:
        """The first row of a read query as a tuple, or None."""
        try:
            return self._run(sql, params).fetchone()
        except sqlite3.Error as exc:
            raise self._fail(exc) from None

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[dict]:
        """Run a read query and return its rows as dicts (for tests and inspection; the
        product's own code calls the store's named methods)."""
        return self._all(sql, params)

    # -- coders -----------------------------------------------------------------------------
    def resolve_coder(self, name: str) -> str:
        """The coder ``name`` stands for in this study: the stored name (as it was first typed)
        of the coder with the same :func:`coder_identity`, or the name itself (trimmed, NFC)
        for a new coder. A name stored exactly as given is itself, so an old study holding
        both ``Li`` and ``li`` keeps both reachable.

        Raises:
            StoreError: an empty name.
        """
        typed = normalize_coder(name)
        key = coder_identity(typed)
        names = [r[0] for r in self._run("SELECT name FROM coders ORDER BY rowid").fetchall()]
        if typed in names:
            return typed
        return next((n for n in names if coder_identity(n) == key), typed)

    def resolve_coders(self, names) -> dict[str, str]:
        """:meth:`resolve_coder` for a batch of ``names`` (a file's coder column): name given ->
        coder. Names of one identity that are new to the study become one coder, under the
        first of them given.

        Raises:
            StoreError: an empty name.
        """
        out: dict[str, str] = {}
        new: dict[str, str] = {}  # identity -> the first new name of it
        for name in names:
            if name in out:
                continue
            coder = self.resolve_coder(name)
            key = coder_identity(coder)
            stored = self._one("SELECT 1 FROM coders WHERE name = ?", [coder]) is not None
            out[name] = coder if stored else new.setdefault(key, coder)
        return out

    # -- schema -----------------------------------------------------------------------------
    def _columns(self, table: str) -> set[str]:
        return {r[1] for r in self.conn.execute(f"PRAGMA table_info({table})").fetchall()}

    def _migrate(self, create: bool) -> None:
        """Create the schema in a new file, or check (and upgrade) an existing study.

        Raises StoreError for a file that is not a beicoder study (other tables, or an empty
        database when ``create`` is False) and for one made by a newer beicoder."""
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        version = 0
        if "meta" in tables:
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: made by a newer beicoder (schema {version}, this one knows {SCHEMA_VERSION}); "
                    "upgrade beicoder")
        elif tables:
            raise StoreError(f"{self.path}: not a beicoder study file (it has other tables)")
        elif not create:
            raise StoreError(f"{self.path}: empty database, not a beicoder study file")
        if version == SCHEMA_VERSION:
            return
        with self.write():
            if version == 0:
                for stmt in statements(SCHEMA):
                    self.conn.execute(stmt)
            else:
                for target in range(version + 1, SCHEMA_VERSION + 1):
                    for stmt in MIGRATIONS.get(target, []):
                        added = _ADD_COLUMN.match(stmt)
                        if added and added.group(2) in self._columns(added.group(1)):
                            continue  # already there (a file upgraded by hand)
                        self.conn.execute(stmt)
            self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)",
                              [str(SCHEMA_VERSION)])

    # -- transactions -------------------------------------------------------------------------
    def close(self) -> None:
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def write(self) -> Iterator[StoreBase]:
        """One write transaction, begun IMMEDIATE so that the write lock is taken at the
        start: a deferred transaction that reads first and then writes fails at once when
        another coder's session wrote in between, busy timeout or not. Nested use becomes a
        savepoint. Commits on success, rolls back on any exception; a SQLite failure
        (locked, read-only, damaged, full) is raised as StoreError."""
        conn = self.conn
        if conn.in_transaction:
            name = f"sp{id(object())}"
            self._run(f"SAVEPOINT {name}")
            try:
                yield self
            except BaseException:
                self._run(f"ROLLBACK TO {name}")
                self._run(f"RELEASE {name}")
                raise
            else:
                self._run(f"RELEASE {name}")
            return
        self._run("BEGIN IMMEDIATE")
        try:
            yield self
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise self._fail(exc) from None
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise self._fail(exc) from None

    def _changed(self, kind: str, action: int | None = None, coder: str | None = None) -> None:
        """Log a change for open screens to pick up (see :meth:`changes_since`): ``kind`` is
        ``do``, ``undo`` or ``redo`` of the action ``action`` of ``coder``, or ``study`` for a
        change of the whole study (a re-import, a new dictionary). Called inside a write."""
        self._run("INSERT INTO changes(action, coder, kind, at) VALUES (?, ?, ?, ?)", [action, coder, kind, now()])

    def last_change(self) -> int:
        """The number of the newest change logged (0: none); see :meth:`changes_since`."""
        row = self._one("SELECT max(seq) FROM changes")
        return (row[0] or 0) if row else 0

    def changes_since(self, seq: int, limit: int = 10_000) -> list[dict]:
        """The changes logged after change number ``seq``, oldest first (at most ``limit``):
        dicts with seq, action, coder, kind (``do``, ``undo``, ``redo`` or ``study``), at.
        Cheap when nothing changed: the newest change is found through the primary key."""
        return self._all("SELECT seq, action, coder, kind, at FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
                         [seq, limit])

    def data_version(self) -> int:
        """SQLite's ``PRAGMA data_version``: it changes when another connection commits to the
        study, so polling it costs nothing while nobody else writes."""
        return self._one("PRAGMA data_version")[0]

    @contextmanager
    def snapshot(self) -> Iterator[StoreBase]:
        """Reads that see one state of the study (a read transaction: nothing another session
        commits meanwhile shows in them). Inside a transaction already, it adds nothing."""
        if self.conn.in_transaction:
            yield self
            return
        self._run("BEGIN")
        try:
            yield self
        finally:
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the study file (before it is copied or renamed)."""
        self._run("PRAGMA wal_checkpoint(TRUNCATE)")

    def backup(self, target: str | Path) -> Path:
        """A consistent copy of the study at ``target``, made with SQLite's online backup API
        (safe while other sessions are coding); written to a temporary name and renamed.

        Raises:
            StoreError: ``target`` exists or its folder does not, or the copy fails.
        """
        target = Path(target)
        if target.exists():
            raise StoreError(f"{target}: exists; choose a new file name for the backup")
        if not target.parent.is_dir():
            raise StoreError(f"{target}: folder {target.parent} does not exist")
        tmp = target.with_name(target.name + ".partial")
        tmp.unlink(missing_ok=True)
        try:
            dest = sqlite3.connect(str(tmp))
            try:
                self.conn.backup(dest)
                dest.execute("PRAGMA journal_mode = DELETE")
            finally:
                dest.close()
        except sqlite3.Error as exc:
            tmp.unlink(missing_ok=True)
            raise StoreError(describe_sqlite_error(target, exc)) from None
        tmp.replace(target)
        return target
