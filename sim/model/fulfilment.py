"""Turns an hour's decisions into filled orders, and orders into experiences.

Orders compete for a brand's stock in random order and are filled whole or not at all,
so units sold never exceed stock. Offline orders (pick-ups included) are experienced at
once. Online orders enter the order queue and are experienced when they are dispatched,
with the wait they really had: that wait lowers the outcome, raises returns and reaches
the brand's rating through buyers' reviews (``mechanisms.delay_experience``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sim.model.kernels import fulfilment as kernels
from sim.model.agents.consumers import Sessions

if TYPE_CHECKING:
    from sim.model.double11 import Double11Model


class Requests(NamedTuple):
    """Orders asking to be filled this hour (regular purchases and pre-sale balances).

    A named tuple, so that the compiled kernels (``sim.model.kernels.fulfilment``) take it whole."""

    consumer: np.ndarray
    category: np.ndarray
    brand: np.ndarray
    units: np.ndarray
    price: np.ndarray
    venue: np.ndarray       # where the goods are handed over: 0 = parcel, v = offline venue v - 1
    online: np.ndarray      # bool: ordered online (parcels and pick-ups: online price, subsidy, commission)
    subsidy: np.ndarray     # platform-funded discount share of list price
    relief: np.ndarray      # need the order relieves (units, less the extra consumption a deal brings)
    balance: np.ndarray     # bool: a pre-sale balance (need and money already committed)

    def take(self, sel: np.ndarray | slice) -> "Requests":
        """The selected orders: a mask, indices, or a slice (views, no copy)."""
        if isinstance(sel, np.ndarray) and sel.dtype == bool:
            sel = np.flatnonzero(sel)  # one pass over the mask, then gathers
        return Requests(*(v[sel] for v in self))

    @property
    def size(self) -> int:
        return self.brand.size

    @staticmethod
    def concat(parts: list["Requests"]) -> "Requests":
        if len(parts) == 1:
            return parts[0]
        return Requests(*(np.concatenate(columns) for columns in zip(*parts)))


@dataclass
class HourFigures:
    """What happened in one hour, in simulated units, for the recorder."""

    filled: Requests | None = None
    returns: int = 0            # orders returned this hour (experienced this hour)
    stockouts: int = 0
    attempts: int = 0
    presale_orders: int = 0
    presale_value: float = 0.0  # value of pre-orders placed this hour (demand committed now)


def allocate_stock(brand: np.ndarray, units: np.ndarray, inventory: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Which orders are filled: in random order, whole orders while the brand's stock lasts."""
    if brand.size == 0:
        return np.zeros(0, dtype=bool)
    filled, _ = kernels.allocate(rng.permutation(brand.size), brand, units, inventory)
    return filled


