"""ABC-SMC with pyabc: priors, sampler on the project's executors, a resumable SQLite history.

pyabc does the inference; this module only translates the spec and drives the generations
one at a time, so the command line can show a progress bar per generation and a Ctrl-C
loses at most the generation in progress (each finished one is in ``abc.db``).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from sim.experiments.calibration.simulate import Simulator, distance
from sim.experiments.calibration.spec import Spec

DB_NAME = "abc.db"


def import_pyabc() -> Any:
    """pyabc is an optional extra: a missing install is a one-line message, not a traceback."""
    try:
        import logging

        import pyabc
    except ImportError as exc:
        from sim.experiments.calibration import CalibrationError

        raise CalibrationError(f"calibrate needs pyabc: pip install -e '.[calibrate]' ({exc})") from None
    for name in ("ABC", "Sampler", "Epsilon", "Distance", "Acceptor", "History", "Population", "pyabc"):
        logging.getLogger(name if name == "pyabc" else f"ABC.{name}").setLevel(logging.WARNING)
    logging.getLogger("ABC").setLevel(logging.WARNING)
    return pyabc


def prior(spec: Spec) -> Any:
    """pyabc's joint prior: independent marginals, truncated to [low, high]."""
    pyabc = import_pyabc()
    rvs = {}
    for key, p in spec.priors.items():
        if p.distribution == "uniform":
            rvs[key] = pyabc.RV("uniform", p.low, p.high - p.low)
        elif p.distribution == "normal":
            rvs[key] = pyabc.RV("truncnorm", (p.low - p.mean) / p.sd, (p.high - p.mean) / p.sd, loc=p.mean, scale=p.sd)
        else:  # loguniform
            rvs[key] = pyabc.RV("loguniform", p.low, p.high)
    return pyabc.Distribution(**rvs)


def observed(spec: Spec) -> dict[str, float]:
    return {t.name: t.observed for t in spec.targets}


@contextlib.contextmanager
def sampler(workers: int, cluster: str | None, cluster_options: dict[str, Any] | None) -> Iterator[Any]:
    """Single core, local processes (fork), or Dask on the project's executors (local, address, Slurm, PBS)."""
    pyabc = import_pyabc()
    if cluster is None:
        yield (pyabc.sampler.SingleCoreSampler() if workers == 1
               else pyabc.sampler.MulticoreEvalParallelSampler(n_procs=workers))
        return
    from sim.experiments.execute import dask_client

    with dask_client(cluster, workers, cluster_options) as client:
        yield pyabc.sampler.DaskDistributedSampler(dask_client=client, batch_size=1)


@dataclass
class Generation:
    t: int
    epsilon: float
    acceptance_rate: float
    simulations: int


def db_url(out: Path) -> str:
    return f"sqlite:///{(Path(out) / DB_NAME).absolute()}"


def run_abc(spec: Spec, out: Path, *, workers: int, cluster: str | None = None,
            cluster_options: dict[str, Any] | None = None, resume: bool = False, progress: bool = True) -> Any:
    """Run (or continue) the ABC-SMC of ``spec`` in ``out``; returns pyabc's History."""
    pyabc = import_pyabc()
    m = spec.method
    np.random.seed(spec.seed)  # pyabc draws proposals from numpy's global generator (in this process)
    eps = (pyabc.ListEpsilon(list(m.epsilon_schedule)) if m.epsilon_schedule
           else pyabc.QuantileEpsilon(alpha=m.epsilon_alpha))
    with sampler(workers, cluster, cluster_options) as smp:
        abc = pyabc.ABCSMC(Simulator(spec), prior(spec), distance(spec), population_size=m.population_size,
                           sampler=smp, eps=eps)
        run_id = pyabc.History(db_url(out)).id if resume and (out / DB_NAME).exists() else None
        if run_id is not None:  # continue the stored run after its last finished generation
            abc.load(db_url(out), run_id)
        else:
            abc.new(db_url(out), observed(spec))
        done = abc.history.max_t + 1
        remaining = m.max_generations - done
        if remaining <= 0 or _converged(abc.history, m.min_epsilon):
            return abc.history
        started = time.perf_counter()
        t0 = abc.initialize_components_before_run(
            minimum_epsilon=m.min_epsilon, max_nr_populations=remaining, min_acceptance_rate=m.min_acceptance_rate,
            max_total_nr_simulations=m.max_simulations, max_walltime=timedelta(minutes=m.max_minutes),
            min_eps_diff=0.0)
        with _bar(m.max_generations, done, progress) as bar:
            t = t0
            while True:
                ret = abc.run_generation(t=t)
                gen = _generation(abc.history, t)
                bar.update(1)
                bar.set_postfix(eps=f"{gen.epsilon:.2f}", acc=f"{gen.acceptance_rate:.2f}",
                                sims=abc.history.total_nr_simulations,
                                min=f"{(time.perf_counter() - started) / 60:.0f}")
                if not ret["successful"] or abc.check_terminate(t=t, acceptance_rate=ret["acceptance_rate"]):
                    break
                t += 1
        return abc.history


def _converged(history: Any, min_epsilon: float) -> bool:
    pops = history.get_all_populations()
    last = pops[pops.t >= 0]
    return bool(len(last)) and float(last.epsilon.iloc[-1]) <= min_epsilon


def _generation(history: Any, t: int) -> Generation:
    pops = history.get_all_populations().set_index("t")
    row = pops.loc[t]
    return Generation(t=t, epsilon=float(row.epsilon), acceptance_rate=float(row.particles / max(row.samples, 1)),
                      simulations=int(row.samples))


@contextlib.contextmanager
def _bar(total: int, initial: int, enabled: bool) -> Iterator[Any]:
    from tqdm import tqdm

    bar = tqdm(total=total, initial=initial, unit="generation", disable=not enabled, dynamic_ncols=True)
    try:
        yield bar
    finally:
        bar.close()


def load_history(out: Path) -> Any:
    pyabc = import_pyabc()
    path = Path(out) / DB_NAME
    if not path.exists():
        from sim.experiments.calibration import CalibrationError

        raise CalibrationError(f"{out}: no {DB_NAME} (not a calibration folder)")
    history = pyabc.History(db_url(out))
    return history


def generations(history: Any) -> list[Generation]:
    """Every finished generation (t >= 0) of a history."""
    pops = history.get_all_populations()
    return [_generation(history, int(t)) for t in pops.t if t >= 0]
