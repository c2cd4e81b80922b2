"""Other sellers that compete for the same consumers: rival platforms and shops outside the partner venues.

Why: with a rival, the outside option of a session is no longer only "no purchase": a
consumer who needed something and found nothing worth buying here may buy it on the rival,
the more so the worse their experience on this platform has been (low satisfaction). And
churned consumers, who stay away from this platform until they are won back, buy what
they need on the rival meanwhile.

Consumers also shop on other sellers on their own (``rival.shopping_per_week``), buying a
unit of a category they need. That is where a festival draws buyers from other sellers
(switching): need met by a festival purchase here is not bought there afterwards, so the
payback of stockpiling and pulled-forward purchases is shared with the other sellers
instead of falling on this platform alone. Off by default (``rival.pull = 0`` and
``rival.shopping_per_week = 0``): no draws, no change to any run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model.catalog import category_array
from sim.model.agents.consumers import HOURS_PER_WEEK, bernoulli_indices

if TYPE_CHECKING:
    from sim.model.double11 import Double11Model
    from sim.model.agents.consumers import Sessions


class RivalPlatform(mesa.Agent):
    """Takes sessions that chose the outside option with a real need, shops for consumers on their own
    sessions there, and counts what churned consumers buy there."""

    def __init__(self, model: "Double11Model", rng: np.random.Generator):
        super().__init__(model)
        self.draws = rng
        self.settings = model.params.rival
        self.active = model.params.mechanisms.rival and (self.settings.pull > 0 or self.settings.shopping_per_week > 0)
        self.price = category_array("price") * (1.0 - self.settings.discount)
        self.spending = 0.0   # model units, since the season started
        self.units = 0.0      # units bought there this hour (churned consumers' not counted)

    def start_season(self) -> None:
        self.spending = 0.0

    def step(self, sessions: "Sessions") -> None:
        """After the hour's choices: some who bought nothing here, and some on sessions of their own, buy a unit there."""
        self.units = 0.0
        if not self.active:
            return
        m, rp = self.model, self.settings
        consumers = m.consumers
        if rp.pull > 0:
            skipped = np.flatnonzero(~sessions.bought)
            if skipped.size:
                who, cat = sessions.consumer[skipped], sessions.category[skipped]
                need = consumers.need_now(who)[np.arange(who.size), cat]
                pull = rp.pull * (1.0 + rp.experience_slope * (1.0 - consumers.satisfaction[who]))
                buys = (need >= 1.0) & (self.draws.random(who.size) < pull) & (consumers.wallet[who] >= self.price[cat])
                self._buy(who[buys], cat[buys])
        if rp.shopping_per_week > 0:
            self._own_sessions()
        # churned consumers buy what they use meanwhile on the rival
        away = consumers.churned.sum()
        self.spending += float(away * (consumers.need_rate * self.price).sum())

    def _own_sessions(self) -> None:
        """Consumers shopping there on their own: a category in proportion to need, one unit if needed and affordable."""
        consumers = self.model.consumers
        who = bernoulli_indices(self.draws, consumers.n, min(self.settings.shopping_per_week / HOURS_PER_WEEK, 1.0))
        who = who[consumers.churned_until[who] <= self.model.hour]  # churned consumers are counted apart
        if not who.size:
            return
        u = self.draws.random(who.size)
        need = consumers.need_now(who)
        cumulative = np.cumsum(np.maximum(need, 0.0), axis=1)
        cat = np.minimum((cumulative < (u * cumulative[:, -1])[:, None]).sum(axis=1), need.shape[1] - 1)
        needed = need[np.arange(who.size), cat] >= 1.0
        wallet = consumers.settle_wallets(who)
        buys = needed & (wallet >= self.price[cat])
        self._buy(who[buys], cat[buys])

    def _buy(self, who: np.ndarray, cat: np.ndarray) -> None:
        if who.size:
            spend = self.price[cat]
            self.model.consumers.commit(who, cat, np.ones(who.size), spend)
            self.spending += float(spend.sum())
            self.units += float(who.size)

    def share(self, platform_gmv: float) -> float:
        """Share of consumers' category spending in the season (``platform_gmv`` here, model units) that went to the rival."""
        total = self.spending + platform_gmv
        return self.spending / total if total > 0 else 0.0
