"""A scenario's `[goals]`: what a strategist wants, so the report can say which arm to pick.

Each goal maximises (or minimises) one metric subject to bounds on others::

    [goals.growth]
    maximise = "gmv_incremental"
    subject_to = ["p95_delivery_delay_h <= 24"]

Bounds are in the metric's own unit as in runs.csv (yuan, hours, shares as fractions).
Only metrics that compare like with like are allowed: a festival-period total would rank
the length of the period, not the festival. Checked before any run; a bad goal is one line
naming the field (exit status 2 from the command line).
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.experiments.outcomes import METRICS, fmt_value, info

MAX_GOALS = 4  # one sentence each, plus one on confidence: the decision summary stays within five sentences
_BOUND = re.compile(r"^\s*([A-Za-z0-9_]+)\s*(<=|>=)\s*([-+]?[0-9][0-9_.eE+-]*)\s*$")


class GoalError(ValueError):
    """A `[goals]` entry that cannot be used; one line naming the field."""


def _check_metric(name: str) -> str:
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r} (known: {', '.join(sorted(m for m in METRICS if METRICS[m].comparable))})")
    if not info(name).comparable:
        raise ValueError(f"{name} is a total over the festival period, whose length differs between formats; "
                         "use gmv_per_festival_day or gmv_incremental")
    return name


class Bound(BaseModel):
    """``metric <= value`` or ``metric >= value``."""

    metric: str
    op: str
    value: float

    def holds(self, x: float) -> bool:
        return x <= self.value if self.op == "<=" else x >= self.value

    def text(self) -> str:

        return f"{info(self.metric).label} {'≤' if self.op == '<=' else '≥'} {fmt_value(self.metric, self.value)}"


class Goal(BaseModel):
    """One objective with its constraints."""

    model_config = ConfigDict(extra="forbid")

    name: str
    maximise: str | None = None
    minimise: str | None = None
    subject_to: list[Bound] = Field(default_factory=list)

    @field_validator("maximise", "minimise")
    @classmethod
    def _known(cls, v: str | None) -> str | None:
        return None if v is None else _check_metric(v)

    @field_validator("subject_to", mode="before")
    @classmethod
    def _parse_bounds(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list):
            raise ValueError("must be a list of bounds like \"p95_delivery_delay_h <= 24\"")
        out = []
        for item in v:
            if isinstance(item, Mapping):  # already parsed (a manifest's goals)
                out.append(item)
                continue
            m = _BOUND.match(item) if isinstance(item, str) else None
            if not m:
                raise ValueError(f"{item!r}: expected \"metric <= number\" or \"metric >= number\"")
            try:
                value = float(m.group(3))
            except ValueError:
                raise ValueError(f"{item!r}: {m.group(3)!r} is not a number") from None
            out.append({"metric": _check_metric(m.group(1)), "op": m.group(2), "value": value})
        return out

    @model_validator(mode="after")
    def _one_objective(self) -> "Goal":
        if (self.maximise is None) == (self.minimise is None):
            raise ValueError("give exactly one of maximise or minimise")
        return self

    @property
    def metric(self) -> str:
        return self.maximise or self.minimise  # type: ignore[return-value]

    @property
    def sign(self) -> int:
        """+1 when more is wanted."""
        return 1 if self.maximise else -1

    def text(self) -> str:
        verb = "maximise" if self.maximise else "minimise"
        bounds = " with " + " and ".join(b.text() for b in self.subject_to) if self.subject_to else ""
        return f"{verb} {info(self.metric).label}{bounds}"


DEFAULT_GOALS: dict[str, dict[str, Any]] = {
    "growth": {"maximise": "gmv_incremental", "subject_to": ["p95_delivery_delay_h <= 48"]},
    "consumers": {"maximise": "satisfaction_mean", "subject_to": ["gmv_incremental >= 0"]},
    "small_brands": {"maximise": "brand_profit_small", "subject_to": ["gmv_incremental >= 0"]},
}


def parse_goals(table: Any) -> tuple[Goal, ...]:
    """Validate a `[goals]` table (goal name -> its objective and bounds); empty means the defaults."""
    if table is None:
        return ()
    if not isinstance(table, Mapping):
        raise GoalError("goals: must be a table of goals, e.g. [goals.growth] maximise = \"gmv_incremental\"")
    if len(table) > MAX_GOALS:
        raise GoalError(f"goals: at most {MAX_GOALS} goals (got {len(table)}), so the decision summary stays short")
    goals = []
    for name, body in table.items():
        if not isinstance(body, Mapping):
            raise GoalError(f"goals.{name}: must be a table with maximise or minimise (and optional subject_to)")
        try:
            goals.append(Goal.model_validate({"name": name, **body}))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"] if not isinstance(p, int))
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (expected maximise, minimise, subject_to)"
            raise GoalError(f"goals.{name}{'.' + where if where else ''}: {msg}") from None
    return tuple(goals)


def goals_or_default(goals: tuple[Goal, ...]) -> tuple[Goal, ...]:
    return goals or parse_goals(DEFAULT_GOALS)


def goals_from_manifest(entries: Any) -> tuple[Goal, ...]:
    """Goals as the manifest stores them (a list of model dumps); the defaults if absent."""
    if not entries:
        return goals_or_default(())
    return tuple(Goal.model_validate(e) for e in entries)
