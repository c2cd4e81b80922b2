"""Executors give identical, index-ordered results; failures are recorded; stores resume."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.experiments.execute import Outcome, ResultStore, Task, default_chunk_size, execute, run_task
from sim.model.params import build_params

BASE = build_params({"consumers.n": 1000})
CALLS: list[int] = []


@dataclass
class FakeResult:
    summary: dict[str, float]
    hourly: pd.DataFrame


def fake_run(params, seed, counterfactual=True):
    """Cheap deterministic stand-in for run_model; fails when the discount is 0.99."""
    if params.festival.discount == 0.99:
        raise RuntimeError("discount too deep")
    rng = np.random.default_rng(seed)
    gmv = rng.normal(100.0, 10.0, size=6) * (1 + params.festival.discount)
    summary = {"gmv_total": float(gmv.sum()), "peak_to_mean": float(gmv.max() / gmv.mean()),
               "gmv_incremental": float(gmv[0]) if counterfactual else float("nan")}
    return FakeResult(summary, pd.DataFrame({"hour": np.arange(6), "gmv": gmv}))


def counting_run(params, seed, counterfactual=True):
    CALLS.append(seed)
    return fake_run(params, seed, counterfactual)


def make_tasks(n: int, failing: tuple[int, ...] = ()) -> list[Task]:
    tasks = []
    for i in range(n):
        params = BASE.with_overrides({"festival.discount": 0.99 if i in failing else 0.1 + 0.01 * i})
        tasks.append(Task(index=i, params=params, seed=1000 + i, labels={"arm": f"a{i % 3}", "replication": i // 3}))
    return tasks[::-1]  # unordered on purpose: output order must come from the index


def as_frame(outcomes: list[Outcome]) -> pd.DataFrame:
    return pd.DataFrame([{"index": o.task.index, "error": o.error, **(o.summary or {})} for o in outcomes])


def test_run_task_records_exception_type_and_message():
    out = run_task(make_tasks(1, failing=(0,))[0], run_fn=fake_run)
    assert out.summary is None and out.hourly is None
    assert out.error == "RuntimeError: discount too deep"


def interrupted_in_compiled_code(params, seed, counterfactual=True):
    """A Ctrl-C landing while a numba kernel calls back into Python comes out like this."""
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as exc:
        raise SystemError("CPUDispatcher(<function _shop_hour>) returned a result with an exception set") from exc


def test_a_ctrl_c_that_comes_out_of_compiled_code_as_a_system_error_stops_the_job_not_one_run():
    """In one process (--workers 1, run.py once) it was recorded as a failed run: the study went on,
    exited 0, and --resume skipped the run as done."""
    with pytest.raises(KeyboardInterrupt):
        run_task(make_tasks(1)[0], run_fn=interrupted_in_compiled_code)
    with pytest.raises(KeyboardInterrupt):
        execute(make_tasks(3), workers=1, progress=False, run_fn=interrupted_in_compiled_code)


def test_default_chunk_size_gives_about_eight_chunks_per_worker():
    assert default_chunk_size(80, 2) == 5
    assert default_chunk_size(3, 8) == 1
    assert default_chunk_size(100_000, 2) == 32  # capped: an interruption loses little


def test_one_worker_and_two_processes_give_identical_results():
    tasks = make_tasks(12)
    serial = execute(tasks, workers=1, progress=False, run_fn=fake_run)
    pooled = execute(tasks, workers=2, chunk_size=2, progress=False, run_fn=fake_run)
    assert [o.task.index for o in serial] == list(range(12))
    pd.testing.assert_frame_equal(as_frame(serial), as_frame(pooled))
    for a, b in zip(serial, pooled):
        pd.testing.assert_frame_equal(a.hourly, b.hourly)


def test_failing_task_is_recorded_and_the_others_complete(tmp_path):
    store = ResultStore(tmp_path)
    outcomes = execute(make_tasks(7, failing=(3,)), workers=2, chunk_size=3, progress=False, run_fn=fake_run, store=store)
    assert [o.ok for o in outcomes] == [True, True, True, False, True, True, True]
    assert outcomes[3].error == "RuntimeError: discount too deep"
    rows = store.load()
    assert rows["index"].tolist() == list(range(7))
    assert rows.loc[3, "error"] == "RuntimeError: discount too deep" and np.isnan(rows.loc[3, "gmv_total"])
    assert rows.loc[rows["index"] != 3, "error"].isna().all()


def test_keep_hourly_false_drops_frames():
    outcomes = execute(make_tasks(2), workers=1, keep_hourly=False, progress=False, run_fn=fake_run)
    assert all(o.hourly is None and o.summary for o in outcomes)


def test_resume_runs_only_missing_indices_and_matches_uninterrupted(tmp_path):
    tasks = make_tasks(10)
    full = execute(tasks, workers=1, chunk_size=3, progress=False, run_fn=fake_run)
    store = ResultStore(tmp_path)
    execute([t for t in tasks if t.index < 6], workers=1, chunk_size=3, progress=False, run_fn=fake_run, store=store)
    assert store.completed_indices() == set(range(6))

    CALLS.clear()
    resumed = execute(tasks, workers=1, chunk_size=3, progress=False, run_fn=counting_run, store=ResultStore(tmp_path))
    assert sorted(CALLS) == [1000 + i for i in range(6, 10)]  # only the missing runs ran
    pd.testing.assert_frame_equal(as_frame(resumed), as_frame(full))
    assert [o.task.labels for o in resumed] == [o.task.labels for o in full]
    for a, b in zip(resumed, full):  # hourly frames come back from the store unchanged
        pd.testing.assert_frame_equal(a.hourly, b.hourly)


def test_interrupted_write_leaves_no_partial_files_and_resume_completes(tmp_path, monkeypatch):
    tasks = make_tasks(6)
    original = pd.DataFrame.to_parquet
    writes = {"n": 0}

    def crash_on_third_write(self, path, *args, **kwargs):
        writes["n"] += 1
        if writes["n"] == 3:  # chunk 2's hourly file: die half-way through writing it
            with open(path, "wb") as fh:
                fh.write(b"PAR1 truncated")
            raise KeyboardInterrupt
        return original(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", crash_on_third_write)
    with pytest.raises(KeyboardInterrupt):
        execute(tasks, workers=1, chunk_size=3, progress=False, run_fn=fake_run, store=ResultStore(tmp_path))
    monkeypatch.setattr(pd.DataFrame, "to_parquet", original)

    files = sorted(p.name for p in (tmp_path / "chunks").iterdir())
    assert files == ["hourly-000000000-000000002.parquet", "runs-000000000-000000002.parquet"]
    store = ResultStore(tmp_path)
    assert store.completed_indices() == {0, 1, 2}
    resumed = execute(tasks, workers=1, chunk_size=3, progress=False, run_fn=fake_run, store=store)
    pd.testing.assert_frame_equal(as_frame(resumed), as_frame(execute(tasks, workers=1, progress=False, run_fn=fake_run)))


def test_duplicate_indices_and_reserved_labels_are_rejected():
    task = make_tasks(1)[0]
    with pytest.raises(ValueError, match="unique"):
        execute([task, task], workers=1, progress=False, run_fn=fake_run)
    bad = Task(index=0, params=BASE, seed=1, labels={"seed": 3})
    with pytest.raises(ValueError, match="reserved"):
        execute([bad], workers=1, progress=False, run_fn=fake_run)


def test_real_model_tiny_runs_identical_in_process_and_pool():
    runs = pytest.importorskip("sim.model.runs", exc_type=ImportError)
    params = build_params({"consumers.n": 300, "brands.n": 12, "season.start": "2026-11-01", "season.end": "2026-11-14"})
    tasks = [Task(index=i, params=params, seed=runs.derive_seed(7, i), counterfactual=False) for i in range(2)]
    serial = execute(tasks, workers=1, progress=False, keep_hourly=False)
    pooled = execute(tasks, workers=2, progress=False, keep_hourly=False)
    assert all(o.ok for o in serial), [o.error for o in serial]
    pd.testing.assert_frame_equal(as_frame(serial), as_frame(pooled))


def test_cluster_settings_are_checked_before_any_work():
    from sim.experiments.execute import CODE_ROOT, check_cluster, jobqueue_cluster, jobqueue_settings

    for ok in (None, "local", "slurm", "pbs", "tcp://scheduler:8786"):
        check_cluster(ok)
    with pytest.raises(ValueError, match="cluster: expected"):
        check_cluster("slurmm")
    settings, jobs = jobqueue_settings({"queue": "q", "cores": 8, "jobs": 4, "job_script_prologue": ["module load x"]})
    prologue = settings.pop("job_script_prologue")
    assert jobs == 4 and settings == {"queue": "q", "cores": 8, "processes": 8, "memory": "16GB", "walltime": "01:00:00"}
    # batch jobs import this checkout's code first (where they share its folder), then the user's prologue runs
    assert prologue == [f'export PYTHONPATH="{CODE_ROOT}${{PYTHONPATH:+:$PYTHONPATH}}"', "module load x"]
    assert (CODE_ROOT / "sim" / "experiments" / "execute.py").is_file()
    assert jobqueue_settings({"job_script_prologue": "module load x"})[0]["job_script_prologue"][1:] == ["module load x"]
    with pytest.raises(ValueError, match="unknown key\\(s\\) colour"):
        with jobqueue_cluster("slurm", {"queue": "q", "colour": "red"}):
            pass


@pytest.mark.timeout(120)
def test_workers_that_cannot_import_the_model_stop_the_study_at_once():
    """Workers that cannot import the package die unpickling their first task, and the study would wait
    for them forever: the probe finds out first and says so in one line (here a module no worker has)."""
    from distributed import Client, LocalCluster

    import sim.experiments.execute as ex

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        ex.check_workers_import_the_model(client)  # they can import sim
        with pytest.raises(ex.ClusterError, match=r"cannot import the model \(ModuleNotFoundError: No module named 'sim_absent'\)"):
            ex.check_workers_import_the_model(client, "sim_absent")


def test_a_store_in_use_by_another_job_is_refused(tmp_path):
    store = ResultStore(tmp_path)
    with store.lock():
        with pytest.raises(BlockingIOError, match="another job"):
            execute(make_tasks(2), workers=1, progress=False, run_fn=fake_run, store=ResultStore(tmp_path))
    assert len(execute(make_tasks(2), workers=1, progress=False, run_fn=fake_run, store=store)) == 2


@pytest.mark.timeout(120)  # if the stand-in jobs never start, fail instead of waiting for workers forever
def test_slurm_cluster_through_dask_jobqueue_with_a_stand_in_sbatch(tmp_path, monkeypatch):
    """`cluster="slurm"` submits real dask-jobqueue job scripts; a stand-in sbatch runs them here."""
    import os
    import shutil
    import stat
    import tempfile

    if not shutil.which("setsid"):
        pytest.skip("needs setsid")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    scripts = {
        # like the real one, keep a copy of the script: dask-jobqueue deletes it once sbatch returns
        "sbatch": 'cp "$1" "$1.job"\nsetsid bash "$1.job" > "$1.log" 2>&1 < /dev/null &\necho "Submitted batch job $!"\n',
        "scancel": 'for id in "$@"; do kill -- "-$id" 2>/dev/null; done; exit 0\n',
        "squeue": "exit 0\n",
    }
    for name, body in scripts.items():
        path = bin_dir / name
        path.write_text("#!/usr/bin/env bash\n" + body)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # job scripts and their logs stay in tmp_path
    here = Path(__file__).resolve().parent
    options = {"queue": "test", "cores": 2, "jobs": 1, "walltime": "00:10:00",
               "job_script_prologue": [f"export PYTHONPATH={here.parent}{os.pathsep}{here}"]}
    tasks = make_tasks(6, failing=(4,))
    on_slurm = execute(tasks, cluster="slurm", cluster_options=options, progress=False, run_fn=fake_run)
    pd.testing.assert_frame_equal(as_frame(on_slurm), as_frame(execute(tasks, workers=1, progress=False, run_fn=fake_run)))


@pytest.fixture(scope="module")
def slurm():
    """A real one-node Slurm (see slurm_local.py); in CI it must run, elsewhere it may be skipped."""
    import os

    from slurm_local import local_slurm, missing

    problem = missing()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the Slurm test: {problem}")
        pytest.skip(f"no local Slurm: {problem}")
    with local_slurm() as env:
        yield env


@pytest.mark.slow  # starts a one-node Slurm
def test_sweep_on_a_real_slurm_equals_a_local_sweep(slurm, tmp_path):
    """`run.py sweep --cluster slurm` submits dask-jobqueue jobs to a real slurmctld; same runs.csv as locally."""
    import subprocess
    import sys

    from conftest import ROOT

    spec = tmp_path / "s.toml"
    spec.write_text('name = "slurm"\nreplications = 2\ncounterfactual = false\noutcomes = ["gmv_festival"]\n'
                    '[base]\n"consumers.n" = 300\n"brands.n" = 12\n"season.start" = 2026-10-25\n'
                    '"season.end" = 2026-11-15\n[vary."festival.discount"]\nrange = [0.1, 0.5]\nsteps = 2\n')

    def sweep(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(ROOT / "run.py"), "sweep", str(spec), "--no-progress", *args],
                              cwd=tmp_path, env=slurm, capture_output=True, text=True, timeout=600)

    on_slurm = sweep("--cluster", "slurm", "--cluster-option", "cores=2", "--cluster-option", "memory=4GB",
                     "--cluster-option", "walltime=00:20:00", "--out", str(tmp_path / "slurm"))
    assert on_slurm.returncode == 0, on_slurm.stderr[-3000:]
    local = sweep("--workers", "2", "--out", str(tmp_path / "local"))
    assert local.returncode == 0, local.stderr[-2000:]
    assert (tmp_path / "slurm" / "runs.csv").read_bytes() == (tmp_path / "local" / "runs.csv").read_bytes()
    assert list((tmp_path / "slurm" / "logs").glob("*.out")) or list((tmp_path / "slurm" / "logs").glob("*.err"))
    assert not list(tmp_path.glob("slurm-*.out"))  # job logs go under the output folder, not the current one
