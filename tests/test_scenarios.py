"""Scenario files: validation, arms from factors and lists, common random numbers across arms."""

from __future__ import annotations

import pytest

from sim.model.runs import derive_seed
from sim.experiments.scenarios import ScenarioError, list_scenarios, load_scenario, make_scenario, parse_scenario, resolve_path


def test_shipped_scenarios_load_and_validate():
    names = {s["name"] for s in list_scenarios()}
    assert {"double11", "formats", "incentives"} <= names
    for name in names:
        sc = load_scenario(name)
        assert sc.reference in [a.name for a in sc.arms]
        assert sc.description


def test_double11_crosses_formats_and_policies_with_none_counterfactual():
    sc = load_scenario("double11")
    combos = {(a.params.festival.format, a.params.platform.policy) for a in sc.arms}
    for fmt in ("single_day", "two_waves", "continuous"):
        for pol in ("gmv_rank", "quality_feedback", "small_brand_boost"):
            assert (fmt, pol) in combos
    assert any(f == "none" for f, _ in combos)
    assert sc.counterfactual


def test_incentives_is_policies_under_single_day():
    sc = load_scenario("incentives")
    assert {a.params.festival.format for a in sc.arms} == {"single_day"}
    assert len({a.params.platform.policy for a in sc.arms}) == len(sc.arms) >= 3


def test_common_random_numbers_seed_per_replication():
    sc = make_scenario("t", factors={"festival.format": ["single_day", "two_waves"]}, replications=3, seed=7)
    tasks = sc.tasks()
    assert len(tasks) == 6 and sorted(t.index for t in tasks) == list(range(6))
    for t in tasks:
        assert t.seed == derive_seed(7, t.labels["replication"])
    seeds = {t.labels["replication"]: t.seed for t in tasks}
    assert len(set(seeds.values())) == 3


def test_factor_arm_names_and_listed_arms():
    sc = parse_scenario({
        "name": "x", "base": {"consumers": {"n": 1000}},
        "factors": {"festival.format": ["single_day", "continuous"], "platform.policy": ["gmv_rank"]},
        "arms": [{"name": "nofest", "festival.format": "none"}],
        "reference": "continuous",
    })
    assert [a.name for a in sc.arms] == ["single_day", "continuous", "nofest"]
    assert all(a.params.consumers.n == 1000 for a in sc.arms)
    assert sc.arm("nofest").params.festival.format == "none"
    assert sc.varying_keys()[:2] == ["festival.format", "platform.policy"]


def test_with_options_overrides_win_and_revalidate():
    sc = load_scenario("formats").with_options(replications=2, seed=3, overrides={"consumers.n": 1500},
                                               arms=["two_waves", "none"])
    assert sc.replications == 2 and sc.seed == 3
    assert [a.name for a in sc.arms] == ["two_waves", "none"]
    assert sc.reference == "two_waves"  # the scenario's reference was not selected: first arm
    assert {a.params.consumers.n for a in sc.arms} == {1500}
    with pytest.raises(ScenarioError, match="unknown arm"):
        load_scenario("formats").with_options(arms=["nope"])
    with pytest.raises(ScenarioError, match="consumers.n"):
        load_scenario("formats").with_options(overrides={"consumers.n": -5})


@pytest.mark.parametrize("data, match", [
    ({"name": "x", "bogus": 1}, "bogus"),
    ({"name": "x", "base": {"consumers.nn": 1}}, "consumers.nn"),
    ({"name": "x", "base": {"consumers.n": "many"}}, "consumers.n"),
    ({"name": "x", "replications": 0}, "replications"),
    ({"name": "x", "replications": -2}, "replications"),
    ({"name": "x", "seed": -1}, "seed"),
    ({"name": "x", "factors": {"platform.policy": ["gmv_rank", "bribery"]}}, "bribery"),
    ({"name": "x", "factors": {"festival.format": []}}, "festival.format"),
    ({"name": "x", "arms": [{"name": "a"}], "reference": "b"}, "reference"),
    ({"name": "x", "arms": [{"name": "a"}, {"name": "a"}]}, "duplicate"),
    ({"name": "x", "base": {"festival.discount": float("nan")}}, "festival.discount"),
])
def test_bad_scenarios_are_rejected_with_the_key_named(data, match):
    with pytest.raises(ScenarioError, match=match):
        parse_scenario(data)


def test_malformed_and_missing_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(ScenarioError, match="malformed TOML"):
        load_scenario(bad)
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario(tmp_path / "missing.toml")
    with pytest.raises(ScenarioError, match="no such scenario"):
        resolve_path("no_such_shipped_scenario")


def test_example_script_uses_the_public_api():
    import ast
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scenarios" / "compare_formats.py"
    tree = ast.parse(script.read_text())
    assert any(isinstance(n, ast.Import) and any(a.name == "sim" for a in n.names) for n in ast.walk(tree))


@pytest.mark.slow  # a whole example study in a subprocess
def test_example_script_runs_end_to_end(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scenarios" / "compare_formats.py"
    res = subprocess.run([sys.executable, str(script), "--reps", "2", "--consumers", "800", "--workers", "2",
                          "--out", str(tmp_path)], capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "gmv_incremental" in res.stdout and (tmp_path / "report.html").is_file()
