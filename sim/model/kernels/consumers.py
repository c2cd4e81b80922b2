"""The consumers' hourly decisions as compiled (numba) loops: one call each per hour.

Why this exists: done with numpy, the activity draw and the choice (category, venue,
consideration set, utility, logit, units, reference price) cost about 130 numpy calls per
simulated hour. With a few hundred sessions an hour (20k consumers) that fixed cost, not
the work per session, dominated the model. Here ``activate_hour`` and ``shop_hour`` loop
over the hour's consumers and decide each one plainly, as described in docs/model.md.

No randomness is generated here: the caller draws the uniforms from the consumer
population's numpy Generator (one block per hour, in a fixed layout) and passes them in,
so a seed gives the same results in any process. Compiled once and cached on disk
(``cache=True``: ``__pycache__`` next to this file), so later processes, sweep workers
included, only load the machine code.

Arithmetic keeps the numpy version's types: float32 consumer columns, utilities and
reference prices, with the model parameters passed as float32 scalars by the caller.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import types
from typing import NamedTuple

import numba
import numpy as np
from numba import njit, prange


class ShopperColumns(NamedTuple):
    """The consumer columns the choice reads; only ``ref_discount`` is updated (in place)."""

    tier: np.ndarray                  # int8 (n,)
    loyal: np.ndarray                 # int16 (n, categories), -1 = none
    ref_discount: np.ndarray          # float32 (n, categories): remembered discount off a brand's regular price
    wallet: np.ndarray                # float32 (n,)
    need_base: np.ndarray             # float32 (n, categories)
    need_rate: np.ndarray             # float32 (categories,)
    quality_sensitivity: np.ndarray   # float32 (n,)
    price_sensitivity: np.ndarray     # float32 (n,)
    deal_proneness: np.ndarray        # float32 (n,)
    aware: np.ndarray                 # bool (n,)


class OfferTables(NamedTuple):
    """The hour's market as (venue group, brand) tables; groups: 0 online, 1.. venues, last pre-sale."""

    price: np.ndarray             # float32 (groups, brands), yuan
    discount: np.ndarray          # float32 (groups, brands), depth off list price
    log_price_index: np.ndarray   # float32 (groups, brands), log(price / category price)
    available: np.ndarray         # bool (groups, brands)
    appeal: np.ndarray            # float32 (brands,): service and rating part of utility
    quality: np.ndarray           # float32 (brands,)
    regular_discount: np.ndarray  # float32 (brands,): each brand's everyday discount, without the festival's
    cum_weights: np.ndarray       # float32 (groups x categories, slots): consideration weights
    cat_brands: np.ndarray        # int64 (categories, slots), -1 padded
    venue_cum: np.ndarray         # float64 (tiers, categories, venues): where offline shoppers go
    venue_admission: np.ndarray   # float64 (venues,): chance a visitor is let in this hour (a full venue turns some away)
    overflow_online: np.ndarray   # float64 (venues,): chance a turned-away visitor orders online
    venue_integration: np.ndarray # float64 (venues,): share of festival prices a venue honours
    pickup_cum: np.ndarray        # float64 (tiers, categories, venues): pick-up venues for online orders
    pickup_chance: np.ndarray     # float64 (tiers, categories): chance an online order is picked up at one
    storable: np.ndarray          # float64 (categories,)
    category_price: np.ndarray    # float64 (categories,)


class ChoiceSettings(NamedTuple):
    """Behavioural parameters of the choice, as float32 (and a few counts and switches)."""

    gain_weight: np.float32
    loss_weight: np.float32
    loyalty_bonus: np.float32
    deal_weight: np.float32
    delay_per_hour: np.float32
    outside_utility: np.float32
    need_weight: np.float32
    need_cap: np.float32
    anticipation_need: np.float32
    reference_smoothing: np.float32
    reference_recovery: np.float32
    stockpile_rate: float
    stockpile_min_discount: np.float32
    max_units: int
    expansion: np.float32
    expansion_cap: np.float32
    stockpiling: bool
    reference_prices: bool


