"""What outcomes do to consumers: satisfaction, loyalty and churn, and what an order takes
from need and wallet."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def experience_update(columns, idx, category, brand, outcome, uniforms, rules):
    """Satisfaction and loyalty after outcomes (``ConsumerPopulation.experience``); returns who
    may churn: at risk (dissatisfied, a bad outcome, not away already) and ``uniforms`` below
    ``churn_probability`` (one uniform per outcome), in the order of ``idx``, repeats kept.

    As numpy's ``add.at`` and fancy assignment did: every change is computed from the state
    before any is applied, and a consumer listed twice gets both satisfaction changes and the
    last loyalty.
    """
    satisfaction, loyal, churned_until = columns.satisfaction, columns.loyal, columns.churned_until
    speed, loyalty_outcome, disloyalty_outcome = rules.speed, rules.loyalty_outcome, rules.disloyalty_outcome
    churn_threshold, churn_probability, hour = rules.churn_threshold, rules.churn_probability, rules.hour
    n = idx.size
    change = np.empty(n, np.float32)
    for i in range(n):
        change[i] = np.float32(speed * (outcome[i] - np.float64(satisfaction[idx[i]])))
    now_loyal = np.empty(n, loyal.dtype)
    for i in range(n):
        old = loyal[idx[i], category[i]]
        if outcome[i] > loyalty_outcome:
            now_loyal[i] = brand[i]
        elif outcome[i] < disloyalty_outcome and old == brand[i]:
            now_loyal[i] = -1
        else:
            now_loyal[i] = old
    for i in range(n):
        satisfaction[idx[i]] += change[i]
        loyal[idx[i], category[i]] = now_loyal[i]
    churn = np.empty(n, idx.dtype)
    k = 0
    for i in range(n):
        c = idx[i]
        if (satisfaction[c] < churn_threshold and outcome[i] < disloyalty_outcome and churned_until[c] <= hour
                and uniforms[i] < churn_probability):
            churn[k] = c
            k += 1
    return churn[:k]


@njit(cache=True)
def commit_orders(need_base, wallet, idx, category, relief, spend):
    """Order by order, need falls by ``relief`` and the wallet by ``spend`` (both as float32),
    as numpy's ``subtract.at`` did (a consumer listed twice pays twice)."""
    for i in range(idx.size):
        need_base[idx[i], category[i]] = need_base[idx[i], category[i]] - np.float32(relief[i])
        wallet[idx[i]] = wallet[idx[i]] - np.float32(spend[i])
