"""The "why" section: how much of the recommended arm's advantage each mechanism accounts for.

Reads explain.csv (written by sim.experiments.explain, one row per mechanism switched off and replication:
the paired difference recommended - reference with that mechanism off in both arms), so the
section is rebuilt from disk like the rest of the report.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.app.report.blocks import Block  # noqa: E402
from sim.app.report.labels import fmt_diff, info  # noqa: E402
from sim.experiments.explain import ALL_ON  # noqa: E402
from sim.experiments.stats import mean_ci  # noqa: E402

EXPLAIN = "explain.csv"
WHY_FIGURES = ("why_mechanisms.png",)


def shares(explain: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    """Per mechanism: mean share of the all-on difference it accounts for, with a 95% interval; and the all-on difference."""
    on = explain[explain["mechanism"] == ALL_ON].set_index("replication")["diff"]
    total = float(on.mean())
    rows = []
    for mech, part in explain[explain["mechanism"] != ALL_ON].groupby("mechanism", sort=False):
        off = part.set_index("replication")["diff"]
        common = on.index.intersection(off.index)
        contribution = (on.loc[common] - off.loc[common]).to_numpy()
        mean, lo, hi, n = mean_ci(contribution)
        rows.append({"mechanism": mech, "contribution": mean, "share": mean / total if total else np.nan,
                     "share_low": lo / total if total else np.nan, "share_high": hi / total if total else np.nan,
                     "n": n})
    table = pd.DataFrame(rows)
    if not table.empty:
        table = table.sort_values("share", ascending=False, key=lambda s: s.abs()).reset_index(drop=True)
    return table, total


def read_explain(folder: Path) -> pd.DataFrame | None:
    path = Path(folder) / EXPLAIN
    return pd.read_csv(path) if path.is_file() else None


def fig_why(explain: pd.DataFrame, path: Path) -> tuple[str, str]:
    table, total = shares(explain)
    arm, ref, metric = explain["arm"].iloc[0], explain["reference"].iloc[0], explain["metric"].iloc[0]
    rest = 1.0 - table["share"].sum()
    labels = list(table["mechanism"]) + ["interactions and the rest"]
    values = np.append(table["share"].to_numpy() * 100, rest * 100)
    err = np.vstack([(table["share"] - table["share_low"]).abs(), (table["share_high"] - table["share"]).abs()]) * 100
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(labels) + 1.8))
    colors = ["#4c72b0" if v >= 0 else "#c44e52" for v in values[:-1]]
    ax.barh(labels[:-1], values[:-1], xerr=np.nan_to_num(err), color=colors, capsize=3)
    ax.barh(labels[-1:], values[-1:], color="0.7")  # a remainder, no interval of its own
    ax.axvline(0, color="black", lw=0.8)
    ax.invert_yaxis()
    ax.set_xlabel(f"share of the difference in {info(metric).label} (%, 95% CI over replications)")
    ax.set_title(f"Why {arm} differs from {ref}\n{info(metric).label} {fmt_diff(metric, total)}: "
                 "share accounted for by each mechanism (switched off in both arms)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name, (f"Share of {arm}'s difference from {ref} in {info(metric).label} that each mechanism accounts "
                       "for: the difference with every mechanism on minus the difference with that one switched off.")


def why_blocks(explain: pd.DataFrame | None, figures: list[tuple[str, str]]) -> list[Block]:
    """The section's text and figure; a sentence saying how to get it when --explain was not given."""
    if explain is None or explain.empty:
        return [Block("h2", "Why"), Block("p", "Not computed: add `--explain` to rerun the recommended and reference "
                                               "arms with one mechanism switched off at a time (it costs 14 extra runs "
                                               "per replication), and this section shows what drives the difference.")]
    table, total = shares(explain)
    arm, ref, metric = explain["arm"].iloc[0], explain["reference"].iloc[0], explain["metric"].iloc[0]
    items = [f"**{r['mechanism']}**: {r['share']:+.0%} of the difference (95% CI {r['share_low']:+.0%} to "
             f"{r['share_high']:+.0%}; {fmt_diff(metric, r['contribution'])})" for _, r in table.iterrows()]
    blocks = [Block("h2", "Why"),
              Block("p", f"{arm} differs from {ref} by {fmt_diff(metric, total)} in {info(metric).label}. Rerunning "
                         f"both with one mechanism switched off at a time (same seeds) shows how much of that each "
                         f"mechanism accounts for; the rest is the festival's design itself and the mechanisms' "
                         f"interactions."),
              Block("ul", items=items)]
    blocks += [Block("fig", caption, items=[name]) for name, caption in figures if name in WHY_FIGURES]
    return blocks
