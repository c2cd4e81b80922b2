"""Consumers: columnar state and hourly decisions.

One Mesa agent, ``ConsumerPopulation``, holds every simulated consumer as columns of
numpy arrays; a Python object per consumer would cost a call per consumer-hour (see
``benchmarks/reference_per_agent.py``). Each hour only the consumers drawn as active are
touched: need and savings grow lazily between a consumer's sessions, so idle consumers
cost nothing. The per-consumer loops of an hour (activity, choice) are compiled kernels
in ``consumer_kernels.py``, fed with uniforms drawn here. ``population.consumer(i)``
returns one consumer's state for inspection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from ..catalog import CATEGORIES, TIERS, category_array
from ..params import Params
from .consumer_kernels import MAX_UNITS, NEED_CAP, STOCKPILE_MIN_DISCOUNT, activate_hour, shop_hour  # noqa: F401 (constants re-exported)

if TYPE_CHECKING:
    from ..model import Double11Model

HOURS_PER_WEEK = 168.0
EXPECTED_QUALITY = 0.6    # quality consumers expect; below it returns and dissatisfaction rise


@dataclass(frozen=True)
class Consumer:
    """A read-only snapshot of one simulated consumer."""

    index: int
    tier: str
    weekly_budget: float
    wallet: float
    price_sensitivity: float
    quality_sensitivity: float
    deal_proneness: float
    online_preference: float
    aware: bool
    need: dict[str, float]
    loyal_brand: dict[str, int]
    reference_price: dict[str, float]
    satisfaction: float
    churned: bool


@dataclass
class Sessions:
    """The active consumers of one hour and what each decided (one entry per session)."""

    consumer: np.ndarray      # consumer index
    category: np.ndarray
    venue: np.ndarray         # 0 = online, v >= 1 = offline venue v - 1
    presale: np.ndarray       # bool: a pre-sale offer (deposit now, order at window opening)
    brand: np.ndarray         # chosen brand, -1 = outside option
    units: np.ndarray
    price: np.ndarray         # unit price paid
    discount: np.ndarray      # discount depth of the chosen offer
    delay_h: np.ndarray       # expected delivery delay (online)
    surplus: np.ndarray       # money-metric consumer surplus of the session, yuan

    @property
    def bought(self) -> np.ndarray:
        return self.brand >= 0


@dataclass
class Offer:
    """What the market shows this hour, as small per-(venue group, brand) tables.

    Groups: 0 = online, 1.. = offline venues, last = pre-sale offers. Tables are computed
    once per hour so the per-session work is gathers, not recomputation.
    """

    discount: np.ndarray       # (groups, brands) discount depth off list price
    price: np.ndarray          # (groups, brands) unit price, yuan
    price_index: np.ndarray    # (groups, brands) price / the category's typical price
    log_price_index: np.ndarray
    available: np.ndarray      # (groups, brands) bool: carried there and in stock
    appeal: np.ndarray         # (brands,) service and rating part of utility
    quality: np.ndarray        # (brands,)
    cum_weights: np.ndarray    # (groups x categories, max brands) cumulative sampling weights
    cat_brands: np.ndarray     # (categories, max brands) brand indices, -1 padded
    online_rate: float         # session rate of a fully online consumer this hour
    offline_rate: float        # session rate of a fully offline consumer this hour
    venue_cum: np.ndarray      # (tiers, categories, offline venues) cumulative choice weights
    venue_capacity: np.ndarray # (offline venues,) simulated visits per hour
    anticipation: float        # utility of waiting for an announced festival (0 if none)
    presale: bool              # deposits are being taken this hour
    expected_delay_h: float


class ConsumerPopulation(mesa.Agent):
    """All simulated consumers, as columns; decides the active ones' sessions each hour."""

    def __init__(self, model: "Double11Model", params: Params, rng: np.random.Generator, draws: np.random.Generator):
        super().__init__(model)
        cp = params.consumers
        n, n_cat = cp.n, len(CATEGORIES)
        self.n = n
        self.params = cp
        self.draws = draws  # the hourly decisions' stream, apart from the population's
        self.tier = rng.choice(len(TIERS), size=n, p=np.asarray(cp.tier_shares)).astype(np.int8)
        self.weekly_budget = (cp.weekly_budget * rng.lognormal(-cp.budget_sigma**2 / 2, cp.budget_sigma, n)).astype(np.float32)
        self.wallet = (self.weekly_budget * rng.uniform(1.0, 5.0, n)).astype(np.float32)
        self.price_sensitivity = (cp.price_sensitivity * rng.lognormal(-0.08, 0.4, n)).astype(np.float32)
        self.quality_sensitivity = (cp.quality_sensitivity * rng.lognormal(-0.08, 0.4, n)).astype(np.float32)
        self.deal_proneness = _beta_with_mean(rng, cp.deal_proneness, 4.0, n).astype(np.float32)
        rural = self.tier == TIERS.index("rural")
        pref_mean = np.where(rural, cp.online_preference * 0.8, cp.online_preference)
        self.online_preference = _beta_with_mean(rng, pref_mean, 6.0, n).astype(np.float32)
        self.aware = rng.random(n) < cp.festival_awareness
        self.need_rate = (category_array("need_per_week") / HOURS_PER_WEEK).astype(np.float32)
        # In a steady state a consumer is anywhere between two purchases of one unit.
        # Need grows linearly, so it is stored as its value at hour 0 (``need_base``):
        # need(t) = need_base + rate * t costs nothing to keep up to date for idle consumers.
        self.need_base = rng.uniform(0.0, 1.2, (n, n_cat)).astype(np.float32)
        self.last_hour = np.zeros(n, dtype=np.int32)  # when the wallet was last brought up to date
        self.loyal = np.full((n, n_cat), -1, dtype=np.int16)
        self.reference = np.full((n, n_cat), 0.95, dtype=np.float32)
        self.satisfaction = np.full(n, 0.7, dtype=np.float32)
        self.churned = np.zeros(n, dtype=bool)
        self.turned_away = 0
        self.category_price = category_array("price")
        self.return_base = category_array("return_base")
        self.storable = category_array("storable")

    def seed_loyalty(self, cat_brands: np.ndarray, brand_size: np.ndarray, rng: np.random.Generator) -> None:
        """Start with some consumers loyal to a brand per category, more often to big ones."""
        share = self.params.initial_loyalty
        for c in range(cat_brands.shape[0]):
            members = cat_brands[c][cat_brands[c] >= 0]
            p = brand_size[members] / brand_size[members].sum()
            loyal = rng.random(self.n) < share
            self.loyal[loyal, c] = rng.choice(members, size=int(loyal.sum()), p=p)

    def __len__(self) -> int:
        return self.n

    def consumer(self, i: int) -> Consumer:
        need = self.need_now(np.array([i]))[0]
        names = [c.name for c in CATEGORIES]
        return Consumer(
            index=i, tier=TIERS[self.tier[i]], weekly_budget=float(self.weekly_budget[i]),
            wallet=float(self._wallet_now(np.array([i]))[0]),
            price_sensitivity=float(self.price_sensitivity[i]), quality_sensitivity=float(self.quality_sensitivity[i]),
            deal_proneness=float(self.deal_proneness[i]), online_preference=float(self.online_preference[i]),
            aware=bool(self.aware[i]), need=dict(zip(names, map(float, need))),
            loyal_brand=dict(zip(names, map(int, self.loyal[i]))),
            reference_price=dict(zip(names, map(float, self.reference[i]))),
            satisfaction=float(self.satisfaction[i]), churned=bool(self.churned[i]),
        )

    # --- activity -------------------------------------------------------------------
    def _wallet_now(self, idx: np.ndarray) -> np.ndarray:
        elapsed = (self.model.hour - self.last_hour[idx]).astype(np.float32)
        budget = self.weekly_budget[idx]
        cap = budget * np.float32(self.params.savings_cap_weeks)
        return np.minimum(cap, np.maximum(self.wallet[idx], 0) + budget * elapsed / np.float32(HOURS_PER_WEEK))

    def activate(self, offer: Offer) -> tuple[np.ndarray, np.ndarray]:
        """Draw this hour's sessions by thinning: candidates at the highest rate, kept in proportion.

        Returns the active consumers (sorted) and whether each shops online.
        """
        lam_on, lam_off = offer.online_rate, offer.offline_rate
        lam_max = 1.5 * max(lam_on, lam_off)  # satisfaction factor is at most 1.5
        if lam_max <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=bool)
        candidates = bernoulli_indices(self.draws, self.n, min(lam_max, 1.0))
        uniforms = self.draws.random((candidates.size, 2))  # thinning, online or offline
        f32 = np.float32
        return activate_hour(candidates, uniforms, f32(lam_on), f32(lam_off), float(lam_max),
                             self.online_preference, self.satisfaction, self.churned,
                             self.wallet, self.weekly_budget, self.last_hour, int(self.model.hour),
                             f32(self.params.savings_cap_weeks), f32(HOURS_PER_WEEK))

    def need_now(self, idx: np.ndarray) -> np.ndarray:
        """Units needed now, per consumer and category."""
        return np.take(self.need_base, idx, axis=0) + self.need_rate * np.float32(self.model.hour)

    # --- choice ---------------------------------------------------------------------
    def shop(self, idx: np.ndarray, online: np.ndarray, offer: Offer) -> Sessions:
        """Sessions of the active consumers: category, venue, consideration set, logit choice.

        The uniforms are drawn here from the population's stream, one block per hour in a
        fixed layout; the per-session loop is the compiled ``consumer_kernels.shop_hour``.
        """
        cp, f32 = self.params, np.float32
        uniforms = self.draws.random((idx.size, 6 + cp.consideration_size))
        *decided, self.turned_away = shop_hour(
            idx, online, int(self.model.hour), bool(offer.presale), float(self.model.params.festival.presale_reach),
            offer.price, offer.discount, offer.price_index, offer.log_price_index, offer.available,
            offer.appeal, offer.quality, offer.cum_weights, offer.cat_brands, offer.venue_cum, offer.venue_capacity,
            self.tier, self.loyal, self.reference, self.wallet, self.need_base, self.need_rate,
            self.quality_sensitivity, self.price_sensitivity, self.deal_proneness, self.aware,
            self.storable, self.category_price,
            f32(cp.reference_weight), f32(cp.reference_weight * cp.loss_aversion), f32(cp.loyalty_bonus),
            f32(cp.deal_weight), f32(cp.delay_aversion / 24.0), f32(offer.expected_delay_h),
            f32(cp.outside_utility), f32(cp.need_weight), f32(offer.anticipation), f32(cp.reference_smoothing),
            float(cp.stockpile_rate),
            uniforms,
        )
        return Sessions(*decided)

    # --- experience -----------------------------------------------------------------
    def commit(self, idx: np.ndarray, category: np.ndarray, units: np.ndarray, spend: np.ndarray, unique: bool = False) -> None:
        """A purchase or pre-order: need falls by the units, the wallet by the money.

        ``unique``: each consumer appears once (one session per consumer-hour), so a plain
        fancy-index update equals the (slower) unbuffered ``ufunc.at``.
        """
        if unique:
            cell = idx * self.need_base.shape[1] + category
            flat = self.need_base.reshape(-1)
            flat[cell] = flat[cell] - units.astype(np.float32)
            self.wallet[idx] = self.wallet[idx] - spend.astype(np.float32)
            return
        np.subtract.at(self.need_base, (idx, category), units.astype(np.float32))
        np.subtract.at(self.wallet, idx, spend.astype(np.float32))

    def experience(self, idx: np.ndarray, category: np.ndarray, brand: np.ndarray, outcome: np.ndarray) -> None:
        """Satisfaction follows outcomes; good ones build loyalty, bad ones break it and may churn."""
        cp = self.params
        sat = self.satisfaction
        np.add.at(sat, idx, (cp.satisfaction_speed * (outcome - sat[idx])).astype(np.float32))
        loyal = self.loyal[idx, category]
        self.loyal[idx, category] = np.where(outcome > 0.6, brand, np.where((outcome < 0.4) & (loyal == brand), -1, loyal))
        at_risk = (sat[idx] < cp.churn_threshold) & (outcome < 0.4)
        churn = at_risk & (self.draws.random(idx.size) < cp.churn_probability)
        self.churned[idx[churn]] = True

    def return_probability(self, category: np.ndarray, quality: np.ndarray, units: np.ndarray, online: np.ndarray) -> np.ndarray:
        base = self.return_base[category] * np.where(online, 1.0, 0.3)
        p = base * (1 + 2 * np.maximum(0.0, EXPECTED_QUALITY - quality)) * (1 + 0.3 * (units - 1))
        return np.minimum(p, 0.9)

    def step(self) -> None:
        """Consumers act through the model's hourly phases (``shop``/``experience``)."""


def bernoulli_indices(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    """Sorted indices of n independent Bernoulli(p) trials that succeed, in O(successes).

    Gaps between successes are geometric, so idle consumers are never touched.
    """
    if p >= 1.0:
        return np.arange(n)
    expected = n * p
    gaps = rng.geometric(p, int(expected + 6 * np.sqrt(expected) + 16))
    positions = np.cumsum(gaps) - 1
    while positions[-1] < n:  # rare: draw more gaps until past the end
        more = np.cumsum(rng.geometric(p, int(np.sqrt(expected) + 16))) + positions[-1]
        positions = np.concatenate([positions, more])
    return positions[positions < n]


def _beta_with_mean(rng: np.random.Generator, mean: np.ndarray | float, concentration: float, n: int) -> np.ndarray:
    mean = np.clip(np.broadcast_to(mean, (n,)), 0.01, 0.99)
    return rng.beta(mean * concentration, (1 - mean) * concentration)
