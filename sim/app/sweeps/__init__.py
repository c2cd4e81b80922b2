"""A sweep run into a resumable output folder, with its tables, figures and report."""

from sim.app.sweeps.runner import rebuild_sweep, run_sweep, spec_from_folder, sweep_summary

__all__ = ["rebuild_sweep", "run_sweep", "spec_from_folder", "sweep_summary"]
