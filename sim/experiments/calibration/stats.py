"""Summary statistics a calibration compares with published figures.

Computed from one run's hourly table (real scale) of a single-day festival, without the
paired ``none`` run: the ordinary level comes from the season's days before the pre-sale,
so a simulation costs one model run instead of two.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

import numpy as np
import pandas as pd

BN = 1e9
ORDINARY_DAYS = 6  # days from the season's start counted as ordinary (before deposits and anticipation)
POST_DAYS = 7  # days after the festival day for the post-festival dip

Hourly = pd.DataFrame


def _days(hourly: Hourly, column: str) -> pd.Series:
    """Daily totals of a column, indexed by date."""
    return hourly.groupby(pd.to_datetime(hourly["time"]).dt.date)[column].sum()


def festival_day(hourly: Hourly) -> dt.date:
    """The day of the Nov 11 of the season's year (the day every intraday figure is published for)."""
    first = pd.to_datetime(hourly["time"].iloc[0]).date()
    return dt.date(first.year, 11, 11)


def _day_hours(hourly: Hourly, column: str = "gmv") -> np.ndarray:
    day = festival_day(hourly)
    mask = pd.to_datetime(hourly["time"]).dt.date == day
    values = hourly.loc[mask, column].to_numpy(dtype=float)
    if values.size != 24:
        raise ValueError(f"the season must contain the whole of {day} (found {values.size} hours)")
    return values


def cumulative_curve(hourly: Hourly) -> np.ndarray:
    """Share of Nov 11's GMV sold by each hour boundary 0..24 (25 points, 0 first)."""
    gmv = _day_hours(hourly)
    total = gmv.sum()
    return np.concatenate([[0.0], np.cumsum(gmv) / total]) if total > 0 else np.zeros(25)


def _clock_hours(at: str) -> float:
    """Hours since midnight of a clock time HH:MM."""
    hh, mm = (int(x) for x in at.split(":"))
    return hh + mm / 60.0


def cum_share_at(hourly: Hourly, at: str) -> float:
    """Share of Nov 11's GMV sold by clock time ``at`` (HH:MM): the hourly curve, linear inside an hour."""
    return float(np.interp(_clock_hours(at), np.arange(25), cumulative_curve(hourly)))


def day_gmv_bn(hourly: Hourly) -> float:
    return float(_day_hours(hourly).sum() / BN)


def day_orders_m(hourly: Hourly) -> float:
    """Online orders created on Nov 11, millions (each online order is a parcel)."""
    return float(_day_hours(hourly, "orders_online").sum() / 1e6)


def ordinary_day_gmv_bn(hourly: Hourly) -> float:
    return float(_days(hourly, "gmv").iloc[:ORDINARY_DAYS].mean() / BN)


def offline_day_lift(hourly: Hourly) -> float:
    """Offline GMV on Nov 11 over an ordinary day's, minus 1 (the card-spending figure's analogue)."""
    daily = _days(hourly, "gmv_offline")
    ordinary = daily.iloc[:ORDINARY_DAYS].mean()
    return float(daily.loc[festival_day(hourly)] / ordinary - 1.0) if ordinary > 0 else 0.0


def post_dip_share(hourly: Hourly) -> float:
    """GMV missing in the week after Nov 11 (against an ordinary day) over the festival day's bump."""
    daily = _days(hourly, "gmv")
    ordinary = daily.iloc[:ORDINARY_DAYS].mean()
    day = festival_day(hourly)
    after = daily.loc[daily.index > day].iloc[:POST_DAYS]
    bump = daily.loc[day] - ordinary
    return float((ordinary * after.size - after.sum()) / bump) if bump > 0 else 0.0


def _nov1_11(hourly: Hourly) -> np.ndarray:
    """Hourly GMV of Nov 1-11, the period Tmall has counted since 2020."""
    time = pd.to_datetime(hourly["time"])
    start = pd.Timestamp(festival_day(hourly).replace(day=1))
    inside = ((time >= start) & (time < start + pd.Timedelta(days=11))).to_numpy()
    if inside.sum() != 11 * 24:
        raise ValueError(f"the season must contain the whole of Nov 1-11 {start.year}")
    return hourly.loc[inside, "gmv"].to_numpy(dtype=float)


def nov1_11_gmv_bn(hourly: Hourly) -> float:
    return float(_nov1_11(hourly).sum() / BN)


def nov1_11_share_by(hourly: Hourly, at: str) -> float:
    """Share of Nov 1-11's GMV sold by clock time ``at`` on Nov 11 (linear inside an hour)."""
    gmv = _nov1_11(hourly)
    curve = np.concatenate([[0.0], np.cumsum(gmv)]) / max(gmv.sum(), 1e-300)
    return float(np.interp(10 * 24 + _clock_hours(at), np.arange(curve.size), curve))


STATISTICS: dict[str, Callable[[Hourly], float]] = {
    "day_gmv_bn": day_gmv_bn,
    "day_orders_m": day_orders_m,
    "ordinary_day_gmv_bn": ordinary_day_gmv_bn,
    "offline_day_lift": offline_day_lift,
    "post_dip_share": post_dip_share,
    "nov1_11_gmv_bn": nov1_11_gmv_bn,
}
AT_STATISTICS: dict[str, Callable[[Hourly, str], float]] = {"cum_share": cum_share_at, "nov1_11_share_by": nov1_11_share_by}
"""Statistics by name; those in ``AT_STATISTICS`` take a clock time ``at`` on Nov 11."""
STATISTIC_NAMES = (*STATISTICS, *AT_STATISTICS)


def compute(hourly: Hourly, statistic: str, at: str | None = None) -> float:
    """One statistic of a run."""
    if statistic in AT_STATISTICS:
        return AT_STATISTICS[statistic](hourly, at or "01:00")
    return STATISTICS[statistic](hourly)
