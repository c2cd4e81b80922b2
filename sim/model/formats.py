"""Festival definitions: windows (start, end, discount), pre-sale periods, and the named formats.

A festival is a list of sales windows, each with an optional discount depth (default
``festival.discount``) and an optional pre-sale period (deposits taken from
``presale_from`` until the window opens). The named formats (``single_day``,
``two_waves``, ``continuous``, ``none``) are shipped definitions of exactly this kind,
so a named and a custom festival go through one code path in the calendar.

Times: a date as ``start`` or ``presale_from`` means 00:00 of that day; a date as
``end`` means the window includes that whole day. A datetime (``2026-11-11T20:00:00``,
on the hour, no UTC offset) is an exact hour; as ``end`` it is the moment the window
closes (exclusive). The external form of a list of windows is its TOML literal
(:func:`windows_literal`), which ``--set festival.windows=...`` and runs.csv share.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from typing import Annotated, Any, Iterable, Sequence

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

CUSTOM = "custom"

# Named formats as (month, day) of first day, last day (inclusive) and first deposit day,
# in the season's year. Dates: the design reference (MODEL.md, Time).
_NAMED: dict[str, tuple[tuple[tuple[int, int], tuple[int, int], tuple[int, int] | None], ...]] = {
    "none": (),
    "single_day": (((11, 11), (11, 11), (10, 21)),),
    "two_waves": (((11, 1), (11, 3), (10, 21)), ((11, 11), (11, 11), (11, 4))),
    "continuous": (((11, 1), (11, 11), None),),
}
NAMED_FORMATS = tuple(_NAMED)


def _moment(value: Any) -> dt.date:
    """A date or an on-the-hour local datetime, from TOML values or ISO text (kept apart: they mean different ends)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = dt.datetime.fromisoformat(text) if ("T" in text or " " in text) else dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"expected a date (2026-11-11) or a datetime (2026-11-11T20:00:00), got {value!r}") from None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            raise ValueError(f"use a local time without UTC offset (got {value.isoformat()})")
        if value.minute or value.second or value.microsecond:
            raise ValueError(f"must be on the hour (got {value.isoformat()})")
        return value
    if isinstance(value, dt.date):
        return value
    raise ValueError(f"expected a date (2026-11-11) or a datetime (2026-11-11T20:00:00), got {value!r}")


Moment = Annotated[dt.datetime | dt.date, BeforeValidator(_moment)]


def _instant(moment: dt.date, *, inclusive_end: bool = False) -> dt.datetime:
    """A moment as a datetime; a date as an end means the close of that day."""
    if isinstance(moment, dt.datetime):
        return moment
    day = moment + dt.timedelta(days=1) if inclusive_end else moment
    return dt.datetime.combine(day, dt.time())


def _show(moment: dt.date) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M") if isinstance(moment, dt.datetime) else moment.isoformat()


class FestivalWindow(BaseModel):
    """One sales window of a festival; ``discount`` None means ``festival.discount``."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    start: Moment
    end: Moment
    discount: float | None = Field(None, ge=0, lt=1)
    presale_from: Moment | None = None

    @property
    def opens(self) -> dt.datetime:
        return _instant(self.start)

    @property
    def closes(self) -> dt.datetime:
        """The moment the window closes (exclusive)."""
        return _instant(self.end, inclusive_end=True)

    @property
    def presale_opens(self) -> dt.datetime | None:
        return None if self.presale_from is None else _instant(self.presale_from)

    @property
    def span(self) -> str:
        return span(self.start, self.end)


def span(start: dt.date, end: dt.date, *, year: bool = True) -> str:
    """'2026-11-09..2026-11-11' as written (dates inclusive), for messages; '11-09..11-11' without the year."""
    show = _show if year else (lambda m: _show(m)[5:])
    return show(start) if start == end else f"{show(start)}..{show(end)}"


def named_windows(name: str, year: int) -> tuple[FestivalWindow, ...]:
    """The shipped definition of a named format in a given year."""
    d = lambda md: dt.date(year, *md)  # noqa: E731
    return tuple(FestivalWindow(start=d(first), end=d(last), presale_from=None if dep is None else d(dep))
                 for first, last, dep in _NAMED[name])


def parse_windows(value: Any) -> Any:
    """Accept the TOML literal of a window list as text (the form runs.csv and manifests carry)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            raise ValueError("expected a list of windows like [{start = 2026-11-09, end = 2026-11-11, discount = 0.3}]"
                             f" (got {text!r})") from None
    return value


