"""Parameter sets: a TOML file of dotted keys that any command can start from (``--params FILE``).

Why a file: a calibration's result is a dozen values; typing them as ``--set`` is error-prone,
and a shipped set (``scenarios/calibration/calibrated.toml``) is the one place to update when
the model is recalibrated. Precedence: defaults < parameter set < scenario arm < ``--set``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Iterable

from sim.model.params import ParameterError, build_params


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_param_set(path: Path, values: dict[str, Any], header: Iterable[str] = ()) -> None:
    lines = [f"# {h}" for h in header if h]
    lines += ["[params]"] + [f'"{k}" = {_literal(v)}' for k, v in values.items()]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def load_param_set(path: str | Path) -> dict[str, Any]:
    """The dotted-key values of a parameter set, validated against the schema."""
    from sim.experiments.scenarios import flatten

    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ParameterError(f"--params {path}: cannot read ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"--params {path}: malformed TOML: {exc}") from None
    if set(data) != {"params"} or not isinstance(data["params"], dict):
        raise ParameterError(f"--params {path}: expected a single [params] table of dotted keys")
    values = flatten(data["params"])
    try:
        build_params(values)
    except ParameterError as exc:
        raise ParameterError(f"--params {path}: {exc}") from None
    return values
