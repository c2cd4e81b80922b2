"""The outcomes a study measures: each metric's label, unit and preferred direction.

Goals, decisions and regrets need to know which way is better; the report's wording and
number formats (``sim.app.report.labels``) read the same table, so they agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


KINDS = ("yuan", "count", "ratio", "share", "hours", "hhi", "score", "days")


@dataclass(frozen=True)
class MetricInfo:
    """How a metric reads: ``kind`` picks the number format, ``unit`` names what is counted,
    ``better`` its preferred direction, ``comparable`` whether arms whose festival periods
    differ in length can be ranked on it (a festival-period total cannot), ``bounds`` the values it
    can take (a share of a whole lies in 0-1: intervals are cut to it)."""

    label: str
    kind: str            # one of KINDS
    better: int          # +1 higher is better, -1 lower is better, 0 a matter of taste
    unit: str = ""       # what a count counts (orders/h, parcels); money is yuan, times hours
    comparable: bool = True
    bounds: tuple[float, float] = (-math.inf, math.inf)


_PERIOD = False  # a total over the festival period, whose length differs between formats
_WHOLE = (0.0, 1.0)  # a share of a whole, or a score on 0-1

METRICS: dict[str, MetricInfo] = {
    "gmv_total": MetricInfo("season GMV", "yuan", +1, "yuan"),
    "gmv_festival": MetricInfo("festival-period GMV", "yuan", +1, "yuan", _PERIOD),
    "gmv_incremental": MetricInfo("incremental GMV vs no festival", "yuan", +1, "yuan"),
    "gmv_festival_lift": MetricInfo("festival-period GMV lift vs no festival", "yuan", +1, "yuan", _PERIOD),
    "gmv_per_festival_day": MetricInfo("GMV per festival day", "yuan", +1, "yuan/day"),
    "festival_days": MetricInfo("festival period", "days", 0, "days"),
    "orders_total": MetricInfo("season orders", "count", +1, "orders"),
    "peak_orders_per_hour": MetricInfo("peak orders per hour", "count", -1, "orders/h"),
    "peak_to_mean": MetricInfo("peak-to-mean hourly orders", "ratio", -1),
    "pre_festival_dip": MetricInfo("pre-festival dip", "share", -1),
    "post_festival_slump": MetricInfo("post-festival slump", "share", -1),
    "max_logistics_backlog": MetricInfo("peak logistics backlog", "count", -1, "parcels"),
    "mean_delivery_delay_h": MetricInfo("mean delivery delay", "hours", -1, "h"),
    "p95_delivery_delay_h": MetricInfo("95th pct delivery delay", "hours", -1, "h"),
    "return_rate": MetricInfo("return rate", "share", -1, bounds=_WHOLE),
    "stockout_rate": MetricInfo("stock-out rate", "share", -1, bounds=_WHOLE),
    "satisfaction_mean": MetricInfo("consumer satisfaction", "score", +1, "0-1", bounds=_WHOLE),
    "churn_rate": MetricInfo("consumer churn", "share", -1, bounds=_WHOLE),
    "consumer_surplus": MetricInfo("consumer surplus", "yuan", +1, "yuan"),
    "hhi_final": MetricInfo("market concentration (HHI)", "hhi", -1, "0-10,000", bounds=(0.0, 10_000.0)),
    "cr4_final": MetricInfo("top-4 brands' share", "share", -1, bounds=_WHOLE),
    "gini_brand_sales": MetricInfo("Gini of brand sales", "score", -1, "0-1", bounds=_WHOLE),
    "small_brand_share": MetricInfo("small brands' share", "share", +1, bounds=_WHOLE),
    "low_quality_share": MetricInfo("low-quality sellers' share", "share", -1, bounds=_WHOLE),
    "quality_weighted_share": MetricInfo("share of above-median-quality brands", "share", +1, bounds=_WHOLE),
    "mean_quality_sold": MetricInfo("true quality sold (GMV-weighted)", "score", +1, "0-1", bounds=_WHOLE),
    "online_share": MetricInfo("online share of GMV", "share", 0, bounds=_WHOLE),
    "offline_gmv_lift": MetricInfo("festival-period offline GMV lift vs no festival", "share", +1, "", _PERIOD),
    "platform_subsidy_cost": MetricInfo("platform subsidy cost", "yuan", -1, "yuan"),
    "platform_commission": MetricInfo("platform commission", "yuan", +1, "yuan"),
    "platform_ad_revenue": MetricInfo("platform ad revenue (brands' ad spend)", "yuan", +1, "yuan"),
    "ad_spend_share": MetricInfo("brands' ad spend over GMV", "share", 0),
    "platform_net_cost": MetricInfo("platform net cost (subsidy - commission - ads)", "yuan", -1, "yuan"),
    "brand_profit_big": MetricInfo("profit of big groups", "yuan", 0, "yuan"),
    "brand_profit_small": MetricInfo("profit of small brands", "yuan", +1, "yuan"),
    "brand_profit_low_quality": MetricInfo("profit of low-quality sellers", "yuan", 0, "yuan"),
    "pre_festival_deferral": MetricInfo("demand deferred before the festival", "share", 0),
    "first_hour_share": MetricInfo("Nov 11 GMV in its first hour", "share", -1, bounds=_WHOLE),
    "closing_peak_ratio": MetricInfo("orders in the last 2 h vs the 2 h before", "ratio", 0),
    "offline_festival_day_lift": MetricInfo("offline GMV lift on Nov 11 vs no festival", "share", +1),
    "visits_turned_away_share": MetricInfo("offline visits turned away", "share", -1, bounds=_WHOLE),
    "opening_cohort_delay_h": MetricInfo("wait of the opening hour's orders", "hours", -1, "h"),
    "final_week_gap": MetricInfo("last week's GMV vs no festival", "share", 0),
    "expansion_share": MetricInfo("festival's extra units that are extra consumption", "share", 0),
    "switching_share": MetricInfo("festival's extra units other sellers lose", "share", 0),
}

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
    if kind == "days":
        return f"{value:.3g} d"
    if kind == "count":
        return _big(value)
    return f"{value:.3g}" if abs(value) < 1000 else _big(value)


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
