"""The Solara app of `python run.py dashboard`: SolaraViz on one Double 11 run.

Serve it with `python run.py dashboard` (or `solara run sim.app.dashboard.app`).
"""

from __future__ import annotations

import solara
from mesa.visualization import Slider, SolaraViz

from sim.model.params import FORMATS, POLICIES
from sim.app.dashboard.components import SEASON_PLOTS, Summary, make_season_component, make_venue_component
from sim.app.dashboard.model import DEFAULT_CONSUMERS, DEFAULT_SEED, DashboardModel

# Controls; SolaraViz builds DashboardModel(**values) on Reset.
MODEL_PARAMS = {
    "festival_format": {"type": "Select", "value": "single_day", "values": list(FORMATS), "label": "Festival format"},
    "policy": {"type": "Select", "value": "gmv_rank", "values": list(POLICIES), "label": "Platform policy"},
    "discount": Slider("Festival discount (off list price)", value=0.3, min=0.0, max=0.6, step=0.05),
    "consumers": Slider("Simulated consumers", value=DEFAULT_CONSUMERS, min=1000, max=50000, step=1000),
    "seed": {"type": "InputText", "value": DEFAULT_SEED, "label": "Seed"},
}
COMPONENTS = [make_season_component(spec) for spec in SEASON_PLOTS] + [make_venue_component()]


@solara.component
def Page():
    """One model per browser session; the summary line sits above SolaraViz's plots."""
    initial = solara.use_memo(lambda: DashboardModel(**{k: v.value if isinstance(v, Slider) else v["value"]
                                                         for k, v in MODEL_PARAMS.items()}), [])
    model = solara.use_reactive(initial)
    Summary(model.value)
    SolaraViz(model, components=COMPONENTS, model_params=MODEL_PARAMS, name="Double 11: one run, hour by hour",
              play_interval=50)
