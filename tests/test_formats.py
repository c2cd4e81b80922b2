"""Festival definitions: named formats as shipped windows, custom windows, their validation, downstream use."""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pandas as pd
import pytest

from conftest import TINY, run_cli
from sim.model.calendar import build_calendar
from sim.app.cli import main
from sim.model.formats import named_windows, windows_label, windows_literal
from sim.model.params import build_params
from sim.app.report.findings import arms_metadata
from sim.experiments.scenarios import load_scenario, make_scenario
from sim.experiments.sweeps.spec import parse_spec

# Calendars of the named formats as the implementation before festival definitions built them
# (window, discount, deposit_for and hours_to_open arrays hashed; windows as (start, end, deposit
# start or -1); accounting period), for three seasons: default, a short one with a deeper discount,
# and a late start without warm-up (pre-sale clipped to the first hour, two_waves' first pre-sale dropped).
SEASONS = {
    "default": {"season.end": "2026-11-30", "festival.discount": 0.3, "season.warmup_days": 14},  # the defaults when these were recorded
    "tiny": {"season.start": "2026-10-25", "season.end": "2026-11-20", "festival.discount": 0.45, "season.warmup_days": 14},
    "late": {"season.start": "2026-11-01", "season.end": "2026-11-14", "season.warmup_days": 0, "festival.discount": 0.3},
}
BEFORE = {
    ("none", "default"): ("847bf3f6a1dc92a9", [], (984, 1008)),
    ("none", "tiny"): ("6ffc6a8557b0f9f0", [], (744, 768)),
    ("none", "late"): ("c7791a93a7b38393", [], (240, 264)),
    ("single_day", "default"): ("aeb58add69a05610", [(984, 1008, 480)], (984, 1008)),
    ("single_day", "tiny"): ("ab4ea8c46392c03d", [(744, 768, 240)], (744, 768)),
    ("single_day", "late"): ("88ee821830869ebd", [(240, 264, 0)], (240, 264)),
    ("two_waves", "default"): ("d9caba41ef9dd299", [(744, 816, 480), (984, 1008, 816)], (744, 1008)),
    ("two_waves", "tiny"): ("3cbe40be6abf32ac", [(504, 576, 240), (744, 768, 576)], (504, 768)),
    ("two_waves", "late"): ("efe7036e8d140135", [(0, 72, -1), (240, 264, 72)], (0, 264)),
    ("continuous", "default"): ("35d43a3ca221b6a1", [(744, 1008, -1)], (744, 1008)),
    ("continuous", "tiny"): ("238644bb7d69b1b6", [(504, 768, -1)], (504, 768)),
    ("continuous", "late"): ("2150f63a115f6dd5", [(0, 264, -1)], (0, 264)),
}
CUSTOM = {"festival.format": "custom", "season.warmup_days": 0}


def fingerprint(cal) -> str:
    h = hashlib.sha256()
    for a in (cal.window, cal.discount, cal.deposit_for, cal.hours_to_open):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def hour(day: int, h: int = 0, month: int = 11) -> int:
    """Hours from 2026-10-15 00:00 (the default season start, no warm-up)."""
    return (dt.date(2026, month, day) - dt.date(2026, 10, 15)).days * 24 + h


@pytest.mark.parametrize("fmt, season", sorted(BEFORE))
def test_named_formats_build_the_same_calendar_as_before(fmt, season):
    cal = build_calendar(build_params({**SEASONS[season], "festival.format": fmt}))
    digest, windows, period = BEFORE[fmt, season]
    assert [(w.start, w.end, -1 if w.deposit_start is None else w.deposit_start) for w in cal.windows] == windows
    assert cal.festival_period == period
    assert fingerprint(cal) == digest


