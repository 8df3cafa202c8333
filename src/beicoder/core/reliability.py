"""Inter-coder reliability of independent codings: category agreement, kappa, alpha.

Units are the passages every named coder has decided (a "no code" decision counts). For each
coder and unit we know the set of codes and their levels.

- Category agreement (Winter 1994): ``CA = 2 S / (T1 + T2)`` for two coders, S the codings
  both made (same passage, same code), T1 and T2 each coder's number of codings; for more
  coders the mean over pairs. Reliability of n coders: ``R = n CA / (1 + (n - 1) CA)``.
- Cohen's kappa per code on passage-level presence for two coders (scikit-learn's
  ``cohen_kappa_score``), Fleiss' kappa for more (statsmodels' ``fleiss_kappa``).
- Krippendorff's alpha (the ``krippendorff`` package): nominal on the set of codes of each
  passage (each distinct set, the empty one included, is a category), and interval and
  ordinal on levels, with one unit per (passage, code) that some coder coded and a missing
  value for a coder who did not code it or gave no level.
- Percent agreement: the share of units on which all coders agree (per code: on presence).

Figures below the usual bars (kappa 0.60, alpha 0.667, CA 0.70; configurable) are flagged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations
from typing import Sequence

from . import BeicoderError


class ReliabilityError(BeicoderError):
    """Reliability cannot be computed as asked; one line."""


@dataclass(frozen=True)
class Bars:
    """Thresholds under which a figure is flagged."""

    kappa: float = 0.60
    alpha: float = 0.667
    ca: float = 0.70


def category_agreement(a: Sequence[set[str]], b: Sequence[set[str]]) -> float:
    """Winter's CA of two coders over the same units (sets of codes); NaN with no codings."""
    s = sum(len(x & y) for x, y in zip(a, b))
    t = sum(len(x) for x in a) + sum(len(y) for y in b)
    return 2 * s / t if t else float("nan")


def spearman_brown(ca: float, n: int) -> float:
    """Reliability of ``n`` coders from their agreement: ``n CA / (1 + (n - 1) CA)``."""
    return n * ca / (1 + (n - 1) * ca) if not math.isnan(ca) else float("nan")


def mean_pairwise_ca(sets: Sequence[Sequence[set[str]]]) -> float:
    """Mean CA over all pairs of coders (``sets[c][u]`` = codes of coder c on unit u)."""
    values = [category_agreement(x, y) for x, y in combinations(sets, 2)]
    values = [v for v in values if not math.isnan(v)]
    return sum(values) / len(values) if values else float("nan")


