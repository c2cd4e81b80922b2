"""The Mesa model: creates the agents and fixes the order of an hour's step.

Order of a step: the platform allocates exposure; venues open or close; once a day the
brands review yesterday; consumers are activated by the market's offer and choose; orders are
filled from stock and queued; queues are worked; the recorder takes the hour's figures.
"""

from __future__ import annotations

import time
from collections import defaultdict

import mesa
import numpy as np

from sim.model.agents.brands import create_brands
from sim.model.agents.consumers import ConsumerPopulation
from sim.model.agents.platform import Platform
from sim.model.agents.rival import RivalPlatform
from sim.model.agents.venues import OnlineVenue
from sim.model.calendar import build_calendar
from sim.model.catalog import CATEGORIES
from sim.model.ecosystem import Ecosystem
from sim.model.fulfilment import Fulfilment
from sim.model.market import Market, brands_by_category
from sim.model.metrics import Recorder
from sim.model.params import Params

PHASES = ("activity", "choice", "fulfilment", "brands", "platform", "recording")  # keys of model.timings


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
        self.timings: dict[str, float] = defaultdict(float)
        self.clock = PhaseClock(self.timings)

        self.brand_book, self.brands = create_brands(self, params, init_market, params.consumers.n)
        cat_brands = brands_by_category(self.brand_book.category, len(CATEGORIES))
        self.ecosystem = Ecosystem(self, ecosystem)
        self.consumers = ConsumerPopulation(self, params, init_consumers, choices)
        self.consumers.seed_loyalty(cat_brands, self.brand_book.forecast, init_consumers)
        self.online = OnlineVenue(
            self,
            order_capacity=params.online.order_capacity_per_hour / self.weight,
            logistics_capacity_per_hour=params.logistics.capacity_per_day / 24.0 / self.weight,
        )
        self.market = Market(self, cat_brands, init_market)
        self.venues = self.market.venues
        self.platform = Platform(self)
        self.fulfilment = Fulfilment(self, fulfilment)
        self.rival = RivalPlatform(self, rival)
        self.recorder = Recorder(self)

    @property
    def day(self) -> int:
        return self.hour // 24

    @property
    def hour_of_day(self) -> int:
        return self.hour % 24

    def step(self) -> None:
        """One hour: the market opens, brands review the day that ended, consumers shop, orders are filled."""
        self.market.size_venues_when_due()
        if self.hour == self.calendar.season_start:
            self._start_season()
        with self.clock("platform"):
            self.platform.step()
            for venue in self.venues:
                venue.step()
        with self.clock("brands"):
            if self.hour_of_day == 0 and (self.hour > 0 or self.ecosystem.year > 1):
                self._review_day()
        with self.clock("activity"):
            offer = self.market.offer()
            idx, online = self.consumers.activate(offer)
        with self.clock("choice"):
            sessions = self.consumers.shop(idx, online, offer)
            self.rival.step(sessions)
            self.market.record_visits(sessions)
        with self.clock("fulfilment"):
            self.fulfilment.settle(sessions)
            self.online.step()
        with self.clock("recording"):
            self.recorder.record(sessions)
        self.hour += 1

    def _review_day(self) -> None:
        """Midnight review of the day that ended (at a later season's hour 0: the last season's last day)."""
        self.ecosystem.daily()
        for brand in self.brands:
            brand.step()
        self.market.refresh_shelves()
        self.consumers.forget_deals()

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


class PhaseClock:
    """``with clock(phase):`` adds the block's wall time to ``timings[phase]`` (the benchmarks' phases)."""

    def __init__(self, timings: dict[str, float]):
        self.timings = timings
        self.phase = ""
        self.start = 0.0

    def __call__(self, phase: str) -> "PhaseClock":
        self.phase = phase
        return self

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.timings[self.phase] += time.perf_counter() - self.start
