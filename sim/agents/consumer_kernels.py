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

import numpy as np
from numba import njit

NEED_CAP = 3.0            # need beyond three units adds no more purchase pressure
MAX_UNITS = 6             # most units one purchase takes, stockpiling included
STOCKPILE_MIN_DISCOUNT = 0.1


@njit(cache=True)
def logit_pick(utility, outside, u):
    """Multinomial logit with an outside option, decided by one uniform ``u`` in [0, 1).

    ``utility`` holds the inside options (-inf = unavailable). The outside option comes
    first on the unit interval, then each inside option in turn (inverse CDF). Returns
    the chosen slot (-1 = outside option) and the log-sum of the exponentiated
    utilities (the expected maximum utility, for consumer surplus).
    """
    width = utility.shape[0]
    top = outside
    for j in range(width):
        if utility[j] > top:
            top = utility[j]
    exp_outside = np.exp(outside - top)
    inside = exp_outside - exp_outside  # a zero of the utilities' type
    for j in range(width):
        inside += np.exp(utility[j] - top)
    total = exp_outside + inside
    logsum = np.log(total) + top
    r = u * total
    if r < exp_outside or inside == 0:
        return -1, logsum
    left = r - exp_outside
    slot = -1
    cum = inside - inside
    for j in range(width):
        weight = np.exp(utility[j] - top)
        if weight > 0:  # an unavailable option (-inf) is never chosen
            slot = j
            cum += weight
            if cum >= left:
                break
    return slot, logsum  # past the running sum by rounding: the last available option


@njit(cache=True)
def poisson_inverse(lam, u):
    """Poisson(lam) draw by inverting the CDF at the uniform ``u`` (exact), capped at MAX_UNITS.

    The cap changes nothing downstream: a purchase never takes more than MAX_UNITS units.
    """
    cap = MAX_UNITS
    k = 0
    p = np.exp(-lam)
    cdf = p
    while cdf <= u and k < cap:
        k += 1
        p *= lam / k
        cdf += p
    return k


