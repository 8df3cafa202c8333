"""Discovery on a generated study: wall time and peak memory of ``beicoder discover``.

Generates (see bench/generate.py) a study of ``--interviews`` interviews (default 200: about
5,700 passages and 800,000 characters, coders amy and bob), then runs
``beicoder discover --coder amy --out DIR`` ``--runs`` times, each as its own process, and
prints the median and range of wall time, of CPU time (user + system, which depends less on
what else the machine runs) and of peak resident memory, with the load average. Target
(issue 16): under 30 s on 200 interviews.

Run: python bench/bench_discover.py [--interviews 200] [--runs 3] [--db STUDY.db]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
TARGET_S = 30.0
CLI = "from beicoder.cli import main; main()"


def run(args: list[str]) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds, peak RSS in MB and exit status of one beicoder command."""
    import time

    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", CLI, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code:
        print(proc.stderr.read().decode("utf-8", "replace") if proc.stderr else "", file=sys.stderr)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--interviews", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--db", help="use (or build once) this study instead of a temporary one")
    args = ap.parse_args(argv)
    from generate import generate_study

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(args.db) if args.db else Path(tmp) / "gen.db"
        if not db.exists():
            generate_study(db, args.interviews)
        out = Path(tmp) / "discover"
        figures = []
        for _ in range(args.runs):
            wall, cpu, mb, code = run(["discover", "--db", str(db), "--coder", "amy", "--out", str(out)])
            if code:
                print(f"discover failed with exit status {code}", file=sys.stderr)
                return 1
            figures.append((wall, cpu, mb))
        walls, cpus, mbs = ([f[i] for f in figures] for i in range(3))
        met = statistics.median(walls) < TARGET_S
        print(f"study: {args.interviews} interviews; {args.runs} runs of beicoder discover; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"wall s: median {statistics.median(walls):.1f} ({min(walls):.1f}-{max(walls):.1f}); "
              f"CPU s: median {statistics.median(cpus):.1f}; "
              f"peak MB: median {statistics.median(mbs):.0f} ({min(mbs):.0f}-{max(mbs):.0f}); "
              f"target < {TARGET_S:.0f} s: {'met' if met else 'NOT met'}")
        return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
