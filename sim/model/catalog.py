"""Fixed tables of the market: product categories, brand archetypes and venue types.

These are structural facts of the model (what exists), not tunable behaviour; tunable
behaviour lives in ``params``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Category:
    name: str
    price: float           # typical list price, yuan
    need_per_week: float   # units a consumer uses per week on average
    return_base: float     # baseline return probability of an online purchase
    storable: float        # how far consumers stockpile it on a deal (0 = never)


CATEGORIES = (
    Category("apparel", 220.0, 0.30, 0.25, 0.6),
    Category("beauty", 160.0, 0.22, 0.06, 1.0),
    Category("electronics", 1800.0, 0.015, 0.05, 0.05),
    Category("appliances", 2600.0, 0.010, 0.04, 0.0),
    Category("home", 700.0, 0.035, 0.05, 0.1),
    Category("grocery", 70.0, 0.55, 0.01, 1.0),
    Category("baby", 130.0, 0.10, 0.03, 1.0),
    Category("sports", 320.0, 0.05, 0.10, 0.3),
)
CATEGORY_INDEX = {c.name: i for i, c in enumerate(CATEGORIES)}


@dataclass(frozen=True)
class Archetype:
    name: str
    quality: tuple[float, float]      # uniform range of true quality (0-1)
    service: tuple[float, float]      # uniform range of service level (0-1)
    premium: tuple[float, float]      # list price relative to the category's typical price
    cost_ratio: float                 # unit cost / list price
    size: float                       # relative ordinary demand at the start
    ad_multiplier: float              # relative ad intensity
    offline_presence: float           # chance an offline venue that fits carries it
    participation: float              # relative depth of festival-discount matching


ARCHETYPES = {
    "big": Archetype("big", (0.55, 0.80), (0.60, 0.85), (1.0, 1.3), 0.50, 3.0, 1.5, 0.8, 1.0),
    "small": Archetype("small", (0.50, 0.90), (0.60, 0.90), (0.9, 1.2), 0.55, 1.0, 0.5, 0.15, 1.0),
    "low_quality": Archetype("low_quality", (0.05, 0.30), (0.20, 0.50), (0.45, 0.7), 0.40, 1.5, 2.0, 0.3, 1.1),
}
ARCHETYPE_NAMES = tuple(ARCHETYPES)

TIERS = ("tier12_city", "lower_tier_city", "rural")
EVERYDAY_DISCOUNT = 0.05  # brands' mean discount at the start (uniform 0-10%): what consumers first remember


@dataclass(frozen=True)
class VenueType:
    name: str
    tiers: tuple[int, ...]            # region tiers it serves
    opening: tuple[int, int]          # open hours [from, to) of the day
    categories: dict[str, float]      # category -> relative pull of this venue for it
    integration: float                # relative digital integration (x venues.digital_integration)
    festival_only: bool = False       # pop-up stores open only around the festival


ONLINE = "tmall_online"
OFFLINE_VENUES = (
    VenueType("department_store", (0,), (10, 22), {"apparel": 1.0, "beauty": 1.0, "sports": 0.5}, 0.8),
    VenueType("hypermarket", (0, 1), (8, 22), {"grocery": 1.0, "baby": 0.8, "home": 0.3, "beauty": 0.3, "appliances": 0.2}, 1.0),
    VenueType("home_furnishing", (0, 1), (10, 21), {"home": 1.0, "appliances": 0.3}, 0.8),
    VenueType("rural_service_point", (2,), (8, 20),
              {"grocery": 0.6, "appliances": 0.6, "electronics": 0.5, "baby": 0.5, "apparel": 0.3}, 1.6),
    VenueType("local_services", (0, 1), (7, 23), {"grocery": 1.0, "baby": 0.3}, 1.4),
    VenueType("popup_store", (0,), (10, 22), {"beauty": 1.0, "apparel": 0.6, "electronics": 0.3}, 1.6, festival_only=True),
    VenueType("corner_store", (0, 1, 2), (7, 23), {"grocery": 1.0, "baby": 0.3}, 0.6),
    VenueType("appliance_chain", (0, 1), (9, 21), {"appliances": 1.0, "electronics": 1.0}, 1.0),
)
VENUE_TYPES = (ONLINE,) + tuple(v.name for v in OFFLINE_VENUES)


def category_array(attr: str) -> np.ndarray:
    return np.array([getattr(c, attr) for c in CATEGORIES], dtype=np.float64)
