"""The fulfilment's per-order loops as compiled (numba) kernels.

Why this exists: an hour brings a few hundred orders (100k consumers), and a dispatched
cohort fewer, so the fixed cost of the numpy version's calls (masks, gathers, bincounts:
about 60 per delivery) dominated the phase, not the work per order. Each kernel here does
in one pass what a run of numpy calls did.

No randomness is generated here: the caller draws from the fulfilment's Generator exactly
what the numpy version drew (same calls, sizes and order) and passes the draws in.
Arithmetic repeats the numpy version's operation by operation, with its types, so results
are bit-identical: ``np.bincount`` adds the orders in turn into a zeroed per-brand tally,
which is then added to the brand column, and the kernels do the same; sums that numpy
takes pairwise (``ndarray.sum``) are left to numpy by the caller.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from sim.model.kernels.experience import commit_orders


class DeliveryTerms(NamedTuple):
    """Experience parameters of one delivery (every order waited the same hours)."""

    quality_weight: float
    service_weight: float
    delay_term: float            # delay_weight * felt hours / 24: the outcome lost to the wait
    return_penalty: float
    expected_quality: float
    return_quality_slope: float
    return_units_slope: float
    delay_factor: float          # 1 + return_delay_slope * felt hours / 24: returns raised by the wait
    offline_return_factor: float
    commission: float            # the platform's commission rate on online orders
    reviews: float               # real reviews one simulated order stands for


class BrandColumns(NamedTuple):
    """The brand-book columns a delivery reads, and those it updates in place."""

    quality: np.ndarray
    service: np.ndarray
    list_price: np.ndarray
    review_bias: np.ndarray
    inventory: np.ndarray        # updated: returned goods back on the shelf
    revenue: np.ndarray          # updated: refunds
    returns_today: np.ndarray    # updated
    delivered_today: np.ndarray  # updated
    review_sum: np.ndarray       # updated
    review_weight: np.ndarray    # updated


@njit(cache=True)
def allocate(order, brand, units, inventory):
    """Orders taken in ``order`` (a random permutation), grouped by brand (stably), are filled
    whole while the brand's running total of units stays within its stock.

    Returns the filled mask (by order index) and the number filled. A stable counting sort
    gives the order ``argsort(brand[order], kind="stable")`` gave; the running total is one
    cumulative sum over all orders less its value before the brand's first order, as before.
    """
    n = order.size
    start = np.zeros(inventory.size + 1, np.int64)  # brand b's orders go to slots start[b]...
    for j in range(n):
        start[brand[j] + 1] += 1
    for b in range(inventory.size):
        start[b + 1] += start[b]
    by_brand = np.empty(n, np.int64)
    for k in range(n):
        j = order[k]
        by_brand[start[brand[j]]] = j
        start[brand[j]] += 1
    filled = np.empty(n, np.bool_)
    n_filled = 0
    cum = 0.0
    before = 0.0  # the cumulative sum before the current brand's first order
    current = -1
    for k in range(n):
        j = by_brand[k]
        b = brand[j]
        u = np.float64(units[j])
        cum += u
        if b != current:
            before = cum - u
            current = b
        filled[j] = cum - before <= inventory[b] + 1e-9
        n_filled += filled[j]
    return filled, n_filled


class Payments(NamedTuple):
    """Orders as money: what ``pay`` reads of them."""

    brand: np.ndarray
    units: np.ndarray
    price: np.ndarray       # unit price paid
    online: np.ndarray      # bool: commission is due
    subsidy: np.ndarray     # platform-funded discount share of list price


@njit(cache=True)
def pay(payments, list_price, commission_rate, sign, revenue_column):
    """Money of orders (sign +1) or of their refunds (-1): the brand's revenue column receives
    the price plus the platform's subsidy less commission on online orders.

    Returns each order's value, the subsidies and the commissions (the caller sums these)."""
    brand, units, price, online, subsidy = payments
    n = brand.size
    value = np.empty(n)
    subsidy_paid = np.empty(n)
    commission = np.empty(n)
    tally = np.zeros(revenue_column.size)
    for i in range(n):
        value[i] = np.float64(units[i]) * np.float64(price[i])
        commission[i] = commission_rate * value[i] * np.float64(online[i])
        subsidy_paid[i] = np.float64(units[i]) * list_price[brand[i]] * subsidy[i]
        tally[brand[i]] += value[i] + subsidy_paid[i] - commission[i]
    for b in range(revenue_column.size):
        revenue_column[b] += sign * tally[b]
    return value, subsidy_paid, commission


