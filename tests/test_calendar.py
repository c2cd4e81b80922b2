"""Calendar: season hours, diurnal profile, festival formats, pre-sale periods."""

import datetime as dt

import numpy as np
import pytest

from conftest import format_windows
from sim.model.calendar import DIURNAL, build_calendar
from sim.model.params import ParameterError, build_params

START = dt.date(2026, 10, 15)


def hour_of(day: dt.date, hour: int = 0) -> int:
    return (day - START).days * 24 + hour


def test_diurnal_profile_has_mean_one_and_an_evening_peak():
    assert DIURNAL.mean() == pytest.approx(1.0)
    assert DIURNAL.argmax() in (20, 21, 22)
    assert DIURNAL[0] > DIURNAL[3]  # the midnight rush beats the small hours


def test_single_day_window_and_presale():
    (w,) = format_windows("single_day")
    assert (w.start, w.end) == (hour_of(dt.date(2026, 11, 11)), hour_of(dt.date(2026, 11, 12)))
    assert w.deposit_start == hour_of(dt.date(2026, 10, 21))


def test_two_waves_have_two_presales_and_continuous_has_none():
    first, second = format_windows("two_waves")
    assert (first.start, first.end) == (hour_of(dt.date(2026, 11, 1)), hour_of(dt.date(2026, 11, 4)))
    assert first.deposit_start == hour_of(dt.date(2026, 10, 21))
    assert (second.start, second.deposit_start) == (hour_of(dt.date(2026, 11, 11)), hour_of(dt.date(2026, 11, 4)))
    (cont,) = format_windows("continuous")
    assert cont.end - cont.start == 11 * 24 and not cont.has_presale
    assert format_windows("none") == []


def test_a_window_partly_outside_the_season_is_refused_not_clipped():
    with pytest.raises(ParameterError, match=r"^festival.format: the continuous window 2026-11-01..2026-11-11 lies outside"):
        build_params({"festival.format": "continuous", "season.end": "2026-11-05"})


def test_calendar_arrays_follow_the_format():
    params = build_params({"festival.format": "single_day", "season.warmup_days": 0})
    cal, discount = build_calendar(params), params.festival.discount
    assert cal.n_hours == 109 * 24 and cal.season_hours == cal.n_hours  # Oct 15 .. Jan 31
    open_ = hour_of(dt.date(2026, 11, 11))
    assert (cal.window == 0).sum() == 24 and cal.window[open_] == 0
    assert cal.discount[open_] == pytest.approx(discount)
    assert cal.festival_period == (open_, open_ + 24)
    # the opening burst; deadline urgency is the consumers' (not a calendar spike)
    fa = cal.festival_activity[open_ : open_ + 24]
    assert fa[0] > fa[12] and (np.diff(fa) <= 1e-12).all() and fa.min() >= params.festival.pull
    assert cal.hours_to_close[open_ + 23] == 0 and cal.hours_to_close[open_] == 23 and np.isinf(cal.hours_to_close[open_ - 1])
    assert cal.upcoming_discount[open_ - 5] == pytest.approx(discount) and cal.upcoming_discount[open_ + 30] == 0
    assert (cal.deposit_for == 0).sum() == open_ - hour_of(dt.date(2026, 10, 21))
    assert cal.hours_to_open[open_ - 5] == 5 and np.isinf(cal.hours_to_open[open_ + 30])
    assert cal.weekday[0] == START.weekday()


@pytest.mark.parametrize("exponent", [0.0, 0.5, 1.0])
def test_a_festivals_extra_sessions_grow_as_its_days_to_the_power_one_minus_the_attention_exponent(exponent):
    extra = {}
    for fmt in ("single_day", "two_waves", "continuous"):
        params = build_params({"festival.format": fmt, "festival.pull": 9.0, "festival.opening_burst": 1.0,
                               "festival.attention_exponent": exponent})
        cal = build_calendar(params)
        days = (cal.window >= 0).sum() / 24
        extra[fmt] = (cal.festival_activity - 1.0).sum() / 24  # ordinary days of extra activity
        assert extra[fmt] == pytest.approx(8.0 * days ** (1 - exponent))
    assert extra["single_day"] == pytest.approx(8.0)  # a one-day festival keeps its pull whatever the exponent
    if exponent == 1.0:  # a fixed budget: every format draws the same extra sessions
        assert extra["continuous"] == pytest.approx(extra["two_waves"]) == pytest.approx(8.0)


def test_the_opening_rush_fades_with_its_time_constant():
    params = build_params({"festival.pull": 4.0, "festival.opening_burst": 6.0, "festival.rush_hours": 3.0})
    cal = build_calendar(params)
    open_ = hour_of(dt.date(2026, 11, 11)) + cal.season_start
    rush = cal.festival_activity[open_ : open_ + 24] / 4.0 - 1.0
    assert rush == pytest.approx(5.0 * np.exp(-np.arange(24) / 3.0))


def test_warmup_shifts_hours_but_not_dates():
    cal = build_calendar(build_params({"season.warmup_days": 14}))
    assert cal.season_start == 14 * 24
    assert str(cal.timestamps()[0]) == "2026-10-15T00"
    assert cal.festival_period[0] == cal.season_start + hour_of(dt.date(2026, 11, 11))


def test_none_format_is_measured_over_the_single_day_dates():
    none = build_calendar(build_params({"festival.format": "none"}))
    single = build_calendar(build_params({"festival.format": "single_day"}))
    assert none.festival_period == single.festival_period
    assert (none.window == -1).all() and (none.festival_activity == 1).all()
