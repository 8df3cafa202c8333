"""The statistics of the comparison, each against a table, a published value or an
independent computation."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from beicoder.core import stats
from beicoder.core.analysis import Rule, classify_groups, compute_scores, count_models, length_control


def _u_sample(u: int, n1: int, n2: int):
    """Two samples without ties whose U (of x) is ``u``: x takes ``u`` wins from the bottom."""
    pooled = list(range(n1 + n2))
    # x gets ranks so that exactly u of the n1 * n2 pairs favour x: start from x lowest, move up
    x = list(range(n1))
    moved = 0
    while moved < u:
        for i in range(n1 - 1, -1, -1):
            if moved < u and x[i] + 1 < n1 + n2 and (x[i] + 1) not in x:
                x[i] += 1
                moved += 1
    y = [v for v in pooled if v not in x]
    assert sum(a > b for a in x for b in y) == u
    return [float(v) for v in x], [float(v) for v in y]


@pytest.mark.parametrize("n1,n2,u,table", [
    # lower-tail probabilities P(U <= u) of the exact Mann-Whitney distribution (Mann & Whitney 1947 tables)
    (5, 5, 0, 1 / 252), (5, 5, 1, 2 / 252), (5, 5, 2, 4 / 252), (5, 5, 3, 7 / 252), (5, 5, 4, 12 / 252),
    (4, 4, 0, 1 / 70), (4, 4, 1, 2 / 70), (4, 4, 2, 4 / 70), (3, 5, 0, 1 / 56), (3, 5, 1, 2 / 56),
])
def test_exact_mann_whitney_matches_the_tables(n1, n2, u, table):
    x, y = _u_sample(u, n1, n2)
    res = stats.permutation_test(x, y, "rank", "less")
    assert res.statistic == u and res.exact
    assert res.p == pytest.approx(table, abs=1e-12)
    assert stats.permutation_test(x, y, "rank", "two-sided").p == pytest.approx(min(1.0, 2 * table), abs=1e-12)
    # without ties scipy's exact method gives the same
    assert res.p == pytest.approx(sps.mannwhitneyu(x, y, alternative="less", method="exact").pvalue, abs=1e-12)


def test_separation_of_five_against_five_is_the_smallest_p():
    res = stats.permutation_test([6, 7, 8, 9, 10], [1, 2, 3, 4, 5], "rank", "two-sided")
    assert res.p == pytest.approx(2 / 252) and res.method == "exact, all 252 splits"
    assert stats.permutation_test([6, 7, 8, 9, 10], [1, 2, 3, 4, 5], "rank", "greater").p == pytest.approx(1 / 252)


def test_permutation_p_with_ties_by_full_enumeration():
    """Ties: every split of the pooled values enumerated here, against the module and scipy."""
    x, y = [0, 1, 1, 3, 3, 5], [0, 0, 1, 1, 2]
    pooled = x + y
    observed = np.mean(x) - np.mean(y)
    diffs = []
    for chosen in combinations(range(11), 6):
        a = [pooled[i] for i in chosen]
        b = [pooled[i] for i in range(11) if i not in chosen]
        diffs.append(np.mean(a) - np.mean(b))
    diffs = np.array(diffs)
    greater = np.mean(diffs >= observed - 1e-12)
    less = np.mean(diffs <= observed + 1e-12)
    res = stats.permutation_test(x, y, "mean", "two-sided")
    assert res.p == pytest.approx(min(1, 2 * min(greater, less)), abs=1e-12) and res.splits == 462
    assert stats.permutation_test(x, y, "mean", "greater").p == pytest.approx(greater, abs=1e-12)

    def diff(a, b, axis=-1):
        return np.mean(a, axis=axis) - np.mean(b, axis=axis)

    ref = sps.permutation_test((np.array(x, float), np.array(y, float)), diff, vectorized=True, n_resamples=10**6)
    assert res.p == pytest.approx(ref.pvalue, abs=1e-12)
    # the rank version: U with ties counted one half, p from mid-ranks
    u = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in x for b in y)
    rank = stats.permutation_test(x, y, "rank", "greater")
    assert rank.statistic == u
    ranks = sps.rankdata(pooled)
    ref = sps.permutation_test((ranks[:6], ranks[6:]), diff, vectorized=True, n_resamples=10**6, alternative="greater")
    assert rank.p == pytest.approx(ref.pvalue, abs=1e-12)


def test_monte_carlo_beyond_the_enumeration_limit_is_seeded_and_stated():
    rng = np.random.default_rng(3)
    x, y = rng.poisson(3, 20).tolist(), rng.poisson(2, 20).tolist()  # C(40, 20) splits: too many
    a = stats.permutation_test(x, y, "rank")
    b = stats.permutation_test(x, y, "rank")
    assert a == b and not a.exact and a.method == "Monte-Carlo, 9,999 resamples, seed 0"
    assert a.p >= 1 / 10_000  # (b + 1) / (R + 1) is never 0
    exact_like = sps.mannwhitneyu(x, y, method="asymptotic").pvalue
    assert a.p == pytest.approx(exact_like, abs=0.02)


def test_noncentral_t_interval():
    """The noncentrality inversion against a worked example (real-statistics.com, one-sample
    t = 3.66393, df = 39: δ = 5.779 for a lower-tail probability of .025, found there with
    Excel's goal seek) and an independent numerical integration of the noncentral t cdf."""
    from scipy import integrate

    ncp = stats._nct_ncp(3.66393, 39, 0.025)
    assert ncp == pytest.approx(5.779139, abs=0.02)

    def cdf(t, df, delta):
        f = lambda v: sps.norm.cdf(t * math.sqrt(v / df) - delta) * sps.chi2.pdf(v, df)  # noqa: E731
        return integrate.quad(f, 0, 500, limit=500, epsabs=1e-14)[0]

    assert cdf(3.66393, 39, ncp) == pytest.approx(0.025, abs=1e-9)
    lo, hi = stats.smd_ci(0.5, 20, 20)
    assert lo < 0.5 < hi and lo == pytest.approx(-0.133, abs=0.002) and hi == pytest.approx(1.127, abs=0.002)
    t = 0.5 / math.sqrt(2 / 20)
    assert cdf(t, 38, lo / math.sqrt(2 / 20)) == pytest.approx(0.975, abs=1e-8)
    assert cdf(t, 38, hi / math.sqrt(2 / 20)) == pytest.approx(0.025, abs=1e-8)
    # wider than the large-sample interval at N = 10 (which is too narrow)
    d = 1.5
    se = math.sqrt(10 / 25 + d * d / 20)
    lo, hi = stats.smd_ci(d, 5, 5)
    assert hi - lo > 2 * 1.96 * se


def test_hedges_exact_correction():
    for m in (4, 8, 18, 58):
        exact = math.gamma(m / 2) / (math.sqrt(m / 2) * math.gamma((m - 1) / 2))
        assert stats.hedges_j(m) == pytest.approx(exact, rel=1e-12)
        assert stats.hedges_j(m) == pytest.approx(1 - 3 / (4 * m - 1), abs=0.005)


def test_rank_biserial_interval():
    r, n1, n2 = 0.6, 8, 7
    se = math.sqrt((n1 + n2 + 1) / (3 * n1 * n2))
    lo, hi = stats.rank_biserial_ci(r, n1, n2)
    assert (lo, hi) == pytest.approx((math.tanh(math.atanh(r) - 1.959963984540054 * se),
                                      math.tanh(math.atanh(r) + 1.959963984540054 * se)), abs=1e-12)
    assert all(math.isnan(v) for v in stats.rank_biserial_ci(1.0, 5, 5))


def test_minimal_detectable_effect_matches_cohen():
    # BEI-METHOD (Cohen 1988): 5 vs 5 -> 2.02, at alpha/8 -> 2.97; 10 vs 10 -> 1.32; 20 vs 20 -> 0.91
    assert stats.minimal_detectable_d(5, 5) == pytest.approx(2.02, abs=0.01)
    assert stats.minimal_detectable_d(5, 5, alpha=0.05 / 8) == pytest.approx(2.97, abs=0.01)
    assert stats.minimal_detectable_d(10, 10) == pytest.approx(1.32, abs=0.01)
    assert stats.minimal_detectable_d(20, 20) == pytest.approx(0.91, abs=0.01)
    assert stats.minimal_detectable_d(5, 5, alternative="larger") < stats.minimal_detectable_d(5, 5)


def test_partial_correlation_against_the_formula():
    rng = np.random.default_rng(7)
    g = ["o"] * 8 + ["a"] * 8
    z = np.array([1.0] * 8 + [0.0] * 8)
    a = z * 2 + rng.normal(size=16)
    b = z * 3 + 0.5 * a + rng.normal(size=16)
    r_ab, r_az, r_bz = np.corrcoef(a, b)[0, 1], np.corrcoef(a, z)[0, 1], np.corrcoef(b, z)[0, 1]
    expected = (r_ab - r_az * r_bz) / math.sqrt((1 - r_az ** 2) * (1 - r_bz ** 2))
    res = stats.partial_correlation(a, b, g)
    assert res.r == pytest.approx(expected, abs=1e-12) and res.df == 13
    t = expected * math.sqrt(13 / (1 - expected ** 2))
    assert res.p == pytest.approx(2 * sps.t.sf(abs(t), 13), abs=1e-12)
    ra, rb = sps.rankdata(a), sps.rankdata(b)
    r_ab, r_az, r_bz = np.corrcoef(ra, rb)[0, 1], np.corrcoef(ra, z)[0, 1], np.corrcoef(rb, z)[0, 1]
    spearman = (r_ab - r_az * r_bz) / math.sqrt((1 - r_az ** 2) * (1 - r_bz ** 2))
    assert stats.partial_correlation(a, b, g, "spearman").r == pytest.approx(spearman, abs=1e-12)


def _study(freqs_o, freqs_a, lengths_o, lengths_a, code="ACH"):
    rows = [{"interviewee": f"O{i}", "code": code, "level": 2} for i, f in enumerate(freqs_o) for _ in range(f)]
    rows += [{"interviewee": f"A{i}", "code": code, "level": 1} for i, f in enumerate(freqs_a) for _ in range(f)]
    ivs = [{"interviewee": f"O{i}", "group": "outstanding", "speech_length": n} for i, n in enumerate(lengths_o)]
    ivs += [{"interviewee": f"A{i}", "group": "average", "speech_length": n} for i, n in enumerate(lengths_a)]
    codings = pd.DataFrame(rows, columns=["interviewee", "code", "level"])
    interviewees = pd.DataFrame(ivs)
    return compute_scores(codings, interviewees, [code]), interviewees


def test_count_models_against_statsmodels_called_directly():
    import statsmodels.api as sm

    fo, fa = [6, 8, 5, 9, 7, 10], [2, 4, 3, 1, 3, 2]
    lo, la = [3000, 3500, 2800, 4000, 3300, 3900], [2500, 3000, 2700, 2600, 3100, 2900]
    scores, _ = _study(fo, fa, lo, la)
    cm = count_models(scores, ["ACH"]).set_index("model")
    y = np.array(fo + fa, float)
    x = sm.add_constant(np.array([1.0] * 6 + [0.0] * 6))
    off = np.log(np.array(lo + la, float))
    fit = sm.GLM(y, x, family=sm.families.Poisson(), offset=off).fit()
    assert cm.loc["poisson", "rate_ratio"] == pytest.approx(math.exp(fit.params[1]), rel=1e-9)
    assert cm.loc["poisson", "p"] == pytest.approx(fit.pvalues[1], rel=1e-6)
    assert cm.loc["poisson", "dispersion"] == pytest.approx(fit.pearson_chi2 / fit.df_resid, rel=1e-9)
    assert cm.loc["poisson", "ci_low"] == pytest.approx(math.exp(fit.conf_int()[1][0]), rel=1e-6)
    nb = sm.NegativeBinomial(y, x, offset=off, loglike_method="nb2").fit(disp=0, maxiter=200)
    # these counts are not overdispersed: NB2's alpha sits at 0 and its row repeats the Poisson fit
    assert nb.params[-1] < 1e-4 and "the Poisson fit" in cm.loc["negative binomial", "note"]
    assert cm.loc["negative binomial", "rate_ratio"] == cm.loc["poisson", "rate_ratio"]
    assert cm.loc["poisson", "verdict"] == "differentiating"
    # overdispersed counts: the negative binomial is its own fit, against statsmodels
    fo, fa = [0, 20, 1, 15, 2, 30], [0, 1, 0, 6, 0, 2]
    scores, _ = _study(fo, fa, lo, la)
    cm = count_models(scores, ["ACH"]).set_index("model")
    y = np.array(fo + fa, float)
    nb = sm.NegativeBinomial(y, x, offset=off, loglike_method="nb2").fit(disp=0, maxiter=200)
    assert nb.params[-1] > 0.5 and cm.loc["poisson", "dispersion"] > 2
    assert cm.loc["negative binomial", "rate_ratio"] == pytest.approx(math.exp(nb.params[1]), rel=1e-6)
    assert cm.loc["negative binomial", "dispersion"] == pytest.approx(nb.params[-1], rel=1e-6)
    assert cm.loc["negative binomial", "p"] == pytest.approx(nb.pvalues[1], rel=1e-5)


def test_length_within_groups_sees_what_pooling_hides():
    """Groups differ in length and in frequency, but within each group frequency rises with
    length: the pooled correlation mixes both, the partial one controls for group."""
    fo, fa = [8, 10, 12, 14, 16], [0, 2, 4, 6, 8]
    lo, la = [1000, 1500, 2000, 2500, 3000], [3500, 4000, 4500, 5000, 5500]
    scores, interviewees = _study(fo, fa, lo, la)
    length, corr = length_control(scores, interviewees)
    row = corr[(corr.code == "ACH") & (corr.score == "frequency")].iloc[0]
    assert row.partial_r == pytest.approx(1.0) and row.length_driven
    assert row.pearson_r < 0  # pooled: the longer group codes less
    perm = length.set_index("group").loc["permutation"]
    assert perm["p"] == pytest.approx(2 / 252) and "exact, all 252 splits" in perm["method"]


def test_classification_on_a_tiny_study_with_a_known_answer():
    # outstanding show ACH 5-9 times, average 0-2: leave-one-out classifies everybody right;
    # its exact permutation p is 2/70 for 4 vs 4 (the true labelling and its mirror image are perfect)
    scores, _ = _study([5, 7, 8, 9], [0, 1, 2, 1], [3000] * 4, [3000] * 4)
    res = classify_groups(scores, ["ACH"])
    assert res["accuracy"] == 1.0 and res["p_method"] == "exact: all 70 labellings"
    accurate = res["p"] * 70
    assert accurate == pytest.approx(round(accurate)) and 1 <= round(accurate) <= 2
    assert "means little" in res["warning"]
    # a score unrelated to the groups: accuracy near chance, p far from significant
    scores, _ = _study([1, 5, 2, 4], [4, 2, 5, 1], [3000] * 4, [3000] * 4)
    res = classify_groups(scores, ["ACH"])
    assert res["p"] > 0.3


def test_rule_rejects_unknown_choices():
    from beicoder.core.analysis import AnalysisError

    with pytest.raises(AnalysisError, match="unknown primary score"):
        Rule(primary="length")
    with pytest.raises(AnalysisError, match="unknown test"):
        Rule(test="t")
