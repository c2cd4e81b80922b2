"""Hourly recorder and the per-run metrics (names are the contract in MODEL.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.model.catalog import ARCHETYPE_NAMES as ARCHETYPES
from sim.model.catalog import VENUE_TYPES

if TYPE_CHECKING:
    from sim.model.agents.consumers import Sessions
    from sim.model.double11 import Double11Model

RUN_METRICS = (
    "gmv_total", "gmv_festival", "gmv_incremental", "gmv_festival_lift", "orders_total",
    "peak_orders_per_hour", "peak_to_mean", "pre_festival_dip", "post_festival_slump",
    "max_logistics_backlog", "mean_delivery_delay_h", "p95_delivery_delay_h", "return_rate",
    "stockout_rate", "satisfaction_mean", "churn_rate", "consumer_surplus", "hhi_final", "cr4_final",
    "gini_brand_sales", "small_brand_share", "low_quality_share", "quality_weighted_share",
    "online_share", "offline_gmv_lift", "platform_subsidy_cost", "platform_commission", "platform_ad_revenue",
    "ad_spend_share",
    "brand_profit_big", "brand_profit_small", "brand_profit_low_quality",
    "pre_festival_deferral", "first_hour_share", "closing_peak_ratio", "offline_festival_day_lift",
    "visits_turned_away_share", "opening_cohort_delay_h", "final_week_gap", "expansion_share",
    "switching_share", "festival_days", "gmv_per_festival_day", "platform_net_cost",
)
# Metrics measured against the paired `none` run on the same seed.
RELATIVE_METRICS = ("gmv_incremental", "gmv_festival_lift", "pre_festival_dip", "post_festival_slump", "offline_gmv_lift",
                    "pre_festival_deferral", "offline_festival_day_lift", "final_week_gap", "expansion_share",
                    "switching_share")
CLOSING_HOURS = 2  # closing_peak_ratio: orders in a window's last 2 hours over the 2 hours before

FINAL_DAYS = 7  # hhi_final and cr4_final describe the season's last week


def hhi(sales: np.ndarray) -> float:
    """Herfindahl-Hirschman index on the 0-10,000 scale (sum of squared percentage shares)."""
    total = sales.sum()
    return float(((100.0 * sales / total) ** 2).sum()) if total > 0 else 0.0


def top_share(sales: np.ndarray, k: int = 4) -> float:
    total = sales.sum()
    return float(np.sort(sales)[-k:].sum() / total) if total > 0 else 0.0


def within_category(measure, sales: np.ndarray, category: np.ndarray) -> float:
    """A concentration measure per category, averaged with the categories' GMV as weights,
    so a shift in the category mix is not counted as concentration."""
    weights = np.bincount(category, sales)
    if weights.sum() <= 0:
        return 0.0
    values = [measure(sales[category == c]) for c in range(weights.size)]
    return float(np.dot(values, weights) / weights.sum())


def gini(values: np.ndarray) -> float:
    v = np.sort(np.asarray(values, dtype=np.float64))
    n, total = v.size, v.sum()
    if n == 0 or total <= 0:
        return 0.0
    return float((2 * np.arange(1, n + 1) - n - 1) @ v / (n * total))


def weighted_quantile(histogram: np.ndarray, q: float) -> float:
    """Quantile of the integer bins of a count histogram."""
    total = histogram.sum()
    if total <= 0:
        return 0.0
    return float(np.searchsorted(np.cumsum(histogram), q * total))


class Recorder:
    """Columnar per-hour figures of one run (arrays preallocated; nothing per consumer)."""

    SERIES = (
        "gmv", "orders", "units", "relief", "sessions", "gmv_online", "gmv_offline", "orders_online",
        "processing_backlog", "logistics_backlog", "delivered", "returns", "stockouts", "attempts",
        "presale_orders", "turned_away", "visits_offline", "surplus", "committed", "rival_units",
    )

    def __init__(self, model: "Double11Model"):
        self.model = model
        hours = model.calendar.season_hours
        self.offset = model.calendar.season_start
        n_brands = model.brand_book.n
        self.weight = model.weight
        self.calendar = model.calendar
        self.series = {name: np.zeros(hours) for name in self.SERIES}
        self.by_venue = np.zeros((hours, len(VENUE_TYPES)))
        self.by_archetype = np.zeros((hours, len(ARCHETYPES)))
        self.brand_gmv = np.zeros((hours, n_brands))
        self.discount_arch = np.zeros((hours, len(ARCHETYPES)))
        self.cover_arch = np.zeros((hours, len(ARCHETYPES)))
        # venue group (0 = online, v = offline venue v - 1) -> venue type column
        self.venue_type = np.array([0] + [VENUE_TYPES.index(v.kind) for v in model.venues])
        self.category = model.brand_book.category.copy()
        self.final: dict[str, float] = {}
        self.ecosystem: dict[str, float] = {}       # the run's ecosystem metrics (set by runs.simulate)
        self.yearly: list[dict[str, float]] = []    # one row per year (set by runs.simulate)
        self.stock_value_start = np.zeros(n_brands)
        self.in_market = np.ones(n_brands, dtype=bool)  # brands selling during the season (not exited, launched)

    def start_season(self) -> None:
        """Money, stock and churn are counted from the season's start, not from the warm-up's."""
        self.stock_value_start = self.model.stock_value()
        self.in_market = self.model.brand_book.active.copy()

    def record(self, sessions: "Sessions") -> None:
        m, s = self.model, self.series
        h = m.hour - self.offset
        if h < 0:
            return
        fig = m.fulfilment.last
        book = m.brand_book
        f = fig.filled
        revenue = f.units * f.price
        online = f.online  # ordered and paid online, pick-ups at a venue included: what the platform's GMV counts
        s["gmv"][h] = revenue.sum()
        s["orders"][h] = f.brand.size
        s["units"][h] = f.units.sum()
        s["relief"][h] = f.relief.sum()
        s["sessions"][h] = sessions.consumer.size
        s["gmv_online"][h] = revenue[online].sum()
        s["gmv_offline"][h] = s["gmv"][h] - s["gmv_online"][h]
        s["orders_online"][h] = online.sum()
        s["processing_backlog"][h] = max(m.online.processing_backlog, 0.0)
        s["logistics_backlog"][h] = max(m.online.logistics_backlog, 0.0)
        s["delivered"][h] = m.online.dispatched_this_hour
        s["returns"][h] = fig.returns
        s["stockouts"][h] = fig.stockouts
        s["attempts"][h] = fig.attempts
        s["presale_orders"][h] = fig.presale_orders
        s["turned_away"][h] = sessions.turned_away.sum()
        s["visits_offline"][h] = sessions.visits.sum()
        s["surplus"][h] = sessions.surplus.sum()
        s["committed"][h] = revenue[~f.balance].sum() + fig.presale_value  # pre-orders when placed
        s["rival_units"][h] = m.rival.units
        self.by_venue[h] = np.bincount(self.venue_type[np.where(online, 0, f.venue)], revenue, minlength=len(VENUE_TYPES))
        self.brand_gmv[h] = np.bincount(f.brand, revenue, minlength=book.n)
        self.by_archetype[h] = np.bincount(book.archetype, self.brand_gmv[h], minlength=len(ARCHETYPES))
        count = np.bincount(book.archetype, minlength=len(ARCHETYPES))
        self.discount_arch[h] = np.bincount(book.archetype, book.discount, minlength=len(ARCHETYPES)) / np.maximum(count, 1)
        stock = np.bincount(book.archetype, book.inventory, minlength=len(ARCHETYPES))
        self.cover_arch[h] = stock / np.maximum(np.bincount(book.archetype, book.forecast, minlength=len(ARCHETYPES)), 1e-9)

    def finish(self) -> None:
        """End-of-season state that the hourly series do not hold."""
        m = self.model
        book = m.brand_book
        active = ~m.consumers.churned
        hist = m.online.delay_histogram
        windows = m.calendar.windows
        opening = windows[-1].start if windows else -1
        cohort = m.online.orders_by_created[opening] if windows else 0.0
        self.final = {
            "satisfaction_mean": float(m.consumers.satisfaction[active].mean()) if active.any() else 0.0,
            "churn_rate": float(m.consumers.churn_events / m.consumers.n),
            "opening_cohort_delay_h": float(m.online.wait_by_created[opening] / cohort) if cohort > 0 else float("nan"),
            "mean_delivery_delay_h": float((np.arange(hist.size) * hist).sum() / hist.sum()) if hist.sum() > 0 else 0.0,
            "p95_delivery_delay_h": weighted_quantile(hist, 0.95),
            "platform_subsidy_cost": m.platform.subsidy_cost * self.weight,
            "platform_commission": m.platform.commission * self.weight,
            "platform_ad_revenue": m.platform.ad_revenue * self.weight,
        }
        profit = book.revenue - book.cost + m.stock_value() - self.stock_value_start
        for a, name in enumerate(ARCHETYPES):
            self.final[f"brand_profit_{name}"] = float(profit[book.archetype == a].sum() * self.weight)
        self.quality = book.quality.copy()
        self.archetype = book.archetype.copy()
        self.in_market |= book.active  # products launched during the season

    def detach(self) -> None:
        """Drop the reference to the model (and its consumer arrays) once the run is over."""
        self.model = None  # type: ignore[assignment]

    # --- per-run metrics ----------------------------------------------------------------
    def period_sum(self, name: str, period: tuple[int, int]) -> float:
        """Real-scale total of a series over simulation hours [start, end)."""
        return float(self.series[name][self._season_slice(period)].sum() * self.weight)

    def summary(self) -> dict[str, float]:
        s, w, cal = self.series, self.weight, self.calendar
        gmv_total = s["gmv"].sum() * w
        orders = s["orders"]
        brand_total = self.brand_gmv.sum(axis=0)
        final_week = self.brand_gmv[-FINAL_DAYS * 24 :].sum(axis=0)
        shares = self.by_archetype.sum(axis=0) / max(self.by_archetype.sum(), 1e-12)
        # Inequality and the good brands' share among the brands in the market this season (rows of
        # brands that exited in earlier seasons would add zeros and shift the median).
        market = self.in_market
        good = market & (self.quality > np.median(self.quality[market]))
        festival_days = (cal.festival_period[1] - cal.festival_period[0]) / 24
        out = {
            "gmv_total": float(gmv_total),
            "gmv_festival": self.period_sum("gmv", cal.festival_period),
            # festival-period totals sum 1 day for single_day and 11 for continuous: per day they compare
            "festival_days": festival_days,
            "gmv_per_festival_day": self.period_sum("gmv", cal.festival_period) / festival_days if festival_days else 0.0,
            "orders_total": float(orders.sum() * w),
            "peak_orders_per_hour": float(orders.max() * w),
            "peak_to_mean": float(orders.max() / orders.mean()) if orders.mean() > 0 else 0.0,
            "max_logistics_backlog": float(s["logistics_backlog"].max() * w),
            "return_rate": float(s["returns"].sum() / max(orders.sum(), 1)),
            "stockout_rate": float(s["stockouts"].sum() / max(s["attempts"].sum(), 1)),
            "consumer_surplus": float(s["surplus"].sum() * w),
            "hhi_final": within_category(hhi, final_week, self.category),
            "cr4_final": within_category(top_share, final_week, self.category),
            "gini_brand_sales": gini(brand_total[market]),
            "small_brand_share": float(shares[ARCHETYPES.index("small")]),
            "low_quality_share": float(shares[ARCHETYPES.index("low_quality")]),
            "quality_weighted_share": float(brand_total[good].sum() / max(brand_total.sum(), 1e-12)),
            "online_share": float(s["gmv_online"].sum() / max(s["gmv"].sum(), 1e-12)),
            "first_hour_share": self._first_hour_share(),
            "closing_peak_ratio": self._closing_peak_ratio(),
            "visits_turned_away_share": float(s["turned_away"].sum() / max(s["visits_offline"].sum(), 1)),
            **self.final,
        }
        # what the season costs the platform: subsidies less what brands pay it (commission and ads)
        out["platform_net_cost"] = out["platform_subsidy_cost"] - out["platform_commission"] - out["platform_ad_revenue"]
        out["ad_spend_share"] = out["platform_ad_revenue"] / max(out["gmv_total"], 1e-12)
        return {name: out.get(name, float("nan")) for name in RUN_METRICS}

    def _season_slice(self, period: tuple[int, int]) -> slice:
        start, end = (max(t - self.offset, 0) for t in period)
        return slice(start, end)

    def _first_hour_share(self) -> float:
        """Share of the festival's last day (Nov 11) GMV sold in its first hour."""
        day = self.series["gmv"][self._season_slice(last_festival_day(self.calendar))]
        return float(day[0] / day.sum()) if day.size and day.sum() > 0 else float("nan")

    def _closing_peak_ratio(self) -> float:
        """Orders in the last hours of the last window over those in the hours just before."""
        end = self.calendar.last_close
        orders = self.series["orders"]
        last = orders[self._season_slice((end - CLOSING_HOURS, end))].sum()
        before = orders[self._season_slice((end - 2 * CLOSING_HOURS, end - CLOSING_HOURS))].sum()
        return float(last / before) if before > 0 else float("nan")

    def hhi_trailing_day(self) -> np.ndarray:
        """HHI of the trailing 24 hours' brand GMV, within category (GMV-weighted mean)."""
        cum = np.cumsum(self.brand_gmv, axis=0)
        window = cum - np.vstack([np.zeros((24, cum.shape[1])), cum[:-24]])
        out = np.zeros(window.shape[0])
        total = window.sum(axis=1)
        for c in np.unique(self.category):
            sales = window[:, self.category == c]
            cat_total = sales.sum(axis=1)
            shares = 100 * sales / np.where(cat_total > 0, cat_total, 1)[:, None]
            out += (shares**2).sum(axis=1) * cat_total
        return np.where(total > 0, out / np.where(total > 0, total, 1), 0.0)

    def hourly_frame(self) -> pd.DataFrame:
        """One row per hour; money and counts on the real scale."""
        w = self.weight
        frame = {"hour": np.arange(self.calendar.season_hours), "time": self.calendar.timestamps()}
        for name in self.SERIES:
            frame[name] = self.series[name] * w
        frame["hhi_24h"] = self.hhi_trailing_day()
        for i, name in enumerate(VENUE_TYPES):
            frame[f"gmv_venue_{name}"] = self.by_venue[:, i] * w
        for i, name in enumerate(ARCHETYPES):
            frame[f"gmv_arch_{name}"] = self.by_archetype[:, i] * w
            frame[f"discount_arch_{name}"] = self.discount_arch[:, i]
            frame[f"stock_cover_arch_{name}"] = self.cover_arch[:, i]
        return pd.DataFrame(frame)

    def counterfactual_columns(self) -> dict[str, np.ndarray]:
        """This (`none`) run's GMV and venue GMV per hour as ``cf_*`` columns of the paired festival run's
        hourly table, so each arm's figures compare it with its own counterfactual (same policy, same seed)."""
        w = self.weight
        out = {"cf_gmv": self.series["gmv"] * w}
        for i, name in enumerate(VENUE_TYPES):
            out[f"cf_gmv_venue_{name}"] = self.by_venue[:, i] * w
        return out


