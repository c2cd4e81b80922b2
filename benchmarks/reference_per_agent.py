"""The consumer decision rule written the plain Mesa way, as a speed reference.

One ``Consumer(mesa.Agent)`` per simulated consumer, each with its own ``step``, driven by
``model.agents.shuffle_do("step")`` once per simulated hour. Each step is the rule that
``sim.model.agents.consumers.ConsumerPopulation`` applies with the compiled kernels of
``sim.model.kernels`` (``activate_hour``, ``shop_hour``):

1. activity draw with the same rate formula as ``activate_hour``
   (rate = (pref x online_rate + (1 - pref) x offline_rate) x (activity_floor + satisfaction),
   x (1 + urgency_activity) for aware consumers; none while ``churned_until`` is ahead;
   the marginal probability of the thinning scheme is reproduced exactly:
   P(active) = P(candidate) x rate / lam_max, with P(candidate) = min(lam_max, 1) for
   ``bernoulli_indices`` candidates) and online vs offline;
2. lazy catch-up of need and wallet since the consumer's last session;
3. category draw in proportion to positive need; offline venue draw among the open
   venues of the consumer's tier carrying the category (online if none), let in with the
   venue's admission chance this hour (capacity over expected visits, from the model's
   visit forecast); a visitor turned away by a full venue orders online
   instead with the venue's ``overflow_online`` chance, else leaves; pre-sale offers for
   a share of online sessions while deposits are taken;
4. consideration set: ``consideration_size`` draws from the same exposure (online) or
   shelf (offline) cumulative tables, plus the loyal brand if the venue carries it,
   duplicates dropped, unaffordable or sold-out offers hidden;
5. the same logit utility (quality, service, rating, log price, gain or loss of the
   discount against the remembered discount, with loss aversion, loyalty, deal appeal,
   expected delivery delay) against the same outside option (log need; for aware
   consumers outside pre-sale, + anticipation x slack x reach (1 online, the venue's integration offline) below ``anticipation_need`` and
   - urgency) and a draw;
6. units (stockpiling on deals: 1 + Poisson, capped at ``max_units`` and by the wallet);
   some online orders are picked up at an integrated venue; need relieved =
   1 - min(1, expansion x depth) + extra units (at most the current need without
   stockpiling);
7. commitments: need falls by the relief, the wallet by the money, the remembered
   discount moves towards the one observed (fast for a deeper one, slowly back).

The workload is the real model's: ``compare`` builds a real ``Double11Model``, runs it up
to the first benchmark hour, then asks it for each hour's ``Offer`` (prices, exposure and
shelf tables, session rates) with ``model.market.offer()``. Both sides then decide the same
hours from the same starting state. Fulfilment (stock allocation, queues, returns,
satisfaction) is skipped on both sides: purchases are committed directly. Only the
consumer phases (activity + choice + commitments) are timed.

Random numbers come from different generators on the two sides (numpy Generator vs the
Mesa model's ``random.Random``), so the two agree in distribution, not draw by draw;
``compare`` prints the sessions, purchases and units per consumer-hour of both as a check.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import math
import time
from typing import Any

import mesa
import numpy as np

from sim.model.kernels import shop as consumer_kernels
from sim.model.agents.consumers import Offer
from sim.model.double11 import Double11Model
from sim.model.params import Params, build_params

__all__ = ["Consumer", "ReferenceModel", "compare", "default_hours"]

STATS = ("sessions", "online", "presale", "purchases", "units", "spend", "surplus", "turned_away")


class HourTables:
    """One hour's ``Offer`` as plain Python lists, converted once per hour by the model.

    Per (venue group, brand): price, discount depth, log price index (log of price / the
    category's typical price), availability (carried there and in stock); per brand: the
    service + rating part of utility and quality; per (group, category): the cumulative
    consideration weights; per (tier, category): cumulative venue and pick-up weights.
    """

    __slots__ = ("lam_on", "lam_off", "lam_max", "p_scale", "urgency_activity", "price", "discount", "log_x",
                 "available", "appeal", "quality", "cum_rows", "cat_brands", "max_slot", "n_categories",
                 "venue_cum", "venue_admission", "overflow_online", "venue_integration", "pickup_cum", "pickup_chance", "anticipation", "urgency",
                 "presale", "presale_group", "delay_h")

    def __init__(self, offer: Offer, activity_floor: float):
        t = offer.tables
        self.lam_on = float(offer.online_rate)
        self.lam_off = float(offer.offline_rate)
        self.urgency_activity = float(offer.urgency_activity)
        # satisfaction <= 1, and the urgency factor applies to the aware at most
        self.lam_max = (activity_floor + 1.0) * (1.0 + self.urgency_activity) * max(self.lam_on, self.lam_off)
        # P(candidate) / lam_max: candidates are Bernoulli(min(lam_max, 1)) trials (bernoulli_indices).
        self.p_scale = min(self.lam_max, 1.0) / self.lam_max if self.lam_max > 0 else 0.0
        self.price, self.discount, self.log_x = t.price.tolist(), t.discount.tolist(), t.log_price_index.tolist()
        self.available = t.available.tolist()
        self.appeal, self.quality = t.appeal.tolist(), t.quality.tolist()
        self.cum_rows = t.cum_weights.tolist()          # row = group * categories + category
        self.cat_brands = t.cat_brands.tolist()
        self.max_slot = t.cat_brands.shape[1] - 1
        self.n_categories = t.cat_brands.shape[0]
        self.venue_cum = t.venue_cum.tolist()           # [tier][category][venue]
        self.venue_admission = t.venue_admission.tolist()
        self.overflow_online = t.overflow_online.tolist()
        self.venue_integration = t.venue_integration.tolist()
        self.pickup_cum = t.pickup_cum.tolist()         # [tier][category][venue]
        self.pickup_chance = t.pickup_chance.tolist()   # [tier][category]
        self.anticipation = float(offer.anticipation)
        self.urgency = float(offer.urgency)
        self.presale = bool(offer.presale)
        self.presale_group = t.price.shape[0] - 1
        self.delay_h = float(offer.expected_delay_h)


class ReferenceModel(mesa.Model):
    """Holds the shared market tables; the consumers are its agents."""

    def __init__(self, real: Double11Model, state: dict[str, np.ndarray], seed: int = 0):
        super().__init__(seed=seed)
        params = real.params
        cp, mech = params.consumers, params.mechanisms
        pop = real.consumers
        self.cp = cp
        self.presale_reach = params.festival.presale_reach
        # Mechanism switches, as the population reads them.
        self.reference_prices = mech.reference_prices
        self.stockpiling = mech.stockpiling
        self.stockpile_rate = cp.stockpile_rate if mech.stockpiling else 0.0
        self.hour = 0
        self.tables: HourTables | None = None
        self.venue_visits: list[int] = []     # arrivals per venue this hour
        self.real = real
        self.category_price = pop.category_price.tolist()
        self.storable = pop.storable.tolist()
        self.need_rate = pop.need_rate.astype(float).tolist()
        self.n_categories = len(self.need_rate)
        self.stats = dict.fromkeys(STATS, 0.0)
        columns = {k: v.tolist() for k, v in state.items()}
        for i in range(pop.n):
            Consumer(self, {k: columns[k][i] for k in columns})

    def prepare(self, offer: Offer) -> None:
        """Convert the hour's offer once (all agents read it), reset venue visit counts."""
        self.tables = HourTables(offer, self.cp.activity_floor)
        self.venue_visits = [0] * len(self.tables.venue_admission)

    def admit(self, v: int, rnd) -> bool:
        """A visitor gets in with the venue's admission chance this hour (its capacity over its
        expected visits, from the model's visit forecast)."""
        return rnd() < self.tables.venue_admission[v]

    def step(self) -> None:
        self.agents.shuffle_do("step")


class Consumer(mesa.Agent):
    """One consumer, its state as plain Python attributes, its decisions in ``step``."""

    def __init__(self, model: ReferenceModel, s: dict[str, Any]):
        super().__init__(model)
        self.tier = s["tier"]
        self.weekly_budget = s["weekly_budget"]
        self.wallet = s["wallet"]
        self.price_sensitivity = s["price_sensitivity"]
        self.quality_sensitivity = s["quality_sensitivity"]
        self.deal_proneness = s["deal_proneness"]
        self.online_preference = s["online_preference"]
        self.aware = s["aware"]
        self.need = s["need"]                  # list, per category, as of need_hour
        self.need_hour = s["need_hour"]
        self.last_hour = s["last_hour"]        # when the wallet was last brought up to date
        self.loyal = s["loyal"]                # list, per category (-1 = none)
        self.ref_discount = s["ref_discount"]  # list, per category: the discount remembered
        self.satisfaction = s["satisfaction"]
        self.churned_until = s["churned_until"]  # shops again from this hour

    # --- the hourly decision ---------------------------------------------------------
    def step(self) -> None:
        m = self.model
        t = m.tables
        if self.churned_until > m.hour or t.lam_max <= 0:
            return
        rnd = self.random.random
        pref = self.online_preference
        on = pref * t.lam_on
        base = on + (1 - pref) * t.lam_off
        factor = m.cp.activity_floor + self.satisfaction
        if self.aware:  # checking carts as a window closes
            factor *= 1.0 + t.urgency_activity
        if rnd() >= t.p_scale * base * factor:
            return
        online = rnd() * base < on
        self.catch_up(m.hour)
        self.shop(online, t)

    def catch_up(self, hour: int) -> None:
        budget = self.weekly_budget
        self.wallet = min(budget * self.model.cp.savings_cap_weeks,
                          max(self.wallet, 0.0) + budget * (hour - self.last_hour) / 168.0)
        self.last_hour = hour
        elapsed = hour - self.need_hour
        rate = self.model.need_rate
        need = self.need
        for c in range(len(need)):
            need[c] += elapsed * rate[c]
        self.need_hour = hour

    def shop(self, online: bool, t: HourTables) -> None:
        m = self.model
        cp = m.cp
        rnd = self.random.random
        need = self.need
        total = 0.0
        for v in need:
            if v > 0:
                total += v
        if total <= 0:
            return
        # Category in proportion to positive need.
        u = rnd() * total
        cum = 0.0
        category = len(need) - 1
        for c, v in enumerate(need):
            if v > 0:
                cum += v
                if cum >= u:
                    category = c
                    break
        # Venue: online, or an open offline venue of the tier carrying the category.
        venue = 0
        if not online:
            vcum = t.venue_cum[self.tier][category]
            vtotal = vcum[-1]
            if vtotal > 0:
                venue = min(bisect.bisect_left(vcum, rnd() * vtotal), len(vcum) - 1) + 1
                m.venue_visits[venue - 1] += 1
                if not m.admit(venue - 1, rnd):
                    # Full: some visitors of an integrated venue order online instead.
                    m.stats["turned_away"] += 1
                    if rnd() >= t.overflow_online[venue - 1]:
                        return
                    venue = 0
        presale = venue == 0 and t.presale and rnd() < m.presale_reach
        group = t.presale_group if presale else venue

        # Consideration set: exposure/shelf draws plus the loyal brand, no duplicates.
        r = group * t.n_categories + category
        row = t.cum_rows[r]
        members = t.cat_brands[category]
        options = []
        for _ in range(cp.consideration_size):
            slot = min(bisect.bisect_left(row, rnd()), t.max_slot)
            b = members[slot]
            if b >= 0 and b not in options:
                options.append(b)
        loyal = self.loyal[category]
        if loyal >= 0 and loyal not in options:
            options.append(loyal)

        # Logit over the affordable, in-stock options and the outside option.
        wallet = self.wallet
        prices, discounts, logpx, available = t.price[group], t.discount[group], t.log_x[group], t.available[group]
        quality, appeal = t.quality, t.appeal
        cprice = m.category_price[category]
        ref = self.ref_discount[category]
        ps, qs, dp = self.price_sensitivity, self.quality_sensitivity, self.deal_proneness
        delay_h = t.delay_h if venue == 0 else 0.0
        delay = cp.delay_aversion * delay_h / 24.0
        shown, utilities = [], []
        for b in options:
            if prices[b] > wallet or not available[b]:
                continue
            utility = qs * quality[b] + appeal[b] - ps * logpx[b]
            if m.reference_prices:  # the discount against the one remembered; losses weigh more
                gain = discounts[b] - ref
                utility += cp.reference_weight * gain * (cp.loss_aversion if gain < 0 else 1.0)
            utility += ((cp.loyalty_bonus if b == loyal else 0.0)
                        + cp.deal_weight * dp * discounts[b]
                        - delay)
            shown.append(b)
            utilities.append(utility)
        need_c = min(max(need[category], 1e-3), cp.need_cap)
        outside = cp.outside_utility - cp.need_weight * math.log(need_c)
        if self.aware and not presale:
            slack = 1.0 - need_c / cp.anticipation_need
            if slack > 0:   # not urgent: wait for the coming window, where its prices will be
                outside += t.anticipation * slack * (1.0 if venue == 0 else t.venue_integration[venue - 1])
            if venue == 0:  # the online festival offer is the one that ends
                outside -= t.urgency
        top = max(utilities) if utilities and max(utilities) > outside else outside
        exps = [math.exp(v - top) for v in utilities]
        exp0 = math.exp(outside - top)
        total_exp = exp0 + sum(exps)
        r = rnd() * total_exp
        stats = m.stats
        stats["sessions"] += 1
        stats["presale"] += presale
        stats["surplus"] += (math.log(total_exp) + top - outside) * cprice / ps
        if r < exp0 or not shown:
            stats["online"] += venue == 0
            observed = sum(discounts[b] for b in shown) / len(shown) if shown else ref
            self.remember(category, ref, observed)
            return
        acc = exp0
        pick = len(shown) - 1
        for j, e in enumerate(exps):
            acc += e
            if acc >= r:
                pick = j
                break
        brand = shown[pick]
        paid, depth = prices[brand], discounts[brand]
        units = 1
        if m.stockpile_rate > 0 and depth >= cp.stockpile_min_discount:
            extra = _poisson(self.random, m.stockpile_rate * m.storable[category] * dp * depth, cp.max_units - 1)
            units = int(min(1 + extra, cp.max_units, math.floor(wallet / max(paid, 1e-9))))
        # Some online orders are picked up at an integrated venue of the tier selling the category.
        if venue == 0 and not presale and rnd() < t.pickup_chance[self.tier][category]:
            pcum = t.pickup_cum[self.tier][category]
            venue = min(bisect.bisect_left(pcum, rnd() * pcum[-1]), len(pcum) - 1) + 1
        stats["online"] += venue == 0
        # Need relieved: a deal's first unit partly feeds extra consumption; extra units are stored.
        relief = 1.0 - min(1.0, cp.expansion * depth) + (units - 1)
        if not m.stockpiling:
            relief = min(relief, max(need[category], 0.0))
        self.remember(category, ref, depth)
        # Commitments: need and wallet (fulfilment is skipped on both sides of the benchmark).
        need[category] -= relief
        self.wallet = wallet - units * paid
        stats["purchases"] += 1
        stats["units"] += units
        stats["spend"] += units * paid

    def remember(self, category: int, ref: float, observed: float) -> None:
        """A deeper discount seen is remembered at once (mostly); a shallower one wins back slowly."""
        if not self.model.reference_prices:
            return
        cp = self.model.cp
        speed = cp.reference_smoothing if observed > ref else cp.reference_recovery
        self.ref_discount[category] = ref + speed * (observed - ref)


def _poisson(rng, lam: float, cap: int) -> int:
    """Knuth's Poisson draw (lam here is at most a few units), capped at ``cap``."""
    if lam <= 0:
        return 0
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit and k < cap:
        k += 1
        p *= rng.random()
    return k


# --- the comparison --------------------------------------------------------------------
STATE = ("tier", "weekly_budget", "wallet", "price_sensitivity", "quality_sensitivity", "deal_proneness",
         "online_preference", "aware", "last_hour", "loyal", "ref_discount", "satisfaction", "churned_until")


def snapshot(pop, hour: int) -> dict[str, np.ndarray]:
    """The population's state at ``hour`` as columns, with every consumer's need as of ``hour``."""
    state = {k: getattr(pop, k).copy() for k in STATE}
    state["need"] = pop.need_base + pop.need_rate * np.float32(hour)  # need(t) = need_base + rate * t
    state["need_hour"] = np.full(pop.n, hour)
    return state


def default_hours(model: Double11Model, days: int = 3) -> range:
    """``days`` simulated days around the first festival window: the eve (pre-sale,
    anticipation), the window's first day (midnight burst, discounts) and after."""
    cal = model.calendar
    if cal.windows:
        start = max(cal.windows[0].start - 24, 0)
    else:
        start = ((dt.date(cal.start.year, 11, 10) - cal.start).days) * 24
    start = min(start, cal.n_hours - days * 24)
    return range(start, start + days * 24)


def _offers(model: Double11Model, hours: range) -> list[Offer]:
    """The real model's offers for ``hours``: platform and venues step, brands stay put."""
    offers = []
    for h in hours:
        model.hour = h
        model.platform.step()
        for venue in model.venues:
            venue.step()
        offer = model.market.offer()
        # The model reuses some table buffers from hour to hour: keep private copies, in the
        # same memory layout (the kernel is compiled per layout: a C-ordered copy of a
        # strided table would load a second compiled version inside the timed hours).
        tables = offer.tables._replace(**{k: v.copy(order="K") for k, v in offer.tables._asdict().items()
                                          if isinstance(v, np.ndarray)})
        offers.append(dataclasses.replace(offer, tables=tables))
        model.online.step()
    return offers


def _load_kernels(model: Double11Model, hour: int, offer: Offer) -> None:
    """Load both compiled choice kernels and start numba's threads before the timed hours, as
    compilation is left out on both sides: at 20k consumers no hour before the festival is
    large enough for the parallel kernel, so its first use would fall inside the timed hours.
    Runs on the population's own columns (the kernels are compiled per memory layout) with its
    own uniforms, and puts back the one column the choice writes: state and streams are untouched."""
    pop = model.consumers
    model.hour = hour
    shoppers, remembered = pop.shoppers(), pop.ref_discount.copy()
    idx = np.arange(min(pop.n, 2 * consumer_kernels.PARALLEL_MIN_SESSIONS))
    uniforms = np.random.default_rng(0).random((idx.size, consumer_kernels.N_FIXED_UNIFORMS + pop.params.consideration_size))
    for kernel in (consumer_kernels._shop_hour_serial, consumer_kernels._shop_hour_parallel):
        kernel(idx, np.ones(idx.size, dtype=bool), offer.tables, shoppers, pop.settings, pop.conditions(offer), uniforms)
    pop.ref_discount[...] = remembered


def _vectorized(model: Double11Model, hours: range, offers: list[Offer]) -> tuple[float, float, dict[str, float]]:
    pop = model.consumers
    stats = dict.fromkeys(STATS, 0.0)
    clock, cpu, elapsed, elapsed_cpu = time.perf_counter, time.process_time, 0.0, 0.0
    for h, offer in zip(hours, offers):
        model.hour = h
        t0, c0 = clock(), cpu()
        idx, online = pop.activate(offer)
        s = pop.shop(idx, online, offer)
        b = s.bought
        pop.commit(s.consumer[b], s.category[b], s.relief[b], s.units[b] * s.price[b])
        elapsed += clock() - t0
        elapsed_cpu += cpu() - c0
        stats["sessions"] += s.consumer.size
        stats["online"] += int((s.venue == 0).sum())
        stats["presale"] += int(s.presale.sum())
        stats["purchases"] += int(b.sum())
        stats["units"] += int(s.units[b].sum())
        stats["spend"] += float((s.units[b] * s.price[b]).sum())
        stats["surplus"] += float(s.surplus.sum())
        stats["turned_away"] += int(s.turned_away.sum())
    return elapsed, elapsed_cpu, stats


def _reference(model: Double11Model, state: dict[str, np.ndarray], hours: range, offers: list[Offer], seed: int):
    t0 = time.perf_counter()
    ref = ReferenceModel(model, state, seed=seed)
    build = time.perf_counter() - t0
    clock, cpu, elapsed, elapsed_cpu = time.perf_counter, time.process_time, 0.0, 0.0
    for h, offer in zip(hours, offers):
        t0, c0 = clock(), cpu()
        ref.hour = h
        ref.prepare(offer)
        ref.step()
        elapsed += clock() - t0
        elapsed_cpu += cpu() - c0
    return elapsed, elapsed_cpu, ref.stats, build


def compare(n: int = 20_000, days: int = 3, seed: int = 0, params: Params | None = None) -> dict[str, Any]:
    """Run the vectorized population and the per-agent reference on the same workload.

    Returns timings (seconds of activity + choice), consumer-hours per second of each, the
    speedup, and per-consumer-hour session/purchase statistics of both sides.
    """
    params = params or build_params({"consumers.n": n})
    model = Double11Model(params, seed)
    hours = default_hours(model, days)
    t0 = time.perf_counter()
    while model.hour < hours.start:   # the real model, all phases, up to the benchmark hours
        model.step()
    warm = time.perf_counter() - t0
    pop = model.consumers
    state = snapshot(pop, hours.start)
    offers = _offers(model, hours)
    _load_kernels(model, hours.start, offers[0])

    vec_s, vec_cpu, vec_stats = _vectorized(model, hours, offers)
    ref_s, ref_cpu, ref_stats, build = _reference(model, state, hours, offers, seed)
    ch = n * len(hours)
    per_ch = lambda st: {k: v / ch for k, v in st.items()}  # noqa: E731
    return {
        "consumers": n, "hours": len(hours), "first_hour": hours.start,
        "first_day": str(model.calendar.start + dt.timedelta(days=hours.start // 24)),
        "consumer_hours": ch, "warmup_s": warm, "reference_build_s": build,
        "vectorized_s": vec_s, "reference_s": ref_s, "vectorized_cpu_s": vec_cpu, "reference_cpu_s": ref_cpu,
        "vectorized_chps": ch / vec_s, "reference_chps": ch / ref_s, "speedup": ref_s / vec_s,
        "speedup_cpu": ref_cpu / vec_cpu if vec_cpu > 0 else float("nan"),
        "vectorized_per_ch": per_ch(vec_stats), "reference_per_ch": per_ch(ref_stats),
    }


if __name__ == "__main__":  # pragma: no cover
    import json
    print(json.dumps(compare(), indent=2))
