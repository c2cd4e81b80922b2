"""How each metric is read by a strategist: label, unit, which direction is better, how to print it.

Kept in one table so the printed comparison, report text and figures agree on wording
and number formats (the tests compare the report's headline numbers with
comparison.csv through these same formatters).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class MetricInfo:
    label: str
    kind: str        # yuan | count | ratio | share | hours | hhi | score
    better: int      # +1 higher is better, -1 lower is better, 0 a matter of taste


METRICS: dict[str, MetricInfo] = {
    "gmv_total": MetricInfo("season GMV", "yuan", +1),
    "gmv_festival": MetricInfo("festival-period GMV", "yuan", +1),
    "gmv_incremental": MetricInfo("incremental GMV vs no festival", "yuan", +1),
    "gmv_festival_lift": MetricInfo("festival-period GMV lift vs no festival", "yuan", +1),
    "orders_total": MetricInfo("season orders", "count", +1),
    "peak_orders_per_hour": MetricInfo("peak orders per hour", "count", -1),
    "peak_to_mean": MetricInfo("peak-to-mean hourly orders", "ratio", -1),
    "pre_festival_dip": MetricInfo("pre-festival dip", "share", -1),
    "post_festival_slump": MetricInfo("post-festival slump", "share", -1),
    "max_logistics_backlog": MetricInfo("max logistics backlog (parcels)", "count", -1),
    "mean_delivery_delay_h": MetricInfo("mean delivery delay", "hours", -1),
    "p95_delivery_delay_h": MetricInfo("95th pct delivery delay", "hours", -1),
    "return_rate": MetricInfo("return rate", "share", -1),
    "stockout_rate": MetricInfo("stock-out rate", "share", -1),
    "satisfaction_mean": MetricInfo("consumer satisfaction", "score", +1),
    "churn_rate": MetricInfo("consumer churn", "share", -1),
    "consumer_surplus": MetricInfo("consumer surplus", "yuan", +1),
    "hhi_final": MetricInfo("market concentration (HHI)", "hhi", -1),
    "cr4_final": MetricInfo("top-4 brands' share", "share", -1),
    "gini_brand_sales": MetricInfo("Gini of brand sales", "score", -1),
    "small_brand_share": MetricInfo("small brands' share", "share", +1),
    "low_quality_share": MetricInfo("low-quality sellers' share", "share", -1),
    "quality_weighted_share": MetricInfo("share of above-median-quality brands", "share", +1),
    "online_share": MetricInfo("online share of GMV", "share", 0),
    "offline_gmv_lift": MetricInfo("offline GMV lift vs no festival", "share", +1),
    "platform_subsidy_cost": MetricInfo("platform subsidy cost", "yuan", -1),
    "platform_commission": MetricInfo("platform commission", "yuan", +1),
    "brand_profit_big": MetricInfo("profit of big groups", "yuan", 0),
    "brand_profit_small": MetricInfo("profit of small brands", "yuan", +1),
    "brand_profit_low_quality": MetricInfo("profit of low-quality sellers", "yuan", 0),
    "pre_festival_deferral": MetricInfo("demand deferred before the festival", "share", 0),
    "first_hour_share": MetricInfo("Nov 11 GMV in its first hour", "share", -1),
    "closing_peak_ratio": MetricInfo("orders in the last 2 h vs the 2 h before", "ratio", 0),
    "offline_festival_day_lift": MetricInfo("offline GMV lift on Nov 11 vs no festival", "share", +1),
    "visits_turned_away_share": MetricInfo("offline visits turned away", "share", -1),
    "opening_cohort_delay_h": MetricInfo("wait of the opening hour's orders", "hours", -1),
    "final_week_gap": MetricInfo("last week's GMV vs no festival", "share", 0),
}

# The metrics a strategist asks about first, in the order the report answers them.
# Totals over periods of different length (gmv_festival) stay in the tables and never crown an arm.
HEADLINE = (
    "gmv_incremental", "peak_to_mean", "mean_delivery_delay_h", "satisfaction_mean",
    "hhi_final", "small_brand_share", "low_quality_share", "quality_weighted_share", "platform_subsidy_cost",
)
# Columns of the comparison table printed on the terminal.
CONSOLE = ("gmv_incremental", "peak_to_mean", "mean_delivery_delay_h", "satisfaction_mean",
           "hhi_final", "small_brand_share", "low_quality_share")


def info(metric: str) -> MetricInfo:
    """Metadata for a metric; unknown metrics (added to the model later) print plainly and have no preferred direction."""
    return METRICS.get(metric, MetricInfo(metric.replace("_", " "), "score", 0))


def fmt_value(metric: str, value: float) -> str:
    """A level in the metric's natural unit (yuan scaled to bn/m, shares as %)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    kind = info(metric).kind
    if kind == "yuan":
        return _yuan(value)
    if kind == "share":
        return f"{value * 100:.1f}%"
    if kind == "hours":
        return f"{value:.1f} h"
    if kind == "hhi":
        return f"{value:,.0f}"
    if kind == "count":
        return _big(value)
    return f"{value:.3g}" if abs(value) < 1000 else _big(value)


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


def _yuan(v: float) -> str:
    sign, a = ("-" if v < 0 else ""), abs(v)
    if a >= 1e9:
        return f"{sign}¥{a / 1e9:,.2f} bn"
    if a >= 1e6:
        return f"{sign}¥{a / 1e6:,.1f} m"
    return f"{sign}¥{a:,.0f}"


def _big(v: float) -> str:
    a = abs(v)
    if a >= 1e9:
        return f"{v / 1e9:.2f} bn"
    if a >= 1e6:
        return f"{v / 1e6:.2f} m"
    if a >= 1e4:
        return f"{v / 1e3:.1f} k"
    return f"{v:,.3g}" if a < 100 else f"{v:,.0f}"
