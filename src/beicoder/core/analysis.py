"""Scores per interviewee and competency, and the outstanding-vs-average comparison.

Scores (per interviewee x code, from one coder's codings; unit = a coded passage):

- ``frequency``: number of passages coded with the code;
- ``rate``: frequency per 1,000 units of the interviewee's own speech, a unit being a Han
  character or a word of another script (see :func:`beicoder.core.textutil.speech_length`);
- ``level_score``: sum of the levels of those codings (Spencer & Spencer 1993);
- ``mean_level``: mean level of the codings, 0 for a code never shown (the usual BEI
  convention, which mixes presence with intensity);
- ``mean_level_shown``: mean level among the interviewees who show the code (missing for the
  others, so its n per group is the number who show it);
- ``max_level``: highest level reached (0 when never shown);
- ``presence``: 1 when the code was shown at all, else 0.
Codings without a level count for frequency, rate and presence only.

The comparison declares its method up front (:class:`Rule`): one **primary** score (frequency,
or rate with ``normalize``) decides the verdicts, with Benjamini-Hochberg q over the codes on
that score; every other score is **secondary**, with q over every code x score test of the
table. The verdict test is the exact (or Monte-Carlo) permutation Mann-Whitney test by
default, or a permutation test of the difference in means, or Welch's t; two-sided unless the
rule says one-sided (outstanding > average). See :mod:`beicoder.core.stats` for each formula.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import BeicoderError

SCORES = ("frequency", "rate", "level_score", "mean_level", "mean_level_shown", "max_level", "presence")
SCORE_LABELS = {"frequency": "frequency", "rate": "rate /1000", "level_score": "level score",
                "mean_level": "mean level", "mean_level_shown": "mean level (shown)", "max_level": "max level",
                "presence": "presence"}
SCORE_UNITS = {
    "frequency": "coded passages",
    "rate": "coded passages per 1,000 units of speech (Han characters + words of other scripts)",
    "level_score": "sum of levels",
    "mean_level": "level (0 when the code is never shown)",
    "mean_level_shown": "level, among interviewees who show the code",
    "max_level": "level (0 when the code is never shown)",
    "presence": "share of interviewees showing the code (0-1)",
}
TESTS = {"mann-whitney": "Mann-Whitney U", "permutation": "permutation test of the difference in means",
         "welch": "Welch's t-test"}
VERDICTS = ("differentiating", "marginal", "threshold", "reversed", "none")
NB_BOUNDARY = 1e-4  # an NB2 alpha below this is the boundary 0: the negative binomial is the Poisson model
SPEECH_UNIT = "speech length (Han characters + words of other scripts)"

OUTSTANDING_LABELS = {"outstanding", "superior", "top", "high", "star",
                      "优秀", "优秀组", "優秀", "優秀組", "绩优", "高绩效"}
AVERAGE_LABELS = {"average", "typical", "normal", "low",
                  "普通", "普通组", "普通組", "一般", "一般组", "一般組", "绩效一般"}


class AnalysisError(BeicoderError):
    """The study cannot be analysed as asked; one line saying why."""


@dataclass(frozen=True)
class Rule:
    """The verdict rule, fixed before the comparison runs.

    ``primary``: the score that decides the verdicts (``frequency`` by default; ``rate`` when
    lengths differ). ``test``: ``mann-whitney`` (default), ``permutation`` or ``welch``.
    ``sided``: ``two-sided`` (default) or ``one-sided`` (the directional hypothesis
    outstanding > average). ``alpha`` applies to Benjamini-Hochberg q (to the test's p when
    ``corrected`` is False); ``marginal`` to the uncorrected p; ``threshold_presence`` is the
    share of each group that must show a code for a threshold competency.
    """

    alpha: float = 0.05
    corrected: bool = True
    threshold_presence: float = 0.5
    marginal: float = 0.10
    primary: str = "frequency"
    test: str = "mann-whitney"
    sided: str = "two-sided"

    def __post_init__(self):
        if self.primary not in SCORES:
            raise AnalysisError(f"unknown primary score {self.primary!r} (one of {', '.join(SCORES)})")
        if self.test not in TESTS:
            raise AnalysisError(f"unknown test {self.test!r} (one of {', '.join(TESTS)})")
        if self.sided not in ("two-sided", "one-sided"):
            raise AnalysisError(f"sided must be two-sided or one-sided, not {self.sided!r}")

    @property
    def alternative(self) -> str:
        """The alternative as scipy names it: ``two-sided`` or ``greater``."""
        return "greater" if self.sided == "one-sided" else "two-sided"

    def test_name(self) -> str:
        """The verdict test as the report names it: "two-sided Mann-Whitney U"."""
        return f"{self.sided} {TESTS[self.test]}"

    def describe(self) -> str:
        """The rule in one paragraph (the family, the test, its side and each verdict)."""
        test = self.test_name() + (" (exact permutation p; Monte-Carlo above 100,000 splits)"
                                   if self.test != "welch" else "")
        judged = (f"Benjamini-Hochberg q over the codes on the primary score ({SCORE_LABELS[self.primary]})"
                  if self.corrected else "the uncorrected p")
        pct = round(self.threshold_presence * 100)
        side = ("the hypothesis outstanding > average is tested one-sided"
                if self.sided == "one-sided" else
                "the test is two-sided, and a significant difference counts only in the direction found")
        return (f"verdicts come from the primary score {SCORE_LABELS[self.primary]} and the {test}; {side}; "
                f"differentiating = outstanding higher and {judged} < {self.alpha:g}; "
                + ("reversed = average higher and q < " + f"{self.alpha:g}; " if self.sided == "two-sided" else "")
                + f"marginal = not differentiating, outstanding higher and p < {self.marginal:g}; "
                f"threshold = neither, and shown by at least {pct}% of both groups; none = otherwise. "
                "Secondary scores are reported with Benjamini-Hochberg q over every code x score test of the table "
                "and do not change the verdicts")


def normalize_group(label) -> str | None:
    """Map a group label to ``outstanding`` or ``average``; None for an empty label.

    Raises:
        AnalysisError: a label that is neither (a third group).
    """
    if label is None or (isinstance(label, float) and math.isnan(label)) or not str(label).strip():
        return None
    key = str(label).strip().casefold()
    if key in OUTSTANDING_LABELS:
        return "outstanding"
    if key in AVERAGE_LABELS:
        return "average"
    raise AnalysisError(f"group {label!r} is neither outstanding (优秀) nor average (普通/一般)")


def compute_scores(codings, interviewees, codes):
    """Scores per interviewee and code.

    Args:
        codings: DataFrame with columns interviewee, code, level (one row per coded passage).
        interviewees: DataFrame with columns interviewee, group, speech_length (one row per
            interviewee to score; those with no codings score 0).
        codes: the dictionary's codes, in order.

    Returns:
        DataFrame, one row per interviewee x code (interviewees in the given order, codes in
        dictionary order), columns: interviewee, group, code, frequency, mean_level, max_level,
        rate, presence, speech_length, level_score, mean_level_shown (see the module
        docstring for each; mean_level_shown is NaN for a code the interviewee never shows,
        and the level scores are NaN when the codings have no level at all).
    """
    import pandas as pd

    rows = []
    grouped = {k: g for k, g in codings.groupby(["interviewee", "code"])} if len(codings) else {}
    for iv in interviewees.itertuples(index=False):
        for code in codes:
            g = grouped.get((iv.interviewee, code))
            freq = 0 if g is None else len(g)
            levels = [] if g is None else [int(v) for v in g["level"].dropna()]
            if freq == 0:
                mean_level = max_level = level_score = 0.0
                shown = float("nan")
            elif levels:
                mean_level, max_level = sum(levels) / len(levels), float(max(levels))
                level_score, shown = float(sum(levels)), sum(levels) / len(levels)
            else:
                mean_level = max_level = level_score = shown = float("nan")
            length = iv.speech_length or 0
            rows.append({
                "interviewee": iv.interviewee, "group": iv.group, "code": code, "frequency": freq,
                "mean_level": mean_level, "max_level": max_level,
                "rate": freq * 1000.0 / length if length else float("nan"),
                "presence": int(freq > 0), "speech_length": length, "level_score": level_score,
                "mean_level_shown": shown,
            })
    return pd.DataFrame(rows, columns=["interviewee", "group", "code", "frequency", "mean_level", "max_level",
                                       "rate", "presence", "speech_length", "level_score", "mean_level_shown"])


def hedges_g(x, y) -> tuple[float, float]:
    """Cohen's d (pooled SD) and Hedges' g = J d of ``x`` minus ``y`` with Hedges' (1981)
    exact correction J (see :func:`beicoder.core.stats.hedges_j`); NaN when undefined."""
    from .stats import cohens_d, hedges_j

    d = cohens_d(list(x), list(y))
    if math.isnan(d):
        return d, d
    return d, d * hedges_j(len(x) + len(y) - 2)


def effect_ci(d: float, n1: int, n2: int, level: float = 0.95) -> tuple[float, float]:
    """Exact confidence interval of Cohen's d by inverting the noncentral t distribution
    (Steiger & Fouladi 1997; see :func:`beicoder.core.stats.smd_ci`); NaN when d is."""
    from .stats import smd_ci

    return smd_ci(d, n1, n2, level)


def _groups_of(frame):
    """Normalised group labels of ``frame``'s rows (AnalysisError naming the interviewee)."""
    out = []
    for iv, g in zip(frame["interviewee"], frame["group"]):
        try:
            out.append(normalize_group(g))
        except AnalysisError as exc:
            raise AnalysisError(f"interviewee {iv}: {exc}; two groups are compared") from None
    return out


