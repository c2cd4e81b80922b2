"""The ecosystem over several years (issue 11), over paired replications.

Small and short on purpose (1,000 consumers, nine-day seasons, three years; about 40 s of
CPU in all): arms share seeds, so every comparison is paired by replication, and each claim is a
one-sided 95% bound. Each test names the process that causes its fact; switching that
process off is one of the arms. What nine-day seasons are too short for (exits, entries and
investment building up the ranking's advantage) is tested over five default seasons (slow).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import lower_bound
from sim.model.ecosystem import YEARLY_METRICS
from sim.model.runs import YEARLY_KEY, run_model

SEASON = {"consumers.n": 1000, "season.start": "2026-11-06", "season.end": "2026-11-14", "season.warmup_days": 2}
YEARS = 3
SEEDS = range(8)
PROCESSES_OFF = {"mechanisms.entry_exit": False, "mechanisms.investment": False}
ARMS = {
    "gmv": {"platform.policy": "gmv_rank"},
    "qf": {"platform.policy": "quality_feedback"},
    "gmv_off": {"platform.policy": "gmv_rank", **PROCESSES_OFF},
    "qf_off": {"platform.policy": "quality_feedback", **PROCESSES_OFF},
    "qf_no_investment": {"platform.policy": "quality_feedback", "mechanisms.investment": False},
    "qf_rules": {"platform.policy": "quality_feedback+rule_simplification"},
}


def yearly(summary: dict[str, float]) -> pd.DataFrame:
    """The run's yearly table (years as rows) from its summary's yearly/<year>/<metric> entries."""
    rows: dict[int, dict[str, float]] = {}
    for key, value in summary.items():
        if key.startswith(YEARLY_KEY):
            year, name = key[len(YEARLY_KEY):].split("/")
            rows.setdefault(int(year), {})[name] = value
    return pd.DataFrame.from_dict(rows, orient="index").sort_index()


@pytest.fixture(scope="module")
def years() -> dict[str, list[pd.DataFrame]]:
    arms = ("gmv", "qf", "qf_no_investment", "qf_rules")
    return {arm: [yearly(run_model({**SEASON, "season.years": YEARS, **ARMS[arm]}, seed=s, counterfactual=False).summary)
                  for s in SEEDS] for arm in arms}


def change(runs: list[pd.DataFrame], name: str) -> np.ndarray:
    """Last year minus first, per replication."""
    return np.array([r[name].iloc[-1] - r[name].iloc[0] for r in runs])


def test_every_year_is_reported(years):
    table = years["qf"][0]
    assert list(table.index) == list(range(1, YEARS + 1))
    assert set(YEARLY_METRICS) <= set(table.columns)
    assert (table["brands_entered"].iloc[1:] > 0).any() and table["brands_entered"].iloc[0] == 0
    assert sum(r["acquisitions"].sum() for r in years["gmv"]) > 0  # big groups buy fast-growing small brands


def test_quality_feedback_raises_the_quality_sold_more_and_investment_is_why(years):
    """Under quality_feedback a better product earns ratings and so exposure: brands invest, and the
    GMV-weighted true quality sold rises over the years more than under gmv_rank. With the
    investment response off, at least half of that rise goes."""
    qf, gmv = change(years["qf"], "mean_quality_sold"), change(years["gmv"], "mean_quality_sold")
    assert lower_bound(qf - gmv) > 0, f"rise {qf.mean():.3f} under quality_feedback vs {gmv.mean():.3f} under gmv_rank"
    no_investment = change(years["qf_no_investment"], "mean_quality_sold")
    assert lower_bound(0.5 * qf - no_investment) > 0, f"without investment {no_investment.mean():.3f} of {qf.mean():.3f}"


def advantage_growth(years, qf: str, gmv: str) -> np.ndarray:
    """How much more quality_feedback lowers the low-quality share than gmv_rank in the last year than in the first."""
    return change(years[gmv], "low_quality_share") - change(years[qf], "low_quality_share")


def log_change(runs: list[pd.DataFrame], name: str) -> np.ndarray:
    """Last year over first, in logs, per replication."""
    return np.array([np.log(r[name].iloc[-1] / r[name].iloc[0]) for r in runs])


def test_quality_feedback_lowers_the_low_quality_share_more_over_the_years(years):
    """Ratings carried from season to season compound quality_feedback's ranking: over the years the
    low-quality share falls in proportion more under it than under gmv_rank (log change from year 1
    to 3: -0.75 more over 16 paired seeds). In proportion, because the two shares differ twofold in
    year 1 (0.086 against 0.169): a share cannot fall by more points than it has. In points the
    advantage shrinks by 0.012, not significantly at 16 seeds (docs/model.md)."""
    qf, gmv = log_change(years["qf"], "low_quality_share"), log_change(years["gmv"], "low_quality_share")
    assert lower_bound(gmv - qf) > 0, f"log change {qf.mean():.3f} under quality_feedback vs {gmv.mean():.3f} under gmv_rank"


FIVE_YEARS = {"consumers.n": 2000, "season.years": 5}  # the default season: nine-day seasons are too short for it
FIVE_YEAR_SEEDS = range(24)


@pytest.fixture(scope="module")
def five_years() -> dict[str, list[pd.DataFrame]]:
    """The four arms of the process test, 5 default seasons, paired seeds, on both cores (about 8 minutes)."""
    from sim.experiments.execute import Task, execute
    from sim.model.params import build_params

    arms = ("gmv", "qf", "gmv_off", "qf_off")
    tasks = [Task(index=len(arms) * s + i, params=build_params({**FIVE_YEARS, **ARMS[a]}), seed=s, counterfactual=False,
                  labels={"arm": a}) for s in FIVE_YEAR_SEEDS for i, a in enumerate(arms)]
    out: dict[str, list[pd.DataFrame]] = {a: [] for a in arms}
    for o in execute(tasks, workers=2, keep_hourly=False, progress=False):
        out[o.task.labels["arm"]].append(yearly(o.summary))
    return out


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_over_five_seasons_exit_entry_and_investment_carry_the_advantages_growth(five_years):
    """Issue 11's test at its own setting (5 default seasons): quality_feedback's advantage in the
    low-quality share grows from year 1 to 5, and with entry, exit and investment off that growth
    goes (24 paired seeds: +0.024 on, +0.002 off). Under quality_feedback low-quality sellers invest
    their way up or leave; under gmv_rank quality earns little exposure, so they hardly invest, and
    low-quality entrants replace those that leave. With the processes kept on in the off arms, or at
    the hand-set rule cost of 8 bn yuan a model brand (where most low-quality sellers and many small
    brands lost money and left under either ranking), it fails (there, 8 seeds: -0.018 with the
    processes, -0.003 without)."""
    on = advantage_growth(five_years, "qf", "gmv")
    off = advantage_growth(five_years, "qf_off", "gmv_off")
    assert lower_bound(on) > 0, f"the advantage grows by {on.mean():.4f}"
    assert lower_bound(on - off) > 0, f"with the processes off {off.mean():.4f} of {on.mean():.4f} is left"


@pytest.mark.slow
def test_exit_entry_and_investment_cause_at_least_half_of_that_growth(five_years):
    """At least half of that growth goes with the processes (here nearly all of it: 0.5 x on - off is
    +0.010, bound +0.002)."""
    on, off = advantage_growth(five_years, "qf", "gmv"), advantage_growth(five_years, "qf_off", "gmv_off")
    assert lower_bound(0.5 * on - off) > 0, f"with the processes off {off.mean():.4f} of {on.mean():.4f} is left"


def test_rule_simplification_raises_small_brand_entry(years):
    """Cheaper rules raise the profit an entrant can expect, so more small brands are expected to enter.
    Year 2 only: the first season is the same run under either policy, so the rule cost is all that
    differs. A check of the entry rule, not a finding: at the published store fee the rise is about 1%
    (docs/model.md)."""
    rules, qf = (np.array([r["small_entry_rate"].iloc[1] for r in years[a]]) for a in ("qf_rules", "qf"))
    assert (rules > qf).all(), f"expected small entrants {rules.mean():.3f} vs {qf.mean():.3f}"


def test_the_rule_cost_is_the_store_fee_of_the_real_brands_the_model_brands_stand_for():
    """Every real brand pays the fee: a season's cost over all model brands is the same for 60 or 120
    of them, the year's part for the season's days (¥45,000 x 200,000 a year in all), halved by
    rule_simplification. Fails if a model brand paid the fee of one brand, or of all."""
    from sim.model.double11 import Double11Model
    from sim.model.params import build_params

    def season_total(**over) -> tuple[float, float]:
        model = Double11Model(build_params({**SEASON, **over}), seed=0)
        days = model.calendar.season_hours / 24.0
        total = model.ecosystem.rule_cost() * model.params.brands.n * model.weight  # yuan, all brands
        return total, 45_000 * 200_000 * days / 365.0

    total, expected = season_total()
    assert total == pytest.approx(expected, rel=1e-9)
    assert season_total(**{"brands.n": 120})[0] == pytest.approx(expected, rel=1e-9)
    assert season_total(**{"platform.policy": "rule_simplification"})[0] == pytest.approx(expected / 2, rel=1e-9)


def test_innovation_centres_launch_products_and_their_makers_grow():
    """Centres launch from year 2 (designed from last season's data): new products take a share of
    GMV, and the centres' groups grow more than the same brands without the launches."""
    base = {**SEASON, "season.years": 2, "innovation.centres": 4, "innovation.launch_days": 2,
            "innovation.launch_weeks": 0.5}
    on, off = ([yearly(run_model({**base, "mechanisms.innovation": flag}, seed=s, counterfactual=False).summary)
                for s in range(8)] for flag in (True, False))
    assert all(r["launches"].iloc[1] == 4 for r in on)
    assert sum(r["new_product_share"].iloc[1] for r in on) > 0  # at 1,000 consumers half the seeds may sell none
    assert all(r["new_product_share"].iloc[1] == 0 for r in off)
    growth = [r["launching_gmv"].iloc[1] / r["launching_gmv"].iloc[0] for r in on]
    without = [r["launching_gmv"].iloc[1] / r["launching_gmv"].iloc[0] for r in off]
    assert np.mean(np.subtract(growth, without)) > 0, f"growth {growth} with launches vs {without} without"


def test_a_scenario_writes_one_yearly_row_per_run_and_year_and_keeps_runs_csv_one_row_per_run(tmp_path):
    from sim.app.report import write_results
    from sim.experiments.scenarios import make_scenario, run_scenario

    scenario = make_scenario("years", factors={"platform.policy": ["gmv_rank", "quality_feedback"]},
                             base={**SEASON, "season.years": 2}, replications=1, counterfactual=False)
    write_results(run_scenario(scenario), tmp_path)
    runs, table = pd.read_csv(tmp_path / "runs.csv"), pd.read_csv(tmp_path / "yearly.csv")
    assert len(runs) == 2 and not any(c.startswith(YEARLY_KEY) for c in runs.columns)
    assert {"brands_entered", "acquisitions", "mean_quality_sold", "new_product_share"} <= set(runs.columns)
    assert sorted(zip(table["arm"], table["year"])) == [(a, y) for a in ("gmv_rank", "quality_feedback") for y in (1, 2)]
    assert (tmp_path / "figures" / "years_quality_sold.png").is_file()


def test_a_rival_takes_purchases_this_platform_misses_and_only_when_it_exists():
    base = {**SEASON, "platform.policy": "gmv_rank"}
    none, rival, off = ([run_model({**base, **o}, seed=s, counterfactual=False).summary for s in range(4)]
                        for o in ({}, {"rival.pull": 0.5}, {"rival.pull": 0.5, "mechanisms.rival": False}))

    def total(runs, key):  # over paired seeds: one seed's reshuffle of exposure can outweigh the rival
        return sum(r[key] for r in runs)

    assert total(none, "rival_share") == 0 and total(off, "rival_share") == 0 and total(none, "gmv_total") == total(off, "gmv_total")
    assert all(r["rival_share"] > 0 for r in rival) and total(rival, "gmv_total") < total(none, "gmv_total")


def test_brands_that_left_in_earlier_years_do_not_count_in_inequality_or_the_good_brands_share():
    """Over four short seasons brands exit; the last season's Gini and good-brand share are over the
    brands still in the market (some sell nothing in nine days at 1,000 consumers: they count as zeros),
    not over every row ever created (an exited row adds a zero to the Gini and its quality to the
    median). Fails when both are computed over all rows (Gini 0.71 against 0.65)."""
    from sim.model.metrics import gini
    from sim.model.double11 import Double11Model
    from sim.model.params import build_params

    costly_rules = {"platform.merchant_rule_cost": 2.4e6}  # 8 bn yuan a model brand (53x the store fee): many exits
    model = Double11Model(build_params({**SEASON, "season.years": 4, **costly_rules}), seed=0)
    model.run()
    rec = model.recorder
    summary = rec.summary()
    sales = rec.brand_gmv.sum(axis=0)
    market = model.brand_book.active  # exits and entries happen between seasons, so this is the last season's market
    assert model.ecosystem.exited.sum() >= 5, "too few brands left the market to test this"
    assert summary["gini_brand_sales"] == pytest.approx(gini(sales[market]), abs=1e-9)
    good = market & (rec.quality > np.median(rec.quality[market]))
    assert summary["quality_weighted_share"] == pytest.approx(sales[good].sum() / sales.sum(), abs=1e-9)


def test_stock_ordered_across_the_turn_of_a_season_arrives():
    """A new season opens with the midnight review the last season's last day calls for, so stock
    due the day after it arrives. Without it, the review at hour 0 was skipped: those units stayed
    "on order" for good and brands ordered that much less every later year (390 phantom units
    after one year at 3,000 consumers, 602 after two)."""
    from sim.model.double11 import Double11Model
    from sim.model.params import build_params

    model = Double11Model(build_params({**SEASON, "season.years": 2}), seed=0)
    model.run()
    overdue = {b.idx: day for b in model.brands for day in b.pipeline if day <= model.day}
    assert not overdue, f"deliveries never received (brand: day): {overdue}"
