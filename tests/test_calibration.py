"""Calibration: spec errors, parameter sets, paired posterior draws, and parameter recovery.

The recovery test is the one that runs the model: a short season (Oct 21 - Nov 11, one day
of warm-up) of 500 consumers, two free parameters, two ABC-SMC generations of 10 particles.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.experiments.calibration import CalibrationError
from sim.experiments.calibration.paramset import load_param_set, write_param_set
from sim.experiments.calibration.spec import load_spec
from sim.model.params import ParameterError
from sim.experiments.scenarios import load_scenario

from conftest import run_cli

SHIPPED = Path(__file__).resolve().parents[1] / "scenarios" / "calibration"

RECOVERY = """
name = "recovery"
seed = 7
[base]
"festival.format" = "single_day"
"season.start" = 2019-10-21
"season.end" = 2019-11-11
"season.warmup_days" = 1
[priors."festival.pull"]
low = 1.5
high = 7.5
[priors."festival.opening_burst"]
low = 1.0
high = 10.0
[[targets]]
name = "gmv"
statistic = "day_gmv_bn"
observed = {gmv}
sd = {gmv_sd}
source = "simulated at the true values"
[[targets]]
name = "first_hour"
statistic = "cum_share"
at = "01:00"
observed = {first}
sd = 0.02
source = "simulated at the true values"
[method]
consumers = 500
population_size = 20
max_generations = 3  # two left the burst's posterior as wide as its prior for 2 of 4 spec seeds
min_epsilon = 0.0
"""
TRUTH = {"festival.pull": 4.0, "festival.opening_burst": 6.0}


def test_shipped_spec_is_valid_with_6_to_12_free_parameters_and_sourced_targets():
    spec = load_spec(SHIPPED / "double11_2019.toml")
    assert 6 <= len(spec.priors) <= 12
    assert all(t.source for t in spec.targets)
    assert spec.params().consumers.population == pytest.approx(6.93e8)


@pytest.mark.parametrize("edit, needle", [
    (("high = 20.0", "high = 1.0"), "priors.festival.pull: low must be below high"),
    (('statistic = "day_gmv_bn"', 'statistic = "nope"'), "targets[0].statistic: Input should be 'day_gmv_bn'"),
    (('[priors."festival.pull"]', '[priors."festival.pulll"]'), "festival.pulll: unknown parameter"),
    (("population_size = 100", "population_size = 0"), "method.population_size"),
])
def test_bad_spec_is_one_line_naming_the_field(tmp_path, edit, needle):
    shipped = (SHIPPED / "double11_2019.toml").read_text()
    assert edit[0] in shipped, f"the shipped spec no longer has {edit[0]!r}: update this test's edit"
    text = shipped.replace(*edit)
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(CalibrationError, match=None) as err:
        load_spec(path)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_only_fitted_targets_count_in_the_distance():
    """A target for another population (fit = false) is predicted and reported but does not steer the fit."""
    from sim.experiments.calibration.simulate import distance
    spec = load_spec(SHIPPED / "double11_2019.toml")
    reported = [t.name for t in spec.targets if not t.fit]
    assert reported == ["offline_day_lift"]
    observed = {t.name: t.observed for t in spec.targets}
    dist = distance(spec)
    assert dist({**observed, "offline_day_lift": 5.0}, observed) == 0.0
    assert dist({**observed, "nov11_gmv_bn": 268.4 + 2 * 13.4}, observed) == pytest.approx(2.0)


def test_a_spec_needs_a_fitted_target(tmp_path):
    path = tmp_path / "reported_only.toml"
    path.write_text(RECOVERY.format(gmv=100.0, gmv_sd=5.0, first=0.3)
                    .replace('source = "simulated at the true values"', 'source = "simulated at the true values"\nfit = false'))
    with pytest.raises(CalibrationError) as err:
        load_spec(path)
    assert "at least one target with fit = true" in str(err.value)


def test_bad_spec_on_the_command_line_is_exit_2_before_any_folder(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text((SHIPPED / "double11_2019.toml").read_text().replace("high = 20.0", "high = 1.0"))
    res = run_cli("calibrate", str(path), "--out", str(tmp_path / "out"))
    assert res.returncode == 2 and "priors.festival.pull: low must be below high" in res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "out").exists()


def test_param_set_round_trip_and_precedence(tmp_path):
    path = tmp_path / "set.toml"
    write_param_set(path, {"festival.pull": 4.5, "consumers.n": 1000}, header=["test"])
    assert load_param_set(path) == {"festival.pull": 4.5, "consumers.n": 1000}
    scenario = load_scenario("double11").with_options(preset=load_param_set(path), overrides={"festival.pull": 5.0})
    assert scenario.arms[0].params.festival.pull == 5.0          # --set wins
    assert scenario.arms[0].params.consumers.n == 40000          # the scenario's base wins over the set
    path.write_text('[params]\n"festival.pull" = 0.5\n')
    with pytest.raises(ParameterError, match="festival.pull"):
        load_param_set(path)


def test_posterior_draw_r_is_shared_by_every_arm_of_replication_r(tmp_path):
    draws = [{"festival.pull": 3.0 + r, "consumers.weekly_budget": 200.0 + r} for r in range(3)]
    scenario = load_scenario("double11").with_options(replications=3).with_posterior(draws, "somewhere")
    for task in scenario.tasks():
        r = task.labels["replication"]
        assert task.params.consumers.weekly_budget == 200.0 + r
        # arms set festival.format and platform.policy; the draw never overrides an arm's own settings
        assert task.params.festival.pull == 3.0 + r
    assert scenario.fingerprint() != load_scenario("double11").with_options(replications=3).fingerprint()


def test_effective_sample_size_counts_the_particles_that_carry_the_weight():
    from sim.experiments.calibration.validate import effective_sample_size

    assert effective_sample_size(np.ones(100)) == pytest.approx(100)
    assert effective_sample_size(np.r_[1.0, np.zeros(99)]) == pytest.approx(1)
    assert effective_sample_size(np.r_[np.ones(10), np.zeros(90)]) == pytest.approx(10)


@pytest.mark.slow  # a small ABC-SMC on the real model, about a minute
def test_parameter_recovery(tmp_path):
    pytest.importorskip("pyabc")
    from sim.experiments.calibration.abc import run_abc
    from sim.app.calibration import write_posterior
    from sim.experiments.calibration.simulate import Simulator
    from sim.experiments.calibration.spec import Spec
    from sim.experiments.calibration.validate import weighted_quantile
    import tomllib

    template = tomllib.loads(RECOVERY.format(gmv=1.0, gmv_sd=1.0, first=0.3))
    truth = Simulator(Spec.model_validate(template), replicate=99)(TRUTH)
    raw = tomllib.loads(RECOVERY.format(gmv=truth["gmv"], gmv_sd=0.05 * truth["gmv"], first=truth["first_hour"]))
    spec = Spec.model_validate(raw).check()
    history = run_abc(spec, tmp_path, workers=1, progress=False)
    post = write_posterior(history, tmp_path)
    w = post["weight"].to_numpy()
    for key, value in TRUTH.items():
        x = post[key].to_numpy()
        lo, hi = weighted_quantile(x, w, 0.02), weighted_quantile(x, w, 0.98)
        assert lo <= value <= hi, (key, lo, hi)
        prior = spec.priors[key]
        sd = np.sqrt(np.average((x - np.average(x, weights=w)) ** 2, weights=w))
        assert sd < (prior.high - prior.low) / np.sqrt(12), key  # narrower than the uniform prior
    assert isinstance(pd.read_parquet(tmp_path / "posterior.parquet"), pd.DataFrame)


@pytest.mark.parametrize("command", ["calibrate", "validate"])
def test_help(command, capsys):
    from sim.app.cli import main

    with pytest.raises(SystemExit) as exc:
        main([command, "-h"])
    assert exc.value.code == 0 and f"usage: run.py {command}" in capsys.readouterr().out


def test_calibration_manifest_has_the_common_schema(tmp_path):
    from sim.app.cli.calibrate import _manifest, fingerprint, spec_of
    from sim.app.report.manifest import COMMON_KEYS

    spec = load_spec(SHIPPED / "double11_2019.toml")
    _manifest(tmp_path, spec, {"started": "now", "argv": ["calibrate", "double11_2019"], "workers": 2, "cluster": None},
              status="finished", wall=1.0)
    saved, manifest = spec_of(tmp_path)
    assert set(COMMON_KEYS) <= set(manifest) and manifest["kind"] == "calibration"
    # --resume without SPEC uses the saved spec: it must be the same calibration
    assert fingerprint(saved) == fingerprint(spec) == manifest["calibration"]["fingerprint"]
    assert "pyabc" in manifest["packages"]


def test_nov1_11_statistics_read_the_period_tmall_counts_since_2020():
    from sim.experiments.calibration import stats

    time = pd.date_range("2020-10-30", "2020-11-13", freq="h", inclusive="left")
    gmv = np.where((time >= "2020-11-01") & (time < "2020-11-12"), 2e9, 1e9)  # outside Nov 1-11: not counted
    hourly = pd.DataFrame({"time": time, "gmv": gmv})
    assert stats.nov1_11_gmv_bn(hourly) == pytest.approx(11 * 24 * 2.0)
    # by Nov 11 00:30: ten days and half an hour of the eleven
    assert stats.compute(hourly, "nov1_11_share_by", "00:30") == pytest.approx((240.5) / 264)
    shipped = load_spec(SHIPPED / "double11_2020.toml")
    assert list(shipped.priors) == ["festival.attention_exponent"] and shipped.params().festival.format == "two_waves"


def test_the_shipped_calibrated_set_is_the_schemas_defaults():
    """Every scenario starts from the calibration: a default changed without recalibrating shows here."""
    from sim.model.params import Params

    defaults = Params()
    for key, value in load_param_set(SHIPPED / "calibrated.toml").items():
        section, name = key.split(".")
        assert getattr(getattr(defaults, section), name) == pytest.approx(value), key


def test_resume_checks_the_fit_with_the_draws_the_interrupted_command_asked_for(tmp_path, monkeypatch):
    """`calibrate --resume DIR` redid the predictive check with the default 60 draws where the study had
    asked for 4, rewriting fit.csv and the report with other results."""
    import sim.experiments.calibration.abc as abc
    import sim.app.calibration as outputs
    from sim.app.cli import calibrate as cli

    spec = load_spec(SHIPPED / "double11_2019.toml")
    cli._manifest(tmp_path, spec, {"started": "now", "argv": ["calibrate", "double11_2019", "--draws", "4"],
                                   "workers": 1, "cluster": None}, status="interrupted", wall=1.0)
    asked: list[int] = []

    class Stop(Exception):
        pass

    def finish(out, *, draws, **_):
        asked.append(draws)
        raise Stop
    monkeypatch.setattr(abc, "import_pyabc", lambda: None)
    monkeypatch.setattr(abc, "run_abc", lambda *a, **k: None)
    monkeypatch.setattr(outputs, "write_posterior", lambda *a, **k: None)
    monkeypatch.setattr(cli, "finish", finish)
    for extra, expected in (([], 4), (["--draws", "7"], 7)):
        with pytest.raises(Stop):
            cli.cmd_calibrate(["--resume", str(tmp_path), "--workers", "1", "--no-progress", *extra])
        assert asked.pop() == expected
