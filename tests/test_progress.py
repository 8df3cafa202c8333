"""ProgressTracker: counts kept by replaying the change log, checked against full recounts."""

from __future__ import annotations

import random

from beicoder.core.progress import ProgressTracker
from beicoder.core.store import Store
from beicoder.core.suggest.learned import usual_levels


def recount(store: Store, coder: str) -> dict[int, int]:
    return {t["id"]: t["n_decided"] for t in store.transcripts(coder) if t["n_decided"]}


def test_the_tracker_follows_every_kind_of_change(tiny_study):
    store = Store(tiny_study)
    other = Store(tiny_study)  # another session on the same file
    tracker = ProgressTracker(store, "amy")
    pids = [p.id for p in store.passages()]
    codes = ["ACH", "INFO", "IU", "CSO"]
    rng = random.Random(3)
    for step in range(120):
        who = rng.choice([store, other])
        coder = rng.choice(["amy", "amy", "bob"])
        pid = rng.choice(pids)
        move = rng.random()
        if move < 0.35:
            who.toggle_code(pid, coder, rng.choice(codes))
        elif move < 0.5:
            who.add_codes(pid, coder, {rng.choice(codes): rng.randint(0, 5)})
        elif move < 0.6:
            who.mark_no_code(pid, coder)
        elif move < 0.7:
            who.set_memo(pid, coder, f"memo {step}")
        elif move < 0.85:
            who.undo_action(coder)
        else:
            who.redo_action(coder)
        if step % 7 == 0 or step == 119:
            changed = tracker.sync()
            for coder_ in ("amy", "bob"):
                assert tracker.done_by(coder_) == recount(store, coder_), step
                assert {p for p in pids if tracker.is_decided(coder_, p)} == store.decided_passages(coder_)
            assert tracker.usual_levels() == usual_levels(store, "amy"), step
            assert changed.reload is False
    # nothing new: a sync reads one row number and changes nothing
    assert not tracker.sync()
    other.close()
    store.close()


def test_a_study_wide_change_reloads(tiny_study, tmp_path):
    from beicoder.core.study import import_parsed, parse_files
    from conftest import TINY_A

    store = Store(tiny_study)
    tracker = ProgressTracker(store, "amy")
    first = store.passages()[0].id
    store.toggle_code(first, "amy", "ACH")
    assert tracker.sync().counts == {"amy": {store.transcript_of(first)}}
    (tmp_path / "A01.txt").write_text(TINY_A.replace("后来他按时还款了", "后来他按时还清了"), encoding="utf-8")
    import_parsed(store, parse_files([tmp_path / "A01.txt"]))  # a new version: passage ids change
    changed = tracker.sync()
    assert changed.reload
    assert tracker.done_by("amy") == recount(store, "amy")
    store.close()