def check_windows(windows: Sequence[FestivalWindow]) -> tuple[FestivalWindow, ...]:
    """Sort windows by opening and refuse what the calendar cannot represent; messages name the windows by date."""
    ordered = tuple(sorted(windows, key=lambda w: w.opens))
    for w in ordered:
        if w.closes <= w.opens:
            raise ValueError(f"window {w.span}: end must be after start")
        if w.presale_opens is not None and w.presale_opens >= w.opens:
            raise ValueError(f"window {w.span}: presale_from {_show(w.presale_from)} must be before the window opens")
    for a, b in zip(ordered, ordered[1:]):
        if b.opens < a.closes:
            raise ValueError(f"windows {a.span} and {b.span} overlap")
    # a pre-sale ends where its window opens, so one clear of earlier windows is clear of their pre-sales too
    for w in (w for w in ordered if w.presale_opens is not None):
        for other in ordered:
            if other is not w and other.opens < w.opens and other.closes > w.presale_opens:
                raise ValueError(f"the pre-sale of window {w.span} (from {_show(w.presale_from)}) overlaps "
                                 f"window {other.span}")
    return ordered


def check_accounting(period: Sequence[dt.date]) -> tuple[dt.date, ...]:
    """An accounting period is [] (first opening to last close) or [start, end] ending after it starts."""
    period = tuple(period)
    if len(period) not in (0, 2):
        raise ValueError(f"expected [start, end] or [] (got {len(period)} values)")
    if period and accounting_bounds(period)[1] <= accounting_bounds(period)[0]:
        raise ValueError(f"end must be after start (got {span(*period)})")
    return period


def accounting_bounds(period: Sequence[dt.date]) -> tuple[dt.datetime, dt.datetime]:
    """[opens, closes) of an accounting period [start, end] (end inclusive if a date)."""
    return _instant(period[0]), _instant(period[1], inclusive_end=True)


def inside(opens: dt.datetime, closes: dt.datetime, first: dt.date, last: dt.date) -> bool:
    """Whether [opens, closes) lies wholly inside the days [first, last] (a season)."""
    return _instant(first) <= opens and closes <= _instant(last, inclusive_end=True)


def _literal(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return repr(float(value))


def windows_literal(windows: Iterable[FestivalWindow]) -> str:
    """The TOML literal of a window list: exact, pasteable into --set festival.windows=... ."""
    tables = []
    for w in windows:
        fields = {"start": w.start, "end": w.end, "discount": w.discount, "presale_from": w.presale_from}
        tables.append("{" + ", ".join(f"{k} = {_literal(v)}" for k, v in fields.items() if v is not None) + "}")
    return "[" + ", ".join(tables) + "]"


def _validated(value: Any) -> list[FestivalWindow] | None:
    """Windows from their TOML text, raw tables or models; None if they are not valid windows."""
    try:
        return [FestivalWindow.model_validate(w) for w in parse_windows(value)]
    except (ValueError, TypeError):
        return None


def windows_text(value: Any) -> Any:
    """A window list as its TOML literal (a sweep level stays one comparable, printable value); else as given,
    for parameter validation to name what is wrong."""
    windows = _validated(value)
    return value if windows is None else windows_literal(windows)


def windows_label(value: Any) -> str:
    """A short readable name for a custom festival ('custom 11-09..11-11 30%'), for arm names and legends;
    the text it was given if that is not a window list."""
    windows = _validated(value)
    if windows is None:
        return str(value)
    parts = []
    for w in windows:
        text = span(w.start, w.end, year=False)
        if w.discount is not None:
            text += f" {w.discount:.0%}"
        if w.presale_from is not None:
            text += f" (presale {_show(w.presale_from)[5:]})"
        parts.append(text)
    return f"{CUSTOM} " + " + ".join(parts) if parts else CUSTOM
