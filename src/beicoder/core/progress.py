"""What an open coding screen keeps counted, updated by each change instead of recounted.

:class:`ProgressTracker` reads a study once (which coder decided which passage, and the
levels one coder gives each code) and then follows the study's log of changes
(:meth:`~beicoder.core.store.Store.changes_since`): each action done, undone or redone, by
this session or by any other, is replayed from its audit rows. So the work per decision is
the size of the decision, never the size of the study: the transcript list's progress
counts, the coder's usual levels and "is this passage decided" all stay right at 1,000
interviews, and another session's decisions show up without any recount.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Changed:
    """What :meth:`ProgressTracker.sync` found changed: ``passages`` (ids whose codings or
    marks changed), ``counts`` (coder -> ids of the transcripts whose count of decided
    passages changed), ``actions`` (the change rows replayed: dicts of ``changes_since``),
    ``reload`` (a study-wide change, a re-import or a new dictionary: everything was read
    again)."""

    passages: set[int] = field(default_factory=set)
    counts: dict[str, set[int]] = field(default_factory=dict)
    actions: list[dict] = field(default_factory=list)
    reload: bool = False

    def __bool__(self) -> bool:
        return bool(self.passages or self.counts or self.actions or self.reload)


class ProgressTracker:
    """Counts of one study kept up to date by its change log.

    ``ProgressTracker(store, coder)``: ``coder`` is the screen's own coder, whose usual levels
    are kept (see :meth:`usual_levels`). After every write, and whenever the study may have
    been written by another session, call :meth:`sync`.
    """

    def __init__(self, store, coder: str):
        self.store = store
        self.coder = store.resolve_coder(coder)
        self.load()

    def load(self) -> None:
        """Read everything once (also after a study-wide change)."""
        store = self.store
        with store.snapshot():  # the counts and the change number they stand at, read together
            self.seq = store.last_change()
            self.transcript_of: dict[int, int] = store.passage_transcripts()
            pairs = store.decided_pairs()
            levels = store.level_counts(self.coder)
        self.decided: dict[str, set[int]] = {}
        for coder, pid in pairs:
            self.decided.setdefault(coder, set()).add(pid)
        self.counts: dict[str, Counter] = {}
        for coder, pids in self.decided.items():
            self.counts[coder] = Counter(self.transcript_of[p] for p in pids if p in self.transcript_of)
        self.levels: dict[str, Counter] = {code: Counter(n) for code, n in levels.items()}

    # -- reading ------------------------------------------------------------------------------------
    def coders(self) -> list[str]:
        """Coders with at least one decided passage, sorted."""
        return sorted(c for c, pids in self.decided.items() if pids)

    def done(self, coder: str, transcript_id: int) -> int:
        """Passages of the transcript ``coder`` has decided."""
        return self.counts.get(coder, Counter()).get(transcript_id, 0)

    def done_by(self, coder: str) -> dict[int, int]:
        """Transcript id -> passages decided by ``coder`` (transcripts with none left out)."""
        return {t: n for t, n in self.counts.get(coder, Counter()).items() if n}

    def is_decided(self, coder: str, passage_id: int) -> bool:
        """Has ``coder`` coded the passage or marked it "no code"?"""
        return passage_id in self.decided.get(coder, ())

    def total(self, coder: str) -> int:
        """Passages ``coder`` has decided in the whole study."""
        return len(self.decided.get(coder, ()))

    def usual_levels(self) -> dict[str, int]:
        """The level the tracker's coder gives each code most often (ties: the lower level);
        codes never given a level are absent."""
        return {code: min(c, key=lambda lv: (-c[lv], lv)) for code, c in self.levels.items() if +c}

    # -- following the change log ---------------------------------------------------------------
    def sync(self) -> Changed:
        """Replay the changes logged since the last sync (this session's and others') and say
        what changed. Cheap when nothing did: one look at the newest change's number."""
        changed = Changed()
        while True:
            rows = self.store.changes_since(self.seq)
            if not rows:
                return changed
            for row in rows:
                self.seq = row["seq"]
                changed.actions.append(row)
                if row["kind"] == "study":
                    self.load()
                    changed.reload = True
                    return changed
                self._replay(row, changed)

    def _replay(self, row: dict, changed: Changed) -> None:
        sign = -1 if row["kind"] == "undo" else 1
        touched: set[tuple[str, int]] = set()
        for r in self.store.action_changes(row["action"]):
            touched.add((r["coder"], r["passage_id"]))
            if r["tbl"] == "codings" and r["coder"] == self.coder:
                before, after = (r["before"], r["after"]) if sign > 0 else (r["after"], r["before"])
                for old_new, step in ((before, -1), (after, 1)):
                    if old_new and old_new.get("level") is not None:
                        self.levels.setdefault(old_new["code"], Counter())[old_new["level"]] += step
        for coder, pid in touched:
            changed.passages.add(pid)
            now = self.store.is_decided(coder, pid)
            pids = self.decided.setdefault(coder, set())
            if now == (pid in pids):
                continue
            tid = self.transcript_of.get(pid)
            if tid is None:
                tid = self.store.transcript_of(pid)
                if tid is None:
                    continue
                self.transcript_of[pid] = tid
            counts = self.counts.setdefault(coder, Counter())
            if now:
                pids.add(pid)
                counts[tid] += 1
            else:
                pids.discard(pid)
                counts[tid] -= 1
            changed.counts.setdefault(coder, set()).add(tid)
