"""The Mesa model: creates the agents and fixes the order of an hourly step.

Order of a step: the platform allocates exposure; venues open or close; once a day the
brands review yesterday; pre-sale balances fall due when a window opens; consumers are
activated and choose; orders are filled from stock and queued; queues are worked; the
recorder takes the hour's figures.
"""

from __future__ import annotations

import time
from collections import defaultdict

import mesa
import numpy as np

from sim.model.agents.brands import Brand, create_brands
from sim.model.kernels.records import OfferTables
from sim.model.agents.consumers import HOURS_PER_WEEK, ConsumerPopulation, Offer
from sim.model.agents.platform import Platform
from sim.model.agents.rival import RivalPlatform
from sim.model.agents.venues import OnlineVenue, Venue, VisitForecast
from sim.model.calendar import DIURNAL, WEEKEND_FACTOR, build_calendar
from sim.model.catalog import CATEGORIES, OFFLINE_VENUES, TIERS, category_array
from sim.model.ecosystem import Ecosystem
from sim.model.fulfilment import Fulfilment
from sim.model.metrics import Recorder
from sim.model.params import Params

PHASES = ("activity", "choice", "fulfilment", "brands", "platform", "recording")  # keys of model.timings


VENUE_SIZING_DAYS = 42  # days of warm-up the visit forecast learns from before venues are sized