class HourConditions(NamedTuple):
    """What is special about this hour."""

    hour: int
    presale_open: bool
    presale_reach: float
    expected_delay_h: np.float32
    anticipation: np.float32     # pull of waiting for the coming window, at zero need (0 if none)
    urgency: np.float32          # pull to buy before the open window closes (0 if none)
    urgency_activity: float      # extra session rate of aware consumers near a close
    boost_online: float          # online session rate relative to an ordinary hour's
    boost_offline: float         # offline session rate relative to an ordinary hour's


@njit(cache=True)
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


@njit(cache=True)
def _gain(discount, ref, settings):
    """Utility of a discount against the remembered one: gains and (heavier) losses."""
    gain = discount - ref
    return gain * (settings.loss_weight if gain < 0 else settings.gain_weight)


@njit(cache=True)
def ordinary_purchase_share(utility, options, outside, g, offer, ps, ref, deal_appeal, settings, sessions_boost):
    """An ordinary hour's chance to buy over this hour's, at most 1: P(buy at the brands'
    everyday prices) / P(buy at this session's prices) / the hour's extra sessions.

    Without forward buying a festival does not move a household's consumption schedule: its
    purchases relieve, in expectation, only the need that an ordinary hour's purchases would
    have relieved; the rest of what the deals and the extra sessions sell is extra use.
    """
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
        d = offer.discount[g, b]
        d_regular = min(offer.regular_discount[b], d)
        v = utility[j] - ps * np.log((np.float32(1.0) - d_regular) / (np.float32(1.0) - d)) - (d - d_regular) * deal_appeal
        if settings.reference_prices:
            v += _gain(d_regular, ref, settings) - _gain(d, ref, settings)
        deal += np.exp(utility[j] - top)
        regular += np.exp(v - top)
    return min(1.0, (regular / (regular + exp_outside)) / (deal / (deal + exp_outside)) / sessions_boost)


@njit(cache=True)
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


@njit(cache=True)
def activate_hour(candidates, uniforms, lam_on, lam_off, lam_max, urgency_activity, activity_floor,
                  online_preference, satisfaction, churned_until, aware,
                  wallet, weekly_budget, last_hour, hour, savings_cap_weeks, hours_per_week):
    """Thinning of the hour's candidates (drawn at rate ``lam_max``) to the active consumers.

    A candidate is kept with probability rate / lam_max, where the rate mixes the online
    and offline session rates by the consumer's online preference and scales with
    satisfaction (``activity_floor`` + satisfaction) and, for aware consumers near a
    window's close, with ``1 + urgency_activity``; churned consumers (until their
    ``churned_until`` hour) never shop. A kept consumer shops online with probability
    (online part of the rate) / (rate). The savings of the active consumers are brought up
    to this hour (in place). Returns the active consumers and whether each shops online.
    """
    k = candidates.shape[0]
    active = np.empty(k, dtype=np.int64)
    online = np.empty(k, dtype=np.bool_)
    f32 = np.float32
    n = 0
    # Columns gathered first, one per loop, so the cache misses overlap (see shop_hour).
    preference = _gather(online_preference, candidates)
    content = _gather(satisfaction, candidates)
    aware_now = _gather(aware, candidates)
    back = _gather(churned_until, candidates)
    for i in range(k):
        consumer = candidates[i]
        pref = preference[i]
        factor = activity_floor + content[i]
        if aware_now[i]:
            factor *= f32(1.0) + urgency_activity
        on = pref * lam_on
        base = on + (f32(1.0) - pref) * lam_off
        if not (uniforms[i, 0] * lam_max < base * factor) or back[i] > hour:
            continue
        active[n] = consumer
        online[n] = uniforms[i, 1] * base < on
        budget = weekly_budget[consumer]
        elapsed = f32(hour - last_hour[consumer])
        cap = budget * savings_cap_weeks
        wallet[consumer] = min(cap, max(wallet[consumer], f32(0.0)) + budget * elapsed / hours_per_week)
        last_hour[consumer] = hour
        n += 1
    return active[:n], online[:n]


@njit(cache=True)
def _pick_venue(cum, u):
    """Index of the venue that the uniform ``u`` picks on one row of cumulative weights."""
    n_venues = cum.shape[0]
    target = u * cum[n_venues - 1]
    pick = 0
    for v in range(n_venues):
        if cum[v] < target:
            pick += 1
    return min(pick, n_venues - 1)


