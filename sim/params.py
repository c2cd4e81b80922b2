"""The parameter schema: every model parameter with its default, unit and description.

Parameters are addressed by dotted keys (``consumers.n``) in scenario files and on the
command line; this module is the single place that knows them and validates them, so a
bad value is rejected with one line naming the field before any model runs.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Iterator

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

FORMATS = ("none", "single_day", "two_waves", "continuous")
POLICIES = ("gmv_rank", "quality_feedback", "small_brand_boost", "subsidy")


class ParameterError(ValueError):
    """A parameter value or key that the schema rejects; the message names the field."""


def _f(default: Any, unit: str, description: str, **constraints: Any) -> Any:
    return Field(default, description=description, json_schema_extra={"unit": unit}, **constraints)


MIN_CONSUMERS = 10  # measured: n <= 2 never buys, 3-8 sometimes sell nothing all season, 10+ always sold (6 seeds)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True, validate_default=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_numbers(cls, v: Any, info: Any) -> Any:
        """pydantic's lax mode reads true as 1: a boolean for a number is a mistake, not a value."""
        if isinstance(v, bool) and cls.model_fields[info.field_name].annotation in (int, float):
            raise ValueError("must be a number, not a boolean")
        return v


class Consumers(_Section):
    n: int = _f(20_000, "agents", "simulated consumers (resolution, not market size)", gt=0, le=50_000_000)
    population: float = _f(6.0e8, "people", "real consumers represented; each simulated one stands for population / n", gt=0)
    weekly_budget: float = _f(240.0, "yuan/week", "mean weekly shopping budget per consumer", gt=0)
    budget_sigma: float = _f(0.6, "log-sd", "dispersion of budgets across consumers (lognormal)", ge=0, le=3)
    savings_cap_weeks: float = _f(10.0, "weeks", "unspent budget accumulates up to this many weeks of budget", gt=0)
    tier_shares: tuple[float, float, float] = _f(
        (0.38, 0.37, 0.25), "fraction", "shares of tier-1/2 city, lower-tier city and rural consumers"
    )
    sessions_per_week: float = _f(2.5, "1/week", "shopping sessions per consumer per week on an ordinary day", gt=0)
    online_preference: float = _f(0.72, "probability", "mean probability of shopping online rather than offline", ge=0, le=1)
    price_sensitivity: float = _f(3.0, "utility/log-price", "mean weight of log price in utility", gt=0)
    quality_sensitivity: float = _f(2.5, "utility/quality", "mean weight of true quality in utility", ge=0)
    deal_proneness: float = _f(0.5, "0-1", "mean deal-proneness (drives stockpiling and discount appeal)", ge=0, le=1)
    need_weight: float = _f(8.0, "utility/log-unit", "weight of log accumulated need (units) in the purchase decision", ge=0)
    outside_utility: float = _f(2.5, "utility", "utility of buying nothing this session at one unit of need")
    service_weight: float = _f(1.0, "utility/service", "weight of a brand's service level in utility", ge=0)
    rating_weight: float = _f(1.5, "utility/rating", "weight of a brand's rating (0-1) in utility", ge=0)
    deal_weight: float = _f(2.0, "utility/discount", "extra appeal of a discount for a fully deal-prone consumer", ge=0)
    loyalty_bonus: float = _f(0.8, "utility", "utility bonus of the consumer's loyal brand", ge=0)
    initial_loyalty: float = _f(0.4, "fraction", "share of consumers loyal to a brand per category at the start", ge=0, le=1)
    consideration_size: int = _f(4, "brands", "brands considered per session besides the loyal one", ge=1, le=12)
    loss_aversion: float = _f(2.25, "ratio", "weight of price losses vs gains against the reference price", ge=1)
    reference_weight: float = _f(1.5, "utility", "weight of the gain/loss against the reference price", ge=0)
    reference_smoothing: float = _f(0.25, "fraction", "speed at which reference prices follow observed prices", gt=0, le=1)
    anticipation_days: float = _f(12.0, "days", "how long before a festival window consumers start to defer", ge=0)
    anticipation_strength: float = _f(3.0, "utility/discount", "deferral before a window, per unit of expected discount", ge=0)
    festival_awareness: float = _f(0.85, "fraction", "share of consumers who know the festival calendar", ge=0, le=1)
    deadline_urgency: float = _f(1.5, "multiplier", "extra activity at a window's close (one spike per window)", ge=0)
    urgency_hours: float = _f(3.0, "hours", "decay time of deadline urgency before a window closes", gt=0)
    stockpile_rate: float = _f(2.5, "units/discount", "extra units bought per unit of discount by a fully deal-prone consumer", ge=0)
    delay_aversion: float = _f(0.4, "utility/day", "disutility per expected day of delivery delay", ge=0)
    satisfaction_speed: float = _f(0.3, "fraction", "speed at which satisfaction follows experiences", gt=0, le=1)
    churn_threshold: float = _f(0.35, "0-1", "satisfaction below which a consumer may churn", ge=0, le=1)
    churn_probability: float = _f(0.05, "probability", "chance of churning per bad experience below the threshold", ge=0, le=1)

    @field_validator("n")
    @classmethod
    def _enough_consumers(cls, v: int) -> int:
        if v < MIN_CONSUMERS:
            raise ValueError(f"at least {MIN_CONSUMERS} consumers are needed for any purchase (fewer sell nothing)")
        return v

    @field_validator("tier_shares")
    @classmethod
    def _shares_sum_to_one(cls, v: tuple[float, float, float]) -> tuple[float, float, float]:
        if min(v) < 0 or not math.isclose(sum(v), 1.0, abs_tol=1e-6):
            raise ValueError("must be three non-negative shares summing to 1")
        return v


