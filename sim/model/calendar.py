"""Season hours, the diurnal activity profile and festival formats.

Everything time-dependent that does not depend on model state is precomputed here as
one array per hour, so the model's hot loop only indexes arrays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.model.formats import accounting_bounds, named_windows
from sim.model.params import Festival, Params

# Relative shopping activity by hour of day (Chinese e-commerce: evening peak, a late
# rush around midnight, quiet small hours); normalised to mean 1 below.
_DIURNAL = np.array(
    [0.9, 0.5, 0.3, 0.2, 0.15, 0.15, 0.25, 0.45, 0.7, 0.9, 1.05, 1.1,
     1.15, 1.05, 1.0, 1.0, 1.0, 1.0, 1.1, 1.3, 1.6, 1.8, 1.7, 1.3]
)
DIURNAL = _DIURNAL / _DIURNAL.mean()
WEEKEND_FACTOR = 1.1
COMPARISON_DAYS = 7  # days before the first window / after the last used for dip and slump


@dataclass(frozen=True)
class Window:
    """A festival sales window [start, end) with its discount depth and an optional deposit period before it (hours)."""

    start: int
    end: int
    deposit_start: int | None = None
    discount: float = 0.0

    @property
    def has_presale(self) -> bool:
        return self.deposit_start is not None and self.deposit_start < self.start


def _hour(moment: dt.datetime, first_day: dt.date) -> int:
    """Hours from the first simulated day's midnight."""
    return int((moment - dt.datetime.combine(first_day, dt.time())) // dt.timedelta(hours=1))


def festival_windows(fest: Festival, year: int, first_day: dt.date) -> list[Window]:
    """The festival's windows (named or custom) in hours from ``first_day``, in order.

    Parameter validation keeps every window inside the season; a pre-sale that began before
    the first simulated hour (warm-up included) takes deposits from that hour on.
    """
    windows = []
    for spec in fest.definition(year):
        s, e = _hour(spec.opens, first_day), _hour(spec.closes, first_day)
        dep = None if spec.presale_opens is None else max(_hour(spec.presale_opens, first_day), 0)
        windows.append(Window(s, e, dep if dep is not None and dep < s else None,
                              fest.discount if spec.discount is None else spec.discount))
    return windows


def window_days(windows: Sequence[Window]) -> float:
    """Days of all the festival's windows together (not its accounting period, which may hold days between them)."""
    return sum(w.end - w.start for w in windows) / 24


def window_activity(fest: Festival, hours: int, days: float) -> np.ndarray:
    """Activity multiplier for each hour of a window ``hours`` long, in a festival of ``days`` window days.

    Attention is finite: the longer a festival's windows are in all, the less busy each of their
    hours (a one-day festival keeps ``pull``), so its extra sessions grow as D**(1 - exponent)
    rather than D. The opening rush fades over ``rush_hours``: on Nov 11 the small hours after
    midnight sell as much as a daytime hour.
    """
    level = 1.0 + (fest.pull - 1.0) * days ** -fest.attention_exponent
    since_open = np.arange(hours)
    fade = np.exp(-since_open / fest.rush_hours) if fest.rush_hours > 0 else (since_open == 0).astype(float)
    return level * (1.0 + (fest.opening_burst - 1.0) * fade)


def accounting_period(fest: Festival, windows: list[Window], year: int, first_day: dt.date,
                      n_hours: int) -> tuple[int, int]:
    """[start, end) hours over which festival GMV is counted: ``festival.accounting`` if set, else the first
    opening to the last close (as Tmall has counted since 2020); without a festival, the single day's dates."""
    if fest.accounting:
        opens, closes = accounting_bounds(fest.accounting)
        return _hour(opens, first_day), _hour(closes, first_day)
    if windows:
        return windows[0].start, windows[-1].end
    nominal = named_windows("single_day", year)[0]  # the counterfactual is measured over the single day's dates
    s, e = max(_hour(nominal.opens, first_day), 0), min(_hour(nominal.closes, first_day), n_hours)
    return (s, e) if e > s else (0, 0)


@dataclass(frozen=True)
class Calendar:
    """Per-hour arrays for one season and festival format."""

    start: dt.date               # first simulated day (the warm-up's first day)
    n_hours: int                 # simulated hours, warm-up included
    season_start: int            # first hour of the recorded season
    windows: tuple[Window, ...]
    hour_of_day: np.ndarray      # int, 0..23
    day: np.ndarray              # int, day index from season start
    weekday: np.ndarray          # int, Monday = 0
    diurnal: np.ndarray          # float, mean-1 activity profile incl. weekend factor
    window: np.ndarray           # int, index of the open window or -1
    festival_activity: np.ndarray  # float, activity multiplier from the festival (1 outside windows)
    discount: np.ndarray         # float, festival discount depth (0 outside windows)
    deposit_for: np.ndarray      # int, window whose deposits are taken this hour, or -1
    hours_to_open: np.ndarray    # float, hours until the next window opens (inf if none)
    upcoming_discount: np.ndarray  # float, discount of the next window to open (0 if none)
    hours_to_close: np.ndarray   # float, hours until the open window closes (0 in its last hour; inf outside windows)
    extra_days: np.ndarray       # float, n_hours + 1: the festival's extra sessions before each hour, in ordinary days
    festival_period: tuple[int, int]  # [first open, last close) for GMV accounting, within the season
    last_close: int              # hour the last window closes (without windows: the accounting period's end)

    def extra_demand_days(self, start: int, end: int) -> float:
        """Ordinary days of extra sessions the festival brings in hours [start, end) (what brands plan stock for)."""
        last = self.n_hours
        return float(self.extra_days[min(max(end, 0), last)] - self.extra_days[min(max(start, 0), last)])

    @property
    def season_hours(self) -> int:
        return self.n_hours - self.season_start

    def timestamps(self) -> np.ndarray:
        """Clock time of each recorded (season) hour."""
        return np.datetime64(self.start, "h") + np.arange(self.season_start, self.n_hours).astype("timedelta64[h]")

    def pre_period(self) -> tuple[int, int]:
        """The hours of the COMPARISON_DAYS before the festival period opens."""
        s = self.festival_period[0]
        return max(self.season_start, s - COMPARISON_DAYS * 24), s

    def post_period(self) -> tuple[int, int]:
        e = self.festival_period[1]
        return e, min(self.n_hours, e + COMPARISON_DAYS * 24)

    def is_festival_day(self, day: int) -> bool:
        """Whether a window is open at some hour of ``day`` (days counted from the calendar's first)."""
        return any(w.start < (day + 1) * 24 and w.end > day * 24 for w in self.windows)

    def presale_discount(self, hour: int, default: float) -> float:
        """The discount pre-sale offers promise this hour: that of the window taking deposits (else ``default``)."""
        k = self.deposit_for[hour]
        return self.windows[k].discount if k >= 0 else default


def build_calendar(params: Params) -> Calendar:
    season, fest = params.season, params.festival
    first_day = season.start - dt.timedelta(days=season.warmup_days)
    n_hours = ((season.end - first_day).days + 1) * 24
    hours = np.arange(n_hours)
    hour_of_day = hours % 24
    day = hours // 24
    weekday = (first_day.weekday() + day) % 7
    diurnal = DIURNAL[hour_of_day] * np.where(weekday >= 5, WEEKEND_FACTOR, 1.0)

    windows = festival_windows(fest, season.start.year, first_day)
    window = np.full(n_hours, -1)
    activity = np.ones(n_hours)
    discount = np.zeros(n_hours)
    deposit_for = np.full(n_hours, -1)
    hours_to_open = np.full(n_hours, np.inf)
    upcoming_discount = np.zeros(n_hours)
    hours_to_close = np.full(n_hours, np.inf)
    days = window_days(windows)
    for k, w in enumerate(windows):
        span = slice(w.start, w.end)
        window[span] = k
        discount[span] = w.discount
        hours_to_close[span] = w.end - hours[span] - 1  # 0 in the last hour
        activity[span] = window_activity(fest, w.end - w.start, days)
        if w.has_presale and params.mechanisms.presale:
            deposit_for[w.deposit_start : w.start] = k
        nearer = (hours < w.start) & (w.start - hours < hours_to_open)
        hours_to_open = np.where(nearer, w.start - hours, hours_to_open)
        upcoming_discount = np.where(nearer, w.discount, upcoming_discount)

    period = accounting_period(fest, windows, season.start.year, first_day, n_hours)
    season_start = season.warmup_days * 24
    period = (max(period[0], season_start), max(period[1], season_start))
    last_close = max(max((w.end for w in windows), default=period[1]), season_start)
    return Calendar(
        start=first_day, n_hours=n_hours, season_start=season_start, windows=tuple(windows), hour_of_day=hour_of_day, day=day,
        weekday=weekday, diurnal=diurnal, window=window, festival_activity=activity, discount=discount,
        deposit_for=deposit_for, hours_to_open=hours_to_open, upcoming_discount=upcoming_discount,
        hours_to_close=hours_to_close, festival_period=period, last_close=last_close,
        extra_days=np.concatenate([[0.0], np.cumsum(diurnal * (activity - 1.0)) / 24]),
    )
