"""The named records the compiled kernels take: numba compiles a NamedTuple of arrays and scalars
into a struct, so a kernel reads ``offer.price`` rather than its seventh positional argument.

Float types are part of the contract: consumer columns, utilities and reference prices are
float32, and so are the behavioural parameters the choice combines with them (the callers
convert), so the arithmetic is the same whichever path builds a record.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit


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


class Taste(NamedTuple):
    """One shopper's sensitivities, as the utility reads them (float32)."""

    quality: np.float32
    price: np.float32
    deal_appeal: np.float32      # deal_weight x deal proneness: utility per unit of discount depth
    delay_cost: np.float32       # utility lost to the expected delivery delay


class ActivityColumns(NamedTuple):
    """The consumer columns the activity draw reads; ``wallet`` and ``last_hour`` are brought up to date."""

    online_preference: np.ndarray  # float32 (n,)
    satisfaction: np.ndarray       # float32 (n,)
    churned_until: np.ndarray      # int32 (n,): shops again from this hour
    aware: np.ndarray              # bool (n,)
    wallet: np.ndarray             # float32 (n,)
    weekly_budget: np.ndarray      # float32 (n,)
    last_hour: np.ndarray          # int32 (n,): when the wallet was last brought up to date


class ActivityRates(NamedTuple):
    """The hour's session rates and the savings rule."""

    online: np.float32             # session rate of a fully online consumer
    offline: np.float32            # the same offline
    highest: float                 # the candidates' rate: no consumer's rate exceeds it
    urgency_activity: np.float32   # extra rate of aware consumers near a window's close
    activity_floor: np.float32     # rate factor of a consumer at zero satisfaction
    hour: int
    savings_cap_weeks: np.float32
    hours_per_week: np.float32


class ExperienceColumns(NamedTuple):
    """The consumer columns outcomes change."""

    satisfaction: np.ndarray       # float32 (n,)
    loyal: np.ndarray              # int16 (n, categories)
    churned_until: np.ndarray      # int32 (n,)


class ExperienceRules(NamedTuple):
    """How outcomes move satisfaction and loyalty, and when a consumer may churn."""

    speed: float
    loyalty_outcome: float
    disloyalty_outcome: float
    churn_threshold: np.float32    # float32: compared with the float32 column
    churn_probability: float
    hour: int


@njit(cache=True, inline="always")
def gather(column, idx):
    """``column[idx]`` as a plain loop (no temporary index checks; the reads overlap)."""
    out = np.empty(idx.shape[0], dtype=column.dtype)
    for i in range(idx.shape[0]):
        out[i] = column[idx[i]]
    return out
