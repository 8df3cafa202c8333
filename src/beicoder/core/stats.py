"""Statistics for small two-group comparisons, each with its source.

Everything here works on plain sequences of numbers (the outstanding group's scores ``x`` and
the average group's ``y``) and returns plain numbers, so that each formula can be checked on
its own against a table or a hand computation.

* :func:`permutation_test`: the exact permutation distribution of a two-sample statistic (the
  difference in means, or the Mann-Whitney U on mid-ranks, so ties are handled), enumerating
  every split of the pooled values when there are at most ``max_splits`` of them, else a seeded
  Monte-Carlo sample of splits with p = (b + 1) / (R + 1) (Phipson & Smyth 2010).
  Mann & Whitney (1947); Hollander & Wolfe (1999, ch. 4); Siegel & Castellan (1988).
  :func:`split_members` gives those splits (every one, or the seeded sample) and
  :func:`p_from_hits` the p value from counts of splits at least as extreme, for a statistic
  computed elsewhere on many variables at once (the distinctive terms of
  :mod:`beicoder.core.discover`).
* :func:`hedges_j`: Hedges' (1981) exact small-sample correction J.
* :func:`smd_ci`: confidence interval of a standardised mean difference by inverting the
  noncentral t distribution (Steiger & Fouladi 1997; Cumming 2012, ch. 11).
* :func:`rank_biserial_ci`: Fisher-z interval of the rank-biserial correlation with standard
  error sqrt((n1 + n2 + 1) / (3 n1 n2)) (King, Rosopa & Minium 2011, as the R package
  effectsize computes it).
* :func:`minimal_detectable_d`: the smallest Cohen's d a t-test detects with the given power
  (Cohen 1988), via statsmodels.
* :func:`partial_correlation`: Pearson or Spearman correlation of two variables controlling
  for group membership (residuals on the group means), with its t-test on n - 3 df.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

MAX_SPLITS = 100_000  # enumerate every split up to this many; above, a Monte-Carlo sample
RESAMPLES = 9_999  # Monte-Carlo resamples
SEED = 0


@dataclass(frozen=True)
class PermutationResult:
    """One permutation test: ``statistic`` (the observed difference in means, or U of ``x``),
    ``p`` (for the ``alternative`` asked), ``method`` ("exact, 252 splits" or "Monte-Carlo,
    9,999 resamples, seed 0") and ``splits`` (number of splits enumerated or sampled)."""

    statistic: float
    p: float
    method: str
    splits: int
    exact: bool


@lru_cache(maxsize=64)
def _splits(n: int, k: int):
    """Every way of choosing ``k`` of ``n`` positions, as a (C(n, k), k) int array."""
    from itertools import combinations

    import numpy as np

    return np.array(list(combinations(range(n), k)), dtype=np.int32).reshape(-1, k)


@lru_cache(maxsize=8)
def _random_splits(n: int, k: int, resamples: int, seed: int):
    """``resamples`` random choices of ``k`` of ``n`` positions (a (resamples, k) int array)
    from a generator seeded with ``seed``; the same for every test of the same sizes, so the
    codes and scores of one study are judged on the same sample of splits."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = np.empty((resamples, k), dtype=np.int32)
    chunk = max(1, 2_000_000 // n)
    base = np.arange(n, dtype=np.int32)
    for start in range(0, resamples, chunk):
        m = min(chunk, resamples - start)
        out[start:start + m] = rng.permuted(np.tile(base, (m, 1)), axis=1)[:, :k]
    return out


def n_splits(n1: int, n2: int) -> int:
    """The number of ways C(n1 + n2, n1) to split n1 + n2 interviewees into groups of n1 and n2."""
    return math.comb(n1 + n2, n1)


@dataclass(frozen=True)
class Splits:
    """Splits of n1 + n2 interviewees into a first group of n1 and a second of n2:
    ``members`` is an (R, n1) int array, each row the positions (0 .. n1 + n2 - 1) put in the
    first group; ``exact`` says whether these are all C(n1 + n2, n1) splits (the observed one
    among them) or a seeded Monte-Carlo sample of R; ``method`` says which, for a report."""

    members: object
    exact: bool
    method: str

    @property
    def count(self) -> int:
        """R, the number of splits enumerated or sampled."""
        return len(self.members)


def split_members(n1: int, n2: int, max_splits: int = MAX_SPLITS, resamples: int = RESAMPLES,
                  seed: int = SEED) -> Splits:
    """Every split of n1 + n2 positions into groups of n1 and n2 when there are at most
    ``max_splits`` (:func:`n_splits`), else ``resamples`` random ones from a generator seeded
    with ``seed`` (the same sample for the same sizes and seed). See :class:`Splits`."""
    count = n_splits(n1, n2)
    if count <= max_splits:
        return Splits(_splits(n1 + n2, n1), True, f"exact, all {count:,} splits")
    return Splits(_random_splits(n1 + n2, n1, resamples, seed), False,
                  f"Monte-Carlo, {resamples:,} resamples, seed {seed}")


def p_from_hits(greater: int, less: int, used: int, exact: bool, alternative: str = "two-sided") -> float:
    """The permutation p value from counts of splits: ``greater`` of the ``used`` splits gave a
    statistic at least as large as the observed one, ``less`` one at least as small.

    Exact (every split, the observed one included): the share hits / used. Monte-Carlo:
    (hits + 1) / (used + 1), which counts the observed split once (Phipson & Smyth 2010).
    ``alternative``: ``"greater"``, ``"less"`` or ``"two-sided"`` (twice the smaller one-sided p,
    at most 1).

    Raises:
        ValueError: an unknown alternative.
    """
    def share(hits: int) -> float:
        return hits / used if exact else (hits + 1) / (used + 1)

    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(f"unknown alternative {alternative!r}")
    p = {"greater": share(greater), "less": share(less),
         "two-sided": 2 * min(share(greater), share(less))}[alternative]
    return float(min(1.0, p))


def permutation_test(x: Sequence[float], y: Sequence[float], statistic: str = "mean",
                     alternative: str = "two-sided", max_splits: int = MAX_SPLITS, resamples: int = RESAMPLES,
                     seed: int = SEED) -> PermutationResult:
    """Permutation test of ``x`` (outstanding) against ``y`` (average).

    ``statistic``: ``"mean"`` (difference of the means, x minus y) or ``"rank"`` (Mann-Whitney
    U of ``x``: the sum of x's mid-ranks in the pooled sample minus n1 (n1 + 1) / 2, which
    counts each tie as one half). Both are increasing functions of the sum of x's (ranked)
    values, so the p value is the share of splits whose sum is at least as extreme as the
    observed one. ``alternative``: ``"greater"`` (x larger: one-sided), ``"less"`` or
    ``"two-sided"`` (twice the smaller one-sided p, at most 1, as scipy and R's exact
    Wilcoxon-Mann-Whitney test define it). Exact when C(n1 + n2, n1) <= ``max_splits``; else ``resamples`` random
    splits from a generator seeded with ``seed``, p = (b + 1) / (R + 1).

    Returns:
        :class:`PermutationResult`; p is NaN when either group is empty or every value is
        the same.

    Raises:
        ValueError: an unknown statistic or alternative.
    """
    import numpy as np
    from scipy import stats

    if statistic not in ("mean", "rank"):
        raise ValueError(f"unknown statistic {statistic!r}")
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(f"unknown alternative {alternative!r}")
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        return PermutationResult(float("nan"), float("nan"), "", 0, False)
    pooled = np.concatenate([x, y])
    values = stats.rankdata(pooled) if statistic == "rank" else pooled
    total = values.sum()
    observed_sum = values[:n1].sum()
    if statistic == "rank":
        observed = observed_sum - n1 * (n1 + 1) / 2
    else:
        observed = float(x.mean() - y.mean())
    if np.ptp(pooled) == 0:
        return PermutationResult(observed, float("nan"), "", 0, False)
    splits = split_members(n1, n2, max_splits, resamples, seed)
    sums = values[splits.members].sum(axis=1)
    tol = 1e-9 * max(1.0, abs(total))
    greater = int(np.count_nonzero(sums >= observed_sum - tol))
    less = int(np.count_nonzero(sums <= observed_sum + tol))
    p = p_from_hits(greater, less, splits.count, splits.exact, alternative)
    return PermutationResult(float(observed), p, splits.method, splits.count, splits.exact)


def hedges_j(df: float) -> float:
    """Hedges' (1981) exact bias correction J(m) = Γ(m/2) / (sqrt(m/2) Γ((m-1)/2)) for a
    standardised mean difference on ``df`` = n1 + n2 - 2 degrees of freedom (NaN for df < 2).
    Approximately 1 - 3 / (4 m - 1)."""
    from scipy.special import gammaln

    if df < 2:
        return float("nan")
    return math.exp(gammaln(df / 2) - gammaln((df - 1) / 2)) / math.sqrt(df / 2)


def cohens_d(x: Sequence[float], y: Sequence[float]) -> float:
    """Cohen's d of ``x`` minus ``y`` with the pooled SD (n - 1 denominators); NaN when a group
    has fewer than 2 values or the pooled SD is 0."""
    n1, n2 = len(x), len(y)
    if n1 < 2 or n2 < 2:
        return float("nan")
    m1, m2 = sum(x) / n1, sum(y) / n2
    v1 = sum((a - m1) ** 2 for a in x) / (n1 - 1)
    v2 = sum((b - m2) ** 2 for b in y) / (n2 - 1)
    sp = math.sqrt(((n1 - 1) * v1 + (n2 - 1) * v2) / (n1 + n2 - 2))
    return (m1 - m2) / sp if sp > 0 else float("nan")


def _nct_ncp(t: float, df: float, prob: float) -> float:
    """The noncentrality parameter for which P(T <= t) = ``prob`` under a noncentral t on
    ``df`` degrees of freedom (the cdf falls as the parameter grows)."""
    from scipy import optimize, stats

    def f(ncp):
        return stats.nct.cdf(t, df, ncp) - prob

    lo, hi = t - 10.0, t + 10.0
    while f(lo) < 0:
        lo -= 10.0 + abs(lo)
    while f(hi) > 0:
        hi += 10.0 + abs(hi)
    return optimize.brentq(f, lo, hi, xtol=1e-12, rtol=1e-12, maxiter=500)


def smd_ci(d: float, n1: int, n2: int, level: float = 0.95) -> tuple[float, float]:
    """Exact confidence interval of the population standardised mean difference δ from an
    observed Cohen's ``d`` (pooled SD) of two independent groups of ``n1`` and ``n2``.

    The t statistic t = d / sqrt(1/n1 + 1/n2) has a noncentral t distribution on
    n1 + n2 - 2 df with noncentrality δ / sqrt(1/n1 + 1/n2); the bounds are the noncentralities
    that put t at the upper and lower (1 - level) / 2 quantiles, rescaled to d (Steiger &
    Fouladi 1997; Cumming 2012). Multiply by :func:`hedges_j` for an interval on Hedges' g's
    scale. Where scipy cannot evaluate the noncentral t (far tails at large df) the
    large-sample interval d ± z sqrt((n1 + n2) / (n1 n2) + d² / (2 (n1 + n2))) it converges
    to is returned. Returns (NaN, NaN) when d is not finite or a group has fewer than 2
    values.
    """
    if not math.isfinite(d) or n1 < 2 or n2 < 2:
        return float("nan"), float("nan")
    scale = math.sqrt(1 / n1 + 1 / n2)
    t = d / scale
    df = n1 + n2 - 2
    tail = (1 - level) / 2
    try:
        return _nct_ncp(t, df, 1 - tail) * scale, _nct_ncp(t, df, tail) * scale
    except (ValueError, RuntimeError):
        # scipy's noncentral t cdf gives NaN far in the tails at large df; there the exact
        # interval has converged to the large-sample one (Hedges & Olkin 1985), used instead
        from scipy import stats

        se = math.sqrt((n1 + n2) / (n1 * n2) + d * d / (2 * (n1 + n2)))
        z = stats.norm.ppf(1 - tail)
        return d - z * se, d + z * se


def rank_biserial(u: float, n1: int, n2: int) -> float:
    """The rank-biserial correlation r = 2 U / (n1 n2) - 1 of the group whose U is given
    (Kerby 2014; Glass 1965): +1 when every outstanding score exceeds every average one."""
    if n1 == 0 or n2 == 0 or not math.isfinite(u):
        return float("nan")
    return 2 * u / (n1 * n2) - 1


def rank_biserial_ci(r: float, n1: int, n2: int, level: float = 0.95) -> tuple[float, float]:
    """Confidence interval of the rank-biserial correlation by Fisher's z with standard error
    sqrt((n1 + n2 + 1) / (3 n1 n2)) (King, Rosopa & Minium 2011; the method of the R package
    effectsize). Undefined (NaN, NaN) at complete separation (|r| = 1), where Fisher's z is
    infinite, and when r is."""
    from scipy import stats

    if not math.isfinite(r) or abs(r) >= 1 or n1 == 0 or n2 == 0:
        return float("nan"), float("nan")
    se = math.sqrt((n1 + n2 + 1) / (3 * n1 * n2))
    z = math.atanh(r)
    q = stats.norm.ppf(0.5 + level / 2)
    return math.tanh(z - q * se), math.tanh(z + q * se)


def minimal_detectable_d(n1: int, n2: int, alpha: float = 0.05, power: float = 0.8,
                         alternative: str = "two-sided") -> float:
    """The smallest Cohen's d that an independent-samples t-test (equal variances) of ``n1``
    and ``n2`` people detects with probability ``power`` at level ``alpha`` (Cohen 1988),
    solved with statsmodels' ``TTestIndPower``; ``alternative`` "two-sided" or "larger".
    NaN when a group has fewer than 2 people."""
    from statsmodels.stats.power import TTestIndPower

    if n1 < 2 or n2 < 2:
        return float("nan")
    return float(TTestIndPower().solve_power(effect_size=None, nobs1=n1, alpha=alpha, power=power,
                                             ratio=n2 / n1, alternative=alternative))


@dataclass(frozen=True)
class PartialCorrelation:
    """A correlation controlling for group: ``r``, its two-sided ``p`` (t-test on ``df`` =
    n - 3 degrees of freedom) and ``n``."""

    r: float
    p: float
    n: int
    df: int


def partial_correlation(a: Sequence[float], b: Sequence[float], groups: Sequence[str],
                        method: str = "pearson") -> PartialCorrelation:
    """Correlation of ``a`` and ``b`` within groups: both are centred on their group's mean
    (the residuals of a regression on the group indicator) and correlated, which is the
    partial correlation r_ab.g; t = r sqrt(df / (1 - r^2)) on df = n - 3 (one covariate).
    With ``method="spearman"`` the values are ranked first (over everybody), so it is the
    partial Spearman correlation. NaN when n < 4 or a residual is constant.
    """
    import numpy as np
    from scipy import stats

    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    g = np.asarray(groups, dtype=object)
    ok = ~(np.isnan(a) | np.isnan(b))
    a, b, g = a[ok], b[ok], g[ok]
    n = len(a)
    df = n - 3
    if n < 4:
        return PartialCorrelation(float("nan"), float("nan"), n, df)
    if method == "spearman":
        a, b = stats.rankdata(a), stats.rankdata(b)
    elif method != "pearson":
        raise ValueError(f"unknown method {method!r}")
    ra, rb = a.copy(), b.copy()
    for level in set(g):
        m = g == level
        ra[m] -= a[m].mean()
        rb[m] -= b[m].mean()
    if np.ptp(ra) == 0 or np.ptp(rb) == 0:
        return PartialCorrelation(float("nan"), float("nan"), n, df)
    r = float(np.dot(ra, rb) / math.sqrt(np.dot(ra, ra) * np.dot(rb, rb)))
    r = max(-1.0, min(1.0, r))
    if abs(r) == 1:
        return PartialCorrelation(r, 0.0, n, df)
    t = r * math.sqrt(df / (1 - r * r))
    return PartialCorrelation(r, float(2 * stats.t.sf(abs(t), df)), n, df)
