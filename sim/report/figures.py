"""PNG figures for the report, drawn from the tables only (runs, comparison, hourly).

Each figure answers one question a strategist asks (load, dip and slump, who gains);
bands are 95% intervals of the mean over replications. Colours follow the festival
format, line styles the platform policy, so arms of a crossed design read at a glance.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from ..metrics import ARCHETYPES  # noqa: E402
from .findings import FORMAT_KEY, POLICY_KEY, arms_metadata  # noqa: E402
from .venues import none_partner, venue_changes, venue_shares  # noqa: E402
from .labels import info  # noqa: E402
from .tables import ok_runs  # noqa: E402

Figure = tuple[str, str]  # (file name, caption)
_LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 3)))
_ARCH_COLORS = {"big": "#4c72b0", "small": "#55a868", "low_quality": "#c44e52"}


def arm_styles(meta: pd.DataFrame) -> dict[str, dict]:
    """Colour by festival format, line style by policy (falls back to one colour per arm)."""
    formats = list(dict.fromkeys(meta.get(FORMAT_KEY, meta["arm"])))
    policies = list(dict.fromkeys(meta.get(POLICY_KEY, pd.Series([""] * len(meta)))))
    palette = plt.get_cmap("tab10")
    styles = {}
    by_arm = len(formats) == 1 and len(policies) == 1
    for i, row in meta.reset_index(drop=True).iterrows():
        f = row.get(FORMAT_KEY, row["arm"])
        p = row.get(POLICY_KEY, "")
        color = palette(i % 10) if by_arm else palette(formats.index(f) % 10)
        if len(formats) == 1 and not by_arm:
            color = palette(policies.index(p) % 10)
        style = "-" if len(formats) == 1 else _LINESTYLES[policies.index(p) % len(_LINESTYLES)]
        if f == "none":
            color, style = "0.35", ":"
        styles[row["arm"]] = {"color": color, "linestyle": style}
    return styles


def _band(frame: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Mean and 95% interval of ``y`` over replications, per arm and ``x``."""
    g = frame.groupby(["arm", x], observed=True)[y].agg(["mean", "std", "count"]).reset_index()
    t = stats.t.ppf(0.975, np.maximum(g["count"] - 1, 1))
    half = np.where(g["count"] > 1, t * g["std"].fillna(0) / np.sqrt(g["count"]), 0.0)
    g["lo"], g["hi"] = g["mean"] - half, g["mean"] + half
    return g


def _plot_bands(ax: plt.Axes, band: pd.DataFrame, x: str, styles: dict, arms: list[str], scale: float = 1.0,
                floor: float | None = None) -> None:
    for arm in arms:
        b = band[band["arm"] == arm]
        if b.empty:
            continue
        lo = b["lo"] if floor is None else b["lo"].clip(lower=floor)
        ax.plot(b[x], b["mean"] / scale, label=arm, lw=1.0, **styles[arm])
        ax.fill_between(b[x], lo / scale, b["hi"] / scale, color=styles[arm]["color"], alpha=0.18, lw=0)


def _daily(hourly: pd.DataFrame, columns: list[str], how: str = "sum") -> pd.DataFrame:
    day = pd.to_datetime(hourly["time"]).dt.floor("D") if "time" in hourly else hourly["hour"] // 24
    grouped = hourly.assign(day=day).groupby(["arm", "replication", "day"], observed=True)[columns]
    return (grouped.sum() if how == "sum" else grouped.mean()).reset_index()


def fig_hourly(hourly: pd.DataFrame, meta: pd.DataFrame, styles: dict, path: Path) -> Figure:
    x = "time" if "time" in hourly else "hour"
    fig, axes = plt.subplots(2, 1, figsize=(12, 7), sharex=True)
    arms = list(meta["arm"])
    _plot_bands(axes[0], _band(hourly, x, "gmv"), x, styles, arms, 1e9, floor=0.0)
    _plot_bands(axes[1], _band(hourly, x, "orders"), x, styles, arms, 1e6, floor=0.0)
    axes[0].set_ylabel("GMV per hour (bn yuan, log scale)")
    axes[1].set_ylabel("orders per hour (m, log scale)")
    axes[0].set_yscale("symlog", linthresh=0.1)
    axes[1].set_yscale("symlog", linthresh=1.0)
    axes[0].set_title("Hourly GMV and orders through the season (mean over replications, 95% band)")
    _legend(axes[0])
    fig.autofmt_xdate()
    _save(fig, path)
    return path.name, "Hourly GMV and orders per arm: the opening-hour burst of each window and the load it puts on the system."


