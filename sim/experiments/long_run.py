"""Does a festival's effect settle? One paired run read at several season ends.

The model is causal (nothing before the season's end depends on where it ends), so a run to
the last season end gives the runs to the earlier ones hour for hour.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from sim.model.calendar import build_calendar
from sim.model.params import build_params
from sim.model.runs import run_model


def settling(overrides: dict[str, Any], seed: int, season_ends: Sequence[str]) -> dict[str, list[float]]:
    """``gmv_incremental`` (¥ bn), ``final_week_gap`` and ``dip_over_bump`` at each season end (inclusive dates)."""
    params = build_params({**overrides, "season.end": season_ends[-1]})
    hourly = run_model(params, seed=seed).hourly
    gmv, none = hourly["gmv"].to_numpy(), hourly["cf_gmv"].to_numpy()
    gain = gmv - none
    calendar = build_calendar(params)
    hours = hourly["hour"].to_numpy() + calendar.season_start
    in_window = calendar.window[hours] >= 0
    after = hours >= max(w.end for w in calendar.windows)
    ends = [int(np.searchsorted(hourly["time"].to_numpy(), np.datetime64(end) + np.timedelta64(1, "D")))
            for end in season_ends]
    return {
        "gmv_incremental": [gain[:e].sum() / 1e9 for e in ends],
        "final_week_gap": [gmv[e - 168:e].sum() / none[e - 168:e].sum() - 1 for e in ends],
        # GMV missing from the last window's close to the season's end over the windows' extra GMV
        "dip_over_bump": [-gain[:e][after[:e]].sum() / gain[in_window].sum() for e in ends],
    }
