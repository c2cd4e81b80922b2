"""Dashboard components: season plots, venue GMV and the one-line summary.

They follow Mesa's component idiom (a factory returns ``(component, page)``; the
component subscribes to ``update_counter`` so SolaraViz redraws it after each step), but
draw against the season's calendar with the festival windows shaded, because Mesa's
``make_plot_component`` plots against the step number, which a strategist cannot place
in the season.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import solara
from matplotlib.figure import Figure
from mesa.visualization.utils import update_counter

from sim.model.catalog import VENUE_TYPES
from sim.app.dashboard.model import SERIES_LABELS, DashboardModel

FIGSIZE, DPI = (7.2, 5.0), 75  # about 540 x 375 px: one cell of SolaraViz's two-column grid; low dpi redraws fast
WINDOW_COLOUR = "#fde2c8"  # festival windows


@dataclass(frozen=True)
class SeasonPlot:
    """What one season plot shows: DataCollector columns with colours, title and y unit."""

    title: str
    unit: str
    columns: dict[str, str]  # DataCollector column -> line colour
    ylim: tuple[float, float] | None = None


SEASON_PLOTS = (
    SeasonPlot("Hourly GMV", "bn yuan / hour", {"gmv": "#1f77b4"}),
    SeasonPlot("Hourly orders", "million orders / hour", {"orders": "#ff7f0e"}),
    SeasonPlot("Queues of online orders", "million orders", {"processing_backlog": "#9467bd",
                                                             "logistics_backlog": "#8c564b"}),
    SeasonPlot("Delay and satisfaction", "hours", {"expected_delay_h": "#d62728"}),
    SeasonPlot("GMV share by brand archetype, trailing 24 h", "share", {"share_big": "#1f77b4", "share_small": "#2ca02c",
                                                                       "share_low_quality": "#d62728"}, (0.0, 1.0)),
)


def make_season_component(spec: SeasonPlot, page: int = 0):
    """A SolaraViz component (and its page) plotting ``spec`` over the whole season."""

    def MakeSeasonPlot(model: DashboardModel):
        return SeasonPlotView(model, spec)

    return MakeSeasonPlot, page


@solara.component
def SeasonPlotView(model: DashboardModel, spec: SeasonPlot):
    update_counter.get()
    fig = _figure()
    draw_season(fig.axes[0], model, spec)
    solara.FigureMatplotlib(fig, format="png")


def _figure() -> Figure:
    """A one-panel figure with fixed margins (constrained layout would double the time of a redraw)."""
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    fig.subplots_adjust(left=0.11, right=0.89, top=0.91, bottom=0.09)
    fig.subplots()
    return fig


def draw_season(ax, model: DashboardModel, spec: SeasonPlot) -> None:
    """The season so far on a whole-season axis in days, festival windows shaded."""
    cal = model.calendar
    frame = model.datacollector.get_model_vars_dataframe()
    x = np.arange(len(frame)) / 24  # days since the season's first hour
    for i, window in enumerate(cal.windows):
        ax.axvspan((window.start - cal.season_start) / 24, (window.end - cal.season_start) / 24, color=WINDOW_COLOUR,
                   lw=0, label="festival window" if i == 0 else None)
    for column, colour in spec.columns.items():
        ax.plot(x, frame[column].to_numpy() if column in frame else [], color=colour, lw=1.2, label=SERIES_LABELS[column])
    if "expected_delay_h" in spec.columns:  # satisfaction on its own 0-1 axis, in the same panel
        right = ax.twinx()
        right.plot(x, frame["satisfaction"].to_numpy() if "satisfaction" in frame else [], color="#17becf", lw=1.2)
        right.set_ylim(0, 1)
        right.set_ylabel("mean satisfaction (0-1)")
        ax.plot([], [], color="#17becf", label="mean satisfaction (right axis)")
    ax.set_xlim(0, cal.season_hours / 24)
    ax.set_ylim(*(spec.ylim or (0, None)))
    if not spec.ylim and (frame.empty or np.nanmax(frame[list(spec.columns)].to_numpy()) <= 0):
        ax.set_ylim(0, 1)  # nothing yet: a sensible empty axis rather than matplotlib's -0.05..0.05
    first = cal.timestamps()[0].astype("datetime64[D]")
    days = np.arange(0, cal.season_hours / 24, 7)
    ax.set_xticks(days, [f"{(first + np.timedelta64(int(d), 'D')).astype(object):%b %d}" for d in days])
    ax.set_title(spec.title, fontsize=11, loc="left")
    ax.set_ylabel(spec.unit)
    if len(spec.columns) > 1 or "expected_delay_h" in spec.columns:
        ax.legend(loc="upper left", fontsize=9, frameon=False)
    ax.grid(alpha=0.3)


def make_venue_component(page: int = 0):
    """A SolaraViz component (and its page): season-so-far GMV by venue type."""

    def MakeVenuePlot(model: DashboardModel):
        return VenuePlotView(model)

    return MakeVenuePlot, page


@solara.component
def VenuePlotView(model: DashboardModel):
    update_counter.get()
    fig = _figure()
    fig.subplots_adjust(left=0.25, right=0.95, bottom=0.12)  # room for the venue names and the unit
    ax = fig.axes[0]
    gmv = model.venue_gmv() / 1e9
    labels = [name.replace("_", " ") for name in VENUE_TYPES]
    y = np.arange(len(labels))[::-1]
    ax.barh(y, gmv, color=["#1f77b4"] + ["#7f7f7f"] * (len(labels) - 1))
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlim(0, max(gmv.max() * 1.15, 1e-3))
    for yi, value in zip(y, gmv):
        ax.text(value, yi, f" {value:.2f}", va="center", fontsize=7)
    ax.set_title("GMV by venue, season so far", fontsize=11, loc="left")
    ax.set_xlabel("bn yuan")
    ax.grid(axis="x", alpha=0.3)
    solara.FigureMatplotlib(fig, format="png")


def summary_text(model: DashboardModel) -> str:
    """One line of the run's metrics so far, real scale."""
    h, n = model.season_hour, model.calendar.season_hours
    clock = (model.calendar.timestamps()[0] + np.timedelta64(h, "h")).astype(object)  # simulated up to here
    orders = model.so_far("orders")
    backlog = (model.sim.online.processing_backlog + model.sim.online.logistics_backlog) * model.weight
    return (f"{clock:%b %d %H}:00, season hour {h} of {n} · season GMV ¥{model.so_far('gmv').sum() / 1e9:,.1f} bn · "
            f"orders {orders.sum() / 1e6:,.0f} m · peak {orders.max(initial=0) / 1e6:,.1f} m/h · "
            f"backlog {backlog / 1e6:,.1f} m orders · satisfaction {float(np.mean(model.sim.consumers.satisfaction)):.3f}")


def settings_text(model: DashboardModel) -> str:
    p = model.params
    return (f"Run: {p.festival.format} format, {p.platform.policy} policy, festival discount {p.festival.discount:.0%}, "
            f"{p.consumers.n:,} consumers, seed {model.run_seed}. Each step is one hour; Reset rebuilds the run with the "
            f"controls on the left and simulates its {p.season.warmup_days}-day warm-up (not recorded), so step 1 is "
            f"the season's first hour. Festival windows are shaded.")


@solara.component
def Summary(model: DashboardModel):
    update_counter.get()
    with solara.Column(gap="0px", style={"padding": "8px 16px 0 16px"}):
        solara.Text(summary_text(model), classes=["d11-summary"], style={"font-size": "15px", "font-weight": "600"})
        solara.Text(settings_text(model), classes=["d11-settings"], style={"font-size": "13px", "color": "#555"})
        if model.input_error:
            solara.Error(model.input_error, classes=["d11-error"])
