"""Consumers: columnar state and hourly decisions.

One Mesa agent, ``ConsumerPopulation``, holds every simulated consumer as columns of
numpy arrays (views of one record per consumer, ``consumer_records.py``, so that an active
consumer's data sit together); a Python object per consumer would cost a call per consumer-hour (see
``benchmarks/reference_per_agent.py``). Each hour only the consumers drawn as active are
touched: need and savings grow lazily between a consumer's sessions, so idle consumers
cost nothing. The per-consumer loops of an hour (activity, choice) are compiled kernels
in ``sim/model/kernels/``, fed with uniforms drawn here. ``population.consumer(i)``
returns one consumer's state for inspection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model.catalog import CATEGORIES, EVERYDAY_DISCOUNT, TIERS, category_array
from sim.model.params import Params
from sim.model.steady_state import draw_need, draw_wallet_share
from sim.model.agents.consumer_records import RECORD, interleave
from sim.model.kernels.activity import activate_hour
from sim.model.kernels.experience import commit_orders, experience_update
from sim.model.kernels.records import (
    ActivityColumns, ActivityRates, ChoiceSettings, ExperienceColumns, ExperienceRules, HourConditions, OfferTables,
    ShopperColumns,
)
from sim.model.kernels.reference import fade_references
from sim.model.kernels.shop import N_FIXED_UNIFORMS, shop_hour

if TYPE_CHECKING:
    from sim.model.double11 import Double11Model

HOURS_PER_WEEK = 168.0
NEVER = np.iinfo(np.int32).max  # churned_until of a consumer who never comes back


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
    reference_discount: dict[str, float]
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
    relief: np.ndarray        # need the purchase relieves (units, less the extra consumption a deal brings)
    pickup: np.ndarray        # bool: an online order picked up at venue ``venue`` (online price, no parcel)
    visits: np.ndarray        # (offline venues,) visitors per venue this hour
    turned_away: np.ndarray   # (offline venues,) visitors turned away by a full venue
    offline_demand: np.ndarray  # (tiers, categories) sessions of consumers who chose to shop offline

    @property
    def bought(self) -> np.ndarray:
        return self.brand >= 0


@dataclass
class Offer:
    """What the market shows this hour: the tables the choice reads, and the hour's rates."""

    tables: OfferTables
    online_rate: float         # session rate of a fully online consumer this hour
    offline_rate: float        # session rate of a fully offline consumer this hour
    presale: bool              # deposits are being taken this hour
    expected_delay_h: float
    anticipation: float        # utility of waiting for the coming window at zero need (0 if none)
    urgency: float             # utility of buying before the open window closes (0 if none)
    urgency_activity: float    # extra session rate of aware consumers near a close (0 if none)
    boost_online: float        # online session rate relative to an ordinary hour's (the festival's pull)
    boost_offline: float       # the same offline


