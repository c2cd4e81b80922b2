"""Ablations: each stylized fact with the mechanism that should cause it.

An ablation measures a fact's effect with every mechanism on, with its cause switched off
(``mechanisms.<name> = false``) and with an unrelated mechanism switched off, on the same
seeds (paired). The tests (tests/test_mechanisms.py) and the table in docs/model.md
(``python docs/ablation_table.py``) both use these definitions, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .params import Brands, Consumers
from .runs import run_model

Summaries = Callable[[str, tuple[str, ...]], list[dict[str, float]]]


@dataclass(frozen=True)
class Ablation:
    fact: str
    cause: tuple[str, ...]          # the mechanisms switched off together
    unrelated: tuple[str, ...]      # a mechanism that should not matter for this fact
    measure: Callable[[Summaries, tuple[str, ...]], np.ndarray]  # effect per seed, given switched-off mechanisms
    effect: str                     # how the effect is measured, for the table


def metric(summaries: list[dict[str, float]], name: str) -> np.ndarray:
    return np.array([s[name] for s in summaries])


def _plain(name: str, fmt: str = "single_day"):
    return lambda runs, off: metric(runs(fmt, off), name)


def _against_none(name: str, fmt: str = "single_day"):
    """A metric minus the same metric of the `none` run with the same switches."""
    return lambda runs, off: metric(runs(fmt, off), name) - metric(runs("none", off), name)


def _satisfaction_gap(runs: Summaries, off: tuple[str, ...]) -> np.ndarray:
    return metric(runs("continuous", off), "satisfaction_mean") - metric(runs("single_day", off), "satisfaction_mean")


ABLATIONS = (
    # Not offline integration: integrated venues honour festival prices, so their shoppers wait too.
    Ablation("consumers defer purchases before the festival", ("anticipation",), ("delay_experience",),
             _plain("pre_festival_deferral"), "pre_festival_deferral (single day)"),
    Ablation("a burst of orders at the opening", ("presale",), ("offline_integration",),
             _against_none("first_hour_share"), "first_hour_share minus none's (single day)"),
    Ablation("GMV dips before the festival", ("anticipation", "presale"), ("offline_integration",),
             _plain("pre_festival_dip"), "pre_festival_dip (single day)"),
    Ablation("a slump after the festival", ("stockpiling", "reference_prices"), ("offline_integration",),
             _plain("post_festival_slump"), "post_festival_slump (single day)"),
    # Not offline integration: venues close by 22:00, so their festival traffic fills the two hours before the last two.
    Ablation("a second peak before the close", ("deadline_urgency",), ("stockpiling",),
             _against_none("closing_peak_ratio"), "closing_peak_ratio minus none's (single day)"),
    Ablation("single day leaves consumers less satisfied", ("delay_experience",), ("offline_integration",),
             _satisfaction_gap, "satisfaction_mean, continuous minus single day"),
    # Not anticipation: waiting for the festival's prices pays at integrated venues too, so it lifts their Nov 11.
    Ablation("offline venues gain on Nov 11", ("offline_integration",), ("deadline_urgency",),
             _plain("offline_festival_day_lift"), "offline_festival_day_lift (single day)"),
)


def summaries_source(base: dict[str, Any], seeds: range) -> Summaries:
    """A memoised ``runs(format, switched_off)`` over ``seeds`` with ``base`` parameters."""
    cache: dict[tuple[str, tuple[str, ...]], list[dict[str, float]]] = {}

    def runs(fmt: str, off: tuple[str, ...]) -> list[dict[str, float]]:
        key = (fmt, tuple(sorted(off)))
        if key not in cache:
            params = {**base, "festival.format": fmt, **{f"mechanisms.{m}": False for m in key[1]}}
            cache[key] = [run_model(params, seed=s).summary for s in seeds]
        return cache[key]

    return runs


def effects(ablation: Ablation, runs: Summaries) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The effect per seed with everything on, with the cause off, with the unrelated switch off."""
    return ablation.measure(runs, ()), ablation.measure(runs, ablation.cause), ablation.measure(runs, ablation.unrelated)


def _slower_brands() -> dict[str, float]:
    return {f"brands.{k}": Brands.model_fields[k].default / 100 for k in ("adapt_big", "adapt_small", "adapt_low_quality")}


# What the post-festival slump is made of. None of these channels is a mechanism switch, so each is
# removed by parameters that take it away while leaving the festival's own day as it is. A purchase
# needs both need and money, and the festival uses up both, so either alone can hold sales down.
_NEED = {"consumers.expansion": 5.0, "consumers.expansion_cap": 1.0}
_WALLET = {"consumers.weekly_budget": 10 * Consumers.model_fields["weekly_budget"].default}
_WAITS = {"mechanisms.delay_experience": False}
SLUMP_CHANNELS: dict[str, dict[str, Any]] = {
    "stockpiling and reference prices off": {"mechanisms.stockpiling": False, "mechanisms.reference_prices": False},
    "need met early: deal units relieve no need (expansion 5, cap 1)": _NEED,
    "wallets spent: budgets x10": _WALLET,
    "need and wallets": {**_NEED, **_WALLET},
    "waits felt: mechanisms.delay_experience off": _WAITS,
    "need, wallets and waits": {**_NEED, **_WALLET, **_WAITS},
    "brands' clearance: brands adapt 100x slower": _slower_brands(),
}


def slump_channels(base: dict[str, Any], seeds: range) -> dict[str, np.ndarray]:
    """``post_festival_slump`` of the single day per seed with everything on and with each channel removed."""
    def slump(overrides: dict[str, Any]) -> np.ndarray:
        params = {**base, **overrides, "festival.format": "single_day"}
        return np.array([run_model(params, seed=s).summary["post_festival_slump"] for s in seeds])

    return {"all on": slump({}), **{name: slump(o) for name, o in SLUMP_CHANNELS.items()}}
