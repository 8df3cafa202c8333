"""Throughput of ``beicoder suggest`` against jieba alone, and the times of ``train`` and
``evaluate`` on generated studies; whole processes, measured from outside.

1. A generated study (bench/generate.py) whose passages hold about 1.5 million characters
   (445 interviews), and a model trained on the demo study's reference coding (and the
   dictionary's examples) saved as ``amy``'s (the generated codes are random and teach a
   model nothing), so that every ``suggest`` run does the whole work: the lexicon with its
   evidence over every passage and the model over every passage it has not scored.
2. Two commands run in turn, A B A B ... (``--pairs`` pairs after one warm-up pair that is not
   counted): A is ``beicoder suggest`` on a fresh copy of that study (the copy is made before
   the run starts and is not timed); B is a Python process that loads jieba and segments the
   same passages (``jieba.lcut``, read from a JSON file). Each run is a child process whose CPU
   time (user + system) and peak memory come from the operating system (``os.wait4``) and
   whose wall time is read around it. The ratio A / B is taken pair by pair, so a slow stretch
   of a shared machine lands on both sides of a pair; median, min and max are printed, and
   "target met" is decided by the median CPU ratio only (target <= 1.0, aim 0.6).
3. ``beicoder train`` on a generated study of 1,000 interviews and ``beicoder evaluate --folds
   5`` on one of 200 (targets: 30 s and 500 MB; 60 s), each run ``--runs`` times on a fresh
   copy: median, min and max of wall and CPU seconds and peak memory.

Run: python bench/bench_suggest.py [--pairs 5] [--runs 3] [--skip-train]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

JIEBA_ALONE = """
import json, logging, sys
import jieba
jieba.setLogLevel(logging.WARNING)
with open(sys.argv[1], encoding="utf-8") as f:
    passages = json.load(f)
for p in passages:
    jieba.lcut(p)
"""


def run(cmd: list[str]) -> dict:
    """Run ``cmd`` as a child process (output discarded): wall, cpu (s) and peak (MB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak": usage.ru_maxrss / 1024}


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):7.2f} {min(values):7.2f} {max(values):7.2f}"


def beicoder(*args: str) -> list[str]:
    return [sys.executable, "-m", "beicoder.cli", *args]


def build(folder: Path, interviews: int) -> Path:
    sys.path.insert(0, str(Path(__file__).parent))
    from generate import generate_study

    return generate_study(folder / f"g{interviews}.db", interviews, progress=lambda _m: None)


def throughput(tmp: Path, pairs: int) -> None:
    from beicoder.core.store import Store
    from beicoder.core.study import build_demo
    from beicoder.core.suggest.learned import model_dir

    base = build(tmp, 445)
    # a model trained on real coding (the demo's reference coder and the dictionary's
    # examples), given to amy, whose generated codes are drawn at random and teach nothing
    demo = tmp / "demo.db"
    build_demo(demo, progress=lambda _m: None)
    run(beicoder("train", "--db", str(demo), "--coder", "reference"))
    store = Store(base)
    passages = [p.text for p in store.passages()]
    store.close()
    chars = sum(map(len, passages))
    texts = tmp / "passages.json"
    texts.write_text(json.dumps(passages, ensure_ascii=False), encoding="utf-8")
    work = tmp / "work.db"
    shutil.copytree(model_dir(demo, "reference"), model_dir(work, "amy"))
    a_cmd, b_cmd = beicoder("suggest", "--db", str(work)), [sys.executable, "-c", JIEBA_ALONE, str(texts)]
    print(f"suggest vs jieba alone: {len(passages):,} passages, {chars:,} characters; A = beicoder suggest "
          f"(lexicon and amy's model), B = jieba.lcut over the same passages; {pairs} pairs A B after one warm-up pair")
    results = []
    for k in range(pairs + 1):
        shutil.copyfile(base, work)
        a = run(a_cmd)
        b = run(b_cmd)
        if k:
            results.append((a, b))
    print(f"{'':<18}{'median':>7} {'min':>7} {'max':>7}")
    for key, label in (("cpu", "CPU s"), ("wall", "wall s"), ("peak", "peak MB")):
        print(f"{'A ' + label:<18}{spread([a[key] for a, _ in results])}")
        print(f"{'B ' + label:<18}{spread([b[key] for _, b in results])}")
    cpu = [a["cpu"] / b["cpu"] for a, b in results]
    wall = [a["wall"] / b["wall"] for a, b in results]
    print(f"{'A/B CPU':<18}{spread(cpu)}")
    print(f"{'A/B wall':<18}{spread(wall)}")
    median = statistics.median(cpu)
    verdict = "met" if median <= 1.0 else "NOT met"
    aim = "met" if median <= 0.6 else "not met"
    print(f"target (median CPU ratio <= 1.0): {verdict}; aim (<= 0.6): {aim}; median wall ratio "
          f"{statistics.median(wall):.2f}")


def timed_command(tmp: Path, interviews: int, args: list[str], runs: int, label: str, target: str) -> None:
    base = build(tmp, interviews)
    results = []
    for _ in range(runs):
        work = tmp / f"cmd{interviews}.db"
        shutil.copyfile(base, work)
        results.append(run(beicoder(*args, "--db", str(work))))
    print(f"{label} ({runs} runs; {target}):  wall s {spread([r['wall'] for r in results])}   "
          f"CPU s {spread([r['cpu'] for r in results])}   peak MB {spread([r['peak'] for r in results])}  "
          f"(median min max)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=5, help="A B pairs counted (after one warm-up pair)")
    ap.add_argument("--runs", type=int, default=3, help="runs of train and of evaluate")
    ap.add_argument("--skip-train", action="store_true", help="only the suggest throughput")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-suggest-") as tmp:
        throughput(Path(tmp), args.pairs)
        if not args.skip_train:
            timed_command(Path(tmp), 1000, ["train", "--coder", "amy"], args.runs,
                          "train, 1,000 interviews", "target < 30 s, < 500 MB")
            timed_command(Path(tmp), 200, ["evaluate", "--coder", "amy", "--folds", "5"], args.runs,
                          "evaluate --folds 5, 200 interviews", "target < 60 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
