"""The ecosystem over several years: what happens between seasons, and the yearly figures.

Why a module of its own: a season is the Mesa model's hourly step; a year adds decisions
that take a whole season's results as input (exit, entry, investment in quality, new
products from the platform's demand data) and carries the state over to the next season
of the same calendar. With ``season.years = 1`` nothing here acts during the run, so a
one-year run is exactly the single season it always was.

Draws come from the run's own ecosystem stream (the fifth spawned from the seed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.agents.brands import Brand
from sim.model.catalog import ARCHETYPE_NAMES, ARCHETYPES, CATEGORIES, category_array

if TYPE_CHECKING:
    from sim.model.double11 import Double11Model

BIG, SMALL, LOW = (ARCHETYPE_NAMES.index(a) for a in ("big", "small", "low_quality"))
# One row per run and year in yearly.csv (money on the real scale). low_quality_share counts sales of true
# quality below brands.low_quality_below (a seller that invested its way up no longer counts); the
# archetype shares (big, small, low_quality_seller) are those of runs.csv.
YEARLY_METRICS = (
    "gmv", "low_quality_share", "small_brand_share", "big_share", "low_quality_seller_share", "hhi", "brands_active",
    "brands_entered", "brands_exited", "small_entered", "small_entry_rate", "acquisitions", "mean_quality_sold",
    "new_product_share", "launches", "launching_gmv", "quality_invested", "rival_share",
)
# Per-run metrics of the ecosystem (last season, or totals over the run), beside metrics.RUN_METRICS.
ECOSYSTEM_METRICS = ("brands_entered", "brands_exited", "acquisitions", "new_product_share", "launch_success_rate",
                     "mean_quality_sold", "rival_share")
MIN_JUDGED_DAYS = 3  # a launch is judged on at least a week of sales after its launch weeks


class Ecosystem:
    """Between-season decisions of brands and the platform, and the record of each year."""

    def __init__(self, model: "Double11Model", rng: np.random.Generator):
        self.model = model
        self.rng = rng
        self.year = 1
        self.yearly: list[dict[str, float]] = []
        self.exited = np.zeros(model.brand_book.n, dtype=bool)
        self.centres = self._pick_centres()
        self.launch_end = np.full(model.brand_book.n, -1, dtype=np.int64)  # hour a product's launch weeks end
        self.next_event = np.inf   # next hour a product launches or leaves its launch slot
        self.changes = _no_changes()
        self.totals = {"entered": 0, "exited": 0, "acquisitions": 0}
        self.last_revenue: np.ndarray | None = None  # each row's revenue the season before (for growth)
        self.judged = self.successes = 0

    def _pick_centres(self) -> np.ndarray:
        """Brands with a joint innovation centre: big groups first, the largest first."""
        book = self.model.brand_book
        order = np.lexsort((-book.forecast, book.archetype != BIG))
        return np.sort(order[: self.model.params.innovation.centres])

    # --- during a season -------------------------------------------------------------------
    def launching(self) -> np.ndarray | None:
        """Products in their launch weeks (None if there are none, as in every one-year run)."""
        if not (self.launch_end > self.model.hour).any():
            return None
        book = self.model.brand_book
        return book.active & (self.launch_end > self.model.hour)

    def daily(self) -> None:
        """Launch products whose day has come, and end launch weeks (called at midnight)."""
        hour = self.model.hour
        if hour < self.next_event:
            return
        book = self.model.brand_book
        due = np.flatnonzero((book.launch_hour >= 0) & (book.launch_hour <= hour) & ~book.active & ~self.exited)
        for row in due:
            book.active[row] = True
            self.model.brands.append(Brand(self.model, row, book))
        self._refresh_market()
        pending = np.concatenate([book.launch_hour[(book.launch_hour > hour) & ~book.active & ~self.exited],
                                  self.launch_end[self.launch_end > hour]])
        self.next_event = float(pending.min()) if pending.size else np.inf

    def _refresh_market(self) -> None:
        """The market's shelves and category tables after brands entered, left or launched:
        products in their launch weeks also get a shelf in integrated venues."""
        book = self.model.brand_book
        self.model.market.refresh_brand_tables(book.active & (self.launch_end > self.model.hour), ~self.exited)

    # --- at a season's end -----------------------------------------------------------------
    def close_season(self) -> np.ndarray:
        """Record the year that ended; return each row's operating profit (model units)."""
        m, book, rec = self.model, self.model.brand_book, self.model.recorder
        profit = book.revenue - book.cost + m.stock_value() - rec.stock_value_start
        summary = rec.summary()
        sales = rec.brand_gmv.sum(axis=0)
        total = max(sales.sum(), 1e-12)
        launched = (book.born > 0) & (book.launch_hour >= 0)
        self._judge_launches(sales)
        self.yearly.append({
            "year": float(self.year), "gmv": summary["gmv_total"],
            "low_quality_share": float(sales[book.quality < m.params.brands.low_quality_below].sum() / total),
            "small_brand_share": summary["small_brand_share"],
            "big_share": 1.0 - summary["low_quality_share"] - summary["small_brand_share"],
            "low_quality_seller_share": summary["low_quality_share"],  # by archetype, as runs.csv's low_quality_share
            "hhi": summary["hhi_final"], "brands_active": float(self._own_businesses().sum()),
            "brands_entered": float(self.changes["entered"]), "brands_exited": float(self.changes["exited"]),
            "small_entered": float(self.changes["small_entered"]), "small_entry_rate": float(self.changes["small_rate"]),
            "acquisitions": float(self.changes["acquisitions"]),
            "mean_quality_sold": float(sales @ book.quality / total),
            "new_product_share": float(sales[launched].sum() / total), "launches": float(self.changes["launches"]),
            "launching_gmv": float(sales[np.isin(book.owner, self.centres)].sum() * m.weight),
            "quality_invested": float(self.changes["invested"] * m.weight),
            "rival_share": m.rival.share(float(rec.series["gmv"].sum())),
        })
        return profit

    def _judge_launches(self, sales: np.ndarray) -> None:
        """Launches of this season that sold, after their launch weeks, at least ``success_threshold``
        of their category's mean brand GMV over the same hours."""
        m, book, rec = self.model, self.model.brand_book, self.model.recorder
        threshold = m.params.innovation.success_threshold
        for row in np.flatnonzero((book.born == self.year) & (book.launch_hour >= 0) & (self.launch_end >= 0)):
            start = max(int(self.launch_end[row]) - rec.offset, 0)
            if rec.brand_gmv.shape[0] - start < MIN_JUDGED_DAYS * 24:
                continue
            after = rec.brand_gmv[start:].sum(axis=0)
            peers = (book.category == book.category[row]) & book.active
            self.judged += 1
            self.successes += int(after[row] >= threshold * after[peers].mean())

    def summary(self) -> dict[str, float]:
        """The run's ecosystem metrics: the last season's shares, totals over the run."""
        last = self.yearly[-1]
        return {
            "brands_entered": float(self.totals["entered"]), "brands_exited": float(self.totals["exited"]),
            "acquisitions": float(self.totals["acquisitions"]),
            "new_product_share": last["new_product_share"], "mean_quality_sold": last["mean_quality_sold"],
            "rival_share": last["rival_share"],
            "launch_success_rate": self.successes / self.judged if self.judged else float("nan"),
        }

    # --- between seasons -------------------------------------------------------------------
    def between_seasons(self, profit: np.ndarray) -> None:
        """The year's decisions, in order: brands pay the rule cost, invest, exit; entrants come; centres design."""
        m = self.model
        self.year += 1
        self.changes = _no_changes()
        book = m.brand_book
        self.launch_end[book.active] = -1  # last season's launch slots are over (the clock restarts)
        revenue = book.revenue.copy()
        net = profit - self._rule_cost()
        mech = m.params.mechanisms
        if mech.investment:
            for brand in m.brands:
                spent = brand.invest_in_quality(net[brand.idx], revenue[brand.idx])
                net[brand.idx] -= spent
                self.changes["invested"] += spent
        turnover = mech.entry_exit
        if turnover:
            self._exits(net)
        if mech.acquisitions and self.last_revenue is not None:
            self._acquisitions(revenue)
        if turnover:
            self._entries(profit)
        self.last_revenue = revenue
        if mech.innovation and self.centres.size:
            self._launch_products()
        self._refresh_market()

    def rule_cost(self) -> float:
        """One model brand's merchant rule cost for a season (model units): that of the real brands it
        stands for, the season's days' part of a year's, less what rule_simplification cuts."""
        m, platform = self.model, self.model.params.platform
        days = m.calendar.season_hours / 24.0
        real_brands = m.params.brands.represented / m.params.brands.n
        return platform.merchant_rule_cost * real_brands * platform.rule_factor * days / 365.0 / m.weight

    def _own_businesses(self) -> np.ndarray:
        """Active brands that are their own business (not a product of, or bought by, another)."""
        book = self.model.brand_book
        return book.active & (book.owner == np.arange(book.n))

    def _rule_cost(self) -> np.ndarray:
        """The merchant rule cost of each brand that is its own business (products share their maker's)."""
        return np.where(self._own_businesses(), self.rule_cost(), 0.0)

    def _exits(self, net: np.ndarray) -> None:
        """Brands with a loss for ``brands.exit_after_years`` years in a row leave, with their products."""
        m, book = self.model, self.model.brand_book
        group = np.bincount(book.owner, net, minlength=book.n)  # a group's profit includes its products'
        owners = [b.idx for b in m.brands if book.owner[b.idx] == b.idx and b.count_loss(group[b.idx])]
        if not owners:
            return
        rows = np.flatnonzero(np.isin(book.owner, owners) & ~self.exited)  # products too, launched or not
        leaving = set(rows.tolist())
        for brand in [b for b in m.brands if b.idx in leaving]:
            m.brands.remove(brand)
            brand.remove()
        book.active[rows] = False
        self.exited[rows] = True
        gone = np.isin(m.consumers.loyal, rows)
        m.consumers.loyal[gone] = -1
        independent = int((book.owner[rows] == rows).sum())
        self.changes["exited"] = independent
        self.totals["exited"] += independent

    def _acquisitions(self, revenue: np.ndarray) -> None:
        """A big group may buy the independent small brand whose growth beats its own by most. The brand
        keeps its products and reviews and gains the group's capacity and offline presence."""
        m, book, bp = self.model, self.model.brand_book, self.model.params.brands
        previous = np.zeros(book.n)
        previous[: self.last_revenue.size] = self.last_revenue
        now = np.bincount(book.owner, revenue, minlength=book.n)  # a group's revenue includes what it owns
        before = np.bincount(book.owner, previous, minlength=book.n)
        growth = np.where(before > 0, now / np.maximum(before, 1e-12) - 1.0, -np.inf)
        independent = self._own_businesses()
        for group in np.flatnonzero(independent & (book.archetype == BIG)):
            targets = np.flatnonzero(independent & (book.archetype == SMALL) & (growth > growth[group]))
            if not targets.size or self.rng.random() >= bp.acquisition_rate:
                continue
            target = int(targets[np.argmax(growth[targets])])
            book.owner[book.owner == target] = group  # the brand and any products it had
            book.capacity[target] *= bp.acquisition_capacity
            book.offline_presence[target] = max(book.offline_presence[target], book.offline_presence[group])
            m.market.widen_shelves(target, group)
            independent[target] = False
            self.changes["acquisitions"] += 1
            self.totals["acquisitions"] += 1

    def _entries(self, profit: np.ndarray) -> None:
        """New brands, mostly small: per category and archetype a Poisson number whose mean rises with
        the profit an entrant can expect (an incumbent's, scaled to its size, less the rule cost)."""
        book, bp = self.model.brand_book, self.model.params.brands
        own = self._own_businesses()
        scale = max(float(np.abs(profit[own]).mean()), 1e-9)
        cost = self.rule_cost()
        plan: list[tuple[int, int]] = []
        for c in range(len(CATEGORIES)):
            for arch, share in ((SMALL, bp.entrant_small_share), (LOW, 1.0 - bp.entrant_small_share)):
                peers = own & (book.category == c) & (book.archetype == arch)
                if share <= 0 or not peers.any():
                    continue
                expected = bp.entrant_scale * profit[peers].mean() - cost
                rate = bp.entry_rate * share * np.exp(min(bp.entry_sensitivity * expected / scale, 5.0))
                k = min(int(self.rng.poisson(rate)), bp.max_entrants)
                self.changes["small_rate"] += rate if arch == SMALL else 0.0
                plan += [(c, arch)] * k
        incumbents = np.flatnonzero(own)
        for c, arch in plan:
            peers = incumbents[(book.category[incumbents] == c) & (book.archetype[incumbents] == arch)]
            self._new_row(template=int(self.rng.choice(peers)), category=c, size=bp.entrant_scale)
        self.changes["entered"] = len(plan)
        self.changes["small_entered"] = sum(a == SMALL for _, a in plan)
        self.totals["entered"] += len(plan)

    def _launch_products(self) -> None:
        """Each centre designs a product from the platform's data for the category whose demand was
        least served last season (GMV per unit of the category's need), launched after ``launch_days``."""
        m, book, ip = self.model, self.model.brand_book, self.model.params.innovation
        need = category_array("need_per_week") * category_array("price")
        sold = np.bincount(m.recorder.category, m.recorder.brand_gmv.sum(axis=0), minlength=len(CATEGORIES))
        least_served = int(np.argmin(sold / need))
        launch = int(ip.launch_days * m.params.platform.rule_factor * 24)
        for centre in self.centres:
            if not book.active[centre]:
                continue
            row = self._new_row(template=int(centre), category=least_served, size=ip.launch_size, product=True)
            book.quality[row] = min(1.0, book.quality[centre] + ip.fit_gain)
            book.active[row] = False  # until its launch day
            book.launch_hour[row] = launch
            self.launch_end[row] = launch + int(ip.launch_weeks * 168)
            self.changes["launches"] += 1
        self.next_event = float(launch)

    def _new_row(self, template: int, category: int, size: float, product: bool = False) -> int:
        """A new brand row like ``template`` (archetype, price position, costs, speed), cold-started:
        no reviews (neutral rating), its own quality draw unless it is a product, and stock for its lead time."""
        m, book, rng = self.model, self.model.brand_book, self.rng
        row = int(book.append(1)[0])
        self.exited = np.append(self.exited, False)
        self.launch_end = np.append(self.launch_end, -1)
        spec = ARCHETYPES[ARCHETYPE_NAMES[book.archetype[template]]]
        price_ratio = book.list_price[template] / category_array("price")[book.category[template]]
        for name in ("archetype", "lead_time", "adapt", "offline_presence", "participation", "ad_rate", "service",
                     "return_rate"):
            getattr(book, name)[row] = getattr(book, name)[template]
        book.category[row] = category
        book.list_price[row] = category_array("price")[category] * price_ratio
        book.unit_cost[row] = book.list_price[row] * spec.cost_ratio
        book.quality[row] = rng.uniform(*spec.quality)
        book.base_service[row] = book.service[row]
        same = (book.category == category) & (book.archetype == book.archetype[row]) & book.active
        book.forecast[row] = size * (book.forecast[same].mean() if same.any() else book.forecast[template])
        book.capacity[row] = book.forecast[row] * m.params.brands.capacity_factor
        book.inventory[row] = book.forecast[row] * (book.lead_time[row] + m.params.brands.safety_days)
        book.recent_gmv[row] = book.forecast[row] * book.list_price[row]
        book.rating[row] = 0.5  # no reviews yet: the neutral prior
        book.return_rate[row] = category_array("return_base")[category]
        book.born[row] = self.year
        book.active[row] = True
        if product:
            book.owner[row] = template
        m.market.add_brand(row, rng)
        if not product:
            m.brands.append(Brand(m, row, book))
        return row


def _no_changes() -> dict[str, float]:
    """This year's counts of entries, exits, launches and money invested, before any decision."""
    return {"entered": 0, "exited": 0, "small_entered": 0, "small_rate": 0.0, "acquisitions": 0, "launches": 0,
            "invested": 0.0}
