"""PNG figures for the report, drawn from the tables only (runs, comparison, hourly).

Each figure answers one question a strategist asks (load, dip and slump, who gains);
bands are 95% intervals of the mean over replications. Colours follow the festival
format; each policy has its own marker and, in time series, its own panel; line styles
tell apart arms that differ in any other factor. Units are readable (bn yuan, m orders,
hours) and positive series start at zero.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from sim.model.metrics import ARCHETYPES  # noqa: E402
from sim.app.report.findings import FORMAT_KEY, POLICY_KEY, arms_metadata, festival_arms  # noqa: E402
from sim.app.report.venues import venue_changes, venue_shares  # noqa: E402
from sim.app.report.labels import axis, info  # noqa: E402
from sim.experiments.tables import ok_runs  # noqa: E402

Figure = tuple[str, str]  # (file name, caption)
_LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 3)))
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
_ARCH_COLORS = {"big": "#4c72b0", "small": "#55a868", "low_quality": "#c44e52"}
NONE_STYLE = {"color": "0.45", "linestyle": ":", "marker": "x"}


def arm_styles(meta: pd.DataFrame) -> dict[str, dict]:
    """Colour by festival format, marker (and time-series panel) by policy, line style by any other
    factor, so arms that differ only in, say, `season.end` are still told apart."""
    formats = list(dict.fromkeys(meta.get(FORMAT_KEY, meta["arm"])))
    policies = list(dict.fromkeys(meta.get(POLICY_KEY, pd.Series([""] * len(meta)))))
    palette = plt.get_cmap("tab10")
    styles: dict[str, dict] = {}
    seen: dict[tuple, int] = {}
    for _, row in meta.reset_index(drop=True).iterrows():
        f, p = row.get(FORMAT_KEY, row["arm"]), row.get(POLICY_KEY, "")
        variant = seen.get((f, p), 0)
        seen[(f, p)] = variant + 1
        if f == "none":
            style = dict(NONE_STYLE)
        else:
            style = {"color": palette(formats.index(f) % 10), "linestyle": _LINESTYLES[variant % len(_LINESTYLES)],
                     "marker": _MARKERS[policies.index(p) % len(_MARKERS)]}
        styles[row["arm"]] = {**style, "panel": p, "group": (f, p)}
    shared = {g for g, n in seen.items() if n > 1}
    for st in styles.values():  # arms that share format and policy differ in another factor: name them in plots
        st["shared"] = st.pop("group") in shared
    return styles


def _panels(meta: pd.DataFrame) -> list[str]:
    """One time-series panel per policy (a single panel when the scenario has one policy)."""
    return list(dict.fromkeys(meta[POLICY_KEY])) if POLICY_KEY in meta else [""]


def _in_panel(meta: pd.DataFrame, styles: dict, panel: str) -> list[str]:
    return [a for a in meta["arm"] if styles[a]["panel"] == panel or panel == ""]


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
        ax.plot(b[x], b["mean"] / scale, label=arm, lw=1.0, color=styles[arm]["color"],
                linestyle=styles[arm]["linestyle"])
        ax.fill_between(b[x], lo / scale, b["hi"] / scale, color=styles[arm]["color"], alpha=0.18, lw=0)


def _daily(hourly: pd.DataFrame, columns: list[str], how: str = "sum") -> pd.DataFrame:
    day = pd.to_datetime(hourly["time"]).dt.floor("D") if "time" in hourly else hourly["hour"] // 24
    grouped = hourly.assign(day=day).groupby(["arm", "replication", "day"], observed=True)[columns]
    return (grouped.sum() if how == "sum" else grouped.mean()).reset_index()


def fig_hourly(hourly: pd.DataFrame, meta: pd.DataFrame, styles: dict, path: Path) -> Figure:
    x = "time" if "time" in hourly else "hour"
    panels = _panels(meta)
    fig, axes = plt.subplots(len(panels), 2, figsize=(13, 2.6 * len(panels) + 1.2), sharex=True, squeeze=False)
    span = _busy_span(hourly, x)
    for row, panel in zip(axes, panels):
        arms = _in_panel(meta, styles, panel)
        sub = hourly[hourly["arm"].isin(arms)]
        if span is not None:
            sub = sub[(sub[x] >= span[0]) & (sub[x] <= span[1])]
        _plot_bands(row[0], _band(sub, x, "gmv"), x, styles, arms, 1e9, floor=0.0)
        _plot_bands(row[1], _band(sub, x, "orders"), x, styles, arms, 1e6, floor=0.0)
        row[0].set_ylabel("GMV per hour (bn yuan)")
        row[1].set_ylabel("orders per hour (m)")
        for ax in row:
            ax.set_ylim(bottom=0)
            ax.set_title(f"policy {panel}" if panel else "", fontsize=9)
        _legend(row[1])
    fig.suptitle("Hourly GMV and orders " + ("around the festival" if span is not None else "through the season")
                 + " (mean over replications, 95% band)")
    fig.autofmt_xdate()
    _save(fig, path)
    return path.name, ("Hourly GMV and orders, one row per policy, one colour per format: the opening-hour burst of "
                       "each window and the load it puts on the system.")


def _busy_span(hourly: pd.DataFrame, x: str) -> tuple | None:
    """The festival weeks, padded: hours whose mean GMV exceeds three times the season's median hour
    (hourly lines over a whole season are too dense to read); None if nothing stands out."""
    mean = hourly.groupby(x, observed=True)["gmv"].mean()
    busy = mean.index[mean > 3 * mean.median()]
    if len(busy) == 0:
        return None
    pad_before, pad_after = (pd.Timedelta(days=4), pd.Timedelta(days=6)) if x == "time" else (96, 144)
    return busy.min() - pad_before, busy.max() + pad_after


def fig_daily_vs_none(hourly: pd.DataFrame, meta: pd.DataFrame, styles: dict, path: Path) -> Figure:
    """Daily GMV of each arm with its own no-festival run (same policy, same seeds: the ``cf_gmv`` column)."""
    has_cf = "cf_gmv" in hourly and hourly["cf_gmv"].notna().any()
    columns = ["gmv", "cf_gmv"] if has_cf else ["gmv"]
    daily = _daily(hourly, columns)
    panels = _panels(meta)
    fig, axes = plt.subplots(len(panels), 1, figsize=(12, 2.8 * len(panels) + 1.2), sharex=True, squeeze=False)
    for ax, panel in zip(axes[:, 0], panels):
        arms = [a for a in _in_panel(meta, styles, panel) if not (has_cf and styles[a]["color"] == NONE_STYLE["color"])]
        band = _band(daily[daily["arm"].isin(arms)], "day", "gmv")
        floor = 0.5 * band["mean"][band["mean"] > 0].min() if (band["mean"] > 0).any() else 1e-3
        _plot_bands(ax, band, "day", styles, arms, 1e9, floor=floor)
        if has_cf and arms:  # the panel's arms share a policy, so their counterfactual is one line per other factor
            cf = _band(daily[daily["arm"] == arms[0]], "day", "cf_gmv")
            ax.plot(cf["day"], cf["mean"] / 1e9, color="black", lw=1.2, linestyle=(0, (2, 2)),
                    label="no festival (own paired run)")
        ax.set_yscale("log")
        ax.set_ylim(bottom=floor / 1e9)
        plain = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")  # 20, not 2×10^1
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain if ax.get_ylim()[1] / ax.get_ylim()[0] < 20 else matplotlib.ticker.NullFormatter())
        ax.set_ylabel("daily GMV (bn yuan, log)")
        ax.set_title(f"policy {panel}" if panel else "", fontsize=9)
        _legend(ax)
    if has_cf:
        title = "Daily GMV of each arm against its own no-festival run (same policy, same seeds)"
        caption = ("Daily GMV per arm (log scale) with the no-festival run of the same policy on the same seeds "
                   "(dashed): the gap below it before the first window is the dip, after the last the slump.")
    else:
        title = "Daily GMV per arm"
        caption = "Daily GMV per arm (log scale); this scenario ran without the no-festival counterfactual."
    fig.suptitle(title + " (mean, 95% band)")
    fig.autofmt_xdate()
    _save(fig, path)
    return path.name, caption


def fig_load(comparison: pd.DataFrame, meta: pd.DataFrame, styles: dict, path: Path) -> Figure:
    metrics = ["peak_orders_per_hour", "max_logistics_backlog", "mean_delivery_delay_h", "p95_delivery_delay_h"]
    metrics = [m for m in metrics if (comparison["metric"] == m).any()]
    fig, axes = plt.subplots(1, max(1, len(metrics)), figsize=(3.3 * max(1, len(metrics)) + 2, 0.35 * len(meta) + 1.8),
                             sharey=True, squeeze=False)
    arms = list(meta["arm"])
    for ax, metric in zip(axes[0], metrics):
        scale, label = axis(metric)
        rows = comparison[comparison["metric"] == metric].set_index("arm").reindex(arms)
        err = np.nan_to_num(np.vstack([rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]]), nan=0.0)
        ax.barh(arms, rows["mean"] / scale, xerr=err / scale, color=[styles[a]["color"] for a in arms], alpha=0.85)
        ax.set_xlabel(label.replace(info(metric).label + " ", ""), fontsize=8)
        ax.set_title(info(metric).label, fontsize=9)
        ax.set_xlim(left=0)
    axes[0][0].invert_yaxis()
    fig.suptitle("Peak load and delivery delay per arm (mean, 95% CI; colour = festival format)")
    _save(fig, path)
    return path.name, "Peak order load, logistics backlog and delivery delays per arm."


def pareto(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """True for points no other point beats on both axes (lower x, higher y), ties allowed."""
    keep = np.ones(len(x), dtype=bool)
    for i in range(len(x)):
        dominated = (x <= x[i]) & (y >= y[i]) & ((x < x[i]) | (y > y[i]))
        keep[i] = not dominated.any()
    return keep


def fig_frontier(comparison: pd.DataFrame, meta: pd.DataFrame, styles: dict, path: Path) -> Figure | None:
    """Incremental GMV against peak backlog and against p95 delay, Pareto-efficient arms marked and named."""
    arms = festival_arms(meta)
    gain = comparison[comparison["metric"] == "gmv_incremental"].set_index("arm").reindex(arms)
    if gain["mean"].isna().all():
        return None
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    for ax, cost in zip(axes, ("max_logistics_backlog", "p95_delivery_delay_h")):
        rows = comparison[comparison["metric"] == cost].set_index("arm").reindex(arms)
        xs, xl = axis(cost)
        ys, _ = axis("gmv_incremental")
        x, y = rows["mean"].to_numpy(float), gain["mean"].to_numpy(float)
        ok = np.isfinite(x) & np.isfinite(y)
        efficient = np.zeros(len(arms), dtype=bool)
        efficient[ok] = pareto(x[ok], y[ok])
        for i, arm in enumerate(arms):
            if not ok[i]:
                continue
            st = styles[arm]
            xerr = np.nan_to_num([[x[i] - rows["ci_low"].iloc[i]], [rows["ci_high"].iloc[i] - x[i]]]) / xs
            yerr = np.nan_to_num([[y[i] - gain["ci_low"].iloc[i]], [gain["ci_high"].iloc[i] - y[i]]]) / ys
            ax.errorbar(x[i] / xs, y[i] / ys, xerr=xerr, yerr=yerr, color=st["color"], marker=st["marker"],
                        markersize=9 if efficient[i] else 6, mfc=st["color"] if efficient[i] else "white",
                        capsize=2, lw=0.8, label=arm)
            if efficient[i] or st["shared"]:
                ax.annotate(arm, (x[i] / xs, y[i] / ys), xytext=(6, 6), textcoords="offset points", fontsize=8,
                            fontweight="bold" if efficient[i] else "normal", color="black" if efficient[i] else "0.35")
        front = np.where(efficient)[0]
        front = front[np.argsort(x[front])]
        ax.plot(x[front] / xs, y[front] / ys, color="0.3", lw=0.8, linestyle="--", zorder=0)
        ax.set_xlabel(xl.replace("peak logistics backlog", "peak logistics backlog, less is better")
                      .replace("95th pct delivery delay", "95th pct delivery delay, less is better"))
        ax.set_ylabel("incremental GMV vs no festival (bn yuan)")
        ax.set_xlim(left=0)
    axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.suptitle("Trade-off: what each arm gains (incremental GMV) against the load and delay it causes\n"
                 "mean and 95% CI per arm; filled, named and joined by the dashed line: Pareto-efficient arms")
    _save(fig, path)
    return path.name, ("Incremental GMV against peak logistics backlog (left) and 95th percentile delivery delay "
                       "(right): an arm off the dashed frontier is beaten on both by another arm.")


def _share_frame(hourly: pd.DataFrame, prefix: str, names: tuple[str, ...]) -> pd.DataFrame:
    cols = [f"{prefix}{n}" for n in names if f"{prefix}{n}" in hourly]
    totals = hourly.groupby(["arm", "replication"], observed=True)[cols].sum()
    shares = totals.div(totals.sum(axis=1).replace(0, np.nan), axis=0)
    return shares.groupby("arm", observed=True).mean().rename(columns=lambda c: c[len(prefix):])


def fig_archetype_share(hourly: pd.DataFrame, meta: pd.DataFrame, path: Path) -> Figure:
    shares = _share_frame(hourly, "gmv_arch_", ARCHETYPES).reindex(list(meta["arm"]))
    fig, ax = plt.subplots(figsize=(9, 0.4 * len(shares) + 1.9))
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
    ax.legend(fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)  # off the bars
    _save(fig, path)
    return path.name, "Share of season GMV won by big groups, small focused brands and low-quality sellers, per arm."


def fig_hhi(hourly: pd.DataFrame, meta: pd.DataFrame, styles: dict, path: Path) -> Figure:
    daily = _daily(hourly, ["hhi_24h"], how="mean")
    panels = _panels(meta)
    fig, axes = plt.subplots(len(panels), 1, figsize=(12, 2.6 * len(panels) + 1.2), sharex=True, sharey=True,
                             squeeze=False)
    for ax, panel in zip(axes[:, 0], panels):
        arms = _in_panel(meta, styles, panel)
        _plot_bands(ax, _band(daily[daily["arm"].isin(arms)], "day", "hhi_24h"), "day", styles, arms)
        ax.set_ylabel("HHI (0-10,000)")
        ax.set_ylim(bottom=0)
        ax.set_title(f"policy {panel}" if panel else "", fontsize=9)
        _legend(ax)
    fig.suptitle("Market concentration over the season: HHI of trailing-24h brand sales (mean, 95% band)")
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
        title, unit, cmap = "Venue GMV change vs each arm's own no-festival run, same seeds (%)", "%", "RdBu"
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
            dark = abs(v - (vmin + vmax) / 2) > 0.35 * (vmax - vmin)  # white on the saturated ends of the scale
            ax.text(j, i, f"{v:.0f}{unit}" if abs(v) >= 10 else f"{v:.1f}{unit}", ha="center", va="center", fontsize=7,
                    color="white" if dark else "black")
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
    jobs: list[tuple[str, Callable[[Path], Figure | None]]] = [
        ("tradeoff_frontier.png", lambda p: fig_frontier(comparison, meta, styles, p)),
        ("load_and_delay.png", lambda p: fig_load(comparison, meta, styles, p))]
    if hourly is not None and not hourly.empty:
        jobs = [
            jobs[0],
            ("hourly_gmv_orders.png", lambda p: fig_hourly(hourly, meta, styles, p)),
            ("daily_gmv_vs_none.png", lambda p: fig_daily_vs_none(hourly, meta, styles, p)),
            *jobs[1:],
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
