"""Who shops this hour: the activity draw, by thinning the hour's candidates."""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.model.kernels.records import gather


@njit(cache=True)
def activate_hour(candidates, uniforms, rates, columns):
    """Thinning of the hour's candidates (drawn at rate ``rates.highest``) to the active consumers.

    A candidate is kept with probability rate / highest, where the rate mixes the online
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
    hour = rates.hour
    # Columns gathered first, one per loop, so the cache misses overlap (see shop.py).
    preference = gather(columns.online_preference, candidates)
    content = gather(columns.satisfaction, candidates)
    aware_now = gather(columns.aware, candidates)
    back = gather(columns.churned_until, candidates)
    wallet, last_hour = columns.wallet, columns.last_hour
    for i in range(k):
        consumer = candidates[i]
        pref = preference[i]
        factor = rates.activity_floor + content[i]
        if aware_now[i]:
            factor *= f32(1.0) + rates.urgency_activity
        on = pref * rates.online
        base = on + (f32(1.0) - pref) * rates.offline
        if not (uniforms[i, 0] * rates.highest < base * factor) or back[i] > hour:
            continue
        active[n] = consumer
        online[n] = uniforms[i, 1] * base < on
        budget = columns.weekly_budget[consumer]
        elapsed = f32(hour - last_hour[consumer])
        cap = budget * rates.savings_cap_weeks
        wallet[consumer] = min(cap, max(wallet[consumer], f32(0.0)) + budget * elapsed / rates.hours_per_week)
        last_hour[consumer] = hour
        n += 1
    return active[:n], online[:n]
