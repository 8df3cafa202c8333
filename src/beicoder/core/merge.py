"""Bring another coder's study file into this one (``beicoder merge``).

Transcripts are matched by content: the sha256 of the imported file, or else of the stored
text. Passages of a matched transcript are matched by offsets and text. Codings and passage
marks (no code, memo) are copied under their own coder; a coder whose name differs from one
of this study's only in case, width, spaces or invisible characters (``li`` and ``Li``: see
:func:`~beicoder.core.store.coder_identity`) is that coder, and the report says so. Where
the same coder has the same row in both files, the more recently changed one wins, and where the other file changed a
passage's decision last, its codes replace ours there (a code taken back or replaced by "no
code" in the other file is removed here too). A passage whose every decision was taken back in
the other file cannot be told from one never decided there, and is left as it is here. Merging
the same file twice changes nothing. The whole merge is one transaction, written through the store's audited path: one
action per coder (origin ``merge``), which ``beicoder undo --coder NAME`` takes back whole.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class MergeReport:
    """What a merge did: transcripts matched and not, per coder (as this study names them)
    the rows added, updated (the other file's were newer), unchanged, or kept (ours were
    newer), and ``same_coder``: ``(name in the other file, coder here)`` for every name taken
    as one of this study's coders (or of the other file's) although typed differently."""

    matched: list[tuple[str, str]] = field(default_factory=list)  # (their interviewee, our interviewee)
    unmatched: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # same interviewee here, other text
    unmatched_passages: int = 0
    unknown_codes: set[str] = field(default_factory=set)
    coders: dict[str, dict[str, int]] = field(default_factory=dict)
    same_coder: list[tuple[str, str]] = field(default_factory=list)

    def count(self, coder: str, what: str) -> None:
        tally = self.coders.setdefault(coder, {"added": 0, "updated": 0, "unchanged": 0, "kept": 0, "removed": 0})
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
        ours_by_sha = {r["sha256"]: r for r in store.transcript_rows()}
        ours_by_text = {_text_hash(r["text"]): r for r in ours_by_sha.values()}
        codes = store.code_keys()
        pmap: dict[int, int] = {}
        for t in sorted(other.transcript_rows(), key=lambda r: r["id"]):
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
        codings = [r for r in other.all_codings() if r["passage_id"] in pmap]
        marks = [r for r in other.marks() if r["passage_id"] in pmap]
    finally:
        other.close()
    theirs = sorted({r["coder"] for r in codings + marks})
    ours = store.resolve_coders(theirs)
    report.same_coder = [(name, ours[name]) for name in theirs if ours[name] != name]
    codings = [{**r, "coder": ours[r["coder"]]} for r in codings]
    marks = [{**r, "coder": ours[r["coder"]]} for r in marks]
    description = f"merge {other_path.name}"
    # a passage's decision by a coder is one unit: where the other file changed it last, ours
    # becomes theirs, so a code they took back (or replaced by "no code") goes here too
    theirs_units: dict[tuple[int, str], dict] = {}
    for row in codings + marks:
        unit = theirs_units.setdefault((pmap[row["passage_id"]], row["coder"]), {"codes": set(), "time": ""})
        unit["time"] = max(unit["time"], row.get("updated_at") or "")
        if "code" in row:
            unit["codes"].add(row["code"])
    newer = []
    for (pid, coder), unit in theirs_units.items():
        mine = [c.get("updated_at") or "" for c in store.codings_for(pid, coder)]
        mark = store.mark_for(pid, coder)
        if mark:
            mine.append(mark.get("updated_at") or "")
        if mine and unit["time"] > max(mine):
            newer.append((pid, coder, unit["codes"]))
    with store.write():
        for coder in sorted(set(ours.values())):
            with store.action(coder, "merge", description) as act:
                for pid, who, wanted in newer:
                    if who != coder:
                        continue
                    for c in store.codings_for(pid, coder):
                        if c["code"] not in wanted and act.remove_coding(pid, c["code"]):
                            report.count(coder, "removed")
                for row in codings:
                    if row["coder"] != coder:
                        continue
                    if row["code"] not in codes:
                        report.unknown_codes.add(row["code"])
                        continue
                    _copy(act, "codings", {**row, "passage_id": pmap[row["passage_id"]]}, ("level",), report)
                for row in marks:
                    if row["coder"] == coder:
                        _copy(act, "passage_marks", {**row, "passage_id": pmap[row["passage_id"]]},
                              ("no_code", "memo"), report)
    return report


def _copy(act, table: str, row: dict, compared: tuple[str, ...], report: MergeReport) -> None:
    """Copy the other study's ``row`` through the open audited action ``act`` unless ours is
    the same or newer; count what happened."""
    if table == "codings":
        ours = act.coding(row["passage_id"], row["code"])
    else:
        ours = act.store.mark_for(row["passage_id"], row["coder"])
    if ours is not None:
        if all(ours.get(c) == row.get(c) for c in compared):
            report.count(row["coder"], "unchanged")
            return
        if (row.get("updated_at") or "") <= (ours.get("updated_at") or ""):
            report.count(row["coder"], "kept")
            return
        report.count(row["coder"], "updated")
    else:
        report.count(row["coder"], "added")
    act.copy_row(table, row)
