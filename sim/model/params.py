"""The parameter schema: every model parameter with its default, unit and description.

Parameters are addressed by dotted keys (``consumers.n``) in scenario files and on the
command line; this module is the single place that knows them and validates them, so a
bad value is rejected with one line naming the field before any model runs.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any, Iterator

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_serializer, field_validator, model_validator

from sim.model import formats
from sim.model.formats import FestivalWindow, Moment

FORMATS = (*formats.NAMED_FORMATS, formats.CUSTOM)
POLICIES = ("gmv_rank", "quality_feedback", "small_brand_boost", "subsidy", "rule_simplification")


class ParameterError(ValueError):
    """A parameter value or key that the schema rejects; the message names the field."""


def _f(default: Any, unit: str, description: str, **constraints: Any) -> Any:
    return Field(default, description=description, json_schema_extra={"unit": unit}, **constraints)


MIN_CONSUMERS = 10  # measured: n <= 2 never buys, 3-8 sometimes sell nothing all season, 10+ always sold (6 seeds)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True, validate_default=True)

    @field_validator("*", mode="before")
    @classmethod
    def _strict_types(cls, v: Any, info: Any) -> Any:
        """pydantic's lax mode reads true as 1, "0.3" as 0.3 and "yes" as true: in a file, a value of
        the wrong type is a mistake, not a value (``--set`` reads its text as TOML first)."""
        kind = cls.model_fields[info.field_name].annotation
        values = v if kind in _NUMBER_TUPLES and isinstance(v, (list, tuple)) else [v]
        if kind in (int, float, *_NUMBER_TUPLES):
            for x in values:
                if isinstance(x, bool):
                    raise ValueError("must be a number, not a boolean")
                if isinstance(x, str):
                    raise ValueError("must be a number, not text")
        elif kind is bool and not isinstance(v, bool):
            raise ValueError("must be true or false")
        return v


_NUMBER_TUPLES = (tuple[float, float, float],)


class Consumers(_Section):
    n: int = _f(20_000, "agents", "simulated consumers (resolution, not market size)", gt=0, le=50_000_000)
    population: float = _f(6.93e8, "people", "real consumers represented; each simulated one stands for population / n", gt=0)
    weekly_budget: float = _f(300.0, "yuan/week", "mean weekly shopping budget per consumer; above an ordinary week's spending, so budgets bind on festival days, not ordinary ones", gt=0)
    budget_sigma: float = _f(0.6, "log-sd", "dispersion of budgets across consumers (lognormal)", ge=0, le=3)
    savings_cap_weeks: float = _f(52.0, "weeks", "unspent budget accumulates up to this many weeks of budget", gt=0)
    need_scale: float = _f(0.667, "ratio", "multiplies every category's need per week (sim/model/catalog.py); sets an ordinary day's volume", gt=0, le=10)
    tier_shares: tuple[float, float, float] = _f(
        (0.38, 0.37, 0.25), "fraction", "shares of tier-1/2 city, lower-tier city and rural consumers"
    )
    sessions_per_week: float = _f(3.0, "1/week", "shopping sessions per consumer per week on an ordinary day", gt=0)
    online_preference: float = _f(0.72, "probability", "mean probability of shopping online rather than offline", ge=0, le=1)
    price_sensitivity: float = _f(3.0, "utility/log-price", "mean weight of log price in utility", gt=0)
    quality_sensitivity: float = _f(2.5, "utility/quality", "mean weight of true quality in utility", ge=0)
    deal_proneness: float = _f(0.5, "0-1", "mean deal-proneness (drives stockpiling and discount appeal)", ge=0, le=1)
    need_weight: float = _f(8.18, "utility/log-unit", "weight of log accumulated need (units) in the purchase decision", ge=0)
    outside_utility: float = _f(2.5, "utility", "utility of buying nothing this session at one unit of need")
    service_weight: float = _f(1.0, "utility/service", "weight of a brand's service level in utility", ge=0)
    rating_weight: float = _f(1.5, "utility/rating", "weight of a brand's rating (0-1) in utility", ge=0)
    deal_weight: float = _f(4.0, "utility/discount", "extra appeal of a discount for a fully deal-prone consumer", ge=0)
    loyalty_bonus: float = _f(0.8, "utility", "utility bonus of the consumer's loyal brand", ge=0)
    initial_loyalty: float = _f(0.4, "fraction", "share of consumers loyal to a brand per category at the start", ge=0, le=1)
    consideration_size: int = _f(4, "brands", "brands considered per session besides the loyal one", ge=1, le=12)
    loss_aversion: float = _f(2.25, "ratio", "weight of price losses vs gains against the reference price", ge=1)
    reference_weight: float = _f(2.5, "utility", "weight of the gain/loss against the reference price", ge=0)
    reference_smoothing: float = _f(0.5, "fraction", "speed at which a deeper discount seen becomes the remembered one (deals are memorable)", gt=0, le=1)
    reference_recovery: float = _f(0.25, "fraction", "speed at which a shallower discount seen becomes the remembered one (per session)", gt=0, le=1)
    reference_memory_weeks: float = _f(4.0, "weeks", "half-life of a remembered discount: between sessions, deals fade towards the everyday discount", gt=0)
    anticipation_days: float = _f(12.0, "days", "how long before a festival window aware consumers start to wait for it", ge=0)
    anticipation_strength: float = _f(10.0, "utility/discount", "pull of waiting for an announced window, per unit of its discount, at its opening", ge=0)
    anticipation_need: float = _f(2.0, "units", "need at which a purchase is too urgent to wait for a festival window", gt=0)
    festival_awareness: float = _f(0.85, "fraction", "share of consumers who know the festival calendar", ge=0, le=1)
    urgency_strength: float = _f(2.5, "utility", "pull to buy now as a window's close nears, for aware consumers with unmet need", ge=0)
    urgency_activity: float = _f(1.08, "multiplier", "extra sessions of aware consumers in a window's last hours (checking carts)", ge=0)
    urgency_hours: float = _f(1.0, "hours", "decay time of deadline urgency before a window closes", gt=0)
    stockpile_rate: float = _f(4.54, "units/discount", "extra units bought per unit of discount by a fully deal-prone consumer", ge=0)
    stockpile_min_discount: float = _f(0.1, "fraction", "smallest discount that makes deal-prone consumers stockpile", ge=0, le=1)
    max_units: int = _f(6, "units", "most units one purchase takes, stockpiling included", ge=1, le=50)
    need_cap: float = _f(3.0, "units", "need beyond which more need adds no purchase pressure", gt=0)
    expansion: float = _f(2.5, "need/discount", "extra consumption from a deal on goods kept at home: a unit bought at discount d relieves 1 - min(expansion_cap, expansion x storable x d) of need (storable: the category's, 0 for appliances, 1 for groceries); checked so every format's gain settles by Jan 31 (docs/model.md)", ge=0, le=5)
    expansion_cap: float = _f(0.8, "fraction", "most of a unit bought on a deal that can be extra consumption", ge=0, le=1)
    delay_aversion: float = _f(0.1, "utility/day", "disutility per expected day of delivery delay; fitted so one more day lowers online sales by about 1.5% (Fisher, Gallino & Xu 2019)", ge=0)
    satisfaction_speed: float = _f(0.3, "fraction", "speed at which satisfaction follows experiences", gt=0, le=1)
    activity_floor: float = _f(0.5, "multiplier", "session rate of a fully dissatisfied consumer; satisfaction adds to it", ge=0, le=1)
    loyalty_outcome: float = _f(0.6, "0-1", "outcome above which the brand becomes the consumer's loyal one", ge=0, le=1)
    disloyalty_outcome: float = _f(0.4, "0-1", "outcome below which loyalty breaks and churn becomes possible", ge=0, le=1)
    churn_threshold: float = _f(0.35, "0-1", "satisfaction below which a consumer may churn", ge=0, le=1)
    churn_probability: float = _f(0.05, "probability", "chance of churning per bad experience below the threshold", ge=0, le=1)
    winback_per_week: float = _f(0.1, "1/week", "chance per week that a churned consumer comes back", ge=0, le=1)
    rural_online_factor: float = _f(0.8, "ratio", "rural consumers' online preference relative to cities'", ge=0, le=1.25)
    tier_budget: tuple[float, float, float] = _f(
        (1.25, 0.95, 0.7), "ratio", "budget of tier-1/2 city, lower-tier city and rural consumers relative to the mean"
    )

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

    @field_validator("tier_budget")
    @classmethod
    def _positive_ratios(cls, v: tuple[float, float, float]) -> tuple[float, float, float]:
        if min(v) <= 0:
            raise ValueError("must be three positive ratios")
        return v


class Brands(_Section):
    n: int = _f(60, "agents", "brands (spread over the product categories)", ge=3, le=5000)
    share_big: float = _f(0.2, "fraction", "share of brands that belong to big groups", ge=0, le=1)
    share_low_quality: float = _f(0.3, "fraction", "share of low-quality sellers; the rest are small focused brands", ge=0, le=1)
    adapt_big: float = _f(0.08, "1/day", "daily adaptation speed of big groups", gt=0, le=1)
    adapt_small: float = _f(0.35, "1/day", "daily adaptation speed of small brands", gt=0, le=1)
    adapt_low_quality: float = _f(0.2, "1/day", "daily adaptation speed of low-quality sellers", gt=0, le=1)
    lead_time_big: int = _f(10, "days", "days from a big group's stock order to its arrival (long supply chains, mass production)", ge=1, le=90)
    lead_time_small: int = _f(4, "days", "days from a small brand's stock order to its arrival", ge=1, le=90)
    lead_time_low_quality: int = _f(6, "days", "days from a low-quality seller's stock order to its arrival", ge=1, le=90)
    max_discount: float = _f(0.5, "fraction", "deepest everyday discount a brand will give", ge=0, lt=1)
    safety_days: float = _f(6.0, "days", "stock cover brands aim to hold beyond their lead time", ge=0)
    capacity_factor: float = _f(4.0, "ratio", "daily production capacity over ordinary daily demand", gt=0)
    festival_stock_cover: float = _f(1.93, "ratio", "festival stock over the festival's extra sessions (in ordinary days of demand) that brands plan for", ge=0)
    ad_rate: float = _f(0.04, "fraction of GMV", "share of revenue a mid-sized brand spends on platform ads at the start", ge=0, le=1)
    max_ad_rate: float = _f(0.2, "fraction of GMV", "most of its revenue a brand will spend on ads", ge=0, le=1)
    ad_response: float = _f(0.5, "ratio", "how far a day's review moves ad spend towards its marginal return (x adaptation speed)", ge=0)
    service_investment: float = _f(0.05, "fraction of GMV", "cost per day of raising service by 0.1, as a share of daily revenue", gt=0)
    holding_cost: float = _f(0.001, "fraction/day", "daily cost of holding stock, as a fraction of its unit cost", ge=0)
    discount_step: float = _f(0.15, "fraction", "discount change per day at full adaptation speed", ge=0, le=1)
    overstock_cover: float = _f(1.5, "ratio", "stock cover over target above which a brand discounts more", gt=1)
    understock_cover: float = _f(0.7, "ratio", "stock cover over target below which a brand discounts less", gt=0, lt=1)
    gmv_memory: float = _f(0.3, "fraction", "weight of the last day in a brand's recent GMV (what gmv_rank sees)", gt=0, le=1)
    low_quality_below: float = _f(0.4, "quality", "true quality below which sales count as low quality in yearly.csv (between the archetypes' ranges, so year 1 matches low_quality_share)", ge=0, le=1)
    exit_after_years: int = _f(2, "years", "a brand whose yearly profit (after the merchant rule cost) stays below zero this many years in a row leaves", ge=1, le=30)
    entry_rate: float = _f(0.3, "brands/category/year", "entrants per category and year when entering is expected to break even", ge=0, le=10)
    entry_sensitivity: float = _f(2.0, "1/ratio", "how steeply entry rises with an entrant's expected profit (relative to an incumbent's mean absolute profit)", ge=0, le=20)
    entrant_small_share: float = _f(0.5, "fraction", "prior share of would-be entrants that are small focused brands (the rest low-quality sellers); expected profit then decides who enters", ge=0, le=1)
    entrant_scale: float = _f(0.5, "ratio", "an entrant's expected ordinary demand relative to an incumbent of its archetype in the category", gt=0, le=2)
    acquisition_rate: float = _f(0.3, "probability/year", "chance a big group buys, in a year, the small brand whose growth beats its own by most", ge=0, le=1)
    acquisition_capacity: float = _f(2.0, "ratio", "production capacity an acquired brand gains from its group (multiplier)", ge=1, le=10)
    represented: float = _f(200_000.0, "brands", "real brands on the platform that the model's brands stand for (2019 Double 11: 200,000); scales the merchant rule cost", gt=0)
    max_entrants: int = _f(3, "brands/category/year", "most entrants per category and year", ge=0, le=50)

    @model_validator(mode="after")
    def _shares_fit(self) -> "Brands":
        if self.share_big + self.share_low_quality > 1:
            raise ValueError("share_big + share_low_quality must not exceed 1")
        return self


class Venues(_Section):
    digital_integration: float = _f(0.24, "0-1", "how far offline venues honour online festival coupons and shared stock (fitted: Nov 11 offline lift +10.6%)", ge=0, le=1)
    offline_capacity_factor: float = _f(1.5, "ratio", "a venue's hourly visit capacity over its expected visits at its busiest ordinary hour", gt=0)
    festival_offline_pull: float = _f(1.0, "ratio", "extra offline traffic in festival windows per unit of integration", ge=0)
    turned_away_online: float = _f(0.5, "probability", "chance a visitor turned away by a full integrated venue orders online instead", ge=0, le=1)
    pickup_share: float = _f(0.01, "fraction", "share of online orders picked up at a venue where every open venue selling the category is fully integrated (scaled by integration elsewhere)", ge=0, le=1)
    popup_lead_days: float = _f(7.0, "days", "how long before the first window pop-up stores open", ge=0)


class Experience(_Section):
    """How an order turns into an outcome (0-1): satisfaction, loyalty, returns and reviews."""

    quality_weight: float = _f(0.8, "outcome/quality", "outcome gained per unit of true quality above 0.5", ge=0)
    service_weight: float = _f(0.3, "outcome/service", "outcome gained per unit of service above 0.5", ge=0)
    delay_weight: float = _f(0.1, "outcome/day", "outcome lost per day an order waited in the queues", ge=0)
    return_penalty: float = _f(0.3, "outcome", "outcome lost by an order that is returned", ge=0)
    stockout_outcome: float = _f(0.2, "0-1", "outcome of an order the brand could not fill", ge=0, le=1)
    expected_quality: float = _f(0.6, "0-1", "quality consumers expect; below it returns rise", ge=0, le=1)
    return_quality_slope: float = _f(2.0, "1/quality", "relative rise in return probability per unit of quality below expectation", ge=0)
    return_units_slope: float = _f(0.3, "1/unit", "relative rise in return probability per extra unit in the order", ge=0)
    return_delay_slope: float = _f(0.15, "1/day", "relative rise in return probability per day an order waited", ge=0)
    offline_return_factor: float = _f(0.3, "ratio", "return probability offline relative to online", ge=0, le=1)
    review_noise: float = _f(0.25, "0-1", "spread of one buyer's review around the order's outcome", ge=0)
    review_bias: float = _f(0.08, "0-1", "spread across brands of a lasting bias in their reviews (the rating is an estimate)", ge=0)
    review_share: float = _f(0.02, "fraction", "share of buyers who leave a review", gt=0, le=1)
    rating_prior_reviews: float = _f(2000.0, "reviews", "weight of the neutral prior (0.5) in a brand's rating (real-scale reviews)", ge=0)
    rating_memory_days: float = _f(60.0, "days", "half-life of a review's weight in the rating", gt=0)
    initial_reviews_days: float = _f(60.0, "days", "days of ordinary sales behind an existing brand's reviews at the start", ge=0)


class Mechanisms(_Section):
    """Switches: off means the mechanism is absent (for ablations), not weakened."""

    anticipation: bool = _f(True, "switch", "aware consumers wait for an announced window")
    presale: bool = _f(True, "switch", "deposits before a window, balances paid at its opening")
    stockpiling: bool = _f(True, "switch", "deal-prone consumers buy extra units on deep discounts")
    reference_prices: bool = _f(True, "switch", "prices are judged against remembered prices (losses weigh more)")
    deadline_urgency: bool = _f(True, "switch", "aware consumers with unmet need hurry as a window closes")
    delay_experience: bool = _f(True, "switch", "the wait an order really had lowers outcomes, raises returns, feeds ratings")
    offline_integration: bool = _f(True, "switch", "integrated offline venues join the festival (prices, traffic, pick-up, overflow online)")
    entry_exit: bool = _f(True, "switch", "between seasons loss-making brands exit and new brands enter (multi-year runs)")
    investment: bool = _f(True, "switch", "between seasons brands invest in quality by its expected return (multi-year runs)")
    innovation: bool = _f(True, "switch", "innovation centres launch new products each year after the first (innovation.centres)")
    rival: bool = _f(True, "switch", "other sellers take some of the purchases this platform misses and, on their own sessions, part of consumers' need (needs rival.pull or rival.shopping_per_week > 0)")
    acquisitions: bool = _f(True, "switch", "between seasons big groups buy small brands that grow faster than they do (multi-year runs)")


class Investment(_Section):
    """Between seasons brands invest in quality by the return they expect under the policy in force."""

    quality_cost: float = _f(0.25, "fraction of revenue", "cost of raising quality by 0.1, as a share of the season's revenue", gt=0)
    horizon_years: float = _f(2.0, "years", "seasons over which a brand expects an improvement to pay", gt=0, le=30)
    profit_share: float = _f(0.5, "fraction", "most of a season's profit a brand spends on quality", ge=0, le=1)
    max_step: float = _f(0.1, "quality/year", "most a brand can raise its quality in one year", ge=0, le=1)


class Innovation(_Section):
    """Joint innovation centres: brands that design new products from the platform's demand data."""

    centres: int = _f(0, "brands", "brands running a joint innovation centre with the platform (big groups first, largest first)", ge=0, le=5000)
    launch_days: float = _f(28.0, "days", "time from a season's first simulated day to a new product's launch (rule_simplification cuts it)", ge=0)
    launch_weeks: float = _f(4.0, "weeks", "weeks a new product holds its launch exposure slot online and a shelf in integrated venues", gt=0)
    launch_slot: float = _f(0.15, "fraction", "exposure share of its category reserved for products in their launch weeks (a slot on top of their ranked share)", ge=0, le=1)
    fit_gain: float = _f(0.1, "quality", "quality a product designed from demand data gains over its maker's (fit to needs least served)", ge=0, le=1)
    launch_size: float = _f(0.5, "ratio", "a new product's planned ordinary demand relative to its maker's", gt=0, le=5)
    success_threshold: float = _f(0.5, "ratio", "a launch succeeds if after its launch weeks it sells at least this share of its category's mean brand GMV", ge=0)


