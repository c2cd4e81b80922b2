"""The market every consumer faces: which brands each venue shelves, the hour's offer (prices,
exposure, pick-ups, offline traffic) and how many visitors each venue can take.

Why an object of its own: agents change the market (brands reprice at midnight, the platform
re-ranks exposure, venues open and close, brands enter and leave between seasons) and consumers
read it every hour as one set of tables. Keeping the tables here lets ``Double11Model`` stay the
order of an hour's step, and gives the ecosystem public methods to change the shelves through.

Groups of the tables: 0 online, 1.. the offline venues (``Market.venues``), the last pre-sale.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.agents.consumers import HOURS_PER_WEEK, Offer, Sessions
from sim.model.agents.venues import Venue, VisitForecast
from sim.model.calendar import DIURNAL, WEEKEND_FACTOR
from sim.model.catalog import CATEGORIES, OFFLINE_VENUES, TIERS, category_array
from sim.model.kernels.records import OfferTables

if TYPE_CHECKING:
    from sim.model.double11 import Double11Model

VENUE_SIZING_DAYS = 42  # days of warm-up the visit forecast learns from before venues are sized


class Market:
    """Shelves, prices and traffic of one season's market, rebuilt when what they depend on changes."""

    def __init__(self, model: "Double11Model", cat_brands: np.ndarray, rng: np.random.Generator):
        self.model = model
        self.params = model.params
        self.integrated = model.params.mechanisms.offline_integration  # the switch, read here only
        self.cat_brands = cat_brands
        self.category_price = category_array("price")
        self.venues = self._create_venues()
        self.carried = self._draw_shelves(rng)
        self._shelf_base: np.ndarray | None = None  # offline shelves as drawn, before exits and launch slots
        self.visit_forecast = VisitForecast(len(TIERS), len(CATEGORIES))
        # Venues are sized once the forecast has learned the ordinary offline demand (six weeks of
        # warm-up, or the warm-up if shorter); until then they let every visitor in.
        self.sizing_hour = max(24, min(VENUE_SIZING_DAYS * 24, model.calendar.season_start))
        self.venues_sized = False
        self.offline_session_rate = 0.0  # this hour's, set with the offer
        self.popup_hours = self._popup_period()
        self.refresh_shelves()
        self._price_key = self._exposure_seen = None  # offer tables, rebuilt when these change
        self._venue_tables: dict[tuple[bool, bytes], tuple] = {}  # by (in a window, which venues are open)

    # --- shelves ----------------------------------------------------------------------
    def _create_venues(self) -> list[Venue]:
        """One venue agent per offline type and tier it serves; how far it honours the festival's
        prices (none without offline integration). Capacity: ``size_venues``."""
        digital = self.params.venues.digital_integration
        return [Venue(self.model, spec, tier, min(1.0, digital * spec.integration) if self.integrated else 0.0)
                for spec in OFFLINE_VENUES for tier in spec.tiers]

    def _draw_shelves(self, rng: np.random.Generator) -> np.ndarray:
        """(online, venues..., pre-sale) x brands: online and pre-sale carry every brand; a venue carries
        a brand of a category it sells with the brand's offline presence, and never leaves one empty."""
        book, venues = self.model.brand_book, self.venues
        carried = np.zeros((len(venues) + 2, book.n), dtype=bool)
        carried[0] = carried[-1] = True
        for v, venue in enumerate(venues, start=1):
            pull = venue.category_pull()[book.category]
            carried[v] = (pull > 0) & (rng.random(book.n) < book.offline_presence)
            for c in np.flatnonzero(venue.category_pull()):
                in_cat = book.category == c
                if not carried[v, in_cat].any():
                    carried[v, np.flatnonzero(in_cat)[np.argmax(book.offline_presence[in_cat])]] = True
        return carried

    def refresh_shelves(self) -> None:
        """Shelf weights of offline venues (big sellers get more shelf), refreshed daily."""
        venues = self.venues
        shelf = np.sqrt(np.maximum(self.model.brand_book.forecast, 1e-9))
        self._cum_weights = _cumulative_by_category(self.carried * shelf, self.cat_brands)
        self.venue_pull = np.array([v.category_pull() for v in venues])  # (venues, categories)
        self._venue_tier = np.array([v.tier for v in venues])
        self._venue_integration = np.array([v.integration for v in venues])

    def _popup_period(self) -> tuple[int, int]:
        """Hours pop-up stores are open: integrated venues of the festival, so none without integration."""
        windows = self.model.calendar.windows
        if not windows or not self.integrated:
            return (0, 0)
        first = min([w.start for w in windows] + [w.deposit_start for w in windows if w.has_presale])
        return min(first, windows[0].start - int(self.params.venues.popup_lead_days * 24)), windows[-1].end

    def popups_open(self) -> bool:
        start, end = self.popup_hours
        return start <= self.model.hour < end

    # --- brands that enter, leave or launch (sim/model/ecosystem.py) ---------------------------
    def add_brand(self, row: int, rng: np.random.Generator) -> None:
        """Shelves for a new row: online, pre-sale, and offline venues drawn by its offline presence."""
        book = self.model.brand_book
        base = self._base()
        pull = self.venue_pull[:, book.category[row]] > 0
        column = np.concatenate([[True], pull & (rng.random(len(self.venues)) < book.offline_presence[row]), [True]])
        self._shelf_base = np.hstack([base, column[:, None]])
        self.carried = np.hstack([self.carried, column[:, None]])

    def widen_shelves(self, row: int, group: int) -> None:
        """An acquired brand goes where its group is stocked: every venue that carries the group and sells its category."""
        base = self._base()
        sells = self.venue_pull[:, self.model.brand_book.category[row]] > 0
        base[1:-1, row] |= base[1:-1, group] & sells

    def refresh_brand_tables(self, launching: np.ndarray, listed: np.ndarray) -> None:
        """Shelves, category tables and offline weights after brands entered, left or launched:
        integrated venues also stock the ``launching`` products; only ``listed`` rows are chosen from."""
        book = self.model.brand_book
        carried = self._base() & book.active[None, :]
        sells = self.venue_pull[:, book.category] > 0
        carried[1:-1] |= (self._venue_integration > 0)[:, None] & sells & launching[None, :]
        self.carried = carried
        self.cat_brands = brands_by_category(book.category, len(CATEGORIES), listed)
        self.refresh_shelves()

    def _base(self) -> np.ndarray:
        if self._shelf_base is None:
            self._shelf_base = self.carried.copy()
        return self._shelf_base

    # --- the hour's offer ---------------------------------------------------------------
    def offer(self) -> Offer:
        """Prices, assortments and session rates the consumers face this hour.

        Prices and shelves change only at midnight (brands' reviews) or when a window or pre-sale
        opens or closes, venue traffic only with which venues are open and whether a window is: those
        tables are rebuilt then and reused in between; only stock availability and the hour's rates
        are new every hour."""
        model = self.model
        cal, fp, h, platform = model.calendar, self.params.festival, model.hour, model.platform
        cp, mech = self.params.consumers, self.params.mechanisms
        new_day = model.hour_of_day == 0
        in_window = cal.window[h] >= 0
        open_now = np.array([v.is_open for v in self.venues])
        price_key = (float(cal.discount[h]), cal.presale_discount(h, fp.discount), platform.subsidy_rate)
        if new_day or price_key != self._price_key:
            self._prices = self._price_tables(*price_key)
            self._price_key = price_key
        if new_day or platform.exposure is not self._exposure_seen:
            online_cum = _cumulative_by_category(platform.exposure[None, :], self.cat_brands)[0]
            self._cum_weights[0] = self._cum_weights[-1] = online_cum
            self._cum_weights_f32 = self._cum_weights.reshape(-1, self.cat_brands.shape[1]).astype(np.float32)
            self._exposure_seen = platform.exposure
        venue_key = (bool(in_window), open_now.tobytes())  # the venues' pull never changes: a day's few patterns
        if venue_key not in self._venue_tables:
            self._venue_tables[venue_key] = self._venue_traffic(open_now, in_window)
        venue_cum, visit_chance, pickup_cum, pickup_chance, offline_boost = self._venue_tables[venue_key]

        base = cp.sessions_per_week / HOURS_PER_WEEK * cal.diurnal[h]
        to_open, to_close = cal.hours_to_open[h], cal.hours_to_close[h]
        horizon = cp.anticipation_days * 24
        waiting = mech.anticipation and (not in_window) and 0 < to_open <= horizon
        closing = np.exp(-to_close / cp.urgency_hours) if (mech.deadline_urgency and in_window) else 0.0
        offline_rate = base * offline_boost if open_now.any() else 0.0
        urgency_activity = cp.urgency_activity * closing
        # Offline sessions come at this rate (aware consumers shop more near a close): the
        # venues' visit forecast scales what it learned with it, and learns from this hour.
        aware_boost = 1.0 + urgency_activity * model.consumers.aware.mean() if closing else 1.0
        self.offline_session_rate = offline_rate * aware_boost
        capacity = np.array([v.capacity for v in self.venues])
        tables = OfferTables(
            **self._prices, available=self.carried & (model.brand_book.inventory >= 1),
            cum_weights=self._cum_weights_f32, cat_brands=self.cat_brands, venue_cum=venue_cum,
            venue_admission=self.visit_forecast.admission(visit_chance, self.offline_session_rate, capacity),
            overflow_online=self.params.venues.turned_away_online * self._venue_integration,
            venue_integration=self._venue_integration.astype(np.float64), pickup_cum=pickup_cum,
            pickup_chance=pickup_chance, storable=model.consumers.storable, category_price=self.category_price,
        )
        return Offer(
            tables=tables,
            online_rate=base * cal.festival_activity[h],
            offline_rate=offline_rate,
            presale=bool(cal.deposit_for[h] >= 0),
            expected_delay_h=model.online.expected_delay_hours(),
            # the pull of waiting grows as the window nears, with its announced discount
            anticipation=cp.anticipation_strength * cal.upcoming_discount[h] * (1 - to_open / horizon) if waiting else 0.0,
            urgency=cp.urgency_strength * closing,
            urgency_activity=urgency_activity,
            boost_online=float(cal.festival_activity[h]), boost_offline=float(offline_boost),
        )

    def _price_tables(self, window_discount: float, presale_discount: float, subsidy: float) -> dict[str, np.ndarray]:
        """Each brand's discount and price per channel (online, each venue, pre-sale), and its appeal."""
        book, cp, f32, venues = self.model.brand_book, self.params.consumers, np.float32, self.venues
        festival = window_discount * book.participation
        discount = np.empty((len(venues) + 2, book.n))
        discount[0] = np.maximum(book.discount, festival) + subsidy
        for v, venue in enumerate(venues, start=1):  # integrated venues honour festival prices
            discount[v] = np.maximum(book.discount, venue.integration * festival)
        presale = presale_discount * book.participation  # the promised window's price
        discount[-1] = np.maximum(book.discount, presale) + self.model.platform.presale_subsidy_rate
        discount = np.minimum(discount, self.params.platform.max_total_discount)
        price = book.list_price * (1 - discount)
        price_index = price / self.category_price[book.category]
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
        pull = self.venue_pull * (open_now * festival_traffic)[:, None]
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

    # --- venue capacity -----------------------------------------------------------------
    def size_venues_when_due(self) -> None:
        if self.model.hour == self.sizing_hour and not self.venues_sized:
            self.size_venues()
            self.venues_sized = True

    def size_venues(self) -> None:
        """Each venue's hourly visit capacity: ``venues.offline_capacity_factor`` times its expected
        visits at its busiest ordinary hour (a weekend), from the offline demand learned so far: its
        own tier, categories and opening hours. Pop-up stores are sized as if open on an ordinary day."""
        venues, cp = self.venues, self.params.consumers
        festival_only = np.array([v.spec.festival_only for v in venues])
        peak = np.zeros(len(venues))
        for hour_of_day in range(24):
            opening = np.array([v.spec.opening[0] <= hour_of_day < v.spec.opening[1] for v in venues])
            rate = cp.sessions_per_week / HOURS_PER_WEEK * DIURNAL[hour_of_day] * WEEKEND_FACTOR
            for open_now, sized in ((opening & ~festival_only, ~festival_only), (opening, festival_only)):
                chance = VisitForecast.visit_chance(self._per_tier_cumulative(self.venue_pull * open_now[:, None]))
                peak = np.where(sized, np.maximum(peak, self.visit_forecast.expected(chance, rate)), peak)
        for venue, visits in zip(venues, peak):
            venue.capacity = self.params.venues.offline_capacity_factor * visits

    def record_visits(self, sessions: Sessions) -> None:
        """The hour's offline visits: the forecast learns from them, venues count them."""
        self.visit_forecast.learn(sessions.offline_demand, self.offline_session_rate)
        for v, venue in enumerate(self.venues):
            venue.visits += sessions.visits[v]
            venue.turned_away += sessions.turned_away[v]


def brands_by_category(category: np.ndarray, n_categories: int, listed: np.ndarray | None = None) -> np.ndarray:
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
