"""Agent-based simulation of the retail ecosystem around the Double 11 shopping festival.

Three layers, each importing only the ones before it (tests/test_layers.py):
``sim.model`` (parameters, calendar, the Mesa model, agents, market, kernels, metrics),
``sim.experiments`` (runs, scenarios, execution, sweeps, calibration) and ``sim.app`` (the
command line, output folders, report, dashboard).

The public API, for scripts and notebooks::

    import sim
    params = sim.build_params({"festival.format": "two_waves"})
    result = sim.run_model(params, seed=1)                 # one run (+ paired `none` run)
    scenario = sim.load_scenario("formats")                 # or sim.make_scenario(...)
    study = sim.run_scenario(scenario, workers=2)           # tables: runs, comparison, hourly

Names are loaded lazily, so `import sim.model.params` stays cheap and does not pull in the
model, the executors or matplotlib.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Params": "model.params", "build_params": "model.params", "ParameterError": "model.params",
    "describe": "model.params", "FORMATS": "model.params", "POLICIES": "model.params", "MIN_CONSUMERS": "model.params",
    "run_model": "model.runs", "RunResult": "model.runs", "derive_seed": "model.runs",
    "RUN_METRICS": "model.metrics", "ARCHETYPES": "model.metrics", "VENUE_TYPES": "model.metrics",
    "Scenario": "experiments.scenarios", "Arm": "experiments.scenarios", "ScenarioError": "experiments.scenarios",
    "ScenarioResult": "experiments.scenarios", "make_scenario": "experiments.scenarios",
    "load_scenario": "experiments.scenarios", "list_scenarios": "experiments.scenarios",
    "run_scenario": "experiments.scenarios",
    "Task": "experiments.execute", "Outcome": "experiments.execute", "execute": "experiments.execute",
    "load_spec": "experiments.sweeps",
    "comparison_table": "experiments.stats",
    "sweep_main": "app.cli.sweep", "run_sweep": "app.sweeps", "rebuild_sweep": "app.sweeps",
    "write_report": "app.report", "write_results": "app.report", "rebuild_report": "app.report",
    "main": "app.cli",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