class Fulfilment:
    def __init__(self, model: "Double11Model", rng: np.random.Generator):
        self.model = model
        self.rng = rng
        self.preorders: dict[int, list[Requests]] = defaultdict(list)  # window -> pending pre-orders
        self.last = HourFigures()
        self.delay_felt = model.params.mechanisms.delay_experience
        ep = model.params.experience
        self.reviews = model.weight * ep.review_share  # real reviews one simulated order stands for
        self.review_sd = ep.review_noise / np.sqrt(self.reviews)  # spread of the mean of those reviews

    def settle(self, sessions: Sessions) -> None:
        model = self.model
        figures = HourFigures()
        self.last = figures
        parts = []
        window = model.calendar.window[model.hour]
        opening = window >= 0 and model.calendar.windows[window].start == model.hour
        if opening and self.preorders.get(window):
            parts.append(self._balances_due(window))
        bought = sessions.bought
        self._take_preorders(sessions, bought & sessions.presale, figures)
        regular = np.flatnonzero(bought & ~sessions.presale)
        venue = sessions.venue[regular]
        online = (venue == 0) | sessions.pickup[regular]
        parts.append(Requests(
            sessions.consumer[regular], sessions.category[regular], sessions.brand[regular],
            sessions.units[regular], sessions.price[regular], venue, online,
            np.where(online, model.platform.subsidy_rate, 0.0), sessions.relief[regular], np.zeros(regular.size, dtype=bool),
        ))
        requests = Requests.concat(parts)
        figures.attempts = requests.size
        model.brand_book.demand_today += np.bincount(requests.brand, requests.units, minlength=model.brand_book.n)
        filled = allocate_stock(requests.brand, requests.units, model.brand_book.inventory, self.rng)
        if np.count_nonzero(filled) == requests.size:  # the usual hour: no order meets an empty shelf
            self._account(requests, figures)
            return
        self._stockouts(requests.take(~filled), figures)
        self._account(requests.take(filled), figures)

    def _take_preorders(self, sessions: Sessions, mask: np.ndarray, figures: HourFigures) -> None:
        if not mask.any():
            return
        model = self.model
        window = int(model.calendar.deposit_for[model.hour])
        k = int(mask.sum())
        pre = Requests(
            sessions.consumer[mask], sessions.category[mask], sessions.brand[mask], sessions.units[mask],
            sessions.price[mask], sessions.venue[mask], np.ones(k, dtype=bool), np.full(k, model.platform.presale_subsidy_rate),
            sessions.relief[mask], np.ones(k, dtype=bool),
        )
        self.preorders[window].append(pre)
        model.consumers.commit(pre.consumer, pre.category, pre.relief, pre.units * pre.price)
        model.brand_book.presale_units += np.bincount(pre.brand, pre.units, minlength=model.brand_book.n)
        figures.presale_orders = pre.size
        figures.presale_value = float((pre.units * pre.price).sum())

    def _balances_due(self, window: int) -> Requests:
        """Pre-orders of a window fall due at its opening; a few balances are never paid."""
        model = self.model
        due = Requests.concat(self.preorders.pop(window))
        model.brand_book.presale_units -= np.bincount(due.brand, due.units, minlength=model.brand_book.n)
        model.brand_book.presale_units[:] = np.maximum(model.brand_book.presale_units, 0.0)
        default = self.rng.random(due.size) < model.params.festival.balance_default
        lost = due.take(default)
        deposit = model.params.festival.deposit_share * lost.units * lost.price
        model.consumers.commit(lost.consumer, lost.category, -lost.relief, -(lost.units * lost.price - deposit))
        model.brand_book.revenue += np.bincount(lost.brand, deposit, minlength=model.brand_book.n)
        return due.take(~default)

    def _stockouts(self, missed: Requests, figures: HourFigures) -> None:
        """A sold-out brand disappoints: a bad outcome for the buyer and a bad review for the brand."""
        model = self.model
        figures.stockouts = missed.size
        if missed.size == 0:
            return
        bal = missed.take(missed.balance)  # pre-paid: money and need come back
        model.consumers.commit(bal.consumer, bal.category, -bal.relief, -(bal.units * bal.price))
        outcome = np.full(missed.size, model.params.experience.stockout_outcome)
        model.consumers.experience(missed.consumer, missed.category, missed.brand, outcome)
        self._review(missed.brand, outcome)

    def _account(self, f: Requests, figures: HourFigures) -> None:
        """Filled orders: stock, money and need now; the experience at delivery."""
        model, book = self.model, self.model.brand_book
        n = book.n
        parcel = f.venue == 0
        revenue = self._pay(f, +1)
        sold = np.bincount(f.brand, f.units, minlength=n)
        book.inventory -= sold
        book.sold_today += sold
        book.gmv_today += np.bincount(f.brand, revenue, minlength=n)
        if f.balance.any():  # balances: need and money were committed at the deposit
            new = ~f.balance
            model.consumers.commit(f.consumer[new], f.category[new], f.relief[new], revenue[new])
        else:
            model.consumers.commit(f.consumer, f.category, f.relief, revenue)
        figures.filled = f
        self.deliver(f.take(~parcel), wait_h=0)  # offline sales and pick-ups: in hand at once
        model.online.accept(f, self.rng, rows=np.flatnonzero(parcel))

    def _pay(self, f: Requests, sign: int) -> np.ndarray:
        """Money of filled orders (sign +1) or of their refunds (-1): the brand receives the price
        plus the platform's subsidy less commission on online orders. Returns each order's value."""
        model, book = self.model, self.model.brand_book
        payments = kernels.Payments(f.brand, f.units, f.price, f.online, f.subsidy)
        value, subsidy_paid, commission = kernels.pay(payments, book.list_price, model.params.platform.commission, sign,
                                                      book.revenue)
        self._platform_accounts(sign, subsidy_paid, commission)
        return value

    def _platform_accounts(self, sign: int, subsidy_paid: np.ndarray, commission: np.ndarray) -> None:
        platform = self.model.platform
        platform.subsidy_cost += sign * float(subsidy_paid.sum())
        platform.commission += sign * float(commission.sum())

    def deliver(self, f: Requests, wait_h: int) -> None:
        """Orders reach their buyers after ``wait_h`` hours in the queues: returns, outcome, review
        (``kernels.fulfilment.deliver``), then the buyers' experience."""
        if f.size == 0:
            return
        model, book = self.model, self.model.brand_book
        ep = model.params.experience
        felt = float(wait_h) if self.delay_felt else 0.0
        returns_u = self.rng.random(f.size)
        noise = self._review_noise(f.size)
        terms = kernels.DeliveryTerms(
            ep.quality_weight, ep.service_weight, ep.delay_weight * felt / 24.0, ep.return_penalty, ep.expected_quality,
            ep.return_quality_slope, ep.return_units_slope, 1 + ep.return_delay_slope * felt / 24.0,
            ep.offline_return_factor, model.params.platform.commission, self.reviews,
        )
        columns = kernels.BrandColumns(
            book.quality, book.service, book.list_price, book.review_bias, book.inventory, book.revenue,
            book.returns_today, book.delivered_today, book.review_sum, book.review_weight,
        )
        consumers = model.consumers
        outcome, n_returned, subsidy_paid, commission = kernels.deliver(
            f, returns_u, noise, terms, columns, consumers.return_base, consumers.need_base, consumers.wallet,
        )
        if n_returned:
            self._platform_accounts(-1, subsidy_paid, commission)
        consumers.experience(f.consumer, f.category, f.brand, outcome)
        self.last.returns += n_returned

    def _review_noise(self, n: int) -> np.ndarray:
        return self.rng.normal(0.0, self.review_sd, n)

    def _review(self, brand: np.ndarray, outcome: np.ndarray) -> None:
        """Buyers' reviews: each simulated order stands for ``reviews`` real ones; their mean is the
        outcome plus the brand's lasting bias plus noise."""
        book = self.model.brand_book
        noise = self._review_noise(brand.size)
        kernels.review(brand, outcome, noise, book.review_bias, self.reviews, book.review_sum, book.review_weight)
