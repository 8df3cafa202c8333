"""Coding decisions and the audit trail.

Every change to a coding (``codings``) or a passage mark (``passage_marks``: the "no code"
decision and the memo) is written inside an *action* (:meth:`CodingMixin.action`): one row
in ``actions`` (coder, origin, description, time) and one ``audit`` row per changed row with
its state before and after. Whoever writes (a keystroke, an accepted suggestion, a CSV or
REFI-QDA import, a merge, the consensus screen, a review), the path is the same, so
:meth:`CodingMixin.undo_action` can restore the state before any action and
:meth:`CodingMixin.redo_action` can apply it again, and "who changed this, when, from where"
always has an answer.

Actions belong to one coder: undo and redo walk one coder's actions, newest first. An action
that changed nothing leaves no trace. A new action after an undo closes the redo path.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .base import StoreBase, StoreError, now

#: Where an action came from.
ORIGINS = ("keyboard", "suggestion", "csv", "qdpx", "merge", "consensus", "review", "dictionary")

# Action origin for the ``origin`` a coding records (the coding's own column keeps its value).
_ACTION_ORIGIN = {"manual": "keyboard", "suggestion": "suggestion", "consensus": "consensus",
                  "agreement": "consensus", "csv": "csv", "qdpx": "qdpx", "merge": "merge", "review": "review"}

# The two audited tables: their key columns and every column, in a fixed order, so that all
# statements below are constant strings (no table or column name ever comes from data).
_KEYS = {"codings": ("passage_id", "coder", "code"), "passage_marks": ("passage_id", "coder"),
         "review_codings": ("id",)}
_COLUMNS = {"codings": ("passage_id", "coder", "code", "level", "origin", "created_at", "updated_at", "decided_by"),
            "passage_marks": ("passage_id", "coder", "no_code", "memo", "updated_at", "decided_by"),
            "review_codings": ("id", "transcript_id", "version", "passage_ordinal", "start", "end", "passage_text",
                               "coder", "code", "level", "no_code", "memo", "decided_at", "reason", "resolved")}
_SELECT = {t: f"SELECT * FROM {t} WHERE " + " AND ".join(f"{c} = ?" for c in k) for t, k in _KEYS.items()}
_DELETE = {t: f"DELETE FROM {t} WHERE " + " AND ".join(f"{c} = ?" for c in k) for t, k in _KEYS.items()}
_INSERT = {t: f"INSERT OR REPLACE INTO {t}({', '.join(chr(34) + n + chr(34) for n in c)}) "
              f"VALUES ({', '.join('?' for _ in c)})" for t, c in _COLUMNS.items()}
# action states, and audit entries' ``undone``: live, undone (can be redone), closed (its row can
# no longer be restored: the passage was replaced by a re-import, the code dropped)
DONE, UNDONE, CLOSED = 0, 1, 2


@dataclass(frozen=True)
class ActionRecord:
    """One audited action: ``id``, ``coder`` (whose codings it changed), ``origin`` (one of
    :data:`ORIGINS`), ``description`` ("add ACH", "codings import ref.csv", ...), ``at``
    (UTC, ISO 8601), ``decided_by`` (who made it, when another than the coder: the person
    running the consensus screen), ``passage_id`` (the passage it changed, None when it
    changed several) and ``rows`` (rows changed)."""

    id: int
    coder: str
    origin: str
    description: str
    at: str
    decided_by: str | None
    passage_id: int | None
    rows: int


class Action:
    """An open action of one coder (see :meth:`CodingMixin.action`); its methods change the
    coder's codings and marks and audit every change. Levels and codes are checked against the
    study's codes; StoreError is raised for an unknown code or a level outside its scale."""

    def __init__(self, store: CodingMixin, coder: str, origin: str, description: str, by: str | None):
        self.store = store
        self.coder = coder
        self.origin = origin
        self.description = description
        self.by = by or coder
        self.id: int | None = None
        self.rows = 0
        self.passages: set[int] = set()

    # -- the one audited write ------------------------------------------------------------------
    def _put(self, tbl: str, key: dict, after: dict | None) -> bool:
        """Write ``after`` (a full row; None deletes) at ``key`` and audit it. Returns False
        when the row already was so (nothing written)."""
        st = self.store
        cols = _KEYS[tbl]
        kv = [key[c] for c in cols]
        before = st._row(tbl, kv)
        if after is not None:
            after = {c: after.get(c) for c in _COLUMNS[tbl]}
        if before == after:
            return False
        if self.id is None:
            self.id = st._run("INSERT INTO actions(coder, origin, description, at, decided_by) VALUES (?, ?, ?, ?, ?)",
                              [self.coder, self.origin, self.description, now(),
                               self.by if self.by != self.coder else None]).lastrowid
        if after is None:
            st._run(_DELETE[tbl], kv)
        else:
            st._run(_INSERT[tbl], [after[c] for c in _COLUMNS[tbl]])
        st._run("INSERT INTO audit(action, coder, at, description, tbl, key, before, after, passage_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [self.id, self.coder, now(), self.description, tbl,
                 json.dumps({c: key[c] for c in cols}, ensure_ascii=False),
                 json.dumps(before, ensure_ascii=False) if before else None,
                 json.dumps(after, ensure_ascii=False) if after else None, key.get("passage_id")])
        self.rows += 1
        if key.get("passage_id") is not None:
            self.passages.add(key["passage_id"])
        return True

    def resolve_review(self, item: dict, resolved: bool = True) -> bool:
        """Mark a decision set aside by a re-import (a row of :meth:`CodingMixin.review_items`)
        resolved, audited, so that undoing this action brings it back for review."""
        row = self.store._row("review_codings", [item["id"]])
        if row is None:
            raise StoreError(f"no decision set aside with id {item['id']}")
        return self._put("review_codings", {"id": item["id"]}, {**row, "resolved": int(resolved)})

    # -- codings -------------------------------------------------------------------------------
    def _coding_key(self, passage_id: int, code: str) -> dict:
        return {"passage_id": passage_id, "coder": self.coder, "code": code}

    def coding(self, passage_id: int, code: str) -> dict | None:
        """The coder's coding of ``code`` on the passage as stored now, or None."""
        return self.store._row("codings", [passage_id, self.coder, code])

    def put_coding(self, passage_id: int, code: str, level: int | None = None, origin: str = "manual",
                   keep_level: bool = False) -> str:
        """Give the passage ``code`` at ``level`` (the level is changed when the code is
        there already, unless ``keep_level``); clears a "no code" mark. Returns "added",
        "changed" or "unchanged"."""
        self.store.check_level(code, level)
        old = self.coding(passage_id, code)
        stamp = now()
        if old is not None:
            if keep_level or old["level"] == level:
                return "unchanged"
            self._put("codings", old, {**old, "level": level, "updated_at": stamp, "decided_by": self.by})
            return "changed"
        self._put("codings", self._coding_key(passage_id, code),
                  {"passage_id": passage_id, "coder": self.coder, "code": code, "level": level, "origin": origin,
                   "created_at": stamp, "updated_at": stamp, "decided_by": self.by})
        self.clear_no_code(passage_id)
        return "added"

    def remove_coding(self, passage_id: int, code: str) -> bool:
        """Remove the coder's ``code`` from the passage. Returns False when it was not there."""
        return self._put("codings", self._coding_key(passage_id, code), None)

    def set_level(self, passage_id: int, code: str, level: int | None) -> bool:
        """Set the level of an existing coding (None clears it). Returns False when it was
        that level already.

        Raises:
            StoreError: the coder has not coded ``code`` on the passage; a bad level."""
        self.store.check_level(code, level)
        old = self.coding(passage_id, code)
        if old is None:
            raise StoreError(f"{code} is not coded on this passage")
        if old["level"] == level:
            return False
        return self._put("codings", old, {**old, "level": level, "updated_at": now(), "decided_by": self.by})

    # -- marks -----------------------------------------------------------------------------------
    def _mark(self, passage_id: int) -> dict | None:
        return self.store._row("passage_marks", [passage_id, self.coder])

    def _put_mark(self, passage_id: int, no_code: int, memo: str | None) -> bool:
        key = {"passage_id": passage_id, "coder": self.coder}
        old = self._mark(passage_id)
        if old is not None and old["no_code"] == no_code and old["memo"] == memo:
            return False
        if old is None and not no_code and memo is None:
            return False
        return self._put("passage_marks", key, {**key, "no_code": no_code, "memo": memo, "updated_at": now(),
                                                "decided_by": self.by})

    def clear_no_code(self, passage_id: int) -> bool:
        """Take back a "no code" decision on the passage (its memo stays)."""
        old = self._mark(passage_id)
        return bool(old and old["no_code"]) and self._put_mark(passage_id, 0, old["memo"])

    def mark_no_code(self, passage_id: int) -> bool:
        """Record that the passage shows no competency: removes the coder's codes on it and
        sets the mark (the memo stays). Returns False when it was so already."""
        changed = False
        for c in self.store._all("SELECT * FROM codings WHERE passage_id = ? AND coder = ?", [passage_id, self.coder]):
            changed |= self._put("codings", c, None)
        old = self._mark(passage_id)
        return self._put_mark(passage_id, 1, old["memo"] if old else None) or changed

    def set_memo(self, passage_id: int, memo: str | None) -> bool:
        """Attach a memo to the passage (free text, kept as written apart from surrounding
        white space; empty or None clears it). Returns False when it was so already."""
        memo = (memo or "").strip() or None
        old = self._mark(passage_id)
        return self._put_mark(passage_id, old["no_code"] if old else 0, memo)

    # -- whole rows (merge) ----------------------------------------------------------------------
    def copy_row(self, tbl: str, row: dict) -> bool:
        """Write another study's row of ``codings`` or ``passage_marks`` for this coder as it
        is (its times, origin and level kept), audited. Returns False when it was so already."""
        if tbl not in _KEYS:
            raise StoreError(f"cannot copy rows of {tbl!r}")
        if row.get("coder") != self.coder:
            raise StoreError(f"row of coder {row.get('coder')!r} copied in an action of {self.coder!r}")
        if tbl == "codings":
            self.store.check_level(row["code"], row.get("level"))
        return self._put(tbl, row, row)


