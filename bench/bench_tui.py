"""Responsiveness of the coding TUI on a very long transcript, driven by Textual's Pilot.

Builds, in a temporary folder, the bundled demo study (10 transcripts and the reference
coder's decisions, so the transcript list has another coder's column) plus one synthetic
Chinese transcript of ~300,000 characters (``BIG01``: 访谈者：/被访者： turns, the demo
transcripts' turns shuffled with a fixed seed and lightly varied). Suggestions are computed
for every passage first (not timed), so the TUI has evidence to draw and its background
worker has nothing left to do. Then, with ``BeicoderApp(db, "bench").run_test(size=(160, 45))``:

(a) start-up: from entering ``run_test`` until the coding screen shows the first passage of
    the big transcript (the first transcript with undecided passages for a new coder);
(b) opening the big transcript from another one: ``screen.open_transcript(id)`` plus
    ``await pilot.pause()``, several times (best and median kept);
(c) ``--keys`` pairs of keystrokes "1" then "j" (toggle code 1, next passage), each pair
    timed including ``await pilot.pause()``: median and 95th percentile.

Then, on a generated study of ``--interviews`` interviewees (1,000 by default; ``bench/generate.py``:
about 29 passages each, every passage decided by ``amy`` and ``bob``, keyword suggestions
made first), opened for ``amy``, the coder with the most decisions:

(d) start-up until the first passage is shown;
(e) confirm-and-next: the pair "1" (toggle code 1) then "j" (next passage), handled and
    painted: median and 95th percentile. The keys go through the driver's queue as in (c2);
    the wait is for every queued message to be handled (no Pilot callbacks, which cost more
    than the keys: printed too, for comparison), then the screen is laid out and painted.
    Every decision updates the progress counts and the usual levels from the change just
    made, so this must not grow with the study (issue 12: 418 ms at 1,000 interviews
    before; target p95 <= 16 ms). A pair on a transcript's last passage opens the next
    transcript first (not timed), so every "j" moves.

Prints a table, the targets (open < 0.5 s, key pair p95 < 50 ms on the long transcript; p95
<= 16 ms on the big study) and whether they are met. Figures, not a test: they depend on
the machine.

Run: python bench/bench_tui.py [--chars 300000] [--keys 200] [--interviews 1000] [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

OPEN_TARGET_S = 0.5
KEY_P95_TARGET_MS = 50.0
BIG_STUDY_P95_TARGET_MS = 16.0
INTERVIEWER = "访谈者"
INTERVIEWEE = "被访者"
VARIANTS = ["", "说实话，", "其实", "我记得", "后来想想，", "当时", "坦白讲，", "那段时间"]


def build_big_transcript(path: Path, chars: int) -> None:
    """Write a transcript of about ``chars`` characters made of the demo transcripts' turns:
    interviewer question, interviewee answer, shuffled with a fixed seed, with a varied
    opening to each answer so that no two turns are identical."""
    from beicoder.core.ingest import read_transcript
    from beicoder.core.paths import demo_study

    questions, answers = [], []
    for f in sorted(demo_study().glob("MC*.txt")):
        parsed = read_transcript(f)
        for t in parsed.turns:
            words = parsed.text[t.start:t.end].strip().replace("\n", "")
            if not words:
                continue
            if t.role == "interviewer":
                questions.append(words)
            elif t.role == "interviewee":
                answers.append(words)
    rng = random.Random(11)
    lines = ["# 行为事件访谈 BIG01（合成，用于性能测试）", ""]
    size = 0
    k = 0
    while size < chars:
        k += 1
        q = rng.choice(questions)
        a = rng.choice(VARIANTS) + rng.choice(answers)
        if rng.random() < 0.5:  # a longer answer: two turns' worth
            a += rng.choice(answers)
        block = f"{INTERVIEWER}：{q}\n\n{INTERVIEWEE}：（第{k}段）{a}\n"
        lines.append(block)
        size += len(block) + 1
    path.write_text("\n".join(lines), encoding="utf-8")


def build_study(folder: Path, chars: int) -> tuple[Path, int, int, int, int]:
    """The demo study plus BIG01, suggested. Returns (db, big id, other id, big's characters,
    big's passages)."""
    from beicoder.core.store import Store
    from beicoder.core.study import build_demo, import_parsed, parse_files
    from beicoder.core.suggest.lexicon import suggest_study

    db = folder / "bench.db"
    build_demo(db, progress=lambda _m: None)
    big = folder / "BIG01.txt"
    build_big_transcript(big, chars)
    store = Store(db, create=False)
    try:
        results = import_parsed(store, parse_files([big]))
        if results[0].status != "imported":
            raise SystemExit(f"BIG01 not imported: {results[0].message}")
        store.upsert_interviewees([{"id": "BIG01", "grp": "outstanding"}])
        t0 = time.perf_counter()
        suggest_study(store, store.dictionary())
        print(f"(setup) suggestions for the whole study: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        rows = {t["interviewee"]: t for t in store.transcripts()}
        big_id, other_id = rows["BIG01"]["id"], rows["MC01"]["id"]
        n_chars = len(store.transcript_text(big_id))
        n_passages = rows["BIG01"]["n_passages"]
    finally:
        store.close()
    return db, big_id, other_id, n_chars, n_passages


def pct(values: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``values``."""
    s = sorted(values)
    return s[max(0, min(len(s) - 1, round(p / 100 * len(s) + 0.5) - 1))]


async def drive(db: Path, big_id: int, other_id: int, keys: int, opens: int) -> dict:
    from beicoder.tui.app import BeicoderApp
    from beicoder.tui.screens.coding import CodingScreen

    app = BeicoderApp(str(db), "bench")
    out: dict = {}
    t0 = time.perf_counter()
    async with app.run_test(size=(160, 45)) as pilot:
        while True:
            screen = app.screen
            if isinstance(screen, CodingScreen) and screen.transcript_id == big_id and screen.passage is not None:
                break
            if time.perf_counter() - t0 > 120:
                raise SystemExit("the coding screen did not show the big transcript within 120 s")
            await asyncio.sleep(0.001)
        out["startup"] = time.perf_counter() - t0
        await pilot.pause()
        out["startup_painted"] = time.perf_counter() - t0

        open_times = []
        for _ in range(opens):
            screen.open_transcript(other_id)
            await pilot.pause()
            t = time.perf_counter()
            screen.open_transcript(big_id)
            await pilot.pause()
            open_times.append(time.perf_counter() - t)
        assert screen.transcript_id == big_id and screen.index == 0
        out["open"] = open_times

        # (c1) as a test would: pilot.press + pilot.pause. Pilot detects "idle" by sleeping in
        # 20 ms slices (textual._wait.wait_for_idle) twice per key and once per pause, so
        # this wall time has a floor of about 100 ms per pair whatever the app does; the CPU
        # time of the process over the same pair is the work actually done.
        pair_times, pair_cpu = [], []
        for _ in range(keys):
            t, c = time.perf_counter(), time.process_time()
            await pilot.press("1")
            await pilot.press("j")
            await pilot.pause()
            pair_times.append(time.perf_counter() - t)
            pair_cpu.append(time.process_time() - c)
        out["pairs"], out["pairs_cpu"] = pair_times, pair_cpu
        out["index_after"] = screen.index

        # (c2) the latency a coder sees: the key events go through the same driver queue as
        # pilot.press, we wait until the screen and its widgets have handled every message
        # queued (Pilot._wait_for_screen, no fixed sleeps), then lay out and paint the
        # screen at once (what Textual's refresh timer would do on its next tick).
        from textual import events

        screen.open_transcript(big_id, keys + 10)  # passages not coded yet
        await pilot.pause()
        direct = []
        for _ in range(keys):
            t = time.perf_counter()
            for key in ("1", "j"):
                app._driver.send_message(events.Key(key, key))
                await pilot._wait_for_screen()
            await pilot._wait_for_screen()  # messages posted while handling the keys
            app.screen._on_timer_update()  # layout + render of what changed
            direct.append(time.perf_counter() - t)
        out["direct"] = direct
        out["index_after_direct"] = screen.index
        await pilot.pause()
    return out


def build_big_study(folder: Path, interviews: int) -> Path:
    """A generated study of ``interviews`` interviewees (see bench/generate.py), with the
    lexicon's suggestions made (not timed)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from generate import generate_study

    from beicoder.core.store import Store
    from beicoder.core.suggest.lexicon import suggest_study

    db = folder / "big.db"
    generate_study(db, interviews, progress=lambda m: print(f"(setup) {m}", file=sys.stderr))
    store = Store(db, create=False)
    try:
        t0 = time.perf_counter()
        suggest_study(store, store.dictionary())
        print(f"(setup) suggestions for {interviews} interviews: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    finally:
        store.close()
    return db


async def settled(app) -> None:
    """Wait until the app, the screen and every widget have handled every message queued
    (messages posted while handling others too), without posting any: Pilot's
    ``_wait_for_screen`` sends a callback to each of the screen's ~40 widgets, about 120
    messages per key pair, which costs more than the keys themselves."""
    quiet = 0
    while quiet < 2:
        await asyncio.sleep(0)
        nodes = (app, app.screen, *app.screen.walk_children())
        quiet = 0 if any(not n._message_queue.empty() for n in nodes) else quiet + 1


async def pairs_painted(app, pilot, keys: int, pilot_wait: bool = False) -> list[float]:
    """``keys`` pairs "1" + "j", each handled and painted; seconds per pair. Before a pair
    on a transcript's last passage the next transcript is opened (not timed), so every "j"
    moves. ``pilot_wait``: wait for the messages as (c2) does, through Pilot."""
    from textual import events

    out = []
    screen = app.screen
    order = [t["id"] for t in screen.transcripts]
    for _ in range(keys):
        if screen.index >= len(screen.passages) - 1:
            k = order.index(screen.transcript_id)
            screen.open_transcript(order[(k + 1) % len(order)], 0)
            await pilot.pause()
        t = time.perf_counter()
        for key in ("1", "j"):
            app._driver.send_message(events.Key(key, key))
            await (pilot._wait_for_screen() if pilot_wait else settled(app))
        app.screen._on_timer_update()
        out.append(time.perf_counter() - t)
    return out


async def drive_big(db: Path, keys: int) -> dict:
    from beicoder.tui.app import BeicoderApp
    from beicoder.tui.screens.coding import CodingScreen

    app = BeicoderApp(str(db), "amy")
    out: dict = {}
    t0 = time.perf_counter()
    async with app.run_test(size=(160, 45)) as pilot:
        while not (isinstance(app.screen, CodingScreen) and app.screen.passage is not None):
            if time.perf_counter() - t0 > 120:
                raise SystemExit("the coding screen did not open within 120 s")
            await asyncio.sleep(0.001)
        out["startup"] = time.perf_counter() - t0
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        screen.poll_timer.pause()  # no other session here; the poll's cost is measured apart
        await pairs_painted(app, pilot, 5)  # warm up
        before = screen.tracker.seq
        out["pairs"] = await pairs_painted(app, pilot, keys)
        out["decisions"] = screen.tracker.seq - before
        out["pairs_pilot"] = await pairs_painted(app, pilot, keys, pilot_wait=True)
        out["transcripts"] = len(screen.transcripts)
        out["passages"] = sum(t["n_passages"] for t in screen.transcripts)
        t = time.perf_counter()
        for _ in range(100):
            screen._poll()
        out["poll"] = (time.perf_counter() - t) / 100
        await pilot.pause()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chars", type=int, default=300_000, help="size of the synthetic transcript")
    ap.add_argument("--keys", type=int, default=200, help="number of '1','j' key pairs")
    ap.add_argument("--opens", type=int, default=5, help="times the big transcript is opened")
    ap.add_argument("--interviews", type=int, default=1000, help="interviewees of the generated study (0: skip)")
    ap.add_argument("--profile", help="write a cProfile of the TUI parts to this file")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db, big_id, other_id, n_chars, n_passages = build_study(Path(tmp), args.chars)
        big_db = build_big_study(Path(tmp), args.interviews) if args.interviews else None
        if args.profile:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        res = asyncio.run(drive(db, big_id, other_id, args.keys, args.opens))
        big = asyncio.run(drive_big(big_db, args.keys)) if big_db else None
        if args.profile:
            prof.disable()
            prof.dump_stats(args.profile)

    for name, want in (("index_after", args.keys), ("index_after_direct", 2 * args.keys + 10)):
        if res[name] != want:
            print(f"warning: {name} = {res[name]}, expected {want}", file=sys.stderr)
    pairs_ms = [t * 1000 for t in res["pairs"]]
    cpu_ms = [t * 1000 for t in res["pairs_cpu"]]
    direct_ms = [t * 1000 for t in res["direct"]]
    open_s = res["open"]
    p95 = pct(direct_ms, 95)
    open_med = statistics.median(open_s)
    print(f"beicoder TUI benchmark: transcript BIG01 of {n_chars:,} characters, {n_passages:,} passages "
          f"(+ 10 demo transcripts), terminal 160x45")
    print()
    rows = [
        ("(a) start-up until big transcript's first passage shown", f"{res['startup']:.3f} s"),
        ("    ... and painted (after pilot.pause())", f"{res['startup_painted']:.3f} s"),
        (f"(b) open big transcript from MC01, median of {len(open_s)}", f"{open_med:.3f} s"),
        ("    best / worst", f"{min(open_s):.3f} s / {max(open_s):.3f} s"),
        (f"(c1) key pair '1'+'j' via pilot.press+pause ({len(pairs_ms)} pairs), median",
         f"{statistics.median(pairs_ms):.1f} ms"),
        ("     95th percentile (wall, incl. Pilot's idle-wait sleeps)", f"{pct(pairs_ms, 95):.1f} ms"),
        ("     CPU time per pair: median / 95th percentile",
         f"{statistics.median(cpu_ms):.1f} / {pct(cpu_ms, 95):.1f} ms"),
        (f"(c2) key pair '1'+'j' handled and painted ({len(direct_ms)} pairs), median",
         f"{statistics.median(direct_ms):.1f} ms"),
        ("     95th percentile", f"{p95:.1f} ms"),
        ("     max", f"{max(direct_ms):.1f} ms"),
    ]
    w = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{w}}  {value:>16}")
    print()
    ok_open = max(res["startup"], open_med) < OPEN_TARGET_S
    ok_keys = p95 < KEY_P95_TARGET_MS
    print(f"target: a 300,000-character transcript opens in < {OPEN_TARGET_S} s "
          f"(start-up {res['startup']:.3f} s, open {open_med:.3f} s): {'met' if ok_open else 'NOT met'}")
    print(f"target: confirm a code and move on, p95 < {KEY_P95_TARGET_MS:.0f} ms "
          f"((c2) {p95:.1f} ms): {'met' if ok_keys else 'NOT met'}")
    print("(c1 cannot go below ~100 ms: pilot.press and pilot.pause each wait for idle in 20 ms sleeps)")
    if big is None:
        return 0
    big_ms = [t * 1000 for t in big["pairs"]]
    pilot_ms = [t * 1000 for t in big["pairs_pilot"]]
    big_p95 = pct(big_ms, 95)
    if big["decisions"] != args.keys:
        print(f"warning: {big['decisions']} decisions logged for {args.keys} pairs", file=sys.stderr)
    print()
    print(f"generated study: {big['transcripts']:,} interviewees, {big['passages']:,} passages, every passage "
          "decided by amy and bob; opened for amy; terminal 160x45")
    rows = [
        ("(d) start-up until the first passage is shown", f"{big['startup']:.3f} s"),
        (f"(e) confirm-and-next '1'+'j' handled and painted ({len(big_ms)} pairs), median",
         f"{statistics.median(big_ms):.1f} ms"),
        ("     95th percentile", f"{big_p95:.1f} ms"),
        ("     max", f"{max(big_ms):.1f} ms"),
        ("     the same, waiting through Pilot as (c2) does: median / p95",
         f"{statistics.median(pilot_ms):.1f} / {pct(pilot_ms, 95):.1f} ms"),
        ("     the once-a-second poll for other sessions, when nothing changed", f"{big['poll'] * 1e6:.0f} µs"),
    ]
    w = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{w}}  {value:>16}")
    print(f"target: confirm-and-next p95 <= {BIG_STUDY_P95_TARGET_MS:.0f} ms at {big['transcripts']:,} interviewees "
          f"((e) {big_p95:.1f} ms): {'met' if big_p95 <= BIG_STUDY_P95_TARGET_MS else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