@njit(cache=True)
def _gather(column, idx):
    """``column[idx]`` as a plain loop (no temporary index checks; the reads overlap)."""
    out = np.empty(idx.shape[0], dtype=column.dtype)
    for i in range(idx.shape[0]):
        out[i] = column[idx[i]]
    return out


N_FIXED_UNIFORMS = 8  # per session: category, venue, admission, pre-sale, logit, units, overflow, pick-up
_PARALLEL = False     # True in the parallel compilation of ``_shop_hour`` (a compile-time constant)


def _shop_hour(idx, online, offer, shoppers, settings, now, uniforms):
    """Every session of the hour, from the active consumers (``idx``, sorted) to their decisions.

    ``offer`` (OfferTables), ``shoppers`` (ShopperColumns), ``settings`` (ChoiceSettings)
    and ``now`` (HourConditions) are named groups, so no call depends on argument order.
    ``uniforms`` has one row per active consumer: category, venue, admission, pre-sale,
    logit, units, overflow, pick-up, then the consideration draws.

    Returns, one entry per session (consumers with some need who were not turned away at
    a full venue, or were and went online): consumer, category, venue (0 = online),
    pre-sale, brand (-1 = outside option), units, unit price paid, discount depth, expected
    delivery delay, surplus, need relieved, picked up at a venue (an online order); visitors and visitors turned away, per venue;
    offline sessions per (tier, category), which the venues' visit forecast learns from.
    """
    k = idx.shape[0]
    cat_brands = offer.cat_brands
    n_categories = cat_brands.shape[0]
    slots = cat_brands.shape[1]
    n_venues = offer.venue_admission.shape[0]
    presale_group = offer.price.shape[0] - 1
    s = uniforms.shape[1] - N_FIXED_UNIFORMS
    f32 = np.float32
    growth = np.empty(n_categories, dtype=np.float32)  # a loop, not an array expression: no parallel=... warning
    for c in range(n_categories):
        growth[c] = shoppers.need_rate[c] * f32(now.hour)

    # The active consumers' columns, gathered first, one column per loop: independent reads
    # let the CPU overlap the cache misses, which dominate when the population is much
    # larger than the caches (the decision loops below would wait for each in turn).
    need = np.empty((k, n_categories), dtype=np.float32)
    for i in prange(k):
        for c in range(n_categories):
            need[i, c] = shoppers.need_base[idx[i], c] + growth[c]
    tier = _gather(shoppers.tier, idx)
    wallets = _gather(shoppers.wallet, idx)
    quality_sensitivity = _gather(shoppers.quality_sensitivity, idx)
    price_sensitivity = _gather(shoppers.price_sensitivity, idx)
    deal_proneness = _gather(shoppers.deal_proneness, idx)
    aware = _gather(shoppers.aware, idx)

    # Pass 1: category in proportion to positive need, then the venue (offline shoppers:
    # an open venue of their tier carrying the category, online if there is none).
    category = np.full(k, -1, dtype=np.int64)   # -1: no need, no session
    venue = np.zeros(k, dtype=np.int64)
    for i in prange(k):
        total = f32(0.0)
        for c in range(n_categories):
            total += max(need[i, c], f32(0.0))
        if not total > 0:
            continue
        u = uniforms[i, 0] * total
        running = f32(0.0)
        c_pick = 0
        for c in range(n_categories - 1):  # inverse CDF over the running sums of positive need
            running += max(need[i, c], f32(0.0))
            if running < u:
                c_pick = c + 1
        category[i] = c_pick
        if not online[i]:
            cum = offer.venue_cum[tier[i], c_pick]
            if cum[n_venues - 1] > 0:
                venue[i] = _pick_venue(cum, uniforms[i, 1]) + 1
    visits = np.zeros(n_venues, dtype=np.int64)
    offline_demand = np.zeros((offer.venue_cum.shape[0], n_categories), dtype=np.int64)
    for i in range(k):
        if venue[i] > 0:
            visits[venue[i] - 1] += 1
        if not online[i] and category[i] >= 0:
            offline_demand[tier[i], category[i]] += 1

    loyal = np.empty(k, dtype=np.int64)
    reference = np.empty(k, dtype=np.float32)
    for i in prange(k):
        loyal[i] = shoppers.loyal[idx[i], max(category[i], 0)]
    for i in prange(k):
        reference[i] = shoppers.ref_discount[idx[i], max(category[i], 0)]

    consumer_out = np.empty(k, dtype=np.int64)
    category_out = np.empty(k, dtype=np.int64)
    venue_out = np.empty(k, dtype=np.int64)
    presale_out = np.zeros(k, dtype=np.bool_)
    brand_out = np.full(k, -1, dtype=np.int64)
    units_out = np.zeros(k, dtype=np.int64)
    paid_out = np.zeros(k, dtype=np.float32)
    depth_out = np.zeros(k, dtype=np.float32)
    delay_out = np.zeros(k, dtype=np.float32)
    surplus_out = np.zeros(k, dtype=np.float64)
    relief_out = np.zeros(k, dtype=np.float32)
    pickup_out = np.zeros(k, dtype=np.bool_)
    kept = np.zeros(k, dtype=np.bool_)      # a session with an outcome (the serial loop's order is kept below)
    away = np.zeros(k, dtype=np.int64)      # the venue (1..) that turned this visitor away, 0 = none
    # Scratch space for a session's options: one row, reused, serially; a row per session in
    # parallel, allocated here once (an allocation per session cost more than the threads saved).
    rows = k if _PARALLEL else 1
    option_rows = np.empty((rows, s + 1), dtype=np.int64)
    valid_rows = np.empty((rows, s + 1), dtype=np.bool_)
    utility_rows = np.empty((rows, s + 1), dtype=np.float32)
    weight_rows = np.empty((rows, s + 1), dtype=np.float32)
    options, valid, utility, weights = option_rows[0], valid_rows[0], utility_rows[0], weight_rows[0]
    ref_discount = shoppers.ref_discount    # written in the parallel loop: through a tuple's field it would be lost (numba #7135)

    # Pass 2: admission, pre-sale, consideration set, logit choice, units, reference price.
    # Sessions are independent (each consumer at most once), so they run in parallel: each
    # writes its own slot i.
    for i in prange(k):
        c = category[i]
        if c < 0:
            continue
        if _PARALLEL:
            options, valid, utility, weights = option_rows[i], valid_rows[i], utility_rows[i], weight_rows[i]
        n = i  # this session's slot in the outputs (the kept ones are collected in order below)
        consumer = idx[i]
        shop_venue = venue[i]
        if shop_venue > 0 and not uniforms[i, 2] < offer.venue_admission[shop_venue - 1]:
            away[i] = shop_venue
            if not uniforms[i, 6] < offer.overflow_online[shop_venue - 1]:
                continue
            shop_venue = 0  # a full integrated venue sends its visitor online
        presale = now.presale_open and shop_venue == 0 and uniforms[i, 3] < now.presale_reach
        g = presale_group if presale else shop_venue
        loyal_brand = loyal[i]

        # Consideration set: s draws by inverse CDF on the group's weights, plus the loyal
        # brand; padding, duplicates, unavailable and unaffordable options are dropped.
        row = g * n_categories + c
        wallet = wallets[i]
        for j in range(s):
            pos = 0
            for m in range(slots - 1):
                if offer.cum_weights[row, m] < uniforms[i, N_FIXED_UNIFORMS + j]:
                    pos += 1
            options[j] = cat_brands[c, pos]
        options[s] = loyal_brand
        for j in range(s + 1):
            ok = options[j] >= 0
            for m in range(j):
                if options[j] == options[m]:
                    ok = False
            if ok:
                b = options[j]
                ok = offer.available[g, b] and offer.price[g, b] <= wallet
            valid[j] = ok

        # Utility: quality, service and rating, price, gain/loss of the discount against the
        # discount this consumer remembers in the category (a brand's reference price is its
        # regular price less that discount), loyalty, deal appeal, expected delivery delay.
        ref = reference[i]
        delay = now.expected_delay_h if shop_venue == 0 else f32(0.0)
        qs = quality_sensitivity[i]
        ps = price_sensitivity[i]
        dp = deal_proneness[i]
        deal_appeal = settings.deal_weight * dp
        delay_cost = settings.delay_per_hour * delay
        for j in range(s + 1):
            if not valid[j]:
                utility[j] = -np.inf
                continue
            b = options[j]
            v = offer.quality[b] * qs
            v += offer.appeal[b]
            v -= offer.log_price_index[g, b] * ps
            if settings.reference_prices:
                v += _gain(offer.discount[g, b], ref, settings)
            if b == loyal_brand:
                v += settings.loyalty_bonus
            v += offer.discount[g, b] * deal_appeal
            v -= delay_cost
            utility[j] = v

        # Outside option: waiting is attractive while little of a unit is needed (log need,
        # 0 at one full unit). Aware consumers whose need is not urgent also wait for a
        # coming window; as an open window closes, waiting loses its appeal (urgency).
        need_c = min(max(need[i, c], f32(1e-3)), settings.need_cap)
        outside = settings.outside_utility - settings.need_weight * np.log(need_c)
        base_outside = outside  # surplus is measured against buying nothing: waiting and urgency are not options on show
        if aware[i] and not presale:
            slack = f32(1.0) - need_c / settings.anticipation_need
            if slack > 0:  # waiting pays where the festival's prices will be: online, integrated venues
                reach = f32(1.0) if shop_venue == 0 else f32(offer.venue_integration[shop_venue - 1])
                outside += now.anticipation * slack * reach
            if shop_venue == 0:  # the online festival offer is the one that ends
                outside -= now.urgency

        slot, inside_logsum = logit_pick(utility, outside, uniforms[i, 4], weights)

        if slot >= 0:
            b = options[slot]
            paid, depth = offer.price[g, b], offer.discount[g, b]
            units = 1
            if settings.stockpile_rate > 0 and depth >= settings.stockpile_min_discount:
                # stockpiling on a deal, as far as the wallet allows
                lam = settings.stockpile_rate * offer.storable[c] * dp * depth
                extra = poisson_inverse(lam, uniforms[i, 5], settings.max_units - 1)
                affordable = np.floor(wallet / max(paid, f32(1e-9)))
                units = int(min(min(1 + extra, settings.max_units), affordable))
            # Online orders in a category an integrated venue nearby sells: some are picked up there.
            chance = offer.pickup_chance[tier[i], c]
            if shop_venue == 0 and not presale and uniforms[i, 7] < chance:
                shop_venue = _pick_venue(offer.pickup_cum[tier[i], c], uniforms[i, 7] / chance) + 1
                pickup_out[n] = True
                delay = f32(0.0)
            # Need relieved: part of every unit of a good kept at home bought on a deal is extra
            # consumption (category expansion; households use more of what they hold, so stockpiled
            # units are partly consumed extra too), in proportion to how storable the category is:
            # a discounted appliance meets the need for an appliance. What is bought beyond today's
            # need is stored for later. Without stockpiling (forward buying) nothing is stored and a deal
            # meets no need ahead of its time: see ``ordinary_purchase_share``.
            relief = f32(units) * (f32(1.0) - min(settings.expansion_cap, settings.expansion * f32(offer.storable[c]) * depth))
            if not settings.stockpiling:
                relief = min(relief, max(need[i, c], f32(0.0)))
                boost = now.boost_online if shop_venue == 0 or presale else now.boost_offline
                if aware[i]:
                    boost *= 1.0 + now.urgency_activity
                relief *= f32(ordinary_purchase_share(utility, options, outside, g, offer, ps, ref, deal_appeal, settings, boost))
            relief_out[n] = relief
            brand_out[n] = b
            units_out[n] = units
            paid_out[n] = paid
            depth_out[n] = depth
            observed = depth
        else:  # the mean discount of the options seen, if any
            n_seen = 0
            seen = f32(0.0)
            for j in range(s + 1):
                if valid[j]:
                    n_seen += 1
                    seen += offer.discount[g, options[j]]
            observed = seen / n_seen if n_seen > 0 else ref
        if settings.reference_prices:  # a deal is memorable at once; regular prices win back slowly
            speed = settings.reference_smoothing if observed > ref else settings.reference_recovery
            ref_discount[consumer, c] = ref + speed * (observed - ref)
        consumer_out[n] = consumer
        category_out[n] = c
        venue_out[n] = shop_venue
        presale_out[n] = presale
        delay_out[n] = delay
        gain = inside_logsum - base_outside  # log(e^base + e^inside) - base, computed stably
        surplus_out[n] = (max(gain, f32(0.0)) + np.log1p(np.exp(-abs(gain)))) * offer.category_price[c] / ps
        kept[n] = True
    turned_away = np.zeros(n_venues, dtype=np.int64)
    for i in range(k):
        if away[i] > 0:
            turned_away[away[i] - 1] += 1
    n = 0
    for i in range(k):  # the sessions kept, moved up in order (in place: n <= i)
        if kept[i]:
            consumer_out[n], category_out[n], venue_out[n] = consumer_out[i], category_out[i], venue_out[i]
            presale_out[n], brand_out[n], units_out[n] = presale_out[i], brand_out[i], units_out[i]
            paid_out[n], depth_out[n], delay_out[n] = paid_out[i], depth_out[i], delay_out[i]
            surplus_out[n], relief_out[n], pickup_out[n] = surplus_out[i], relief_out[i], pickup_out[i]
            n += 1
    return (consumer_out[:n], category_out[:n], venue_out[:n], presale_out[:n], brand_out[:n], units_out[:n],
            paid_out[:n], depth_out[:n], delay_out[:n], surplus_out[:n], relief_out[:n], pickup_out[:n], visits,
            turned_away, offline_demand)


