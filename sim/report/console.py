"""Plain-text tables for the terminal: the scenario comparison and a single run's summary."""

from __future__ import annotations

import math
from typing import Mapping

import pandas as pd

from .labels import CONSOLE, fmt_value, info

_SHORT = {
    "gmv_festival": "GMV fest.", "gmv_incremental": "incr. GMV", "peak_to_mean": "peak/mean",
    "mean_delivery_delay_h": "delay", "satisfaction_mean": "satisf.", "hhi_final": "HHI",
    "small_brand_share": "small sh.", "low_quality_share": "low-q sh.",
}


def comparison_text(comparison: pd.DataFrame, reference: str, metrics: tuple[str, ...] = CONSOLE) -> str:
    """Arms as rows, key metrics as columns; ▲/▼ marks a paired difference from the reference whose 95% CI excludes 0."""
    metrics = tuple(m for m in metrics if (comparison["metric"] == m).any())
    arms = list(dict.fromkeys(comparison["arm"]))
    table = [["arm"] + [_SHORT.get(m, m) for m in metrics]]
    for arm in arms:
        row = [arm + (" (ref)" if arm == reference else "")]
        for m in metrics:
            r = comparison[(comparison["arm"] == arm) & (comparison["metric"] == m)].iloc[0]
            mark = ""
            lo, hi = r["diff_ci_low"], r["diff_ci_high"]
            if arm != reference and math.isfinite(lo) and math.isfinite(hi) and (lo > 0 or hi < 0):
                mark = "▲" if r["diff"] > 0 else "▼"
            row.append(fmt_value(m, r["mean"]) + mark)
        table.append(row)
    widths = [max(len(str(r[i])) for r in table) for i in range(len(table[0]))]
    lines = ["  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in table]
    lines.insert(1, "-" * len(lines[0]))
    lines.append(f"mean over replications; ▲/▼: higher/lower than {reference} (paired 95% CI excludes 0)")
    return "\n".join(lines)


def summary_text(summary: Mapping[str, float]) -> str:
    """One line per metric: label, value in natural units, and the raw key researchers grep for."""
    rows = [(info(k).label, fmt_value(k, v) if isinstance(v, (int, float)) else str(v), k) for k, v in summary.items()]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    return "\n".join(f"{a.ljust(w0)}  {b.rjust(w1)}  {c}" for a, b, c in rows)