class Rival(_Section):
    """A rival platform: the outside option splits into no purchase and buying on the rival."""

    pull: float = _f(0.0, "probability", "chance a consumer who bought nothing here but needed a unit buys it on the rival (0: no rival)", ge=0, le=1)
    experience_slope: float = _f(1.0, "ratio", "relative rise of the rival's pull per unit of dissatisfaction with this platform", ge=0)
    discount: float = _f(0.1, "fraction", "the rival's price below the category's typical price", ge=0, lt=1)
    shopping_per_week: float = _f(0.0, "sessions/week", "how often a consumer shops on other sellers on their own (rival platforms, shops outside the partner venues), buying a unit of a category they need (need >= 1) if they can pay; what they bought here first, they do not buy there (0: other sellers only take sessions this platform misses)", ge=0, le=50)


class Season(_Section):
    start: dt.date = _f(dt.date(2026, 10, 15), "date", "first day of the simulated season")
    end: dt.date = _f(dt.date(2027, 1, 31), "date", "last day of the simulated season (inclusive); by Jan 31 every format's after-effects have settled (docs/long_run.md)")
    warmup_days: int = _f(56, "days", "days simulated before the season, unrecorded, so it starts from a settled market (brands' prices and stock take about 8 weeks)", ge=0, le=365)
    years: int = _f(1, "years", "consecutive seasons of this calendar; brands, reviews, loyalty, satisfaction and churn carry over, and yearly decisions happen between them", ge=1, le=30)

    @model_validator(mode="after")
    def _ordered(self) -> "Season":
        if self.end < self.start:
            raise ValueError("end must not be before start")
        return self