# --- serial and parallel compilations --------------------------------------------------------
# ``_shop_hour`` is compiled twice from the same source: serially (``prange`` is ``range``) and
# with its ``prange`` loops on numba's threads. The loops write each session's results to its
# own slot and the kept ones are collected in order, so both give bit-identical results;
# ``shop_hour`` picks one per call. (``activate_hour`` stays serial: in parallel it saved
# nothing measurable, even at 1M consumers, where the hour's random draws dominate.)

PARALLEL_MIN_SESSIONS = 1000  # smaller hours run serially: waking the threads would cost more than it saves


def _parallel_jit(fn):
    """``fn`` compiled with its ``prange`` loops on numba's threads (nothing else parallelised) and
    ``_PARALLEL`` True. It is a copy of ``fn`` under another name: numba keys its disk cache by
    the function's name, not by its compile options or globals."""
    twin = types.FunctionType(fn.__code__, {**fn.__globals__, "_PARALLEL": True}, fn.__name__ + "_parallel",
                              fn.__defaults__, fn.__closure__)
    twin.__qualname__ = fn.__qualname__ + "_parallel"
    twin.__doc__ = fn.__doc__
    options = dict(prange=True, comprehension=False, reduction=False, inplace_binop=False, setitem=False,
                   numpy=False, stencil=False, fusion=False)
    return njit(cache=True, parallel=options)(twin)


