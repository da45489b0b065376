"""Agreement statistics between raters. Pure functions on arrays, no I/O.

Per-animal totals: Pearson r, ICC(2,1) with its 95 % CI, Bland–Altman bias and
limits. Over time: Cohen's κ and % agreement between two raters, Fleiss' κ for more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Icc:
    """ICC(2,1) and its 95 % confidence interval, with the ANOVA mean squares."""

    icc: float
    ci_low: float
    ci_high: float
    ms_rows: float
    ms_columns: float
    ms_error: float


@dataclass(frozen=True)
class BlandAltman:
    """Bias (mean of ``y − x``) and 95 % limits of agreement (bias ± 1.96 SD)."""

    bias: float
    sd: float
    loa_low: float
    loa_high: float


def pearson_r(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson's r; NaN with fewer than 3 pairs or no variance in either."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    return float(np.corrcoef(x, y)[0, 1])


def icc_2_1(ratings: np.ndarray, alpha: float = 0.05) -> Icc:
    """ICC(2,1): two-way random effects, absolute agreement, single rater.

    Parameters
    ----------
    ratings
        ``(n targets, k raters)``, complete (no NaN).

    Notes
    -----
    From the two-way ANOVA without replication (Shrout & Fleiss 1979, case 2)::

        ICC(2,1) = (BMS − EMS) / (BMS + (k−1)·EMS + k·(JMS − EMS)/n)

    BMS, JMS, EMS: mean squares of targets, raters and error. The confidence
    interval is McGraw & Wong's (1996, case 2A) with Satterthwaite's degrees of
    freedom — the same as ``pingouin.intraclass_corr`` (type ICC2), which the tests
    check this against, but kept at full precision (pingouin rounds the CI) and
    usable for any ``n >= 2``.

    References
    ----------
    Shrout PE, Fleiss JL (1979) Psychol Bull 86:420–428.
    McGraw KO, Wong SP (1996) Psychol Methods 1:30–46.
    Koo TK, Li MY (2016) J Chiropr Med 15:155–163 (ICC > 0.75 good, > 0.9 excellent).
    """
    x = np.asarray(ratings, dtype=float)
    n, k = x.shape
    if n < 2 or k < 2 or not np.isfinite(x).all():
        return Icc(math.nan, math.nan, math.nan, math.nan, math.nan, math.nan)
    grand = x.mean()
    ss_rows = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_err = ((x - grand) ** 2).sum() - ss_rows - ss_cols
    bms, jms = ss_rows / (n - 1), ss_cols / (k - 1)
    ems = ss_err / ((n - 1) * (k - 1))
    denom = bms + (k - 1) * ems + k * (jms - ems) / n
    if denom <= 0:
        return Icc(math.nan, math.nan, math.nan, bms, jms, ems)
    icc = (bms - ems) / denom
    lo = hi = math.nan
    if ems > 0:
        fj = jms / ems
        vn = (k - 1) * (n - 1) * (k * icc * fj + n * (1 + (k - 1) * icc) - k * icc) ** 2
        vd = (n - 1) * k**2 * icc**2 * fj**2 + (n * (1 + (k - 1) * icc) - k * icc) ** 2
        v = vn / vd if vd > 0 else math.nan
        if math.isfinite(v) and v > 0:
            f_up = stats.f.ppf(1 - alpha / 2, n - 1, v)
            f_low = stats.f.ppf(1 - alpha / 2, v, n - 1)
            lo = n * (bms - f_up * ems) / (f_up * (k * jms + (k * n - k - n) * ems) + n * bms)
            hi = n * (f_low * bms - ems) / (k * jms + (k * n - k - n) * ems + n * f_low * bms)
    return Icc(float(icc), float(lo), float(hi), float(bms), float(jms), float(ems))


def bland_altman(x: np.ndarray, y: np.ndarray) -> BlandAltman:
    """Bias ``mean(y − x)`` and limits ``bias ± 1.96·SD`` (SD with n − 1).

    References
    ----------
    Bland JM, Altman DG (1986) Lancet 327:307–310.
    """
    d = np.asarray(y, float) - np.asarray(x, float)
    if d.size == 0:
        return BlandAltman(math.nan, math.nan, math.nan, math.nan)
    bias = float(d.mean())
    sd = float(d.std(ddof=1)) if d.size > 1 else math.nan
    return BlandAltman(bias, sd, bias - 1.96 * sd, bias + 1.96 * sd)


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's κ between two raters' labels of the same items.

    Notes
    -----
    κ = (p_o − p_e) / (1 − p_e), p_o the observed agreement and p_e the agreement
    expected from each rater's marginal frequencies (Cohen 1960). NaN when
    ``p_e == 1`` (both raters gave one and the same label to every item).
    Landis & Koch (1977): κ > 0.8 almost perfect, 0.6–0.8 substantial.
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.size == 0:
        return math.nan
    labels = np.union1d(a, b)
    po = float(np.mean(a == b))
    pe = float(sum(np.mean(a == c) * np.mean(b == c) for c in labels))
    return math.nan if pe >= 1 else (po - pe) / (1 - pe)


def percent_agreement(a: np.ndarray, b: np.ndarray) -> float:
    """% of items given the same label."""
    a, b = np.asarray(a), np.asarray(b)
    return 100.0 * float(np.mean(a == b)) if a.size else math.nan


def fleiss_kappa(counts: np.ndarray) -> float:
    """Fleiss' κ from an ``(items, categories)`` table of how many raters chose each.

    Notes
    -----
    P_i = (Σ_j n_ij² − m) / (m(m − 1)) per item with m raters; P̄ their mean;
    p_j = Σ_i n_ij / (N m); P̄_e = Σ_j p_j²; κ = (P̄ − P̄_e) / (1 − P̄_e) (Fleiss 1971).
    Every item must have the same number of raters m ≥ 2.
    """
    n = np.asarray(counts, dtype=float)
    if n.ndim != 2 or n.shape[0] == 0:
        return math.nan
    m = n.sum(axis=1)
    if not np.allclose(m, m[0]) or m[0] < 2:
        raise ValueError("every item needs the same number (>= 2) of ratings")
    m0 = m[0]
    p_i = ((n**2).sum(axis=1) - m0) / (m0 * (m0 - 1))
    p_j = n.sum(axis=0) / (n.shape[0] * m0)
    p_bar, pe = float(p_i.mean()), float((p_j**2).sum())
    return math.nan if pe >= 1 else (p_bar - pe) / (1 - pe)
