"""The multinomial logit with outside option (the compiled kernel's ``logit_pick``): shares match the formula."""

import numpy as np
import pytest
from numba import njit

from sim.model.kernels.choice import logit_pick
from sim.model.kernels.purchase import poisson_inverse


@njit
def _picks(utility, outside, uniforms):
    """``logit_pick`` for each row of ``utility`` (and each outside utility): slot (-1 = outside) and the
    inside options' log-sum."""
    n = uniforms.shape[0]
    slot = np.empty(n, dtype=np.int64)
    logsum = np.empty(n)
    for i in range(n):
        slot[i], logsum[i] = logit_pick(utility[i], outside[i], uniforms[i], np.empty_like(utility[i]))
    return slot, logsum


def logit_choice(utility, outside, uniform):
    """Whether an inside option was chosen, which one, and the inside log-sum, per row (float32 utilities, as in the model)."""
    slot, logsum = _picks(np.asarray(utility, dtype=np.float32), np.asarray(outside, dtype=np.float32), uniform)
    return slot >= 0, slot, logsum


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
    assert logsum[0] == pytest.approx(np.log(np.exp(utility[:3]).sum()))  # the inside options only


def test_choice_is_stable_for_large_utilities_and_all_unavailable_rows():
    utility = np.array([[800.0, 799.0], [-np.inf, -np.inf]])
    bought, slot, logsum = logit_choice(utility, np.array([0.0, 5.0]), np.array([0.5, 0.99]))
    assert bought[0] and slot[0] == 0 and logsum[0] == pytest.approx(800.0 + np.log1p(np.exp(-1.0)))
    assert not bought[1] and logsum[1] == -np.inf  # nothing on show


def test_a_higher_outside_utility_lowers_purchase_probability():
    rng = np.random.default_rng(1)
    n = 50_000
    u = np.zeros((n, 3))
    low, _, _ = logit_choice(u, np.full(n, -1.0), rng.random(n))
    high, _, _ = logit_choice(u, np.full(n, 2.0), rng.random(n))
    assert low.mean() == pytest.approx(3 / (3 + np.exp(-1.0)), abs=0.01)
    assert high.mean() == pytest.approx(3 / (3 + np.exp(2.0)), abs=0.01)


def test_an_unavailable_last_option_is_never_chosen_even_at_the_top_of_the_unit_interval():
    utility = np.array([[0.0, 0.0, -np.inf]] * 3)
    bought, slot, _ = logit_choice(utility, np.zeros(3), np.array([0.999999, 1 - 2**-53, 0.9]))
    assert bought.all() and (slot == 1).all()


@pytest.mark.parametrize("lam", [0.05, 0.4, 1.2])
def test_units_draw_inverts_the_poisson_cdf(lam):
    from math import exp, factorial
    rng = np.random.default_rng(3)
    draws = np.array([poisson_inverse(lam, u, 5) for u in rng.random(200_000)])
    for k in range(4):
        assert (draws == k).mean() == pytest.approx(exp(-lam) * lam**k / factorial(k), abs=0.004)
    assert draws.max() <= 5  # capped: 1 + extra units never exceed consumers.max_units anyway
