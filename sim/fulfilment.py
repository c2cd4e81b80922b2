"""Turns an hour's decisions into filled orders: pre-orders, stock, money, returns, queues.

Orders compete for a brand's stock in random order and are filled whole or not at all,
so units sold never exceed stock. Every order created online enters the order queue.
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
    venue: np.ndarray
    delay_h: np.ndarray
    subsidy: np.ndarray     # platform-funded discount share of list price
    balance: np.ndarray     # bool: a pre-sale balance (need and money already committed)

    def take(self, mask: np.ndarray) -> "Requests":
        sel = np.flatnonzero(mask) if mask.dtype == bool else mask  # one pass over the mask, then gathers
        return Requests(**{k: v[sel] for k, v in self.__dict__.items()})

    @staticmethod
    def concat(parts: list["Requests"]) -> "Requests":
        return Requests(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in Requests.__dataclass_fields__})


@dataclass
class HourFigures:
    """What happened in one hour, in simulated units, for the recorder."""

    filled: Requests | None = None
    returned: np.ndarray | None = None
    stockouts: int = 0
    attempts: int = 0
    presale_orders: int = 0


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

    def settle(self, sessions: Sessions) -> None:
        model = self.model
        figures = HourFigures()
        parts = []
        window = model.calendar.window[model.hour]
        opening = window >= 0 and model.calendar.windows[window].start == model.hour
        if opening and self.preorders.get(window):
            parts.append(self._balances_due(window, figures))
        bought = sessions.bought
        self._take_preorders(sessions, bought & sessions.presale, figures)
        regular = np.flatnonzero(bought & ~sessions.presale)
        subsidy = np.where(sessions.venue == 0, model.platform.subsidy_rate, 0.0)
        parts.append(Requests(
            sessions.consumer[regular], sessions.category[regular], sessions.brand[regular],
            sessions.units[regular], sessions.price[regular], sessions.venue[regular],
            sessions.delay_h[regular], subsidy[regular], np.zeros(regular.size, dtype=bool),
        ))
        requests = Requests.concat(parts)
        figures.attempts = requests.brand.size
        model.brand_book.demand_today += np.bincount(requests.brand, requests.units, minlength=model.brand_book.n)
        filled = allocate_stock(requests.brand, requests.units, model.brand_book.inventory, self.rng)
        self._stockouts(requests.take(~filled), figures)
        self._account(requests.take(filled), figures)
        self.last = figures

    def _take_preorders(self, sessions: Sessions, mask: np.ndarray, figures: HourFigures) -> None:
        if not mask.any():
            return
        model = self.model
        window = int(model.calendar.deposit_for[model.hour])
        pre = Requests(
            sessions.consumer[mask], sessions.category[mask], sessions.brand[mask], sessions.units[mask],
            sessions.price[mask], sessions.venue[mask], sessions.delay_h[mask],
            np.full(int(mask.sum()), model.platform.presale_subsidy_rate), np.ones(int(mask.sum()), dtype=bool),
        )
        self.preorders[window].append(pre)
        model.consumers.commit(pre.consumer, pre.category, pre.units, pre.units * pre.price, unique=True)
        model.brand_book.presale_units += np.bincount(pre.brand, pre.units, minlength=model.brand_book.n)
        figures.presale_orders = pre.brand.size

    def _balances_due(self, window: int, figures: HourFigures) -> Requests:
        """Pre-orders of a window fall due at its opening; a few balances are never paid."""
        model = self.model
        due = Requests.concat(self.preorders.pop(window))
        model.brand_book.presale_units -= np.bincount(due.brand, due.units, minlength=model.brand_book.n)
        model.brand_book.presale_units[:] = np.maximum(model.brand_book.presale_units, 0.0)
        default = self.rng.random(due.brand.size) < model.params.festival.balance_default
        lost = due.take(default)
        deposit = model.params.festival.deposit_share * lost.units * lost.price
        model.consumers.commit(lost.consumer, lost.category, -lost.units, -(lost.units * lost.price - deposit))
        model.brand_book.revenue += np.bincount(lost.brand, deposit, minlength=model.brand_book.n)
        due = due.take(~default)
        due.delay_h = np.full(due.brand.size, model.online.expected_delay_hours())
        return due

    def _stockouts(self, missed: Requests, figures: HourFigures) -> None:
        model = self.model
        figures.stockouts = missed.brand.size
        if missed.brand.size == 0:
            return
        bal = missed.take(missed.balance)  # pre-paid: money and need come back
        model.consumers.commit(bal.consumer, bal.category, -bal.units, -(bal.units * bal.price))
        model.consumers.experience(missed.consumer, missed.category, missed.brand, np.full(missed.brand.size, 0.2))

    def _account(self, f: Requests, figures: HourFigures) -> None:
        model, book = self.model, self.model.brand_book
        n = book.n
        online = f.venue == 0
        revenue = f.units * f.price
        quality = book.quality[f.brand]
        p_return = model.consumers.return_probability(f.category, quality, f.units, online)
        returned = self.rng.random(f.brand.size) < p_return
        outcome = np.clip(
            0.5 + 0.8 * (quality - 0.5) + 0.3 * (book.service[f.brand] - 0.5) - 0.1 * f.delay_h / 24.0 - 0.3 * returned,
            0.0, 1.0,
        )
        commission = model.params.platform.commission
        subsidy_paid = f.units * book.list_price[f.brand] * f.subsidy
        kept = ~returned
        book.inventory -= np.bincount(f.brand, f.units * kept, minlength=n)
        book.sold_today += np.bincount(f.brand, f.units, minlength=n)
        book.gmv_today += np.bincount(f.brand, revenue, minlength=n)
        book.outcome_sum += np.bincount(f.brand, outcome, minlength=n)
        book.outcome_n += np.bincount(f.brand, minlength=n)
        book.returns_today += np.bincount(f.brand, returned, minlength=n)
        book.revenue += np.bincount(f.brand, kept * ((revenue + subsidy_paid) - commission * revenue * online), minlength=n)
        model.platform.subsidy_cost += float((subsidy_paid * kept).sum())
        model.platform.commission += float((commission * revenue * online * kept).sum())
        model.online.accept(float(online.sum()))

        new = ~f.balance
        model.consumers.commit(f.consumer[new], f.category[new], f.units[new], revenue[new], unique=True)
        back = returned  # returned goods: money back, the need is still there
        model.consumers.commit(f.consumer[back], f.category[back], -f.units[back], -revenue[back])
        model.consumers.experience(f.consumer, f.category, f.brand, outcome)
        figures.filled = f
        figures.returned = returned
