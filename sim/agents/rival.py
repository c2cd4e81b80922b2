"""A rival platform that competes for the same consumers.

Why: with a rival, the outside option of a session is no longer only "no purchase": a
consumer who needed something and found nothing worth buying here may buy it on the rival,
the more so the worse their experience on this platform has been (low satisfaction). And
churned consumers, who stay away from this platform until they are won back, buy what
they need on the rival meanwhile. Off by default (``rival.pull = 0``): no draws, no
change to any run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from ..catalog import category_array

if TYPE_CHECKING:
    from ..model import Double11Model
    from .consumers import Sessions


class RivalPlatform(mesa.Agent):
    """Takes sessions that chose the outside option with a real need; counts what churned consumers buy there."""

    def __init__(self, model: "Double11Model", rng: np.random.Generator):
        super().__init__(model)
        self.draws = rng
        self.settings = model.params.rival
        self.active = model.params.mechanisms.rival and self.settings.pull > 0
        self.price = category_array("price") * (1.0 - self.settings.discount)
        self.spending = 0.0   # model units, since the season started

    def start_season(self) -> None:
        self.spending = 0.0

    def step(self, sessions: "Sessions") -> None:
        """After the hour's choices: some who bought nothing here buy one unit on the rival."""
        if not self.active:
            return
        m, rp = self.model, self.settings
        consumers = m.consumers
        skipped = np.flatnonzero(~sessions.bought)
        if skipped.size:
            who, cat = sessions.consumer[skipped], sessions.category[skipped]
            need = consumers.need_now(who)[np.arange(who.size), cat]
            pull = rp.pull * (1.0 + rp.experience_slope * (1.0 - consumers.satisfaction[who]))
            buys = (need >= 1.0) & (self.draws.random(who.size) < pull) & (consumers.wallet[who] >= self.price[cat])
            if buys.any():
                spend = self.price[cat[buys]]
                consumers.commit(who[buys], cat[buys], np.ones(int(buys.sum())), spend)
                self.spending += float(spend.sum())
        # churned consumers buy what they use meanwhile on the rival
        away = consumers.churned.sum()
        self.spending += float(away * (consumers.need_rate * self.price).sum())

    def share(self, platform_gmv: float) -> float:
        """Share of consumers' category spending in the season (``platform_gmv`` here, model units) that went to the rival."""
        total = self.spending + platform_gmv
        return self.spending / total if total > 0 else 0.0
