"""Sweep files: what to vary, how to sample it, how often to replicate, what to analyse.

A sweep file is TOML (see ``scenarios/sweeps/``). It is validated here, once, before any
run starts: every key is checked against the parameter schema, so a typo or a NaN is a
one-line :class:`SweepError` naming the key rather than a crash an hour into the job.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from scipy import stats

from sim.model.formats import windows_text
from sim.model.ecosystem import ECOSYSTEM_METRICS
from sim.model.metrics import RUN_METRICS
from sim.model.params import ParameterError, Params, build_params, known_keys
from sim.experiments.scenarios import DEFAULT_SEED, MAX_RUNS, ScenarioError, flatten, load_scenario, name_problem, seed_problem

METHODS = ("grid", "lhs", "sobol", "morris")
DISTRIBUTIONS = ("uniform", "loguniform", "normal", "triangular")  # plus "choice" for listed values
SEED_MODES = ("common", "independent")
DEFAULT_SAMPLES = {"lhs": 64, "sobol": 64, "morris": 10}
_TOP_KEYS = {"name", "description", "scenario", "arm", "base", "vary", "sampler", "replications", "outcomes",
             "root_seed", "seeds", "counterfactual", "keep_hourly", "cluster"}
_FACTOR_KEYS = {"values", "range", "distribution", "steps", "mean", "sd", "mode"}
_SAMPLER_KEYS = {"method", "samples", "levels", "seed"}
_EDGE = 1e-12  # keeps unbounded inverse CDFs finite at the unit cube's faces


class SweepError(ValueError):
    """A sweep file or option that cannot be used; the message is one line naming the key."""


@dataclass(frozen=True)
class Factor:
    """One varied parameter: a list of values, or a distribution over a range."""

    key: str
    distribution: str = "uniform"
    low: float | None = None
    high: float | None = None
    values: tuple[Any, ...] = ()
    steps: int | None = None
    mean: float | None = None
    sd: float | None = None
    mode: float | None = None
    integer: bool = False

    @property
    def categorical(self) -> bool:
        return self.distribution == "choice"

    def from_unit(self, u: np.ndarray) -> list[Any]:
        """Map points of [0, 1] to parameter values (inverse CDF), as samplers work on the unit cube."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        if self.categorical:
            picks = np.minimum((u * len(self.values)).astype(int), len(self.values) - 1)
            return [self.values[i] for i in picks]
        return self._cast(self._ppf(u))

    def grid(self) -> list[Any]:
        """The levels of a full-grid sweep: the listed values, or ``steps`` points over the range."""
        if self.categorical:
            return list(self.values)
        n = self.steps or 0
        if self.distribution == "uniform":
            points = np.linspace(self.low, self.high, n)
        elif self.distribution == "loguniform":
            points = np.geomspace(self.low, self.high, n)
        else:  # quantile midpoints: equally likely cells of the distribution
            points = self._ppf((np.arange(n) + 0.5) / n)
        return list(dict.fromkeys(self._cast(points)))

    def _ppf(self, u: np.ndarray) -> np.ndarray:
        lo, hi = self.low, self.high
        if self.distribution == "uniform":
            return lo + u * (hi - lo)
        if self.distribution == "loguniform":
            return np.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
        if self.distribution == "triangular":
            return stats.triang(c=(self.mode - lo) / (hi - lo), loc=lo, scale=hi - lo).ppf(u)
        u = np.clip(u, _EDGE, 1 - _EDGE)
        if lo is None:
            return stats.norm(self.mean, self.sd).ppf(u)
        a, b = (lo - self.mean) / self.sd, (hi - self.mean) / self.sd
        return stats.truncnorm(a, b, loc=self.mean, scale=self.sd).ppf(u)

    def _cast(self, points: np.ndarray) -> list[Any]:
        if self.integer:
            return [int(round(float(p))) for p in points]
        return [float(p) for p in points]


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: base overrides, factors, sampler and replication settings."""

    name: str
    factors: tuple[Factor, ...]
    method: str = "grid"
    samples: int | None = None
    levels: int = 4
    sampler_seed: int = DEFAULT_SEED
    replications: int = 1
    outcomes: tuple[str, ...] = ("gmv_festival",)
    root_seed: int = DEFAULT_SEED
    seeds: str = "common"
    counterfactual: bool = True
    keep_hourly: bool = False
    base: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    cluster: dict[str, Any] = field(default_factory=dict)
    source: str | None = None

    @property
    def keys(self) -> list[str]:
        return [f.key for f in self.factors]

    def base_params(self) -> Params:
        return build_params(self.base)

    def run_seed(self, design_point: int, replication: int) -> int:
        """Common mode: replication r shares its seed across design points (common random numbers)."""
        from sim.model.runs import derive_seed

        if self.seeds == "common":
            return derive_seed(self.root_seed, replication)
        return derive_seed(self.root_seed, design_point * self.replications + replication)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form, for the manifest and to check a resume uses the same sweep."""
        data = asdict(self)
        data.pop("source")
        data["factors"] = [{k: v for k, v in asdict(f).items() if v not in (None, ())} for f in self.factors]
        return _jsonable(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str | None = None) -> "SweepSpec":
        """Inverse of :meth:`to_dict`: a folder's manifest is enough to resume or rebuild it."""
        try:
            fields = {**data, "outcomes": tuple(data["outcomes"]), "factors": tuple(
                Factor(**{k: tuple(v) if k == "values" else v for k, v in f.items()}) for f in data["factors"])}
            return cls(**fields, source=source)
        except (KeyError, TypeError) as exc:
            raise SweepError(f"sweep spec in manifest is not readable ({exc})") from None