class Brands(_Section):
    n: int = _f(60, "agents", "brands (spread over the product categories)", ge=3, le=5000)
    share_big: float = _f(0.2, "fraction", "share of brands that belong to big groups", ge=0, le=1)
    share_low_quality: float = _f(0.3, "fraction", "share of low-quality sellers; the rest are small focused brands", ge=0, le=1)
    adapt_big: float = _f(0.08, "1/day", "daily adaptation speed of big groups", gt=0, le=1)
    adapt_small: float = _f(0.35, "1/day", "daily adaptation speed of small brands", gt=0, le=1)
    adapt_low_quality: float = _f(0.2, "1/day", "daily adaptation speed of low-quality sellers", gt=0, le=1)
    max_discount: float = _f(0.5, "fraction", "deepest everyday discount a brand will give", ge=0, lt=1)
    safety_days: float = _f(6.0, "days", "stock cover brands aim to hold beyond their lead time", ge=0)
    capacity_factor: float = _f(4.0, "ratio", "daily production capacity over ordinary daily demand", gt=0)
    festival_stock_uplift: float = _f(4.0, "ratio", "demand brands plan for in festival windows over an ordinary day", ge=1)
    ad_rate: float = _f(0.04, "fraction of GMV", "share of revenue spent on platform ads", ge=0, le=1)
    holding_cost: float = _f(0.001, "fraction/day", "daily cost of holding stock, as a fraction of its unit cost", ge=0)

    @model_validator(mode="after")
    def _shares_fit(self) -> "Brands":
        if self.share_big + self.share_low_quality > 1:
            raise ValueError("share_big + share_low_quality must not exceed 1")
        return self


class Venues(_Section):
    digital_integration: float = _f(0.5, "0-1", "how far offline venues honour online festival coupons and shared stock", ge=0, le=1)
    offline_capacity_factor: float = _f(1.5, "ratio", "offline hourly visit capacity over ordinary peak demand", gt=0)
    festival_offline_pull: float = _f(0.3, "fraction", "extra offline traffic in festival windows per unit of integration", ge=0)


class Season(_Section):
    start: dt.date = _f(dt.date(2026, 10, 15), "date", "first day of the simulated season")
    end: dt.date = _f(dt.date(2026, 11, 30), "date", "last day of the simulated season (inclusive)")
    warmup_days: int = _f(14, "days", "days simulated before the season, unrecorded, so it starts from a settled market", ge=0, le=365)

    @model_validator(mode="after")
    def _ordered(self) -> "Season":
        if self.end < self.start:
            raise ValueError("end must not be before start")
        return self


class Festival(_Section):
    format: str = _f("single_day", "name", f"festival format: one of {', '.join(FORMATS)}")
    discount: float = _f(0.3, "fraction", "festival discount depth off list price", ge=0, lt=1)
    pull: float = _f(3.0, "multiplier", "activity multiplier inside a festival window", ge=1)
    opening_burst: float = _f(4.0, "multiplier", "extra activity in a window's first hour (midnight rush)", ge=1)
    presale_reach: float = _f(0.35, "fraction", "share of sessions during a deposit period that see pre-sale offers", ge=0, le=1)
    deposit_share: float = _f(0.1, "fraction", "deposit paid at pre-order, as a share of the price", gt=0, le=1)
    balance_default: float = _f(0.05, "probability", "chance a pre-order's balance is never paid", ge=0, le=1)
    participation: float = _f(0.9, "fraction", "share of the festival discount the average brand matches", ge=0, le=1)

    @field_validator("format")
    @classmethod
    def _known_format(cls, v: str) -> str:
        if v not in FORMATS:
            raise ValueError(f"unknown format {v!r}; choose one of {', '.join(FORMATS)}")
        return v


