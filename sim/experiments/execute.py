"""Run many model runs on local processes or Dask, chunked, streamed and resumable.

Both the scenario runner and the sweep runner hand a list of :class:`Task` to
:func:`execute`; every executor (in-process, process pool, Dask) calls the same
:func:`run_task`, so a run's result depends only on its task, never on where or in
which order it ran. Finished chunks are written atomically by a :class:`ResultStore`,
so an interrupted job loses only the chunks in flight and ``execute`` with the same
store runs only what is missing.
"""

from __future__ import annotations

import fcntl
import importlib
import logging
import math
import multiprocessing
import os
import signal
import uuid
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import pandas as pd
from tqdm.auto import tqdm

from sim.model.params import Params

RunFn = Callable[..., Any]
"""``run_fn(params, seed, counterfactual=...) -> RunResult-like`` (``.summary``, ``.hourly``)."""

MAX_CHUNK = 32  # caps the work lost on interruption and keeps the progress bar moving
CHUNKS_PER_WORKER = 8  # small chunks even out the tail; each is still several runs
JOBQUEUE_KINDS = ("slurm", "pbs")
CODE_ROOT = Path(__file__).resolve().parents[2]  # the folder that holds the sim package
RESERVED_COLUMNS = ("index", "seed", "counterfactual", "error")


@dataclass(frozen=True)
class Task:
    """One model run; ``index`` is its position in the whole job and fixes output order."""

    index: int
    params: Params
    seed: int
    counterfactual: bool = True
    labels: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    """The result of one task: ``summary`` is None and ``error`` set if the run failed."""

    task: Task
    summary: dict[str, float] | None
    hourly: pd.DataFrame | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


def _default_run_fn() -> RunFn:
    from sim.model.runs import run_model  # imported late: workers import the model only when they run it

    return run_model


def run_task(task: Task, keep_hourly: bool = True, run_fn: RunFn | None = None) -> Outcome:
    """Run one task, turning any exception into ``Outcome.error`` so one bad run never stops a job."""
    try:
        fn = run_fn or _default_run_fn()
        result = fn(task.params, task.seed, counterfactual=task.counterfactual)
        summary = {str(k): float(v) for k, v in result.summary.items()}
        hourly = result.hourly if keep_hourly else None
        return Outcome(task, summary, hourly, None)
    except Exception as exc:  # noqa: BLE001 - the contract is to record, not to crash
        if _interrupted(exc):
            raise KeyboardInterrupt from exc
        return Outcome(task, None, None, f"{type(exc).__name__}: {exc}")