class ConsumerPopulation(mesa.Agent):
    """All simulated consumers, as columns; decides the active ones' sessions each hour."""

    def __init__(self, model: "Double11Model", params: Params, rng: np.random.Generator, draws: np.random.Generator):
        super().__init__(model)
        cp = params.consumers
        n, n_cat = cp.n, len(CATEGORIES)
        self.n = n
        self.params = cp
        self.experience_params = params.experience
        self.mechanisms = params.mechanisms
        self.draws = draws  # the hourly decisions' stream, apart from the population's
        self.tier = rng.choice(len(TIERS), size=n, p=np.asarray(cp.tier_shares)).astype(np.int8)
        # Tiers differ in budget; the ratios are normalised so the mean budget stays weekly_budget.
        tier_budget = np.asarray(cp.tier_budget) / float(np.dot(cp.tier_budget, cp.tier_shares))
        budget_draw = rng.lognormal(-cp.budget_sigma**2 / 2, cp.budget_sigma, n)
        self.weekly_budget = (cp.weekly_budget * tier_budget[self.tier] * budget_draw).astype(np.float32)
        self.wallet = self._steady_wallets(rng)
        self.price_sensitivity = (cp.price_sensitivity * rng.lognormal(-0.08, 0.4, n)).astype(np.float32)
        self.quality_sensitivity = (cp.quality_sensitivity * rng.lognormal(-0.08, 0.4, n)).astype(np.float32)
        self.deal_proneness = _beta_with_mean(rng, cp.deal_proneness, 4.0, n).astype(np.float32)
        self.online_preference = _beta_with_mean(rng, tier_online_preference(cp)[self.tier], 6.0, n).astype(np.float32)
        self.aware = rng.random(n) < cp.festival_awareness
        self.need_rate = (category_array("need_per_week") * cp.need_scale / HOURS_PER_WEEK).astype(np.float32)
        # Need starts from the ordinary economy's steady state (sim/model/steady_state.py). It grows
        # linearly, so it is stored as its value at hour 0 (``need_base``): need(t) = need_base +
        # rate * t costs nothing to keep up to date for idle consumers.
        self.need_base = draw_need(rng, n)
        self.last_hour = np.zeros(n, dtype=np.int32)  # when the wallet was last brought up to date
        self.loyal = np.full((n, n_cat), -1, dtype=np.int16)
        # The discount off a brand's regular price that the consumer remembers seeing in the
        # category: a brand's reference price is its own regular price less this, so a premium
        # brand at its regular price is no loss, while deep festival prices lower it for a while.
        self.ref_discount = np.full((n, n_cat), EVERYDAY_DISCOUNT, dtype=np.float32)
        self.satisfaction = np.full(n, 0.7, dtype=np.float32)
        self.churned_until = np.zeros(n, dtype=np.int32)  # shops again from this hour (0: never churned)
        # One record per consumer (two cache lines), the columns being views of its fields: see consumer_records.
        self.__dict__.update(interleave({name: getattr(self, name) for name in RECORD.names}))
        self.churn_events = 0
        self.category_price = category_array("price")
        self.return_base = category_array("return_base")
        self.storable = category_array("storable")
        self.settings = ChoiceSettings(
            gain_weight=np.float32(cp.reference_weight), loss_weight=np.float32(cp.reference_weight * cp.loss_aversion),
            loyalty_bonus=np.float32(cp.loyalty_bonus), deal_weight=np.float32(cp.deal_weight),
            delay_per_hour=np.float32(cp.delay_aversion / 24.0), outside_utility=np.float32(cp.outside_utility),
            need_weight=np.float32(cp.need_weight), need_cap=np.float32(cp.need_cap),
            anticipation_need=np.float32(cp.anticipation_need), reference_smoothing=np.float32(cp.reference_smoothing),
            reference_recovery=np.float32(cp.reference_recovery),
            stockpile_rate=float(cp.stockpile_rate),
            stockpile_min_discount=np.float32(cp.stockpile_min_discount), max_units=int(cp.max_units),
            expansion=np.float32(cp.expansion), expansion_cap=np.float32(cp.expansion_cap),
            stockpiling=bool(params.mechanisms.stockpiling),
            reference_prices=bool(params.mechanisms.reference_prices),
        )

    def __setstate__(self, state: dict) -> None:
        """A copy (``copy.deepcopy``, pickle) gets the columns as separate arrays: interleave them again."""
        self.__dict__.update(state)
        self.__dict__.update(interleave({name: state[name] for name in RECORD.names}))

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
            reference_discount=dict(zip(names, map(float, self.ref_discount[i]))),
            satisfaction=float(self.satisfaction[i]), churned=bool(self.churned_until[i] > self.model.hour),
        )

    def next_season(self, hours: int, rng: np.random.Generator) -> None:
        """A new season restarts the clock ``hours`` on. The ten unsimulated months in between use up
        what was stockpiled and let remembered prices and wallets settle: needs, reference discounts and
        wallets are drawn again as at the start. Satisfaction, loyalty and churn carry over; churned
        consumers stay away as long as they would have."""
        self.need_base[...] = draw_need(rng, self.n)  # in place: the columns are views of the consumers' records
        self.ref_discount[:] = np.float32(EVERYDAY_DISCOUNT)
        self.wallet[...] = self._steady_wallets(rng)
        self.last_hour[:] = 0
        away = (self.churned_until > 0) & (self.churned_until < NEVER)
        self.churned_until[away] = np.maximum(self.churned_until[away] - hours, 0)

    def _steady_wallets(self, rng: np.random.Generator) -> np.ndarray:
        """Wallets as the ordinary economy leaves them: a steady-state share of each savings cap."""
        cap = self.weekly_budget * np.float32(self.params.savings_cap_weeks)
        return (cap * draw_wallet_share(rng, self.n)).astype(np.float32)

    # --- activity -------------------------------------------------------------------
    def _wallet_now(self, idx: np.ndarray) -> np.ndarray:
        elapsed = (self.model.hour - self.last_hour[idx]).astype(np.float32)
        budget = self.weekly_budget[idx]
        cap = budget * np.float32(self.params.savings_cap_weeks)
        return np.minimum(cap, np.maximum(self.wallet[idx], 0) + budget * elapsed / np.float32(HOURS_PER_WEEK))

    def settle_wallets(self, idx: np.ndarray) -> np.ndarray:
        """Bring the wallets of ``idx`` up to this hour, as a session here does, and return them."""
        wallet = self._wallet_now(idx)
        self.wallet[idx] = wallet
        self.last_hour[idx] = self.model.hour
        return wallet

    @property
    def churned(self) -> np.ndarray:
        """Consumers who have churned and not (yet) come back."""
        return self.churned_until > self.model.hour

    def activate(self, offer: Offer) -> tuple[np.ndarray, np.ndarray]:
        """Draw this hour's sessions by thinning: candidates at the highest rate, kept in proportion.

        Returns the active consumers (sorted) and whether each shops online.
        """
        cp, f32 = self.params, np.float32
        lam_on, lam_off = offer.online_rate, offer.offline_rate
        lam_max = (cp.activity_floor + 1.0) * (1.0 + offer.urgency_activity) * max(lam_on, lam_off)  # satisfaction <= 1
        if lam_max <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=bool)
        candidates = bernoulli_indices(self.draws, self.n, min(lam_max, 1.0))
        uniforms = self.draws.random((candidates.size, 2))  # thinning, online or offline
        rates = ActivityRates(online=f32(lam_on), offline=f32(lam_off), highest=float(lam_max),
                              urgency_activity=f32(offer.urgency_activity), activity_floor=f32(cp.activity_floor),
                              hour=int(self.model.hour), savings_cap_weeks=f32(cp.savings_cap_weeks),
                              hours_per_week=f32(HOURS_PER_WEEK))
        columns = ActivityColumns(*(getattr(self, name) for name in ActivityColumns._fields))
        return activate_hour(candidates, uniforms, rates, columns)

    def forget_deals(self) -> None:
        """Once a day, remembered discounts fade towards the everyday one (half-life
        ``reference_memory_weeks``): a festival's deep references wear off with time, also in
        categories a consumer does not shop for months (durables)."""
        if not self.settings.reference_prices:
            return
        keep = np.float32(0.5 ** (1.0 / (7.0 * self.params.reference_memory_weeks)))
        fade_references(self.ref_discount, keep, np.float32(EVERYDAY_DISCOUNT))

    def need_now(self, idx: np.ndarray) -> np.ndarray:
        """Units needed now, per consumer and category."""
        return np.take(self.need_base, idx, axis=0) + self.need_rate * np.float32(self.model.hour)

    # --- choice ---------------------------------------------------------------------
    def shop(self, idx: np.ndarray, online: np.ndarray, offer: Offer) -> Sessions:
        """Sessions of the active consumers: category, venue, consideration set, logit choice.

        The uniforms are drawn here from the population's stream, one block per hour in a
        fixed layout; the per-session loop is the compiled ``kernels.shop.shop_hour``.
        """
        uniforms = self.draws.random((idx.size, N_FIXED_UNIFORMS + self.params.consideration_size))
        return Sessions(*shop_hour(idx, online, offer.tables, self.shoppers(), self.settings,
                                   self.conditions(offer), uniforms))

    def shoppers(self) -> ShopperColumns:
        """The columns the choice reads (the arrays themselves: the choice updates ``ref_discount``)."""
        return ShopperColumns(*(getattr(self, name) for name in ShopperColumns._fields))

    def conditions(self, offer: Offer) -> HourConditions:
        """What the choice needs to know of this hour."""
        return HourConditions(
            hour=int(self.model.hour), presale_open=bool(offer.presale),
            presale_reach=float(self.model.params.festival.presale_reach),
            expected_delay_h=np.float32(offer.expected_delay_h), anticipation=np.float32(offer.anticipation),
            urgency=np.float32(offer.urgency), urgency_activity=float(offer.urgency_activity),
            boost_online=float(offer.boost_online), boost_offline=float(offer.boost_offline),
        )

    # --- experience -----------------------------------------------------------------
    def commit(self, idx: np.ndarray, category: np.ndarray, relief: np.ndarray, spend: np.ndarray) -> None:
        """A purchase or pre-order: need falls by the need it relieves, the wallet by the money."""
        commit_orders(self.need_base, self.wallet, idx, category, relief, spend)

    def experience(self, idx: np.ndarray, category: np.ndarray, brand: np.ndarray, outcome: np.ndarray) -> None:
        """Satisfaction follows outcomes; good ones build loyalty, bad ones break it and may churn.

        A churned consumer stops shopping until a return hour drawn now (``winback_per_week``).
        """
        cp = self.params
        sat = self.satisfaction
        rules = ExperienceRules(speed=cp.satisfaction_speed, loyalty_outcome=cp.loyalty_outcome,
                                disloyalty_outcome=cp.disloyalty_outcome, churn_threshold=np.float32(cp.churn_threshold),
                                churn_probability=cp.churn_probability, hour=self.model.hour)
        columns = ExperienceColumns(sat, self.loyal, self.churned_until)
        churn = experience_update(columns, idx, category, brand, outcome, self.draws.random(idx.size), rules)
        if churn.size:
            churn = np.unique(churn)
            self.churn_events += churn.size
            hours = _hours_until_winback(self.draws, churn.size, cp.winback_per_week)
            self.churned_until[churn] = np.minimum(self.model.hour + 1 + hours, NEVER).astype(np.int32)
            sat[churn] = np.float32(0.5)  # one who comes back starts over, neither pleased nor displeased

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


def tier_online_preference(cp) -> np.ndarray:
    """Mean online preference per tier: rural consumers lean offline."""
    return np.array([cp.online_preference, cp.online_preference, min(cp.online_preference * cp.rural_online_factor, 1.0)])


def _hours_until_winback(rng: np.random.Generator, n: int, per_week: float) -> np.ndarray:
    """Hours a churned consumer stays away: geometric in weeks at ``per_week`` (never if 0)."""
    if per_week <= 0:
        return np.full(n, NEVER, dtype=np.int64)
    return (rng.exponential(HOURS_PER_WEEK / -np.log1p(-min(per_week, 1 - 1e-12)), n)).astype(np.int64)


def _beta_with_mean(rng: np.random.Generator, mean: np.ndarray | float, concentration: float, n: int) -> np.ndarray:
    mean = np.clip(np.broadcast_to(mean, (n,)), 0.01, 0.99)
    return rng.beta(mean * concentration, (1 - mean) * concentration)
