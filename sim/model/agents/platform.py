"""The platform: allocates online exposure among brands by policy, funds subsidies.

Policies compose: ranking policies multiply their weights (``gmv_rank`` x
``quality_feedback``; ``gmv_rank`` is the platform's ranking when neither is named, so
``small_brand_boost`` alone means "today's ranking plus the boost"), ``small_brand_boost``
then reserves a share of each category's exposure for small brands, and ``subsidy`` adds
a platform-funded discount in windows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model.catalog import ARCHETYPE_NAMES, CATEGORIES

if TYPE_CHECKING:
    from sim.model.double11 import Double11Model
    from sim.model.agents.brands import BrandBook

SMALL = ARCHETYPE_NAMES.index("small")
RANKINGS = frozenset({"gmv_rank", "quality_feedback"})


def gmv_rank_weights(book: "BrandBook", ad_weight: float, exponent: float) -> np.ndarray:
    """Exposure follows recent GMV plus ad spend, more than proportionally: rich get richer."""
    score = book.recent_gmv + ad_weight * book.ad_spend
    return np.power(np.maximum(score, 1e-9) / max(score.mean(), 1e-9), exponent)


def experience_score(book: "BrandBook") -> np.ndarray:
    """What a buyer experienced: rating, minus returns, plus service (each roughly 0-1)."""
    return book.rating - book.return_rate + 0.5 * book.service


def quality_feedback_weights(book: "BrandBook", strength: float) -> np.ndarray:
    score = experience_score(book)
    return np.exp(strength * (score - score.max()))


def reserve_for_small(weights: np.ndarray, category: np.ndarray, archetype: np.ndarray, reserve: float) -> np.ndarray:
    """Reserve ``reserve`` of each category's exposure for its small brands (see ``reserve_share``)."""
    return reserve_share(weights, category, archetype == SMALL, reserve)


def reserve_share(weights: np.ndarray, category: np.ndarray, chosen: np.ndarray, reserve: float) -> np.ndarray:
    """Reserved slots: ``reserve`` of each category's exposure goes to its ``chosen`` rows (shared by
    their weights), the rest to all rows by their weights, so a chosen row gains even where the
    chosen already lead the ranking (a floor would stop binding there). Weights stay positive;
    a category without chosen rows, or with nothing else, is unchanged."""
    n = int(category.max()) + 1 if category.size else 0
    total = np.bincount(category, weights, minlength=n)
    picked = np.bincount(category, np.where(chosen, weights, 0.0), minlength=n)
    applies = (picked > 0) & (picked < total)
    lift = np.where(applies, reserve * total / np.where(applies, picked, 1.0) + 1.0 - reserve, 1.0)
    keep = np.where(applies, 1.0 - reserve, 1.0)
    return weights * np.where(chosen, lift[category], keep[category])


def normalise_within(weights: np.ndarray, category: np.ndarray, n_categories: int) -> np.ndarray:
    """Exposure shares within each category; a category whose brands have all left shows none (not 0/0)."""
    totals = np.bincount(category, weights=weights, minlength=n_categories)[category]
    return np.divide(weights, totals, out=np.zeros_like(weights), where=totals > 0)


class Platform(mesa.Agent):
    """Sets each brand's online exposure share within its category every hour."""

    def __init__(self, model: "Double11Model"):
        super().__init__(model)
        self.settings = model.params.platform
        self.policies = self.settings.policies
        self.exposure = np.zeros(model.brand_book.n)
        self.subsidy_rate = 0.0   # extra discount online this hour
        # Pre-sale offers promise the festival price, subsidy included.
        self.presale_subsidy_rate = self.settings.subsidy_rate if "subsidy" in self.policies else 0.0
        self.subsidy_cost = 0.0
        self.commission = 0.0
        self.ad_revenue = 0.0  # what brands pay for ads (the platform's customer management revenue)

    @property
    def ranks_by_gmv(self) -> bool:
        return "gmv_rank" in self.policies or not self.policies & RANKINGS  # gmv_rank is the default ranking

    def ad_elasticity(self, brand: int) -> float:
        """Relative exposure a brand gains per yuan of daily ads (0 where the ranking ignores ads)."""
        if not self.ranks_by_gmv:
            return 0.0
        book, st = self.model.brand_book, self.settings
        score = book.recent_gmv[brand] + st.ad_weight * book.ad_spend[brand]
        return st.gmv_rank_exponent * st.ad_weight / max(score, 1e-9) * (1.0 - self.exposure[brand])

    def service_elasticity(self, brand: int) -> float:
        """Relative sales a brand gains per unit of service: buyers value it, and quality_feedback
        ranks by it (directly and through the ratings it earns)."""
        params = self.model.params
        per_unit = params.consumers.service_weight
        if "quality_feedback" in self.policies:
            per_unit += self.settings.quality_strength * (0.5 + params.experience.service_weight)
        return per_unit * (1.0 - self.exposure[brand])

    def quality_elasticity(self, brand: int) -> float:
        """Relative sales a brand gains per unit of true quality: buyers value it, and quality_feedback
        ranks by the ratings it earns."""
        params = self.model.params
        per_unit = params.consumers.quality_sensitivity
        if "quality_feedback" in self.policies:
            per_unit += self.settings.quality_strength * params.experience.quality_weight
        return per_unit * (1.0 - self.exposure[brand])

    def allocation_weights(self) -> np.ndarray:
        book = self.model.brand_book
        weights = np.ones(book.n)
        if self.ranks_by_gmv:
            weights *= gmv_rank_weights(book, self.settings.ad_weight, self.settings.gmv_rank_exponent)
        if "quality_feedback" in self.policies:
            weights *= quality_feedback_weights(book, self.settings.quality_strength)
        if not book.active.all():  # exited brands and products not yet launched get no exposure
            weights = weights * book.active
        if "small_brand_boost" in self.policies:
            small = book.archetype == SMALL if book.active.all() else (book.archetype == SMALL) & book.active
            weights = reserve_share(weights, book.category, small, self.settings.small_brand_reserve)
        launching = self.model.ecosystem.launching()
        if launching is not None:  # the new-product channel: a reserved slot in each category
            weights = reserve_share(weights, book.category, launching, self.model.params.innovation.launch_slot)
        return weights

    def step(self) -> None:
        model = self.model
        # What the ranking reads (GMV, ads, ratings, service, who is active) changes only when the
        # brands review their day, at midnight after this step: exposure is recomputed in the first
        # two hours of a day (and hourly while launch slots, which end on any hour, are open).
        if model.hour_of_day <= 1 or model.ecosystem.launching() is not None:
            book = model.brand_book
            self.exposure = normalise_within(self.allocation_weights(), book.category, len(CATEGORIES))
        in_window = self.model.calendar.window[self.model.hour] >= 0
        self.subsidy_rate = self.settings.subsidy_rate if ("subsidy" in self.policies and in_window) else 0.0