class Festival(_Section):
    format: str = _f("single_day", "name", f"festival format: one of {', '.join(FORMATS)} (custom: festival.windows)")
    windows: tuple[FestivalWindow, ...] = _f(
        (), "windows", "custom festival (format custom): [{start, end, discount, presale_from}, ...]; "
        "dates (end inclusive) or datetimes on the hour; discount defaults to festival.discount")
    accounting: tuple[Moment, ...] = _f(
        (), "[start, end]", "festival period for GMV accounting (end inclusive); [] = first opening to last close")
    discount: float = _f(0.309, "fraction", "festival discount depth off list price (windows without their own)", ge=0, lt=1)
    pull: float = _f(4.33, "multiplier", "activity multiplier inside a one-day festival window", ge=1)
    attention_exponent: float = _f(
        0.664, "exponent", "finite attention: in a festival of D window days in all, each window hour gets 1 + (pull - 1) / D**exponent "
        "(0: every day as busy as a one-day festival; 1: a fixed budget of extra sessions; above 1: a longer festival "
        "draws fewer extra sessions in all)", ge=0, le=2)
    opening_burst: float = _f(6.3, "multiplier", "extra activity in a window's first hour (midnight rush)", ge=1)
    rush_hours: float = _f(8.6, "hours", "time constant over which the opening rush fades (0: first hour only)", ge=0, le=24)
    presale_reach: float = _f(0.0847, "fraction", "share of sessions during a deposit period that see pre-sale offers", ge=0, le=1)
    deposit_share: float = _f(0.1, "fraction", "deposit paid at pre-order, as a share of the price", gt=0, le=1)
    balance_default: float = _f(0.05, "probability", "chance a pre-order's balance is never paid", ge=0, le=1)
    participation: float = _f(0.9, "fraction", "share of the festival discount the average brand matches", ge=0, le=1)

    @field_validator("format")
    @classmethod
    def _known_format(cls, v: str) -> str:
        if v not in FORMATS:
            raise ValueError(f"unknown format {v!r}; choose one of {', '.join(FORMATS)}")
        return v

    @field_validator("windows", mode="before")
    @classmethod
    def _windows_from_text(cls, v: Any) -> Any:
        return formats.parse_windows(v)

    @field_validator("windows")
    @classmethod
    def _windows_fit_together(cls, v: tuple[FestivalWindow, ...]) -> tuple[FestivalWindow, ...]:
        return formats.check_windows(v)

    @field_validator("accounting")
    @classmethod
    def _accounting_period(cls, v: tuple[dt.date, ...]) -> tuple[dt.date, ...]:
        return formats.check_accounting(v)

    @field_serializer("windows")
    def _windows_as_text(self, v: tuple[FestivalWindow, ...]) -> str:
        return formats.windows_literal(v)

    @model_validator(mode="after")
    def _windows_match_format(self) -> "Festival":
        # each message names the key the user did not set alone, so `--set` of one key defers to the combination
        if self.format == formats.CUSTOM and not self.windows:
            raise ValueError("festival.windows: festival.format = custom needs at least one window")
        if self.format != formats.CUSTOM and self.windows:
            raise ValueError(f"festival.format: is {self.format}, so festival.windows would be ignored; "
                             "use festival.format = custom")
        return self

    def definition(self, year: int) -> tuple[FestivalWindow, ...]:
        """The festival's windows: the custom ones, or the named format's in the season's year."""
        return self.windows if self.format == formats.CUSTOM else formats.named_windows(self.format, year)


