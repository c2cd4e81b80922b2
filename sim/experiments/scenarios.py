"""Scenario files: which arms to compare, how often, from which seed.

A scenario is the unit a strategist asks a question with ("does a multi-day festival
beat a single day?"). It is read from TOML, validated through the parameter schema
before anything runs, and turned into one executor task per (arm, replication).
Every arm of replication ``r`` runs on ``derive_seed(root_seed, r)``: common random
numbers, so arm differences are paired and their intervals tight.

File layout (all keys but ``name`` and arms optional)::

    name = "formats"
    description = "..."
    reference = "single_day"        # arm the others are compared with (default: first)
    replications = 8
    seed = 20261111
    [base]                          # dotted keys or nested tables
    "consumers.n" = 20000
    [factors]                       # cross product of the levels makes the arms
    "festival.format" = ["single_day", "two_waves"]
    [[arms]]                        # and/or arms listed one by one
    name = "none"
    "festival.format" = "none"
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from sim.model.formats import windows_label
from sim.experiments.goals import Goal, GoalError, parse_goals
from sim.model.params import ParameterError, Params, build_params

if TYPE_CHECKING:  # pandas is only needed once a scenario runs
    import pandas as pd

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"
DEFAULT_SCENARIO = "double11"
DEFAULT_SEED = 20261111
MAX_RUNS = 1_000_000  # runs in one study or sweep: more is a typo, not a plan (a million default runs is CPU-years)
MAX_SEED = 2**63 - 1  # seeds are stored as 64-bit integers in runs.csv and hourly.parquet
ARM_KEYS = ("festival.format", "platform.policy")  # always reported, whatever varies
_TOP_KEYS = {"name", "description", "reference", "replications", "seed", "counterfactual", "base", "factors", "arms",
             "goals"}


class ScenarioError(ValueError):
    """A scenario file or option that cannot be used; the message is one line naming the problem."""


def seed_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a seed (None if it can): checked before any run, because a
    seed the tables cannot hold would only fail after the runs, losing them."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        return f"must be an integer from 0 to 2**63-1 = {MAX_SEED} (got {value!r})"
    return None


@dataclass(frozen=True)
class Arm:
    """One configuration to compare: its name, its overrides on top of the base, and the validated params."""

    name: str
    overrides: Mapping[str, Any]
    params: Params


@dataclass(frozen=True)
class Scenario:
    """A validated comparison: base parameters, arms, reference arm, replications and root seed."""

    name: str
    description: str
    base: Mapping[str, Any]
    arms: tuple[Arm, ...]
    reference: str
    replications: int
    seed: int
    counterfactual: bool = True
    source: str | None = None  # path of the file it came from, for the manifest
    goals: tuple[Goal, ...] = ()  # what the decision summary answers; empty = the default goals
    draws: tuple[Mapping[str, Any], ...] = ()  # --posterior: replication r's parameter vector, the same in every arm
    posterior: str | None = None  # the calibration folder the draws come from

    def arm(self, name: str) -> Arm:
        for arm in self.arms:
            if arm.name == name:
                return arm
        raise ScenarioError(f"unknown arm {name!r}; arms are {', '.join(a.name for a in self.arms)}")

    def run_seed(self, replication: int) -> int:
        """The seed every arm uses in this replication (common random numbers)."""
        from sim.model.runs import derive_seed

        return derive_seed(self.seed, replication)

    def varying_keys(self) -> list[str]:
        """Parameter keys that differ between arms, plus format and policy (the runs.csv arm columns)."""
        flats = [arm.params.flat() for arm in self.arms]
        varying = [k for k in flats[0] if any(f[k] != flats[0][k] for f in flats[1:])]
        return list(ARM_KEYS) + [k for k in varying if k not in ARM_KEYS]

    def fingerprint(self) -> str:
        """A digest of every run this scenario makes (index, arm, seed, parameters): a folder
        can be resumed only by the scenario that started it."""
        import hashlib
        import json

        runs = [[t.index, t.labels, t.seed, t.counterfactual, t.params.flat()] for t in self.tasks()]
        return hashlib.sha256(json.dumps(runs, sort_keys=True, default=str).encode()).hexdigest()[:20]

    def tasks(self) -> list[Any]:
        """One executor task per (replication, arm); index is replication-major so partial results are balanced."""
        from sim.experiments.execute import Task

        tasks = []
        for r in range(self.replications):
            seed = self.run_seed(r)
            for a, arm in enumerate(self.arms):
                tasks.append(Task(index=r * len(self.arms) + a, params=self.replication_params(arm, r), seed=seed,
                                  counterfactual=self.counterfactual,
                                  labels={"arm": arm.name, "replication": r}))
        return tasks

    def replication_params(self, arm: Arm, replication: int) -> Params:
        """An arm's parameters in a replication: with --posterior, that replication's draw under the arm's own settings."""
        if not self.draws:
            return arm.params
        return arm.params.with_overrides({k: v for k, v in self.draws[replication].items() if k not in arm.overrides})

    def with_posterior(self, draws: Sequence[Mapping[str, Any]], source: str) -> "Scenario":
        """The same scenario with one posterior draw per replication (paired across arms)."""
        if len(draws) < self.replications:
            raise ScenarioError(f"--posterior {source}: {len(draws)} draws for {self.replications} replications")
        return dataclasses.replace(self, draws=tuple(dict(d) for d in draws[: self.replications]), posterior=source)

    def with_options(self, *, replications: int | None = None, seed: int | None = None,
                     overrides: Mapping[str, Any] | None = None, arms: Sequence[str] | None = None,
                     reference: str | None = None, preset: Mapping[str, Any] | None = None) -> "Scenario":
        """The same scenario with command-line options applied, re-validated.

        ``preset`` (a --params file) sits under the scenario's own base; ``overrides`` (--set) win over everything."""
        base = {**(preset or {}), **self.base, **(overrides or {})}
        chosen = [self.arm(n) for n in arms] if arms else list(self.arms)
        # --set wins over everything, including what an arm sets
        specs = [(a.name, {**a.overrides, **(overrides or {})}) for a in chosen]
        ref = reference or (self.reference if any(n == self.reference for n, _ in specs) else specs[0][0])
        try:
            return make_scenario(
                self.name, arms=dict(specs), base=base, reference=ref, description=self.description,
                replications=self.replications if replications is None else replications,
                seed=self.seed if seed is None else seed, counterfactual=self.counterfactual, source=self.source,
                goals=self.goals,
            )
        except IdenticalArms as exc:
            clobbered = [k for k in (overrides or {}) if any(k in a.overrides for a in chosen if a.name in exc.arms)]
            if not clobbered:
                raise
            shown = ", ".join(f"{k}={_plain(overrides[k])}" for k in clobbered)  # type: ignore[index]
            raise ScenarioError(f"--set {shown} makes arms {', '.join(exc.arms)} identical (it overrides "
                                f"{', '.join(clobbered)}, which those arms set differently); drop it or use --arms") from None