@njit(cache=True)
def deliver(orders, returns_u, noise, terms, brands, return_base, need_base, wallet):
    """Orders in their buyers' hands: which are returned, each one's outcome, the brands'
    tallies and reviews, and the refunds of returns (money, stock and need back).

    ``returns_u``: one uniform per order (returned if below its return probability);
    ``noise``: each order's review noise. Returns the outcomes, the number returned, and the
    refunds' subsidies and commissions (for the platform's accounts)."""
    n = orders.brand.size
    n_brands = brands.inventory.size
    returned = np.empty(n, np.bool_)
    outcome = np.empty(n)
    n_returned = 0
    for i in range(n):
        b = orders.brand[i]
        quality = brands.quality[b]
        parcel = orders.venue[i] == 0
        base = return_base[orders.category[i]] * (1.0 if parcel else terms.offline_return_factor)
        p = (base * (1 + terms.return_quality_slope * max(0.0, terms.expected_quality - quality))
             * (1 + terms.return_units_slope * (orders.units[i] - 1)) * terms.delay_factor)
        returned[i] = returns_u[i] < min(p, 0.9)
        n_returned += returned[i]
        o = (0.5 + terms.quality_weight * (quality - 0.5) + terms.service_weight * (brands.service[b] - 0.5)
             - terms.delay_term - terms.return_penalty * np.float64(returned[i]))
        outcome[i] = min(max(o, 0.0), 1.0)
    returns = np.zeros(n_brands)
    delivered = np.zeros(n_brands, np.int64)
    for i in range(n):
        returns[orders.brand[i]] += np.float64(returned[i])
        delivered[orders.brand[i]] += 1
    for b in range(n_brands):
        brands.returns_today[b] += returns[b]
        brands.delivered_today[b] += delivered[b]

    subsidy_paid, commission = np.empty(0), np.empty(0)
    if n_returned > 0:  # money back, goods back on the shelf, the need is still there
        r = np.flatnonzero(returned)
        brand = orders.brand[r]
        units = orders.units[r]
        refunds = Payments(brand, units, orders.price[r], orders.online[r], orders.subsidy[r])
        value, subsidy_paid, commission = pay(refunds, brands.list_price, terms.commission, -1, brands.revenue)
        back = np.zeros(n_brands)
        for k in range(r.size):
            back[brand[k]] += np.float64(units[k])
        for b in range(n_brands):
            brands.inventory[b] += back[b]
        commit_orders(need_base, wallet, orders.consumer[r], orders.category[r], -orders.relief[r], -value)

    review(orders.brand, outcome, noise, brands.review_bias, terms.reviews, brands.review_sum, brands.review_weight)
    return outcome, n_returned, subsidy_paid, commission


@njit(cache=True)
def review(brand, outcome, noise, review_bias, reviews, review_sum, review_weight):
    """Buyers' reviews: each order's score is its outcome plus the brand's bias plus noise,
    weighted by the ``reviews`` real reviews it stands for."""
    n_brands = review_sum.size
    score = np.zeros(n_brands)
    count = np.zeros(n_brands, np.int64)
    for i in range(brand.size):
        score[brand[i]] += (outcome[i] + review_bias[brand[i]] + noise[i]) * reviews
        count[brand[i]] += 1
    for b in range(n_brands):
        review_sum[b] += score[b]
        review_weight[b] += count[b] * reviews
