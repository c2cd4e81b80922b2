"""What a purchase is: how many units (stockpiling on deals), whether an online order is picked
up at a venue, and how much need it relieves (category expansion; with no forward buying, only
an ordinary hour's share)."""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.model.kernels.choice import reference_gain
from sim.model.kernels.session import pick_venue


@njit(cache=True, inline="always")
def poisson_inverse(lam, u, cap):
    """Poisson(lam) draw by inverting the CDF at the uniform ``u`` (exact), capped at ``cap``.

    The cap changes nothing downstream: a purchase never takes more than ``cap`` extra units.
    """
    k = 0
    p = np.exp(-lam)
    cdf = p
    while cdf <= u and k < cap:
        k += 1
        p *= lam / k
        cdf += p
    return k


@njit(cache=True, inline="always")
def purchase_units(paid, depth, storable, deal_proneness, wallet, u, settings):
    """Units bought: one, or on a deep enough deal extra units stockpiled (Poisson in the deal's
    depth, the category's storability and the shopper's deal proneness), as far as the wallet allows."""
    units = 1
    if settings.stockpiling and settings.stockpile_rate > 0 and depth >= settings.stockpile_min_discount:
        lam = settings.stockpile_rate * storable * deal_proneness * depth
        extra = poisson_inverse(lam, u, settings.max_units - 1)
        affordable = np.floor(wallet / max(paid, np.float32(1e-9)))
        units = int(min(min(1 + extra, settings.max_units), affordable))
    return units


@njit(cache=True, inline="always")
def pickup_venue(pickup_chance, pickup_cum, tier, category, u):
    """The venue (1..) where an online order in a category an integrated venue nearby sells is
    picked up, or 0 (delivered)."""
    chance = pickup_chance[tier, category]
    if u < chance:
        return pick_venue(pickup_cum[tier, category], u / chance) + 1
    return 0


@njit(cache=True, inline="always")
def need_relief(units, need, storable, depth, settings):
    """Need relieved by ``units``: part of every unit of a good kept at home bought on a deal is
    extra consumption (category expansion; households use more of what they hold, so stockpiled
    units are partly consumed extra too), in proportion to how storable the category is: a
    discounted appliance meets the need for an appliance. What is bought beyond today's need is
    stored for later. Without stockpiling (forward buying) nothing is stored: see ``ordinary_share``."""
    f32 = np.float32
    relief = f32(units) * (f32(1.0) - min(settings.expansion_cap, settings.expansion * f32(storable) * depth))
    if not settings.stockpiling:
        relief = min(relief, max(need, f32(0.0)))
    return relief


@njit(cache=True, inline="always")
def ordinary_share(utility, options, outside, group, offer, ref, taste, settings, sessions_boost):
    """An ordinary hour's chance to buy over this hour's, at most 1: P(buy at the brands'
    everyday prices) / P(buy at this session's prices) / the hour's extra sessions.

    Without forward buying a festival does not move a household's consumption schedule: its
    purchases relieve, in expectation, only the need that an ordinary hour's purchases would
    have relieved; the rest of what the deals and the extra sessions sell is extra use.
    """
    ps, deal_appeal = taste.price, taste.deal_appeal
    top = outside
    for j in range(utility.shape[0]):
        top = max(top, utility[j])
    exp_outside = np.exp(outside - top)
    deal = exp_outside - exp_outside
    regular = deal
    for j in range(utility.shape[0]):
        if utility[j] == -np.inf:
            continue
        b = options[j]
        d = offer.discount[group, b]
        d_regular = min(offer.regular_discount[b], d)
        v = utility[j] - ps * np.log((np.float32(1.0) - d_regular) / (np.float32(1.0) - d)) - (d - d_regular) * deal_appeal
        if settings.reference_prices:
            v += reference_gain(d_regular, ref, settings) - reference_gain(d, ref, settings)
        deal += np.exp(utility[j] - top)
        regular += np.exp(v - top)
    return min(1.0, (regular / (regular + exp_outside)) / (deal / (deal + exp_outside)) / sessions_boost)
