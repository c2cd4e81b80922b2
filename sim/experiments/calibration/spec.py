"""The calibration spec (TOML): base parameters, free parameters with priors, targets, method.

Validated with pydantic before any simulation, so a bad spec ends in one line naming the
field (``CalibrationError``), like scenario and sweep files.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.experiments.calibration import CalibrationError
from sim.model.params import ParameterError, Params, build_params, format_validation_error, known_keys
from sim.experiments.calibration.stats import AT_STATISTICS, STATISTIC_NAMES

SPEC_DIR = Path(__file__).resolve().parents[3] / "scenarios" / "calibration"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class Prior(_Strict):
    """A free parameter's prior on [low, high]: uniform, log-uniform, or a normal truncated to it."""

    distribution: Literal["uniform", "loguniform", "normal"] = "uniform"
    low: float
    high: float
    mean: float | None = Field(None, description="normal: mean")
    sd: float | None = Field(None, gt=0, description="normal: sd")

    @model_validator(mode="after")
    def _complete(self) -> "Prior":
        if not self.low < self.high:
            raise ValueError("low must be below high")
        if self.distribution == "normal" and (self.mean is None or self.sd is None):
            raise ValueError("a normal prior needs mean and sd")
        if self.distribution == "loguniform" and self.low <= 0:
            raise ValueError("a loguniform prior needs low > 0")
        return self


class Target(_Strict):
    name: str
    statistic: Literal[STATISTIC_NAMES]  # type: ignore[valid-type]
    at: str | None = Field(None, description="clock time HH:MM on Nov 11, for cum_share and nov1_11_share_by")
    observed: float
    sd: float = Field(gt=0, description="tolerance: the distance counts (predicted - observed) / sd")
    source: str = Field(min_length=1)
    hard: bool = Field(True, description="a published figure (hard) or a literature range (soft)")
    fit: bool = Field(True, description="counted in the distance; false: only predicted and reported (a figure for "
                                        "another population than the model's)")

    @model_validator(mode="after")
    def _time(self) -> "Target":
        if self.statistic in AT_STATISTICS:
            if self.at is None or not re.fullmatch(r"([01]\d|2[0-4]):[0-5]\d", self.at):
                raise ValueError(f"{self.name}: {self.statistic} needs at = \"HH:MM\"")
        return self


class Method(_Strict):
    """ABC-SMC settings (pyabc)."""

    population_size: int = Field(100, ge=5)
    max_generations: int = Field(8, ge=1)
    min_epsilon: float = Field(1.0, ge=0, description="stop once the distance threshold is below this")
    epsilon_alpha: float = Field(0.5, gt=0, lt=1, description="next threshold: this quantile of the last distances")
    epsilon_schedule: tuple[float, ...] = Field((), description="explicit thresholds per generation (overrides alpha)")
    consumers: int = Field(5000, ge=10, description="simulated consumers per simulation")
    max_simulations: int = Field(100_000, ge=1)
    max_minutes: float = Field(600.0, gt=0)
    min_acceptance_rate: float = Field(0.0, ge=0, le=1)


class Spec(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    seed: int = Field(ge=0, lt=2**32)
    base: dict[str, Any] = {}
    priors: dict[str, Prior]
    targets: tuple[Target, ...]
    method: Method = Method()

    @field_validator("priors")
    @classmethod
    def _free(cls, v: dict[str, Prior]) -> dict[str, Prior]:
        keys = set(known_keys())
        for key in v:
            if key not in keys:
                raise ValueError(f"{key}: unknown parameter (see `python run.py params`)")
        if not v:
            raise ValueError("at least one free parameter is needed")
        return v

    @field_validator("targets")
    @classmethod
    def _targets(cls, v: tuple[Target, ...]) -> tuple[Target, ...]:
        names = [t.name for t in v]
        if not any(t.fit for t in v):
            raise ValueError("at least one target with fit = true is needed")
        if len(set(names)) != len(names):
            raise ValueError("target names must be unique")
        return v

    def params(self, values: dict[str, float] | None = None, consumers: int | None = None) -> Params:
        """The model parameters of one simulation: base, then free values, then the size."""
        n = {"consumers.n": consumers or self.method.consumers}
        return build_params({**self.base, **(values or {}), **n})

    def check(self) -> "Spec":
        """Every prior bound must give valid model parameters (caught before any simulation)."""
        self.params()
        for key, prior in self.priors.items():
            for bound in (prior.low, prior.high):
                try:
                    self.params({key: _typed(key, bound)})
                except ParameterError as exc:
                    raise CalibrationError(f"priors.{key}: bound {bound} is invalid: {exc}") from None
        return self


def _typed(key: str, value: float) -> Any:
    """Integer parameters take rounded values (a prior is continuous)."""
    return int(round(value)) if isinstance(Params().flat()[key], int) else float(value)


def typed_values(values: dict[str, float]) -> dict[str, Any]:
    return {k: _typed(k, v) for k, v in values.items()}


def resolve_spec_path(name: str | Path) -> Path:
    path = Path(name)
    if path.exists():
        return path
    shipped = SPEC_DIR / f"{name}.toml"
    if shipped.exists():
        return shipped
    raise CalibrationError(f"{name}: no such calibration spec (file, or a name in scenarios/calibration)")


def load_spec(path: str | Path, overrides: dict[str, Any] | None = None) -> Spec:
    """Read and validate a spec; ``overrides`` (from --set) go into its base parameters."""
    path = resolve_spec_path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise CalibrationError(f"{path}: not valid TOML: {exc}") from None
    if overrides:
        raw = {**raw, "base": {**raw.get("base", {}), **overrides}}
    try:
        spec = Spec.model_validate(raw)
    except ValidationError as exc:
        raise CalibrationError(f"{path.name}: {format_validation_error(exc)}") from None
    try:
        return spec.check()
    except ParameterError as exc:
        raise CalibrationError(f"{path.name}: base.{exc}") from None