class Platform(_Section):
    policy: str = _f("gmv_rank", "names", f"policies joined with '+': {', '.join(POLICIES)}")
    commission: float = _f(0.0125, "fraction", "commission the platform takes on online sales (fitted: 1.08% of online GMV once returns are refunded, as Alibaba's FY2019 commission revenue over marketplace GMV)", ge=0, lt=1)
    gmv_rank_exponent: float = _f(1.4, "exponent", "how steeply gmv_rank exposure follows recent GMV and ads", gt=0)
    ad_weight: float = _f(1.85, "ratio", "weight of a yuan of ads vs a yuan of GMV in gmv_rank (fitted: brands spend 2.5% of online GMV on ads, as Alibaba's FY2019 customer management revenue over marketplace GMV)", ge=0)
    quality_strength: float = _f(6.0, "1/score", "how steeply quality_feedback exposure follows the experience score", ge=0)
    small_brand_reserve: float = _f(0.35, "fraction", "exposure share of each category reserved for small brands by small_brand_boost (a slot on top of their ranked share)", ge=0, le=1)
    subsidy_rate: float = _f(0.05, "fraction", "platform-funded extra discount in festival windows under subsidy", ge=0, lt=1)
    max_total_discount: float = _f(0.95, "fraction", "brand, festival and subsidy discounts together never exceed this", gt=0, lt=1)
    merchant_rule_cost: float = _f(45_000.0, "yuan/brand/year", "cost of complying with the platform's merchant rules for one real brand (set from Tmall's yearly store fee, 30,000 or 60,000 by category; staff hours are not published and left out); each model brand pays it for the real brands it stands for (brands.represented / brands.n), the season's part of it (season days / 365), between seasons", ge=0)
    rule_cut: float = _f(0.5, "fraction", "how much rule_simplification lowers merchant_rule_cost and the time to launch a product", ge=0, le=1)

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

    @property
    def rule_factor(self) -> float:
        """What remains of the rule cost and launch time: 1 - rule_cut under rule_simplification."""
        return 1.0 - self.rule_cut if "rule_simplification" in self.policies else 1.0