@pytest.mark.parametrize("fmt", ["single_day", "two_waves", "continuous"])
def test_a_named_format_written_out_as_custom_windows_is_the_same_festival(fmt):
    named = build_calendar(build_params({"festival.format": fmt}))
    custom = build_calendar(build_params({"festival.format": "custom",
                                          "festival.windows": windows_literal(named_windows(fmt, 2026))}))
    assert named.windows == custom.windows and named.festival_period == custom.festival_period
    for a, b in zip((named.window, named.discount, named.deposit_for, named.festival_activity),
                    (custom.window, custom.discount, custom.deposit_for, custom.festival_activity)):
        assert np.array_equal(a, b)


def test_custom_windows_give_their_hours_discounts_and_presale():
    cal = build_calendar(build_params({**CUSTOM, "festival.discount": 0.25, "festival.windows": [
        {"start": dt.date(2026, 11, 9), "end": dt.date(2026, 11, 11), "discount": 0.4, "presale_from": dt.date(2026, 11, 1)},
        {"start": dt.datetime(2026, 11, 15, 20), "end": dt.datetime(2026, 11, 16, 2)},  # an evening flash sale
    ]}))
    first, flash = cal.windows
    assert (first.start, first.end, first.deposit_start, first.discount) == (hour(9), hour(12), hour(1), 0.4)
    assert (flash.start, flash.end, flash.deposit_start, flash.discount) == (hour(15, 20), hour(16, 2), None, 0.25)
    assert np.array_equal(np.flatnonzero(cal.window == 0), np.arange(hour(9), hour(12)))
    assert np.array_equal(np.flatnonzero(cal.window == 1), np.arange(hour(15, 20), hour(16, 2)))
    assert set(cal.discount[cal.window == 0]) == {0.4} and set(cal.discount[cal.window == 1]) == {0.25}
    assert (cal.discount[cal.window < 0] == 0).all()
    assert np.array_equal(np.flatnonzero(cal.deposit_for == 0), np.arange(hour(1), hour(9)))
    assert not (cal.deposit_for == 1).any()
    assert cal.festival_period == (hour(9), hour(16, 2))  # first opening to last close
    # what the model prices pre-sales and waiting at: the promised window's discount
    assert cal.presale_discount(hour(5), 0.25) == 0.4 and cal.presale_discount(hour(13), 0.25) == 0.25
    assert cal.upcoming_discount[hour(5)] == 0.4 and cal.upcoming_discount[hour(13)] == 0.25 and cal.upcoming_discount[hour(17)] == 0


def test_accounting_period_overrides_first_opening_to_last_close():
    p = {**CUSTOM, "festival.windows": "[{start = 2026-11-09, end = 2026-11-11}]"}
    assert build_calendar(build_params(p)).festival_period == (hour(9), hour(12))
    cal = build_calendar(build_params({**p, "festival.accounting": ["2026-11-01", "2026-11-11T12:00:00"]}))
    assert cal.festival_period == (hour(1), hour(11, 12))
    assert cal.pre_period() == (hour(1) - 7 * 24, hour(1))
    text_dates = build_calendar(build_params({**p, "festival.accounting": ["2026-11-01", "2026-11-11"]}))
    assert text_dates.festival_period == (hour(1), hour(12))  # a date as end: that whole day


def test_windows_round_trip_through_their_toml_text_in_any_order():
    p = build_params({"festival.format": "custom", "festival.windows": (
        "[{start = 2026-11-11, end = 2026-11-11, discount = 0.5}, "
        "{start = 2026-11-01, end = 2026-11-03, presale_from = 2026-10-21}]")})
    assert [w.start.day for w in p.festival.windows] == [1, 11]  # sorted by opening
    text = p.flat()["festival.windows"]
    assert text == ("[{start = 2026-11-01, end = 2026-11-03, presale_from = 2026-10-21}, "
                    "{start = 2026-11-11, end = 2026-11-11, discount = 0.5}]")
    assert build_params(p.flat()) == p
    assert windows_label(text) == "custom 11-01..11-03 (presale 10-21) + 11-11 50%"


