"""Order-processing and logistics queues: capacity, FIFO order, exact waits."""

import numpy as np
import pytest

from collections import deque

from sim.model.agents.venues import _drain
from sim.model.fulfilment import Requests
from sim.model.double11 import Double11Model
from sim.model.params import build_params


def online_venue(order_cap: float, logistics_cap: float):
    model = Double11Model(build_params({"consumers.n": 200, "festival.format": "none"}), seed=0)
    venue = model.online
    venue.order_capacity, venue.logistics_capacity = order_cap, logistics_cap
    venue.delay_histogram[:] = 0
    waits: list[tuple[int, int]] = []  # (orders, hours waited) as each batch is delivered
    model.fulfilment.deliver = lambda orders, wait_h: waits.append((orders.size, wait_h))
    venue.waits = waits
    return model, venue


def orders(n: int) -> Requests:
    """n one-unit online parcel orders (contents do not matter to the queues)."""
    zeros, ones = np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64)
    return Requests(zeros, zeros, zeros, ones, np.ones(n), zeros, ones.astype(bool), np.zeros(n), np.ones(n),
                    np.zeros(n, dtype=bool))


def accept(model, venue, n: int) -> None:
    venue.accept(orders(n), np.random.default_rng(0))


def test_drain_takes_oldest_first_up_to_capacity():
    q = deque([[0, 5.0], [1, 5.0], [2, 5.0]])
    taken = _drain(q, 7.0)
    assert taken == [[0, 5.0], [1, 2.0]]
    assert list(q) == [[1, 3.0], [2, 5.0]]


def test_excess_demand_queues_and_becomes_delay():
    model, venue = online_venue(order_cap=10.0, logistics_cap=4.0)
    model.hour = 0
    accept(model, venue, 20)      # a burst of 20 orders at hour 0
    shipped = []
    for hour in range(6):
        model.hour = hour
        venue.step()
        shipped.append(venue.dispatched_this_hour)
    assert shipped == [4.0] * 5 + [0.0]          # logistics is the binding stage
    assert venue.processing_backlog == pytest.approx(0.0)
    assert venue.created == venue.dispatched + venue.processing_backlog + venue.logistics_backlog
    # four orders waited 0 h, four 1 h, ... four 4 h
    assert venue.delay_histogram[:5] == pytest.approx([4, 4, 4, 4, 4])
    assert np.average(np.arange(5), weights=venue.delay_histogram[:5]) == pytest.approx(2.0)
    # each order is experienced once, with the wait it really had
    by_wait = np.bincount([w for _, w in venue.waits], weights=[n for n, _ in venue.waits])
    assert by_wait.tolist() == [4, 4, 4, 4, 4] and sum(n for n, _ in venue.waits) == 20


def test_expected_delay_is_the_slower_stage():
    model, venue = online_venue(order_cap=10.0, logistics_cap=4.0)
    accept(model, venue, 20)
    assert venue.expected_delay_hours() == pytest.approx(20.0 / 4.0)
    venue.order_capacity = 1.0
    assert venue.expected_delay_hours() == pytest.approx(20.0)


def test_orders_within_capacity_do_not_wait():
    model, venue = online_venue(order_cap=100.0, logistics_cap=100.0)
    for hour in range(3):
        model.hour = hour
        accept(model, venue, 50)
        venue.step()
    assert venue.delay_histogram[0] == pytest.approx(150.0) and venue.delay_histogram[1:].sum() == 0
    assert venue.waits == [(50, 0)] * 3
