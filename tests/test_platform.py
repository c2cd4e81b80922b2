"""Each platform policy's exposure allocation."""

import numpy as np
import pytest

from sim.model.agents.platform import (
    SMALL, gmv_rank_weights, normalise_within, quality_feedback_weights, reserve_for_small,
)
from sim.model.catalog import CATEGORIES
from sim.model.double11 import Double11Model
from sim.model.params import build_params


class Book:
    def __init__(self, **cols):
        self.__dict__.update({k: np.asarray(v, dtype=float) for k, v in cols.items()})
        self.n = len(next(iter(cols.values())))


def test_gmv_rank_is_more_than_proportional_and_counts_ads():
    book = Book(recent_gmv=[1, 2, 4], ad_spend=[0, 0, 0])
    w = gmv_rank_weights(book, ad_weight=3.0, exponent=1.5)
    assert w[2] / w[1] == pytest.approx(2**1.5) and w[1] / w[0] == pytest.approx(2**1.5)
    with_ads = gmv_rank_weights(Book(recent_gmv=[1, 2, 4], ad_spend=[1, 0, 0]), ad_weight=3.0, exponent=1.0)
    assert with_ads[0] / with_ads[2] == pytest.approx(1.0)


def test_quality_feedback_follows_the_experience_score():
    book = Book(rating=[0.9, 0.5, 0.2], return_rate=[0.02, 0.1, 0.4], service=[0.9, 0.6, 0.3])
    w = quality_feedback_weights(book, strength=6.0)
    assert w[0] > w[1] > w[2] and w.max() == pytest.approx(1.0)


def test_a_category_whose_brands_have_all_left_gets_no_exposure_and_no_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        share = normalise_within(np.array([2.0, 6.0, 0.0, 0.0]), np.array([0, 0, 1, 1]), 2)
    assert share.tolist() == [0.25, 0.75, 0.0, 0.0]


def test_small_brand_reserve_is_a_slot_on_top_of_the_ranking():
    category = np.array([0, 0, 0, 1, 1])
    archetype = np.array([0, SMALL, 2, 0, SMALL])
    weights = np.array([8.0, 1.0, 1.0, 3.0, 1.0])
    out = reserve_for_small(weights, category, archetype, reserve=0.4)
    share = normalise_within(out, category, 2)
    assert share[1] == pytest.approx(0.4 + 0.6 * 0.1) and share[4] == pytest.approx(0.4 + 0.6 * 0.25)
    assert share[0] / share[2] == pytest.approx(8.0)   # the others keep their relative order
    assert np.bincount(category, share) == pytest.approx([1.0, 1.0])
    # where small brands already lead the ranking, the slot still adds to their share
    leading = reserve_for_small(np.array([1.0, 8.0, 1.0, 3.0, 1.0]), category, archetype, reserve=0.05)
    assert normalise_within(leading, category, 2)[1] == pytest.approx(0.05 + 0.95 * 0.8)
    # nothing to reserve for (no small brand, or no other brand): unchanged
    assert reserve_for_small(weights, category, np.zeros(5, dtype=int), reserve=0.4) == pytest.approx(weights)
    assert reserve_for_small(weights[3:], category[3:] - 1, np.array([SMALL, SMALL]), 0.4) == pytest.approx(weights[3:])


def platform_after_a_week(policy: str):
    model = Double11Model(build_params({"consumers.n": 2000, "platform.policy": policy, "season.warmup_days": 7}), seed=3)
    for _ in range(24 * 7):
        model.step()
    model.platform.step()
    return model


@pytest.mark.parametrize("policy", ["gmv_rank", "quality_feedback", "small_brand_boost", "gmv_rank+quality_feedback+subsidy"])
def test_exposure_is_a_distribution_within_each_category(policy):
    model = platform_after_a_week(policy)
    book, exposure = model.brand_book, model.platform.exposure
    assert (exposure > 0).all()
    assert np.bincount(book.category, exposure) == pytest.approx(np.ones(len(CATEGORIES)))


def test_quality_feedback_shows_good_brands_more_than_gmv_rank_does():
    gmv = platform_after_a_week("gmv_rank")
    qf = platform_after_a_week("quality_feedback")
    book = gmv.brand_book
    low = book.archetype == 2
    assert qf.platform.exposure[low].sum() < gmv.platform.exposure[low].sum()


def test_subsidy_applies_only_inside_windows():
    model = Double11Model(build_params({"consumers.n": 500, "platform.policy": "subsidy", "season.warmup_days": 0}), seed=1)
    cal = model.calendar
    model.hour = int(np.flatnonzero(cal.window == -1)[0])
    model.platform.step()
    assert model.platform.subsidy_rate == 0.0
    model.hour = int(np.flatnonzero(cal.window >= 0)[0])
    model.platform.step()
    assert model.platform.subsidy_rate == pytest.approx(model.params.platform.subsidy_rate)


def ad_spend(policy: str, **overrides) -> list[dict[str, float]]:
    from sim.model.runs import run_model

    return [run_model({"consumers.n": 3000, "platform.policy": policy, **overrides}, seed=s, counterfactual=False).summary
            for s in range(2)]


def test_brands_buy_ads_only_where_the_ranking_sells_exposure_for_them():
    """Ads earn exposure where the ranking counts them: under gmv_rank brands spend about the published
    2.5% of GMV on them (``platform.ad_weight`` is fitted to it), under quality_feedback the spend
    withers, and with it the platform's ad revenue. With ads weighing nothing in gmv_rank they wither
    there too."""
    gmv, qf = ad_spend("gmv_rank"), ad_spend("quality_feedback")
    unweighted = ad_spend("gmv_rank", **{"platform.ad_weight": 0.0})
    share = [np.array([r["ad_spend_share"] for r in runs]) for runs in (gmv, qf, unweighted)]
    assert ((share[0] > 0.015) & (share[0] < 0.04)).all(), share[0]
    assert (share[1] < 0.2 * share[0]).all() and (share[2] < 0.2 * share[0]).all(), share
    for r in gmv + qf:  # the platform's net cost counts what brands pay it for ads
        assert r["platform_net_cost"] == pytest.approx(r["platform_subsidy_cost"] - r["platform_commission"]
                                                       - r["platform_ad_revenue"])
        assert r["platform_ad_revenue"] == pytest.approx(r["ad_spend_share"] * r["gmv_total"])