class _OtherLoad:
    """Whether other processes keep the cores busy: their CPU time over about the last second
    (Linux ``/proc/stat``, less this process's own; the hypervisor's steal counts as theirs).

    Threads of a parallel loop wait for each other at its end, so one descheduled thread
    holds up the hour: with another busy process on 2 cores, the parallel kernels made a
    100k-consumer season several times slower than the serial ones (and GNU OpenMP's
    spin-waiting threads slow the other process down too). Until the first measurement: busy.
    """

    INTERVAL_S = 1.0

    def __init__(self) -> None:
        self.last: tuple[float, float, float] | None = None  # wall clock, system busy s, own CPU s
        self.value = True

    @staticmethod
    def _system_busy_s() -> float | None:
        try:
            with open("/proc/stat", "rb") as f:
                ticks = [int(x) for x in f.readline().split()[1:9]]
        except (OSError, ValueError):
            return None
        user, nice, system, _idle, _iowait, irq, softirq, steal = ticks + [0] * (8 - len(ticks))
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")

    def busy(self, threads: int) -> bool:
        now = time.monotonic()
        if self.last is not None and now - self.last[0] < self.INTERVAL_S:
            return self.value
        system, own = self._system_busy_s(), time.process_time()
        if system is None:  # not Linux: no measurement, no guard
            self.value = False
            return False
        if self.last is not None:
            others = (system - self.last[1] - (own - self.last[2])) / (now - self.last[0])
            self.value = others > (os.cpu_count() or 1) - threads + 0.5  # not a core free for each thread
        self.last = (now, system, own)
        return self.value


