"""The command line: `python run.py [SCENARIO] | once | list | params | sweep | report | dashboard |
calibrate | validate`, one module per command.

Thin on purpose: parse and validate the arguments, call the package, print where the
results are. Bad input ends in one line naming the problem and exit status 2, never a
traceback, because the users are strategists as much as programmers.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Callable, Sequence

from sim.app.cli.args import USAGE_ERROR, UsageError, one_line
from sim.app.folders import FolderError, interrupted_message
from sim.experiments.calibration import CalibrationError
from sim.experiments.scenarios import ScenarioError
from sim.model.params import ParameterError

# Each command's module and function, imported when it runs (a command loads only what it uses).
COMMANDS = {
    "once": "once.cmd_once", "list": "listing.cmd_list", "params": "listing.cmd_params", "sweep": "sweep.cmd_sweep",
    "report": "report.cmd_report", "dashboard": "dashboard.cmd_dashboard", "calibrate": "calibrate.cmd_calibrate",
    "validate": "calibrate.cmd_validate",
}
SCENARIO = "scenario.cmd_scenario"  # no command name: run a scenario


def handler(where: str) -> Callable[[Sequence[str]], int]:
    module, function = where.split(".")
    return getattr(importlib.import_module(f"{__name__}.{module}"), function)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of run.py; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    rest = argv[1:] if command else argv
    try:
        return handler(COMMANDS[command] if command else SCENARIO)(rest)
    except (UsageError, ScenarioError, ParameterError, FolderError, FileNotFoundError, CalibrationError) as exc:
        print(f"run.py: error: {one_line(exc)}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:  # output piped into a reader that stopped (`run.py params | head`): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush cannot fail again
        return 1
    except PermissionError as exc:  # an output file or folder this user may not write
        print(f"run.py: error: {one_line(exc)}", file=sys.stderr)
        return USAGE_ERROR
    except OSError as exc:  # a cluster whose workers cannot run the model (sim.experiments.execute, loaded only to run)
        execute = sys.modules.get("sim.experiments.execute")
        if execute is None or not isinstance(exc, execute.ClusterError):
            raise
        print(f"run.py: error: {one_line(exc)}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt as exc:
        print(interrupted_message(exc, [command] * bool(command) + rest), file=sys.stderr)
        return 130
