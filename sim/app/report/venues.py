"""Online/offline: which venue types gain from the festival, from the hourly table.

Shared by the venue figure and the report text so both quote the same numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.model.metrics import VENUE_TYPES
from sim.app.report.findings import FORMAT_KEY, POLICY_KEY, festival_arms


def none_partner(meta: pd.DataFrame) -> dict[str, str]:
    """For each arm, the `none` arm of the same policy (an arm with no such partner has none: comparing it
    with another policy's `none` would credit the policy's effect to the festival)."""
    if FORMAT_KEY not in meta:
        return {}
    nones = meta[meta[FORMAT_KEY] == "none"]
    if nones.empty:
        return {}
    partner = {}
    for _, row in meta.iterrows():
        same = nones[nones[POLICY_KEY] == row[POLICY_KEY]] if POLICY_KEY in meta else nones
        if not same.empty:
            partner[row["arm"]] = same["arm"].iloc[0]
    return partner


def _venue_totals(hourly: pd.DataFrame) -> pd.DataFrame:
    cols = [f"gmv_venue_{v}" for v in VENUE_TYPES if f"gmv_venue_{v}" in hourly]
    totals = hourly.groupby(["arm", "replication"], observed=True)[cols].sum()
    return totals.rename(columns=lambda c: c.removeprefix("gmv_venue_"))


def venue_shares(hourly: pd.DataFrame) -> pd.DataFrame:
    """Arm x venue type: mean share of season GMV."""
    totals = _venue_totals(hourly)
    return totals.div(totals.sum(axis=1), axis=0).groupby("arm", observed=True).mean()


def venue_changes(hourly: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame | None:
    """Festival arm x venue type: mean % change of season GMV against the arm's own no-festival run
    (its ``cf_gmv_venue_*`` columns: same policy, same seed), paired by replication.

    Folders written before those columns existed fall back to a `none` arm of the same policy;
    None when there is nothing to compare with.
    """
    cf = [f"cf_gmv_venue_{v}" for v in VENUE_TYPES if f"cf_gmv_venue_{v}" in hourly]
    if cf and hourly[cf].notna().any().any():
        festival = festival_arms(meta)
        own = _venue_totals(hourly)
        base = hourly.groupby(["arm", "replication"], observed=True)[cf].sum()
        base = base.rename(columns=lambda c: c.removeprefix("cf_gmv_venue_"))
        change = 100 * (own / base.replace(0, np.nan) - 1)
        return change.groupby("arm", observed=True).mean().reindex([a for a in festival if a in change.index])
    partner = none_partner(meta)
    arms = [a for a in meta["arm"] if a in partner and a != partner[a]]
    if not arms:
        return None
    totals = _venue_totals(hourly)
    rows = []
    for arm in arms:
        own, base = totals.loc[arm], totals.loc[partner[arm]]
        common = own.index.intersection(base.index)
        rows.append((100 * (own.loc[common] / base.loc[common].replace(0, np.nan) - 1)).mean().rename(arm))
    return pd.DataFrame(rows)
