import math

import pandas as pd
import pytest
from scipy import stats

from beicoder.core.analysis import (
    AnalysisError,
    Rule,
    compare_groups,
    compute_scores,
    normalize_group,
    study_frames,
    verdict,
)
from beicoder.core.store import Store
from beicoder.core.textutil import han_count, speech_length

LEVELS = {  # ACH codings per interviewee (levels)
    "O1": [3, 5], "O2": [2, 2, 4, 4], "O3": [1] * 6,
    "A1": [1], "A2": [1, 3], "A3": [2, 2, 2],
}
LENGTH = {"O1": 1000, "O2": 2000, "O3": 1000, "A1": 1000, "A2": 1000, "A3": 500}


@pytest.fixture
def tiny():
    codings = pd.DataFrame([{"interviewee": iv, "code": "ACH", "level": lv}
                            for iv, lvs in LEVELS.items() for lv in lvs])
    interviewees = pd.DataFrame([{"interviewee": iv, "group": "优秀" if iv[0] == "O" else "普通",
                                  "speech_length": LENGTH[iv]} for iv in LEVELS])
    scores = compute_scores(codings, interviewees, ["ACH", "INFO"])
    return scores, compare_groups(scores, ["ACH", "INFO"], Rule(alpha=0.05))


def test_scores_per_interviewee_and_code(tiny):
    scores, _ = tiny
    ach = scores[scores.code == "ACH"].set_index("interviewee")
    assert list(ach.frequency) == [2, 4, 6, 1, 2, 3]
    assert list(ach.mean_level) == [4.0, 3.0, 1.0, 1.0, 2.0, 2.0]
    assert list(ach.max_level) == [5.0, 4.0, 1.0, 1.0, 3.0, 2.0]
    assert list(ach.rate) == [2.0, 2.0, 6.0, 1.0, 2.0, 6.0]  # per 1,000 Han characters
    assert list(ach.presence) == [1] * 6
    info = scores[scores.code == "INFO"]
    assert list(info.frequency) == [0] * 6 and list(info.mean_level) == [0.0] * 6 and list(info.presence) == [0] * 6


def test_group_comparison_matches_hand_computation(tiny):
    _, comp = tiny
    row = comp[(comp.code == "ACH") & (comp.score == "frequency")].iloc[0]
    # outstanding 2, 4, 6 (mean 4, var 4); average 1, 2, 3 (mean 2, var 1)
    assert (row.n_outstanding, row.n_average) == (3, 3)
    assert row.mean_outstanding == 4 and row.sd_outstanding == 2
    assert row.mean_average == 2 and row.sd_average == 1
    t = 2 / math.sqrt(4 / 3 + 1 / 3)
    df = (5 / 3) ** 2 / ((4 / 3) ** 2 / 2 + (1 / 3) ** 2 / 2)  # Welch-Satterthwaite = 50/17
    assert row.welch_t == pytest.approx(t, abs=1e-12)
    assert row.welch_df == pytest.approx(50 / 17, abs=1e-12) and df == pytest.approx(50 / 17)
    assert row.welch_p == pytest.approx(2 * stats.t.sf(t, 50 / 17), abs=1e-12)
    # U for outstanding: 2 beats 1 and ties 2 (1.5), 4 and 6 beat all three: 7.5
    assert row.mw_u == 7.5
    assert row.rank_biserial == pytest.approx(2 * 7.5 / 9 - 1)
    d = 2 / math.sqrt((2 * 4 + 2 * 1) / 4)
    assert row.cohens_d == pytest.approx(d, abs=1e-12)
    # Hedges' exact J(m) = Γ(m/2) / (sqrt(m/2) Γ((m-1)/2)), m = 4; close to 1 - 3 / (4m - 1)
    j = math.gamma(2) / (math.sqrt(2) * math.gamma(1.5))
    assert row.hedges_g == pytest.approx(d * j, abs=1e-12)
    assert j == pytest.approx(1 - 3 / (4 * 6 - 9), abs=0.01)
    # the verdict test is the exact Mann-Whitney: 20 splits of 3 + 3, U = 7.5 or more in 5 of them
    # (by enumeration below), two-sided p = 2 * min(P(U >= 7.5), P(U <= 7.5))
    from itertools import combinations

    pooled = [2, 4, 6, 1, 2, 3]
    us = [sum(1.0 if pooled[a] > pooled[b] else 0.5 if pooled[a] == pooled[b] else 0.0
              for a in chosen for b in set(range(6)) - set(chosen)) for chosen in combinations(range(6), 3)]
    p_exact = min(1.0, 2 * min(sum(u >= 7.5 for u in us), sum(u <= 7.5 for u in us)) / 20)
    assert row.mw_p == pytest.approx(p_exact, abs=1e-12) and row.mw_method == "exact, all 20 splits"
    # the only finite p among the codes of this score: q equals p
    assert row.q_bh == pytest.approx(row.mw_p) and row.p == row.mw_p and row.role == "primary"
    assert row.verdict == "threshold"  # not significant with n = 3, but shown by everybody
    info = comp[(comp.code == "INFO") & (comp.score == "frequency")].iloc[0]
    assert math.isnan(info.welch_p) and info.verdict == "none"


