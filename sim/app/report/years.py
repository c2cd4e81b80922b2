"""Figures of multi-year runs, from yearly.csv: how the market changes from one season to the next.

Drawn only when runs last more than one year; each answers one question of the ecosystem
scenario: who sells (composition by archetype), who comes and goes (entries and exits),
and whether what is sold gets better (GMV-weighted true quality).
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

SHARES = (("big_share", "big", "#4c72b0"), ("small_brand_share", "small", "#55a868"),
          ("low_quality_seller_share", "low_quality", "#c44e52"))


def yearly_figures(yearly: pd.DataFrame | None, out: Path) -> list[tuple[str, str]]:
    """The three yearly figures, or none for one-year runs."""
    if yearly is None or yearly.empty or yearly["year"].max() < 2:
        return []
    means = yearly.groupby(["arm", "year"], sort=False).mean(numeric_only=True).reset_index()
    arms = list(dict.fromkeys(yearly["arm"]))
    figures = []
    for draw, frame, name in ((_composition, means, "years_composition.png"), (_flows, means, "years_entry_exit.png"),
                              (_quality, yearly, "years_quality_sold.png")):
        try:
            figures.append(draw(frame, arms, out / name))
        except KeyError:  # a yearly.csv from an older version lacks a column: that figure is skipped
            plt.close("all")
    return figures


def _composition(means: pd.DataFrame, arms: list[str], path: Path) -> tuple[str, str]:
    cols = min(3, len(arms))
    rows = math.ceil(len(arms) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.8 * rows), sharey=True, squeeze=False)
    for ax, arm in zip(axes.flat, arms):
        part = means[means["arm"] == arm]
        ax.stackplot(part["year"], *[100 * part[c] for c, _, _ in SHARES], labels=[n for _, n, _ in SHARES],
                     colors=[k for _, _, k in SHARES])
        ax.set_title(arm, fontsize=8)
        ax.set_xlabel("year")
        ax.set_xticks(part["year"])
    for ax in axes.flat[len(arms):]:
        ax.axis("off")
    axes[0, 0].set_ylabel("share of season GMV (%)")
    axes[0, 0].legend(fontsize=7, loc="lower left")
    _save(fig, path)
    return path.name, "Market composition by year: share of each season's GMV by brand archetype (mean over replications)."


def _flows(means: pd.DataFrame, arms: list[str], path: Path) -> tuple[str, str]:
    fig, ax = plt.subplots(figsize=(9, 3.5))
    width = 0.8 / len(arms)
    for i, arm in enumerate(arms):
        part = means[means["arm"] == arm]
        x = part["year"].to_numpy() + (i - (len(arms) - 1) / 2) * width
        color = plt.cm.tab10(i % 10)
        ax.bar(x, part["brands_entered"], width, color=color, label=arm)
        ax.bar(x, -part["brands_exited"], width, color=color, alpha=0.5)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_xlabel("year (entries and exits decided before that season)")
    ax.set_ylabel("brands: entered (up), exited (down)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    _save(fig, path)
    return path.name, "Entries (above zero) and exits (below) of brands by year, mean over replications."


def _quality(yearly: pd.DataFrame, arms: list[str], path: Path) -> tuple[str, str]:
    fig, ax = plt.subplots(figsize=(9, 3.5))
    for i, arm in enumerate(arms):
        g = yearly[yearly["arm"] == arm].groupby("year")["mean_quality_sold"]
        mean, sem = g.mean(), g.sem().fillna(0.0)
        ax.plot(mean.index, mean, marker="o", color=plt.cm.tab10(i % 10), label=arm)
        ax.fill_between(mean.index, mean - 1.96 * sem, mean + 1.96 * sem, color=plt.cm.tab10(i % 10), alpha=0.15)
    ax.set_xlabel("year")
    ax.set_ylabel("GMV-weighted true quality sold")
    ax.set_xticks(np.unique(yearly["year"]))
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    _save(fig, path)
    return path.name, "Quality sold by year: GMV-weighted true quality of each season's sales (band: 95% interval of the mean)."


def _save(fig: plt.Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