_OTHER_LOAD = _OtherLoad()


def kernel_threads() -> int:
    """Threads the kernels may use: numba's (``NUMBA_NUM_THREADS``, ``numba.set_num_threads``), but
    one in a worker process (sweeps, scenarios, calibration: multiprocessing children, Dask
    workers), whose sibling workers already use the other cores, one outside the main thread
    (Dask runs tasks in threads; a threading layer may allow one parallel caller only), and
    one while other processes keep the cores busy (``_OtherLoad``). Results never depend on it."""
    if multiprocessing.parent_process() is not None or threading.current_thread() is not threading.main_thread():
        return 1
    threads = numba.get_num_threads()
    if threads > 1 and _OTHER_LOAD.busy(threads):
        return 1
    return threads


_shop_hour_serial = njit(cache=True)(_shop_hour)
_shop_hour_parallel = _parallel_jit(_shop_hour)


def shop_hour(idx, online, offer, shoppers, settings, now, uniforms):
    """See ``_shop_hour``; on several threads for a large hour (same results: each session is
    decided alone, in its own slot, and the outputs are collected in order)."""
    threads = kernel_threads()  # asked every hour, so the other load is measured before the first large hour
    parallel = idx.shape[0] >= PARALLEL_MIN_SESSIONS and threads > 1
    kernel = _shop_hour_parallel if parallel else _shop_hour_serial
    return kernel(idx, online, offer, shoppers, settings, now, uniforms)