class Logistics(_Section):
    capacity_per_day: float = _f(3.0e8, "parcels/day", "parcels the logistics network dispatches per day (real scale)", gt=0)


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
    experience: Experience = Experience()
    investment: Investment = Investment()
    innovation: Innovation = Innovation()
    rival: Rival = Rival()
    mechanisms: Mechanisms = Mechanisms()

    @property
    def weight(self) -> float:
        """Real consumers behind each simulated one: the factor from model units to real units."""
        return self.consumers.population / self.consumers.n

    def flat(self) -> dict[str, Any]:
        """Every parameter as a dotted key -> plain value (dates as ISO strings)."""
        return {key: _plain(value) for key, value in _walk(self.model_dump())}

    def with_overrides(self, overrides: dict[str, Any]) -> "Params":
        return build_params(overrides, base=self)

    @model_validator(mode="after")
    def _festival_inside_season(self) -> "Params":
        # a window outside the recorded season would run and report ¥0 festival GMV without a word
        fest, season = self.festival, self.season
        within = f"the season {season.start}..{season.end} (season.start..season.end)"
        for w in fest.definition(season.start.year):
            if not formats.inside(w.opens, w.closes, season.start, season.end):
                key, name = ("festival.windows", "") if fest.format == formats.CUSTOM else ("festival.format", f"{fest.format} ")
                raise ValueError(f"{key}: the {name}window {w.span} lies outside {within}")
        if fest.accounting and not formats.inside(*formats.accounting_bounds(fest.accounting), season.start, season.end):
            raise ValueError(f"festival.accounting: {formats.span(*fest.accounting)} lies outside {within}")
        return self


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
        return [_plain(v) for v in value]
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
    loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
    message = err["msg"].removeprefix("Value error, ")
    if _NAMES_ITS_FIELD.match(message):  # a check across fields names the field itself
        return message
    value = err.get("input")
    # a whole section or window list is too long to echo; some messages quote the value already
    shown = "" if "(got" in message or isinstance(value, dict) or len(repr(value)) > 60 else f" (got {value!r})"
    return f"{loc or 'parameters'}: {message}{shown}"


_NAMES_ITS_FIELD = re.compile(r"^[a-z_]+\.[a-z_]+: ")


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
