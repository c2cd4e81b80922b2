"""One calibration simulation: free parameter values -> the targets' statistics.

A picklable callable, so pyabc's multicore and Dask samplers can ship it to workers. Its
seed is derived from the spec's seed and the parameter values, so every simulation is
reproducible from what the history stores (pyabc reseeds its worker processes itself).
"""

from __future__ import annotations

import hashlib
import signal
import struct
from typing import Any, Mapping

import numpy as np

from sim.model.runs import run_model
from sim.experiments.calibration import stats
from sim.experiments.calibration.spec import Spec, typed_values


def simulation_seed(root: int, values: Mapping[str, float], replicate: int = 0) -> int:
    """A seed that is a function of the root seed, the (sorted) parameter values and a replicate number."""
    h = hashlib.sha256(struct.pack("<QQ", root, replicate))
    for key in sorted(values):
        h.update(key.encode() + struct.pack("<d", float(values[key])))
    return int.from_bytes(h.digest()[:4], "little")


class Simulator:
    """Callable: ``{key: value}`` of the free parameters -> ``{target name: statistic}``."""

    def __init__(self, spec: Spec, consumers: int | None = None, replicate: int = 0) -> None:
        self.spec = spec
        self.consumers = consumers
        self.replicate = replicate  # ABC simulations use 0; predictive draw r uses r + 1

    def hourly(self, values: Mapping[str, float]) -> Any:
        _quiet_interrupts()
        values = {k: float(v) for k, v in values.items()}
        params = self.spec.params(typed_values(values), consumers=self.consumers)
        seed = simulation_seed(self.spec.seed, values, self.replicate)
        return run_model(params, seed=seed, counterfactual=False).hourly

    def statistics(self, hourly: Any) -> dict[str, float]:
        return {t.name: stats.compute(hourly, t.statistic, t.at) for t in self.spec.targets}

    def __call__(self, values: Mapping[str, float]) -> dict[str, float]:
        return self.statistics(self.hourly(values))


def _quiet_interrupts() -> None:
    """In a worker process, Ctrl-C is the parent's to handle: no traceback per worker."""
    import multiprocessing
    import threading

    # pyabc's multicore workers are forked children; Dask runs tasks in threads, which cannot set handlers
    if multiprocessing.parent_process() is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def distance(spec: Spec):
    """Euclidean distance in units of each target's sd, over the targets that are fitted (a plain function pyabc wraps)."""
    fitted = [t for t in spec.targets if t.fit]
    names = [t.name for t in fitted]
    scale = np.array([t.sd for t in fitted])

    def dist(x: Mapping[str, float], x0: Mapping[str, float]) -> float:
        a = np.array([x[n] for n in names], dtype=float)
        b = np.array([x0[n] for n in names], dtype=float)
        d = (a - b) / scale
        return float(np.sqrt(np.sum(d * d))) if np.all(np.isfinite(d)) else float("inf")

    return dist