def fig_daily_vs_none(hourly: pd.DataFrame, meta: pd.DataFrame, styles: dict, path: Path) -> Figure:
    daily = _daily(hourly, ["gmv"])
    partner = none_partner(meta)
    fig, ax = plt.subplots(figsize=(12, 5))
    festival_arms = [a for a in meta["arm"] if a in partner and a != partner[a]]
    if festival_arms:
        base = daily.rename(columns={"gmv": "base"})
        frames = []
        for arm in festival_arms:
            own = daily[daily["arm"] == arm]
            ref = base[base["arm"] == partner[arm]].drop(columns="arm")
            merged = own.merge(ref, on=["replication", "day"])
            merged["change"] = 100 * (merged["gmv"] / merged["base"] - 1)
            frames.append(merged)
        band = _band(pd.concat(frames), "day", "change")
        _plot_bands(ax, band, "day", styles, festival_arms)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_ylabel("daily GMV vs no festival, same seeds (%)")
        ax.set_yscale("symlog", linthresh=20)
        caption = ("Daily GMV against the `none` counterfactual on the same seeds: the dip before the first window "
                   "and the slump after the last show as values below zero.")
    else:
        band = _band(daily, "day", "gmv")
        _plot_bands(ax, band, "day", styles, list(meta["arm"]), 1e9)
        ax.set_ylabel("daily GMV (bn yuan)")
        caption = "Daily GMV per arm (this scenario has no `none` arm to compare with)."
    ax.set_title("Daily GMV against the no-festival counterfactual (mean, 95% band)")
    _legend(ax)
    fig.autofmt_xdate()
    _save(fig, path)
    return path.name, caption


def fig_load(comparison: pd.DataFrame, meta: pd.DataFrame, styles: dict, path: Path) -> Figure:
    metrics = ["peak_orders_per_hour", "peak_to_mean", "max_logistics_backlog", "mean_delivery_delay_h",
               "p95_delivery_delay_h"]
    metrics = [m for m in metrics if (comparison["metric"] == m).any()]
    fig, axes = plt.subplots(1, max(1, len(metrics)), figsize=(3.2 * max(1, len(metrics)) + 1, 0.35 * len(meta) + 1.8),
                             sharey=True, squeeze=False)
    arms = list(meta["arm"])
    for ax, metric in zip(axes[0], metrics):
        rows = comparison[comparison["metric"] == metric].set_index("arm").reindex(arms)
        err = np.vstack([rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]])
        err = np.nan_to_num(err, nan=0.0)
        ax.barh(arms, rows["mean"], xerr=err, color=[styles[a]["color"] for a in arms], alpha=0.85)
        ax.set_title(info(metric).label, fontsize=9)
        ax.invert_yaxis() if ax is axes[0][0] else None
    fig.suptitle("Peak load and delivery delay per arm (mean, 95% CI)")
    _save(fig, path)
    return path.name, "Peak order load, logistics backlog and delivery delays per arm."


def _share_frame(hourly: pd.DataFrame, prefix: str, names: tuple[str, ...]) -> pd.DataFrame:
    cols = [f"{prefix}{n}" for n in names if f"{prefix}{n}" in hourly]
    totals = hourly.groupby(["arm", "replication"], observed=True)[cols].sum()
    shares = totals.div(totals.sum(axis=1).replace(0, np.nan), axis=0)
    return shares.groupby("arm", observed=True).mean().rename(columns=lambda c: c[len(prefix):])


def fig_archetype_share(hourly: pd.DataFrame, meta: pd.DataFrame, path: Path) -> Figure:
    shares = _share_frame(hourly, "gmv_arch_", ARCHETYPES).reindex(list(meta["arm"]))
    fig, ax = plt.subplots(figsize=(9, 0.4 * len(shares) + 1.5))
    left = np.zeros(len(shares))
    for arch in shares.columns:
        vals = shares[arch].fillna(0).to_numpy() * 100
        ax.barh(shares.index, vals, left=left, label=arch, color=_ARCH_COLORS.get(arch))
        for y, (l, v) in enumerate(zip(left, vals)):
            if v > 6:
                ax.text(l + v / 2, y, f"{v:.0f}%", ha="center", va="center", fontsize=7, color="white")
        left += vals
    ax.invert_yaxis()
    ax.set_xlabel("share of season GMV (%)")
    ax.set_title("Market share by brand archetype")
    ax.legend(fontsize=8, ncol=3, loc="lower right")
    _save(fig, path)
    return path.name, "Share of season GMV won by big groups, small focused brands and low-quality sellers, per arm."


def fig_hhi(hourly: pd.DataFrame, meta: pd.DataFrame, styles: dict, path: Path) -> Figure:
    daily = _daily(hourly, ["hhi_24h"], how="mean")
    fig, ax = plt.subplots(figsize=(12, 4.5))
    _plot_bands(ax, _band(daily, "day", "hhi_24h"), "day", styles, list(meta["arm"]))
    ax.set_ylabel("HHI of trailing-24h brand sales (0-10,000)")
    ax.set_title("Market concentration over the season (mean, 95% band)")
    _legend(ax)
    fig.autofmt_xdate()
    _save(fig, path)
    return path.name, "Market concentration (HHI) over the season: rising lines mean the rich get richer."