@njit(cache=True)
def activate_hour(candidates, uniforms, lam_on, lam_off, lam_max, online_preference, satisfaction, churned,
                  wallet, weekly_budget, last_hour, hour, savings_cap_weeks, hours_per_week):
    """Thinning of the hour's candidates (drawn at rate ``lam_max``) to the active consumers.

    A candidate is kept with probability rate / lam_max, where the rate mixes the online
    and offline session rates by the consumer's online preference and scales with
    satisfaction (0.5 + satisfaction); churned consumers never shop. A kept consumer shops
    online with probability (online part of the rate) / (rate). The savings of the active
    consumers are brought up to this hour (in place). Returns the active consumers and
    whether each shops online.
    """
    k = candidates.shape[0]
    active = np.empty(k, dtype=np.int64)
    online = np.empty(k, dtype=np.bool_)
    f32 = np.float32
    n = 0
    for i in range(k):
        consumer = candidates[i]
        pref = online_preference[consumer]
        factor = f32(0.5) + satisfaction[consumer]
        on = pref * lam_on
        base = on + (f32(1.0) - pref) * lam_off
        if not (uniforms[i, 0] * lam_max < base * factor) or churned[consumer]:
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
def shop_hour(
    idx, online, hour, presale_open, presale_reach,
    # the hour's offer tables
    price, discount, price_index, log_price_index, available, appeal, quality, cum_weights, cat_brands,
    venue_cum, venue_capacity,
    # consumer columns (``reference`` is updated in place)
    tier, loyal, reference, wallet, need_base, need_rate, quality_sensitivity, price_sensitivity,
    deal_proneness, aware,
    # per-category constants
    storable, category_price,
    # float32 parameters
    gain_weight, loss_weight, loyalty_bonus, deal_weight, delay_per_hour, expected_delay_h,
    outside_utility, need_weight, anticipation, reference_smoothing,
    stockpile_rate,
    # uniforms, one row per active consumer: category, venue, admission, pre-sale, logit,
    # units, then the s consideration draws
    uniforms,
):
    """Every session of the hour, from the active consumers (``idx``, sorted) to their decisions.

    Returns, one entry per session (consumers with some need who were not turned away at
    a full venue): consumer, category, venue (0 = online), pre-sale, brand (-1 = outside
    option), units, unit price paid, discount depth, expected delivery delay, surplus;
    and the number of visitors turned away.
    """
    k = idx.shape[0]
    n_categories = cat_brands.shape[0]
    slots = cat_brands.shape[1]
    n_venues = venue_capacity.shape[0]
    presale_group = price.shape[0] - 1
    s = uniforms.shape[1] - 6
    f32 = np.float32
    growth = need_rate * f32(hour)

    # The active consumers' need, gathered first: a plain copy loop lets the CPU overlap the
    # memory reads, which matters when the population is much larger than the caches.
    need = np.empty((k, n_categories), dtype=np.float32)
    for i in range(k):
        for c in range(n_categories):
            need[i, c] = need_base[idx[i], c] + growth[c]

    # Pass 1: category in proportion to positive need, then the venue (offline shoppers:
    # an open venue of their tier carrying the category, online if there is none).
    category = np.full(k, -1, dtype=np.int64)   # -1: no need, no session
    venue = np.zeros(k, dtype=np.int64)
    visits = np.zeros(n_venues, dtype=np.int64)
    for i in range(k):
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
            cum = venue_cum[tier[idx[i]], c_pick]
            v_total = cum[n_venues - 1]
            if v_total > 0:
                u = uniforms[i, 1] * v_total
                pick = 0
                for v in range(n_venues):
                    if cum[v] < u:
                        pick += 1
                venue[i] = pick + 1
                visits[pick] += 1

    # The consumer columns the choice reads, gathered the same way (per session, category).
    loyal_s = np.empty(k, dtype=np.int64)
    reference_s = np.empty(k, dtype=np.float32)
    wallet_s = np.empty(k, dtype=np.float32)
    qs_s = np.empty(k, dtype=np.float32)
    ps_s = np.empty(k, dtype=np.float32)
    dp_s = np.empty(k, dtype=np.float32)
    aware_s = np.empty(k, dtype=np.bool_)
    for i in range(k):
        consumer, c = idx[i], max(category[i], 0)
        loyal_s[i] = loyal[consumer, c]
        reference_s[i] = reference[consumer, c]
        wallet_s[i] = wallet[consumer]
        qs_s[i] = quality_sensitivity[consumer]
        ps_s[i] = price_sensitivity[consumer]
        dp_s[i] = deal_proneness[consumer]
        aware_s[i] = aware[consumer]

    # Venues over their hourly visit capacity turn a random share of visitors away.
    accept = np.ones(n_venues)
    for v in range(n_venues):
        if visits[v] > 0:
            accept[v] = min(1.0, venue_capacity[v] / visits[v])

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
    options = np.empty(s + 1, dtype=np.int64)
    valid = np.empty(s + 1, dtype=np.bool_)
    utility = np.empty(s + 1, dtype=np.float32)
    min_deal = f32(STOCKPILE_MIN_DISCOUNT)
    turned_away = 0
    n = 0

    # Pass 2: admission, pre-sale, consideration set, logit choice, units, reference price.
    for i in range(k):
        c = category[i]
        if c < 0:
            continue
        if venue[i] > 0 and not uniforms[i, 2] < accept[venue[i] - 1]:
            turned_away += 1
            continue
        consumer = idx[i]
        presale = presale_open and venue[i] == 0 and uniforms[i, 3] < presale_reach
        g = presale_group if presale else venue[i]
        loyal_brand = loyal_s[i]

        # Consideration set: s draws by inverse CDF on the group's weights, plus the loyal
        # brand; padding, duplicates, unavailable and unaffordable options are dropped.
        row = g * n_categories + c
        for j in range(s):
            pos = 0
            for m in range(slots - 1):
                if cum_weights[row, m] < uniforms[i, 6 + j]:
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
                ok = available[g, b] and price[g, b] <= wallet_s[i]
            valid[j] = ok

        # Utility: quality, service and rating, price, gain/loss against the reference
        # price, loyalty, deal appeal, expected delivery delay.
        ref = reference_s[i]
        delay = expected_delay_h if venue[i] == 0 else f32(0.0)
        qs, ps, dp = qs_s[i], ps_s[i], dp_s[i]
        deal_appeal = deal_weight * dp
        delay_cost = delay_per_hour * delay
        for j in range(s + 1):
            if not valid[j]:
                utility[j] = -np.inf
                continue
            b = options[j]
            v = quality[b] * qs
            v += appeal[b]
            v -= log_price_index[g, b] * ps
            gain = ref - price_index[g, b]
            gain *= loss_weight if gain < 0 else gain_weight
            v += gain
            if b == loyal_brand:
                v += loyalty_bonus
            v += discount[g, b] * deal_appeal
            v -= delay_cost
            utility[j] = v

        # Outside option: waiting is attractive while little of a unit is needed (log need,
        # 0 at one full unit), more so for the aware when an announced festival is near.
        need_c = min(max(need[i, c], f32(1e-3)), f32(NEED_CAP))
        outside = outside_utility - need_weight * np.log(need_c)
        if aware_s[i] and not presale:
            outside += anticipation

        slot, logsum = logit_pick(utility, outside, uniforms[i, 4])

        if slot >= 0:
            b = options[slot]
            paid, depth = price[g, b], discount[g, b]
            units = 1
            if depth >= min_deal:  # stockpiling on a deal, as far as the wallet allows
                lam = stockpile_rate * storable[c] * dp * depth
                extra = poisson_inverse(lam, uniforms[i, 5])
                affordable = np.floor(wallet_s[i] / max(paid, f32(1e-9)))
                units = int(min(min(1 + extra, MAX_UNITS), affordable))
            brand_out[n] = b
            units_out[n] = units
            paid_out[n] = paid
            depth_out[n] = depth
            observed = np.float64(price_index[g, b])
        else:  # the mean price index of the options seen, if any
            n_seen = 0
            seen = f32(0.0)
            for j in range(s + 1):
                if valid[j]:
                    n_seen += 1
                    seen += price_index[g, options[j]]
            observed = seen / n_seen if n_seen > 0 else np.float64(ref)
        reference[consumer, c] = ref + reference_smoothing * (observed - ref)
        consumer_out[n] = consumer
        category_out[n] = c
        venue_out[n] = venue[i]
        presale_out[n] = presale
        delay_out[n] = delay
        surplus_out[n] = (logsum - outside) * category_price[c] / ps
        n += 1
    return (consumer_out[:n], category_out[:n], venue_out[:n], presale_out[:n], brand_out[:n], units_out[:n],
            paid_out[:n], depth_out[:n], delay_out[:n], surplus_out[:n], turned_away)
