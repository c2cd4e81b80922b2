"""Ablations: each stylized fact with the mechanism that should cause it.

An ablation measures a fact's effect with every mechanism on, with its cause switched off
(``mechanisms.<name> = false``) and with an unrelated mechanism switched off, on the same
seeds (paired). The tests (tests/test_mechanisms.py) and the table in docs/model.md
(``python docs/ablation_table.py``) both use these definitions, so they cannot drift apart.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from math import factorial
from typing import Any, Callable

import numpy as np

from sim.model.agents.brands import BrandBook
from sim.model.double11 import Double11Model
from sim.model.params import build_params
from sim.model.runs import run_model

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
    # Not stockpiling: without forward buying more consumers reach the close with need unmet (0.25 of 0.49 left).
    Ablation("a second peak before the close", ("deadline_urgency",), ("delay_experience",),
             _against_none("closing_peak_ratio"), "closing_peak_ratio minus none's (single day)"),
    Ablation("single day leaves consumers less satisfied", ("delay_experience",), ("offline_integration",),
             _satisfaction_gap, "satisfaction_mean, continuous minus single day"),
    # Not anticipation: waiting for the festival's prices pays at integrated venues too, so it lifts their Nov 11.
    # Not deadline urgency: aware consumers shop more often near the close, offline too (with it off the
    # lift was +0.085 of +0.143; 80,000 consumers, 8 seeds).
    Ablation("offline venues gain on Nov 11", ("offline_integration",), ("delay_experience",),
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


# What the post-festival slump is made of, by intervention on the state: both runs (single day and
# `none`, same seed) are stepped to the festival's close; then parts of the state the festival changed
# are given back (set to the `none` run's at that hour) in a copy of the festival run, which runs the
# slump's week. Restoring every part leaves (almost) no slump, so the parts account for it; Shapley
# shares split it fairly where parts overlap (a purchase needs both need and money).
SLUMP_PARTS = ("stockpiles", "need met early", "wallets", "reference prices", "delivery backlog",
               "satisfaction, loyalty, churn", "brands' stock, prices and ratings")
BRAND_ACCOUNTS = ("revenue", "cost")  # what a brand has earned and spent: bookkeeping, not state that sells


def _restore(fest: Double11Model, none: Double11Model, parts: frozenset[str]) -> None:
    """Give ``parts`` of the `none` run's state (at the same hour) to the festival run, in place."""
    f, n = fest.consumers, none.consumers
    growth = f.need_rate * np.float32(fest.hour)
    need_f, need_n = f.need_base + growth, n.need_base + growth
    held = np.minimum(need_n if "stockpiles" in parts else need_f, 0)       # units held beyond need
    wanted = np.maximum(need_n if "need met early" in parts else need_f, 0)  # need not yet met
    if parts & {"stockpiles", "need met early"}:
        f.need_base[...] = held + wanted - growth  # in place: the columns are views of the consumers' records
    copied = {"wallets": ("wallet", "last_hour"), "reference prices": ("ref_discount",),
              "satisfaction, loyalty, churn": ("satisfaction", "loyal", "churned_until")}
    for part, columns in copied.items():
        if part in parts:
            for c in columns:
                getattr(f, c)[...] = getattr(n, c)
    if "brands' stock, prices and ratings" in parts:  # and what the platform shows them
        for column in BrandBook.FLOATS:
            if column not in BRAND_ACCOUNTS:
                setattr(fest.brand_book, column, getattr(none.brand_book, column).copy())
        for mine, theirs in zip(fest.brands, none.brands):
            mine.pipeline = dict(theirs.pipeline)
        fest.platform.exposure = none.platform.exposure.copy()
    if "delivery backlog" in parts:  # the orders still queued: the waits they will be felt with, and the wait new orders expect
        queues = copy.deepcopy((none.online.processing, none.online.logistics))
        fest.online.processing, fest.online.logistics = queues
        fest.online.processing_backlog = none.online.processing_backlog
        fest.online.logistics_backlog = none.online.logistics_backlog


def _advance(model: Double11Model, until: int) -> None:
    """Step ``model`` up to hour ``until``."""
    while model.hour < until:
        model.step()


def slump_decomposition(base: dict[str, Any], seeds: range,
                        restored: list[frozenset[str]] | None = None) -> dict[frozenset[str], np.ndarray]:
    """``post_festival_slump`` of the single day per seed for each set of restored parts (default: every set)."""
    if restored is None:
        restored = [frozenset(c) for k in range(len(SLUMP_PARTS) + 1) for c in itertools.combinations(SLUMP_PARTS, k)]
    out: dict[frozenset[str], list[float]] = {}
    for seed in seeds:
        fest, none = (Double11Model(build_params({**base, "festival.format": fmt}), seed) for fmt in ("single_day", "none"))
        a, b = fest.calendar.post_period()
        _advance(fest, a)
        _advance(none, a)
        none_week = copy.deepcopy(none)
        _advance(none_week, b)
        reference = none_week.recorder.period_sum("gmv", (a, b))
        for parts in restored:
            run = copy.deepcopy(fest)
            _restore(run, none, parts)
            _advance(run, b)
            out.setdefault(parts, []).append(1.0 - run.recorder.period_sum("gmv", (a, b)) / reference)
    return {parts: np.array(v) for parts, v in out.items()}


def shapley(values: dict[frozenset[str], np.ndarray], players: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Each part's share of the slump removed, averaged over the orders of restoring (per seed);
    ``values`` holds the slump for every set of restored parts."""
    n = len(players)
    shares = {}
    for p in players:
        total = 0.0
        for parts, value in values.items():
            if p not in parts:
                weight = factorial(len(parts)) * factorial(n - len(parts) - 1) / factorial(n)
                total = total + weight * (value - values[parts | {p}])
        shares[p] = total
    return shares
