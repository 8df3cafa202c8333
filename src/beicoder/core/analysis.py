"""Scores per interviewee and competency, and the outstanding-vs-average comparison.

Scores (per interviewee x code, from one coder's codings; unit = a coded passage):

- ``frequency``: number of passages coded with the code;
- ``mean_level`` / ``max_level``: mean and highest level of those codings (codings without a
  level are left out; a code never shown scores 0, the usual BEI convention);
- ``rate``: frequency per 1,000 units of the interviewee's own speech (Han characters, plus
  words for non-Chinese text; see :func:`beicoder.core.textutil.speech_length`);
- ``presence``: 1 when the code was shown at all, else 0.

The comparison (per code and score) reports group means and SDs, Welch's t (df, two-sided p),
the Mann-Whitney U (two-sided, scipy's exact or asymptotic method), Hedges' g (Cohen's d with
pooled SD times J = 1 - 3 / (4 (n1 + n2) - 9); Hedges & Olkin 1985), the rank-biserial
correlation r = 2 U1 / (n1 n2) - 1 (Kerby 2014) and Benjamini-Hochberg q over the codes of
each score (scipy.stats.false_discovery_control).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import BeicoderError

SCORES = ("frequency", "rate", "mean_level", "max_level")
SCORE_LABELS = {"frequency": "frequency", "rate": "rate /1000", "mean_level": "mean level",
                "max_level": "max level", "presence": "presence"}

OUTSTANDING_LABELS = {"outstanding", "superior", "top", "high", "star", "优秀", "优秀组", "優秀", "優秀組", "绩优", "高绩效"}
AVERAGE_LABELS = {"average", "typical", "normal", "low", "普通", "普通组", "普通組", "一般", "一般组", "一般組", "绩效一般"}


class AnalysisError(BeicoderError):
    """The study cannot be analysed as asked; one line saying why."""


@dataclass(frozen=True)
class Rule:
    """The verdict rule. ``alpha`` applies to Benjamini-Hochberg q (or to Welch's p when
    ``corrected`` is False); ``threshold_presence`` is the share of each group that must show
    the code for a threshold competency."""

    alpha: float = 0.05
    corrected: bool = True
    threshold_presence: float = 0.5
    marginal: float = 0.10

    def describe(self) -> str:
        test = "Benjamini-Hochberg q of Welch's t-test across codes" if self.corrected else "Welch's t-test p (uncorrected)"
        pct = round(self.threshold_presence * 100)
        return (f"differentiating = outstanding mean higher and {test} < {self.alpha:g}; "
                f"marginal = not differentiating, outstanding mean higher and Welch's p < {self.marginal:g}; "
                f"threshold = neither, and shown by at least {pct}% of both groups; none = otherwise")


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
        rate, presence, speech_length.
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
                mean_level = max_level = 0.0
            elif levels:
                mean_level, max_level = sum(levels) / len(levels), float(max(levels))
            else:
                mean_level = max_level = float("nan")
            length = iv.speech_length or 0
            rows.append({
                "interviewee": iv.interviewee, "group": iv.group, "code": code, "frequency": freq,
                "mean_level": mean_level, "max_level": max_level,
                "rate": freq * 1000.0 / length if length else float("nan"),
                "presence": int(freq > 0), "speech_length": length,
            })
    return pd.DataFrame(rows, columns=["interviewee", "group", "code", "frequency", "mean_level", "max_level",
                                       "rate", "presence", "speech_length"])


def hedges_g(x, y) -> tuple[float, float]:
    """Cohen's d (pooled SD) and Hedges' g of ``x`` minus ``y``; NaN when undefined."""
    n1, n2 = len(x), len(y)
    if n1 < 2 or n2 < 2:
        return float("nan"), float("nan")
    m1, m2 = sum(x) / n1, sum(y) / n2
    v1 = sum((a - m1) ** 2 for a in x) / (n1 - 1)
    v2 = sum((b - m2) ** 2 for b in y) / (n2 - 1)
    sp = math.sqrt(((n1 - 1) * v1 + (n2 - 1) * v2) / (n1 + n2 - 2))
    if sp == 0:
        return float("nan"), float("nan")
    d = (m1 - m2) / sp
    return d, d * (1 - 3 / (4 * (n1 + n2) - 9))


def effect_ci(d: float, n1: int, n2: int, level: float = 0.95) -> tuple[float, float]:
    """Confidence interval of Cohen's d from its large-sample standard error
    ``sqrt((n1 + n2) / (n1 n2) + d^2 / (2 (n1 + n2)))`` (Hedges & Olkin 1985); NaN when d is."""
    from scipy import stats

    if math.isnan(d) or n1 < 2 or n2 < 2:
        return float("nan"), float("nan")
    se = math.sqrt((n1 + n2) / (n1 * n2) + d * d / (2 * (n1 + n2)))
    z = stats.norm.ppf(0.5 + level / 2)
    return d - z * se, d + z * se


def length_control(scores, interviewees):
    """Does interview length drive the scores?

    Args:
        scores: output of :func:`compute_scores`.
        interviewees: DataFrame with interviewee, group, speech_length (Han characters;
            words for alphabetic text).

    Returns:
        ``(length, correlations)``: ``length`` is one row per group (group, n, mean, sd of
        speech length) plus a row ``welch`` with t, df and p of the difference;
        ``correlations`` has one row per code x score (frequency, mean_level, max_level):
        code, score, n, pearson_r, pearson_p, spearman_rho, spearman_p, length_driven (either
        p < .05), advice (rate per 1,000 characters for a length-driven frequency).
    """
    import numpy as np
    import pandas as pd
    from scipy import stats

    iv = interviewees.copy()
    iv["group"] = [normalize_group(g) for g in iv["group"]]
    rows = []
    for g in ("outstanding", "average"):
        v = iv.loc[iv["group"] == g, "speech_length"].astype(float)
        rows.append({"group": g, "n": len(v), "mean": v.mean() if len(v) else np.nan,
                     "sd": v.std(ddof=1) if len(v) > 1 else np.nan, "t": np.nan, "df": np.nan, "p": np.nan})
    x = iv.loc[iv["group"] == "outstanding", "speech_length"].astype(float)
    y = iv.loc[iv["group"] == "average", "speech_length"].astype(float)
    t = {"group": "welch", "n": len(x) + len(y), "mean": np.nan, "sd": np.nan, "t": np.nan, "df": np.nan, "p": np.nan}
    if len(x) >= 2 and len(y) >= 2:
        res = stats.ttest_ind(x, y, equal_var=False)
        t.update(t=float(res.statistic), df=float(res.df), p=float(res.pvalue))
    rows.append(t)
    corr = []
    for (code, score), _ in pd.MultiIndex.from_product([scores["code"].unique(), ["frequency", "mean_level", "max_level"]]).to_frame().iterrows():
        sub = scores[scores["code"] == code]
        a, b = sub[score].astype(float), sub["speech_length"].astype(float)
        ok = ~(a.isna() | b.isna())
        a, b = a[ok], b[ok]
        r = rp = rho = sp = np.nan
        if len(a) >= 3 and a.nunique() > 1 and b.nunique() > 1:
            r, rp = (float(v) for v in stats.pearsonr(a, b))
            rho, sp = (float(v) for v in stats.spearmanr(a, b))
        driven = bool((not np.isnan(rp) and rp < 0.05) or (not np.isnan(sp) and sp < 0.05))
        corr.append({"code": code, "score": score, "n": int(len(a)), "pearson_r": r, "pearson_p": rp,
                     "spearman_rho": rho, "spearman_p": sp, "length_driven": driven,
                     "advice": "use the rate per 1,000 characters (--normalize)" if driven and score == "frequency"
                     else ("length-sensitive: read with care" if driven else "")})
    return pd.DataFrame(rows), pd.DataFrame(corr)


def compare_groups(scores, codes, rule: Rule = Rule(), score_names=SCORES):
    """Compare outstanding with average on every code and score.

    Args:
        scores: the output of :func:`compute_scores`; ``group`` must hold labels that
            :func:`normalize_group` maps (rows without a group are left out).
        codes: codes in dictionary order.
        rule: the verdict rule.

    Returns:
        DataFrame, one row per code x score (``score_names`` order, :data:`SCORES` by
        default), columns: code, score, n_outstanding, n_average, mean_outstanding,
        sd_outstanding, mean_average, sd_average, presence_outstanding, presence_average
        (shares 0..1), welch_t, welch_df, welch_p, student_t, student_df, student_p, mw_u,
        mw_p, cohens_d, cohens_d_low, cohens_d_high, hedges_g, hedges_g_low, hedges_g_high
        (95% CI by the large-sample standard error of Hedges & Olkin 1985:
        ``sqrt((n1 + n2) / (n1 n2) + d^2 / (2 (n1 + n2)))``, scaled by J for g),
        rank_biserial, q_bh, verdict, warning (a group under 5 people, a constant score).

    Raises:
        AnalysisError: a group is missing, or a label is neither outstanding nor average.
    """
    import numpy as np
    import pandas as pd
    from scipy import stats

    import warnings

    warnings.filterwarnings("ignore", message="Precision loss occurred", category=RuntimeWarning)
    df = scores.copy()
    groups = []
    for iv, g in zip(df["interviewee"], df["group"]):
        try:
            groups.append(normalize_group(g))
        except AnalysisError as exc:
            raise AnalysisError(f"interviewee {iv}: {exc}; two groups are compared") from None
    df["group"] = groups
    df = df[df["group"].notna()]
    present = set(df["group"])
    for needed in ("outstanding", "average"):
        if needed not in present:
            raise AnalysisError(
                f"no {needed} interviewee among those this coder has decided passages of "
                f"(groups come from the metadata CSV given to 'beicoder import --meta')"
            )
    out = []
    for score in score_names:
        block = []
        for code in codes:
            sub = df[df["code"] == code]
            x = [float(v) for v in sub.loc[sub["group"] == "outstanding", score] if not pd.isna(v)]
            y = [float(v) for v in sub.loc[sub["group"] == "average", score] if not pd.isna(v)]
            po = sub.loc[sub["group"] == "outstanding", "presence"].mean()
            pa = sub.loc[sub["group"] == "average", "presence"].mean()
            row = {"code": code, "score": score, "n_outstanding": len(x), "n_average": len(y),
                   "mean_outstanding": np.mean(x) if x else np.nan, "sd_outstanding": np.std(x, ddof=1) if len(x) > 1 else np.nan,
                   "mean_average": np.mean(y) if y else np.nan, "sd_average": np.std(y, ddof=1) if len(y) > 1 else np.nan,
                   "presence_outstanding": po, "presence_average": pa,
                   "welch_t": np.nan, "welch_df": np.nan, "welch_p": np.nan, "student_t": np.nan,
                   "student_df": np.nan, "student_p": np.nan, "mw_u": np.nan, "mw_p": np.nan}
            separated = False
            if len(x) >= 2 and len(y) >= 2 and (np.ptp(x) > 0 or np.ptp(y) > 0):
                res = stats.ttest_ind(x, y, equal_var=False)
                row.update(welch_t=float(res.statistic), welch_df=float(res.df), welch_p=float(res.pvalue))
                res = stats.ttest_ind(x, y, equal_var=True)
                row.update(student_t=float(res.statistic), student_df=float(res.df), student_p=float(res.pvalue))
            elif len(x) >= 2 and len(y) >= 2 and x[0] != y[0]:
                # no variance in either group but different values: t is infinite, p is 0
                separated = True
                sign = 1.0 if x[0] > y[0] else -1.0
                row.update(welch_t=sign * float("inf"), welch_p=0.0, student_t=sign * float("inf"),
                           student_df=float(len(x) + len(y) - 2), student_p=0.0)
            if x and y and len(set(x) | set(y)) > 1:
                mw = stats.mannwhitneyu(x, y, alternative="two-sided")
                row.update(mw_u=float(mw.statistic), mw_p=float(mw.pvalue))
            d, g = hedges_g(x, y)
            lo, hi = effect_ci(d, len(x), len(y))
            j = g / d if d and not math.isnan(d) else float("nan")
            warn = []
            if len(x) < 5 or len(y) < 5:
                warn.append("a group has fewer than 5 people")
            if x and y and len(set(x) | set(y)) == 1:
                warn.append("score is constant")
            if separated:
                warn.append("no variance within either group: t is infinite, p taken as 0")
            row.update(cohens_d=d, cohens_d_low=lo, cohens_d_high=hi, hedges_g=g,
                       hedges_g_low=lo * j, hedges_g_high=hi * j,
                       rank_biserial=(2 * row["mw_u"] / (len(x) * len(y)) - 1) if x and y else np.nan,
                       warning="; ".join(warn))
            block.append(row)
        ps = [r["welch_p"] for r in block]
        finite = [i for i, p in enumerate(ps) if not math.isnan(p)]
        qs = [float("nan")] * len(ps)
        if finite:
            adj = stats.false_discovery_control([ps[i] for i in finite], method="bh")
            for i, q in zip(finite, adj):
                qs[i] = float(q)
        for r, q in zip(block, qs):
            r["q_bh"] = q
            r["verdict"] = verdict(r, rule)
        out.extend(block)
    return pd.DataFrame(out)


def verdict(row: dict, rule: Rule) -> str:
    """``differentiating``, ``marginal``, ``threshold`` or ``none`` for one comparison row,
    by ``rule`` (see :meth:`Rule.describe`)."""
    test = row["q_bh"] if rule.corrected else row["welch_p"]
    higher = row["mean_outstanding"] > row["mean_average"]
    if higher and not math.isnan(test) and test < rule.alpha:
        return "differentiating"
    if higher and not math.isnan(row["welch_p"]) and row["welch_p"] < rule.marginal:
        return "marginal"
    po, pa = row["presence_outstanding"], row["presence_average"]
    if po >= rule.threshold_presence and pa >= rule.threshold_presence:
        return "threshold"
    return "none"


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

    from .store import normalize_coder

    coder = normalize_coder(coder)
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
    speech instead of the frequency).

    Raises:
        AnalysisError: the coder has made no decisions, or the groups cannot be compared.
    """
    codings, interviewees, codes = study_frames(store, coder)
    names = {c["code"]: c["name_zh"] or c["name_en"] for c in store.codes()}
    scores = compute_scores(codings, interviewees, codes)
    wanted = tuple(s for s in SCORES if s != "frequency") if normalize else SCORES
    return StudyAnalysis(scores, compare_groups(scores, codes, rule, wanted), interviewees, names, rule)
