"""Brand agents: pricing, stock, adaptation and ratings.

Each ``Brand`` is an ordinary Mesa agent with a readable daily ``step``. Its numeric state
lives in a shared columnar ``BrandBook`` so the consumer hot path can read every brand's
price and stock as one array; ``Column`` makes each agent see its own row as attributes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from ..catalog import ARCHETYPE_NAMES, ARCHETYPES, CATEGORIES, category_array
from ..params import Params

if TYPE_CHECKING:
    from ..model import Double11Model


class BrandBook:
    """Columnar state of all brands (one entry per brand, in brand index order)."""

    FLOATS = (
        "quality", "service", "list_price", "unit_cost", "inventory", "capacity", "forecast", "discount",
        "participation", "ad_rate", "ad_spend", "rating", "return_rate", "adapt", "offline_presence",
        "recent_gmv", "sold_today", "demand_today", "gmv_today", "outcome_sum", "outcome_n", "returns_today",
        "revenue", "cost", "presale_units",
    )

    def __init__(self, n: int):
        self.n = n
        for name in self.FLOATS:
            setattr(self, name, np.zeros(n))
        self.category = np.zeros(n, dtype=np.int64)
        self.archetype = np.zeros(n, dtype=np.int64)
        self.lead_time = np.zeros(n, dtype=np.int64)


class Column:
    """Attribute that reads and writes the owning agent's row of a BrandBook column."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, agent: "Brand", owner: type | None = None) -> float:
        return getattr(agent.book, self.name)[agent.idx]

    def __set__(self, agent: "Brand", value: float) -> None:
        getattr(agent.book, self.name)[agent.idx] = value


class Brand(mesa.Agent):
    """A brand selling in one category; adapts discount, stock orders and ads once a day."""

    quality = Column()
    service = Column()
    list_price = Column()
    unit_cost = Column()
    inventory = Column()
    capacity = Column()
    forecast = Column()
    discount = Column()
    ad_rate = Column()
    ad_spend = Column()
    rating = Column()
    return_rate = Column()
    adapt = Column()
    recent_gmv = Column()
    sold_today = Column()
    demand_today = Column()
    gmv_today = Column()
    outcome_sum = Column()
    outcome_n = Column()
    returns_today = Column()
    cost = Column()
    presale_units = Column()

    def __init__(self, model: "Double11Model", idx: int, book: BrandBook):
        super().__init__(model)
        self.idx = idx
        self.book = book
        self.pipeline: dict[int, float] = {}  # arrival day -> units ordered

    @property
    def archetype(self) -> str:
        return ARCHETYPE_NAMES[self.book.archetype[self.idx]]

    @property
    def category(self) -> str:
        return CATEGORIES[self.book.category[self.idx]].name

    @property
    def lead_time(self) -> int:
        return int(self.book.lead_time[self.idx])

    def step(self) -> None:
        """End-of-day review: learn demand, restock, set discount and ads, update rating."""
        model = self.model
        day = model.day
        in_festival_yesterday = model.was_festival_day(day - 1)
        self._learn_demand(in_festival_yesterday)
        self._receive(day)
        self._restock(day)
        self._set_discount(in_festival_yesterday)
        self._update_rating()
        self.ad_spend = self.ad_rate * self.forecast * self.list_price * (1 - self.discount)
        self.cost += self.ad_spend + self.inventory * self.unit_cost * model.params.brands.holding_cost
        self.recent_gmv = 0.7 * self.recent_gmv + 0.3 * self.gmv_today
        self.sold_today = self.demand_today = self.gmv_today = self.returns_today = 0.0

    def _learn_demand(self, festival_day: bool) -> None:
        # Learn from demand, not sales: a brand that ran out still saw the buyers it missed.
        # Festival spikes are not ordinary demand; learning them would overstock the slump.
        if not festival_day:
            self.forecast += self.adapt * (self.demand_today - self.forecast)

    def _receive(self, day: int) -> None:
        self.inventory += self.pipeline.pop(day, 0.0)

    def _restock(self, day: int) -> None:
        horizon = self.lead_time + self.model.params.brands.safety_days
        expected = self.forecast * horizon * self.model.festival_uplift(day, horizon) + self.presale_units
        on_order = sum(self.pipeline.values())
        order = min(max(expected - self.inventory - on_order, 0.0), self.capacity * self.lead_time)
        if order > 0:
            arrival = day + self.lead_time
            self.pipeline[arrival] = self.pipeline.get(arrival, 0.0) + order
            self.cost += order * self.unit_cost

    def _set_discount(self, festival_day: bool) -> None:
        """Discount more when stock piles up, less when it runs short; small brands move fastest."""
        if festival_day or self.forecast <= 0:
            return
        cover = self.inventory / self.forecast
        target = self.lead_time + self.model.params.brands.safety_days
        max_discount = self.model.params.brands.max_discount
        step = 0.15 * self.adapt
        if cover > 1.5 * target:
            self.discount = min(max_discount, self.discount + step)
        elif cover < 0.7 * target:
            self.discount = max(0.0, self.discount - step)
        else:
            self.discount = max(0.0, self.discount - 0.2 * step)

    def _update_rating(self) -> None:
        if self.outcome_n > 0:
            mean_outcome = self.outcome_sum / self.outcome_n
            self.rating += 0.1 * (mean_outcome - self.rating)
            self.return_rate += 0.1 * (self.returns_today / self.outcome_n - self.return_rate)
        self.outcome_sum = self.outcome_n = 0.0


