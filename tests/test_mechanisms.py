"""Each stylized fact is caused by its mechanism: switch the cause off and at least half of
the effect goes; switch off an unrelated mechanism and it stays.

Runs are paired (same seeds, common random numbers); "at least half" is a one-sided 95%
test on the paired values 0.5 x effect(on) - effect(off). The ablations themselves are
defined in sim/experiments/ablations.py, which also writes the table in docs/model.md.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import lower_bound
from sim.experiments.ablations import ABLATIONS, effects, metric, slump_decomposition, summaries_source
from sim.experiments.long_run import settling
from sim.model.runs import run_model

pytestmark = pytest.mark.slow  # about 7 minutes of ablation runs: CI's second pass (`-m slow`)

SEASON = {"season.start": "2026-10-15", "season.end": "2026-11-25", "consumers.n": 4000}
# One day's offline GMV needs more consumers and seeds: durables are a few purchases a day at 4,000,
# and at the fitted lift (+0.1 to +0.14) the paired difference of the unrelated switch has sd 0.055 by
# seed at 80,000 (0.069 at 40,000 with pick-ups counted offline). A season around Nov 11 is enough.
OFFLINE_SEASON = {"season.start": "2026-10-25", "season.end": "2026-11-14", "consumers.n": 80000}


@pytest.fixture(scope="module")
def runs():
    return summaries_source(SEASON, range(8))


@pytest.fixture(scope="module")
def offline_runs():
    return summaries_source(OFFLINE_SEASON, range(16))


# Known gaps, kept visible (strict: a pass must be noticed); measured values in docs/ablations.md.
NOT_SHOWN: dict[tuple[str, ...], str] = {}


def _case(ablation):
    if ablation.cause in NOT_SHOWN:
        return pytest.param(ablation, marks=pytest.mark.xfail(strict=True, reason=NOT_SHOWN[ablation.cause]))
    return ablation


@pytest.mark.parametrize("ablation", [_case(a) for a in ABLATIONS], ids=lambda a: "+".join(a.cause) + ": " + a.fact)
def test_switching_the_cause_off_removes_at_least_half_and_an_unrelated_switch_does_not(request, ablation):
    runs = request.getfixturevalue("offline_runs" if ablation.cause == ("offline_integration",) else "runs")
    on, off, unrelated = effects(ablation, runs)
    assert lower_bound(on) > 0, f"no effect to explain: {on.mean():.4f}"
    assert lower_bound(0.5 * on - off) > 0, f"with the cause off {off.mean():.4f} of {on.mean():.4f} is left"
    assert lower_bound(unrelated - 0.5 * on) > 0, f"the unrelated switch leaves {unrelated.mean():.4f} of {on.mean():.4f}"


FORWARD = frozenset({"need met early", "stockpiles", "reference prices"})
MONEY = frozenset({"wallets"})


def test_the_slump_is_need_met_early_and_remembered_prices_not_money(runs):
    """What the slump is made of, by intervention: at the festival's close, give the festival run the
    `none` run's need (what was bought ahead: need met early and stockpiles) and remembered prices,
    and at least half of the week's slump goes; give it back the `none` run's wallets instead and
    most of the slump stays (ordinary days are limited by need, not money)."""
    slump = slump_decomposition(SEASON, range(8), [frozenset(), FORWARD, MONEY])
    whole = slump[frozenset()]
    assert np.allclose(whole, metric(runs("single_day", ()), "post_festival_slump"))  # a copy continues the run exactly
    assert lower_bound(0.5 * whole - slump[FORWARD]) > 0, f"{slump[FORWARD].mean():.3f} of {whole.mean():.3f} left"
    assert lower_bound(slump[MONEY] - 0.5 * whole) > 0, f"{slump[MONEY].mean():.3f} of {whole.mean():.3f} left"


def test_deadline_urgency_makes_a_second_peak(runs):
    """Fact 7: a second, smaller peak of orders before the close (closing_peak_ratio > 1), over seeds."""
    assert lower_bound(metric(runs("single_day", ()), "closing_peak_ratio") - 1.0) > 0


def test_the_opening_cohort_waits_and_its_wait_is_reported(runs):
    assert (metric(runs("single_day", ()), "opening_cohort_delay_h") > 1).all()
    assert np.isnan(metric(runs("none", ()), "opening_cohort_delay_h")).all()


def test_offline_venues_gain_on_the_festival_day(offline_runs):
    assert lower_bound(metric(offline_runs("single_day", ()), "offline_festival_day_lift")) > 0


@pytest.fixture(scope="module")
def long_runs():
    """Paired runs to Jan 31, read at Dec 31 and Jan 31 (sim.experiments.long_run)."""
    return {fmt: [settling({"consumers.n": 10000, "festival.format": fmt}, seed, ("2026-12-31", "2027-01-31"))
                  for seed in range(8)] for fmt in ("single_day", "two_waves", "continuous")}


@pytest.mark.parametrize("fmt", ["single_day", "two_waves", "continuous"])
def test_the_festivals_gain_settles_and_does_not_turn_into_a_loss(long_runs, fmt):
    """Fact 8: extra consumption on deals keeps most of the bump, so where the season ends does not
    decide the format's gain: from Dec 31 to Jan 31 it changes by less than 20% either way. With
    ``consumers.expansion = 0`` every format ends January with a loss (2026-11-27, 3,000 consumers,
    4 seeds: -43, -103 and -85 bn for single day, two waves and continuous), and this fails; with
    expansion on durables too (a discounted appliance then left most of its need unmet, bought again
    in the rebound) two waves gained 22% more in January (10,000 consumers, 12 seeds) and this fails."""
    dec, jan = (np.array([r["gmv_incremental"][i] for r in long_runs[fmt]]) for i in (0, 1))
    assert lower_bound(jan) > 0, f"the festival destroys demand by Jan 31: {jan.mean():.1f} bn"
    assert lower_bound(jan - 0.8 * dec) > 0, f"gain {dec.mean():.1f} bn at Dec 31 shrinks to {jan.mean():.1f} bn at Jan 31"
    assert lower_bound(1.2 * dec - jan) > 0, f"gain {dec.mean():.1f} bn at Dec 31 still grows to {jan.mean():.1f} bn at Jan 31"


@pytest.fixture(scope="module")
def switching_runs():
    """Continuous-format runs to Dec 31 with other sellers taking about half of consumers' category
    spending (need doubled so an ordinary day here stays near its fitted volume) and extra consumption
    at the published third (``consumers.expansion`` = 1.0)."""
    overrides = {"consumers.n": 3000, "festival.format": "continuous", "consumers.expansion": 1.0,
                 "rival.shopping_per_week": 12.0, "consumers.need_scale": 2.0}
    return [run_model(overrides, seed=seed).summary for seed in range(6)]


def test_a_festival_draws_buyers_from_other_sellers(switching_runs):
    """Switching: need met here during the festival is not bought on other sellers afterwards, so part
    of the festival's extra units are units they lose (0.34 of them here). With other sellers'
    purchases blind to need and money, switching_share is 0.00 and this fails."""
    switching = np.array([r["switching_share"] for r in switching_runs])
    assert lower_bound(switching) > 0.2, f"other sellers lose {switching.mean():.2f} of the festival's extra units"
    assert all(0.3 < r["rival_share"] < 0.6 for r in switching_runs)
