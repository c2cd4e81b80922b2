"""Random scenario and sweep files end in success or one error line with exit 2: never a
traceback, never a hang, never a write outside the output folder.

Keys and values are drawn from the schema (every parameter, its default nudged or replaced by a
value of another type) and from outside it (unknown keys, nesting, NaN, huge numbers, odd text).
A file that validates stops just before its first run: the fuzz is about reading files.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, example, given, settings, strategies as st

from sim.app.cli import main
from sim.model.params import FORMATS, POLICIES, Params

PARAMS = Params().flat()
KEYS = sorted(PARAMS)
FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 60)), deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])


class Accepted(Exception):
    """The file was read and validated; the study would start now."""


def _refuse_to_run(*args: Any, **kwargs: Any) -> None:
    raise Accepted


# --------------------------------------------------------------------------- values and files

names = st.from_regex(r"[a-z][a-z0-9_.-]{0,9}", fullmatch=True)
odd_text = st.sampled_from(["", " ", "..", "../x", "a/b", "\\", "nan", "inf", "0.3", "true", "-1", "双11", "\t", "x" * 300])
scalars = st.one_of(
    st.booleans(),
    st.integers(-3, 50),
    st.integers(-2**70, 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(0, 1),
    st.text(max_size=8),
    odd_text,
    st.sampled_from([*FORMATS, *POLICIES]),
    st.dates(dt.date(2018, 1, 1), dt.date(2030, 12, 31)),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                      max_leaves=8)


@st.composite
def parameter_value(draw: Any, key: str) -> Any:
    """Mostly near the schema (the default, or a number around it), sometimes anything at all."""
    default = PARAMS[key]
    if isinstance(default, float) and not isinstance(default, bool) and draw(st.booleans()):
        return draw(st.floats(min_value=-2 * abs(default) - 1, max_value=2 * abs(default) + 1))
    return draw(st.one_of(st.just(default), values))


keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=10), st.sampled_from(["consumers", "festival.", "a..b"]))


@st.composite
def parameter_table(draw: Any, max_size: int = 4) -> dict[str, Any]:
    chosen = draw(st.lists(keys, max_size=max_size, unique=True))
    return {k: draw(parameter_value(k)) if k in PARAMS else draw(values) for k in chosen}


@st.composite
def scenario_files(draw: Any) -> dict[str, Any]:
    parts = {
        "name": st.one_of(names, names, st.text(max_size=12), odd_text, values),
        "description": st.one_of(st.text(max_size=20), st.text(max_size=20), values),
        "reference": st.one_of(st.sampled_from(["arm", "single_day", "base"]), st.text(max_size=8), values),
        "replications": st.one_of(st.integers(-2, 4), st.integers(10**6, 10**13), values),
        "seed": st.one_of(st.integers(0, 2**64), st.integers(0, 99), values),
        "counterfactual": st.one_of(st.booleans(), values),
        "base": st.one_of(parameter_table(), parameter_table(), values),
        "factors": st.one_of(st.dictionaries(st.sampled_from(KEYS), st.lists(scalars, max_size=12), max_size=12),
                             st.dictionaries(st.sampled_from(KEYS), st.lists(scalars, max_size=3), max_size=2), values),
        "arms": st.one_of(st.lists(parameter_table(3).map(lambda t: {"name": "arm", **t}), max_size=3),
                          st.lists(st.one_of(parameter_table(3).map(lambda t: {"name": "arm", **t}), values), max_size=3),
                          values),
        "goals": st.one_of(st.dictionaries(st.text(max_size=6), st.dictionaries(
            st.sampled_from(["maximise", "minimise", "subject_to", "x"]), values, max_size=2), max_size=5), values),
    }
    data = {k: draw(v) for k, v in parts.items() if draw(st.booleans())}
    if draw(st.integers(0, 7)) == 3:  # not 0: hypothesis favours the simplest value
        data[draw(st.text(max_size=8))] = draw(values)  # an unknown key, or a known one twice
    return data


@st.composite
def near_valid_scenarios(draw: Any) -> dict[str, Any]:
    """A file that would run, then perhaps one entry replaced by anything: the reader's every branch."""
    data: dict[str, Any] = {"name": draw(st.one_of(names, odd_text)), "replications": draw(st.integers(1, 3)),
                            "base": {"consumers.n": 100, **draw(parameter_table(2))}}
    if draw(st.booleans()):
        data["factors"] = {"festival.format": draw(st.lists(st.sampled_from(FORMATS[:4]), min_size=1, max_size=3, unique=True))}
    if draw(st.booleans()):
        data[draw(st.sampled_from([*data, "seed", "goals", "arms", "reference"]))] = draw(values)
    return data