def create_brands(model: "Double11Model", params: Params, rng: np.random.Generator, n_consumers: int) -> tuple[BrandBook, list[Brand]]:
    """Draw brands: categories round-robin, archetypes by share, attributes by archetype."""
    bp = params.brands
    n = bp.n
    book = BrandBook(n)
    n_big = int(round(bp.share_big * n))
    n_low = int(round(bp.share_low_quality * n))
    archetypes = np.array([0] * n_big + [2] * n_low + [1] * (n - n_big - n_low))
    rng.shuffle(archetypes)
    book.archetype[:] = archetypes
    book.category[:] = np.arange(n) % len(CATEGORIES)
    prices = category_array("price")[book.category]
    adapt = {"big": bp.adapt_big, "small": bp.adapt_small, "low_quality": bp.adapt_low_quality}
    for a, name in enumerate(ARCHETYPE_NAMES):
        spec = ARCHETYPES[name]
        rows = np.flatnonzero(archetypes == a)
        k = len(rows)
        book.quality[rows] = rng.uniform(*spec.quality, k)
        book.service[rows] = rng.uniform(*spec.service, k)
        book.list_price[rows] = prices[rows] * rng.uniform(*spec.premium, k)
        book.unit_cost[rows] = book.list_price[rows] * spec.cost_ratio
        book.lead_time[rows] = spec.lead_time_days
        book.ad_rate[rows] = bp.ad_rate * spec.ad_multiplier
        book.adapt[rows] = adapt[name]
        book.offline_presence[rows] = spec.offline_presence
        book.participation[rows] = min(1.0, params.festival.participation * spec.participation)
        book.forecast[rows] = spec.size  # relative; scaled to units below
    # Scale forecasts so each category's brands together expect the category's ordinary demand.
    weekly_need = category_array("need_per_week") * n_consumers
    for c in range(len(CATEGORIES)):
        rows = book.category == c
        book.forecast[rows] *= weekly_need[c] / 7.0 / book.forecast[rows].sum()
    book.capacity[:] = book.forecast * bp.capacity_factor
    book.inventory[:] = book.forecast * (book.lead_time + bp.safety_days)
    book.rating[:] = 0.5 + 0.5 * (book.quality - 0.5)
    book.return_rate[:] = category_array("return_base")[book.category]
    book.recent_gmv[:] = book.forecast * book.list_price
    book.discount[:] = rng.uniform(0.0, 0.1, n)
    brands = [Brand(model, i, book) for i in range(n)]
    return book, brands
