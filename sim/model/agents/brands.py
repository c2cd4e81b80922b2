"""Brand agents: pricing, stock, adaptation and ratings.

Each ``Brand`` is an ordinary Mesa agent with a readable daily ``step``. Its numeric state
lives in a shared columnar ``BrandBook`` so the consumer hot path can read every brand's
price and stock as one array; ``Column`` makes each agent see its own row as attributes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model.catalog import ARCHETYPE_NAMES, ARCHETYPES, CATEGORIES, EVERYDAY_DISCOUNT, category_array
from sim.model.params import Params

if TYPE_CHECKING:
    from sim.model.double11 import Double11Model


class BrandBook:
    """Columnar state of all brands (one entry per brand, in brand index order)."""

    FLOATS = (
        "quality", "service", "list_price", "unit_cost", "inventory", "capacity", "forecast", "discount",
        "participation", "ad_rate", "ad_spend", "rating", "return_rate", "adapt", "offline_presence",
        "recent_gmv", "sold_today", "demand_today", "gmv_today", "delivered_today", "returns_today",
        "revenue", "cost", "presale_units", "review_sum", "review_weight", "review_bias", "base_service",
    )

    def __init__(self, n: int):
        self.n = n
        for name in self.FLOATS:
            setattr(self, name, np.zeros(n))
        self.category = np.zeros(n, dtype=np.int64)
        self.archetype = np.zeros(n, dtype=np.int64)
        self.lead_time = np.zeros(n, dtype=np.int64)
        # The ecosystem over years (sim/model/ecosystem.py): who is selling, who made it, since when.
        self.active = np.ones(n, dtype=bool)      # selling now (false: exited, or a product not yet launched)
        self.owner = np.arange(n, dtype=np.int64)  # the brand (group) a row belongs to: itself, or a product's maker
        self.born = np.zeros(n, dtype=np.int64)    # year the row appeared (0: there from the start)
        self.launch_hour = np.full(n, -1, dtype=np.int64)  # new products: hour of launch in their first season
        self.loss_years = np.zeros(n, dtype=np.int64)      # consecutive years with a loss

    def append(self, k: int) -> np.ndarray:
        """Add ``k`` rows (entrants, new products), zero-filled; returns their indices."""
        rows = np.arange(self.n, self.n + k)
        for name, column in list(vars(self).items()):
            if isinstance(column, np.ndarray) and column.shape == (self.n,):
                setattr(self, name, np.concatenate([column, np.zeros(k, dtype=column.dtype)]))
        self.owner[rows] = rows
        self.launch_hour[rows] = -1
        self.n += k
        return rows


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
    delivered_today = Column()
    returns_today = Column()
    review_sum = Column()
    review_weight = Column()
    base_service = Column()
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
        """End-of-day review: learn demand, restock, set discount, ads and service, update rating."""
        model = self.model
        day = model.day
        in_festival_yesterday = model.calendar.is_festival_day(day - 1)
        self._learn_demand(in_festival_yesterday)
        self._receive(day)
        horizon = self.lead_time + model.params.brands.safety_days  # days of stock a brand aims to hold
        uplift = self._festival_uplift(day, horizon)
        self._restock(day, horizon, uplift)
        self._set_discount(in_festival_yesterday, horizon, uplift)
        self._update_rating()
        self._set_ads()
        self._invest_in_service()
        self.ad_spend = self.ad_rate * self.forecast * self.list_price * (1 - self.discount)
        model.platform.ad_revenue += self.ad_spend
        service_cost = model.params.brands.service_investment * self.gmv_today * (self.service - self.base_service) / 0.1
        self.cost += self.ad_spend + service_cost + self.inventory * self.unit_cost * model.params.brands.holding_cost
        memory = model.params.brands.gmv_memory
        self.recent_gmv = (1 - memory) * self.recent_gmv + memory * self.gmv_today
        self.sold_today = self.demand_today = self.gmv_today = self.returns_today = self.delivered_today = 0.0

    def _festival_uplift(self, day: int, horizon_days: float) -> float:
        """Demand multiplier a brand plans for over the next ``horizon_days``.

        Brands know from past festivals what one brings: the calendar's extra sessions in these
        days (pull, attention, the opening rush), in ordinary days, times ``festival_stock_cover``.
        Planning from the calendar keeps stock in step with the festival's size: a fixed number of
        days ran out on a bigger Nov 11 (18% of its purchase attempts at the calibrated pull) and
        overstocked long windows.
        """
        extra = self.model.calendar.extra_demand_days(day * 24, int((day + horizon_days) * 24))
        return 1.0 + self.model.params.brands.festival_stock_cover * extra / horizon_days

    def _learn_demand(self, festival_day: bool) -> None:
        # Learn from demand, not sales: a brand that ran out still saw the buyers it missed.
        # Festival spikes are not ordinary demand; learning them would overstock the slump.
        if not festival_day:
            self.forecast += self.adapt * (self.demand_today - self.forecast)

    def _receive(self, day: int) -> None:
        self.inventory += self.pipeline.pop(day, 0.0)

    def _restock(self, day: int, horizon: float, uplift: float) -> None:
        expected = self.forecast * horizon * uplift + self.presale_units
        on_order = sum(self.pipeline.values())
        order = min(max(expected - self.inventory - on_order, 0.0), self.capacity * self.lead_time)
        if order > 0:
            arrival = day + self.lead_time
            self.pipeline[arrival] = self.pipeline.get(arrival, 0.0) + order
            self.cost += order * self.unit_cost

    def _set_discount(self, festival_day: bool, target: float, uplift: float) -> None:
        """Discount more when stock piles up, less when it runs short; small brands move fastest.
        Prices are held while stock is built for a coming festival (``uplift`` > 1): it is not overstock to clear."""
        if festival_day or self.forecast <= 0 or uplift > 1.0:
            return
        bp = self.model.params.brands
        cover = self.inventory / self.forecast
        noise = SAMPLING_Z * cover_noise(cover, self.inventory, self.forecast, self.adapt)
        step = bp.discount_step * self.adapt
        if cover - noise > bp.overstock_cover * target:
            self.discount = min(bp.max_discount, self.discount + step)
        elif cover + noise < bp.understock_cover * target:
            self.discount = max(0.0, self.discount - step)
        else:
            self.discount = max(0.0, self.discount - 0.2 * step)

    def _update_rating(self) -> None:
        """The rating is the buyers' reviews' mean, shrunk to a neutral prior, older reviews fading."""
        ep = self.model.params.experience
        fade = 0.5 ** (1.0 / ep.rating_memory_days)
        self.review_sum *= fade
        self.review_weight *= fade
        self.rating = rating_from_reviews(self.review_sum, self.review_weight, ep.rating_prior_reviews)
        if self.delivered_today > 0:
            self.return_rate += (1 - fade) * (self.returns_today / self.delivered_today - self.return_rate)

    def _margin(self) -> float:
        """Profit on a yuan of sales at today's price, after commission."""
        price = self.list_price * (1 - self.discount)
        return max(0.0, 1.0 - self.unit_cost / max(price, 1e-9) - self.model.params.platform.commission)

    def _set_ads(self) -> None:
        """Ad spend follows its marginal return under the ranking in force: a yuan of ads buys
        exposure only where the ranking counts ads (gmv_rank), so elsewhere ads wither."""
        bp, platform = self.model.params.brands, self.model.platform
        gain = self._margin() * self.recent_gmv * platform.ad_elasticity(self.idx)
        step = bp.ad_response * self.adapt * float(min(max(np.log(max(gain, 1e-3)), -1.0), 1.0))
        self.ad_rate = float(min(max(max(self.ad_rate, 1e-4) * np.exp(step), 0.0), bp.max_ad_rate))

    def _invest_in_service(self) -> None:
        """Raise service while a step of 0.1 earns more than it costs under the policy in force."""
        bp, platform = self.model.params.brands, self.model.platform
        gain = self._margin() * self.recent_gmv * 0.1 * platform.service_elasticity(self.idx)
        cost = bp.service_investment * self.recent_gmv
        if gain > cost and self.service < 1.0:
            self.service = min(1.0, self.service + 0.01 * self.adapt / max(bp.adapt_small, 1e-9))


    # --- between seasons (sim/model/ecosystem.py calls these once a year) ---------------------------
    def invest_in_quality(self, profit: float, revenue: float) -> float:
        """Raise quality while a step of 0.1 is expected to pay for itself over the horizon under the
        policy in force (quality_feedback ranks by the ratings quality earns, so it pays more there);
        paid from the season's profit. Returns the money spent (model units)."""
        ip = self.model.params.investment
        if profit <= 0 or revenue <= 0 or self.quality >= 1.0:
            return 0.0
        gain = self._margin() * revenue * 0.1 * self.model.platform.quality_elasticity(self.idx) * ip.horizon_years
        cost_per_step = ip.quality_cost * revenue
        if gain <= cost_per_step:
            return 0.0
        step = min(ip.max_step, 1.0 - self.quality, 0.1 * ip.profit_share * profit / cost_per_step)
        self.quality += step
        return cost_per_step * step / 0.1

    def count_loss(self, net_profit: float) -> bool:
        """Keep count of loss-making years in a row; True once the brand has had enough and leaves."""
        self.book.loss_years[self.idx] = self.book.loss_years[self.idx] + 1 if net_profit < 0 else 0
        return bool(self.book.loss_years[self.idx] >= self.model.params.brands.exit_after_years)