def _two_groups(scores):
    df = scores.copy()
    df["group"] = _groups_of(df)
    df = df[df["group"].notna()]
    present = set(df["group"])
    for needed in ("outstanding", "average"):
        if needed not in present:
            raise AnalysisError(
                f"no {needed} interviewee among those this coder has decided passages of "
                f"(groups come from the metadata CSV given to 'beicoder import --meta')")
    return df


def _bh(ps):
    """Benjamini-Hochberg q for a list of p values (NaN kept as NaN), via scipy."""
    from scipy import stats

    finite = [i for i, p in enumerate(ps) if not math.isnan(p)]
    qs = [float("nan")] * len(ps)
    if finite:
        for i, q in zip(finite, stats.false_discovery_control([ps[i] for i in finite], method="bh")):
            qs[i] = float(q)
    return qs


def _test_row(code: str, score: str, x: list[float], y: list[float], po: float, pa: float, rule: Rule) -> dict:
    import warnings

    import numpy as np
    from scipy import stats as sps

    from . import stats

    alt = rule.alternative
    row = {"code": code, "score": score, "n_outstanding": len(x), "n_average": len(y),
           "mean_outstanding": float(np.mean(x)) if x else np.nan,
           "sd_outstanding": float(np.std(x, ddof=1)) if len(x) > 1 else np.nan,
           "mean_average": float(np.mean(y)) if y else np.nan,
           "sd_average": float(np.std(y, ddof=1)) if len(y) > 1 else np.nan,
           "presence_outstanding": po, "presence_average": pa,
           "welch_t": np.nan, "welch_df": np.nan, "welch_p": np.nan, "student_t": np.nan, "student_df": np.nan,
           "student_p": np.nan, "mw_u": np.nan, "mw_p": np.nan, "mw_method": "", "perm_diff": np.nan,
           "perm_p": np.nan, "perm_method": ""}
    warn = []
    separated = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if len(x) >= 2 and len(y) >= 2 and (np.ptp(x) > 0 or np.ptp(y) > 0):
            res = sps.ttest_ind(x, y, equal_var=False, alternative=alt)
            row.update(welch_t=float(res.statistic), welch_df=float(res.df), welch_p=float(res.pvalue))
            res = sps.ttest_ind(x, y, equal_var=True, alternative=alt)
            row.update(student_t=float(res.statistic), student_df=float(res.df), student_p=float(res.pvalue))
        elif len(x) >= 2 and len(y) >= 2 and x[0] != y[0]:
            separated = True  # no variance in either group, different values: t is infinite
            sign = 1.0 if x[0] > y[0] else -1.0
            p0 = 0.0 if (alt == "two-sided" or sign > 0) else 1.0
            row.update(welch_t=sign * float("inf"), welch_p=p0, student_t=sign * float("inf"),
                       student_df=float(len(x) + len(y) - 2), student_p=p0)
    if x and y and len(set(x) | set(y)) > 1:
        mw = stats.permutation_test(x, y, "rank", alt)
        perm = stats.permutation_test(x, y, "mean", alt)
        row.update(mw_u=mw.statistic, mw_p=mw.p, mw_method=mw.method, perm_diff=perm.statistic, perm_p=perm.p,
                   perm_method=perm.method)
    d, g = hedges_g(x, y)
    lo, hi = stats.smd_ci(d, len(x), len(y))
    j = stats.hedges_j(len(x) + len(y) - 2)
    r = stats.rank_biserial(row["mw_u"], len(x), len(y)) if x and y else float("nan")
    rlo, rhi = stats.rank_biserial_ci(r, len(x), len(y))
    if len(x) < 5 or len(y) < 5:
        warn.append("a group has fewer than 5 people")
    if x and y and len(set(x) | set(y)) == 1:
        warn.append("score is constant")
    if separated:
        warn.append("no variance within either group: t is infinite")
    if not (x and y):
        warn.append("no interviewee of a group has this score")
    row.update(cohens_d=d, cohens_d_low=lo, cohens_d_high=hi, hedges_g=g, hedges_g_low=lo * j, hedges_g_high=hi * j,
               rank_biserial=r, rank_biserial_low=rlo, rank_biserial_high=rhi, warning="; ".join(warn))
    row["p"] = {"mann-whitney": row["mw_p"], "permutation": row["perm_p"], "welch": row["welch_p"]}[rule.test]
    return row


