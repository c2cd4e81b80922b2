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
from typing import TYPE_CHECKING

import numpy as np

from .agents.consumers import Sessions

if TYPE_CHECKING:
    from .model import Double11Model


@dataclass
class Requests:
    """Orders asking to be filled this hour (regular purchases and pre-sale balances)."""

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

    def take(self, sel: np.ndarray) -> "Requests":
        if sel.dtype == bool:
            sel = np.flatnonzero(sel)  # one pass over the mask, then gathers
        return Requests(**{k: v[sel] for k, v in self.__dict__.items()})

    @property
    def size(self) -> int:
        return self.brand.size

    @staticmethod
    def concat(parts: list["Requests"]) -> "Requests":
        return Requests(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in Requests.__dataclass_fields__})


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
    n = brand.size
    if n == 0:
        return np.zeros(0, dtype=bool)
    order = rng.permutation(n)
    keys = brand[order]
    if keys.max() < np.iinfo(np.int16).max:
        keys = keys.astype(np.int16)  # numpy's stable sort is a radix sort for 16-bit keys: same order, faster
    by_brand = order[np.argsort(keys, kind="stable")]
    b, u = brand[by_brand], units[by_brand].astype(np.float64)
    cum = np.cumsum(u)
    first = np.searchsorted(b, b, side="left")
    within = cum - (cum[first] - u[first])
    filled = np.empty(n, dtype=bool)
    filled[by_brand] = within <= inventory[b] + 1e-9
    return filled


class Fulfilment:
    def __init__(self, model: "Double11Model", rng: np.random.Generator):
        self.model = model
        self.rng = rng
        self.preorders: dict[int, list[Requests]] = defaultdict(list)  # window -> pending pre-orders
        self.last = HourFigures()
        self.delay_felt = model.params.mechanisms.delay_experience

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
        online = (sessions.venue == 0) | sessions.pickup
        subsidy = np.where(online, model.platform.subsidy_rate, 0.0)
        parts.append(Requests(
            sessions.consumer[regular], sessions.category[regular], sessions.brand[regular],
            sessions.units[regular], sessions.price[regular], sessions.venue[regular], online[regular], subsidy[regular],
            sessions.relief[regular], np.zeros(regular.size, dtype=bool),
        ))
        requests = Requests.concat(parts)
        figures.attempts = requests.size
        model.brand_book.demand_today += np.bincount(requests.brand, requests.units, minlength=model.brand_book.n)
        filled = allocate_stock(requests.brand, requests.units, model.brand_book.inventory, self.rng)
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
        model.consumers.commit(pre.consumer, pre.category, pre.relief, pre.units * pre.price, unique=True)
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
        book.inventory -= np.bincount(f.brand, f.units, minlength=n)
        book.sold_today += np.bincount(f.brand, f.units, minlength=n)
        book.gmv_today += np.bincount(f.brand, revenue, minlength=n)
        new = ~f.balance
        model.consumers.commit(f.consumer[new], f.category[new], f.relief[new], revenue[new], unique=True)
        figures.filled = f
        self.deliver(f.take(~parcel), wait_h=0)  # offline sales and pick-ups: in hand at once
        model.online.accept(f.take(parcel), self.rng)

    def _pay(self, f: Requests, sign: int) -> np.ndarray:
        """Money of filled orders (sign +1) or of their refunds (-1): the brand receives the price
        plus the platform's subsidy less commission on online orders. Returns each order's value."""
        model, book = self.model, self.model.brand_book
        revenue = f.units * f.price
        commission = model.params.platform.commission * revenue * f.online
        subsidy_paid = f.units * book.list_price[f.brand] * f.subsidy
        book.revenue += sign * np.bincount(f.brand, revenue + subsidy_paid - commission, minlength=book.n)
        model.platform.subsidy_cost += sign * float(subsidy_paid.sum())
        model.platform.commission += sign * float(commission.sum())
        return revenue

    def deliver(self, f: Requests, wait_h: int) -> None:
        """Orders reach their buyers after ``wait_h`` hours in the queues: returns, outcome, review."""
        if f.size == 0:
            return
        model, book = self.model, self.model.brand_book
        ep, n = model.params.experience, book.n
        felt = float(wait_h) if self.delay_felt else 0.0
        quality = book.quality[f.brand]
        online = f.venue == 0
        p_return = model.consumers.return_probability(f.category, quality, f.units, online, felt)
        returned = self.rng.random(f.size) < p_return
        outcome = np.minimum(np.maximum(  # np.clip's wrapper costs more than the work on a few orders
            0.5 + ep.quality_weight * (quality - 0.5) + ep.service_weight * (book.service[f.brand] - 0.5)
            - ep.delay_weight * felt / 24.0 - ep.return_penalty * returned, 0.0), 1.0,
        )
        book.returns_today += np.bincount(f.brand, returned, minlength=n)
        book.delivered_today += np.bincount(f.brand, minlength=n)
        if returned.any():  # money back, goods back on the shelf, the need is still there
            r = f.take(returned)
            revenue = self._pay(r, -1)
            book.inventory += np.bincount(r.brand, r.units, minlength=n)
            model.consumers.commit(r.consumer, r.category, -r.relief, -revenue)
        model.consumers.experience(f.consumer, f.category, f.brand, outcome)
        self._review(f.brand, outcome)
        self.last.returns += int(returned.sum())

    def _review(self, brand: np.ndarray, outcome: np.ndarray) -> None:
        """Buyers' reviews: each simulated order stands for ``weight`` real ones, of which a
        share is reviewed; their mean is the outcome plus the brand's lasting bias plus noise."""
        model, book = self.model, self.model.brand_book
        ep = model.params.experience
        reviews = model.weight * ep.review_share
        noise = self.rng.normal(0.0, ep.review_noise / np.sqrt(reviews), brand.size)
        score = outcome + book.review_bias[brand] + noise
        book.review_sum += np.bincount(brand, score * reviews, minlength=book.n)
        book.review_weight += np.bincount(brand, minlength=book.n) * reviews
