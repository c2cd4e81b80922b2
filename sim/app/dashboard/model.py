"""The model the dashboard drives: one Double11Model run, stepped an hour at a time.

SolaraViz rebuilds its model as ``Model(**controls)`` on Reset and reads plot data from a
Mesa DataCollector, so this thin mesa.Model takes the dashboard's controls as keyword
arguments, builds the simulation from them, and collects the figures of each hour. It
uses only the simulation's public surface (constructor, step, calendar, recorder, queues),
so it keeps working while the model's internals change.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.model.catalog import ARCHETYPE_NAMES
from sim.model.double11 import Double11Model
from sim.model.params import build_params

DEFAULT_CONSUMERS = 3000  # small, so one step (one hour) takes milliseconds and play is smooth
DEFAULT_SEED = 42
SHARE_WINDOW_H = 24  # archetype shares are over the trailing day: hourly shares are noisy at small sizes

# DataCollector column -> plot label; money in bn yuan, counts in millions, on the real scale.
SERIES_LABELS = {
    "gmv": "GMV",
    "orders": "orders",
    "processing_backlog": "processing backlog",
    "logistics_backlog": "logistics backlog",
    "expected_delay_h": "expected delay of a new order",
    "satisfaction": "satisfaction",
    **{f"share_{name}": name for name in ARCHETYPE_NAMES},
}


class DashboardModel(mesa.Model):
    """One season under the chosen format, policy, discount, size and seed.

    The warm-up (unrecorded days before the season) runs on construction, so Reset leaves
    the clock at the season's first hour and step 1 is that hour.
    """

    def __init__(self, festival_format: str = "single_day", policy: str = "gmv_rank", discount: float = 0.3,
                 consumers: int = DEFAULT_CONSUMERS, seed: int | str = DEFAULT_SEED):
        # A bad seed must not crash the page (SolaraViz's Reset does not catch): run on the
        # default seed and say so on the page.
        try:
            seed, self.input_error = _parse_seed(seed), ""
        except ValueError as exc:
            seed, self.input_error = DEFAULT_SEED, f"{exc}; running seed {DEFAULT_SEED} instead"
        super().__init__(seed=seed)
        self.run_seed = seed
        self.params = build_params({"festival.format": festival_format, "platform.policy": policy,
                                    "festival.discount": float(discount), "consumers.n": int(consumers)})
        self.sim = Double11Model(self.params, seed)
        self.calendar = self.sim.calendar
        self.weight = self.params.weight
        while self.sim.hour < self.calendar.season_start:
            self.sim.step()
        self.datacollector = mesa.DataCollector(model_reporters={
            "gmv": lambda m: m._hour_value("gmv") / 1e9,
            "orders": lambda m: m._hour_value("orders") / 1e6,
            "processing_backlog": lambda m: m._hour_value("processing_backlog") / 1e6,
            "logistics_backlog": lambda m: m._hour_value("logistics_backlog") / 1e6,
            "expected_delay_h": lambda m: m.sim.online.expected_delay_hours(),
            "satisfaction": lambda m: float(np.mean(m.sim.consumers.satisfaction)),
            **{f"share_{name}": (lambda m, a=a: m.archetype_shares()[a]) for a, name in enumerate(ARCHETYPE_NAMES)},
        })
        self.running = self.season_hour < self.calendar.season_hours

    @property
    def season_hour(self) -> int:
        """Season hours simulated so far (0 right after Reset)."""
        return self.sim.hour - self.calendar.season_start

    def step(self) -> None:
        """One simulated hour, then record its figures; stops at the season's end."""
        self.sim.step()
        self.datacollector.collect(self)
        self.running = self.season_hour < self.calendar.season_hours

    def _hour_value(self, name: str) -> float:
        """Real-scale value of a recorder series in the hour just simulated."""
        return float(self.sim.recorder.series[name][self.season_hour - 1] * self.weight)

    def so_far(self, name: str) -> np.ndarray:
        """Real-scale recorder series over the season hours simulated so far."""
        return self.sim.recorder.series[name][: self.season_hour] * self.weight

    def archetype_shares(self) -> np.ndarray:
        """Share of GMV by brand archetype over the trailing day (0s before any sale)."""
        h = self.season_hour
        gmv = self.sim.recorder.by_archetype[max(0, h - SHARE_WINDOW_H): h].sum(axis=0)
        total = gmv.sum()
        return gmv / total if total > 0 else np.zeros_like(gmv)

    def venue_gmv(self) -> np.ndarray:
        """Season-so-far GMV by venue type, real scale (order of ``sim.model.catalog.VENUE_TYPES``)."""
        return self.sim.recorder.by_venue[: self.season_hour].sum(axis=0) * self.weight


def _parse_seed(seed: int | str) -> int:
    """The seed box is free text; accept a non-negative integer, reject anything else with a clear message."""
    try:
        value = int(str(seed).strip())
    except ValueError:
        value = -1
    if value < 0:
        raise ValueError(f"seed must be a non-negative integer (got {seed!r})")
    return value
