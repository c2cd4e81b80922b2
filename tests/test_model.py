"""Model invariants, agent registration, inspection, reproducibility and scale."""

import numpy as np
import pandas as pd
import pytest

from sim.model.agents.brands import Brand
from sim.model.agents.consumers import Consumer, ConsumerPopulation
from sim.model.agents.platform import Platform
from sim.model.agents.venues import OnlineVenue, Venue
from sim.model.catalog import OFFLINE_VENUES
from sim.model.metrics import ARCHETYPES, RUN_METRICS, VENUE_TYPES
from sim.model.double11 import Double11Model
from sim.model.params import build_params
from sim.model.runs import derive_seed, run_model

SHORT = {"consumers.n": 3000, "season.start": "2026-10-28", "season.end": "2026-11-16", "season.warmup_days": 7}


@pytest.fixture(scope="module")
def stepped_model():
    """A two-wave season stepped by hand, with invariants checked every hour."""
    model = Double11Model(build_params({**SHORT, "festival.format": "two_waves", "platform.policy": "gmv_rank+subsidy"}), seed=11)
    book, cons, online = model.brand_book, model.consumers, model.online
    checks = {"min_inventory": np.inf, "min_wallet": np.inf, "min_backlog": np.inf, "conservation": 0.0}
    settle = model.fulfilment.settle
    stock_at_settlement = []

    def watched_settle(sessions):
        stock_at_settlement.append(book.inventory.copy())
        settle(sessions)

    model.fulfilment.settle = watched_settle
    for _ in range(model.calendar.n_hours):
        model.step()
        f = model.fulfilment.last.filled
        sold = np.bincount(f.brand, f.units, minlength=book.n)
        assert (sold <= stock_at_settlement[-1] + 1e-6).all(), "units sold exceed stock"
        checks["min_inventory"] = min(checks["min_inventory"], book.inventory.min())
        checks["min_wallet"] = min(checks["min_wallet"], cons.wallet.min())
        checks["min_backlog"] = min(checks["min_backlog"], online.processing_backlog, online.logistics_backlog)
        gap = online.created - (online.dispatched + online.processing_backlog + online.logistics_backlog)
        checks["conservation"] = max(checks["conservation"], abs(gap) / max(online.created, 1))
    model.hour -= 1
    model.online.censor_queued()
    model.recorder.finish()
    return model, checks


def test_agents_are_registered_with_mesa(stepped_model):
    model, _ = stepped_model
    by_type = model.agents_by_type
    assert len(by_type[Brand]) == model.params.brands.n
    assert len(by_type[ConsumerPopulation]) == 1 and len(model.consumers) == model.params.consumers.n
    assert len(by_type[Venue]) == sum(len(v.tiers) for v in OFFLINE_VENUES) and len(by_type[OnlineVenue]) == 1
    assert {v.kind for v in by_type[Venue]} | {model.online.kind} == set(VENUE_TYPES)
    assert len(by_type[Platform]) == 1


def test_stock_money_and_queues_never_go_negative(stepped_model):
    _, checks = stepped_model
    assert checks["min_inventory"] >= -1e-6
    assert checks["min_wallet"] >= -1e-3
    assert checks["min_backlog"] >= -1e-6


def test_allocation_fills_whole_orders_while_stock_lasts():
    from sim.model.fulfilment import allocate_stock
    rng = np.random.default_rng(0)
    brand = rng.integers(0, 5, 2000)
    units = rng.integers(1, 4, 2000)
    inventory = np.array([0.0, 10.0, 100.0, 1e9, 55.5])
    filled = allocate_stock(brand, units, inventory, rng)
    sold = np.bincount(brand[filled], units[filled], minlength=5)
    assert (sold <= inventory).all() and sold[0] == 0 and filled[brand == 3].all()
    assert sold[1] >= 10 - 3 and sold[2] >= 100 - 3  # stock runs out, not left idle


def test_every_online_order_is_dispatched_or_still_queued(stepped_model):
    model, checks = stepped_model
    assert checks["conservation"] < 1e-9
    recorded_online = model.recorder.series["orders_online"].sum()
    assert recorded_online <= model.online.created + 1e-6
    # every order counted in the delay histogram: dispatched in the season plus those still queued
    assert model.online.delay_histogram.sum() > 0


