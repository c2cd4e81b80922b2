"""Shared test helpers: the CLI as a subprocess, tiny model sizes, and a synthetic run function.

The synthetic ``fake_run`` stands in for run_model where a test is about tables and
reports rather than the model: it returns every contract metric and hourly column,
with known arm effects, in milliseconds.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.model.calendar import festival_windows
from sim.model.metrics import ARCHETYPES, RUN_METRICS, VENUE_TYPES
from sim.model.params import build_params

ROOT = Path(__file__).resolve().parents[1]
# Small enough that a run takes well under a second, big enough to exercise everything.
TINY = ["--set", "consumers.n=1500", "--set", "season.start=2026-10-25", "--set", "season.end=2026-11-20"]


def lower_bound(x: np.ndarray) -> float:
    """One-sided 95% lower confidence bound of the mean over replications."""
    return x.mean() - stats.t.ppf(0.95, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))


def format_windows(fmt: str, start: dt.date = dt.date(2026, 10, 15)) -> list:
    """A named format's windows in hours from ``start`` (by default the season's first recorded hour)."""
    return festival_windows(build_params({"festival.format": fmt}).festival, start.year, start)


SHORT_SEASON = {"consumers.n": 3000, "season.start": "2026-10-28", "season.end": "2026-11-16", "season.warmup_days": 7}


def run_digest(overrides: dict, seed: int) -> str:
    """A hash of a short run's summary and whole hourly table: equal digests, bit-identical runs."""
    import hashlib

    from sim.model.runs import run_model

    result = run_model({**SHORT_SEASON, **overrides}, seed=seed, counterfactual=False)
    digest = hashlib.sha256(repr(sorted(result.summary.items())).encode())
    digest.update(pd.util.hash_pandas_object(result.hourly, index=True).values.tobytes())
    return digest.hexdigest()


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    """`python run.py ARGS` as a user would type it."""
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *args], cwd=cwd or ROOT, capture_output=True,
                          text=True, timeout=timeout)


FORMAT_EFFECT = {"none": 0.0, "single_day": 1.0, "two_waves": 1.3, "continuous": 1.1}


def fake_run(params, seed, counterfactual=True):
    """A deterministic stand-in for run_model: metrics depend on format, policy and seed (shared noise per seed)."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=len(RUN_METRICS))  # same draw in every arm of a replication (common random numbers)
    effect = FORMAT_EFFECT[params.festival.format] + (0.2 if "quality_feedback" in params.platform.policy else 0.0)
    summary = {m: float(1e9 * (1 + 0.1 * effect) + 1e7 * z) if m.startswith(("gmv", "brand", "consumer", "platform"))
               else float(0.3 + 0.05 * effect + 0.01 * z) for m, z in zip(RUN_METRICS, noise)}
    if params.consumers.n == 13:  # a run that fails, to test failure handling
        raise RuntimeError("synthetic failure")
    hours = 24 * 6
    time = pd.date_range("2026-11-08", periods=hours, freq="h")
    base = 1e6 * (1 + 0.5 * np.sin(np.arange(hours) / 24 * 2 * np.pi)) * (1 + 0.1 * effect) + rng.normal(0, 1e4, hours)
    hourly = pd.DataFrame({"hour": np.arange(hours), "time": time, "gmv": base, "orders": base / 100,
                           "logistics_backlog": base / 50, "hhi_24h": 800 + 10 * effect + np.arange(hours)})
    for v in VENUE_TYPES:
        hourly[f"gmv_venue_{v}"] = base / len(VENUE_TYPES) * (2 if v == "tmall_online" else 1)
    for i, a in enumerate(ARCHETYPES):
        hourly[f"gmv_arch_{a}"] = base * (i + 1) / 6
        hourly[f"discount_arch_{a}"] = 0.1 * (i + 1)
        hourly[f"stock_cover_arch_{a}"] = 5.0 + i
    return SimpleNamespace(summary=summary, hourly=hourly)


@pytest.fixture
def fake_run_fn():
    return fake_run
