"""The stylized facts of MODEL.md, with the default parameters, over replications.

Arms share seeds (common random numbers), so comparisons are paired by replication. What
causes each fact is proven in test_mechanisms.py (switch the cause off, the fact goes).
"""

import datetime as dt

import numpy as np
import pytest

from conftest import format_windows, lower_bound
from sim.model.params import build_params
from sim.model.runs import run_model

N = 4000
SEEDS = range(4)


def runs(fmt: str, policy: str = "gmv_rank", counterfactual: bool = True, seeds: range = SEEDS, n: int = N):
    return [run_model({"consumers.n": n, "festival.format": fmt, "platform.policy": policy}, seed=s,
                      counterfactual=counterfactual) for s in seeds]


@pytest.fixture(scope="module")
def formats():
    return {fmt: runs(fmt) for fmt in ("single_day", "two_waves", "continuous")}


@pytest.fixture(scope="module")
def policies(formats):
    # Policy effects on shares are smaller than format effects: two more seeds than SEEDS.
    extra = range(SEEDS.stop, SEEDS.stop + 2)
    out = {"gmv_rank": formats["single_day"] + runs("single_day", counterfactual=False, seeds=extra)}
    for policy in ("quality_feedback", "small_brand_boost"):
        out[policy] = runs("single_day", policy, counterfactual=False, seeds=range(SEEDS.stop + 2))
    return out


def metric(results, name):
    return np.array([r.summary[name] for r in results])


def positive_with_confidence(x):
    """The one-sided 95% lower bound of the mean is above zero."""
    return lower_bound(x) > 0


@pytest.mark.parametrize("fmt", ["single_day", "two_waves"])
def test_fact1_dip_before_and_slump_after_the_festival(formats, fmt):
    assert positive_with_confidence(metric(formats[fmt], "pre_festival_dip"))
    assert positive_with_confidence(metric(formats[fmt], "post_festival_slump"))


def opening_bursts(results, fmt):
    windows = format_windows(fmt)
    bursts = []
    for r in results:
        orders = r.hourly["orders"].to_numpy()
        bursts.append([(orders[w.start], orders[w.start - 1], orders[w.start + 1 : w.end].mean()) for w in windows])
    return np.array(bursts)  # (runs, windows, [first hour, hour before, rest of window])


def test_fact2_orders_burst_in_a_windows_first_hour_most_under_single_day(formats):
    peaks = {}
    for fmt in ("single_day", "two_waves", "continuous"):
        b = opening_bursts(formats[fmt], fmt)
        assert (b[:, :, 0] > 3 * b[:, :, 1]).all(), fmt      # a burst at the opening ...
        assert (b[:, :, 0] > b[:, :, 2]).all(), fmt          # ... above the rest of the window
        peaks[fmt] = b[:, :, 0].max(axis=1)
    assert (peaks["single_day"] > peaks["two_waves"]).all()
    assert (peaks["single_day"] > peaks["continuous"]).all()


@pytest.mark.parametrize("fmt", ["two_waves", "continuous"])
def test_fact3_multi_day_formats_spread_the_load(formats, fmt):
    single, multi = formats["single_day"], formats[fmt]
    # (the mean delay over the whole season is mostly ordinary days' orders, so it is not compared)
    for name in ("peak_to_mean", "p95_delivery_delay_h", "opening_cohort_delay_h"):
        assert positive_with_confidence(metric(single, name) - metric(multi, name)), name
    # GMV per festival day: the same demand spread over more days (not a longer total).
    days = {fmt: sum(w.end - w.start for w in format_windows(fmt)) / 24 for fmt in ("single_day", fmt)}
    per_day = {f: metric(formats[f], "gmv_festival") / days[f] for f in days}
    assert positive_with_confidence(per_day["single_day"] - per_day[fmt])


def test_the_festivals_extra_units_are_mostly_extra_consumption_the_more_the_longer_it_lasts(formats):
    """expansion_share: the part of the festival's extra units that meets no need (consumption
    expansion). At the defaults it is most of the bump (0.73 for the single day, 0.96 continuous;
    published decompositions put about a third of a bump down to expansion: an open gap in
    docs/model.md), and it grows with the days spent at festival prices."""
    share = {fmt: metric(formats[fmt], "expansion_share") for fmt in formats}
    assert ((share["single_day"] > 0.5) & (share["single_day"] < 1)).all()
    assert positive_with_confidence(share["two_waves"] - share["single_day"])
    assert positive_with_confidence(share["continuous"] - share["two_waves"])
    no_expansion = run_model({"consumers.n": 1500, "season.start": "2026-10-25", "season.end": "2026-11-20",
                              "festival.format": "single_day", "consumers.expansion": 0.0}, seed=0)
    assert no_expansion.summary["expansion_share"] == pytest.approx(0.0, abs=1e-6)


def hhi_rise(results):
    """Within-category HHI of the season's last week minus its first week's, per run."""
    rises = []
    for r in results:
        daily = r.hourly["hhi_24h"].to_numpy()[23::24]
        rises.append(daily[-7:].mean() - daily[:7].mean())
    return np.array(rises)