W = "festival.windows="
BAD = [  # (--set arguments, the line's start): every window check, one line, exit 2
    (["season.end=2026-11-05"], "festival.format: the single_day window 2026-11-11 lies outside the season "
                                "2026-10-15..2026-11-05"),
    (["festival.format=continuous", "season.end=2026-11-05"], "festival.format: the continuous window "
                                                              "2026-11-01..2026-11-11 lies outside"),
    (["festival.format=custom", W + "[{start=2027-01-28, end=2027-02-02}]"], "festival.windows: the window "
                                                                            "2027-01-28..2027-02-02 lies outside"),
    (["festival.format=custom", W + "[{start=2026-11-09, end=2026-11-11}, {start=2026-11-11, end=2026-11-12}]"],
     "--set festival.windows: windows 2026-11-09..2026-11-11 and 2026-11-11..2026-11-12 overlap"),
    (["festival.format=custom", W + "[{start=2026-11-09, end=2026-11-08}]"],
     "--set festival.windows: window 2026-11-09..2026-11-08: end must be after start"),
    (["festival.format=custom", W + "[{start=2026-11-09T20:00:00, end=2026-11-09T20:00:00}]"],
     "--set festival.windows: window 2026-11-09T20:00: end must be after start"),
    (["festival.format=custom", W + "[{start=2026-11-09, end=2026-11-11, discount=1.0}]"],
     "festival.windows[0].discount: Input should be less than 1"),
    (["festival.format=custom", W + "[{start=2026-11-09, end=2026-11-11, discount=-0.1}]"],
     "festival.windows[0].discount: Input should be greater than or equal to 0"),
    (["festival.format=custom", W + "[{start=2026-11-09, end=2026-11-11, presale_from=2026-11-09}]"],
     "--set festival.windows: window 2026-11-09..2026-11-11: presale_from 2026-11-09 must be before"),
    (["festival.format=custom", W + "[{start=2026-11-01, end=2026-11-03}, {start=2026-11-11, end=2026-11-11, "
                                    "presale_from=2026-11-02}]"],
     "--set festival.windows: the pre-sale of window 2026-11-11 (from 2026-11-02) overlaps window 2026-11-01..2026-11-03"),
    (["festival.format=custom", W + "[{start=2026-11-09T20:30:00, end=2026-11-11}]"],
     "festival.windows[0].start: must be on the hour"),
    (["festival.format=custom", W + "[{start=2026-11-09, end=2026-11-11, depth=0.3}]"],
     "festival.windows[0].depth: Extra inputs are not permitted"),
    (["festival.format=custom"], "festival.windows: festival.format = custom needs at least one window"),
    ([W + "[{start=2026-11-09, end=2026-11-11}]"], "festival.format: is single_day, so festival.windows would be "
                                                   "ignored"),
    ([W + "soon"], "--set festival.windows: expected a list of windows"),
    (["festival.accounting=[2026-11-12, 2026-11-11]"], "--set festival.accounting: end must be after start"),
    (["festival.accounting=[2026-11-12]"], "--set festival.accounting: expected [start, end] or []"),
    (["festival.accounting=[2026-11-01, 2027-02-01]"], "--set festival.accounting: 2026-11-01..2027-02-01 lies outside"),
]


@pytest.mark.parametrize("sets, line", BAD, ids=[b[1][:60] for b in BAD])
def test_each_festival_check_is_one_line_and_status_2(sets, line, capsys, tmp_path):
    args = ["once", "--out", str(tmp_path / "never")]
    for s in sets:
        args += ["--set", s]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"run.py: error: {line}") and "\n" not in err, err
    assert not (tmp_path / "never").exists()


def test_a_festival_outside_the_season_is_refused_before_any_run(tmp_path):
    res = run_cli("formats", "--set", "season.end=2026-11-05", "--out", str(tmp_path / "out"))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.strip() == ("run.py: error: base: festival.format: the single_day window 2026-11-11 lies outside "
                                  "the season 2026-10-15..2026-11-05 (season.start..season.end)")
    assert not (tmp_path / "out").exists()