def compare_groups(scores, codes, rule: Rule = Rule(), score_names=None):
    """Compare outstanding with average on every code and score, by ``rule``.

    Args:
        scores: the output of :func:`compute_scores`; ``group`` must hold labels that
            :func:`normalize_group` maps (rows without a group are left out).
        codes: codes in dictionary order.
        rule: the verdict rule (primary score, test, side, alpha).
        score_names: the scores to compare (default: every score of :data:`SCORES`); the
            rule's primary score comes first and must be among them.

    Returns:
        DataFrame, one row per code x score (primary first), columns: code, score, role
        (``primary``/``secondary``), n_outstanding, n_average, mean_outstanding,
        sd_outstanding, mean_average, sd_average, presence_outstanding, presence_average
        (shares 0..1), welch_t, welch_df, welch_p, student_t, student_df, student_p, mw_u
        (U of the outstanding group, ties as one half), mw_p, mw_method, perm_diff (mean
        difference), perm_p, perm_method, cohens_d with cohens_d_low/high and hedges_g
        (exact J) with hedges_g_low/high (95% noncentral-t CI), rank_biserial with
        rank_biserial_low/high (95% Fisher-z CI), p (the rule's test), q and q_bh (the same:
        Benjamini-Hochberg over the row's family), family, verdict (one of
        :data:`VERDICTS`), warning. Every p has the rule's side.

    Raises:
        AnalysisError: a group is missing, a label is neither outstanding nor average, or
            the primary score is not compared.
    """
    import numpy as np
    import pandas as pd

    df = _two_groups(scores)
    names = list(score_names) if score_names is not None else list(SCORES)
    if rule.primary not in names:
        raise AnalysisError(f"the primary score {rule.primary!r} is not among the scores compared")
    names = [rule.primary] + [s for s in names if s != rule.primary]
    out = []
    for score in names:
        for code in codes:
            sub = df[df["code"] == code]
            out_rows = sub[sub["group"] == "outstanding"]
            avg_rows = sub[sub["group"] == "average"]
            x = [float(v) for v in out_rows[score] if not pd.isna(v)]
            y = [float(v) for v in avg_rows[score] if not pd.isna(v)]
            po = float(out_rows["presence"].mean()) if len(out_rows) else np.nan
            pa = float(avg_rows["presence"].mean()) if len(avg_rows) else np.nan
            row = _test_row(code, score, x, y, po, pa, rule)
            row["role"] = "primary" if score == rule.primary else "secondary"
            out.append(row)
    k = len(codes)
    primary_q = _bh([r["p"] for r in out[:k]])
    all_q = _bh([r["p"] for r in out])
    n_primary = sum(1 for r in out[:k] if not math.isnan(r["p"]))
    n_all = sum(1 for r in out if not math.isnan(r["p"]))
    for i, r in enumerate(out):
        if r["role"] == "primary":
            r["q"] = primary_q[i]
            r["family"] = f"primary: {n_primary} codes with a p on {SCORE_LABELS[rule.primary]}"
        else:
            r["q"] = all_q[i]
            r["family"] = f"secondary: all {n_all} code x score tests with a p"
        r["q_bh"] = r["q"]
        r["verdict"] = verdict(r, rule)
    cols = ["code", "score", "role", "n_outstanding", "n_average", "mean_outstanding", "sd_outstanding",
            "mean_average", "sd_average", "presence_outstanding", "presence_average", "welch_t", "welch_df",
            "welch_p", "student_t", "student_df", "student_p", "mw_u", "mw_p", "mw_method", "perm_diff", "perm_p",
            "perm_method", "cohens_d", "cohens_d_low", "cohens_d_high", "hedges_g", "hedges_g_low", "hedges_g_high",
            "rank_biserial", "rank_biserial_low", "rank_biserial_high", "p", "q", "q_bh", "family", "verdict",
            "warning"]
    return pd.DataFrame(out, columns=cols)