class Platform(_Section):
    policy: str = _f("gmv_rank", "names", f"policies joined with '+': {', '.join(POLICIES)}")
    commission: float = _f(0.05, "fraction", "commission the platform takes on GMV", ge=0, lt=1)
    gmv_rank_exponent: float = _f(1.4, "exponent", "how steeply gmv_rank exposure follows recent GMV and ads", gt=0)
    ad_weight: float = _f(3.0, "ratio", "weight of a yuan of ads vs a yuan of GMV in gmv_rank", ge=0)
    quality_strength: float = _f(6.0, "1/score", "how steeply quality_feedback exposure follows the experience score", ge=0)
    small_brand_reserve: float = _f(0.35, "fraction", "exposure share reserved for small brands by small_brand_boost", ge=0, le=1)
    subsidy_rate: float = _f(0.05, "fraction", "platform-funded extra discount in festival windows under subsidy", ge=0, lt=1)

    @field_validator("policy")
    @classmethod
    def _known_policies(cls, v: str) -> str:
        names = [p.strip() for p in v.split("+") if p.strip()]
        unknown = [p for p in names if p not in POLICIES]
        if not names or unknown:
            raise ValueError(f"unknown policy {'+'.join(unknown) or v!r}; combine {', '.join(POLICIES)} with '+'")
        return "+".join(names)

    @property
    def policies(self) -> frozenset[str]:
        return frozenset(self.policy.split("+"))


class Logistics(_Section):
    capacity_per_day: float = _f(3.0e8, "parcels/day", "parcels the logistics network dispatches per day (real scale)", gt=0)
    transit_hours: float = _f(48.0, "hours", "transit time of a dispatched parcel, without congestion", ge=0)


class Online(_Section):
    order_capacity_per_hour: float = _f(3.0e7, "orders/hour", "orders merchants can process per hour (real scale)", gt=0)


class Params(_Section):
    consumers: Consumers = Consumers()
    brands: Brands = Brands()
    venues: Venues = Venues()
    season: Season = Season()
    festival: Festival = Festival()
    platform: Platform = Platform()
    logistics: Logistics = Logistics()
    online: Online = Online()

    @property
    def weight(self) -> float:
        """Real consumers behind each simulated one: the factor from model units to real units."""
        return self.consumers.population / self.consumers.n

    def flat(self) -> dict[str, Any]:
        """Every parameter as a dotted key -> plain value (dates as ISO strings)."""
        return {key: _plain(value) for key, value in _walk(self.model_dump())}

    def with_overrides(self, overrides: dict[str, Any]) -> "Params":
        return build_params(overrides, base=self)


def _walk(tree: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _walk(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def known_keys() -> list[str]:
    return list(Params().flat())


def build_params(overrides: dict[str, Any] | None = None, base: Params | None = None) -> Params:
    """Validate dotted-key overrides on top of ``base`` (defaults if None).

    Raises ParameterError with a one-line message naming the offending key.
    """
    tree = (base or Params()).model_dump()
    for key, value in (overrides or {}).items():
        parts = key.split(".")
        node = tree
        for depth, part in enumerate(parts):
            if not isinstance(node, dict) or part not in node:
                raise ParameterError(f"{key}: unknown parameter (see `python run.py params`)")
            if depth == len(parts) - 1:
                if isinstance(node[part], dict):
                    raise ParameterError(f"{key}: is a section, set one of its keys")
                node[part] = value
            else:
                node = node[part]
    try:
        return Params.model_validate(tree)
    except ValidationError as exc:
        raise ParameterError(format_validation_error(exc)) from None


def format_validation_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"] if not isinstance(p, int))
    message = err["msg"].removeprefix("Value error, ")
    value = err.get("input")
    shown = "" if isinstance(value, dict) else f" (got {value!r})"  # a whole section is too long to echo
    return f"{loc or 'parameters'}: {message}{shown}"


def describe() -> list[dict[str, Any]]:
    """One record per parameter: key, default, unit, description (for `run.py params`)."""
    rows = []
    defaults = Params().flat()
    for section_name, section in Params.model_fields.items():
        for name, field in section.annotation.model_fields.items():  # type: ignore[union-attr]
            key = f"{section_name}.{name}"
            extra = field.json_schema_extra or {}
            rows.append({"key": key, "default": defaults[key], "unit": extra.get("unit", ""), "description": field.description})
    return rows