@njit(cache=True)
def experience_update(satisfaction, loyal, churned_until, idx, category, brand, outcome, uniforms, speed,
                      loyalty_outcome, disloyalty_outcome, churn_threshold, churn_probability, hour):
    """Satisfaction and loyalty after outcomes (``ConsumerPopulation.experience``); returns who
    may churn: at risk (dissatisfied, a bad outcome, not away already) and ``uniforms`` below
    ``churn_probability`` (one uniform per outcome), in the order of ``idx``, repeats kept.

    As numpy's ``add.at`` and fancy assignment did: every change is computed from the state
    before any is applied, and a consumer listed twice gets both satisfaction changes and the
    last loyalty. ``churn_threshold`` is float32 (numpy compared the float32 column in float32).
    """
    n = idx.size
    change = np.empty(n, np.float32)
    for i in range(n):
        change[i] = np.float32(speed * (outcome[i] - np.float64(satisfaction[idx[i]])))
    now_loyal = np.empty(n, loyal.dtype)
    for i in range(n):
        old = loyal[idx[i], category[i]]
        if outcome[i] > loyalty_outcome:
            now_loyal[i] = brand[i]
        elif outcome[i] < disloyalty_outcome and old == brand[i]:
            now_loyal[i] = -1
        else:
            now_loyal[i] = old
    for i in range(n):
        satisfaction[idx[i]] += change[i]
        loyal[idx[i], category[i]] = now_loyal[i]
    churn = np.empty(n, idx.dtype)
    k = 0
    for i in range(n):
        c = idx[i]
        if (satisfaction[c] < churn_threshold and outcome[i] < disloyalty_outcome and churned_until[c] <= hour
                and uniforms[i] < churn_probability):
            churn[k] = c
            k += 1
    return churn[:k]


def _fade_references(ref_discount, keep, everyday):
    """Remembered discounts move towards the everyday one, ``ref * keep + everyday * (1 - keep)``
    in float32 as numpy computed it in two steps, in one pass over the consumers' records
    (numpy's two passes over a strided column cost several times more)."""
    towards = everyday * (np.float32(1.0) - keep)
    for i in prange(ref_discount.shape[0]):
        for c in range(ref_discount.shape[1]):
            ref_discount[i, c] = ref_discount[i, c] * keep + towards


_fade_serial = njit(cache=True)(_fade_references)
_fade_parallel = _parallel_jit(_fade_references)


def fade_references(ref_discount, keep, everyday):
    """See ``_fade_references``; on numba's threads when the cores are free (a pass over all
    records is bound by memory, which two cores read faster than one)."""
    (_fade_parallel if kernel_threads() > 1 else _fade_serial)(ref_discount, keep, everyday)


@njit(cache=True)
def commit_orders(need_base, wallet, idx, category, relief, spend):
    """Order by order, need falls by ``relief`` and the wallet by ``spend`` (both as float32),
    as numpy's ``subtract.at`` did (a consumer listed twice pays twice)."""
    for i in range(idx.size):
        need_base[idx[i], category[i]] = need_base[idx[i], category[i]] - np.float32(relief[i])
        wallet[idx[i]] = wallet[idx[i]] - np.float32(spend[i])
