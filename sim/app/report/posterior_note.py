"""The report's note for a study run with ``--posterior``: what its intervals include, and
how often, draw by draw, the headline arms beat the reference.

Kept in its own module so the report builder only calls one function.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from sim.app.report.blocks import Block
from sim.app.report.labels import info


def posterior_blocks(runs: pd.DataFrame, heads: list[Any], reference: str, source: str) -> list[Any]:
    """A heading and one paragraph: parameter uncertainty is in the intervals; per-draw win rates."""
    ok = runs[runs["error"].fillna("") == ""] if "error" in runs else runs
    ref = ok[ok["arm"] == reference].set_index("replication")
    sentences = []
    for h in heads:
        if h.is_reference or h.metric not in ok:
            continue
        arm = ok[ok["arm"] == h.arm].set_index("replication")
        common = arm.index.intersection(ref.index)
        if common.empty:
            continue
        better = info(h.metric).better * (arm.loc[common, h.metric] - ref.loc[common, h.metric])
        sentences.append(f"{h.arm} beats {reference} on {info(h.metric).label} in {int((better > 0).sum())} of "
                         f"{len(common)} posterior draws")
    text = (f"Each replication ran on its own parameter vector drawn from the calibration posterior in `{source}` "
            "(the same draw in every arm, so comparisons stay paired): the intervals include parameter uncertainty, "
            "not only simulation noise.")
    if sentences:
        text += " Across draws, " + "; ".join(sentences) + "."
    return [Block("h2", "Parameter uncertainty"), Block("p", text)]
