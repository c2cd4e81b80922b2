"""Per-arm means with 95% intervals, and paired differences from the reference arm.

Arms share seeds replication by replication (common random numbers), so the right test
for "is arm A different from the reference" is a paired t-test over replications: the
shared noise cancels and the interval is much tighter than comparing two means.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from sim.experiments.outcomes import info
from sim.experiments.tables import metric_columns, ok_runs

LEVEL = 0.95
COLUMNS = ("arm", "metric", "mean", "ci_low", "ci_high", "n", "reference", "diff", "diff_ci_low", "diff_ci_high",
           "diff_rel", "n_pairs", "p_value", "q_value")
FDR = 0.05  # Benjamini-Hochberg false discovery rate across every comparison of a report


def mean_ci(values: np.ndarray, level: float = LEVEL) -> tuple[float, float, float, int]:
    """Mean and Student-t interval of the finite values; interval is NaN with fewer than two values."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


def paired(a: np.ndarray, b: np.ndarray, level: float = LEVEL) -> tuple[float, float, float, int, float]:
    """Mean of a - b over pairs where both are finite, its interval and the paired t-test p-value."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    d = a[keep] - b[keep]
    mean, lo, hi, n = mean_ci(d, level)
    if n < 2:
        return mean, lo, hi, n, math.nan
    scale = max(np.abs(a[keep]).max(), np.abs(b[keep]).max())
    if np.ptp(d) <= 1e-12 * scale:  # no spread (to the values' rounding): the t-test is undefined
        # Identical arms give p = 1. A shift of the same size in every pair (as a count metric's one unit
        # in two replications) gets the exact sign test's p = 2^(1-n), not 0: it may be chance.
        return mean, mean, mean, n, 1.0 if d[0] == 0 else min(1.0, 2.0 ** (1 - n))
    with warnings.catch_warnings():  # near-identical pairs (tiny spread) are fine here, not a precision problem
        warnings.simplefilter("ignore", RuntimeWarning)
        p = float(stats.ttest_rel(a[keep], b[keep]).pvalue)
    return mean, lo, hi, n, p


def _within(lo: float, hi: float, low: float, high: float) -> tuple[float, float]:
    """An interval cut to the values its quantity can take: what is cut off cannot hold the true
    value, so the cut interval covers it as often (a t interval of two shares can pass 100%)."""
    return (max(lo, low), min(hi, high)) if math.isfinite(lo) else (lo, hi)


def comparison_table(runs: pd.DataFrame, reference: str, level: float = LEVEL) -> pd.DataFrame:
    """Long table: one row per (arm, metric) with level stats and the paired difference from ``reference``."""
    done = ok_runs(runs)
    metrics = metric_columns(runs)
    arms = list(dict.fromkeys(runs["arm"]))  # arm order as run, failures included
    ref = done[done["arm"] == reference].set_index("replication")
    rows = []
    for arm in arms:
        own = done[done["arm"] == arm].set_index("replication")
        common = own.index.intersection(ref.index)
        for metric in metrics:
            low, high = info(metric).bounds
            mean, lo, hi, n = mean_ci(own[metric].to_numpy() if len(own) else np.array([]), level)
            lo, hi = _within(lo, hi, low, high)
            if arm == reference:
                diff = (0.0, 0.0, 0.0, n, math.nan)
            elif len(common):
                d, d_lo, d_hi, pairs, p = paired(own.loc[common, metric].to_numpy(), ref.loc[common, metric].to_numpy(), level)
                diff = (d, *_within(d_lo, d_hi, low - high, high - low), pairs, p)
            else:
                diff = (math.nan, math.nan, math.nan, 0, math.nan)
            ref_mean = float(ref[metric].mean()) if len(ref) else math.nan
            rel = diff[0] / abs(ref_mean) if ref_mean and math.isfinite(ref_mean) and math.isfinite(diff[0]) else math.nan
            rows.append({
                "arm": arm, "metric": metric, "mean": mean, "ci_low": lo, "ci_high": hi, "n": n,
                "reference": reference, "diff": diff[0], "diff_ci_low": diff[1], "diff_ci_high": diff[2],
                "diff_rel": rel, "n_pairs": diff[3], "p_value": diff[4],
            })
    return with_q_values(pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "q_value"]))


def with_q_values(comparison: pd.DataFrame) -> pd.DataFrame:
    """Add ``q_value``: p-values adjusted by Benjamini-Hochberg over every (arm, metric) comparison in the
    table, so 'clearly different' keeps the false discovery rate at FDR however many comparisons a
    report makes (hundreds in a crossed design)."""
    out = comparison.copy()
    p = out["p_value"].to_numpy(dtype=float)
    q = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    if finite.any():
        q[finite] = stats.false_discovery_control(np.clip(p[finite], 0.0, 1.0), method="bh")
    out["q_value"] = q
    return out


def significant(row: pd.Series) -> bool:
    """A paired difference that survives the FDR control (BH-adjusted q below FDR)."""
    q = row.get("q_value", math.nan)
    return bool(math.isfinite(q) and q < FDR and math.isfinite(row["diff"]) and row["diff"] != 0)


def lookup(comparison: pd.DataFrame, arm: str, metric: str) -> pd.Series:
    """The comparison row of one arm and metric."""
    row = comparison[(comparison["arm"] == arm) & (comparison["metric"] == metric)]
    if row.empty:
        raise KeyError((arm, metric))
    return row.iloc[0]