def verdict(row: dict, rule: Rule) -> str:
    """``differentiating``, ``marginal``, ``threshold``, ``reversed`` or ``none`` for one
    comparison row, by ``rule`` (see :meth:`Rule.describe`). The row needs mean_outstanding,
    mean_average, presence_outstanding, presence_average, the rule's test p (``p``; rows
    without it fall back to ``welch_p``) and ``q_bh``."""
    p = row.get("p", row.get("welch_p"))
    p = float("nan") if p is None else p
    test = row["q_bh"] if rule.corrected else p
    higher = row["mean_outstanding"] > row["mean_average"]
    lower = row["mean_outstanding"] < row["mean_average"]
    significant = not math.isnan(test) and test < rule.alpha
    if higher and significant:
        return "differentiating"
    if lower and significant and rule.sided == "two-sided":
        return "reversed"
    if higher and not math.isnan(p) and p < rule.marginal:
        return "marginal"
    po, pa = row["presence_outstanding"], row["presence_average"]
    if po >= rule.threshold_presence and pa >= rule.threshold_presence:
        return "threshold"
    return "none"


def power_note(n1: int, n2: int, rule: Rule, k: int) -> dict:
    """What the study can detect: the minimal detectable Cohen's d at 80 % power (two-sided
    and one-sided t-test at the rule's alpha, and two-sided at alpha / k, the Bonferroni
    bound for ``k`` codes), via :func:`beicoder.core.stats.minimal_detectable_d`, and a
    sentence on what "none" and "threshold" can mean at this n.

    Returns:
        dict with n_outstanding, n_average, alpha, d_two_sided, d_one_sided, d_bonferroni,
        sentence."""
    from .stats import minimal_detectable_d

    two = minimal_detectable_d(n1, n2, rule.alpha, 0.8, "two-sided")
    one = minimal_detectable_d(n1, n2, rule.alpha, 0.8, "larger")
    bonf = minimal_detectable_d(n1, n2, rule.alpha / max(k, 1), 0.8, "two-sided")
    floor = ""
    if rule.test != "welch" and n1 and n2:
        from math import ceil, comb

        splits = comb(n1 + n2, n1)
        if splits <= 100_000:
            smallest = (1 if rule.sided == "one-sided" else 2) / splits
            need = ceil(smallest * k / rule.alpha - 1e-12) if rule.corrected else 1
            if smallest >= rule.alpha:
                floor = (f" The exact test's smallest possible p at this n is {smallest:.4f}, not below alpha: no "
                         "competency can be differentiating.")
            elif need > 1:
                top = 1 if rule.sided == "one-sided" else 2
                floor = (f" The exact test's smallest possible p at this n is {smallest:.4f} ({top}/{splits}); "
                         f"with the Benjamini-Hochberg correction over {k} competencies a competency can "
                         f"be differentiating only when at least {need} competencies reach p values that small.")
    sentence = (f"With {n1} outstanding and {n2} average interviewees, a t-test at alpha {rule.alpha:g} has 80 % power "
                f"only for a difference of at least d = {two:.2f} (two-sided; {one:.2f} one-sided; {bonf:.2f} at "
                f"alpha/{k}). A verdict of “none” or “threshold” therefore does not show that the groups are "
                "equal on a competency: smaller differences would go unseen at this sample size." + floor)
    return {"n_outstanding": n1, "n_average": n2, "alpha": rule.alpha, "d_two_sided": two, "d_one_sided": one,
            "d_bonferroni": bonf, "sentence": sentence}