def load_spec(source: str | Path | Mapping[str, Any], *, overrides: Mapping[str, Any] | None = None,
              reps: int | None = None, samples: int | None = None) -> SweepSpec:
    """Read (a path) or take (a mapping) a sweep spec, apply command-line options, validate it all."""
    if isinstance(source, Mapping):
        data, where, default_name = dict(source), None, "sweep"
    else:
        path = Path(source)
        data, where, default_name = _read_toml(path), str(path), path.stem
    spec = parse_spec(data, default_name=default_name, source=where)
    changes: dict[str, Any] = {}
    if reps is not None:
        changes["replications"] = _count("--reps", reps)
    if samples is not None:
        if spec.method == "grid":
            raise SweepError("--samples: a grid sweep's size comes from each parameter's values or steps")
        changes["samples"] = _count("--samples", samples)
    if overrides:
        varied = sorted(set(overrides) & set(spec.keys))
        if varied:
            raise SweepError(f"{varied[0]}: is varied by the sweep; change its range in the sweep file instead")
        changes["base"] = {**spec.base, **dict(overrides)}
        _validate_base(changes["base"], where="--set")
    spec = replace(spec, **changes) if changes else spec
    if planned_runs(spec) > MAX_RUNS:
        points = planned_runs(spec) // spec.replications
        where = ("vary" if spec.method == "grid" else "sampler.samples") if points > MAX_RUNS else "replications"
        raise SweepError(f"{where}: {points:,} design points x {spec.replications:,} replications is more than the "
                         f"{MAX_RUNS:,} runs one sweep may have")
    return spec


