"""Reliability and report on a large generated study: time and peak memory per command.

Generates (see bench/generate.py) a study of ``--interviews`` interviews (default 1,000:
about 29,000 passages and 4 M characters) with two coders, then runs, each as its own
process, ``beicoder reliability --coders amy bob`` and ``beicoder report --coder amy``,
``--runs`` times in turn (A B A B ...), and prints for each the median and range of wall
time and of peak resident memory (the kernel's accounting of the finished process).
Target (issue 11): each under 30 s and 1 GB.

Run: python bench/bench_report.py [--interviews 1000] [--runs 3] [--db STUDY.db]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
TARGET_S = 30.0
TARGET_MB = 1024.0
CLI = "from beicoder.cli import main; main()"


def run(args: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB and exit status of one beicoder command."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", CLI, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code:
        print(err, file=sys.stderr)
    return wall, usage.ru_maxrss / 1024, code


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--interviews", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--db", help="use (or build once) this study instead of a temporary one")
    args = ap.parse_args(argv)
    from generate import generate_study

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(args.db) if args.db else Path(tmp) / "big.db"
        if not db.exists():
            generate_study(db, args.interviews)
        out = Path(tmp) / "report"
        commands = {
            "reliability": ["reliability", "--db", str(db), "--coders", "amy", "bob"],
            "report": ["report", "--db", str(db), "--coder", "amy", "--out", str(out)],
        }
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, cmd in commands.items():
                wall, mb, code = run(cmd)
                if code:
                    print(f"{name} failed with exit status {code}", file=sys.stderr)
                    return 1
                figures[name].append((wall, mb))
        print(f"study: {args.interviews} interviews; {args.runs} runs of each command, alternating")
        print(f"{'command':<12} {'wall s (median, min-max)':>28} {'peak MB (median, min-max)':>30}  target")
        ok = True
        for name, rows in figures.items():
            walls, mbs = [w for w, _ in rows], [m for _, m in rows]
            met = statistics.median(walls) < TARGET_S and max(mbs) < TARGET_MB
            ok &= met
            print(f"{name:<12} {statistics.median(walls):>10.1f} ({min(walls):.1f}-{max(walls):.1f}){'':>9}"
                  f"{statistics.median(mbs):>10.0f} ({min(mbs):.0f}-{max(mbs):.0f}){'':>10}"
                  f"{'met' if met else 'NOT met'} (< {TARGET_S:.0f} s, < {TARGET_MB:.0f} MB)")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
