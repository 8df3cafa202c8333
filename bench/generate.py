"""Generated studies for the benchmarks: many interviews built from the demo study's turns.

``generate_study(db, interviews)`` writes ``interviews`` transcripts (about 4,000 characters
and 29 passages each, like the demo's), made of the demo transcripts' interviewer and
interviewee turns drawn with a fixed seed, with a varied opening to every answer so that no
two interviews are the same; half the interviewees are outstanding. Two coders, ``amy`` and
``bob``, decide every passage: codes are drawn per passage with probabilities that are higher
in the outstanding group, levels 1-5, and ``bob`` agrees with ``amy`` on about 80 % of the
codes. Decisions go through the store's audited path, as an import would.

Run on its own: python bench/generate.py STUDY.db [--interviews 1000]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

VARIANTS = ["", "说实话，", "其实", "我记得", "后来想想，", "当时", "坦白讲，", "那段时间", "嗯，", "怎么说呢，"]


def demo_turns() -> tuple[list[str], list[str]]:
    """The demo transcripts' interviewer questions and interviewee answers (text only)."""
    from beicoder.core.ingest import read_transcript
    from beicoder.core.paths import demo_study

    questions, answers = [], []
    for f in sorted(demo_study().glob("MC*.txt")):
        parsed = read_transcript(f)
        for t in parsed.turns:
            words = parsed.text[t.start:t.end].strip().replace("\n", "")
            if words:
                (questions if t.role == "interviewer" else answers).append(words)
    return questions, answers


def transcript(rng: random.Random, questions: list[str], answers: list[str], chars: int, k: int) -> str:
    lines = [f"# 行为事件访谈 G{k:04d}（合成，用于性能测试）", ""]
    size = 0
    turn = 0
    while size < chars:
        turn += 1
        block = (f"访谈者：{rng.choice(questions)}\n\n"
                 f"被访者：（{k}-{turn}）{rng.choice(VARIANTS)}{rng.choice(answers)}\n")
        lines.append(block)
        size += len(block) + 1
    return "\n".join(lines)


def generate_study(db: str | Path, interviews: int = 1000, chars: int = 4000, seed: int = 5,
                   coders: tuple[str, str] = ("amy", "bob"), progress=print) -> Path:
    """Build the study at ``db`` (see the module docstring). Returns its path."""
    from beicoder.core.dictionary import load_dictionary
    from beicoder.core.paths import default_dictionary
    from beicoder.core.store import Store
    from beicoder.core.study import import_parsed, parse_files

    db = Path(db)
    rng = random.Random(seed)
    questions, answers = demo_turns()
    dictionary = load_dictionary(default_dictionary())
    codes = dictionary.codes
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for k in range(1, interviews + 1):
            path = Path(tmp) / f"G{k:04d}.txt"
            path.write_text(transcript(rng, questions, answers, chars, k), encoding="utf-8")
            files.append(path)
        store = Store(db)
        store.set_dictionary(dictionary)
        meta = [{"id": f"G{k:04d}", "grp": "outstanding" if k % 2 else "average"} for k in range(1, interviews + 1)]
        import_parsed(store, parse_files(files), meta)
    progress(f"imported {interviews} transcripts in {time.perf_counter() - t0:.0f} s")
    groups = {t["id"]: t["grp"] for t in store.transcripts()}
    first, second = [], []
    for p in store.passages():
        strong = groups[p.transcript_id] == "outstanding"
        chosen = {c: rng.randint(1, 5) for c in codes if rng.random() < (0.12 if strong else 0.07)}
        first.append((p.id, coders[0], None, None) if not chosen else None)
        first.extend((p.id, coders[0], c, lv) for c, lv in chosen.items())
        other = {c: (lv if rng.random() < 0.7 else max(1, min(5, lv + rng.choice((-1, 1)))))
                 for c, lv in chosen.items() if rng.random() < 0.8}
        other.update({c: rng.randint(1, 5) for c in codes if c not in chosen and rng.random() < 0.02})
        second.append((p.id, coders[1], None, None) if not other else None)
        second.extend((p.id, coders[1], c, lv) for c, lv in other.items())
    for decisions in (first, second):
        store.apply_decisions([d for d in decisions if d is not None], origin="csv", description="generated")
    store.checkpoint()
    store.close()
    progress(f"built {db}: {interviews} interviews, decisions by {', '.join(coders)} "
             f"({time.perf_counter() - t0:.0f} s in all)")
    return db


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db")
    ap.add_argument("--interviews", type=int, default=1000)
    args = ap.parse_args(argv)
    if Path(args.db).exists():
        print(f"{args.db}: exists", file=sys.stderr)
        return 2
    generate_study(args.db, args.interviews)
    return 0


if __name__ == "__main__":
    sys.exit(main())
