"""Inter-coder reliability of independent codings: category agreement, kappa, alpha.

Units are the passages every named coder has decided (a "no code" decision counts). For each
coder and unit we know the set of codes and their levels.

- Category agreement (Winter 1994): ``CA = 2 S / (T1 + T2)`` for two coders, S the codings
  both made (same passage, same code), T1 and T2 each coder's number of codings; for more
  coders the mean over pairs. Reliability of n coders: ``R = n CA / (1 + (n - 1) CA)``.
- Cohen's kappa per code on passage-level presence for two coders (scikit-learn's
  ``cohen_kappa_score``), Fleiss' kappa for more (statsmodels' ``fleiss_kappa``).
- Krippendorff's alpha (Krippendorff 2004, 2011), computed from the coincidence matrix, so
  memory grows with the number of values V (V x V), never with units x V x V: nominal on the
  set of codes of each passage (each distinct set, the empty one included, is a category);
  nominal on the presence of each code; and interval and ordinal on levels, two ways, one
  unit per (passage, code) that some coder coded: *levels where coded* (a coder who did not
  code it is missing: agreement on intensity among those who coded it) and *levels, absent
  = 0* (a coder who decided the passage without the code gives 0: agreement on presence and
  intensity together). Alpha uses every passage decided by at least two of the coders,
  missing values allowed; CA, kappa and percent agreement use the passages all decided.
- Percent agreement: the share of units on which all coders agree (per code: on presence).

Figures below the usual bars (kappa 0.60, alpha 0.667, CA 0.70; configurable) are flagged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

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


def _distance(values, level: str, counts):
    """Squared difference function δ² (V x V) of Krippendorff's alpha for sorted ``values``
    with marginal ``counts`` n_c (Krippendorff 2011, section E)."""
    import numpy as np

    v = np.asarray(values, dtype=float)
    if level == "nominal":
        return 1.0 - np.eye(len(v))
    if level == "interval":
        return (v[:, None] - v[None, :]) ** 2
    if level == "ratio":
        s = v[:, None] + v[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            d = ((v[:, None] - v[None, :]) / s) ** 2
        return np.nan_to_num(d)
    if level == "ordinal":
        cum = np.concatenate([[0.0], np.cumsum(counts)])
        i, j = np.meshgrid(np.arange(len(v)), np.arange(len(v)), indexing="ij")
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        between = cum[hi + 1] - cum[lo]  # n_lo + ... + n_hi
        return (between - (counts[lo] + counts[hi]) / 2) ** 2
    raise ValueError(f"unknown level of measurement {level!r}")


def alpha(data: Sequence[Sequence[float]], level: str) -> float:
    """Krippendorff's alpha of ``data`` (coders x units, NaN = missing) at ``level``
    (nominal, ordinal, interval, ratio); NaN when fewer than two values occur.

    alpha = 1 - D_o / D_e from the coincidence matrix o_ck = sum over units of
    n_uc n_uk / (m_u - 1) (pairs of different coders only; units with fewer than two values
    are not pairable), D_o = sum o_ck δ²_ck / n and D_e = sum n_c n_k δ²_ck / (n (n - 1))
    (Krippendorff 2011). The unit x value counts are a sparse matrix and the coincidences
    V x V, so memory stays small on studies of any size."""
    import numpy as np
    from scipy import sparse

    arr = np.asarray(data, dtype=float)
    if arr.ndim != 2 or arr.size == 0:
        return float("nan")
    mask = ~np.isnan(arr)
    values, idx = np.unique(arr[mask], return_inverse=True)
    if len(values) < 2:
        return float("nan")
    unit_of = np.nonzero(mask)[1]
    counts = sparse.csr_matrix((np.ones(len(idx)), (unit_of, idx)), shape=(arr.shape[1], len(values)))
    m = np.asarray(counts.sum(axis=1)).ravel()
    pairable = m >= 2
    if not pairable.any():
        return float("nan")
    counts = counts[pairable]
    weights = sparse.diags(1.0 / (m[pairable] - 1))
    scaled = weights @ counts
    o = (scaled.T @ counts).toarray() - np.diag(np.asarray(scaled.sum(axis=0)).ravel())
    n_c = o.sum(axis=1)
    n = n_c.sum()
    if n <= 1:
        return float("nan")
    delta = _distance(values, level, n_c)
    d_o = float((o * delta).sum()) / n
    d_e = float((np.outer(n_c, n_c) * delta).sum()) / (n * (n - 1))
    return 1.0 - d_o / d_e if d_e > 0 else float("nan")


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
    # every passage decided by at least two of the coders, for alpha (missing data allowed):
    # ``all_levels[c][u]`` is None when coder c did not decide unit ``all_units[u]``
    all_units: list[int] | None = None
    all_levels: list[list[dict[str, int | None] | None]] | None = None


def coding_table(store, coders: Sequence[str]) -> CodingTable:
    """The coders' decisions on the passages all of them have decided.

    Raises:
        ReliabilityError: fewer than two coders, one person named twice (``Li`` and ``li``:
            see :func:`~beicoder.core.store.coder_identity`), a coder with no decisions, or
            no passage decided by all.
    """
    from .study import distinct_coders

    names = [store.resolve_coder(c) for c in distinct_coders(coders, "coders", ReliabilityError)]
    known = store.coders()
    missing = [c for c in names if c not in known]
    if missing:
        raise ReliabilityError(f"no decisions by {', '.join(missing)} in {store.path.name} "
                               f"(coders: {', '.join(known) or 'none'})")
    decided = [store.decided_passages(c) for c in names]
    common = set.intersection(*decided)
    if not common:
        raise ReliabilityError(f"no passage is decided by all of {', '.join(names)}")
    info = store.passage_info()
    units = [pid for pid in info if pid in common]
    shared = [pid for pid in info if sum(pid in d for d in decided) >= 2]
    sets, levels, all_levels = [], [], []
    for c, mine in zip(names, decided):
        by_unit: dict[int, dict[str, int | None]] = {}
        for r in store.coding_rows(c):
            by_unit.setdefault(r["passage_id"], {})[r["code"]] = r["level"]
        sets.append([set(by_unit.get(u, {})) for u in units])
        levels.append([by_unit.get(u, {}) for u in units])
        all_levels.append([by_unit.get(u, {}) if u in mine else None for u in shared])
    return CodingTable(names, units, sets, levels, {u: info[u]["interviewee"] for u in units},
                       {u: info[u]["ordinal"] for u in units}, {u: info[u]["text"] for u in units},
                       shared, all_levels)


def level_alphas(table: CodingTable, codes: Sequence[str]) -> dict[str, tuple[float, int]]:
    """Krippendorff's alpha on levels, two ways, over the units (passage, code) that some
    coder coded, on every passage decided by at least two coders: ``where_coded_*`` (a coder
    who did not code it, or gave no level, is missing) and ``absent_zero_*`` (a coder who
    decided the passage without the code gives level 0; a coding without level is missing),
    each ``interval`` and ``ordinal``. Returns name -> (alpha, units)."""
    import numpy as np

    units_all = table.all_units if table.all_units is not None else table.units
    levels_all = table.all_levels if table.all_levels is not None else table.levels
    cells = [(i, code) for i in range(len(units_all)) for code in codes
             if any(lv[i] is not None and code in lv[i] for lv in levels_all)]
    where, zero = [], []
    for lv in levels_all:
        w, z = [], []
        for i, code in cells:
            d = lv[i]
            if d is None:
                w.append(np.nan)
                z.append(np.nan)
            elif code in d:
                value = np.nan if d[code] is None else float(d[code])
                w.append(value)
                z.append(value)
            else:
                w.append(np.nan)
                z.append(0.0)
        where.append(w)
        zero.append(z)
    out = {}
    for name, data in (("where_coded", where), ("absent_zero", zero)):
        arr = np.array(data, dtype=float) if cells else np.empty((len(levels_all), 0))
        used = int((np.sum(~np.isnan(arr), axis=0) >= 2).sum()) if cells else 0
        for level in ("interval", "ordinal"):
            out[f"{name}_{level}"] = (alpha(arr, level) if cells else float("nan"), used)
    return out


def presence_alpha(table: CodingTable, code: str) -> tuple[float, int]:
    """Nominal Krippendorff's alpha on the presence (1/0) of ``code`` over every passage
    decided by at least two coders (a coder who did not decide it is missing); with the
    number of pairable units."""
    import numpy as np

    units_all = table.all_units if table.all_units is not None else table.units
    levels_all = table.all_levels if table.all_levels is not None else table.levels
    arr = np.array([[np.nan if lv[i] is None else float(code in lv[i]) for i in range(len(units_all))]
                    for lv in levels_all], dtype=float)
    return alpha(arr, "nominal"), int((np.sum(~np.isnan(arr), axis=0) >= 2).sum())


def _flag(value: float, bar: float) -> str:
    return "below" if not math.isnan(value) and value < bar else ""


def reliability_report(table: CodingTable, codes: Sequence[str], bars: Bars = Bars()) -> dict:
    """All reliability figures for a :class:`CodingTable`.

    Returns a dict of DataFrames:

    - ``summary``: measure, value, units, bar, flag: CA, R, percent agreement and mean kappa
      (on the passages all coders decided); alpha nominal on code sets; alpha on levels where
      coded and with absent = 0, interval and ordinal (on every passage decided by two coders
      or more, missing data allowed);
    - ``per_code``: code, units, coded_by (codings by all coders), ca, r, kappa (Cohen's for
      two coders, Fleiss' for more), kappa_kind, alpha_presence (nominal alpha on the code's
      presence), alpha_units, percent_agreement, flag (CA, kappa or alpha below its bar);
    - ``per_transcript``: interviewee, units, ca, r, percent_agreement, flag;
    - ``disagreements``: interviewee, passage (ordinal), passage_text, then one column per
      coder with that coder's codes and levels (``INFO L3; ACH``, ``no code``).
    """
    import numpy as np
    import pandas as pd

    n = len(table.coders)
    n_units = len(table.units)
    ca = mean_pairwise_ca(table.sets)
    first = table.sets[0]
    agree = [all(s[u] == first[u] for s in table.sets) for u in range(n_units)]
    per_code = []
    for code in codes:
        only = [[{code} & s for s in coder] for coder in table.sets]
        c_ca = mean_pairwise_ca(only)
        kappa = presence_kappa(table.sets, code)
        a_presence, a_units = presence_alpha(table, code)
        pa = sum(all((code in s[u]) == (code in first[u]) for s in table.sets) for u in range(n_units)) / n_units
        flags = [_flag(c_ca, bars.ca) and f"CA < {bars.ca:g}", _flag(kappa, bars.kappa) and f"kappa < {bars.kappa:g}",
                 _flag(a_presence, bars.alpha) and f"alpha < {bars.alpha:g}"]
        per_code.append({"code": code, "units": n_units,
                         "coded_by": sum(code in s for coder in table.sets for s in coder),
                         "ca": c_ca, "r": spearman_brown(c_ca, n), "kappa": kappa,
                         "kappa_kind": "Cohen" if n == 2 else "Fleiss", "alpha_presence": a_presence,
                         "alpha_units": a_units, "percent_agreement": pa, "flag": "; ".join(f for f in flags if f)})
    per_transcript = []
    by_iv: dict[str, list[int]] = {}
    for i, u in enumerate(table.units):
        by_iv.setdefault(table.transcript_of[u], []).append(i)
    for iv, idx in by_iv.items():
        t_ca = mean_pairwise_ca([[coder[i] for i in idx] for coder in table.sets])
        per_transcript.append({"interviewee": iv, "units": len(idx), "ca": t_ca, "r": spearman_brown(t_ca, n),
                               "percent_agreement": sum(agree[i] for i in idx) / len(idx),
                               "flag": _flag(t_ca, bars.ca) and f"CA < {bars.ca:g}"})
    # alpha, nominal on whole code sets, every passage decided by two coders or more
    all_levels = table.all_levels if table.all_levels is not None else table.levels
    categories: dict[frozenset, int] = {}
    nominal = np.array([[np.nan if lv is None else float(categories.setdefault(frozenset(lv), len(categories)))
                         for lv in coder] for coder in all_levels], dtype=float)
    a_nominal = alpha(nominal, "nominal")
    nominal_units = int((np.sum(~np.isnan(nominal), axis=0) >= 2).sum())
    lv_alpha = level_alphas(table, codes)
    kappas = [r["kappa"] for r in per_code if not math.isnan(r["kappa"])]
    mean_kappa = sum(kappas) / len(kappas) if kappas else float("nan")
    summary = [
        ("category agreement (CA, mean over pairs)", ca, n_units, bars.ca),
        (f"reliability R for {n} coders", spearman_brown(ca, n), n_units, None),
        ("percent agreement (identical code sets)", sum(agree) / n_units, n_units, None),
        (f"mean {'Cohen' if n == 2 else 'Fleiss'} kappa over codes (presence)", mean_kappa, n_units, bars.kappa),
        ("Krippendorff's alpha, nominal (code sets)", a_nominal, nominal_units, bars.alpha),
        ("Krippendorff's alpha, interval, levels with absent = 0 (presence and intensity)",
         *lv_alpha["absent_zero_interval"], bars.alpha),
        ("Krippendorff's alpha, ordinal, levels with absent = 0 (presence and intensity)",
         *lv_alpha["absent_zero_ordinal"], bars.alpha),
        ("Krippendorff's alpha, interval, levels where coded (intensity only)", *lv_alpha["where_coded_interval"],
         bars.alpha),
        ("Krippendorff's alpha, ordinal, levels where coded (intensity only)", *lv_alpha["where_coded_ordinal"],
         bars.alpha),
    ]
    summary_df = pd.DataFrame([{"measure": m, "value": v, "units": u, "bar": b,
                                "flag": _flag(v, b) and "below the bar" if b is not None else ""}
                               for m, v, u, b in summary])
    rows = []
    position = {c: k for k, c in enumerate(codes)}
    for i, u in enumerate(table.units):
        if agree[i] and all(lv[i] == table.levels[0][i] for lv in table.levels):
            continue
        row = {"interviewee": table.transcript_of[u], "passage": table.ordinal_of[u], "passage_text": table.text_of[u]}
        for c, lv in zip(table.coders, table.levels):
            in_order = sorted(lv[i].items(), key=lambda kv: position.get(kv[0], 99))
            row[c] = "; ".join(f"{code}{'' if level is None else f' L{level}'}"
                               for code, level in in_order) or "no code"
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