def last_festival_day(cal) -> tuple[int, int]:
    """Hours of the day the festival's last window closes (Nov 11 for the shipped formats), whatever
    accounting period is set."""
    start = (cal.last_close - 1) // 24 * 24
    return start, start + 24


def relative_metrics(run: Recorder, base: Recorder) -> dict[str, float]:
    """Metrics of a festival run against the `none` run on the same seed."""
    cal = run.calendar
    festival = cal.festival_period

    def drop(period: tuple[int, int], series: str = "gmv") -> float:
        """1 - run / none over the period: undefined (NaN), not "no change", where `none` sold nothing."""
        ref = base.period_sum(series, period)
        return 1.0 - run.period_sum(series, period) / ref if ref > 0 else float("nan")

    # The festival's extra units, and the part of them that is extra consumption rather than need met
    # (a unit bought at discount d relieves 1 - min(expansion_cap, expansion x storable x d) of need).
    extra_units = run.period_sum("units", festival) - base.period_sum("units", festival)
    extra_relief = run.period_sum("relief", festival) - base.period_sum("relief", festival)
    # ... and the units other sellers lose from the festival's start on: need met here first (switching)
    onwards = (festival[0], cal.n_hours)
    switched = base.period_sum("rival_units", onwards) - run.period_sum("rival_units", onwards)
    rivals = bool(run.series["rival_units"].any() or base.series["rival_units"].any())  # else nothing to switch from
    final_week = (cal.n_hours - FINAL_DAYS * 24, cal.n_hours)
    return {
        "pre_festival_deferral": drop(cal.pre_period(), "committed"),
        "offline_festival_day_lift": -drop(last_festival_day(cal), "gmv_offline"),
        "final_week_gap": -drop(final_week),
        "gmv_incremental": float((run.series["gmv"].sum() - base.series["gmv"].sum()) * run.weight),
        "gmv_festival_lift": run.period_sum("gmv", festival) - base.period_sum("gmv", festival),
        "pre_festival_dip": drop(cal.pre_period()),
        "post_festival_slump": drop(cal.post_period()),
        "offline_gmv_lift": -drop(festival, "gmv_offline"),
        "expansion_share": 1.0 - extra_relief / extra_units if extra_units > 0 else float("nan"),
        "switching_share": switched / extra_units if extra_units > 0 and rivals else float("nan"),
    }