def planned_runs(spec: SweepSpec) -> int:
    """Runs the sweep's design will have (a grid's duplicate levels aside), known before it is drawn."""
    d = len(spec.factors)
    if spec.method == "grid":
        points = math.prod(len(f.values) if f.categorical else (f.steps or 0) for f in spec.factors)
    else:
        n = spec.samples or DEFAULT_SAMPLES[spec.method]
        points = {"lhs": n, "sobol": n * (d + 2), "morris": n * (d + 1)}[spec.method]
    return points * spec.replications


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise SweepError(f"{path}: sweep file not found")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SweepError(f"{path}: malformed TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SweepError(f"{path}: cannot read: {exc}") from None


def parse_spec(data: Mapping[str, Any], *, default_name: str = "sweep", source: str | None = None) -> SweepSpec:
    """Validate the contents of a sweep file (already parsed from TOML)."""
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise SweepError(f"{unknown[0]}: unknown sweep key (expected {', '.join(sorted(_TOP_KEYS))})")
    name = _string(data, "name", default_name)
    if problem := name_problem(name):
        raise SweepError(f"name: {problem}")
    base = _base(data)
    sampler = _table(data, "sampler")
    unknown = sorted(set(sampler) - _SAMPLER_KEYS)
    if unknown:
        raise SweepError(f"sampler.{unknown[0]}: unknown key (expected {', '.join(sorted(_SAMPLER_KEYS))})")
    method = sampler.get("method", "grid")
    if method not in METHODS:
        raise SweepError(f"sampler.method: must be one of {', '.join(METHODS)} (got {method!r})")
    samples = sampler.get("samples", DEFAULT_SAMPLES.get(method))
    if method == "grid" and "samples" in sampler:
        raise SweepError("sampler.samples: a grid sweep's size comes from each parameter's values or steps")
    factors = _factors(_table(data, "vary"), method, Params().flat())
    outcomes = data.get("outcomes", ["gmv_festival"])
    if not isinstance(outcomes, list) or not outcomes or not all(isinstance(o, str) for o in outcomes):
        raise SweepError("outcomes: must be a non-empty list of metric names")
    known = (*RUN_METRICS, *ECOSYSTEM_METRICS)
    bad = [o for o in outcomes if o not in known]
    if bad:
        raise SweepError(f"outcomes: unknown metric {bad[0]!r} (known: {', '.join(known)})")
    seeds = data.get("seeds", "common")
    if seeds not in SEED_MODES:
        raise SweepError(f"seeds: must be one of {', '.join(SEED_MODES)} (got {seeds!r})")
    root_seed = _seed("root_seed", data.get("root_seed", DEFAULT_SEED))
    return SweepSpec(
        name=name, factors=factors, method=method,
        samples=None if samples is None else _count("sampler.samples", samples),
        levels=_count("sampler.levels", sampler.get("levels", 4), minimum=2),
        sampler_seed=_seed("sampler.seed", sampler.get("seed", root_seed)),
        replications=_count("replications", data.get("replications", 1)),
        outcomes=tuple(dict.fromkeys(outcomes)), root_seed=root_seed,
        seeds=seeds, counterfactual=_bool(data, "counterfactual", True), keep_hourly=_bool(data, "keep_hourly", False),
        base=base, description=_string(data, "description", ""), cluster=_table(data, "cluster"), source=source,
    )


def _base(data: Mapping[str, Any]) -> dict[str, Any]:
    """The fixed parameters: a scenario's base (+ one of its arms), then the file's ``[base]`` table."""
    base: dict[str, Any] = {}
    if "scenario" in data:
        try:
            scenario = load_scenario(_string(data, "scenario", ""))
            arm = scenario.arm(_string(data, "arm", scenario.reference))
        except ScenarioError as exc:
            raise SweepError(f"scenario: {exc}") from None
        base.update(scenario.base)
        base.update(arm.overrides)
    elif "arm" in data:
        raise SweepError("arm: only meaningful together with scenario")
    base.update(flatten(_table(data, "base")))
    _validate_base(base)
    return base


def _validate_base(base: Mapping[str, Any], where: str = "base") -> None:
    try:
        build_params(dict(base))
    except ParameterError as exc:
        raise SweepError(f"{where}: {exc}") from None


def _factors(table: Mapping[str, Any], method: str, defaults: Mapping[str, Any]) -> tuple[Factor, ...]:
    leaves = _factor_tables(table)
    if not leaves:
        raise SweepError("vary: name at least one parameter to vary")
    keys = set(known_keys())
    factors = []
    for key, body in leaves.items():
        if key not in keys:
            raise SweepError(f"vary.{key}: unknown parameter (see `python run.py params`)")
        factors.append(_factor(key, body, method, defaults[key]))
    return tuple(factors)


def _factor_tables(table: Mapping[str, Any], prefix: str = "") -> dict[str, Mapping[str, Any]]:
    """``[vary."a.b"]`` and ``[vary.a.b]`` both name key ``a.b``: descend until a factor's own fields."""
    out: dict[str, Mapping[str, Any]] = {}
    for key, value in table.items():
        if not isinstance(value, Mapping):
            raise SweepError(f"vary.{prefix}{key}: must be a table with values = [...] or range = [low, high]")
        if set(value) & _FACTOR_KEYS:
            out[f"{prefix}{key}"] = value
        else:
            out.update(_factor_tables(value, f"{prefix}{key}."))
    return out


def _factor(key: str, body: Mapping[str, Any], method: str, default: Any) -> Factor:
    where = f"vary.{key}"
    unknown = sorted(set(body) - _FACTOR_KEYS)
    if unknown:
        raise SweepError(f"{where}.{unknown[0]}: unknown key (expected {', '.join(sorted(_FACTOR_KEYS))})")
    integer = isinstance(default, int) and not isinstance(default, bool)
    if "values" in body:
        values = body["values"]
        if set(body) - {"values"}:
            raise SweepError(f"{where}: give either values = [...] or a range/distribution, not both")
        if not isinstance(values, list) or not values:
            raise SweepError(f"{where}.values: must be a non-empty list")
        if key == "festival.windows":  # a list of tables per level: compared and tabulated as its TOML text
            values = [windows_text(v) for v in values]
        for v in values:
            _check_value(key, v)
        return Factor(key, "choice", values=tuple(values), integer=integer)
    if isinstance(default, str):
        raise SweepError(f"{where}: {key} is categorical; list its levels with values = [...] instead of a "
                         "range or distribution")
    dist = body.get("distribution", "uniform")
    if dist not in DISTRIBUTIONS:
        raise SweepError(f"{where}.distribution: must be one of {', '.join(DISTRIBUTIONS)} (got {dist!r})")
    low, high = _range(where, body.get("range"), required=dist != "normal")
    mean = _number(f"{where}.mean", body["mean"]) if "mean" in body else None
    sd = _number(f"{where}.sd", body["sd"]) if "sd" in body else None
    mode = _number(f"{where}.mode", body["mode"]) if "mode" in body else None
    if dist == "loguniform" and low <= 0:
        raise SweepError(f"{where}.range: a loguniform range must be positive (got {low})")
    if dist == "normal" and (mean is None or sd is None or sd <= 0):
        raise SweepError(f"{where}: a normal distribution needs mean and a positive sd")
    if dist == "triangular" and (mode is None or not low <= mode <= high):
        raise SweepError(f"{where}.mode: a triangular distribution needs a mode inside the range")
    steps = body.get("steps")
    if method == "grid":
        if steps is None:
            raise SweepError(f"{where}.steps: a grid sweep needs steps (or values) for each parameter")
        steps = _count(f"{where}.steps", steps)
    elif steps is not None:
        raise SweepError(f"{where}.steps: only used by grid sweeps")
    factor = Factor(key, dist, low=low, high=high, steps=steps, mean=mean, sd=sd, mode=mode, integer=integer)
    bounds = [b for b in (low, high) if b is not None]
    for bound in bounds:  # the values the user wrote, so a message quotes them (not 1.499999999999)
        _check_value(key, int(round(bound)) if integer else bound, f" from range = [{low:g}, {high:g}]")
    for v in factor.from_unit(np.array([_EDGE, 1 - _EDGE])):
        _check_value(key, v)
    return factor


def _check_value(key: str, value: Any, context: str = "") -> None:
    """Reject a value its own field rejects (type, sign, bounds) whatever the rest of the design.

    Errors of a whole section (e.g. shares summing past 1) depend on the other values, so
    they are left to the per-design-point check, which records them as failed points.
    """
    try:
        build_params({key: value})
    except ParameterError as exc:
        if str(exc).startswith(f"{key}:"):
            raise SweepError(f"vary.{exc}{context}") from None


def _range(where: str, value: Any, required: bool) -> tuple[float | None, float | None]:
    if value is None:
        if required:
            raise SweepError(f"{where}: needs values = [...] or range = [low, high]")
        return None, None
    if not isinstance(value, list) or len(value) != 2:
        raise SweepError(f"{where}.range: must be [low, high]")
    low, high = (_number(f"{where}.range", v) for v in value)
    if not low < high:
        raise SweepError(f"{where}.range: low must be below high (got {value})")
    return low, high


def _number(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SweepError(f"{where}: must be a finite number (got {value!r})")
    return float(value)


def _count(where: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SweepError(f"{where}: must be an integer >= {minimum} (got {value!r})")
    return value


def _seed(where: str, value: Any) -> int:
    problem = seed_problem(value)
    if problem:
        raise SweepError(f"{where}: {problem}")
    return value


def _bool(data: Mapping[str, Any], key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise SweepError(f"{key}: must be true or false (got {value!r})")
    return value


def _string(data: Mapping[str, Any], key: str, default: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise SweepError(f"{key}: must be a string (got {value!r})")
    return value


def _table(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise SweepError(f"{key}: must be a table")
    return dict(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
