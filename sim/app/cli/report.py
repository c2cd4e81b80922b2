"""`run.py report FOLDER`: rebuild a results folder's figures and report from its tables."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from sim.app.cli.args import Parser, UsageError
from sim.app.folders import read_manifest


def report_parser() -> argparse.ArgumentParser:
    p = Parser(prog="run.py report", description="Rebuild figures and report of a results folder (scenario or "
                "sweep) from its tables.")
    p.add_argument("folder", type=Path)
    return p


def cmd_report(argv: Sequence[str]) -> int:
    from sim.app.report import rebuild_report

    args = report_parser().parse_args(argv)
    manifest = read_manifest(args.folder) or {}
    try:
        if manifest.get("kind") == "calibration":
            from sim.app.cli.calibrate import rebuild_calibration

            print(f"Report: {rebuild_calibration(args.folder)['report_html']}")
            return 0
        if "spec" in manifest:
            from sim.app.sweeps.runner import rebuild_sweep, sweep_summary

            print(sweep_summary(rebuild_sweep(args.folder)))
            return 0
        paths = rebuild_report(args.folder)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print(f"Report: {paths['report_html']}")
    return 0