def _finite_max(values: np.ndarray) -> float:
    """The colour scale's top: the largest finite value, 1 if none (a tiny run can leave a table all NaN)."""
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size and finite.max() > 0 else 1.0


def fig_venues(hourly: pd.DataFrame, meta: pd.DataFrame, path: Path) -> Figure:
    arms = list(meta["arm"])
    table = venue_changes(hourly, meta)
    if table is not None:
        title, unit, cmap = "Venue GMV change vs no festival, same seeds (%)", "%", "RdBu"
        lim = _finite_max(np.abs(table.to_numpy(dtype=float)))
        vmin, vmax = -lim, lim
    else:
        table = venue_shares(hourly).reindex(arms) * 100
        title, unit, cmap = "Share of season GMV by venue type (%)", "%", "Blues"
        vmin, vmax = 0, _finite_max(table.to_numpy(dtype=float))
    fig, ax = plt.subplots(figsize=(1.0 * len(table.columns) + 3, 0.4 * len(table) + 2.2))
    im = ax.imshow(table.to_numpy(dtype=float), cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(range(len(table.columns)), table.columns, rotation=35, ha="right", fontsize=8)
    ax.set_yticks(range(len(table)), table.index, fontsize=8)
    shares = venue_shares(hourly).reindex(index=table.index, columns=table.columns)
    for (i, j), v in np.ndenumerate(table.to_numpy(dtype=float)):
        if math.isfinite(v):
            ax.text(j, i, f"{v:.0f}{unit}" if abs(v) >= 10 else f"{v:.1f}{unit}", ha="center", va="center", fontsize=7)
        elif shares.iloc[i, j] > 0:  # no sales without the festival (e.g. pop-up stores): a new channel
            ax.text(j, i, "new", ha="center", va="center", fontsize=7, color="0.3")
    fig.colorbar(im, ax=ax, shrink=0.8)
    ax.set_title(title)
    _save(fig, path)
    return path.name, title.split(" (")[0] + ": which venues gain from the festival."


def fig_archetype_paths(hourly: pd.DataFrame, reference: str, path: Path) -> Figure | None:
    cols = [f"discount_arch_{a}" for a in ARCHETYPES] + [f"stock_cover_arch_{a}" for a in ARCHETYPES]
    cols = [c for c in cols if c in hourly]
    ref = hourly[hourly["arm"] == reference]
    if not cols or ref.empty:
        return None
    daily = _daily(ref, cols, how="mean")
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for ax, kind, label in ((axes[0], "discount_arch_", "mean discount"), (axes[1], "stock_cover_arch_", "stock cover (days)")):
        for arch in ARCHETYPES:
            col = kind + arch
            if col in daily:
                b = _band(daily, "day", col)
                ax.plot(b["day"], b["mean"], color=_ARCH_COLORS[arch], label=arch)
                ax.fill_between(b["day"], b["lo"], b["hi"], color=_ARCH_COLORS[arch], alpha=0.2, lw=0)
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
    fig.suptitle(f"Discount and stock paths by brand archetype (arm {reference})")
    fig.autofmt_xdate()
    _save(fig, path)
    return path.name, "How each archetype adapts discounts and stock around the festival (small brands adapt fastest)."


def _legend(ax: plt.Axes) -> None:
    """Legend outside the plot, right: crossed designs have many arms and the lines matter more."""
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def _save(fig: plt.Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def make_figures(runs: pd.DataFrame, comparison: pd.DataFrame, hourly: pd.DataFrame | None, reference: str,
                 out: Path) -> list[Figure]:
    """Draw every figure the tables allow into ``out``; a figure that cannot be drawn is skipped, not fatal."""
    out.mkdir(parents=True, exist_ok=True)
    meta = arms_metadata(ok_runs(runs))
    if meta.empty:
        return []
    styles = arm_styles(meta)
    jobs: list[tuple[str, Callable[[Path], Figure | None]]] = [("load_and_delay.png", lambda p: fig_load(comparison, meta, styles, p))]
    if hourly is not None and not hourly.empty:
        jobs = [
            ("hourly_gmv_orders.png", lambda p: fig_hourly(hourly, meta, styles, p)),
            ("daily_gmv_vs_none.png", lambda p: fig_daily_vs_none(hourly, meta, styles, p)),
            *jobs,
            ("archetype_share.png", lambda p: fig_archetype_share(hourly, meta, p)),
            ("hhi_over_time.png", lambda p: fig_hhi(hourly, meta, styles, p)),
            ("venue_sales.png", lambda p: fig_venues(hourly, meta, p)),
            ("archetype_paths.png", lambda p: fig_archetype_paths(hourly, reference, p)),
        ]
    figures = []
    for name, draw in jobs:
        try:
            fig = draw(out / name)
        except (KeyError, ValueError) as exc:  # a column the model does not (yet) record
            plt.close("all")
            figures.append((name, f"(not drawn: {type(exc).__name__}: {exc})"))
            continue
        if fig:
            figures.append(fig)
    return [f for f in figures if (out / f[0]).exists()]