@pytest.fixture(scope="module")
def concentration():
    """Within-category concentration needs brands' daily sales above counting noise: at 4,000
    consumers the difference below was +139 +- 86 over 12 seeds (not shown); at 10,000, +285 +- 84 over 6."""
    return {policy: runs("single_day", policy, counterfactual=False, seeds=range(6), n=10000)
            for policy in ("gmv_rank", "quality_feedback")}


@pytest.mark.slow
def test_fact4_gmv_rank_concentrates_the_market_more_than_quality_feedback(concentration):
    """Difference in differences: the season's rise in concentration under gmv_rank, net of
    the rise under quality_feedback on the same seeds (which nets out calendar effects)."""
    assert positive_with_confidence(hhi_rise(concentration["gmv_rank"]) - hhi_rise(concentration["quality_feedback"]))


def test_fact4_quality_feedback_sells_less_from_low_quality_sellers_than_gmv_rank(policies):
    gmv, qf = policies["gmv_rank"], policies["quality_feedback"]
    assert positive_with_confidence(metric(gmv, "low_quality_share") - metric(qf, "low_quality_share"))


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="not shown: buyers see true quality, so gmv_rank's "
                   "rich-get-richer already follows it, while quality_feedback ranks on ratings estimated from noisy, biased "
                   "reviews. At 10,000 consumers (3 seeds) the good-brand share is 0.838 against gmv_rank's 0.873; 0.875 at "
                   "platform.quality_strength 15 (6 by default); unchanged without the ranking's direct service term. At "
                   "40,000 it was 0.02-0.07 below; in the default study of 2026-11-28 (40,000 consumers, 10 replications) it is "
                   "0.3 points below (95% CI -2.9 to +2.3): no clear difference. Low-quality sellers' share does fall (fact 4 above)")
def test_fact4_quality_feedback_raises_the_good_brands_share(policies):
    gmv, qf = policies["gmv_rank"], policies["quality_feedback"]
    assert positive_with_confidence(metric(qf, "quality_weighted_share") - metric(gmv, "quality_weighted_share"))


def test_fact5_small_brand_boost_raises_small_brands_share(policies):
    """The reserved slot is on top of the ranking, so it lifts small brands also in categories
    where gmv_rank's feedback already made a small brand the leader (6 seeds: +0.08, sd 0.03)."""
    gain = metric(policies["small_brand_boost"], "small_brand_share") - metric(policies["gmv_rank"], "small_brand_share")
    assert positive_with_confidence(gain)


def _stock_tracking_error(result, archetype: str, target: float) -> float:
    """Mean |log(stock cover on hand / target)| over the seven weeks from Nov 11: how far an archetype's
    stock strays from what it aims to hold on hand (its safety days; a lead time's worth is on order).
    A fixed recovery period, so the season's length does not dilute it."""
    daily = result.hourly.iloc[23::24]
    dates = daily["time"].dt.date
    after = ((dates >= dt.date(2026, 11, 11)) & (dates < dt.date(2026, 12, 30))).to_numpy()
    cover = np.maximum(daily[f"stock_cover_arch_{archetype}"].to_numpy()[after], 0.1)
    return float(np.mean(np.abs(np.log(cover / target))))


def test_fact5_small_brands_bring_their_stock_back_to_target_faster(formats):
    """After Nov 11, small brands' stock stays closer to its target than big groups', beyond what each
    strays without a festival (difference in differences over paired seeds: 0.22, each seed 0.19-0.25).
    The cause is their shorter lead times (4 days against 10) and faster adaptation: with
    ``brands.lead_time_big`` = 4 about 70% of it goes, with ``brands.adapt_big`` = 0.35 as well 80%."""
    target = build_params({}).brands.safety_days
    festival, none = formats["single_day"], runs("none", counterfactual=False)

    def gap(results):
        return np.array([_stock_tracking_error(r, "big", target) - _stock_tracking_error(r, "small", target) for r in results])
    assert lower_bound(gap(festival) - gap(none)) > 0.1


def test_none_run_metrics_match_an_independent_computation():
    """The summary of a `none` run, recomputed from its hourly table with pandas."""
    r = run_model({"consumers.n": N, "festival.format": "none"}, seed=3)
    h, s = r.hourly, r.summary
    assert s["gmv_total"] == pytest.approx(h["gmv"].sum(), rel=1e-9)
    assert s["orders_total"] == pytest.approx(h["orders"].sum(), rel=1e-9)
    assert s["online_share"] == pytest.approx(h["gmv_online"].sum() / h["gmv"].sum(), rel=1e-9)
    day = h[h["time"].dt.date == dt.date(2026, 11, 11)]
    assert s["first_hour_share"] == pytest.approx(day["gmv"].iloc[0] / day["gmv"].sum(), rel=1e-9)
    assert s["closing_peak_ratio"] == pytest.approx(day["orders"].iloc[-2:].sum() / day["orders"].iloc[-4:-2].sum(), rel=1e-9)
    assert s["peak_to_mean"] == pytest.approx(h["orders"].max() / h["orders"].mean(), rel=1e-9)
    for name in ("gmv_incremental", "pre_festival_dip", "post_festival_slump", "pre_festival_deferral", "final_week_gap"):
        assert s[name] == 0.0, name  # the none run against itself
