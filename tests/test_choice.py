"""The multinomial logit with outside option: shares match the formula."""

import numpy as np
import pytest

from sim.agents.consumers import logit_choice


def test_choice_shares_match_the_logit_formula():
    rng = np.random.default_rng(7)
    utility = np.array([1.0, 0.2, -0.5, -np.inf])
    outside = 0.3
    n = 400_000
    bought, slot, logsum = logit_choice(np.tile(utility, (n, 1)), np.full(n, outside), rng.random(n))
    expected = np.exp(np.r_[outside, utility[:3]])
    expected /= expected.sum()
    observed = np.r_[(~bought).mean(), [(bought & (slot == j)).mean() for j in range(3)]]
    assert observed == pytest.approx(expected, abs=0.003)
    assert not (bought & (slot == 3)).any()  # an unavailable option is never chosen
    assert logsum[0] == pytest.approx(np.log(np.exp(np.r_[outside, utility[:3]]).sum()))


def test_choice_is_stable_for_large_utilities_and_all_unavailable_rows():
    utility = np.array([[800.0, 799.0], [-np.inf, -np.inf]])
    bought, slot, logsum = logit_choice(utility, np.array([0.0, 5.0]), np.array([0.5, 0.99]))
    assert bought[0] and slot[0] == 0 and np.isfinite(logsum).all()
    assert not bought[1] and logsum[1] == pytest.approx(5.0)


def test_a_higher_outside_utility_lowers_purchase_probability():
    rng = np.random.default_rng(1)
    n = 50_000
    u = np.zeros((n, 3))
    low, _, _ = logit_choice(u, np.full(n, -1.0), rng.random(n))
    high, _, _ = logit_choice(u, np.full(n, 2.0), rng.random(n))
    assert low.mean() == pytest.approx(3 / (3 + np.exp(-1.0)), abs=0.01)
    assert high.mean() == pytest.approx(3 / (3 + np.exp(2.0)), abs=0.01)