def test_gmv_adds_up_across_brands_venues_and_archetypes(stepped_model):
    model, _ = stepped_model
    rec = model.recorder
    total = rec.series["gmv"].sum()
    assert rec.brand_gmv.sum() == pytest.approx(total)
    assert rec.by_venue.sum() == pytest.approx(total)
    assert rec.by_archetype.sum() == pytest.approx(total)
    assert rec.series["gmv_online"].sum() + rec.series["gmv_offline"].sum() == pytest.approx(total)


def test_summary_shares_and_rates_are_fractions(stepped_model):
    model, _ = stepped_model
    s = model.recorder.summary()
    assert set(s) == set(RUN_METRICS)
    for name in ("return_rate", "stockout_rate", "satisfaction_mean", "churn_rate", "cr4_final", "gini_brand_sales",
                 "small_brand_share", "low_quality_share", "quality_weighted_share", "online_share"):
        assert 0.0 <= s[name] <= 1.0, name
    archetype_shares = model.recorder.by_archetype.sum(axis=0) / model.recorder.by_archetype.sum()
    assert archetype_shares.sum() == pytest.approx(1.0)
    assert 0 < s["hhi_final"] <= 10_000
    assert s["platform_subsidy_cost"] > 0


def test_a_single_consumer_can_be_inspected(stepped_model):
    model, _ = stepped_model
    c = model.consumers.consumer(42)
    assert isinstance(c, Consumer) and c.index == 42
    assert set(c.need) == {"apparel", "beauty", "electronics", "appliances", "home", "grocery", "baby", "sports"}
    assert c.tier in ("tier12_city", "lower_tier_city", "rural") and 0 <= c.satisfaction <= 1


def test_same_seed_same_numbers_different_seed_different_numbers():
    a = run_model(SHORT, seed=5)
    b = run_model(SHORT, seed=5)
    c = run_model(SHORT, seed=6)
    assert pd.Series(a.summary).equals(pd.Series(b.summary))  # NaN-aware: launch_success_rate is NaN without launches
    pd.testing.assert_frame_equal(a.hourly, b.hourly)
    assert a.summary["gmv_total"] != c.summary["gmv_total"]


def test_counterfactual_shares_the_population_and_none_is_its_own_baseline():
    none = run_model({**SHORT, "festival.format": "none"}, seed=2)
    assert none.summary["gmv_incremental"] == 0 and none.summary["pre_festival_dip"] == 0
    single = run_model({**SHORT, "festival.format": "single_day"}, seed=2)
    lift = single.summary["gmv_festival_lift"]
    assert lift == pytest.approx(single.summary["gmv_festival"] - none.summary["gmv_festival"])
    assert single.summary["platform_subsidy_cost"] == 0.0  # no subsidy policy, not a yuan of subsidy
    without = run_model({**SHORT, "festival.format": "single_day"}, seed=2, counterfactual=False)
    assert np.isnan(without.summary["gmv_incremental"]) and without.summary["gmv_total"] == single.summary["gmv_total"]


def test_derived_seeds_are_stable_and_distinct():
    seeds = [derive_seed(2026, i) for i in range(100)]
    assert seeds == [derive_seed(2026, i) for i in range(100)] and len(set(seeds)) == 100


def test_hourly_table_has_the_documented_columns():
    hourly = run_model(SHORT, seed=1, counterfactual=False).hourly
    for col in ("hour", "time", "gmv", "orders", "sessions", "processing_backlog", "logistics_backlog", "hhi_24h"):
        assert col in hourly
    for v in VENUE_TYPES:
        assert f"gmv_venue_{v}" in hourly
    for a in ARCHETYPES:
        assert {f"gmv_arch_{a}", f"discount_arch_{a}", f"stock_cover_arch_{a}"} <= set(hourly)
    assert len(hourly) == 20 * 24 and (hourly[["gmv", "orders", "logistics_backlog"]] >= 0).all().all()