def test_benjamini_hochberg_across_codes():
    rows = []
    values = {"X": ([5, 6, 7, 8], [1, 2, 3, 4]), "Y": ([2, 3, 4, 5], [1, 2, 3, 4]), "Z": ([1, 3, 2, 4], [2, 4, 1, 3])}
    for code, (o, a) in values.items():
        for i, v in enumerate(o):
            rows.append({"interviewee": f"O{i}", "group": "outstanding", "code": code, "frequency": v, "presence": 1})
        for i, v in enumerate(a):
            rows.append({"interviewee": f"A{i}", "group": "average", "code": code, "frequency": v, "presence": 1})
    scores = pd.DataFrame(rows)
    for col in ("rate", "mean_level", "max_level", "level_score", "mean_level_shown"):
        scores[col] = scores["frequency"]
    comp = compare_groups(scores, ["X", "Y", "Z"], Rule(test="welch"))
    freq = comp[comp.score == "frequency"].set_index("code")
    p = [stats.ttest_ind(*values[c], equal_var=False).pvalue for c in "XYZ"]
    order = sorted(range(3), key=lambda i: p[i])
    q = [0.0] * 3
    running = 1.0
    for rank in range(3, 0, -1):  # step-up: q_(i) = min_{j>=i} p_(j) * m / j
        i = order[rank - 1]
        running = min(running, p[i] * 3 / rank)
        q[i] = running
    assert list(freq.q_bh) == pytest.approx(q, abs=1e-12)
    assert freq.loc["X", "verdict"] == "differentiating"
    assert freq.loc["Z", "verdict"] == "threshold"


def test_verdict_rule_branches():
    base = {"mean_outstanding": 3.0, "mean_average": 1.0, "welch_p": 0.01, "q_bh": 0.04,
            "presence_outstanding": 1.0, "presence_average": 0.2}
    assert verdict(base, Rule()) == "differentiating"
    # q misses alpha but Welch's p < .10: marginal; with p >= .10 nothing
    assert verdict({**base, "q_bh": 0.2}, Rule()) == "marginal"
    assert verdict({**base, "q_bh": 0.2, "welch_p": 0.12}, Rule()) == "none"
    assert verdict({**base, "q_bh": 0.2}, Rule(corrected=False)) == "differentiating"
    # average significantly higher is not differentiating: two-sided it is "reversed", one-sided nothing
    assert verdict({**base, "mean_outstanding": 0.5}, Rule()) == "reversed"
    assert verdict({**base, "mean_outstanding": 0.5}, Rule(sided="one-sided")) == "none"
    assert verdict({**base, "q_bh": 0.3, "welch_p": 0.3, "presence_average": 0.6}, Rule()) == "threshold"
    assert verdict({**base, "q_bh": 0.3, "welch_p": 0.3, "presence_average": 0.6},
                   Rule(threshold_presence=0.7)) == "none"
    assert verdict({**base, "q_bh": float("nan"), "welch_p": float("nan")}, Rule()) == "none"
    assert verdict({**base, "q_bh": 0.2, "welch_p": 0.05}, Rule(marginal=0.01)) == "none"
    assert "differentiating = outstanding higher and Benjamini-Hochberg q over the codes on the primary score " \
        "(frequency) < 0.05" in Rule().describe()
    assert "marginal = not differentiating, outstanding higher and p < 0.1" in Rule().describe()
    assert "two-sided Mann-Whitney U (exact permutation p" in Rule().describe()


