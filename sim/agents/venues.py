"""Venue agents: the online store with its order and logistics queues, and offline venues.

Queues are FIFO lists of cohorts ``[created_hour, orders]``: orders of one hour travel
together, so the delay each cohort waited is exact without tracking single orders.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import mesa
import numpy as np

from ..catalog import CATEGORY_INDEX, ONLINE, VenueType

if TYPE_CHECKING:
    from ..model import Double11Model


class Venue(mesa.Agent):
    """An offline venue type in one region tier (it stands for all such stores there)."""

    def __init__(self, model: "Double11Model", spec: VenueType, tier: int, capacity: float, integration: float):
        super().__init__(model)
        self.kind = spec.name
        self.spec = spec
        self.tier = tier
        self.capacity = capacity          # simulated visits per hour
        self.integration = integration    # 0-1: online coupons honoured offline
        self.is_open = False
        self.visits = 0.0
        self.turned_away = 0.0

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
            open_now = open_now and model.near_festival()
        self.is_open = open_now


class OnlineVenue(mesa.Agent):
    """``tmall_online``: orders queue for processing, then for logistics dispatch."""

    kind = ONLINE

    def __init__(self, model: "Double11Model", order_capacity: float, logistics_capacity_per_hour: float):
        super().__init__(model)
        self.order_capacity = order_capacity
        self.logistics_capacity = logistics_capacity_per_hour
        self.processing: deque[list[float]] = deque()
        self.logistics: deque[list[float]] = deque()
        self.processing_backlog = 0.0
        self.logistics_backlog = 0.0
        self.created = 0.0
        self.dispatched = 0.0
        self.dispatched_this_hour = 0.0
        # Orders dispatched by hours waited: index = hours in queues, value = orders.
        self.delay_histogram = np.zeros(model.calendar.n_hours + 1)

    def expected_delay_hours(self) -> float:
        """Wait a new order can expect: the slower of the two FIFO stages ahead of it."""
        return max(
            self.processing_backlog / self.order_capacity,
            (self.processing_backlog + self.logistics_backlog) / self.logistics_capacity,
        )

    def accept(self, orders: float) -> None:
        if orders > 0:
            self.processing.append([self.model.hour, orders])
            self.processing_backlog += orders
            self.created += orders

    def step(self) -> None:
        """Process this hour's capacity at each stage, oldest cohorts first."""
        moved = _drain(self.processing, self.order_capacity)
        self.processing_backlog -= sum(n for _, n in moved)
        for cohort in moved:
            self.logistics.append(cohort)
            self.logistics_backlog += cohort[1]
        shipped = _drain(self.logistics, self.logistics_capacity)
        self.dispatched_this_hour = sum(n for _, n in shipped)
        self.logistics_backlog -= self.dispatched_this_hour
        self.dispatched += self.dispatched_this_hour
        for created, n in shipped:
            self.delay_histogram[self.model.hour - int(created)] += n

    def censor_queued(self) -> None:
        """At season end, count orders still queued with the wait they have had so far."""
        for queue in (self.processing, self.logistics):
            for created, n in queue:
                self.delay_histogram[self.model.hour - int(created)] += n


def _drain(queue: deque[list[float]], capacity: float) -> list[list[float]]:
    """Take up to ``capacity`` orders from the front of a cohort queue."""
    taken: list[list[float]] = []
    while queue and capacity > 1e-12:
        cohort = queue[0]
        n = min(cohort[1], capacity)
        taken.append([cohort[0], n])
        capacity -= n
        cohort[1] -= n
        if cohort[1] <= 1e-12:
            queue.popleft()
    return taken
