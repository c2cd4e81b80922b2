"""The outside option: not buying now. Anticipation (waiting for an announced window) and
deadline urgency (buying before an open window closes) act here."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def outside_option(need, aware, presale, venue, venue_integration, now, settings):
    """(utility of waiting, utility of buying nothing) for a session with ``need`` of a category.

    Waiting is attractive while little of a unit is needed (log need, 0 at one full unit). Aware
    consumers whose need is not urgent also wait for a coming window; as an open window closes,
    waiting loses its appeal (urgency). Surplus is measured against buying nothing: waiting and
    urgency are not options on show.
    """
    f32 = np.float32
    need_c = min(max(need, f32(1e-3)), settings.need_cap)
    outside = settings.outside_utility - settings.need_weight * np.log(need_c)
    base_outside = outside
    if aware and not presale:
        slack = f32(1.0) - need_c / settings.anticipation_need
        if slack > 0:  # waiting pays where the festival's prices will be: online, integrated venues
            reach = f32(1.0) if venue == 0 else f32(venue_integration[venue - 1])
            outside += now.anticipation * slack * reach
        if venue == 0:  # the online festival offer is the one that ends
            outside -= now.urgency
    return outside, base_outside
