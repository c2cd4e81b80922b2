"""Where a season starts: the ordinary economy's steady state.

A season is a few months out of a market that has run for years, so its consumers should
start where an ordinary economy keeps them: in each category somewhere between two
purchases, and with what a steady life leaves in their wallets. A flat guess (need
uniform on 0-1.2 units) puts a third of the population past the point where it would buy
a durable, and that backlog sells for months: an ordinary day's GMV then falls by a third
over a season with no festival at all, and a durable's cycle (one to two years) is far
longer than any affordable warm-up.

The shipped table (``steady_state_table.py``) holds, per category, quantiles of need at a
random hour of an ordinary economy (from its purchase hazard: ``measure``), and quantiles of
wallets as a share of the savings cap; ``draw_need``/``draw_wallet_share`` sample them.
Regenerate it after changing the defaults: ``python -m sim.steady_state`` (about a minute).
Other parameter sets settle in the warm-up in categories bought weekly; durables keep the
defaults' spread.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.optimize import isotonic_regression

from .catalog import CATEGORIES

QUANTILES = np.linspace(0.0, 1.0, 21)
TABLE = Path(__file__).with_name("steady_state_table.py")


def _table():
    from . import steady_state_table as t  # generated; imported late so regenerating never needs it
    return np.asarray(t.NEED, dtype=np.float64), np.asarray(t.WALLET_SHARE, dtype=np.float64)


def draw_need(rng: np.random.Generator, n: int) -> np.ndarray:
    """Need per consumer and category (units), each category from its steady-state quantiles."""
    need, _ = _table()
    u = rng.random((n, len(CATEGORIES)))
    out = np.empty((n, len(CATEGORIES)), dtype=np.float32)
    for c in range(len(CATEGORIES)):
        out[:, c] = np.interp(u[:, c], QUANTILES, need[c])
    return out


def draw_wallet_share(rng: np.random.Generator, n: int) -> np.ndarray:
    """Wallets as a share of each consumer's savings cap, from the steady-state quantiles."""
    _, wallet = _table()
    return np.interp(rng.random(n), QUANTILES, wallet)


BINS = np.arange(-3.0, 10.0001, 0.05)  # need bins (units) for the purchase hazard


def measure(consumers: int, days: int, seed: int, settle_days: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles of need (per category) and of wallet share in the steady state.

    A durable's cycle (two to three years at its need rate) is longer than any run, so need is
    not read off a snapshot, which keeps whatever backlog the run started with. What a run does
    show, whatever its start, is how likely a consumer is to buy at each level of need: per
    category, purchases per consumer-week at each need (the hazard), and the need each purchase
    relieves. Many independent consumers then live that hazard for ten cycles, week by week, and
    where they end is the steady state. Wallets are read at the end of the run.
    """
    import datetime as dt

    from .model import Double11Model
    from .params import build_params

    start = dt.date(2026, 1, 5)
    params = build_params({"festival.format": "none", "consumers.n": consumers,
                           "season.start": start.isoformat(), "season.end": (start + dt.timedelta(days=days)).isoformat()})
    model = Double11Model(params, seed)
    pop = model.consumers
    n_cat = len(CATEGORIES)
    bought = np.zeros((n_cat, BINS.size + 1))
    exposure = np.zeros((n_cat, BINS.size + 1))  # consumer-weeks spent at each need
    reliefs: list[np.ndarray] = []
    commit = pop.commit

    def recording_commit(idx, category, relief, spend):
        if model.hour >= settle_days * 24:
            need = pop.need_base[idx, category] + pop.need_rate[category] * np.float32(model.hour)
            np.add.at(bought, (category, np.digitize(need, BINS)), 1.0)
            reliefs.append(np.column_stack([category, relief]))
        commit(idx, category, relief, spend)

    pop.commit = recording_commit
    everyone = np.arange(pop.n)
    for _ in range(model.calendar.n_hours):
        model.step()
        if model.hour >= settle_days * 24 and model.hour % 24 == 0:
            need = pop.need_now(everyone)
            for c in range(n_cat):
                exposure[c] += np.bincount(np.digitize(need[:, c], BINS), minlength=BINS.size + 1) / 7.0
    wallet = pop._wallet_now(everyone) / (pop.weekly_budget * np.float32(pop.params.savings_cap_weeks))

    relief_by = np.concatenate(reliefs)
    weekly_growth = pop.need_rate * 168.0
    rng = np.random.default_rng(seed)
    chains = 50_000
    need = np.empty((n_cat, QUANTILES.size))
    for c in range(n_cat):
        # hazard per week by need bin: rising with need (the outside option loses its pull as need
        # grows), fitted by isotonic regression weighted by exposure; flat beyond the bins seen
        seen = exposure[c] > 0
        index = np.arange(BINS.size + 1)
        fit = isotonic_regression(bought[c, seen] / exposure[c, seen], weights=exposure[c, seen]).x
        hazard = np.interp(index, index[seen], fit)
        relief = relief_by[relief_by[:, 0] == c, 1]
        level = rng.uniform(-0.5, 1.5, chains)
        weeks = int(10 * relief.mean() / weekly_growth[c]) + 52
        for _ in range(weeks):
            level += weekly_growth[c]
            buys = rng.random(chains) < -np.expm1(-hazard[np.digitize(level, BINS)])
            level[buys] -= relief[rng.integers(0, relief.size, int(buys.sum()))]
        need[c] = np.quantile(level, QUANTILES)
    return need, np.quantile(wallet, QUANTILES)


def write_table(need: np.ndarray, wallet: np.ndarray, note: str) -> None:
    rows = "\n".join(f"    [{', '.join(f'{x:.4f}' for x in row)}],  # {c.name}" for row, c in zip(need, CATEGORIES))
    TABLE.write_text(
        f'"""Generated by ``python -m sim.steady_state`` ({note}); do not edit.\n\n'
        "NEED: per category, need (units) at quantiles 0, 0.05, ..., 1 of the population;\n"
        'WALLET_SHARE: wallet as a share of the savings cap, at the same quantiles.\n"""\n\n'
        f"NEED = [\n{rows}\n]\n\nWALLET_SHARE = [{', '.join(f'{x:.4f}' for x in wallet)}]\n"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description="Measure the ordinary economy's steady state and write sim/steady_state_table.py.")
    ap.add_argument("--consumers", type=int, default=20_000)
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    need, wallet = measure(args.consumers, args.days, args.seed)
    write_table(need, wallet, f"{args.consumers:,} consumers, {args.days} days with no festival, seed {args.seed}")
    print(f"wrote {TABLE.name}")


if __name__ == "__main__":
    main()
