"""What every command shares: the one-line usage error, the parser that raises it, and the
argument types and options (seeds, ``--set``, ``--out``, ``--params``)."""

from __future__ import annotations

import argparse
import datetime as dt
import math
import tomllib
from pathlib import Path
from typing import Any, NoReturn, Sequence

from sim.experiments.scenarios import seed_problem
from sim.model.params import ParameterError, build_params

USAGE_ERROR = 2


class UsageError(Exception):
    """Bad command-line input; printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """A parser whose errors are one line: ``error_type(message)`` (the command's own error class)."""

    def __init__(self, *args: Any, error_type: type[Exception] = UsageError, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.error_type = error_type

    def error(self, message: str) -> NoReturn:  # one line instead of usage + message
        raise self.error_type(message)


def parse_set(items: Sequence[str] | None) -> dict[str, Any]:
    """`--set key=value` pairs; values are read as TOML literals (numbers, dates, booleans, lists), else as text."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key:
            raise UsageError(f"--set {item!r}: expected dotted.key=value")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        if isinstance(value, float) and not math.isfinite(value):
            raise UsageError(f"--set {key}: must be a finite number (got {raw})")
        try:  # each value on its own, so the message points at --set (combinations are checked later)
            build_params({key: value})
        except ParameterError as exc:
            if str(exc).startswith(f"{key}:"):  # about this key itself, not a combination with others
                raise UsageError(f"--set {exc}") from None
        out[key] = value
    return out


def int_at_least(minimum: int):
    """An argparse type: an integer no smaller than ``minimum``, with a one-line message."""
    kind = {0: "a non-negative integer", 1: "a positive integer"}.get(minimum, f"an integer of at least {minimum}")

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"must be {kind} (got {text!r})")
        return value

    return parse


positive_int = int_at_least(1)


def seed_type(text: str) -> int:
    """An argparse type: a seed the generator and the tables can take."""
    try:
        value: Any = int(text)
    except ValueError:
        value = text
    problem = seed_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def common_options(p: argparse.ArgumentParser, seed_help: str) -> None:
    p.add_argument("--seed", type=seed_type, help=seed_help)
    p.add_argument("--set", action="append", metavar="KEY=VALUE", dest="sets",
                   help="override a parameter, e.g. --set consumers.n=5000 (repeatable; see `run.py params`)")
    p.add_argument("--out", type=Path, help="output folder (default results/<scenario>-<timestamp>)")
    p.add_argument("--params", type=Path, metavar="FILE", help="start from a parameter set ([params] table of dotted "
                   "keys, e.g. scenarios/calibration/calibrated.toml); the scenario's settings and --set win over it")


def preset(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    from sim.experiments.calibration.paramset import load_param_set

    return load_param_set(path)


def default_out(name: str) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path("results") / f"{name}-{stamp}"
    k = 1
    while out.exists():
        k += 1
        out = Path("results") / f"{name}-{stamp}-{k}"
    return out


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
