"""Throughput of suggestion: jieba alone, the lexicon suggester, the blended suggester.

Builds a synthetic study of 60 interviews x 25,000 characters from the bundled demo study's
passages (shuffled with a fixed seed), trains the learned model on the demo's reference
coding (not timed), and times, over the same passages:

1. jieba segmentation alone (``jieba.lcut`` per passage): the baseline;
2. lexicon suggestion (fold, one jieba pass, keyword/pattern matching, negation, levels);
3. blended suggestion (the same, plus the learned model's scores from the same jieba pass);
4. for information, not part of the target: the model's evidence (leave-one-word-out, for
   the codes the model supports), which runs in the background after training.

Prints characters per second, the ratio to jieba alone, and the peak resident memory of the
process. Each step is timed three times and the best run is kept. Target (issue 3): blended
<= 1.5 x jieba alone, under 500 MB.

Run: python bench/bench_suggest.py [--interviews 60] [--chars 25000]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path


def build_passages(n_interviews: int, chars: int) -> tuple[list[str], object]:
    from beicoder.core.ingest import read_transcript
    from beicoder.core.paths import demo_study

    pool = []
    for f in sorted(demo_study().glob("MC*.txt")):
        parsed = read_transcript(f)
        pool.extend(parsed.text[p.start:p.end] for p in parsed.passages)
    rng = random.Random(7)
    passages = []
    for _ in range(n_interviews):
        size = 0
        while size < chars:
            p = rng.choice(pool)
            passages.append(p)
            size += len(p)
    return passages


def timed(fn, *args, repeat: int = 3) -> float:
    """Best of ``repeat`` runs (the least disturbed by the rest of the machine), in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--interviews", type=int, default=60)
    ap.add_argument("--chars", type=int, default=25000)
    args = ap.parse_args()

    import jieba

    from beicoder.core.store import Store
    from beicoder.core.study import build_demo
    from beicoder.core.suggest.learned import MODEL_THRESHOLD, LearnedSuggester, suggest_blended, train
    from beicoder.core.suggest.lexicon import LexiconSuggester, zh_pipeline

    passages = build_passages(args.interviews, args.chars)
    total = sum(len(p) for p in passages)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.db"
        build_demo(db, progress=lambda _m: None)
        store = Store(db)
        dictionary = store.dictionary()
        result = train(store, "reference", dictionary, db)
        store.close()
        model = LearnedSuggester.load(result.path, dictionary)
    lexicon = LexiconSuggester(dictionary)
    zh_pipeline()
    jieba.lcut("预热")  # load jieba's dictionary outside the timings
    lexicon.suggest(passages[:50])
    suggest_blended(passages[:50], lexicon, model)

    t_jieba = timed(lambda: [jieba.lcut(p) for p in passages])
    t_lex = timed(lexicon.suggest, passages)
    t_blend = timed(suggest_blended, passages, lexicon, model)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def evidence():
        prepared = model.prepare(passages)
        wanted = [[c for c, v in cats.items() if v >= MODEL_THRESHOLD] for cats in model.scores(passages, prepared)]
        model.explain(passages, wanted, prepared=prepared)

    t_evidence = timed(evidence, repeat=1)
    peak_after_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"synthetic study: {args.interviews} interviews, {len(passages)} passages, {total:,} characters")
    print(f"{'step':<22}{'seconds':>9}{'chars/s':>12}{'x jieba':>9}")
    for name, t in (("jieba alone", t_jieba), ("lexicon suggestion", t_lex), ("blended suggestion", t_blend)):
        print(f"{name:<22}{t:>9.2f}{total / t:>12,.0f}{t / t_jieba:>9.2f}")
    print(f"peak memory (max RSS): {peak_mb:.0f} MB")
    ok = t_blend / t_jieba <= 1.5 and peak_mb < 500
    print("target (blended <= 1.5 x jieba, < 500 MB):", "met" if ok else "NOT met")
    print(f"model evidence, in the background after training: {t_evidence:.2f} s "
          f"({t_evidence / t_jieba:.2f} x jieba; not part of the target), peak memory then {peak_after_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