@pytest.mark.parametrize("n", [4000, 16000])
def test_single_day_festival_matches_2019_at_any_resolution(n):
    """The calibrated defaults: Nov 11 sells within 15% of 2019's ¥268.4 bn, about a third of it in the
    first hour (published: 0.31-0.34), at any number of simulated consumers (finer, not more money)."""
    runs = [run_model({"consumers.n": n, "festival.format": "single_day"}, seed=s, counterfactual=False).summary
            for s in range(2)]
    gmv = np.mean([r["gmv_festival"] for r in runs])
    assert abs(gmv / 268.4e9 - 1) <= 0.15, f"{gmv / 1e9:.1f} bn"
    assert all(0.25 <= r["first_hour_share"] <= 0.42 for r in runs)


def test_consumer_surplus_values_the_options_on_show_not_waiting_for_the_festival():
    """Surplus is the log-sum of what a session offers over buying nothing. Waiting for a coming window
    (anticipation) and the urgency of a closing one change the choice, not what is on show: in the week
    before Nov 11 a session is worth about what it is worth without a festival, and on Nov 11, at festival
    prices, more. Fails when surplus is measured with waiting as an option (5x before, less on Nov 11)."""
    def per_session(fmt: str, seed: int) -> tuple[float, float]:
        h = run_model({"consumers.n": 3000, "festival.format": fmt, "season.start": "2026-10-20",
                       "season.end": "2026-11-20"}, seed=seed, counterfactual=False).hourly
        day = h["time"].dt.strftime("%m-%d")
        return tuple(h.loc[sel, "surplus"].sum() / h.loc[sel, "sessions"].sum()
                     for sel in (day.between("11-04", "11-10"), day == "11-11"))
    for seed in range(2):
        (week, nov11), (week_none, nov11_none) = per_session("single_day", seed), per_session("none", seed)
        assert 0.8 < week / week_none < 1.3, f"the week before: {week:.0f} yuan a session against {week_none:.0f}"
        assert nov11 > 1.2 * nov11_none, f"Nov 11: {nov11:.0f} yuan a session against {nov11_none:.0f}"


def _nov11_stockout_share(overrides: dict) -> float:
    params = {**SHORT, "season.warmup_days": 14, "consumers.n": 4000, "festival.format": "single_day", **overrides}
    hourly = pd.concat([run_model(params, seed=s, counterfactual=False).hourly for s in range(2)])
    day = hourly[hourly["time"].dt.strftime("%m-%d") == "11-11"]
    return day["stockouts"].sum() / day["attempts"].sum()


def test_brands_stock_for_the_festival_the_calendar_brings():
    """Brands plan the festival's extra sessions (festival_stock_cover x the calendar's extra days), so
    most of Nov 11's purchase attempts find stock (2% do not at the fitted 1.93; 10% at 1.0, since a
    festival session buys more than an ordinary one); a third of that plan runs out on about 24%."""
    assert _nov11_stockout_share({}) < 0.15
    assert _nov11_stockout_share({"brands.festival_stock_cover": 0.33}) > 0.20


def test_memoised_baseline_gives_the_same_numbers_as_a_fresh_one():
    import sim.model.runs as runs

    params = {**SHORT, "festival.format": "two_waves"}
    runs._BASELINES.clear()
    fresh = run_model(params, seed=9).summary
    assert len(runs._BASELINES) == 1
    cached = run_model(params, seed=9).summary
    none_arm = run_model({**params, "festival.format": "none"}, seed=9)
    assert pd.Series(fresh).equals(pd.Series(cached)) and len(runs._BASELINES) == 1   # the none arm reused the baseline
    assert none_arm.summary["gmv_total"] == pytest.approx(fresh["gmv_total"] - fresh["gmv_incremental"])


def test_festival_parameters_have_no_effect_without_a_festival():
    """The assumption that lets festival variants share one memoised baseline."""
    from sim.model.runs import simulate

    base = {**SHORT, "festival.format": "none"}
    varied = {**base, "festival.discount": 0.6, "festival.pull": 5, "festival.presale_reach": 0.9,
              "festival.participation": 0.2, "festival.opening_burst": 8}
    plain, other = (simulate(build_params(p), seed=4).recorder for p in (base, varied))
    assert pd.Series(plain.summary()).equals(pd.Series(other.summary()))  # NaN-aware
    pd.testing.assert_frame_equal(plain.hourly_frame(), other.hourly_frame())