def presence_kappa(sets: Sequence[Sequence[set[str]]], code: str) -> float:
    """Cohen's kappa (two coders) or Fleiss' kappa (more) on the presence of ``code``; NaN
    when undefined (e.g. nobody used the code)."""
    import warnings

    rows = [[int(code in s) for s in coder] for coder in sets]
    if len(rows) == 2:
        from sklearn.metrics import cohen_kappa_score

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = cohen_kappa_score(rows[0], rows[1])
        return float(value)
    from statsmodels.stats.inter_rater import fleiss_kappa

    table = [[len(rows) - sum(col), sum(col)] for col in zip(*rows)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = fleiss_kappa(table, method="fleiss")
    return float(value)


def alpha(data: Sequence[Sequence[float]], level: str) -> float:
    """Krippendorff's alpha of ``data`` (coders x units, NaN = missing) at ``level``
    (nominal, ordinal, interval, ratio); NaN when fewer than two values occur."""
    import krippendorff
    import numpy as np

    arr = np.array(data, dtype=float)
    values = arr[~np.isnan(arr)]
    if len(np.unique(values)) < 2:
        return float("nan")
    try:
        return float(krippendorff.alpha(reliability_data=arr, level_of_measurement=level))
    except ValueError:
        return float("nan")


@dataclass
class CodingTable:
    """Who coded what on the common units: ``units`` are passage ids in reading order,
    ``sets[c][u]`` the codes of coder ``coders[c]`` on unit u, ``levels[c][u]`` code -> level."""

    coders: list[str]
    units: list[int]
    sets: list[list[set[str]]]
    levels: list[list[dict[str, int | None]]]
    transcript_of: dict[int, str]  # unit -> interviewee
    ordinal_of: dict[int, int]
    text_of: dict[int, str]


def coding_table(store, coders: Sequence[str]) -> CodingTable:
    """The coders' decisions on the passages all of them have decided.

    Raises:
        ReliabilityError: fewer than two coders, a coder with no decisions, or no passage
            decided by all.
    """
    from .store import normalize_coder

    names = list(dict.fromkeys(normalize_coder(c) for c in coders))
    if len(names) < 2:
        raise ReliabilityError("name at least two different coders")
    known = store.coders()
    missing = [c for c in names if c not in known]
    if missing:
        raise ReliabilityError(f"no decisions by {', '.join(missing)} in {store.path.name} "
                               f"(coders: {', '.join(known) or 'none'})")
    common = set.intersection(*(store.decided_passages(c) for c in names))
    if not common:
        raise ReliabilityError(f"no passage is decided by all of {', '.join(names)}")
    info = store.passage_info()
    units = [pid for pid in info if pid in common]
    sets, levels = [], []
    for c in names:
        by_unit: dict[int, dict[str, int | None]] = {}
        for r in store.coding_rows(c):
            by_unit.setdefault(r["passage_id"], {})[r["code"]] = r["level"]
        sets.append([set(by_unit.get(u, {})) for u in units])
        levels.append([by_unit.get(u, {}) for u in units])
    return CodingTable(names, units, sets, levels, {u: info[u]["interviewee"] for u in units},
                       {u: info[u]["ordinal"] for u in units}, {u: info[u]["text"] for u in units})


def _flag(value: float, bar: float) -> str:
    return "below" if not math.isnan(value) and value < bar else ""


def reliability_report(table: CodingTable, codes: Sequence[str], bars: Bars = Bars()) -> dict:
    """All reliability figures for a :class:`CodingTable`.

    Returns a dict of DataFrames:

    - ``summary``: measure, value, units, bar, flag (CA, R, percent agreement, alpha
      nominal on code sets, alpha interval and ordinal on levels, mean kappa over codes);
    - ``per_code``: code, units, coded_by (codings by all coders), ca, r, kappa (Cohen's
      for two coders, Fleiss' for more), kappa_kind, percent_agreement, flag;
    - ``per_transcript``: interviewee, units, ca, r, percent_agreement, flag;
    - ``disagreements``: interviewee, passage (ordinal), passage_text, then one column per
      coder with that coder's codes and levels (``INFO L3; ACH``, ``no code``).
    """
    import numpy as np
    import pandas as pd

    n = len(table.coders)
    ca = mean_pairwise_ca(table.sets)
    agree = [all(s[u] == table.sets[0][u] for s in table.sets) for u in range(len(table.units))]
    per_code = []
    for code in codes:
        only = [[{code} & s for s in coder] for coder in table.sets]
        c_ca = mean_pairwise_ca(only)
        kappa = presence_kappa(table.sets, code)
        pa = sum(all((code in s[u]) == (code in table.sets[0][u]) for s in table.sets)
                 for u in range(len(table.units))) / len(table.units)
        per_code.append({"code": code, "units": len(table.units),
                         "coded_by": sum(code in s for coder in table.sets for s in coder),
                         "ca": c_ca, "r": spearman_brown(c_ca, n), "kappa": kappa,
                         "kappa_kind": "Cohen" if n == 2 else "Fleiss", "percent_agreement": pa,
                         "flag": "; ".join(f for f in (_flag(c_ca, bars.ca) and f"CA < {bars.ca:g}",
                                                       _flag(kappa, bars.kappa) and f"kappa < {bars.kappa:g}") if f)})
    per_transcript = []
    for iv in dict.fromkeys(table.transcript_of[u] for u in table.units):
        idx = [i for i, u in enumerate(table.units) if table.transcript_of[u] == iv]
        t_ca = mean_pairwise_ca([[coder[i] for i in idx] for coder in table.sets])
        per_transcript.append({"interviewee": iv, "units": len(idx), "ca": t_ca, "r": spearman_brown(t_ca, n),
                               "percent_agreement": sum(agree[i] for i in idx) / len(idx),
                               "flag": _flag(t_ca, bars.ca) and f"CA < {bars.ca:g}"})
    # alpha, nominal on whole code sets
    categories: dict[frozenset, int] = {}
    nominal = [[float(categories.setdefault(frozenset(s), len(categories))) for s in coder] for coder in table.sets]
    a_nominal = alpha(nominal, "nominal")
    # alpha on levels: one unit per (passage, code) coded by anyone
    level_units = [(i, code) for i in range(len(table.units)) for code in codes
                   if any(code in coder[i] for coder in table.sets)]
    level_data = [[(lv[i].get(code) if lv[i].get(code) is not None else np.nan) for i, code in level_units]
                  for lv in table.levels]
    a_interval = alpha(level_data, "interval") if level_units else float("nan")
    a_ordinal = alpha(level_data, "ordinal") if level_units else float("nan")
    kappas = [r["kappa"] for r in per_code if not math.isnan(r["kappa"])]
    mean_kappa = sum(kappas) / len(kappas) if kappas else float("nan")
    units = len(table.units)
    summary = [
        ("category agreement (CA, mean over pairs)", ca, units, bars.ca),
        (f"reliability R for {n} coders", spearman_brown(ca, n), units, None),
        ("percent agreement (identical code sets)", sum(agree) / units, units, None),
        ("Krippendorff's alpha, nominal (code sets)", a_nominal, units, bars.alpha),
        ("Krippendorff's alpha, interval (levels)", a_interval, len(level_units), bars.alpha),
        ("Krippendorff's alpha, ordinal (levels)", a_ordinal, len(level_units), bars.alpha),
        (f"mean {'Cohen' if n == 2 else 'Fleiss'} kappa over codes", mean_kappa, units, bars.kappa),
    ]
    summary_df = pd.DataFrame([{"measure": m, "value": v, "units": u, "bar": b,
                                "flag": _flag(v, b) and "below the bar" if b is not None else ""}
                               for m, v, u, b in summary])
    rows = []
    for i, u in enumerate(table.units):
        if agree[i] and all(lv[i] == table.levels[0][i] for lv in table.levels):
            continue
        row = {"interviewee": table.transcript_of[u], "passage": table.ordinal_of[u], "passage_text": table.text_of[u]}
        for c, lv in zip(table.coders, table.levels):
            row[c] = "; ".join(f"{code}{'' if level is None else f' L{level}'}"
                               for code, level in sorted(lv[i].items(), key=lambda kv: codes.index(kv[0]) if kv[0] in codes else 99)) or "no code"
        rows.append(row)
    return {"summary": summary_df, "per_code": pd.DataFrame(per_code), "per_transcript": pd.DataFrame(per_transcript),
            "disagreements": pd.DataFrame(rows, columns=["interviewee", "passage", "passage_text", *table.coders])}


@dataclass
class StudyReliability:
    """What :func:`study_reliability` computed: the :class:`CodingTable` of the coders'
    common units and the figures of :func:`reliability_report` (a dict of DataFrames)."""

    table: CodingTable
    report: dict


def study_reliability(store, coders: Sequence[str], bars: Bars = Bars()) -> StudyReliability:
    """Inter-coder reliability of ``coders`` (two or more) in the study in ``store``, on the
    passages all of them have decided, flagged against ``bars``.

    Raises:
        ReliabilityError: fewer than two coders, a coder with no decisions, or no passage
            decided by all.
    """
    table = coding_table(store, coders)
    codes = [c["code"] for c in store.codes()]
    return StudyReliability(table, reliability_report(table, codes, bars))
