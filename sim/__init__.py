"""Agent-based simulation of the retail ecosystem around the Double 11 shopping festival.

The public API, for scripts and notebooks::

    import sim
    params = sim.build_params({"festival.format": "two_waves"})
    result = sim.run_model(params, seed=1)                 # one run (+ paired `none` run)
    scenario = sim.load_scenario("formats")                 # or sim.make_scenario(...)
    study = sim.run_scenario(scenario, workers=2)           # tables: runs, comparison, hourly

Names are loaded lazily, so `import sim.params` stays cheap and does not pull in the
model, the executors or matplotlib.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Params": "params", "build_params": "params", "ParameterError": "params", "describe": "params",
    "FORMATS": "params", "POLICIES": "params", "MIN_CONSUMERS": "params",
    "run_model": "runs", "RunResult": "runs", "derive_seed": "runs",
    "RUN_METRICS": "metrics", "ARCHETYPES": "metrics", "VENUE_TYPES": "metrics",
    "Scenario": "scenarios", "Arm": "scenarios", "ScenarioError": "scenarios", "ScenarioResult": "scenarios",
    "make_scenario": "scenarios", "load_scenario": "scenarios", "list_scenarios": "scenarios",
    "run_scenario": "scenarios",
    "Task": "execute", "Outcome": "execute", "execute": "execute",
    "sweep_main": "sweeps", "run_sweep": "sweeps", "rebuild_sweep": "sweeps", "load_spec": "sweeps",
    "comparison_table": "report", "write_report": "report", "write_results": "report", "rebuild_report": "report",
    "main": "cli",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