def _interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` is a Ctrl-C in disguise: one that lands while compiled code calls back into Python
    comes out as numba's "SystemError: ... returned a result with an exception set", caused by the
    KeyboardInterrupt. Recorded as a failed run, it let the study go on and resume skip that run."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def run_chunk(tasks: Sequence[Task], keep_hourly: bool = True, run_fn: RunFn | None = None) -> list[Outcome]:
    """The unit of work shipped to a worker: a few tasks, to amortise scheduling overhead."""
    return [run_task(t, keep_hourly, run_fn) for t in tasks]


def default_chunk_size(n_tasks: int, workers: int) -> int:
    """About eight chunks per worker, at least one task each, at most ``MAX_CHUNK``."""
    return max(1, min(MAX_CHUNK, math.ceil(n_tasks / (CHUNKS_PER_WORKER * max(1, workers)))))


def chunked(tasks: Sequence[Task], size: int) -> list[list[Task]]:
    ordered = sorted(tasks, key=lambda t: t.index)
    return [ordered[i:i + size] for i in range(0, len(ordered), size)]


# --------------------------------------------------------------------------- store


class ResultStore:
    """Chunk files under ``dir/chunks/``: one summary parquet per chunk (+ hourly if kept).

    A chunk's summary file is written last and atomically (tmp file + ``os.replace``), so
    its presence means the whole chunk is on disk; resume trusts only those files. One job
    writes to a store at a time.
    """

    def __init__(self, directory: str | os.PathLike[str], keep_hourly: bool = True) -> None:
        self.dir = Path(directory)
        self.chunks = self.dir / "chunks"
        self.keep_hourly = keep_hourly
        self.chunks.mkdir(parents=True, exist_ok=True)
        for stale in self.chunks.glob(".*.tmp"):  # a writer killed mid-write (SIGKILL skips its cleanup)
            stale.unlink(missing_ok=True)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the store for one job; the OS drops the lock if the job dies, so it never goes stale.

        The lock file is removed when the job ends (finished or interrupted), so a finished
        folder holds only results. A job that opened the file just before it was removed
        would lock a deleted file: the inode check turns that into "busy" instead.
        """
        path = self.dir / ".lock"
        busy = f"{self.dir}: another job is writing to this folder; wait for it to finish"
        with open(path, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise BlockingIOError(busy) from None
            try:
                if os.fstat(handle.fileno()).st_ino != os.stat(path).st_ino:
                    raise BlockingIOError(busy)
            except FileNotFoundError:
                raise BlockingIOError(busy) from None
            try:
                yield
            finally:
                path.unlink(missing_ok=True)  # still holding the lock

    def _summary_files(self) -> list[Path]:
        return sorted(self.chunks.glob("runs-*.parquet"))

    def write_chunk(self, outcomes: Sequence[Outcome]) -> Path:
        """Write one finished chunk; hourly first, summary last (the completion marker)."""
        indices = sorted(o.task.index for o in outcomes)
        stem = f"{indices[0]:09d}-{indices[-1]:09d}"
        if self.keep_hourly:
            frames = [o.hourly.assign(index=o.task.index) for o in outcomes if o.hourly is not None]
            if frames:
                _atomic_parquet(pd.concat(frames, ignore_index=True), self.chunks / f"hourly-{stem}.parquet")
        target = self.chunks / f"runs-{stem}.parquet"
        _atomic_parquet(outcome_rows(outcomes), target)
        return target

    def completed_indices(self) -> set[int]:
        done: set[int] = set()
        for path in self._summary_files():
            done.update(int(i) for i in pd.read_parquet(path, columns=["index"])["index"])
        return done

    def load(self) -> pd.DataFrame:
        """Every stored run as one row (labels, index, seed, metrics, error), sorted by index."""
        files = self._summary_files()
        if not files:
            return pd.DataFrame(columns=list(RESERVED_COLUMNS))
        rows = pd.concat([pd.read_parquet(p) for p in files], ignore_index=True)
        return rows.sort_values("index", kind="stable").drop_duplicates("index", keep="last").reset_index(drop=True)

    def load_hourly(self, indices: Iterable[int] | None = None) -> dict[int, pd.DataFrame]:
        wanted = None if indices is None else set(indices)
        out: dict[int, pd.DataFrame] = {}
        for path in sorted(self.chunks.glob("hourly-*.parquet")):
            frame = pd.read_parquet(path)
            for index, part in frame.groupby("index", sort=True):
                if wanted is None or int(index) in wanted:
                    out[int(index)] = part.drop(columns="index").reset_index(drop=True)
        return out

    def outcomes(self, tasks: Sequence[Task]) -> list[Outcome]:
        """Rebuild outcomes of ``tasks`` that are in the store (tasks supply params and labels)."""
        rows = self.load()
        by_index = {int(r["index"]): r for r in rows.to_dict("records")}
        wanted = [t for t in tasks if t.index in by_index]
        hourly = self.load_hourly(t.index for t in wanted) if self.keep_hourly else {}
        return [_outcome_from_row(t, by_index[t.index], hourly.get(t.index)) for t in wanted]


def outcome_rows(outcomes: Sequence[Outcome]) -> pd.DataFrame:
    """One row per outcome: labels, index, seed, counterfactual, every metric, error."""
    records = []
    for o in sorted(outcomes, key=lambda o: o.task.index):
        row: dict[str, Any] = dict(o.task.labels)
        row.update(index=o.task.index, seed=o.task.seed, counterfactual=o.task.counterfactual)
        row.update(o.summary or {})
        row["error"] = o.error
        records.append(row)
    frame = pd.DataFrame.from_records(records)
    if "error" in frame:
        frame["error"] = frame["error"].astype(object)
    return frame


def _outcome_from_row(task: Task, row: dict[str, Any], hourly: pd.DataFrame | None) -> Outcome:
    error = row.get("error")
    if error is None or (isinstance(error, float) and math.isnan(error)):
        skip = set(RESERVED_COLUMNS) | set(task.labels)
        summary = {k: float(v) for k, v in row.items() if k not in skip}
        return Outcome(task, summary, hourly, None)
    return Outcome(task, None, None, str(error))


def _atomic_parquet(frame: pd.DataFrame, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        frame.to_parquet(tmp, index=False, compression="zstd")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- executors


def execute(
    tasks: Sequence[Task],
    *,
    workers: int | None = None,
    cluster: str | None = None,
    chunk_size: int | None = None,
    keep_hourly: bool = True,
    progress: bool = True,
    store: ResultStore | None = None,
    run_fn: RunFn | None = None,
    cluster_options: dict[str, Any] | None = None,
) -> list[Outcome]:
    """Run ``tasks`` and return one outcome per task, sorted by ``task.index``.

    ``workers``: None = all cores, 1 = in this process. ``cluster``: None = local
    processes; ``"local"`` = a Dask LocalCluster with ``workers`` workers; a
    ``tcp://host:port`` address = an existing Dask scheduler; ``"slurm"``/``"pbs"`` =
    a dask-jobqueue cluster configured by ``cluster_options``. With a ``store``, tasks
    already stored are not re-run and each finished chunk is written as it arrives.
    """
    _check_tasks(tasks)
    workers = resolve_workers(workers)
    with store.lock() if store is not None else nullcontext():
        return _execute(tasks, workers, cluster, chunk_size, keep_hourly, progress, store, run_fn, cluster_options)


def _execute(tasks: Sequence[Task], workers: int, cluster: str | None, chunk_size: int | None, keep_hourly: bool,
             progress: bool, store: ResultStore | None, run_fn: RunFn | None,
             cluster_options: dict[str, Any] | None) -> list[Outcome]:
    done = store.completed_indices() if store is not None else set()
    pending = [t for t in tasks if t.index not in done]
    outcomes = store.outcomes([t for t in tasks if t.index in done]) if store is not None else []
    if pending:
        failed = sum(not o.ok for o in outcomes)
        with _progress(len(pending), progress) as bar, _submitter(workers, cluster, cluster_options) as (submit, slots):
            chunks = chunked(pending, chunk_size or default_chunk_size(len(pending), slots))
            for chunk_outcomes, stored in _stream(submit, chunks, keep_hourly, run_fn):
                if store is not None and stored:
                    store.write_chunk(chunk_outcomes)
                outcomes.extend(chunk_outcomes)
                failed += sum(not o.ok for o in chunk_outcomes)
                bar.set_postfix(failed=failed, refresh=False)
                bar.update(len(chunk_outcomes))
    return sorted(outcomes, key=lambda o: o.task.index)


def _check_tasks(tasks: Sequence[Task]) -> None:
    indices = [t.index for t in tasks]
    if len(set(indices)) != len(indices):
        raise ValueError("task indices must be unique")
    clashes = {k for t in tasks for k in t.labels} & set(RESERVED_COLUMNS)
    if clashes:
        raise ValueError(f"task labels must not use the reserved column name(s) {', '.join(sorted(clashes))}")


def resolve_workers(workers: int | None) -> int:
    if workers is None:
        return os.cpu_count() or 1
    if workers < 1:
        raise ValueError(f"workers must be at least 1 (got {workers})")
    return workers


Submit = Callable[[list[Task], bool, "RunFn | None"], Future]


def _stream(
    submit: Submit | None, chunks: list[list[Task]], keep_hourly: bool, run_fn: RunFn | None
) -> Iterator[tuple[list[Outcome], bool]]:
    """Yield (outcomes, storable) per chunk as chunks complete.

    A chunk whose worker died (not a run error, which ``run_task`` records) comes back as
    failures that are *not* storable, so a resume retries it.
    """
    if submit is None:  # in-process
        for chunk in chunks:
            yield run_chunk(chunk, keep_hourly, run_fn), True
        return
    futures = {submit(chunk, keep_hourly, run_fn): chunk for chunk in chunks}
    for future in _as_completed(futures):
        chunk = futures.pop(future)
        try:
            yield future.result(), True
        except Exception as exc:  # noqa: BLE001 - a lost worker fails its chunk, not the job
            message = f"{type(exc).__name__}: {exc}"
            yield [Outcome(t, None, None, message) for t in chunk], False


def _as_completed(futures: dict[Any, list[Task]]) -> Iterator[Any]:
    first = next(iter(futures), None)
    if isinstance(first, Future):
        return as_completed(list(futures))
    from distributed import as_completed as dask_as_completed

    return iter(dask_as_completed(list(futures)))


@contextmanager
def _progress(total: int, enabled: bool) -> Iterator[Any]:
    bar = tqdm(total=total, unit="run", disable=not enabled, dynamic_ncols=True, smoothing=0.1)
    try:
        yield bar
    finally:
        bar.close()


@contextmanager
def _submitter(workers: int, cluster: str | None, options: dict[str, Any] | None) -> Iterator[tuple[Submit | None, int]]:
    """(a function that submits a chunk and returns a future, or None to run in-process; worker slots)."""
    if cluster is None:
        if workers == 1:
            yield None, 1
            return
        context = multiprocessing.get_context("forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn")
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_ignore_sigint)
        try:
            yield (lambda chunk, keep, fn: pool.submit(run_chunk, chunk, keep, fn)), workers
        except BaseException:  # Ctrl-C or an error: stop now, do not wait for chunks in flight
            _stop_pool(pool)
            raise
        pool.shutdown(wait=True)
        return
    with dask_client(cluster, workers, options) as client:
        if cluster == "local":
            slots = workers
        elif cluster in JOBQUEUE_KINDS:  # workers join as jobs start: size chunks for the full cluster
            settings, jobs = jobqueue_settings(options or {})
            slots = jobs * settings["processes"]
        else:
            slots = sum(client.nthreads().values()) or workers
        yield (lambda chunk, keep, fn: client.submit(run_chunk, chunk, keep, fn, pure=False)), slots


def _ignore_sigint() -> None:
    """Worker initializer: Ctrl-C goes to the whole process group, but only the parent handles it.

    The parent then stops the workers itself, so there are no worker tracebacks and no
    worker left half-way through a chunk write.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def dask_setup(worker: Any) -> None:
    """Run by Dask in each ``--cluster local`` worker, which preloads this module: those workers are
    children in the terminal's process group too, and leave Ctrl-C to the parent as the pool's do."""
    _ignore_sigint()


def _stop_pool(pool: ProcessPoolExecutor, grace: float = 5.0) -> None:
    """Terminate the pool's workers and reap them, then shut the pool down.

    ``shutdown(cancel_futures=True)`` alone can hang forever when interrupted while
    workers wait for work (CPython gh-94440); terminating the workers first makes the
    pool's manager thread see them gone and exit, so the parent returns within seconds.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(grace)
        if process.is_alive():
            process.kill()
            process.join()
    pool.shutdown(wait=True, cancel_futures=True)


SCHEDULER_TIMEOUT_S = 10  # a scheduler that exists answers in well under a second, even across a site


class ClusterError(OSError):
    """The cluster's workers cannot run the model (reported in one line, exit status 2)."""


def check_workers_import_the_model(client: Any, package: str = "sim", logs: str | None = None) -> None:
    """Fail now, in one line, if the cluster's workers cannot import ``package``: otherwise each worker
    dies unpickling its first task and the study waits for workers that never come back.
    The probe is a standard-library function, which every worker can unpickle."""
    from distributed import wait

    probe = client.submit(importlib.import_module, package, pure=False)
    wait([probe])
    if probe.status == "error":
        error = probe.exception()
        raise ClusterError(f"cluster: the workers cannot import the model ({type(error).__name__}: {error}); install "
                           f"this project where they run (pip install -e .) or run from a folder they share "
                           f"(this one is {CODE_ROOT})" + (f"; worker logs in {logs}" if logs else ""))
    probe.release()


@contextmanager
def dask_client(cluster: str, workers: int, options: dict[str, Any] | None = None) -> Iterator[Any]:
    """A Dask client for ``cluster`` (see :func:`execute`); clusters it starts, it also stops."""
    from distributed import Client, LocalCluster

    check_cluster(cluster)
    options = dict(options or {})
    if cluster == "local":
        local = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                             preload=[__name__], silence_logs=logging.ERROR, **options)
        with local, Client(local) as client:
            yield client
    elif cluster in JOBQUEUE_KINDS:
        with jobqueue_cluster(cluster, options) as jq, Client(jq) as client:
            check_workers_import_the_model(client, logs=options.get("log_directory"))
            yield client
    else:
        options.setdefault("timeout", SCHEDULER_TIMEOUT_S)
        try:
            client = Client(cluster, **options)
        except OSError as exc:  # refused, unreachable or not a scheduler: distributed retries until the timeout
            raise ClusterError(f"cluster: no Dask scheduler answers at {cluster} ({exc})") from None
        with client:
            check_workers_import_the_model(client)
            yield client


def check_cluster(cluster: str | None) -> None:
    """Reject a ``cluster`` value before any work starts (one line, for the command line)."""
    if cluster is not None and cluster not in ("local", *JOBQUEUE_KINDS) and "://" not in cluster:
        raise ValueError(f"cluster: expected 'local', 'slurm', 'pbs' or a scheduler address like tcp://host:8786 (got {cluster!r})")


JOBQUEUE_KEYS = ("queue", "account", "cores", "processes", "memory", "walltime", "jobs", "job_extra_directives",
                 "job_script_prologue", "local_directory", "log_directory", "interface", "python")


def jobqueue_settings(options: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """dask-jobqueue cluster keywords and the number of batch jobs, with defaults filled in."""
    unknown = sorted(set(options) - set(JOBQUEUE_KEYS))
    if unknown:
        raise ValueError(f"cluster options: unknown key(s) {', '.join(unknown)}; known: {', '.join(JOBQUEUE_KEYS)}")
    settings = {"cores": 1, "walltime": "01:00:00", **options}
    jobs = int(settings.pop("jobs", 1))
    # Batch jobs import the code this process runs, where they share its filesystem (a clone need not be
    # installed on the nodes, and an older installed copy does not win); elsewhere the path is ignored.
    given = settings.get("job_script_prologue", [])
    settings["job_script_prologue"] = [f'export PYTHONPATH="{CODE_ROOT}${{PYTHONPATH:+:$PYTHONPATH}}"',
                                       *([given] if isinstance(given, str) else given)]  # one line from the command line
    settings.setdefault("processes", settings["cores"])  # one single-threaded worker per core: runs are CPU-bound
    settings.setdefault("memory", f"{2 * int(settings['cores'])}GB")  # per job; a run needs well under 2 GB
    return settings, jobs


@contextmanager
def jobqueue_cluster(kind: str, options: dict[str, Any]) -> Iterator[Any]:
    """Start a SLURM/PBS cluster of ``jobs`` batch jobs, each one worker process per core."""
    import dask_jobqueue

    settings, jobs = jobqueue_settings(options)
    cls = dask_jobqueue.SLURMCluster if kind == "slurm" else dask_jobqueue.PBSCluster
    with cls(**settings) as jq:
        jq.scale(jobs=jobs)
        yield jq
