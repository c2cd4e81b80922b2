"""The consumers' hour: every active consumer's session, from the category they need to what
they bought, as one compiled loop over named steps.

Why compiled: done with numpy, the activity draw and the choice cost about 130 numpy calls per
simulated hour, and with a few hundred sessions an hour (20k consumers) that fixed cost, not the
work per session, dominated the model. No randomness is generated here: the caller draws the
uniforms from the population's numpy Generator (one block per hour, in a fixed layout) and passes
them in, so a seed gives the same results in any process. Compiled once and cached on disk
(``cache=True``: ``__pycache__`` next to this file), so later processes, sweep workers included,
only load the machine code.

A session's story (the last loop of ``_shop_hour``), each step in the module of its mechanism:
category and venue, admission at a full venue, pre-sale (``session``); consideration set,
utility, logit pick (``choice``); the outside option with anticipation and urgency
(``outside``); units and stockpiling, pick-up, need relief and expansion (``purchase``); the
reference price it leaves behind (``reference``). The steps are inlined (``inline="always"``)
and take the tables they read rather than the whole ``offer`` where they can: inlined with a
record of arrays, a step copies it, and the copy's reference counting tripled the serial
kernel's time.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from sim.model.kernels.choice import consideration_set, logit_pick, surplus, utilities
from sim.model.kernels.outside import outside_option
from sim.model.kernels.purchase import need_relief, ordinary_share, pickup_venue, purchase_units
from sim.model.kernels.records import Taste, gather
from sim.model.kernels.reference import seen_discount, updated_reference
from sim.model.kernels import threads
from sim.model.kernels.session import admit, offline_venue, pick_category, takes_presale
from sim.model.kernels.threads import parallel_jit

N_FIXED_UNIFORMS = 8  # per session: category, venue, admission, pre-sale, logit, units, overflow, pick-up
PARALLEL_MIN_SESSIONS = 1000  # smaller hours run serially: waking the threads would cost more than it saves
_PARALLEL = False     # True in the parallel compilation of ``_shop_hour`` (a compile-time constant)


def _shop_hour(idx, online, offer, shoppers, settings, now, uniforms):
    """Every session of the hour, from the active consumers (``idx``, sorted) to their decisions
    (``_kept_sessions``). ``uniforms``: a row per active consumer of category, venue, admission,
    pre-sale, logit, units, overflow and pick-up draws, then the consideration draws."""
    k = idx.shape[0]
    s = uniforms.shape[1] - N_FIXED_UNIFORMS
    f32 = np.float32
    (need, tier, wallets, aware, quality_sensitivity, price_sensitivity, deal_proneness, category, venue, loyal,
     reference) = _shoppers_of_the_hour(idx, online, offer, shoppers, now, uniforms)

    # A slot per active consumer for each field of an outcome (here: arrays out of a tuple lose parallel writes, #7135)
    venue_out, presale_out, brand_out = np.zeros(k, np.int64), np.zeros(k, np.bool_), np.full(k, -1, np.int64)
    units_out, paid_out, depth_out, delay_out = np.zeros(k, np.int64), np.zeros(k, f32), np.zeros(k, f32), np.zeros(k, f32)
    surplus_out, relief_out, pickup_out = np.zeros(k, np.float64), np.zeros(k, f32), np.zeros(k, np.bool_)
    kept, away = np.zeros(k, np.bool_), np.zeros(k, np.int64)  # a session with an outcome; the venue (1..) that turned it away
    # Scratch space for a session's options: one row serially, a row per session in parallel.
    rows = k if _PARALLEL else 1
    option_rows, valid_rows = np.empty((rows, s + 1), dtype=np.int64), np.empty((rows, s + 1), dtype=np.bool_)
    utility_rows, weight_rows = np.empty((rows, s + 1), dtype=np.float32), np.empty((rows, s + 1), dtype=np.float32)
    options, valid, utility, weights = option_rows[0], valid_rows[0], utility_rows[0], weight_rows[0]
    ref_discount = shoppers.ref_discount    # written in the parallel loop: through a tuple's field it would be lost (#7135)

    # A session's story. Sessions are independent (each consumer at most once): in parallel, each writes slot i.
    for i in prange(k):
        c = category[i]
        if c < 0:
            continue
        if _PARALLEL:
            options, valid, utility, weights = option_rows[i], valid_rows[i], utility_rows[i], weight_rows[i]
        shop_venue, turned_away = admit(offer.venue_admission, offer.overflow_online, venue[i], uniforms[i, 2], uniforms[i, 6])
        if turned_away:
            away[i] = venue[i]
        if shop_venue < 0:
            continue
        presale = takes_presale(now, shop_venue, uniforms[i, 3])
        g = offer.price.shape[0] - 1 if presale else shop_venue
        consideration_set(options, valid, offer, g, c, loyal[i], wallets[i], uniforms[i])
        delay = now.expected_delay_h if shop_venue == 0 else f32(0.0)
        taste = Taste(quality_sensitivity[i], price_sensitivity[i], settings.deal_weight * deal_proneness[i],
                      settings.delay_per_hour * delay)
        utilities(utility, options, valid, offer, g, reference[i], loyal[i], taste, settings)
        outside, base_outside = outside_option(need[i, c], aware[i], presale, shop_venue, offer.venue_integration, now, settings)
        slot, inside_logsum = logit_pick(utility, outside, uniforms[i, 4], weights)
        if slot < 0:
            observed = seen_discount(options, valid, offer.discount, g, reference[i])
        else:
            b = options[slot]
            paid, depth = offer.price[g, b], offer.discount[g, b]
            units = purchase_units(paid, depth, offer.storable[c], deal_proneness[i], wallets[i], uniforms[i, 5], settings)
            if shop_venue == 0 and not presale:
                at = pickup_venue(offer.pickup_chance, offer.pickup_cum, tier[i], c, uniforms[i, 7])
                if at > 0:
                    shop_venue, delay = at, f32(0.0)
                    pickup_out[i] = True
            relief = need_relief(units, need[i, c], offer.storable[c], depth, settings)
            if not settings.stockpiling:  # only the need an ordinary hour's purchases would have met
                boost = now.boost_online if shop_venue == 0 or presale else now.boost_offline
                if aware[i]:
                    boost *= 1.0 + now.urgency_activity
                relief *= f32(ordinary_share(utility, options, outside, g, offer, reference[i], taste, settings, boost))
            brand_out[i], units_out[i], paid_out[i], depth_out[i], relief_out[i] = b, units, paid, depth, relief
            observed = depth
        if settings.reference_prices:
            ref_discount[idx[i], c] = updated_reference(reference[i], observed, settings)
        surplus_out[i] = surplus(inside_logsum, base_outside, offer.category_price[c], price_sensitivity[i])
        venue_out[i], presale_out[i], delay_out[i], kept[i] = shop_venue, presale, delay, True
    out = (venue_out, presale_out, brand_out, units_out, paid_out, depth_out, delay_out, surplus_out, relief_out,
           pickup_out, kept, away)
    return _kept_sessions(idx, online, tier, category, venue, out, offer)


@njit(cache=True, inline="always")
def _shoppers_of_the_hour(idx, online, offer, shoppers, now, uniforms):
    """The active consumers' columns, each session's category (-1: no need, no session) and an
    offline shopper's venue. Gathered first, one column per loop: independent reads overlap the
    cache misses, which dominate when the population is much larger than the caches. Inlined, so
    its ``prange`` loops run on the threads in the parallel compilation too."""
    k = idx.shape[0]
    f32 = np.float32
    growth = np.empty(shoppers.need_rate.shape[0], dtype=np.float32)  # a loop: no parallel=... warning
    for c in range(growth.shape[0]):
        growth[c] = shoppers.need_rate[c] * f32(now.hour)
    need = np.empty((k, growth.shape[0]), dtype=np.float32)
    for i in prange(k):
        for c in range(growth.shape[0]):
            need[i, c] = shoppers.need_base[idx[i], c] + growth[c]
    tier, wallets, aware = gather(shoppers.tier, idx), gather(shoppers.wallet, idx), gather(shoppers.aware, idx)
    quality_sensitivity, price_sensitivity = gather(shoppers.quality_sensitivity, idx), gather(shoppers.price_sensitivity, idx)
    deal_proneness = gather(shoppers.deal_proneness, idx)
    category, venue = np.full(k, -1, dtype=np.int64), np.zeros(k, dtype=np.int64)  # category -1: no need, no session
    for i in prange(k):
        category[i] = pick_category(need, i, uniforms[i, 0])
        if not online[i] and category[i] >= 0:
            venue[i] = offline_venue(offer.venue_cum, tier[i], category[i], uniforms[i, 1])
    loyal, reference = np.empty(k, dtype=np.int64), np.empty(k, dtype=np.float32)
    for i in prange(k):
        loyal[i] = shoppers.loyal[idx[i], max(category[i], 0)]
    for i in prange(k):
        reference[i] = shoppers.ref_discount[idx[i], max(category[i], 0)]
    return (need, tier, wallets, aware, quality_sensitivity, price_sensitivity, deal_proneness, category, venue, loyal,
            reference)


@njit(cache=True)
def _kept_sessions(idx, online, tier, category, venue, out, offer):
    """One entry per kept session, in order: consumer, category, venue (0 = online; a picked-up
    order's pick-up venue), pre-sale, brand (-1 = outside option), units, unit price paid,
    discount depth, expected delivery delay, surplus, need relieved, picked up; then visitors
    and visitors turned away per venue, and offline sessions per (tier, category), which the
    venues' visit forecast learns from."""
    venue_out, presale, brand, units, paid, depth, delay, surplus, relief, pickup, kept, away = out
    n_venues = offer.venue_admission.shape[0]
    visits, turned_away = np.zeros(n_venues, dtype=np.int64), np.zeros(n_venues, dtype=np.int64)
    offline_demand = np.zeros((offer.venue_cum.shape[0], offer.cat_brands.shape[0]), dtype=np.int64)
    for i in range(idx.shape[0]):
        if venue[i] > 0:
            visits[venue[i] - 1] += 1
        if away[i] > 0:
            turned_away[away[i] - 1] += 1
        if not online[i] and category[i] >= 0:
            offline_demand[tier[i], category[i]] += 1
    consumer, category_kept = idx.copy(), category.copy()
    n = 0
    for i in range(idx.shape[0]):  # the sessions kept, moved up in order (in place: n <= i)
        if kept[i]:
            consumer[n], category_kept[n], venue_out[n], presale[n] = consumer[i], category_kept[i], venue_out[i], presale[i]
            brand[n], units[n], paid[n], depth[n] = brand[i], units[i], paid[i], depth[i]
            delay[n], surplus[n], relief[n], pickup[n] = delay[i], surplus[i], relief[i], pickup[i]
            n += 1
    return (consumer[:n], category_kept[:n], venue_out[:n], presale[:n], brand[:n], units[:n], paid[:n], depth[:n],
            delay[:n], surplus[:n], relief[:n], pickup[:n], visits, turned_away, offline_demand)


# ``_shop_hour`` compiled serially and with its ``prange`` loops on numba's threads (threads.py);
# ``shop_hour`` picks one per call. (``activate_hour`` stays serial: in parallel it saved nothing
# measurable, even at 1M consumers, where the hour's random draws dominate.)
_shop_hour_serial = njit(cache=True)(_shop_hour)
_shop_hour_parallel = parallel_jit(_shop_hour)


def shop_hour(idx, online, offer, shoppers, settings, now, uniforms):
    """See ``_shop_hour``; on several threads for a large hour (same results: each session is
    decided alone, in its own slot, and the outputs are collected in order)."""
    n_threads = threads.kernel_threads()  # asked every hour, so the other load is measured before the first large hour
    parallel = idx.shape[0] >= PARALLEL_MIN_SESSIONS and n_threads > 1
    kernel = _shop_hour_parallel if parallel else _shop_hour_serial
    return kernel(idx, online, offer, shoppers, settings, now, uniforms)