def length_control(scores, interviewees):
    """Does interview length drive the scores?

    Args:
        scores: output of :func:`compute_scores`.
        interviewees: DataFrame with interviewee, group, speech_length (Han characters plus
            words of other scripts).

    Returns:
        ``(length, correlations)``: ``length`` is one row per group (group, n, mean, sd of
        speech length) plus a row ``welch`` (t, df, two-sided p of Welch's test) and a row
        ``permutation`` (the difference in means as t, exact or Monte-Carlo two-sided p, its
        method); ``correlations`` has one row per code x score (every score but presence):
        code, score, n, pearson_r, pearson_p, spearman_rho, spearman_p (pooled over both
        groups), partial_r, partial_p, partial_rho, partial_rho_p (within groups:
        controlling for group, see :func:`beicoder.core.stats.partial_correlation`),
        length_driven (a within-group p < .05), advice.
    """
    import numpy as np
    import pandas as pd
    from scipy import stats as sps

    from . import stats

    iv = interviewees.copy()
    iv["group"] = _groups_of(iv)
    rows = []
    for g in ("outstanding", "average"):
        v = iv.loc[iv["group"] == g, "speech_length"].astype(float)
        rows.append({"group": g, "n": len(v), "mean": v.mean() if len(v) else np.nan,
                     "sd": v.std(ddof=1) if len(v) > 1 else np.nan, "t": np.nan, "df": np.nan, "p": np.nan,
                     "method": ""})
    x = [float(v) for v in iv.loc[iv["group"] == "outstanding", "speech_length"]]
    y = [float(v) for v in iv.loc[iv["group"] == "average", "speech_length"]]
    welch = {"group": "welch", "n": len(x) + len(y), "mean": np.nan, "sd": np.nan, "t": np.nan, "df": np.nan,
             "p": np.nan, "method": "Welch's t-test, two-sided"}
    if len(x) >= 2 and len(y) >= 2:
        res = sps.ttest_ind(x, y, equal_var=False)
        welch.update(t=float(res.statistic), df=float(res.df), p=float(res.pvalue))
    rows.append(welch)
    perm = stats.permutation_test(x, y, "mean", "two-sided") if x and y else None
    rows.append({"group": "permutation", "n": len(x) + len(y), "mean": perm.statistic if perm else np.nan,
                 "sd": np.nan, "t": np.nan, "df": np.nan, "p": perm.p if perm else np.nan,
                 "method": f"permutation test of the difference in means, two-sided ({perm.method})" if perm else ""})
    groups = dict(zip(iv["interviewee"], iv["group"]))
    corr = []
    for code in scores["code"].unique():
        sub = scores[scores["code"] == code]
        for score in [s for s in SCORES if s != "presence"]:
            a, b = sub[score].astype(float), sub["speech_length"].astype(float)
            g = [groups.get(i) for i in sub["interviewee"]]
            ok = ~(a.isna() | b.isna()) & pd.Series([v is not None for v in g], index=sub.index)
            a, b = a[ok], b[ok]
            g = [v for v, keep in zip(g, ok) if keep]
            r = rp = rho = sp = np.nan
            if len(a) >= 3 and a.nunique() > 1 and b.nunique() > 1:
                r, rp = (float(v) for v in sps.pearsonr(a, b))
                rho, sp = (float(v) for v in sps.spearmanr(a, b))
            pr = stats.partial_correlation(a, b, g, "pearson")
            ps = stats.partial_correlation(a, b, g, "spearman")
            driven = bool((not math.isnan(pr.p) and pr.p < 0.05) or (not math.isnan(ps.p) and ps.p < 0.05))
            corr.append({"code": code, "score": score, "n": int(len(a)), "pearson_r": r, "pearson_p": rp,
                         "spearman_rho": rho, "spearman_p": sp, "partial_r": pr.r, "partial_p": pr.p,
                         "partial_rho": ps.r, "partial_rho_p": ps.p, "length_driven": driven,
                         "advice": ("compare the rate (--normalize) and see the count models"
                                    if driven and score == "frequency"
                                    else ("length-sensitive within groups: read with care" if driven else ""))})
    return pd.DataFrame(rows), pd.DataFrame(corr)