class Double11Model(mesa.Model):
    """One season of the retail ecosystem under one festival format and platform policy."""

    def __init__(self, params: Params, seed: int = 0):
        super().__init__(seed=int(seed))
        self.params = params
        self.seed = int(seed)
        # Independent streams per mechanism keep arms on common random numbers.
        streams = [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(6)]
        init_consumers, init_market, choices, fulfilment, ecosystem, rival = streams  # the first four as in one-season runs
        self.calendar = build_calendar(params)
        self.weight = params.weight
        self.hour = 0
        self.n_categories = len(CATEGORIES)
        self.timings: dict[str, float] = defaultdict(float)

        self.brand_book, self.brands = create_brands(self, params, init_market, params.consumers.n)
        self.cat_brands = _brands_by_category(self.brand_book.category, self.n_categories)
        self.ecosystem = Ecosystem(self, ecosystem)
        self._shelf_base: np.ndarray | None = None  # offline shelves as drawn, before exits and launch slots
        self._category_price = category_array("price")
        self.consumers = ConsumerPopulation(self, params, init_consumers, choices)
        self.consumers.seed_loyalty(self.cat_brands, self.brand_book.forecast, init_consumers)
        self.online = OnlineVenue(
            self,
            order_capacity=params.online.order_capacity_per_hour / self.weight,
            logistics_capacity_per_hour=params.logistics.capacity_per_day / 24.0 / self.weight,
        )
        self.venues = self._create_venues(init_market)
        self.visit_forecast = VisitForecast(len(TIERS), len(CATEGORIES))
        # Venues are sized once the forecast has learned the ordinary offline demand (six weeks of
        # warm-up, or the warm-up if shorter); until then they let every visitor in.
        self._sizing_hour = max(24, min(VENUE_SIZING_DAYS * 24, self.calendar.season_start))
        self._venues_sized = False
        self._offline_session_rate = 0.0  # this hour's, set with the offer
        self.platform = Platform(self)
        self.fulfilment = Fulfilment(self, fulfilment)
        self.rival = RivalPlatform(self, rival)
        self._popup_hours = self._popup_period()
        self._offline_tables()
        self._price_key = self._venue_key = self._exposure_seen = None  # offer tables, rebuilt when these change
        self.recorder = Recorder(self)

    # --- construction -----------------------------------------------------------------
    def _create_venues(self, rng: np.random.Generator) -> list[Venue]:
        """One venue agent per offline type and tier it serves, with its assortment (capacity: ``_size_venues``)."""
        vp = self.params.venues
        integrated = self.params.mechanisms.offline_integration
        venues = []
        for spec in OFFLINE_VENUES:
            for tier in spec.tiers:
                integration = min(1.0, vp.digital_integration * spec.integration) if integrated else 0.0
                venues.append(Venue(self, spec, tier, integration))
        book = self.brand_book
        self.carried = np.zeros((len(venues) + 2, book.n), dtype=bool)  # online, venues..., pre-sale
        self.carried[0] = self.carried[-1] = True
        for v, venue in enumerate(venues, start=1):
            pull = venue.category_pull()[book.category]
            self.carried[v] = (pull > 0) & (rng.random(book.n) < book.offline_presence)
            for c in np.flatnonzero(venue.category_pull()):  # never an empty shelf
                in_cat = book.category == c
                if not self.carried[v, in_cat].any():
                    self.carried[v, np.flatnonzero(in_cat)[np.argmax(book.offline_presence[in_cat])]] = True
        return venues

    def _popup_period(self) -> tuple[int, int]:
        """Hours pop-up stores are open: integrated venues of the festival, so none without integration."""
        windows = self.calendar.windows
        if not windows or not self.params.mechanisms.offline_integration:
            return (0, 0)
        first = min([w.start for w in windows] + [w.deposit_start for w in windows if w.has_presale])
        return min(first, windows[0].start - int(self.params.venues.popup_lead_days * 24)), windows[-1].end

    def _offline_tables(self) -> None:
        """Shelf weights of offline venues (big sellers get more shelf), refreshed daily."""
        shelf = np.sqrt(np.maximum(self.brand_book.forecast, 1e-9))
        weights = self.carried * shelf
        self._cum_weights = _cumulative_by_category(weights, self.cat_brands)
        self._venue_pull = np.array([v.category_pull() for v in self.venues])  # (venues, categories)
        self._venue_tier = np.array([v.tier for v in self.venues])
        self._venue_integration = np.array([v.integration for v in self.venues])

    # --- calendar helpers used by agents --------------------------------------------------
    @property
    def day(self) -> int:
        return self.hour // 24

    @property
    def hour_of_day(self) -> int:
        return self.hour % 24

    def near_festival(self) -> bool:
        start, end = self._popup_hours
        return start <= self.hour < end

    def was_festival_day(self, day: int) -> bool:
        return any(w.start < (day + 1) * 24 and w.end > day * 24 for w in self.calendar.windows)

    def festival_uplift(self, day: int, horizon_days: float) -> float:
        """Demand multiplier brands plan for over the next ``horizon_days``.

        Brands know from past festivals what one brings: the calendar's extra sessions in these
        days (pull, attention, the opening rush), in ordinary days, times ``festival_stock_cover``.
        Planning from the calendar keeps stock in step with the festival's size: a fixed number of
        days ran out on a bigger Nov 11 (18% of its purchase attempts at the calibrated pull) and
        overstocked long windows.
        """
        extra = self.calendar.extra_demand_days(day * 24, int((day + horizon_days) * 24))
        return 1.0 + self.params.brands.festival_stock_cover * extra / horizon_days

    # --- the step -------------------------------------------------------------------------
    def offer(self) -> Offer:
        """Prices, assortments and session rates the consumers face this hour.

        Prices, shelves and venue traffic change only at midnight (brands' reviews), when a window
        or pre-sale opens or closes, or when venues open or close: those tables are rebuilt then
        and reused in between; only stock availability and the hour's rates are new every hour."""
        cal, fp, h = self.calendar, self.params.festival, self.hour
        cp, mech = self.params.consumers, self.params.mechanisms
        new_day = self.hour_of_day == 0
        in_window = cal.window[h] >= 0
        open_now = np.array([v.is_open for v in self.venues])
        price_key = (float(cal.discount[h]), cal.presale_discount(h, fp.discount), self.platform.subsidy_rate)
        if new_day or price_key != self._price_key:
            self._prices = self._price_tables(*price_key)
            self._price_key = price_key
        if new_day or self.platform.exposure is not self._exposure_seen:
            online_cum = _cumulative_by_category(self.platform.exposure[None, :], self.cat_brands)[0]
            self._cum_weights[0] = self._cum_weights[-1] = online_cum
            self._cum_weights_f32 = self._cum_weights.reshape(-1, self.cat_brands.shape[1]).astype(np.float32)
            self._exposure_seen = self.platform.exposure
        venue_key = (bool(in_window), open_now.tobytes())
        if new_day or venue_key != self._venue_key:
            self._venue_tables = self._venue_traffic(open_now, in_window)
            self._venue_key = venue_key
        venue_cum, visit_chance, pickup_cum, pickup_chance, offline_boost = self._venue_tables

        base = cp.sessions_per_week / HOURS_PER_WEEK * cal.diurnal[h]
        to_open, to_close = cal.hours_to_open[h], cal.hours_to_close[h]
        horizon = cp.anticipation_days * 24
        waiting = mech.anticipation and (not in_window) and 0 < to_open <= horizon
        closing = np.exp(-to_close / cp.urgency_hours) if (mech.deadline_urgency and in_window) else 0.0
        offline_rate = base * offline_boost if open_now.any() else 0.0
        urgency_activity = cp.urgency_activity * closing
        # Offline sessions come at this rate (aware consumers shop more near a close): the
        # venues' visit forecast scales what it learned with it, and learns from this hour.
        aware_boost = 1.0 + urgency_activity * self.consumers.aware.mean() if closing else 1.0
        self._offline_session_rate = offline_rate * aware_boost
        capacity = np.array([v.capacity for v in self.venues])
        tables = OfferTables(
            **self._prices, available=self.carried & (self.brand_book.inventory >= 1),
            cum_weights=self._cum_weights_f32, cat_brands=self.cat_brands, venue_cum=venue_cum,
            venue_admission=self.visit_forecast.admission(visit_chance, self._offline_session_rate, capacity),
            overflow_online=self.params.venues.turned_away_online * self._venue_integration,
            venue_integration=self._venue_integration.astype(np.float64), pickup_cum=pickup_cum, pickup_chance=pickup_chance,
            storable=self.consumers.storable, category_price=self._category_price,
        )
        return Offer(
            tables=tables,
            online_rate=base * cal.festival_activity[h],
            offline_rate=offline_rate,
            presale=bool(cal.deposit_for[h] >= 0),
            expected_delay_h=self.online.expected_delay_hours(),
            # the pull of waiting grows as the window nears, with its announced discount
            anticipation=cp.anticipation_strength * cal.upcoming_discount[h] * (1 - to_open / horizon) if waiting else 0.0,
            urgency=cp.urgency_strength * closing,
            urgency_activity=urgency_activity,
            boost_online=float(cal.festival_activity[h]), boost_offline=float(offline_boost),
        )

    def _price_tables(self, window_discount: float, presale_discount: float, subsidy: float) -> dict[str, np.ndarray]:
        """Each brand's discount and price per channel (online, each venue, pre-sale), and its appeal."""
        book, cp, f32 = self.brand_book, self.params.consumers, np.float32
        festival = window_discount * book.participation
        discount = np.empty((len(self.venues) + 2, book.n))
        discount[0] = np.maximum(book.discount, festival) + subsidy
        for v, venue in enumerate(self.venues, start=1):  # integrated venues honour festival prices
            discount[v] = np.maximum(book.discount, venue.integration * festival)
        presale = presale_discount * book.participation  # the promised window's price
        discount[-1] = np.maximum(book.discount, presale) + self.platform.presale_subsidy_rate
        discount = np.minimum(discount, self.params.platform.max_total_discount)
        price = book.list_price * (1 - discount)
        price_index = price / self._category_price[book.category]
        return dict(
            price=price.astype(f32), discount=discount.astype(f32), log_price_index=np.log(price_index).astype(f32),
            appeal=(cp.service_weight * book.service + cp.rating_weight * (book.rating - 0.5)).astype(f32),
            quality=book.quality.astype(f32), regular_discount=book.discount.astype(f32),
        )

    def _venue_traffic(self, open_now: np.ndarray, in_window: bool) -> tuple[np.ndarray, ...]:
        """Which venues a tier's offline session goes to (cumulative weights and chances), where
        online orders are picked up, and the festival's offline boost."""
        vp = self.params.venues
        # Festival traffic reaches offline venues in proportion to their integration.
        festival_traffic = 1.0 + (vp.festival_offline_pull * self._venue_integration if in_window else 0.0)
        pull = self._venue_pull * (open_now * festival_traffic)[:, None]
        venue_cum = self._per_tier_cumulative(pull)
        # Online orders are picked up where venues are integrated: pickup_share of them where every
        # open venue selling the category is fully integrated, in proportion to integration elsewhere.
        pickup_cum = self._per_tier_cumulative(pull * self._venue_integration[:, None])
        total = venue_cum[:, :, -1]
        pickup_chance = np.divide(vp.pickup_share * pickup_cum[:, :, -1], total, out=np.zeros_like(total), where=total > 0)
        offline_boost = float(np.average(festival_traffic, weights=open_now)) if open_now.any() and in_window else 1.0
        return venue_cum, VisitForecast.visit_chance(venue_cum), pickup_cum, pickup_chance, offline_boost

    def _per_tier_cumulative(self, weights: np.ndarray) -> np.ndarray:
        """(venues, categories) weights -> (tiers, categories, venues) cumulative weights of each
        tier's venues; contiguous, since the compiled kernel is specialised on the layout."""
        by_tier = [(self._venue_tier == tier)[:, None] for tier in range(len(TIERS))]
        return np.ascontiguousarray(np.stack([np.cumsum((weights * t).T, axis=1) for t in by_tier]))

    def _size_venues(self) -> None:
        """Each venue's hourly visit capacity: ``venues.offline_capacity_factor`` times its expected
        visits at its busiest ordinary hour (a weekend), from the offline demand learned so far: its
        own tier, categories and opening hours. Pop-up stores are sized as if open on an ordinary day."""
        cp = self.params.consumers
        festival_only = np.array([v.spec.festival_only for v in self.venues])
        peak = np.zeros(len(self.venues))
        for hour_of_day in range(24):
            opening = np.array([v.spec.opening[0] <= hour_of_day < v.spec.opening[1] for v in self.venues])
            rate = cp.sessions_per_week / HOURS_PER_WEEK * DIURNAL[hour_of_day] * WEEKEND_FACTOR
            for open_now, sized in ((opening & ~festival_only, ~festival_only), (opening, festival_only)):
                chance = VisitForecast.visit_chance(self._per_tier_cumulative(self._venue_pull * open_now[:, None]))
                peak = np.where(sized, np.maximum(peak, self.visit_forecast.expected(chance, rate)), peak)
        for venue, visits in zip(self.venues, peak):
            venue.capacity = self.params.venues.offline_capacity_factor * visits

    def step(self) -> None:
        if self.hour == self._sizing_hour and not self._venues_sized:
            self._size_venues()
            self._venues_sized = True
        if self.hour == self.calendar.season_start:
            self._start_season()
        clock = time.perf_counter
        t0 = clock()
        self.platform.step()
        for venue in self.venues:
            venue.step()
        t1 = clock()
        # Midnight review of the day that ended (at a later season's hour 0: the last season's last day).
        if self.hour_of_day == 0 and (self.hour > 0 or self.ecosystem.year > 1):
            self.ecosystem.daily()
            for brand in self.brands:
                brand.step()
            self._offline_tables()
            self.consumers.forget_deals()
        t2 = clock()
        offer = self.offer()
        idx, online = self.consumers.activate(offer)
        t3 = clock()
        sessions = self.consumers.shop(idx, online, offer)
        self.rival.step(sessions)
        self.visit_forecast.learn(sessions.offline_demand, self._offline_session_rate)
        for v, venue in enumerate(self.venues):
            venue.visits += sessions.visits[v]
            venue.turned_away += sessions.turned_away[v]
        t4 = clock()
        self.fulfilment.settle(sessions)
        self.online.step()
        t5 = clock()
        self.recorder.record(sessions)
        t6 = clock()
        for phase, dt in zip(("platform", "brands", "activity", "choice", "fulfilment", "recording"),
                             (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5)):
            self.timings[phase] += dt
        self.hour += 1

    def _start_season(self) -> None:
        """Warm-up over: money, costs and churn are counted from here."""
        self.platform.subsidy_cost = self.platform.commission = self.platform.ad_revenue = 0.0
        self.brand_book.revenue[:] = 0.0
        self.brand_book.cost[:] = 0.0
        self.online.delay_histogram[:] = 0.0
        self.consumers.churn_events = 0
        self.rival.start_season()
        for venue in self.venues:
            venue.visits = venue.turned_away = 0.0
        self.recorder.start_season()

    def stock_value(self) -> np.ndarray:
        """Each brand's stock on hand and on order, at cost (profit counts it at both ends)."""
        on_order = np.zeros(self.brand_book.n)  # rows without an agent (exited, not launched) have none
        for b in self.brands:
            on_order[b.idx] = sum(b.pipeline.values())
        return (self.brand_book.inventory + on_order) * self.brand_book.unit_cost

    def run(self) -> None:
        """``season.years`` seasons of the calendar; ``recorder`` holds the last, ``ecosystem.yearly`` each."""
        profit: np.ndarray | None = None  # the last season's, once there is one
        for _ in range(self.params.season.years):
            if profit is not None:
                self._next_season(profit)
            for _ in range(self.calendar.n_hours):
                self.step()
            self.hour -= 1  # the clock stays on the last simulated hour for end-of-season accounting
            self.online.censor_queued()
            self.recorder.finish()
            profit = self.ecosystem.close_season()

    def _next_season(self, profit: np.ndarray) -> None:
        """Between seasons: the year's decisions, then the clock back to the calendar's first hour.

        The off-season is not simulated: brands and queues carry on from the last season's end (every
        hour-stamped state moves back by the season's length); consumers' shopping state is drawn
        again (ConsumerPopulation.next_season)."""
        self.ecosystem.between_seasons(profit)
        shift = self.hour + 1
        self.hour = 0
        self.consumers.next_season(shift, self.ecosystem.rng)
        for brand in self.brands:
            brand.pipeline = {day - shift // 24: units for day, units in brand.pipeline.items()}
        self.online.new_season(shift)
        self.recorder = Recorder(self)

    # --- brands that enter, leave or launch (sim/model/ecosystem.py) -------------------------------
    def brand_agent(self, row: int) -> Brand:
        return Brand(self, row, self.brand_book)

    def add_brand_row(self, row: int, rng: np.random.Generator) -> None:
        """Shelves for a new row: online, pre-sale, and offline venues drawn by its offline presence."""
        book = self.brand_book
        if self._shelf_base is None:
            self._shelf_base = self.carried.copy()
        pull = self._venue_pull[:, book.category[row]] > 0
        column = np.concatenate([[True], pull & (rng.random(len(self.venues)) < book.offline_presence[row]), [True]])
        self._shelf_base = np.hstack([self._shelf_base, column[:, None]])
        self.carried = np.hstack([self.carried, column[:, None]])

    def widen_shelves(self, row: int, group: int) -> None:
        """An acquired brand goes where its group is stocked: every venue that carries the group and sells its category."""
        if self._shelf_base is None:
            self._shelf_base = self.carried.copy()
        sells = self._venue_pull[:, self.brand_book.category[row]] > 0
        self._shelf_base[1:-1, row] |= self._shelf_base[1:-1, group] & sells

    def refresh_brand_tables(self) -> None:
        """Shelves, category tables and offline weights after brands entered, left or launched."""
        book = self.brand_book
        if self._shelf_base is None:
            self._shelf_base = self.carried.copy()
        carried = self._shelf_base & book.active[None, :]
        carried[1:-1] |= self.ecosystem.shelf()
        self.carried = carried
        self.cat_brands = _brands_by_category(book.category, self.n_categories, ~self.ecosystem.exited)
        self._offline_tables()


def _brands_by_category(category: np.ndarray, n_categories: int, listed: np.ndarray | None = None) -> np.ndarray:
    """(categories, max brands) table of brand indices (of ``listed`` rows), padded with -1."""
    listed = np.ones(category.size, dtype=bool) if listed is None else listed
    members = [np.flatnonzero((category == c) & listed) for c in range(n_categories)]
    table = np.full((n_categories, max(len(m) for m in members)), -1, dtype=np.int64)
    for c, m in enumerate(members):
        table[c, : len(m)] = m
    return table


def _cumulative_by_category(weights: np.ndarray, cat_brands: np.ndarray) -> np.ndarray:
    """Normalised cumulative weights per (group, category) over the category's brands.

    Padding slots get 1 so a uniform draw never lands on them; an all-zero row is all 1
    and picks the first brand (venues never leave a category they serve empty).
    """
    w = np.where(cat_brands >= 0, weights[:, np.maximum(cat_brands, 0)], 0.0)  # (groups, C, max)
    cum = np.cumsum(w, axis=2)
    total = cum[:, :, -1:]
    out = np.where(total > 0, cum / np.where(total > 0, total, 1.0), 1.0)
    out[..., -1] = 1.0
    return np.where(cat_brands >= 0, out, 1.0)
