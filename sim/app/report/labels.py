"""How each metric is read by a strategist: label, unit, which direction is better, how to print it.

Kept in one table so the printed comparison, report text and figures agree on wording
and number formats (the tests compare the report's headline numbers with
comparison.csv through these same formatters).
"""

from __future__ import annotations

import math

from sim.experiments.outcomes import KINDS, METRICS, MetricInfo, _big, _yuan, fmt_value, info  # noqa: F401 (read through this module)


# The metrics a strategist asks about first, in the order the report answers them. All compare
# like with like (a test checks): totals over periods of different length (gmv_festival) stay in
# the tables, labelled with the period's length, and never crown an arm.
HEADLINE = (
    "gmv_incremental", "gmv_per_festival_day", "peak_orders_per_hour", "max_logistics_backlog", "p95_delivery_delay_h",
    "satisfaction_mean", "churn_rate", "platform_net_cost", "brand_profit_small", "small_brand_share",
    "low_quality_share",
)
# Columns of the comparison table printed on the terminal.
CONSOLE = ("gmv_incremental", "gmv_per_festival_day", "max_logistics_backlog", "p95_delivery_delay_h",
           "satisfaction_mean", "platform_net_cost", "small_brand_share", "low_quality_share")
# What a recommendation may cost: the metrics the decision summary checks the winner against.
COSTS = ("max_logistics_backlog", "p95_delivery_delay_h", "platform_net_cost", "satisfaction_mean", "churn_rate",
         "brand_profit_small", "small_brand_share", "low_quality_share", "gmv_incremental")


def fmt_diff(metric: str, value: float) -> str:
    """A difference with its sign; shares as percentage points."""
    if value is None or not math.isfinite(value):
        return "n/a"
    kind = info(metric).kind
    sign = "+" if value > 0 else ("-" if value < 0 else "±")
    mag = abs(value)
    if kind == "share":
        return f"{sign}{mag * 100:.2f} pp"
    if kind == "yuan":
        return sign + _yuan(mag)
    if kind == "hours":
        return f"{sign}{mag:.2f} h"
    if kind == "hhi":
        return f"{sign}{mag:,.0f}"
    if kind == "days":
        return f"{sign}{mag:.3g} d"
    if kind == "count":
        return sign + _big(mag)
    return f"{sign}{mag:.3g}"


def fmt_pct(value: float) -> str:
    """A relative change, e.g. +3.2%."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value * 100:+.1f}%"


def fmt_p(p: float) -> str:
    if p is None or not math.isfinite(p):
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def p_text(p: float) -> str:
    """'p<0.001' or 'p=0.013' for running text."""
    s = fmt_p(p)
    return "p " + s if s == "n/a" else ("p" + s if s.startswith("<") else "p=" + s)


def axis(metric: str) -> tuple[float, str]:
    """Divisor and axis label for plotting a metric in readable units (bn yuan, m parcels, hours, %)."""
    m = info(metric)
    if m.kind == "yuan":
        return 1e9, f"{m.label} (bn {m.unit or 'yuan'})"
    if m.kind == "count":
        return 1e6, f"{m.label} (m {m.unit})" if m.unit else f"{m.label} (m)"
    if m.kind == "share":
        return 0.01, f"{m.label} (%)"
    if m.kind in ("hours", "days"):
        return 1.0, f"{m.label} ({'hours' if m.kind == 'hours' else 'days'})"
    return 1.0, f"{m.label} ({m.unit})" if m.unit else m.label


def direction_word(metric: str, diff: float) -> str:
    """'better', 'worse' or 'different' for a difference, by the metric's preferred direction."""
    better = info(metric).better * diff
    return "better" if better > 0 else "worse" if better < 0 else "different"