def count_models(scores, codes, rule: Rule = Rule()):
    """Sensitivity analysis of frequencies: for each code, a Poisson GLM and a negative
    binomial (NB2) model of the frequency with group as predictor and log(speech length) as
    offset (Cameron & Trivedi 2013), fitted with statsmodels.

    Returns:
        DataFrame, one row per code x model (``poisson``, ``negative binomial``): code, model,
        rate_ratio (outstanding / average, per unit of speech), ci_low, ci_high (95 % Wald),
        p (Wald, the rule's side), dispersion (Pearson chi2 / residual df for Poisson; the
        estimated NB2 alpha for the negative binomial), q (Benjamini-Hochberg over the codes
        of the model), verdict (as the main rule would give it on this test; ``not estimable``
        when the model cannot be fitted), note (why a fit failed or did not converge; where the
        NB2 alpha sits at its boundary 0 the negative binomial row repeats the Poisson fit and
        says so).
    """
    import warnings

    import numpy as np
    import pandas as pd
    import statsmodels.api as sm
    from scipy import stats as sps

    df = _two_groups(scores)
    df = df[df["speech_length"] > 0]
    out = []
    poisson: dict[str, dict] = {}
    for model in ("poisson", "negative binomial"):
        block = []
        for code in codes:
            sub = df[df["code"] == code]
            yv = sub["frequency"].astype(float).to_numpy()
            xg = (sub["group"] == "outstanding").astype(float).to_numpy()
            offset = np.log(sub["speech_length"].astype(float).to_numpy())
            row = {"code": code, "model": model, "rate_ratio": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                   "p": np.nan, "dispersion": np.nan, "note": ""}
            if yv.sum() == 0 or len(set(xg)) < 2:
                row["note"] = "no coding of this code" if yv.sum() == 0 else "one group only"
                block.append(row)
                continue
            exog = sm.add_constant(xg)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if model == "poisson":
                        fit = sm.GLM(yv, exog, family=sm.families.Poisson(), offset=offset).fit()
                        dispersion = float(fit.pearson_chi2 / fit.df_resid) if fit.df_resid > 0 else np.nan
                        beta, se = float(fit.params[1]), float(fit.bse[1])
                    else:
                        fit = sm.NegativeBinomial(yv, exog, offset=offset, loglike_method="nb2").fit(
                            disp=0, maxiter=200)
                        dispersion = float(fit.params[-1])
                        beta, se = float(fit.params[1]), float(fit.bse[1])
                        if not fit.mle_retvals.get("converged", True):
                            row["note"] = "did not converge"
            except Exception as exc:  # noqa: BLE001 - a model that cannot be fitted is reported, not fatal
                row["note"] = f"not fitted ({type(exc).__name__})"
                block.append(row)
                continue
            if model != "poisson" and code in poisson and not math.isnan(poisson[code]["rate_ratio"]) and (
                    not math.isfinite(dispersion) or dispersion < NB_BOUNDARY or not (math.isfinite(se) and se > 0)):
                # no overdispersion: the NB2 alpha sits at its boundary 0, where the model is the Poisson one
                row.update({k: poisson[code][k] for k in ("rate_ratio", "ci_low", "ci_high", "p")},
                           dispersion=0.0, note="alpha at 0 (no overdispersion): the Poisson fit")
                block.append(row)
                continue
            if not (math.isfinite(beta) and math.isfinite(se) and se > 0):
                never = [g for g in (1.0, 0.0) if yv[xg == g].sum() == 0]
                row["note"] = ("not estimable: a group never shows the code (separation)" if never else
                               "not estimable")
                block.append(row)
                continue
            z = beta / se
            p = 2 * sps.norm.sf(abs(z)) if rule.sided == "two-sided" else sps.norm.sf(z)
            row.update(rate_ratio=math.exp(beta), ci_low=math.exp(beta - 1.959963984540054 * se),
                       ci_high=math.exp(beta + 1.959963984540054 * se), p=float(p), dispersion=dispersion)
            block.append(row)
            if model == "poisson":
                poisson[code] = row
        qs = _bh([r["p"] for r in block])
        for r, q in zip(block, qs):
            r["q"] = q
            r["q_bh"] = q
            if math.isnan(r["rate_ratio"]):
                r["verdict"] = "not estimable"
                continue
            sub = df[df["code"] == r["code"]]
            presence = {f"presence_{g}": float(sub.loc[sub["group"] == g, "presence"].mean())
                        for g in ("outstanding", "average")}
            higher = r["rate_ratio"] > 1
            r["verdict"] = verdict({**r, **presence, "mean_outstanding": 1.0 if higher else 0.0,
                                    "mean_average": 0.0 if higher else 1.0}, rule)
        out.extend(block)
    cols = ["code", "model", "rate_ratio", "ci_low", "ci_high", "p", "q", "dispersion", "verdict", "note"]
    return pd.DataFrame(out)[cols]