def test_group_labels():
    assert normalize_group("优秀") == "outstanding" and normalize_group(" Average ") == "average"
    assert normalize_group("一般组") == "average" and normalize_group("") is None
    with pytest.raises(AnalysisError, match="neither outstanding"):
        normalize_group("中等")


def test_missing_group_is_a_clear_error(tiny):
    scores, _ = tiny
    only_out = scores[scores.group == "优秀"]
    with pytest.raises(AnalysisError, match="no average interviewee among"):
        compare_groups(only_out, ["ACH"])


def test_study_frames_use_the_interviewees_speech(tiny_study):
    store = Store(tiny_study)
    a_passages = [p for p in store.passages() if p.transcript_id == 1]
    store.toggle_code(a_passages[0].id, "alice", "INFO")
    store.set_level(a_passages[0].id, "alice", "INFO", 3)
    store.mark_no_code(a_passages[1].id, "alice")
    codings, interviewees, codes = study_frames(store, "alice")
    assert list(interviewees.interviewee) == ["A01"]  # B01 has no decision by alice
    speech = ("去年有个养猪户来贷款。我去他家实地走访，还查了他的电费单和银行流水。"
              "后来他按时还款了。我们还一直保持联系。")
    assert han_count(speech) == 48 and speech_length(speech) == 48
    assert list(interviewees.speech_length) == [48]
    assert list(interviewees.decided) == [2]
    scores = compute_scores(codings, interviewees, codes)
    info = scores[scores.code == "INFO"].iloc[0]
    assert info.frequency == 1 and info.mean_level == 3 and info.rate == pytest.approx(1000 / 48)
    with pytest.raises(AnalysisError, match="no decisions"):
        study_frames(store, "nobody")
    store.close()


def test_demo_reference_coding_names_differentiating_competencies(demo_db):
    store = Store(demo_db)
    codings, interviewees, codes = study_frames(store, "reference")
    store.close()
    assert len(interviewees) == 10
    comp = compare_groups(compute_scores(codings, interviewees, codes), codes)
    freq = comp[comp.score == "frequency"].set_index("code")
    assert freq.loc["INFO", "verdict"] == "differentiating"
    assert freq.loc["SCT", "verdict"] == "threshold"


