"""Where a season starts: the ordinary economy's steady state.

A season is a few months out of a market that has run for years, so its consumers should
start where an ordinary economy keeps them: in each category somewhere between two
purchases, and with what a steady life leaves in their wallets. A flat guess (need
uniform on 0-1.2 units) puts a third of the population past the point where it would buy
a durable, and that backlog sells for months: an ordinary day's GMV then falls by a third
over a season with no festival at all, and a durable's cycle (one to two years) is far
longer than any affordable warm-up.

The shipped table (``steady_state_table.py``) holds, per category, quantiles of need at a
random hour of an ordinary economy (from its purchase hazard: ``sim.experiments.steady_state``), and quantiles of
wallets as a share of the savings cap; ``draw_need``/``draw_wallet_share`` sample them.
Regenerate it after changing the defaults: ``python -m sim.model.steady_state`` (about a minute).
Other parameter sets settle in the warm-up in categories bought weekly; durables keep the
defaults' spread.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.model.catalog import CATEGORIES

QUANTILES = np.linspace(0.0, 1.0, 21)
TABLE = Path(__file__).with_name("steady_state_table.py")


def _table():
    from sim.model import steady_state_table as t  # generated; imported late so regenerating never needs it
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
