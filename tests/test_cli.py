"""End-to-end tests of `python run.py ...` as a subprocess, at tiny sizes."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import ROOT, TINY, run_cli
from test_report import check_headlines_match_comparison


def test_list_shows_shipped_scenarios_with_descriptions():
    res = run_cli("list")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    for name in ("double11", "formats", "incentives"):
        line = next(ln for ln in lines if ln.startswith(name))
        assert len(line.split(None, 1)[1]) > 20


def test_params_lists_every_parameter():
    from sim.model.params import known_keys

    res = run_cli("params")
    assert res.returncode == 0, res.stderr
    keys = {ln.split()[0] for ln in res.stdout.splitlines() if ln.strip()}
    assert set(known_keys()) <= keys
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("consumers.n "))
    assert "20000" in line and "agents" in line


@pytest.mark.parametrize("args, needle", [
    (["no_such_scenario"], "no_such_scenario"),
    (["missing/file.toml"], "not found"),
    (["formats", "--set", "consumers.nope=1"], "consumers.nope"),
    (["formats", "--set", "consumers.n=abc"], "consumers.n"),
    (["formats", "--set", "consumers.n=-5"], "consumers.n"),
    (["formats", "--reps", "-1"], "--reps"),
    (["formats", "--reps", "0"], "--reps"),
    (["formats", "--workers", "0"], "--workers"),
    (["formats", "--set", "festival.discount=nan"], "festival.discount"),
    (["formats", "--set", "platform.policy=bribery"], "bribery"),
    (["formats", "--arms", "single_day,nope"], "nope"),
    (["formats", "--arms", ""], "--arms: no arm named"),
    (["calibrate", "double11_2019", "--draws", "-1"], "--draws: must be a positive integer"),
    (["formats", "--resume", str(ROOT / "README.md")], "README.md: not a folder"),
    (["formats", "--arms", " , "], "--arms: no arm named"),
    (["formats", "--reference", "nope"], "nope"),
    (["formats", "--set", "consumers.n"], "consumers.n"),
    (["formats", "--bogus-flag"], "--bogus-flag"),
    (["once", "--set", "festival.format=weekly"], "weekly"),
    (["once", "--seed", "-3"], "--seed"),
    (["report", "/nonexistent/folder"], "not found"),
])
def test_bad_input_is_one_line_and_status_2(args, needle):
    res = run_cli(*args)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and needle in lines[0], res.stderr


def test_malformed_toml_and_unknown_arm_in_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nreplications = \n')
    res = run_cli(str(bad))
    assert res.returncode == 2 and "malformed TOML" in res.stderr and "Traceback" not in res.stderr
    ref = tmp_path / "ref.toml"
    ref.write_text('name = "x"\nreference = "ghost"\n[factors]\n"festival.format" = ["single_day"]\n')
    res = run_cli(str(ref))
    assert res.returncode == 2 and "ghost" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_once_writes_one_row_and_hourly(tmp_path):
    res = run_cli("once", "--seed", "3", *TINY, "--out", str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert "gmv_total" in res.stdout and "peak_to_mean" in res.stdout
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert len(runs) == 1 and runs.loc[0, "seed"] == 3
    assert runs.loc[0, "consumers.n"] == 1500 and runs.loc[0, "festival.format"] == "single_day"
    hourly = pd.read_parquet(tmp_path / "hourly.parquet")
    assert len(hourly) == 27 * 24 and "gmv" in hourly
    assert json.loads((tmp_path / "manifest.json").read_text())["seed"] == 3


@pytest.fixture(scope="module")
def formats_runs(tmp_path_factory):
    """The formats scenario at tiny size, once with one worker and once with two."""
    out = {}
    for workers in (1, 2):
        folder = tmp_path_factory.mktemp(f"w{workers}")
        res = run_cli("formats", "--reps", "2", "--seed", "9", *TINY, "--workers", str(workers), "--out", str(folder))
        assert res.returncode == 0, res.stderr
        out[workers] = (folder, res)
    return out


def test_scenario_run_writes_every_output(formats_runs):
    folder, res = formats_runs[2]
    assert "report.html" in res.stdout and "single_day (ref)" in res.stdout
    for name in ("runs.csv", "comparison.csv", "hourly.parquet", "report.md", "report.html", "manifest.json"):
        assert (folder / name).is_file(), name
    assert len(list((folder / "figures").glob("*.png"))) >= 6
    runs = pd.read_csv(folder / "runs.csv")
    assert len(runs) == 4 * 2 and {"festival.format", "platform.policy", "gmv_incremental"} <= set(runs.columns)
    assert runs["error"].isna().all()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["root_seed"] == 9 and manifest["replications"] == 2
    assert manifest["arms"][0]["params"]["consumers.n"] == 1500
    assert "--workers 2" in manifest["command"]


def test_workers_do_not_change_results(formats_runs):
    one = (formats_runs[1][0] / "runs.csv").read_text()
    two = (formats_runs[2][0] / "runs.csv").read_text()
    assert one == two


def test_report_headlines_match_comparison_csv(formats_runs):
    assert check_headlines_match_comparison(formats_runs[2][0]) >= 3


def test_report_command_rebuilds(formats_runs):
    folder = formats_runs[1][0]
    before = (folder / "report.md").read_text()
    res = run_cli("report", str(folder))
    assert res.returncode == 0, res.stderr
    assert (folder / "report.md").read_text() == before


def test_default_scenario_is_double11(tmp_path):
    res = run_cli("--reps", "1", *TINY, "--arms", "single_day/gmv_rank,two_waves/quality_feedback",
                  "--no-progress", "--out", str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("double11:")
    assert set(pd.read_csv(tmp_path / "runs.csv")["arm"]) == {"single_day/gmv_rank", "two_waves/quality_feedback"}


def test_sweep_is_delegated():
    res = run_cli("sweep", "--help")
    assert res.returncode == 0, res.stderr
    assert "sweep" in res.stdout.lower()


def test_arms_without_the_reference_say_which_arm_the_others_are_compared_with(tmp_path):
    """Leaving the scenario's reference out of --arms silently made the first listed arm the reference."""
    res = run_cli("formats", "--arms", "two_waves,none", "--reps", "1", *TINY, "--no-progress",
                  "--out", str(tmp_path / "o"))
    assert res.returncode == 0, res.stderr
    assert "leaves out the reference arm single_day; the others are compared with two_waves" in res.stderr
