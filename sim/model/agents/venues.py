"""Venue agents: the online store with its order and logistics queues, and offline venues.

Queues are FIFO lists of cohorts (the online orders of one hour): each order leaves with
the wait it really had, and is experienced then.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model.catalog import CATEGORY_INDEX, ONLINE, VenueType

if TYPE_CHECKING:
    from sim.model.fulfilment import Requests
    from sim.model.double11 import Double11Model


class Venue(mesa.Agent):
    """An offline venue type in one region tier (it stands for all such stores there)."""

    def __init__(self, model: "Double11Model", spec: VenueType, tier: int, integration: float):
        super().__init__(model)
        self.kind = spec.name
        self.spec = spec
        self.tier = tier
        self.capacity = np.inf            # simulated visits per hour, once sized (Market.size_venues)
        self.integration = integration    # 0-1: online coupons honoured offline
        self.is_open = False
        self.visits = 0.0         # simulated visits since the season started
        self.turned_away = 0.0    # of which turned away because the venue was full

    def category_pull(self) -> np.ndarray:
        pull = np.zeros(len(CATEGORY_INDEX))
        for name, weight in self.spec.categories.items():
            pull[CATEGORY_INDEX[name]] = weight
        return pull

    def step(self) -> None:
        """Open or close for this hour; pop-up stores exist only around the festival."""
        model = self.model
        start, end = self.spec.opening
        open_now = start <= model.hour_of_day < end
        if self.spec.festival_only:
            open_now = open_now and model.market.popups_open()
        self.is_open = open_now


class VisitForecast:
    """Each offline venue's expected visits this hour, and the share of visitors it can let in.

    The simulated population is a sample: at a few thousand consumers a venue's hourly visits
    are a few Poisson counts whose peaks pass its capacity, where a real venue's, summed over
    millions of shoppers, stay near their expectation. A venue compared with its counted
    visits turned away 13% of visitors at 3,000 consumers and 6% at 160,000. It compares its
    capacity with the expected visits instead: offline sessions per unit of session rate, by
    tier and category (learned over the past weeks, half-life ``HALF_LIFE_H``), times this
    hour's rate and the chance that a session of that tier and category comes to this venue
    (open hours and the festival's pull).
    """

    HALF_LIFE_H = 672.0

    def __init__(self, tiers: int, categories: int):
        self.keep = 0.5 ** (1.0 / self.HALF_LIFE_H)
        self.sessions = np.zeros((tiers, categories))  # discounted offline sessions
        self.exposure = 0.0                            # discounted session rate they came at

    @staticmethod
    def visit_chance(venue_cum: np.ndarray) -> np.ndarray:
        """(tiers, categories, venues) cumulative weights -> the chance an offline session goes to each venue."""
        total = venue_cum[:, :, -1:]
        return np.divide(np.diff(venue_cum, axis=2, prepend=0.0), total, out=np.zeros_like(venue_cum), where=total > 0)

    def expected(self, visit_chance: np.ndarray, rate: float) -> np.ndarray:
        """Expected visits per venue at session rate ``rate``, given each venue's visit chances."""
        if self.exposure <= 0.0:
            return np.zeros(visit_chance.shape[-1])
        return rate * np.einsum("tc,tcv->v", self.sessions / self.exposure, visit_chance)

    def admission(self, visit_chance: np.ndarray, rate: float, capacity: np.ndarray) -> np.ndarray:
        """Chance a visitor is let in, per venue: capacity over expected visits, at most 1 (1 where
        none are expected, and before the venues are sized: infinite capacity)."""
        return np.minimum(1.0, capacity / np.maximum(self.expected(visit_chance, rate), 1e-12))

    def learn(self, offline_sessions: np.ndarray, rate: float) -> None:
        """Add one hour's offline sessions, counted at session rate ``rate``."""
        if rate > 0.0:
            self.sessions = self.sessions * self.keep + offline_sessions
            self.exposure = self.exposure * self.keep + rate


class Cohort:
    """The online orders of one hour, in the (random) order they leave the queues."""

    __slots__ = ("created", "orders", "dispatched")

    def __init__(self, created: int, orders: "Requests"):
        self.created = created
        self.orders = orders
        self.dispatched = 0.0  # orders of this cohort dispatched so far (capacity is fractional)

    def next(self, n: float) -> "Requests":
        """The next ``n`` orders to leave; rounding makes a fully drained cohort leave whole."""
        lo = int(round(self.dispatched))
        self.dispatched += n
        return self.orders.take(slice(lo, min(int(round(self.dispatched)), self.orders.size)))  # views


class OnlineVenue(mesa.Agent):
    """``tmall_online``: orders queue for processing, then for logistics dispatch.

    Queue entries are ``[cohort, orders]``: FIFO at both stages, so the orders of a cohort
    leave logistics in the order they entered, and each is experienced with its own wait.
    """

    kind = ONLINE

    def __init__(self, model: "Double11Model", order_capacity: float, logistics_capacity_per_hour: float):
        super().__init__(model)
        self.order_capacity = order_capacity
        self.logistics_capacity = logistics_capacity_per_hour
        self.processing: deque[list] = deque()
        self.logistics: deque[list] = deque()
        self.processing_backlog = 0.0
        self.logistics_backlog = 0.0
        self.created = 0.0
        self.dispatched = 0.0
        self.dispatched_this_hour = 0.0
        self._new_tallies()

    def _new_tallies(self) -> None:
        n_hours = self.model.calendar.n_hours
        # Orders dispatched by hours waited: index = hours in queues, value = orders.
        self.delay_histogram = np.zeros(n_hours + 1)
        # Total hours waited and orders, by the hour the orders were created (cohort delays).
        self.wait_by_created = np.zeros(n_hours)
        self.orders_by_created = np.zeros(n_hours)

    def new_season(self, shift: int) -> None:
        """The clock restarts: orders still queued keep their place and their age (created < 0)."""
        for queue in (self.processing, self.logistics):
            for cohort, _ in queue:
                cohort.created -= shift
        self._new_tallies()

    def expected_delay_hours(self) -> float:
        """Wait a new order can expect: the slower of the two FIFO stages ahead of it."""
        return max(
            self.processing_backlog / self.order_capacity,
            (self.processing_backlog + self.logistics_backlog) / self.logistics_capacity,
        )

    def accept(self, orders: "Requests", rng: np.random.Generator, rows: np.ndarray | None = None) -> None:
        """This hour's parcel orders (``orders``, or its ``rows``) join the queue in random order."""
        size = orders.size if rows is None else rows.size
        if size > 0:
            shuffle = rng.permutation(size)
            cohort = Cohort(self.model.hour, orders.take(shuffle if rows is None else rows[shuffle]))  # one gather
            self.processing.append([cohort, float(size)])
            self.processing_backlog += size
            self.created += size
            self.orders_by_created[self.model.hour] += size

    def step(self) -> None:
        """Process this hour's capacity at each stage, oldest cohorts first; deliver what ships."""
        moved = _drain(self.processing, self.order_capacity)
        self.processing_backlog -= sum(n for _, n in moved)
        for entry in moved:
            self.logistics.append(entry)
            self.logistics_backlog += entry[1]
        shipped = _drain(self.logistics, self.logistics_capacity)
        self.dispatched_this_hour = sum(n for _, n in shipped)
        self.logistics_backlog -= self.dispatched_this_hour
        self.dispatched += self.dispatched_this_hour
        hour = self.model.hour
        for cohort, n in shipped:
            wait = hour - cohort.created
            self.delay_histogram[min(wait, self.delay_histogram.size - 1)] += n
            if cohort.created >= 0:  # a cohort from last season counts in its waits, not its cohort
                self.wait_by_created[cohort.created] += wait * n
            self.model.fulfilment.deliver(cohort.next(n), wait)

    def censor_queued(self) -> None:
        """At season end, count orders still queued with the wait they have had so far."""
        for queue in (self.processing, self.logistics):
            for cohort, n in queue:
                wait = self.model.hour - cohort.created
                self.delay_histogram[min(wait, self.delay_histogram.size - 1)] += n
                if cohort.created >= 0:
                    self.wait_by_created[cohort.created] += wait * n


def _drain(queue: deque[list], capacity: float) -> list[list]:
    """Take up to ``capacity`` orders from the front of a queue of ``[cohort, orders]``."""
    taken: list[list] = []
    while queue and capacity > 1e-12:
        entry = queue[0]
        n = min(entry[1], capacity)
        taken.append([entry[0], n])
        capacity -= n
        entry[1] -= n
        if entry[1] <= 1e-12:
            queue.popleft()
    return taken