def test_custom_festival_factor_levels_name_their_arms():
    sc = make_scenario("waves", factors={"festival.format": ["custom"], "festival.windows": [
        [{"start": dt.date(2026, 11, 9), "end": dt.date(2026, 11, 11)}],
        [{"start": dt.date(2026, 11, 7), "end": dt.date(2026, 11, 11), "discount": 0.4}],
    ]})
    assert [a.name for a in sc.arms] == ["custom 11-09..11-11", "custom 11-07..11-11 40%"]
    assert sc.varying_keys()[:3] == ["festival.format", "platform.policy", "festival.windows"]


def test_a_sweep_varies_custom_windows_as_their_toml_text():
    levels = [[{"start": dt.date(2026, 11, 9), "end": dt.date(2026, 11, 11)}],
              [{"start": dt.date(2026, 11, 7), "end": dt.date(2026, 11, 11), "discount": 0.4}]]
    spec = parse_spec({"base": {"festival.format": "custom", "festival.windows": levels[0]},
                       "vary": {"festival.windows": {"values": levels}}})
    (factor,) = spec.factors
    assert factor.grid() == ["[{start = 2026-11-09, end = 2026-11-11}]",
                             "[{start = 2026-11-07, end = 2026-11-11, discount = 0.4}]"]


def test_report_reads_each_custom_festival_as_a_format_level():
    runs = pd.DataFrame({"arm": ["single_day", "w3", "w5"], "festival.format": ["single_day", "custom", "custom"],
                         "platform.policy": ["gmv_rank"] * 3,
                         "festival.windows": ["[]", "[{start = 2026-11-09, end = 2026-11-11}]",
                                              "[{start = 2026-11-07, end = 2026-11-11}]"]})
    meta = arms_metadata(runs)
    assert list(meta["festival.format"]) == ["single_day", "custom 11-09..11-11", "custom 11-07..11-11"]
    assert "festival.windows" not in meta


def test_wave_length_scenario_runs_end_to_end(tmp_path):
    sc = load_scenario("wave_length")
    assert [a.name for a in sc.arms] == ["single_day", "wave_3d", "wave_5d", "none"]
    assert [len(a.params.festival.definition(2026)) for a in sc.arms] == [1, 1, 1, 0]
    res = run_cli("wave_length", "--reps", "1", *TINY, "--workers", "1", "--no-progress", "--out", str(tmp_path))
    assert res.returncode == 0, res.stderr
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert list(runs["arm"]) == ["single_day", "wave_3d", "wave_5d", "none"] and runs["error"].isna().all()
    assert list(runs["festival.format"]) == ["single_day", "custom", "custom", "none"]
    assert runs["festival.windows"][1] == "[{start = 2026-11-09, end = 2026-11-11, presale_from = 2026-10-21}]"
    gmv = runs.set_index("arm")["gmv_festival"]
    # Same five days counted for all. Which wave sells most is the model's answer, not a fixed order: with
    # attention close to a fixed budget (festival.attention_exponent about 1), length adds little.
    assert min(gmv[["single_day", "wave_3d", "wave_5d"]]) > gmv["none"] > 0
    assert "custom 11-07..11-11 (presale 10-21)" in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_metrics_of_the_closing_day_ignore_the_accounting_period():
    """Nov 11's first-hour share, the closing peak and the offline lift on Nov 11 are measured on the
    day the last window closes, not on the last day of a wider accounting period (which once moved
    them to Nov 12: first-hour share 0.32 -> 0.05, offline lift +0.15 -> -0.45)."""
    from conftest import SHORT_SEASON
    from sim.model.runs import run_model

    plain = run_model(SHORT_SEASON, seed=1).summary
    wider = run_model({**SHORT_SEASON, "festival.accounting": ["2026-11-10", "2026-11-12"]}, seed=1).summary
    assert wider["gmv_festival"] > plain["gmv_festival"]  # the accounting period does apply
    for name in ("first_hour_share", "closing_peak_ratio", "offline_festival_day_lift"):
        assert wider[name] == plain[name], name
    assert plain["first_hour_share"] > 0.1
