"""The choice among brands: the consideration set, each option's utility, and the logit pick.

Reference prices enter here: a discount is judged against the one a consumer remembers in the
category, gains and (heavier) losses (``reference_gain``).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def consideration_set(options, valid, offer, group, category, loyal_brand, wallet, u):
    """``s`` draws by inverse CDF on the group's consideration weights (the last ``s`` of the
    session's uniforms ``u``), plus the loyal brand, into ``options``; ``valid`` drops padding,
    duplicates, unavailable and unaffordable options."""
    s = options.shape[0] - 1
    first = u.shape[0] - s
    cat_brands = offer.cat_brands
    slots = cat_brands.shape[1]
    row = group * cat_brands.shape[0] + category
    for j in range(s):
        pos = 0
        for m in range(slots - 1):
            if offer.cum_weights[row, m] < u[first + j]:
                pos += 1
        options[j] = cat_brands[category, pos]
    options[s] = loyal_brand
    for j in range(s + 1):
        ok = options[j] >= 0
        for m in range(j):
            if options[j] == options[m]:
                ok = False
        if ok:
            b = options[j]
            ok = offer.available[group, b] and offer.price[group, b] <= wallet
        valid[j] = ok


@njit(cache=True, inline="always")
def reference_gain(discount, ref, settings):
    """Utility of a discount against the remembered one: gains and (heavier) losses."""
    gain = discount - ref
    return gain * (settings.loss_weight if gain < 0 else settings.gain_weight)


@njit(cache=True, inline="always")
def utilities(utility, options, valid, offer, group, ref, loyal_brand, taste, settings):
    """Each option's utility (-inf if not valid): quality, service and rating, price, the discount
    against the remembered one (a brand's reference price is its regular price less that
    discount), loyalty, deal appeal, expected delivery delay."""
    for j in range(options.shape[0]):
        if not valid[j]:
            utility[j] = -np.inf
            continue
        b = options[j]
        v = offer.quality[b] * taste.quality
        v += offer.appeal[b]
        v -= offer.log_price_index[group, b] * taste.price
        if settings.reference_prices:
            v += reference_gain(offer.discount[group, b], ref, settings)
        if b == loyal_brand:
            v += settings.loyalty_bonus
        v += offer.discount[group, b] * taste.deal_appeal
        v -= taste.delay_cost
        utility[j] = v


@njit(cache=True, inline="always")
def logit_pick(utility, outside, u, weights):
    """Multinomial logit with an outside option, decided by one uniform ``u`` in [0, 1).

    ``utility`` holds the inside options (-inf = unavailable); ``weights`` is scratch space
    of the same size. The outside option comes first on the unit interval, then each
    inside option in turn (inverse CDF). Returns the chosen slot (-1 = outside option) and
    the log-sum of the inside options' exponentiated utilities (-inf if none is available),
    from which consumer surplus is measured against any outside option.
    """
    width = utility.shape[0]
    top = outside
    for j in range(width):
        if utility[j] > top:
            top = utility[j]
    exp_outside = np.exp(outside - top)
    inside = exp_outside - exp_outside  # a zero of the utilities' type
    for j in range(width):
        weights[j] = np.exp(utility[j] - top)
        inside += weights[j]
    total = exp_outside + inside
    inside_logsum = np.log(inside) + top
    r = u * total
    if r < exp_outside or inside == 0:
        return -1, inside_logsum
    left = r - exp_outside
    slot = -1
    cum = inside - inside
    for j in range(width):
        if weights[j] > 0:  # an unavailable option (-inf) is never chosen
            slot = j
            cum += weights[j]
            if cum >= left:
                break
    return slot, inside_logsum  # past the running sum by rounding: the last available option


@njit(cache=True, inline="always")
def surplus(inside_logsum, base_outside, category_price, price_sensitivity):
    """Money-metric consumer surplus of a session (yuan): the logsum gain over buying nothing."""
    gain = inside_logsum - base_outside  # log(e^base + e^inside) - base, computed stably
    return (max(gain, np.float32(0.0)) + np.log1p(np.exp(-abs(gain)))) * category_price / price_sensitivity