@st.composite
def sweep_files(draw: Any) -> dict[str, Any]:
    factor = st.fixed_dictionaries({}, optional={
        "values": st.lists(scalars, max_size=4), "range": st.lists(scalars, max_size=3),
        "distribution": st.one_of(st.sampled_from(["uniform", "loguniform", "normal", "triangular", "choice"]), values),
        "steps": st.one_of(st.integers(-1, 5), st.integers(10**6, 10**13), values),
        "mean": scalars, "sd": scalars, "mode": scalars, "other": values})
    factor = st.one_of(factor, st.fixed_dictionaries({"values": st.lists(scalars, min_size=1, max_size=3)}),
                       st.fixed_dictionaries({"range": st.tuples(st.floats(0, 1), st.floats(0, 1)).map(list),
                                              "steps": st.integers(1, 4)}))
    parts = {
        "name": st.one_of(names, names, st.text(max_size=12), odd_text, values),
        "scenario": st.one_of(st.sampled_from(["double11", "formats", "nosuch", "../x.toml"]), values),
        "base": st.one_of(parameter_table(), parameter_table(), values),
        "vary": st.one_of(st.dictionaries(st.sampled_from(KEYS), factor, min_size=1, max_size=6),
                          st.dictionaries(st.sampled_from(KEYS), factor, min_size=1, max_size=6), values),
        "sampler": st.one_of(st.fixed_dictionaries({}, optional={
            "method": st.one_of(st.sampled_from(["grid", "lhs", "sobol", "morris"]), values),
            "samples": st.one_of(st.integers(-1, 8), st.integers(10**6, 10**13), values),
            "levels": st.one_of(st.integers(-1, 6), values), "seed": scalars}), values),
        "replications": st.one_of(st.integers(-1, 3), st.integers(10**6, 10**13), values),
        "outcomes": st.one_of(st.lists(st.sampled_from(["gmv_festival", "hhi_final", "nosuch"]), max_size=3), values),
        "root_seed": st.one_of(st.integers(0, 99), scalars), "seeds": st.one_of(st.sampled_from(["common", "independent"]), values),
        "counterfactual": st.one_of(st.booleans(), values), "keep_hourly": st.one_of(st.booleans(), values),
    }
    data = {k: draw(v) for k, v in parts.items() if draw(st.booleans())}
    if "scenario" in data and draw(st.booleans()):
        data["arm"] = draw(st.one_of(st.sampled_from(["single_day", "two_waves", "nosuch"]), values))
    return data


def toml(data: dict[str, Any]) -> str:
    """A TOML document of top-level keys with inline values (tomllib reads, nothing in the stdlib writes)."""
    return "".join(f"{json.dumps(k, ensure_ascii=False)} = {_value(v)}\n" for k, v in data.items())


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)  # beyond 64 bits: not TOML, the reader refuses it
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # control characters escaped, the rest as is
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {_value(x)}" for k, x in v.items()) + "}"


# --------------------------------------------------------------------------- the property


def _check(argv_head: list[str], data: dict[str, Any], capsys: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        work = root / "work"
        work.mkdir()
        (work / "study.toml").write_text(toml(data), encoding="utf-8")
        cwd = os.getcwd()
        os.chdir(work)  # the default output folder is results/<name>-<time> under here
        try:
            status = main([*argv_head, "study.toml", "--no-progress"])
        except Accepted:
            status = 0
        except SystemExit as exc:  # the sweep command exits itself
            status = exc.code
        finally:
            os.chdir(cwd)
        err = capsys.readouterr().err
        errors = [line for line in err.splitlines() if line.startswith("run.py: error:")]
        event("accepted" if status == 0 else errors[0][15:60] if errors else "no message")
        assert status in (0, 2), err
        assert "Traceback" not in err
        if status == 2:
            assert len(errors) == 1 and err.rstrip().endswith(errors[0]), err
        written = {p.relative_to(root).parts for p in root.rglob("*")}
        outside = sorted("/".join(p) for p in written if p[:2] not in (("work",), ("work", "study.toml"), ("work", "results")))
        assert not outside, f"wrote outside the output folder: {outside[:3]}"


@FUZZ
@given(data=st.one_of(scenario_files(), near_valid_scenarios()))
@example(data={"name": "../escaped", "base": {"consumers.n": 100}})
@example(data={"name": "a/../../b", "base": {"consumers.n": 100}})
def test_random_scenario_files_succeed_or_fail_in_one_line(data, capsys, monkeypatch):
    import sim.experiments.scenarios

    monkeypatch.setattr(sim.experiments.scenarios, "run_scenario", _refuse_to_run)
    _check([], data, capsys)


@FUZZ
@given(data=sweep_files())
@example(data={"name": "../escaped", "vary": {"festival.discount": {"values": [0.2, 0.3]}}})
def test_random_sweep_files_succeed_or_fail_in_one_line(data, capsys, monkeypatch):
    import sim.app.sweeps.runner

    monkeypatch.setattr(sim.app.sweeps.runner, "execute", _refuse_to_run)
    _check(["sweep"], data, capsys)
