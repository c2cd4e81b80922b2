"""Sweeps: specs validate, seeds and results do not depend on the executor, resume is exact,
failures are recorded, and the sensitivity analysis recovers known indices."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.model.metrics import RUN_METRICS
from sim.model.runs import derive_seed
from sim.app.cli.sweep import sweep_main
from sim.app.sweeps import rebuild_sweep, run_sweep
from sim.experiments.sweeps import Factor, SweepError, design_tasks, load_spec, make_design, sample_design, sensitivity

SHIPPED = sorted((Path(__file__).resolve().parent.parent / "scenarios" / "sweeps").glob("*.toml"))
TINY_BASE = {"consumers.n": 300, "brands.n": 12, "season.start": "2026-10-25", "season.end": "2026-11-15"}
CALLS: list[tuple[float, int]] = []


@dataclass
class FakeResult:
    summary: dict[str, float]
    hourly: pd.DataFrame


def fake_run(params, seed, counterfactual=True):
    """Cheap deterministic model: every metric depends on the discount, the format and the seed."""
    if params.festival.discount > 0.95:
        raise RuntimeError("model diverged")
    noise = np.random.default_rng(seed).normal(0, 0.01, len(RUN_METRICS))
    boost = {"single_day": 1.0, "two_waves": 1.5, "continuous": 2.0}.get(params.festival.format, 0.0)
    summary = {m: float(params.festival.discount * (i + 1) + boost + noise[i]) for i, m in enumerate(RUN_METRICS)}
    return FakeResult(summary, pd.DataFrame({"hour": [0, 1], "gmv": [1.0, 2.0]}))


def counting_run(params, seed, counterfactual=True):
    CALLS.append((params.festival.discount, seed))
    return fake_run(params, seed, counterfactual)


class Interrupt:
    """A run function that 'kills' the sweep (KeyboardInterrupt) after ``after`` runs."""

    def __init__(self, after: int) -> None:
        self.left = after

    def __call__(self, params, seed, counterfactual=True):
        if self.left == 0:
            raise KeyboardInterrupt
        self.left -= 1
        return fake_run(params, seed, counterfactual)


def grid_spec(**extra) -> dict:
    spec = {
        "name": "t", "replications": 2, "root_seed": 7, "outcomes": ["gmv_festival", "peak_to_mean"],
        "base": {"consumers.n": 500},
        "vary": {"festival.format": {"values": ["single_day", "two_waves"]},
                 "festival.discount": {"range": [0.1, 0.4], "steps": 3}},
    }
    spec.update(extra)
    return spec


# --------------------------------------------------------------------------- spec and design


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_sweep_files_validate(path):
    spec = load_spec(path)
    design = make_design(spec)
    tasks, invalid = design_tasks(spec, design)
    assert len(tasks) == len(design) * spec.replications and not invalid


def test_shipped_sweeps_include_a_sobol_study_and_a_grid():
    methods = {load_spec(p).method for p in SHIPPED}
    assert {"sobol", "grid"} <= methods


def test_nested_and_quoted_factor_tables_mean_the_same():
    nested = load_spec(grid_spec(vary={"festival": {"discount": {"range": [0.1, 0.4], "steps": 3}}}))
    quoted = load_spec(grid_spec(vary={"festival.discount": {"range": [0.1, 0.4], "steps": 3}}))
    assert nested.factors == quoted.factors


@pytest.mark.parametrize("change, message", [
    ({"vary": {"festival.discont": {"values": [0.1]}}}, "vary.festival.discont: unknown parameter"),
    ({"vary": {"festival.discount": {"range": [0.1, float("nan")], "steps": 2}}}, "must be a finite number"),
    ({"vary": {"festival.discount": {"range": [-0.5, 0.4], "steps": 2}}}, "festival.discount: Input should be greater"),
    ({"vary": {"festival.discount": {"range": [0.1, 0.4]}}}, "needs steps"),
    ({"replications": -1}, "replications: must be an integer >= 1"),
    ({"outcomes": ["gmv"]}, "outcomes: unknown metric 'gmv'"),
    ({"sampler": {"method": "halton"}}, "sampler.method"),
    ({"base": {"consumers.n": -5}}, "base: consumers.n"),
    ({"colour": 1}, "colour: unknown sweep key"),
])
def test_bad_specs_name_the_key(change, message):
    with pytest.raises(SweepError, match=message.replace(".", r"\.").replace("(", r"\(")):
        load_spec(grid_spec(**change))


def test_base_can_start_from_a_shipped_scenario_arm():
    spec = load_spec({"scenario": "formats", "arm": "two_waves", "base": {"consumers.n": 700},
                      "vary": {"festival.discount": {"values": [0.2, 0.3]}}})
    params = spec.base_params()
    assert params.festival.format == "two_waves" and params.platform.policy == "gmv_rank"
    assert params.consumers.n == 700  # the sweep's own [base] wins over the scenario's
    with pytest.raises(SweepError, match="scenario: .*unknown arm"):
        load_spec({"scenario": "formats", "arm": "three_waves", "vary": {"festival.discount": {"values": [0.2]}}})


def test_seeds_derive_from_root_seed_and_replication():
    spec = load_spec(grid_spec())
    tasks, _ = design_tasks(spec, make_design(spec))
    assert [t.index for t in tasks] == list(range(12))
    for t in tasks:  # common random numbers: same seed for a replication at every design point
        assert t.seed == derive_seed(7, t.labels["replication"])
    independent = load_spec(grid_spec(seeds="independent"))
    assert [t.seed for t in design_tasks(independent, make_design(independent))[0]] == [derive_seed(7, i) for i in range(12)]


def test_samplers_map_the_unit_cube_through_each_distribution():
    factors = (Factor("a", "loguniform", low=1.0, high=100.0), Factor("b", "choice", values=("x", "y", "z")),
               Factor("c", "uniform", low=0.0, high=10.0, integer=True))
    design = sample_design("lhs", factors, 300, seed=3)
    a = design.frame["a"].to_numpy(float)
    assert a.min() >= 1 and a.max() <= 100 and abs(np.median(np.log10(a)) - 1) < 0.1
    assert set(design.frame["b"]) == {"x", "y", "z"}
    assert all(isinstance(v, int) for v in design.frame["c"])
    assert len(sample_design("sobol", factors, 8, seed=3)) == 8 * (3 + 2)
    assert len(sample_design("morris", factors, 5, seed=3)) == 5 * (3 + 1)


# --------------------------------------------------------------------------- analysis


def test_sobol_indices_of_ishigami_through_the_pipeline():
    from SALib.test_functions import Ishigami

    factors = tuple(Factor(f"x{i}", "uniform", low=-math.pi, high=math.pi) for i in range(3))
    design = sample_design("sobol", factors, 1024, seed=11)
    y = Ishigami.evaluate(design.frame[design.keys].to_numpy(float))
    table, notes = sensitivity(design, pd.DataFrame({"ishigami": y}))
    assert not notes
    np.testing.assert_allclose(table["S1"], [0.314, 0.442, 0.0], atol=0.06)
    np.testing.assert_allclose(table["ST"], [0.558, 0.442, 0.244], atol=0.06)
    assert list(table.columns) == ["outcome", "parameter", "S1", "S1_conf", "ST", "ST_conf"]


def test_grid_variance_shares_are_exact_for_an_additive_function():
    factors = (Factor("a", "uniform", low=0, high=1, steps=5), Factor("b", "uniform", low=0, high=1, steps=5))
    design = sample_design("grid", factors, None)
    y = 2 * design.frame["a"].to_numpy(float) + design.frame["b"].to_numpy(float)  # variances 4:1
    table, _ = sensitivity(design, pd.DataFrame({"y": y}))
    np.testing.assert_allclose(table["S1"], [0.8, 0.2])
    np.testing.assert_allclose(table["ST"], [0.8, 0.2])


def test_morris_ranks_the_influential_parameter_first():
    factors = (Factor("big", "uniform", low=0, high=1), Factor("none", "uniform", low=0, high=1))
    design = sample_design("morris", factors, 20, seed=1)
    y = 5 * design.frame["big"].to_numpy(float)
    table, _ = sensitivity(design, pd.DataFrame({"y": y}))
    assert table["mu_star"].tolist() == pytest.approx([5.0, 0.0])


def test_morris_effects_read_in_the_outcomes_unit():
    from sim.app.sweeps.report import driver_sentences

    table = pd.DataFrame({"outcome": ["gmv_festival", "online_share", "peak_orders_per_hour"], "parameter": ["x"] * 3,
                          "mu_star": [2.5e9, 0.031, 12_000.0], "mu_star_conf": [0.0] * 3, "sigma": [0.0] * 3})
    text = " ".join(driver_sentences(table, "morris"))
    assert "mu_star ¥2.50 bn" in text and "mu_star 3.10 pp" in text and "mu_star 12.0 k orders/h" in text, text


# --------------------------------------------------------------------------- running sweeps


def read(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / name)


def test_sweep_writes_all_outputs(tmp_path):
    out = run_sweep(grid_spec(), workers=1, out_dir=tmp_path / "s", progress=False, run_fn=fake_run)
    for name in ("design.csv", "runs.csv", "failures.csv", "sensitivity.csv", "manifest.json", "report.md",
                 "report.html", "figures/sensitivity.png", "figures/response-gmv_festival.png"):
        assert (out / name).is_file(), name
    runs = read(out, "runs.csv")
    assert len(runs) == 12 and runs["error"].isna().all()
    assert {"design_point", "replication", "seed", "festival.format", "festival.discount", *RUN_METRICS} <= set(runs)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["root_seed"] == 7 and manifest["spec"]["replications"] == 2 and "numpy" in manifest["packages"]
    sens = read(out, "sensitivity.csv")
    top = sens[sens["outcome"] == "gmv_festival"].set_index("parameter")["ST"]
    assert top["festival.format"] > top["festival.discount"] > 0  # fake model: format adds 0.5, discount 0.3
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "festival.format" in html


def test_failing_design_points_are_recorded_and_the_others_complete(tmp_path):
    spec = grid_spec(vary={"festival.discount": {"values": [0.2, 0.99]},  # 0.99: the model raises
                           "brands.share_low_quality": {"values": [0.3, 0.9]}})  # 0.9: invalid with share_big 0.2
    out = run_sweep(spec, workers=2, out_dir=tmp_path / "f", progress=False, run_fn=fake_run)
    failures = read(out, "failures.csv")
    runs = read(out, "runs.csv")
    assert len(runs) == 8 and runs["error"].isna().sum() == 2  # only (0.2, 0.3) is fine
    by_point = failures.groupby("design_point")["error"].first()
    assert by_point[1].startswith("ParameterError: brands:") and "must not exceed 1" in by_point[1]
    assert by_point[2] == "RuntimeError: model diverged"
    assert set(failures["design_point"]) == {1, 2, 3}
    assert runs.loc[runs["design_point"] == 0, "gmv_festival"].notna().all()


def test_kill_and_resume_equals_uninterrupted_without_rerunning_finished_chunks(tmp_path):
    full = run_sweep(grid_spec(), workers=1, chunk_size=2, out_dir=tmp_path / "full", progress=False, run_fn=fake_run)
    part = tmp_path / "part"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(grid_spec(), workers=1, chunk_size=2, out_dir=part, progress=False, run_fn=Interrupt(after=5))
    stored = sorted((part / "chunks").glob("runs-*.parquet"))
    assert len(stored) == 2  # runs 0-3 made it to disk; the chunk holding run 4 was in flight

    with pytest.raises(SweepError, match="8 of 12 runs are missing"):
        rebuild_sweep(part)

    CALLS.clear()  # no file needed: the folder's manifest holds the spec
    run_sweep(None, workers=1, chunk_size=2, resume_dir=part, progress=False, run_fn=counting_run)
    assert len(CALLS) == 12 - 4
    pd.testing.assert_frame_equal(read(part, "runs.csv"), read(full, "runs.csv"))
    assert json.loads((part / "manifest.json").read_text())["resumed"] is True


def test_rebuild_rewrites_outputs_from_stored_runs(tmp_path):
    out = run_sweep(grid_spec(), workers=1, out_dir=tmp_path / "b", progress=False, run_fn=fake_run)
    before = {name: (out / name).read_text() for name in ("runs.csv", "sensitivity.csv", "report.md")}
    for name in before:
        (out / name).unlink()
    rebuild_sweep(out)
    assert {name: (out / name).read_text() for name in before} == before


def test_resume_refuses_a_different_spec(tmp_path):
    out = run_sweep(grid_spec(), workers=1, out_dir=tmp_path / "r", progress=False, run_fn=fake_run)
    with pytest.raises(SweepError, match="differs"):
        run_sweep(grid_spec(), reps=3, workers=1, resume_dir=out, progress=False, run_fn=fake_run)


def test_local_processes_and_dask_local_cluster_give_identical_runs(tmp_path):
    distributed = pytest.importorskip("distributed")
    spec = grid_spec(base=TINY_BASE, replications=1, counterfactual=False,
                     vary={"festival.format": {"values": ["single_day", "two_waves"]},
                           "festival.discount": {"values": [0.2, 0.4]}})
    local = run_sweep(spec, workers=2, out_dir=tmp_path / "local", progress=False)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        dask = run_sweep(spec, cluster=cluster.scheduler_address, out_dir=tmp_path / "dask", progress=False)
    local_runs, dask_runs = read(local, "runs.csv"), read(dask, "runs.csv")
    assert local_runs["error"].isna().all(), local_runs["error"].dropna().tolist()
    pd.testing.assert_frame_equal(local_runs, dask_runs)


def test_small_model_sobol_sweep_gives_finite_indices(tmp_path):
    spec = {"name": "mini-sobol", "replications": 1, "counterfactual": False, "outcomes": ["gmv_festival", "peak_to_mean"], "base": TINY_BASE,
            "sampler": {"method": "sobol", "samples": 4},
            "vary": {"festival.discount": {"range": [0.1, 0.5]},
                     "logistics.capacity_per_day": {"range": [1e8, 6e8], "distribution": "loguniform"}}}
    out = run_sweep(spec, workers=2, out_dir=tmp_path / "sobol", progress=False)
    sens = read(out, "sensitivity.csv")
    assert len(sens) == 4 and np.isfinite(sens[["S1", "S1_conf", "ST", "ST_conf"]].to_numpy()).all()
    assert read(out, "runs.csv")["error"].isna().all()


# --------------------------------------------------------------------------- command line


@pytest.mark.parametrize("setup, args, message", [
    (None, ["missing.toml"], "sweep file not found"),
    (None, [], "required: file"),
    (None, ["--resume", "nowhere"], "not a sweep folder"),
    ("name = [", [], "malformed TOML"),
    ("", ["--set", "consumers.nn=3"], "consumers.nn: unknown parameter"),
    ("", ["--set", "festival.discount=nan"], "festival.discount"),
    ("", ["--reps", "-2"], "--reps"),
    ("", ["--samples", "0"], "--samples"),
    ("", ["--workers", "0"], "--workers"),
    ("", ["--cluster", "nowhere"], "cluster: expected"),
])
def test_cli_bad_input_is_one_error_line_and_exit_2(tmp_path, capsys, monkeypatch, setup, args, message):
    monkeypatch.chdir(tmp_path)  # nothing may be written, but if it were, not into the repo
    file = tmp_path / "s.toml"
    if setup is not None:
        file.write_text(setup if setup else '[vary."festival.discount"]\nvalues = [0.2]\n')
    argv = args if setup is None else [str(file), *args]
    with pytest.raises(SystemExit) as exc:
        sweep_main(argv)
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2
    assert len(err.splitlines()) == 1 and err.startswith("run.py: error: ") and message in err, err
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
def test_killed_cli_sweep_resumes_to_the_same_runs(tmp_path):
    """A real `run.py sweep` killed with SIGKILL mid-way, then resumed, equals an uninterrupted sweep."""
    import os
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parent.parent
    spec = tmp_path / "kill.toml"
    spec.write_text('name = "kill"\nreplications = 2\ncounterfactual = false\noutcomes = ["gmv_festival"]\n'
                    '[base]\n"consumers.n" = 300\n"brands.n" = 12\n"season.start" = 2026-10-25\n"season.end" = 2026-11-15\n'
                    '[vary."festival.discount"]\nrange = [0.1, 0.5]\nsteps = 5\n')

    def sweep(*args: str, **kwargs) -> subprocess.Popen:
        cmd = [sys.executable, str(root / "run.py"), "sweep", str(spec), "--workers", "2", "--chunk-size", "1", "--no-progress", *args]
        return subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kwargs)

    killed = sweep("--out", str(tmp_path / "killed"), start_new_session=True)
    chunks = tmp_path / "killed" / "chunks"
    deadline = time.time() + 120
    while len(list(chunks.glob("runs-*.parquet"))) < 3 and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    done_before = {p.name for p in chunks.glob("runs-*.parquet")}
    assert 3 <= len(done_before) < 10 and not (tmp_path / "killed" / "runs.csv").exists()
    for path in chunks.glob("runs-*.parquet"):  # every visible chunk is complete
        assert len(pd.read_parquet(path)) == 1

    resumed = sweep("--resume", str(tmp_path / "killed"))
    full = sweep("--out", str(tmp_path / "full"))
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read()
    assert full.wait(timeout=300) == 0, full.stderr.read()
    assert not list(chunks.glob(".*.tmp"))  # leftovers of the killed writer are cleared on resume
    manifest = json.loads((tmp_path / "killed" / "manifest.json").read_text())
    assert manifest["runs_executed"] == 10 - len(done_before)
    pd.testing.assert_frame_equal(read(tmp_path / "killed", "runs.csv"), read(tmp_path / "full", "runs.csv"))


def test_every_shipped_sweep_range_contains_the_calibrated_default():
    """A screening that never visits the calibrated model says little about it (the Morris file's
    anticipation_strength was 0-6 against a default of 10, stockpile_rate 0.5-4 against 4.54)."""
    import tomllib
    from pathlib import Path

    from sim.model.params import build_params

    defaults = build_params({}).flat()
    for path in sorted((Path(__file__).resolve().parents[1] / "scenarios" / "sweeps").glob("*.toml")):
        for key, spec in tomllib.loads(path.read_text()).get("vary", {}).items():
            if "range" in spec:
                low, high = spec["range"]
                assert low <= defaults[key] <= high, f"{path.name}: {key} {spec['range']} leaves out {defaults[key]}"
