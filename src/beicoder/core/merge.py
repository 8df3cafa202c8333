"""Bring another coder's study file into this one (``beicoder merge``).

Transcripts are matched by content: the sha256 of the imported file, or else of the stored
text. Passages of a matched transcript are matched by offsets and text. Codings and passage
marks (no code, memo) are copied under their own coder; where the same coder has the same
row in both files, the more recently changed one wins. Merging the same file twice changes
nothing. The whole merge is one transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class MergeReport:
    """What a merge did: transcripts matched and not, and per coder the rows added,
    updated (the other file's were newer), unchanged, or kept (ours were newer)."""

    matched: list[tuple[str, str]] = field(default_factory=list)  # (their interviewee, our interviewee)
    unmatched: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # same interviewee here, other text
    unmatched_passages: int = 0
    unknown_codes: set[str] = field(default_factory=set)
    coders: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, coder: str, what: str) -> None:
        tally = self.coders.setdefault(coder, {"added": 0, "updated": 0, "unchanged": 0, "kept": 0})
        tally[what] += 1


def _text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def merge_study(store, other_path: str | Path) -> MergeReport:
    """Merge the study file ``other_path`` into ``store`` and return a :class:`MergeReport`.

    Raises:
        StoreError: ``other_path`` is not a beicoder study, or is this study itself.
    """
    from .store import Store, StoreError

    other_path = Path(other_path)
    if other_path.resolve() == store.path.resolve():
        raise StoreError(f"{other_path}: is the study itself")
    other = Store(other_path, create=False)
    report = MergeReport()
    try:
        ours_by_sha = {r["sha256"]: r for r in store.query("SELECT id, interviewee, sha256, text FROM transcripts")}
        ours_by_text = {_text_hash(r["text"]): r for r in ours_by_sha.values()}
        codes = {r["code"] for r in store.query("SELECT code FROM codes")}
        pmap: dict[int, int] = {}
        for t in other.query("SELECT id, interviewee, sha256, text FROM transcripts ORDER BY id"):
            mine = ours_by_sha.get(t["sha256"]) or ours_by_text.get(_text_hash(t["text"]))
            if mine is None or mine["text"] != t["text"]:
                same_name = any(r["interviewee"] == t["interviewee"] for r in ours_by_sha.values())
                (report.changed if same_name else report.unmatched).append(t["interviewee"])
                continue
            report.matched.append((t["interviewee"], mine["interviewee"]))
            ours = {(p.start, p.end): p.id for p in store.passages(mine["id"])}
            for p in other.passages(t["id"]):
                pid = ours.get((p.start, p.end))
                if pid is None:
                    report.unmatched_passages += 1
                else:
                    pmap[p.id] = pid
        codings = [r for r in other.query("SELECT * FROM codings") if r["passage_id"] in pmap]
        marks = [r for r in other.query("SELECT * FROM passage_marks") if r["passage_id"] in pmap]
    finally:
        other.close()
    with store.write():
        for coder in sorted({r["coder"] for r in codings + marks}):
            store.db.execute("INSERT OR IGNORE INTO coders(name, created_at) VALUES (?, datetime('now'))", [coder])
        for row in codings:
            if row["code"] not in codes:
                report.unknown_codes.add(row["code"])
                continue
            _copy(store, "codings", ("passage_id", "coder", "code"), {**row, "passage_id": pmap[row["passage_id"]]},
                  ("level",), report)
        for row in marks:
            _copy(store, "passage_marks", ("passage_id", "coder"), {**row, "passage_id": pmap[row["passage_id"]]},
                  ("no_code", "memo"), report)
    return report


def _copy(store, table: str, key: tuple[str, ...], row: dict, compared: tuple[str, ...], report: MergeReport) -> None:
    where = " AND ".join(f"{k} = ?" for k in key)
    existing = store.query(f"SELECT * FROM {table} WHERE {where}", [row[k] for k in key])
    cols = [c["name"] for c in store.query(f"PRAGMA table_info({table})")]
    values = {c: row.get(c) for c in cols}
    if existing:
        ours = existing[0]
        if all(ours.get(c) == row.get(c) for c in compared):
            report.count(row["coder"], "unchanged")
            return
        if (row.get("updated_at") or "") <= (ours.get("updated_at") or ""):
            report.count(row["coder"], "kept")
            return
        report.count(row["coder"], "updated")
    else:
        report.count(row["coder"], "added")
    store.db.execute(f"INSERT OR REPLACE INTO {table}({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                     [values[c] for c in cols])
