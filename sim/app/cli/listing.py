"""`run.py list` and `run.py params`: what is shipped and what can be set."""

from __future__ import annotations

import argparse
from typing import Any, Sequence

from sim.app.cli.args import Parser
from sim.app.docs import mechanisms_text
from sim.experiments.scenarios import list_scenarios
from sim.model.params import describe


def list_parser() -> argparse.ArgumentParser:
    return Parser(prog="run.py list", description="List the shipped scenarios with their descriptions.")


def params_parser() -> argparse.ArgumentParser:
    return Parser(prog="run.py params", description="List every parameter (dotted key, default, unit, "
                  "description), then every mechanism (its switch, parameters and code).")


def cmd_list(argv: Sequence[str]) -> int:
    list_parser().parse_args(argv)
    rows = list_scenarios()
    width = max((len(r["name"]) for r in rows), default=4)
    for r in rows:
        print(f"{r['name'].ljust(width)}  {r['description']}")
    return 0


def cmd_params(argv: Sequence[str]) -> int:
    params_parser().parse_args(argv)
    rows = describe()
    kw = max(len(r["key"]) for r in rows)
    dw = max(len(_show(r["default"])) for r in rows)
    uw = max(len(r["unit"]) for r in rows)
    for r in rows:
        print(f"{r['key'].ljust(kw)}  {_show(r['default']).rjust(dw)}  {r['unit'].ljust(uw)}  {r['description']}")
    print(mechanisms_text())
    return 0


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    if isinstance(value, float) and (abs(value) >= 1e5):
        return f"{value:.3g}"
    return str(value)