def name_problem(name: Any) -> str | None:
    """Why a study's name cannot start its output folder's name (None if it can): the folder must
    stay inside results/, whatever the name says."""
    if not isinstance(name, str) or not name.strip():
        return "must be a non-empty string"
    if any(c in name for c in "/\\") or name.startswith(".") or not name.isprintable():
        return f"names the output folder: no slashes, leading dot or control characters (got {name!r})"
    return None


def make_scenario(name: str, *, arms: Mapping[str, Mapping[str, Any]] | None = None,
                  factors: Mapping[str, Sequence[Any]] | None = None, base: Mapping[str, Any] | None = None,
                  reference: str | None = None, description: str = "", replications: int = 8,
                  seed: int = DEFAULT_SEED, counterfactual: bool = True, source: str | None = None,
                  goals: tuple[Goal, ...] = ()) -> Scenario:
    """Build and validate a scenario from Python values (what a TOML file and a script both end up calling)."""
    base = dict(base or {})
    if problem := name_problem(name):
        raise ScenarioError(f"name: {problem}")
    _check_count("replications", replications)
    _check_size(factors or {}, arms or {}, replications)
    if seed_problem(seed):
        raise ScenarioError(f"seed: {seed_problem(seed)}")
    try:
        base_params = build_params(base)
    except ParameterError as exc:
        raise ScenarioError(f"base: {exc}") from None
    specs = _factor_arms(factors or {}) + list((arms or {}).items())
    if not specs:
        specs = [("base", {})]
    names = [n for n, _ in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ScenarioError(f"arms: duplicate arm name {dupes[0]!r}")
    built = []
    for arm_name, overrides in specs:
        try:
            params = build_params(dict(overrides), base=base_params)
        except ParameterError as exc:
            raise ScenarioError(f"arm {arm_name!r}: {exc}") from None
        built.append(Arm(arm_name, dict(overrides), params))
    _check_distinct(built)
    reference = reference or names[0]
    if reference not in names:
        raise ScenarioError(f"reference: unknown arm {reference!r}; arms are {', '.join(names)}")
    return Scenario(name=name, description=description, base=base, arms=tuple(built), reference=reference,
                    replications=replications, seed=seed, counterfactual=counterfactual, source=source, goals=goals)


class IdenticalArms(ScenarioError):
    """Two or more arms with the same parameters: their comparison would be meaningless."""

    def __init__(self, arms: Sequence[str]) -> None:
        self.arms = tuple(arms)
        super().__init__(f"arms {', '.join(self.arms)} have identical parameters; a comparison between them means nothing")


def _check_distinct(arms: Sequence[Arm]) -> None:
    groups: dict[str, list[str]] = {}
    for arm in arms:
        groups.setdefault(arm.params.model_dump_json(), []).append(arm.name)
    same = next((names for names in groups.values() if len(names) > 1), None)
    if same:
        raise IdenticalArms(same)


def _check_count(key: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ScenarioError(f"{key}: must be a positive integer (got {value!r})")


def _check_size(factors: Mapping[str, Any], arms: Mapping[str, Any], replications: int) -> None:
    """Refuse a study too large to mean it before building its arms (a typo's 10**9 would never end)."""
    n_arms = math.prod(len(v) if isinstance(v, (list, tuple)) else 1 for v in factors.values()) + len(arms)
    if n_arms * replications > MAX_RUNS:
        where = "factors" if n_arms > MAX_RUNS else "replications"
        raise ScenarioError(f"{where}: {n_arms:,} arms x {replications:,} replications is more than the "
                            f"{MAX_RUNS:,} runs one study may have")


def _factor_arms(factors: Mapping[str, Sequence[Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Cross product of factor levels; an arm is named by its levels of the factors that vary, joined by '/'."""
    for key, levels in factors.items():
        if not isinstance(levels, (list, tuple)) or not levels:
            raise ScenarioError(f"factors.{key}: must be a non-empty list of levels")
    keys = list(factors)
    if not keys:
        return []
    arms = []
    for combo in itertools.product(*(factors[k] for k in keys)):
        named = [_level_name(k, v) for k, v in zip(keys, combo) if len(factors[k]) > 1] or [_level_name(keys[0], combo[0])]
        arms.append(("/".join(named), dict(zip(keys, combo))))
    return arms


def _level_name(key: str, value: Any) -> str:
    """How a factor level names its arm: a custom festival by its windows ('custom 11-09..11-11 30%')."""
    return windows_label(value) if key == "festival.windows" else str(value)


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested TOML tables -> dotted keys, so `[base.consumers] n = 1` and `"consumers.n" = 1` mean the same."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def parse_scenario(data: Mapping[str, Any], *, default_name: str = "scenario", source: str | None = None) -> Scenario:
    """Validate the contents of a scenario file."""
    if not data:
        raise ScenarioError("empty scenario file: give at least [base], [factors] or [[arms]] (see README, Scenario files)")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ScenarioError(f"{unknown[0]}: unknown scenario key (expected {', '.join(sorted(_TOP_KEYS))})")
    name = data.get("name", default_name)
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ScenarioError("description: must be a string")
    base = data.get("base", {})
    factors = data.get("factors", {})
    if not isinstance(base, Mapping):
        raise ScenarioError("base: must be a table of parameters")
    if not isinstance(factors, Mapping):
        raise ScenarioError("factors: must be a table of parameter -> list of levels")
    factors = {k: v for k, v in flatten(_lists_as_leaves(factors)).items()}
    arms: dict[str, dict[str, Any]] = {}
    listed = data.get("arms", [])
    if not isinstance(listed, list):
        raise ScenarioError("arms: must be an array of tables ([[arms]])")
    for i, entry in enumerate(listed):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            raise ScenarioError(f"arms[{i}]: each arm needs a name")
        body = {k: v for k, v in entry.items() if k != "name"}
        if entry["name"] in arms:
            raise ScenarioError(f"arms: duplicate arm name {entry['name']!r}")
        arms[entry["name"]] = flatten(body)
    counterfactual = data.get("counterfactual", True)
    if not isinstance(counterfactual, bool):
        raise ScenarioError("counterfactual: must be true or false")
    reference = data.get("reference")
    if reference is not None and not isinstance(reference, str):
        raise ScenarioError("reference: must be an arm name")
    try:
        goals = parse_goals(data.get("goals"))
    except GoalError as exc:
        raise ScenarioError(str(exc)) from None
    return make_scenario(name, arms=arms, factors=factors, base=flatten(base), reference=reference,
                         description=description, replications=data.get("replications", 8),
                         seed=data.get("seed", DEFAULT_SEED), counterfactual=counterfactual, source=source,
                         goals=goals)


def _lists_as_leaves(tree: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (_lists_as_leaves(v) if isinstance(v, Mapping) else v) for k, v in tree.items()}


def resolve_path(ref: str | Path) -> Path:
    """A path as given, or a shipped scenario's name (`formats` -> scenarios/formats.toml)."""
    path = Path(ref)
    if path.suffix == ".toml" or path.exists() or "/" in str(ref):
        if not path.is_file():
            raise ScenarioError(f"{ref}: scenario file not found")
        return path
    shipped = SCENARIO_DIR / f"{ref}.toml"
    if not shipped.is_file():
        names = ", ".join(s["name"] for s in list_scenarios()) or "none"
        raise ScenarioError(f"{ref}: no such scenario file or shipped scenario (shipped: {names})")
    return shipped


def load_scenario(ref: str | Path = DEFAULT_SCENARIO) -> Scenario:
    """Read and validate a scenario file (path or shipped name)."""
    path = resolve_path(ref)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: malformed TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from None
    try:
        return parse_scenario(data, default_name=path.stem, source=str(path))
    except ScenarioError as exc:
        raise ScenarioError(f"{path.name}: {exc}") from None


def list_scenarios() -> list[dict[str, str]]:
    """Shipped scenarios with their descriptions (`run.py list`); unreadable files are listed as such."""
    rows = []
    for path in sorted(SCENARIO_DIR.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            desc = str(data.get("description", "")).strip()
        except (tomllib.TOMLDecodeError, OSError) as exc:
            desc = f"(unreadable: {exc})"
        rows.append({"name": path.stem, "description": desc, "path": str(path)})
    return rows


@dataclass
class ScenarioResult:
    """What running a scenario produces: the outcomes and the tidy tables the report reads."""

    scenario: Scenario
    outcomes: list[Any]
    runs: "pd.DataFrame"            # one row per run
    hourly: "pd.DataFrame | None"   # one row per run and hour (None if not kept)
    comparison: "pd.DataFrame"      # per arm and metric
    wall_seconds: float = 0.0
    failures: list[dict[str, Any]] = field(default_factory=list)
    yearly: "pd.DataFrame | None" = None  # one row per run and year (yearly.csv)


def run_scenario(scenario: Scenario, *, workers: int | None = 1, progress: bool = False,
                 keep_hourly: bool = True, run_fn: Callable[..., Any] | None = None, **execute_options: Any) -> ScenarioResult:
    """Run every (arm, replication) through the executor and assemble the tables."""
    import time

    from sim.experiments.execute import execute
    from sim.experiments.stats import comparison_table
    from sim.experiments.tables import hourly_table, runs_table, yearly_table

    t0 = time.perf_counter()
    kwargs: dict[str, Any] = dict(workers=workers, keep_hourly=keep_hourly, progress=progress, **execute_options)
    if "chunk_size" not in kwargs and scenario.replications >= (workers or os.cpu_count() or 1):
        # whole replications per chunk: the arms of a replication share their `none` baseline run,
        # which run_model memoises per process (results do not depend on chunking)
        kwargs["chunk_size"] = len(scenario.arms)
    if run_fn is not None:
        kwargs["run_fn"] = run_fn
    outcomes = execute(scenario.tasks(), **kwargs)
    wall = time.perf_counter() - t0
    runs = runs_table(outcomes, scenario.varying_keys())
    hourly = hourly_table(outcomes) if keep_hourly else None
    comparison = comparison_table(runs, reference=scenario.reference)
    failures = [{**o.task.labels, "seed": o.task.seed, "error": o.error} for o in outcomes if o.error]
    return ScenarioResult(scenario, outcomes, runs, hourly, comparison, wall, failures, yearly_table(outcomes))


def describe_arms(scenario: Scenario) -> list[dict[str, Any]]:
    """Arm name -> its overrides and full resolved parameters (for the manifest)."""
    return [{"name": a.name, "overrides": {k: _plain(v) for k, v in a.overrides.items()}, "params": a.params.flat()}
            for a in scenario.arms]


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


__all__ = [
    "Arm", "Scenario", "ScenarioError", "ScenarioResult", "make_scenario", "parse_scenario", "load_scenario",
    "list_scenarios", "resolve_path", "run_scenario", "describe_arms", "flatten", "DEFAULT_SCENARIO",
]