def classify_groups(scores, codes, score: str = "frequency", seed: int = 0, permutations: int | None = None,
                    max_exact: int = 5_000):
    """Does the competency model tell the groups apart? A cross-validated classification of
    outstanding vs average from the ``score`` of every code (McClelland 1998; Boyatzis 1998):
    L2-penalised logistic regression (scikit-learn, C = 1, scores standardised within each
    training fold), leave-one-out for up to 100 interviewees, stratified 10-fold above.

    The mean level among those who show a code is replaced by the mean level (0 when never
    shown), since every interviewee needs a value. The accuracy's p value comes from the same
    classification on relabelled data: every
    split of the labels when there are at most ``max_exact`` (exact), else ``permutations``
    random relabellings (default 999 up to 100 interviewees, 199 above) from a generator
    seeded with ``seed``; p = (b + 1) / (R + 1), b the relabellings at least as accurate.

    Returns:
        dict with n, n_outstanding, n_average, score, method, accuracy (0..1), chance (the
        larger group's share), p, p_method, warning ('' or why the figure means little).

    Raises:
        AnalysisError: fewer than 3 interviewees in a group.
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import LeaveOneOut, StratifiedKFold

    from .stats import n_splits

    if score == "mean_level_shown":
        score = "mean_level"  # a classifier needs every interviewee's value: never shown counts as 0
    df = _two_groups(scores)
    wide = df.pivot_table(index="interviewee", columns="code", values=score, aggfunc="first")
    wide = wide.reindex(columns=list(codes)).fillna(0.0)
    labels = df.drop_duplicates("interviewee").set_index("interviewee").loc[wide.index, "group"]
    yv = (labels == "outstanding").astype(int).to_numpy()
    n1, n = int(yv.sum()), len(yv)
    if n1 < 3 or n - n1 < 3:
        raise AnalysisError("classification needs at least 3 interviewees in each group")
    xv = wide.to_numpy(dtype=float)
    if permutations is None:
        permutations = 999 if n <= 100 else 199
    if n <= 100:
        cv_name = "leave-one-out"
        folds = list(LeaveOneOut().split(xv))
    else:
        cv_name = "stratified 10-fold"
        folds = list(StratifiedKFold(10, shuffle=True, random_state=seed).split(xv, yv))

    def accuracy(target) -> float:
        right = 0
        for train, test in folds:
            if len(set(target[train])) < 2:  # one class left to learn from: predict it
                right += int(np.sum(target[test] == target[train][0]))
                continue
            mean, sd = xv[train].mean(axis=0), xv[train].std(axis=0)
            sd[sd == 0] = 1.0
            model = LogisticRegression(C=1.0, solver="liblinear", max_iter=1000)
            model.fit((xv[train] - mean) / sd, target[train])
            right += int(np.sum(model.predict((xv[test] - mean) / sd) == target[test]))
        return right / n

    observed = accuracy(yv)
    total = n_splits(n1, n - n1)
    if total <= max_exact:
        from itertools import combinations

        accs = []
        for chosen in combinations(range(n), n1):
            target = np.zeros(n, dtype=int)
            target[list(chosen)] = 1
            accs.append(accuracy(target))
        p = float(np.mean(np.asarray(accs) >= observed - 1e-12))
        p_method = f"exact: all {total:,} labellings"
    else:
        rng = np.random.default_rng(seed)
        hits = sum(accuracy(rng.permutation(yv)) >= observed - 1e-12 for _ in range(permutations))
        p = (hits + 1) / (permutations + 1)
        p_method = f"Monte-Carlo: {permutations:,} relabellings, seed {seed}"
    warning = ""
    if n < 20:
        warning = (f"with {n} interviewees a classifier separates almost any labelling; the accuracy "
                   "means little without its permutation p, and little even with it")
    return {"n": n, "n_outstanding": n1, "n_average": n - n1, "score": score,
            "method": f"L2 logistic regression (C = 1) on the {SCORE_LABELS[score]} of {len(codes)} codes, {cv_name}",
            "accuracy": observed, "chance": max(n1, n - n1) / n, "p": p, "p_method": p_method, "warning": warning}


def study_frames(store, coder: str):
    """Read what the analysis needs from a study.

    Returns ``(codings, interviewees, codes)``: codings has one row per coded passage of
    ``coder`` (columns interviewee, code, level); interviewees has one row per interviewee
    with at least one decision by ``coder`` (columns interviewee, group, speech_length,
    decided, passages); codes is the dictionary's code list.

    Raises:
        AnalysisError: the coder has made no decisions in this study.
    """
    import pandas as pd

    coder = store.resolve_coder(coder)
    codings = pd.DataFrame([{"interviewee": r["interviewee"], "code": r["code"], "level": r["level"]}
                            for r in store.coding_rows(coder)], columns=["interviewee", "code", "level"])
    decided = store.decided_passages(coder)
    rows = store.interviewee_rows()
    per_iv: dict[str, list[int]] = {}
    for pid, iv in store.passage_interviewees().items():
        per_iv.setdefault(iv, []).append(pid)
    for r in rows:
        ids = per_iv.get(r["interviewee"], [])
        r["passages"] = len(ids)
        r["decided"] = sum(1 for i in ids if i in decided)
    interviewees = pd.DataFrame([r for r in rows if r["decided"] > 0],
                                columns=["interviewee", "group", "speech_length", "decided", "passages"])
    if interviewees.empty:
        raise AnalysisError(f"coder {coder!r} has made no decisions in {store.path.name}")
    return codings, interviewees, [c["code"] for c in store.codes()]


@dataclass
class StudyAnalysis:
    """What :func:`analyze_study` computed: ``scores`` (one row per interviewee and code, see
    :func:`compute_scores`), ``comparison`` (one row per code and score, see
    :func:`compare_groups`), ``interviewees`` (see :func:`study_frames`), ``names`` (code ->
    its Chinese name, else its English one) and the ``rule`` applied."""

    scores: object
    comparison: object
    interviewees: object
    names: dict
    rule: Rule


def analyze_study(store, coder: str, rule: Rule = Rule(), normalize: bool = False) -> StudyAnalysis:
    """Score ``coder``'s codings in the study in ``store`` and compare the outstanding with the
    average group by ``rule``, on every score (``normalize``: the rate per 1,000 units of
    speech is the primary score instead of the frequency).

    Raises:
        AnalysisError: the coder has made no decisions, or the groups cannot be compared.
    """
    from dataclasses import asdict

    if normalize and rule.primary == "frequency":
        rule = Rule(**{**asdict(rule), "primary": "rate"})
    codings, interviewees, codes = study_frames(store, coder)
    from .language import code_names

    names = code_names(store)
    scores = compute_scores(codings, interviewees, codes)
    return StudyAnalysis(scores, compare_groups(scores, codes, rule), interviewees, names, rule)