def test_every_statistic_against_an_independent_computation(tiny):
    """Student's t, effect-size CIs, U and rank-biserial by pair counting, Pearson and
    Spearman through pandas: all to 1e-9."""
    from beicoder.core.analysis import effect_ci, length_control

    scores, comp = tiny
    row = comp[(comp.code == "ACH") & (comp.score == "mean_level")].iloc[0]
    x, y = [4.0, 3.0, 1.0], [1.0, 2.0, 2.0]  # mean levels of O1-O3 and A1-A3
    mx, my = sum(x) / 3, sum(y) / 3
    vx = sum((v - mx) ** 2 for v in x) / 2
    vy = sum((v - my) ** 2 for v in y) / 2
    sp2 = (2 * vx + 2 * vy) / 4
    t = (mx - my) / math.sqrt(sp2 * (1 / 3 + 1 / 3))
    assert row.student_t == pytest.approx(t, abs=1e-9) and row.student_df == 4
    assert row.student_p == pytest.approx(2 * stats.t.sf(abs(t), 4), abs=1e-9)
    u = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in x for b in y)
    assert row.mw_u == pytest.approx(u, abs=1e-9)
    assert row.rank_biserial == pytest.approx((u - (9 - u)) / 9, abs=1e-9)  # (favourable - unfavourable) / n1 n2
    d = (mx - my) / math.sqrt(sp2)
    assert row.cohens_d == pytest.approx(d, abs=1e-9)
    # exact CI: the noncentralities that put t at the 97.5th and 2.5th percentile of a noncentral
    # t on 4 df, found here by bisection on a cdf computed by numerical integration over the chi-square
    from scipy import integrate

    def nct_cdf(tv, df, ncp):
        f = lambda v: stats.norm.cdf(tv * math.sqrt(v / df) - ncp) * stats.chi2.pdf(v, df)  # noqa: E731
        return integrate.quad(f, 0, 200, limit=400, epsabs=1e-14)[0]

    def solve(prob):
        lo, hi = -20.0, 20.0
        for _ in range(80):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if nct_cdf(t, 4, mid) > prob else (lo, mid)
        return (lo + hi) / 2

    scale = math.sqrt(1 / 3 + 1 / 3)
    assert (row.cohens_d_low, row.cohens_d_high) == pytest.approx((solve(0.975) * scale, solve(0.025) * scale),
                                                                  abs=1e-6)
    j = math.gamma(2) / (math.sqrt(2) * math.gamma(1.5))
    assert row.hedges_g_low == pytest.approx(j * row.cohens_d_low, abs=1e-12)
    assert effect_ci(float("nan"), 3, 3) != effect_ci(0.0, 3, 3)
    assert row.warning == "a group has fewer than 5 people"
    interviewees = pd.DataFrame([{"interviewee": iv, "group": "优秀" if iv[0] == "O" else "普通",
                                  "speech_length": LENGTH[iv]} for iv in LEVELS])
    length, corr = length_control(scores, interviewees)
    lo = length.set_index("group")
    assert lo.loc["outstanding", "mean"] == pytest.approx(4000 / 3) and lo.loc["average", "n"] == 3
    welch = stats.ttest_ind([1000, 2000, 1000], [1000, 1000, 500], equal_var=False)
    assert lo.loc["welch", "t"] == pytest.approx(welch.statistic, abs=1e-9)
    c = corr[(corr.code == "ACH") & (corr.score == "frequency")].iloc[0]
    frame = pd.DataFrame({"f": [2, 4, 6, 1, 2, 3], "len": [1000, 2000, 1000, 1000, 1000, 500]})
    assert c.pearson_r == pytest.approx(frame["f"].corr(frame["len"]), abs=1e-9)
    assert c.spearman_rho == pytest.approx(frame["f"].corr(frame["len"], method="spearman"), abs=1e-9)
    info = corr[(corr.code == "INFO") & (corr.score == "frequency")].iloc[0]
    assert math.isnan(info.pearson_r) and not info.length_driven  # a constant score has no correlation


def test_a_third_group_is_a_clear_error(tiny):
    scores, _ = tiny
    bad = scores.copy()
    bad.loc[bad.interviewee == "A3", "group"] = "中等"
    with pytest.raises(AnalysisError, match="interviewee A3: group '中等' is neither"):
        compare_groups(bad, ["ACH"])


def test_perfect_separation_without_variance_differentiates():
    rows = []
    for i in range(5):
        rows.append({"interviewee": f"O{i}", "group": "outstanding", "code": "SCT", "frequency": 2, "presence": 1})
        rows.append({"interviewee": f"A{i}", "group": "average", "code": "SCT", "frequency": 0, "presence": 0})
    scores = pd.DataFrame(rows)
    for col in ("rate", "mean_level", "max_level", "level_score", "mean_level_shown"):
        scores[col] = scores["frequency"]
    row = compare_groups(scores, ["SCT"]).query("score == 'frequency'").iloc[0]
    assert row.welch_p == 0.0 and row.welch_t == float("inf")
    # the exact Mann-Whitney p of complete separation of 5 vs 5 is 2/252, the smallest possible
    assert row.mw_p == pytest.approx(2 / 252) and row.verdict == "differentiating"
    assert "no variance within either group" in row.warning