SAMPLING_Z = 2.0  # brands react to a stock cover beyond two standard errors of the sample's counting noise


def cover_noise(cover: float, inventory: float, forecast: float, adapt: float) -> float:
    """Standard error of a stock cover that comes only from counting a sample of consumers.

    A simulated brand's stock and demand are counts in a sample (Poisson: variance = mean, in
    simulated units); a real brand's, summed over millions of buyers, carry almost none. So a
    brand with a few units a day would react to noise a real brand never sees (at 3,000
    consumers an appliance brand sells under one unit a day): with the threshold rule below,
    that noise alone raised discounts and season GMV by about 10%. The error shrinks as
    1/sqrt(consumers), so large runs are unchanged. Relative variance: the stock's, 1/stock,
    plus the forecast's, an exponential average of daily counts: adapt / (2 - adapt) / forecast."""
    return cover * float(np.sqrt(1.0 / max(inventory, 1.0) + adapt / ((2.0 - adapt) * max(forecast, 1e-9))))


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
    lead_time = {"big": bp.lead_time_big, "small": bp.lead_time_small, "low_quality": bp.lead_time_low_quality}
    for a, name in enumerate(ARCHETYPE_NAMES):
        spec = ARCHETYPES[name]
        rows = np.flatnonzero(archetypes == a)
        k = len(rows)
        book.quality[rows] = rng.uniform(*spec.quality, k)
        book.service[rows] = rng.uniform(*spec.service, k)
        book.list_price[rows] = prices[rows] * rng.uniform(*spec.premium, k)
        book.unit_cost[rows] = book.list_price[rows] * spec.cost_ratio
        book.lead_time[rows] = lead_time[name]
        book.ad_rate[rows] = bp.ad_rate * spec.ad_multiplier
        book.adapt[rows] = adapt[name]
        book.offline_presence[rows] = spec.offline_presence
        book.participation[rows] = min(1.0, params.festival.participation * spec.participation)
        book.forecast[rows] = spec.size  # relative; scaled to units below
    # Scale forecasts so each category's brands together expect the category's ordinary demand:
    # its need, plus the extra use that everyday discounts bring to goods households keep at home
    # (``consumers.expansion`` x the category's storability).
    cp = params.consumers
    extra_use = np.minimum(cp.expansion_cap, cp.expansion * category_array("storable") * EVERYDAY_DISCOUNT)
    weekly_need = category_array("need_per_week") * cp.need_scale * n_consumers / (1.0 - extra_use)
    for c in range(len(CATEGORIES)):
        rows = book.category == c
        book.forecast[rows] *= weekly_need[c] / 7.0 / book.forecast[rows].sum()
    book.capacity[:] = book.forecast * bp.capacity_factor
    book.inventory[:] = book.forecast * (book.lead_time + bp.safety_days)
    book.base_service[:] = book.service
    book.return_rate[:] = category_array("return_base")[book.category]
    _initial_reviews(book, params, rng)
    book.recent_gmv[:] = book.forecast * book.list_price
    book.discount[:] = rng.uniform(0.0, 2 * EVERYDAY_DISCOUNT, n)
    brands = [Brand(model, i, book) for i in range(n)]
    return book, brands


