"""Plain-text tables for the terminal: the scenario comparison and a single run's summary."""

from __future__ import annotations

import textwrap
from typing import Mapping

import pandas as pd

from sim.app.report.labels import CONSOLE, direction_word, fmt_value, info
from sim.experiments.stats import FDR, significant

_SHORT = {
    "gmv_incremental": "incr. GMV", "gmv_per_festival_day": "GMV/fest. day", "max_logistics_backlog": "peak backlog",
    "p95_delivery_delay_h": "p95 delay", "satisfaction_mean": "satisf.", "platform_net_cost": "platf. net cost",
    "small_brand_share": "small sh.", "low_quality_share": "low-q sh.",
}


def comparison_text(comparison: pd.DataFrame, reference: str, metrics: tuple[str, ...] = CONSOLE) -> str:
    """Arms as rows, key metrics as columns; + / − marks a paired difference from the reference that is
    clearly better / worse by the metric's own direction (BH q < FDR), * one with no preferred direction."""
    metrics = tuple(m for m in metrics if (comparison["metric"] == m).any())
    arms = list(dict.fromkeys(comparison["arm"]))
    table = [["arm"] + [_SHORT.get(m, m) for m in metrics]]
    for arm in arms:
        row = [arm + (" (ref)" if arm == reference else "")]
        for m in metrics:
            r = comparison[(comparison["arm"] == arm) & (comparison["metric"] == m)].iloc[0]
            mark = " "
            if arm != reference and significant(r):
                mark = {"better": "+", "worse": "−", "different": "*"}[direction_word(m, r["diff"])]
            row.append(fmt_value(m, r["mean"]) + mark)
        table.append(row)
    widths = [max(len(str(r[i])) for r in table) for i in range(len(table[0]))]
    lines = ["  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in table]
    lines.insert(1, "-" * len(lines[0]))
    lines.append(f"mean over replications; +/−: clearly better/worse than {reference} by each metric's direction "
                 f"(paired, Benjamini-Hochberg q < {FDR:g})")
    return "\n".join(lines)


def decision_text(sentences: list[str]) -> str:
    """The decision summary for the terminal, one sentence a paragraph, without Markdown emphasis."""
    return "Decision summary\n" + "\n".join(textwrap.fill(s.replace("**", ""), 100) for s in sentences)


def summary_text(summary: Mapping[str, float]) -> str:
    """One line per metric: label, value in natural units, and the raw key researchers grep for."""
    rows = [(info(k).label, fmt_value(k, v) if isinstance(v, (int, float)) else str(v), k) for k, v in summary.items()]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    return "\n".join(f"{a.ljust(w0)}  {b.rjust(w1)}  {c}" for a, b, c in rows)
