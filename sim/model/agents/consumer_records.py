"""The consumers' columns stored as one 128-byte record per consumer, in two cache lines.

Why: an hour's active consumers are scattered over the population, so with a column per
attribute each session reads about ten cache lines (need, remembered discounts and loyalty
rows, six scalars) and each activity candidate four more; with a million consumers every
one is a miss to main memory. Interleaved, the activity draw reads one line per candidate
(the first) and a session two. The population keeps its columns as numpy views of the
records' fields, so code that reads or writes ``population.wallet[idx]`` is unchanged; only
rebinding a column (``population.wallet = ...``) would detach it, so columns are refilled in
place (``[...] =``). Values, and so results, are the same as with separate columns.
"""

from __future__ import annotations

import numpy as np

from sim.model.catalog import CATEGORIES

CACHE_LINE = 64
_N_CAT = len(CATEGORIES)

# line 1: what the activity draw reads, the choice's scalars and loyalty; line 2: need and remembered discounts
RECORD = np.dtype({
    "names": ["online_preference", "satisfaction", "churned_until", "weekly_budget", "last_hour", "wallet",
              "quality_sensitivity", "price_sensitivity", "deal_proneness", "tier", "aware", "loyal",
              "need_base", "ref_discount"],
    "formats": ["f4", "f4", "i4", "f4", "i4", "f4", "f4", "f4", "f4", "i1", "?", ("i2", (_N_CAT,)),
                ("f4", (_N_CAT,)), ("f4", (_N_CAT,))],
    "offsets": [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 37, 40, 64, 64 + 4 * _N_CAT],
    "itemsize": 2 * CACHE_LINE,
})
assert 40 + 2 * _N_CAT <= CACHE_LINE and 8 * _N_CAT <= CACHE_LINE, "the categories no longer fit two cache lines"


def interleave(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Copy ``columns`` (every field of ``RECORD``, one row per consumer) into records aligned
    to cache lines, and return the fields as views of them, under the same names."""
    if set(columns) != set(RECORD.names):
        raise ValueError(f"columns must be exactly {RECORD.names}")
    n = len(columns["wallet"])
    raw = np.zeros(n * RECORD.itemsize + CACHE_LINE, dtype=np.uint8)
    start = -raw.ctypes.data % CACHE_LINE
    records = raw[start:start + n * RECORD.itemsize].view(RECORD)
    for name, values in columns.items():
        records[name] = values
    return {name: records[name] for name in RECORD.names}