def rating_from_reviews(review_sum, review_weight, prior_reviews: float):
    """The reviews' mean, shrunk towards a neutral 0.5 with the weight of ``prior_reviews``."""
    return (prior_reviews * 0.5 + review_sum) / (prior_reviews + review_weight)


def _initial_reviews(book: BrandBook, params: Params, rng: np.random.Generator) -> None:
    """Existing brands start with the reviews of ``initial_reviews_days`` of ordinary sales:
    their expected outcome plus each brand's lasting review bias plus sampling noise."""
    ep = params.experience
    book.review_bias[:] = rng.normal(0.0, ep.review_bias, book.n)
    fade = 0.5 ** (1.0 / ep.rating_memory_days)
    days = fade ** np.arange(int(ep.initial_reviews_days))
    book.review_weight[:] = book.forecast * params.weight * ep.review_share * days.sum()
    returns = book.return_rate * (1 + ep.return_quality_slope * np.maximum(0.0, ep.expected_quality - book.quality))
    expected = (0.5 + ep.quality_weight * (book.quality - 0.5) + ep.service_weight * (book.service - 0.5)
                - ep.return_penalty * returns)
    noise = rng.normal(0.0, ep.review_noise, book.n) * np.sqrt(np.maximum(book.review_weight, 1.0))
    book.review_sum[:] = book.review_weight * (np.clip(expected, 0, 1) + book.review_bias) + noise
    book.rating[:] = rating_from_reviews(book.review_sum, book.review_weight, ep.rating_prior_reviews)
