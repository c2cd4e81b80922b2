"""Where a session goes: its category, its venue, whether a full venue lets it in, pre-sale."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def pick_category(need, i, u):
    """A category in proportion to shopper ``i``'s positive need (inverse CDF at ``u``); -1 if nothing is needed."""
    n_categories = need.shape[1]
    f32 = np.float32
    total = f32(0.0)
    for c in range(n_categories):
        total += max(need[i, c], f32(0.0))
    if not total > 0:
        return -1
    target = u * total
    running = f32(0.0)
    pick = 0
    for c in range(n_categories - 1):  # over the running sums of positive need
        running += max(need[i, c], f32(0.0))
        if running < target:
            pick = c + 1
    return pick


@njit(cache=True, inline="always")
def pick_venue(cum, u):
    """Index of the venue that the uniform ``u`` picks on one row of cumulative weights."""
    n_venues = cum.shape[0]
    target = u * cum[n_venues - 1]
    pick = 0
    for v in range(n_venues):
        if cum[v] < target:
            pick += 1
    return min(pick, n_venues - 1)


@njit(cache=True, inline="always")
def offline_venue(venue_cum, tier, category, u):
    """An offline shopper's venue (1..): an open venue of their tier carrying the category; 0 (online) if none."""
    cum = venue_cum[tier, category]
    if cum[cum.shape[0] - 1] > 0:
        return pick_venue(cum, u) + 1
    return 0


@njit(cache=True, inline="always")
def admit(admission, overflow_online, venue, u_admission, u_overflow):
    """Venue capacity: (where the session goes on, whether it was turned away). A full venue lets a
    visitor in with chance ``admission``; an integrated one sends part of those it turns away
    online (0); -1: the session ends."""
    if venue == 0 or u_admission < admission[venue - 1]:
        return venue, False
    if u_overflow < overflow_online[venue - 1]:
        return 0, True
    return -1, True


@njit(cache=True, inline="always")
def takes_presale(now, venue, u):
    """Pre-sale: while deposits are taken, an online session sees the pre-sale offer with chance ``presale_reach``."""
    return now.presale_open and venue == 0 and u < now.presale_reach