class CodingMixin(StoreBase):
    """Codings, passage marks (no code, memo), and their audit trail."""

    _open_action: Action | None = None

    # -- helpers -----------------------------------------------------------------------------
    def _row(self, tbl: str, key_values: list) -> dict | None:
        rows = self._all(_SELECT[tbl], key_values)
        return rows[0] if rows else None

    def _code_row(self, code: str) -> dict:
        rows = self._all("SELECT * FROM codes WHERE code = ?", [code])
        if not rows:
            raise StoreError(f"{self.path.name}: unknown code {code!r}")
        return rows[0]

    def check_level(self, code: str, level: int | None) -> None:
        """Check that ``code`` is a code of the study and ``level`` (None: no level) is an
        integer on its scale.

        Raises:
            StoreError: an unknown code, or a level that is not an integer in the scale."""
        row = self._code_row(code)
        if level is None:
            return
        if not isinstance(level, int) or isinstance(level, bool) or not (row["min_level"] <= level <= row["max_level"]):
            raise StoreError(f"level {level!r} is outside {code}'s scale {row['min_level']}..{row['max_level']}")

    # -- actions -----------------------------------------------------------------------------
    @contextmanager
    def action(self, coder: str, origin: str = "keyboard", description: str = "", by: str | None = None
               ) -> Iterator[Action]:
        """Open one audited action of ``coder`` in one transaction and yield its
        :class:`Action`; everything written through it is undone (and redone) together.

        ``origin`` is one of :data:`ORIGINS`; ``by`` names who acts when it is not the coder
        (the consensus screen records its user). Inside an open action of the same coder the
        open one is reused, so grouped calls make one action.

        Raises:
            StoreError: an empty coder name, an unknown origin, a write the study refuses.
        """
        coder = self.resolve_coder(coder)
        if origin not in ORIGINS:
            raise StoreError(f"unknown origin {origin!r} (one of {', '.join(ORIGINS)})")
        outer = self._open_action
        if outer is not None and outer.coder == coder:
            yield outer
            return
        act = Action(self, coder, origin, description, by)
        with self.write():
            self._run("INSERT OR IGNORE INTO coders(name, created_at) VALUES (?, ?)", [coder, now()])
            self._open_action = act
            try:
                yield act
            finally:
                self._open_action = outer
            if act.id is not None:
                single = next(iter(act.passages)) if len(act.passages) == 1 else None
                self._run("UPDATE actions SET passage_id = ? WHERE id = ?", [single, act.id])
                self._run("UPDATE actions SET state = ? WHERE coder = ? AND state = ?", [CLOSED, coder, UNDONE])
                self._changed("do", act.id, coder)

    # -- one decision each (the TUI's keys) -----------------------------------------------------
    def toggle_code(self, passage_id: int, coder: str, code: str, level: int | None = None,
                    origin: str = "manual", by: str | None = None) -> bool:
        """Add ``code`` to the passage for ``coder``, or remove it when already there, as one
        action; the state is read inside the write transaction, so another session's change
        is never overwritten blindly. Adding clears a "no code" mark. Returns True when the
        code is now present.

        Raises:
            StoreError: an unknown code or a level outside its scale."""
        self.check_level(code, level)
        coder = self.resolve_coder(coder)
        with self.write():  # the state is read under the write lock
            present = self._row("codings", [passage_id, coder, code]) is not None
            what = f"remove {code}" if present else f"add {code}"
            with self.action(coder, _ACTION_ORIGIN.get(origin, "keyboard"), what, by) as act:
                if present:
                    act.remove_coding(passage_id, code)
                    return False
                act.put_coding(passage_id, code, level, origin)
                return True

    def add_codes(self, passage_id: int, coder: str, codes: dict[str, int | None], origin: str = "suggestion",
                  description: str = "accept suggestions", by: str | None = None) -> list[str]:
        """Add several codes (code -> level or None) as ONE action; codes already present keep
        their level. Returns the codes added.

        Raises:
            StoreError: an unknown code or a level outside its scale (nothing is written)."""
        for code, level in codes.items():
            self.check_level(code, level)
        added = []
        with self.action(coder, _ACTION_ORIGIN.get(origin, "suggestion"), description, by) as act:
            for code, level in codes.items():
                if act.put_coding(passage_id, code, level, origin, keep_level=True) == "added":
                    added.append(code)
        return added

    def put_code(self, passage_id: int, coder: str, code: str, level: int | None, by: str | None = None) -> str:
        """Give the passage ``code`` at ``level`` for ``coder`` as one action: the level is set
        when the code is there, else the code is added with it (clearing a "no code" mark).
        The state is read inside the write transaction. Returns "added", "changed" or
        "unchanged".

        Raises:
            StoreError: an unknown code or a level outside its scale."""
        self.check_level(code, level)
        with self.action(coder, "keyboard", f"{code} level {level}", by) as act:
            return act.put_coding(passage_id, code, level, "manual")

    def set_level(self, passage_id: int, coder: str, code: str, level: int | None, by: str | None = None) -> None:
        """Set the level of an existing coding (None clears it), as one action.

        Raises:
            StoreError: the coder has not coded ``code`` on the passage, or the level is
                outside the code's scale."""
        self.check_level(code, level)
        with self.action(coder, "keyboard", f"level {code}={level}", by) as act:
            act.set_level(passage_id, code, level)

    def set_levels(self, passage_id: int, coder: str, levels: dict[str, int], by: str | None = None) -> list[str]:
        """Set the levels of several existing codings of the passage as ONE action (codes the
        coder has not coded on it are skipped). Returns the codes whose level changed.

        Raises:
            StoreError: a level outside its code's scale."""
        for code, level in levels.items():
            self.check_level(code, level)
        changed = []
        with self.action(coder, "keyboard", "take proposed levels", by) as act:
            for code, level in levels.items():
                if act.coding(passage_id, code) is not None and act.set_level(passage_id, code, level):
                    changed.append(code)
        return changed

    def mark_no_code(self, passage_id: int, coder: str, by: str | None = None) -> None:
        """Record the decision that the passage shows no competency: removes the coder's codes
        on it and sets the mark, as one action."""
        with self.action(coder, "keyboard", "no code", by) as act:
            act.mark_no_code(passage_id)

    def set_memo(self, passage_id: int, coder: str, memo: str, by: str | None = None) -> None:
        """Attach a memo (free text, any number of lines; empty clears it) to the passage for
        the coder, as one action."""
        with self.action(coder, "keyboard", "memo", by) as act:
            act.set_memo(passage_id, memo)

    # -- batches (imports) ----------------------------------------------------------------------
    def apply_decisions(self, decisions: Iterable[tuple[int, str, str | None, int | None]], origin: str,
                        description: str, memos: Iterable[tuple[int, str, str]] = ()) -> dict[str, dict[str, int]]:
        """Write decisions ``(passage id, coder, code or None for "no code", level)`` and memos
        ``(passage id, coder, memo text)`` in one transaction, as one action per coder (so
        ``undo`` for that coder takes the whole batch back). A code is added or its level set;
        a "no code" decision removes the coder's codes on the passage; a memo replaces the
        coder's memo on the passage (any number of lines, kept whole). Coder names are
        resolved to the study's coders by identity (see :meth:`resolve_coders`). Returns per
        coder (as stored) the counts ``added``, ``changed``, ``unchanged``, ``no_code``
        (no-code decisions newly made) and ``memos`` (memos set or changed).

        Raises:
            StoreError: an unknown code, a level outside its scale, an unknown passage."""
        decisions, memos = list(decisions), list(memos)
        names = self.resolve_coders([d[1] for d in decisions] + [m[1] for m in memos])
        by_coder: dict[str, list[tuple[int, str | None, int | None]]] = {}
        memos_of: dict[str, list[tuple[int, str]]] = {}
        for pid, coder, code, level in decisions:
            by_coder.setdefault(names[coder], []).append((pid, code, level))
        for pid, coder, memo in memos:
            by_coder.setdefault(names[coder], [])
            memos_of.setdefault(names[coder], []).append((pid, memo))
        counts: dict[str, dict[str, int]] = {}
        with self.write():
            for coder, items in by_coder.items():
                tally = counts.setdefault(coder, {"added": 0, "changed": 0, "unchanged": 0, "no_code": 0, "memos": 0})
                with self.action(coder, origin, description) as act:
                    for pid, code, level in items:
                        if code is None:
                            if act.mark_no_code(pid):
                                tally["no_code"] += 1
                            else:
                                tally["unchanged"] += 1
                        else:
                            tally[act.put_coding(pid, code, level, origin)] += 1
                    for pid, memo in memos_of.get(coder, []):
                        tally["memos"] += act.set_memo(pid, memo)
        return counts

    # -- decisions set aside by a re-import ----------------------------------------------------------
    def resolve_review(self, item_id: int, passage_id: int | None = None) -> dict:
        """Settle a decision set aside when its transcript was re-imported with a changed
        passage (see :meth:`~.transcripts.TranscriptsMixin.replace_transcript`): with
        ``passage_id`` the decision (its code and level, or "no code", and its memo) is applied
        to that passage of the current version, through the audited path (origin ``review``);
        without, it is dismissed. Either way the item is marked resolved, in one transaction.
        Returns the item as :meth:`review_item` gives it. Undoing the action brings the item
        back for review.

        Raises:
            StoreError: no such item, an item already resolved, or a passage that is not in
                the item's transcript."""
        item = self.review_item(item_id)
        if item is None:
            raise StoreError(f"{self.path.name}: no decision set aside with id {item_id}")
        if item["resolved"]:
            raise StoreError(f"{self.path.name}: the set-aside decision {item_id} is resolved already")
        with self.write():
            if passage_id is not None:
                target = self.passage(passage_id)
                if target.transcript_id != item["transcript_id"]:
                    raise StoreError(
                        f"{self.path.name}: passage {passage_id} is not in {item['interviewee']}'s transcript")
                what = "no code" if item["no_code"] else (item["code"] or "memo")
                description = f"review: {what} on passage {target.ordinal}"
            else:
                description = f"review: dismiss set-aside decision {item_id}"
            with self.action(item["coder"], "review", description) as act:
                if passage_id is not None:
                    if item["code"]:
                        act.put_coding(passage_id, item["code"], item["level"], "review")
                    elif item["no_code"]:
                        act.mark_no_code(passage_id)
                    if item["memo"]:
                        act.set_memo(passage_id, item["memo"])
                act.resolve_review(item)
        return self.review_item(item_id)

    # -- undo and redo ---------------------------------------------------------------------------
    def _record(self, action_id: int) -> ActionRecord:
        r = self._all("""SELECT a.*, (SELECT count(*) FROM audit u WHERE u.action = a.id) AS n FROM actions a
                         WHERE a.id = ?""", [action_id])[0]
        return ActionRecord(r["id"], r["coder"], r["origin"], r["description"] or "", r["at"], r["decided_by"],
                            r["passage_id"], r["n"])

    def _restore(self, entries: list[dict], side: str) -> None:
        for e in entries:
            tbl = e["tbl"]
            if tbl not in _KEYS:
                continue
            key = json.loads(e["key"])
            self._run(_DELETE[tbl], [key[c] for c in _KEYS[tbl]])
            if e[side]:
                row = json.loads(e[side])
                self._run(_INSERT[tbl], [row.get(c) for c in _COLUMNS[tbl]])

    def undo_action(self, coder: str) -> ActionRecord | None:
        """Undo the coder's last action that is not undone yet, restoring every row it changed
        to its state before, in one transaction. Returns the action undone, or None when there
        is nothing to undo. History closed by a re-import (passages that no longer exist) is
        skipped."""
        coder = self.resolve_coder(coder)
        with self.write():
            while True:
                row = self._one("SELECT id FROM actions WHERE coder = ? AND state = ? ORDER BY id DESC LIMIT 1",
                                [coder, DONE])
                if row is None:
                    return None
                entries = self._all("SELECT * FROM audit WHERE action = ? AND undone = 0 ORDER BY id DESC", [row[0]])
                if not entries:
                    self._run("UPDATE actions SET state = ? WHERE id = ?", [CLOSED, row[0]])
                    continue
                self._restore(entries, "before")
                self._run("UPDATE audit SET undone = 1 WHERE action = ? AND undone = 0", [row[0]])
                self._run("UPDATE actions SET state = ? WHERE id = ?", [UNDONE, row[0]])
                self._changed("undo", row[0], coder)
                return self._record(row[0])

    def next_undo(self, coder: str) -> ActionRecord | None:
        """The action :meth:`undo_action` would undo now for ``coder`` (None: nothing to
        undo), without undoing it: so a screen can ask first, or name it."""
        coder = self.resolve_coder(coder)
        row = self._one("""SELECT a.id FROM actions a WHERE a.coder = ? AND a.state = ?
                           AND EXISTS (SELECT 1 FROM audit u WHERE u.action = a.id AND u.undone = 0)
                           ORDER BY a.id DESC LIMIT 1""", [coder, DONE])
        return self._record(row[0]) if row else None

    def next_redo(self, coder: str) -> ActionRecord | None:
        """The action :meth:`redo_action` would apply again now for ``coder``, or None."""
        coder = self.resolve_coder(coder)
        row = self._one("SELECT id FROM actions WHERE coder = ? AND state = ? ORDER BY id ASC LIMIT 1", [coder, UNDONE])
        return self._record(row[0]) if row else None

    def action_changes(self, action_id: int) -> list[dict]:
        """What one action changed, row by row in the order written: dicts with tbl
        (``codings`` or ``passage_marks``), coder, passage_id, before and after (the row as
        dicts, None where there was none / is none)."""
        rows = self._all("SELECT tbl, coder, passage_id, before, after FROM audit WHERE action = ? ORDER BY id",
                         [action_id])
        for r in rows:
            r["before"] = json.loads(r["before"]) if r["before"] else None
            r["after"] = json.loads(r["after"]) if r["after"] else None
        return rows

    def redo_action(self, coder: str) -> ActionRecord | None:
        """Apply again the coder's most recently undone action (possible until the coder makes
        a new action). Returns the action redone, or None when there is nothing to redo."""
        coder = self.resolve_coder(coder)
        with self.write():
            row = self._one("SELECT id FROM actions WHERE coder = ? AND state = ? ORDER BY id ASC LIMIT 1",
                            [coder, UNDONE])
            if row is None:
                return None
            entries = self._all("SELECT * FROM audit WHERE action = ? AND undone = 1 ORDER BY id ASC", [row[0]])
            self._restore(entries, "after")
            self._run("UPDATE audit SET undone = 0 WHERE action = ? AND undone = 1", [row[0]])
            self._run("UPDATE actions SET state = ? WHERE id = ?", [DONE, row[0]])
            self._changed("redo", row[0], coder)
            return self._record(row[0])

    def undo(self, coder: str) -> str | None:
        """Undo the coder's last action (see :meth:`undo_action`); returns its description,
        or None when there is nothing to undo."""
        done = self.undo_action(coder)
        return done.description if done else None

    def actions(self, coder: str, limit: int = 20, redo: bool = False) -> list[ActionRecord]:
        """The coder's actions that can be undone (with ``redo``: redone), newest first (at
        most ``limit``); an action whose every row was closed by a re-import or a dropped code
        is left out."""
        coder = self.resolve_coder(coder)
        state, live = (UNDONE, 1) if redo else (DONE, 0)
        order = "ASC" if redo else "DESC"
        return [self._record(r["id"]) for r in self._all(
            f"""SELECT a.id FROM actions a WHERE a.coder = ? AND a.state = ?
                AND EXISTS (SELECT 1 FROM audit u WHERE u.action = a.id AND u.undone = ?)
                ORDER BY a.id {order} LIMIT ?""", [coder, state, live, limit])]

    def last_action_id(self) -> int:
        """The id of the newest action in the study (0 when there is none)."""
        row = self._one("SELECT max(id) FROM actions")
        return row[0] or 0 if row else 0

    def drop_codings_of_codes(self, codes: Iterable[str], description: str) -> int:
        """Delete every coding of ``codes`` (codes a new dictionary drops), as one audited
        action per coder (origin ``dictionary``), so "who changed this" has an answer; the
        actions are closed at once, since a coding of a code the study no longer has cannot
        be restored. Earlier history of those codings is closed too. Returns codings deleted."""
        codes = list(codes)
        if not codes:
            return 0
        marks = ", ".join("?" for _ in codes)
        rows = self._all(f"SELECT * FROM codings WHERE code IN ({marks}) ORDER BY coder, passage_id", codes)
        with self.write():
            for coder in sorted({r["coder"] for r in rows}):
                with self.action(coder, "dictionary", description) as act:
                    for r in rows:
                        if r["coder"] == coder:
                            act._put("codings", r, None)
                if act.id is not None:
                    self._run("UPDATE actions SET state = ? WHERE id = ?", [CLOSED, act.id])
            self._run(f"""UPDATE audit SET undone = 2 WHERE tbl = 'codings'
                          AND json_extract(key, '$.code') IN ({marks})""", codes)
        return len(rows)

    # -- reading -----------------------------------------------------------------------------------
    def codings_for(self, passage_id: int, coder: str) -> list[dict]:
        """The coder's codings of a passage in dictionary order: dicts with code, level,
        origin, updated_at."""
        return self._all(
            """SELECT c.code, c.level, c.origin, c.updated_at FROM codings c JOIN codes k ON k.code = c.code
               WHERE c.passage_id = ? AND c.coder = ? ORDER BY k.position""",
            [passage_id, self.resolve_coder(coder)])

    def mark_for(self, passage_id: int, coder: str) -> dict | None:
        """The coder's mark on a passage (dict with passage_id, coder, no_code, memo,
        updated_at, decided_by), or None."""
        return self._row("passage_marks", [passage_id, self.resolve_coder(coder)])

    def marks(self, coder: str | None = None) -> list[dict]:
        """Every passage mark (of ``coder``, or of all): dicts with passage_id, coder, no_code,
        memo, updated_at, decided_by."""
        if coder:
            return self._all("SELECT * FROM passage_marks WHERE coder = ? ORDER BY passage_id",
                             [self.resolve_coder(coder)])
        return self._all("SELECT * FROM passage_marks ORDER BY passage_id, coder")

    def all_codings(self) -> list[dict]:
        """Every coding row as stored (for merging study files): dicts with passage_id, coder,
        code, level, origin, created_at, updated_at, decided_by."""
        return self._all("SELECT * FROM codings ORDER BY passage_id, coder, code")

    def coders(self) -> list[str]:
        """Names of the coders who have made at least one decision."""
        return [r["coder"] for r in self._all(
            "SELECT coder FROM codings UNION SELECT coder FROM passage_marks WHERE no_code = 1 ORDER BY 1")]

    def decided_pairs(self) -> list[tuple[str, int]]:
        """(coder, passage id) for every passage a coder has coded or marked "no code"."""
        return [(r[0], r[1]) for r in self._run(
            "SELECT coder, passage_id FROM codings UNION "
            "SELECT coder, passage_id FROM passage_marks WHERE no_code = 1").fetchall()]

    def is_decided(self, coder: str, passage_id: int) -> bool:
        """True when ``coder`` has coded the passage or marked it "no code"."""
        coder = self.resolve_coder(coder)
        return self._one(
            "SELECT EXISTS (SELECT 1 FROM codings WHERE passage_id = ? AND coder = ?) OR "
            "EXISTS (SELECT 1 FROM passage_marks WHERE passage_id = ? AND coder = ? AND no_code = 1)",
            [passage_id, coder, passage_id, coder])[0] == 1

    def level_counts(self, coder: str) -> dict[str, dict[int, int]]:
        """How often ``coder`` gave each level of each code: code -> level -> codings (codings
        without a level are not counted)."""
        out: dict[str, dict[int, int]] = {}
        for code, level, n in self._run("SELECT code, level, count(*) FROM codings WHERE coder = ? "
                                        "AND level IS NOT NULL GROUP BY code, level", [self.resolve_coder(coder)]):
            out.setdefault(code, {})[level] = n
        return out

    def decided_passages(self, coder: str) -> set[int]:
        """Ids of the passages the coder has coded or marked "no code"."""
        coder = self.resolve_coder(coder)
        return {r[0] for r in self._run(
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
            params.append(self.resolve_coder(coder))
        sql += " ORDER BY t.interviewee, t.id, p.ordinal, k.position, c.coder"
        return self._all(sql, params)

    def decision_rows(self, coder: str) -> list[dict]:
        """The coder's decisions in a form independent of row ids and times: dicts with
        interviewee, sha256 (of the transcript), ordinal, code ('' for "no code") and level."""
        coder = self.resolve_coder(coder)
        return self._all(
            """SELECT t.interviewee, t.sha256, p.ordinal, c.code, c.level FROM codings c
               JOIN passages p ON p.id = c.passage_id JOIN transcripts t ON t.id = p.transcript_id WHERE c.coder = ?
               UNION ALL
               SELECT t.interviewee, t.sha256, p.ordinal, '', NULL FROM passage_marks m
               JOIN passages p ON p.id = m.passage_id JOIN transcripts t ON t.id = p.transcript_id
               WHERE m.coder = ? AND m.no_code = 1""", [coder, coder])

    def passage_decisions(self, coder: str | None = None) -> list[dict]:
        """Every passage with its interviewee, group and ``coder``'s decision on it, in reading
        order (interviewee, transcript id, ordinal): dicts with id, transcript_id, ordinal,
        start, end, text, interviewee, grp, n_codes (the coder's codings of the passage) and
        no_code (1 when the coder marked it "no code"). Without ``coder`` every passage counts
        as undecided (n_codes 0, no_code 0)."""
        coder = self.resolve_coder(coder) if coder else ""
        return self._all(
            """SELECT p.id, p.transcript_id, p.ordinal, p.start, p."end", p.text, t.interviewee, i.grp,
                      (SELECT count(*) FROM codings c WHERE c.passage_id = p.id AND c.coder = ?) AS n_codes,
                      coalesce((SELECT m.no_code FROM passage_marks m WHERE m.passage_id = p.id AND m.coder = ?), 0)
                          AS no_code
               FROM passages p JOIN transcripts t ON t.id = p.transcript_id
               LEFT JOIN interviewees i ON i.id = t.interviewee ORDER BY t.interviewee, t.id, p.ordinal""",
            [coder, coder])
