"""Consumers: columnar state and vectorized hourly decisions.

One Mesa agent, ``ConsumerPopulation``, holds every simulated consumer as columns of
numpy arrays; a Python object per consumer would cost a call per consumer-hour (see
``benchmarks/reference_per_agent.py``). Each hour only the consumers drawn as active are
touched: need and savings grow lazily between a consumer's sessions, so idle consumers
cost nothing. ``population.consumer(i)`` returns one consumer's state for inspection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from ..catalog import CATEGORIES, TIERS, category_array
from ..params import Params

if TYPE_CHECKING:
    from ..model import Double11Model

HOURS_PER_WEEK = 168.0
NEED_CAP = 3.0            # need beyond three units adds no more purchase pressure
MAX_UNITS = 6             # most units one purchase takes, stockpiling included
STOCKPILE_MIN_DISCOUNT = 0.1
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

    @property
    def n_groups(self) -> int:
        return self.price.shape[0]


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
        rng = self.draws
        lam_on, lam_off = offer.online_rate, offer.offline_rate
        lam_max = 1.5 * max(lam_on, lam_off)  # satisfaction factor is at most 1.5
        if lam_max <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=bool)
        idx = bernoulli_indices(rng, self.n, min(lam_max, 1.0))
        pref = self.online_preference[idx]
        factor = 0.5 + self.satisfaction[idx]
        on = pref * lam_on
        rate = (on + (1 - pref) * lam_off) * factor
        keep = np.flatnonzero((rng.random(idx.size) * lam_max < rate) & ~self.churned[idx])
        idx, on, rate, factor = idx[keep], on[keep], rate[keep], factor[keep]
        online = rng.random(idx.size) * (rate / factor) < on
        self._catch_up(idx)
        return idx, online

    def _catch_up(self, idx: np.ndarray) -> None:
        """Bring the savings of the active consumers up to this hour."""
        self.wallet[idx] = self._wallet_now(idx)
        self.last_hour[idx] = self.model.hour

    def need_now(self, idx: np.ndarray, category: np.ndarray | None = None) -> np.ndarray:
        """Units needed now: all categories per consumer, or one category per consumer."""
        growth = self.need_rate * np.float32(self.model.hour)
        if category is None:
            return np.take(self.need_base, idx, axis=0) + growth
        return np.take(self.need_base, idx * self.need_base.shape[1] + category) + growth[category]

    # --- choice ---------------------------------------------------------------------
    def shop(self, idx: np.ndarray, online: np.ndarray, offer: Offer) -> Sessions:
        """Sessions of the active consumers: category, venue, consideration set, logit choice."""
        rng = self.draws
        need = self.need_now(idx)
        positive = np.maximum(need, 0)
        total = positive.sum(axis=1)
        has_need = total > 0
        idx, online, positive, total = idx[has_need], online[has_need], positive[has_need], total[has_need]
        category = _count_below(positive, rng.random(idx.size) * total)
        category = np.minimum(category, len(CATEGORIES) - 1)

        venue = np.zeros(idx.size, dtype=np.int64)
        offline = ~online
        self.turned_away = 0
        if offline.any():
            venue[offline] = self._pick_venue(offer, self.tier[idx[offline]], category[offline])
            idx, category, venue = self._admit(offer, idx, category, venue)
        presale = np.zeros(idx.size, dtype=bool)
        if offer.presale:
            presale = (venue == 0) & (rng.random(idx.size) < self.model.params.festival.presale_reach)
        group = np.where(presale, offer.n_groups - 1, venue)
        return self._choose(idx, category, venue, group, presale, offer)

    def _pick_venue(self, offer: Offer, tier: np.ndarray, category: np.ndarray) -> np.ndarray:
        """Offline venue among those open in the consumer's tier with the category; 0 (online) if none."""
        cum = offer.venue_cum[tier, category]          # (k, venues)
        total = cum[:, -1]
        u = self.draws.random(tier.size) * total
        pick = (cum[:, 0] < u).astype(np.int64)
        for j in range(1, cum.shape[1]):
            pick += cum[:, j] < u
        return np.where(total > 0, pick + 1, 0)

    def _admit(self, offer: Offer, idx: np.ndarray, category: np.ndarray, venue: np.ndarray):
        """Venues over their hourly visit capacity turn a random share of visitors away."""
        visits = np.bincount(venue, minlength=offer.venue_capacity.size + 1)[1:]
        accept = np.minimum(1.0, offer.venue_capacity / np.maximum(visits, 1))
        admitted = (venue == 0) | (self.draws.random(venue.size) < accept[venue - 1])
        self.turned_away = int((~admitted).sum())
        return idx[admitted], category[admitted], venue[admitted]

    def _consider(self, idx: np.ndarray, category: np.ndarray, group: np.ndarray, offer: Offer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Consideration sets: s draws weighted by exposure (online) or shelf (offline), plus the loyal brand.

        Returns options (k, s + 1), whether each is a distinct available option, and the loyal brand.
        """
        k, s = idx.size, self.params.consideration_size
        slots = offer.cat_brands.shape[1]
        row = group * offer.cat_brands.shape[0] + category
        cum_t = np.ascontiguousarray(offer.cum_weights.T)                          # (slots, rows), tiny
        u_t = np.ascontiguousarray(self.draws.random((k, s), dtype=np.float32).T)  # (s, k), same draws
        pos = np.zeros((s, k), dtype=np.int8)
        for j in range(slots - 1):  # inverse CDF: count the cumulative weights below the draw
            pos += np.take(cum_t[j], row) < u_t
        options = np.empty((k, s + 1), dtype=np.int64)
        options[:, :s] = np.take(offer.cat_brands, (category * slots)[:, None] + pos.T)
        loyal = np.take(self.loyal, idx * self.loyal.shape[1] + category).astype(np.int64)
        options[:, s] = loyal
        valid = options >= 0
        for j in range(1, s + 1):
            for i in range(j):
                valid[:, j] &= options[:, j] != options[:, i]
        options = np.where(valid, options, 0)
        valid &= offer.available.ravel()[group[:, None] * offer.available.shape[1] + options]
        return options, valid, loyal

    def _choose(self, idx, category, venue, group, presale, offer: Offer) -> Sessions:
        cp, rng = self.params, self.draws
        k = idx.size
        options, valid, loyal = self._consider(idx, category, group, offer)
        flat = group[:, None] * offer.price.shape[1] + options
        price = offer.price.ravel()[flat]
        discount = offer.discount.ravel()[flat]
        x = offer.price_index.ravel()[flat]
        wallet = self.wallet[idx]
        valid &= price <= wallet[:, None]
        cell = idx * self.reference.shape[1] + category
        ref = np.take(self.reference, cell)
        f32 = np.float32
        # Utility, built in place: quality, service and rating, price, gain/loss against the
        # reference price, loyalty, deal appeal, expected delivery delay.
        utility = offer.quality[options]
        utility *= self.quality_sensitivity[idx][:, None]
        utility += offer.appeal[options]
        utility -= offer.log_price_index.ravel()[flat] * self.price_sensitivity[idx][:, None]
        gain = ref[:, None] - x
        gain *= np.where(gain < 0, f32(cp.reference_weight * cp.loss_aversion), f32(cp.reference_weight))
        utility += gain
        utility += f32(cp.loyalty_bonus) * (options == loyal[:, None])
        utility += discount * (f32(cp.deal_weight) * self.deal_proneness[idx])[:, None]
        delay_h = np.where(venue == 0, f32(offer.expected_delay_h), f32(0))
        utility -= (f32(cp.delay_aversion / 24.0) * delay_h)[:, None]
        np.putmask(utility, ~valid, -np.inf)
        # Waiting is attractive while little of a unit is needed: log need, 0 at one full unit.
        need = np.clip(self.need_now(idx, category), 1e-3, NEED_CAP)
        outside = f32(cp.outside_utility) - f32(cp.need_weight) * np.log(need)
        outside += np.where(self.aware[idx] & ~presale, f32(offer.anticipation), f32(0))

        bought, slot, logsum = logit_choice(utility, outside, rng.random(k))
        rows = np.arange(k)
        brand = np.where(bought, options[rows, slot], -1)
        paid = np.where(bought, price[rows, slot], 0.0)
        depth = np.where(bought, discount[rows, slot], 0.0)
        x_paid = np.where(bought, x[rows, slot], 0.0)

        units = np.where(bought, 1, 0)
        deal = bought & (depth >= STOCKPILE_MIN_DISCOUNT)
        extra = rng.poisson(cp.stockpile_rate * self.storable[category] * self.deal_proneness[idx] * depth)
        affordable = np.floor(wallet / np.maximum(paid, 1e-9))
        units = np.where(deal, np.minimum(np.minimum(1 + extra, MAX_UNITS), affordable), units).astype(np.int64)

        surplus = (logsum - outside) * self.category_price[category] / self.price_sensitivity[idx]
        n_seen = _count_true(valid)
        seen = np.where(valid, x, 0.0).sum(axis=1) / np.maximum(n_seen, 1)
        observed = np.where(bought, x_paid, np.where(n_seen > 0, seen, ref))
        self.reference.reshape(-1)[cell] = ref + np.float32(cp.reference_smoothing) * (observed - ref)
        return Sessions(idx, category, venue, presale, brand, units, paid, depth, delay_h, surplus)

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


def logit_choice(utility: np.ndarray, outside: np.ndarray, uniform: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Multinomial logit with an outside option, decided by one uniform draw per row.

    ``utility`` is (rows, options) with -inf for unavailable options. Returns whether an
    inside option was chosen, which one, and the log-sum of all exponentiated utilities
    (the expected maximum utility, for consumer surplus).
    """
    width = utility.shape[1]
    top = outside
    for j in range(width):  # row max by columns: numpy reduces a short last axis slowly
        top = np.maximum(top, utility[:, j])
    cum = utility - top[:, None]
    np.exp(cum, out=cum)
    for j in range(1, width):  # running sum by columns, the order of np.cumsum
        cum[:, j] += cum[:, j - 1]
    exp_outside = np.exp(outside - top)
    total = exp_outside + cum[:, -1]
    r = uniform * total  # [0, exp_outside) is the outside option, then each inside option in turn
    bought = r >= exp_outside
    left = r - exp_outside
    slot = (cum[:, 0] < left).astype(np.int64)
    for j in range(1, width - 1):  # the last column only matters when clipped below
        slot += cum[:, j] < left
    return bought, slot, np.log(total) + top


def _count_below(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Per row, how many running sums of ``weights`` (the order of np.cumsum) are below ``u``."""
    acc = weights[:, 0].copy()
    count = (acc < u).astype(np.int64)
    for j in range(1, weights.shape[1]):
        acc += weights[:, j]
        count += acc < u
    return count


def _count_true(mask: np.ndarray) -> np.ndarray:
    """Row counts of a (rows, few) bool array, column by column (exact, faster than sum(axis=1))."""
    count = mask[:, 0].astype(np.int64)
    for j in range(1, mask.shape[1]):
        count += mask[:, j]
    return count


def _beta_with_mean(rng: np.random.Generator, mean: np.ndarray | float, concentration: float, n: int) -> np.ndarray:
    mean = np.clip(np.broadcast_to(mean, (n,)), 0.01, 0.99)
    return rng.beta(mean * concentration, (1 - mean) * concentration)
