"""Performance benchmark of the Double-11 model.

    python benchmarks/bench.py                      # 10k, 100k, 1M consumers, default season, single_day
    python benchmarks/bench.py --consumers 100000   # one size (repeatable)
    python benchmarks/bench.py --vs-reference       # vectorized consumers vs the per-agent Mesa reference (20k)
    python benchmarks/bench.py --sweep              # runs/minute of the shipped grid sweep at 1 and 2 workers
    python benchmarks/bench.py --all --json         # everything, plus one JSON document on stdout

Each model size runs in a fresh subprocess (one ``sim.model.runs.simulate`` run, no
counterfactual) so that peak resident memory (``ru_maxrss``) is that size's alone.
Consumer-hours = consumers x simulated hours including the warm-up (``calendar.n_hours``).
Phase shares are each phase's part of the time spent in ``Double11Model.step``
(``model.timings``); "outside" is the wall time not in any phase (model construction).
The fingerprint hashes the run's summary metrics: it must not change when the code is
made faster (same seed, bit-identical results).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sim.model.double11 import PHASES  # noqa: E402 (after the sys.path set-up above)
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
SWEEP_FILE = "scenarios/sweeps/grid_formats.toml"
TARGETS = {
    "wall_1m_s": 30.0,        # 1M consumers, single_day season, seconds
    "peak_1m_gib": 2.0,       # 1M consumers, peak resident memory
    "speedup_reference": 150.0,   # per-agent reference over vectorized, 20k, wall (100 at first; issue 12 asks 150)
    "scale_1m_over_10k": 110.0,
    "sweep_2_over_1": 1.8,
}


# --- machine ------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kib = next(int(l.split()[1]) for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal"))
        ram = f"{mem_kib / 2**20:.1f} GiB"
    except (OSError, StopIteration):
        ram = "unknown"
    import mesa
    import numpy
    return {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "cpu": model,
            "cores": os.cpu_count(), "ram": ram, "python": platform.python_version(),
            "numpy": numpy.__version__, "mesa": mesa.__version__, "commit": _git_commit(),
            "load_avg_1m": round(os.getloadavg()[0], 2)}


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "sim"], cwd=ROOT, capture_output=True, text=True,
                               timeout=10).stdout.strip()
        return out.stdout.strip() + ("+dirty(sim)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


# --- one model size (runs in a child process) ----------------------------------------------
def run_size(n: int, fmt: str, seed: int) -> dict[str, Any]:
    """One ``simulate`` run at ``n`` consumers; call in a fresh process for a clean peak RSS."""
    from sim.model.params import build_params
    from sim.model.runs import simulate

    params = build_params({"consumers.n": n, "festival.format": fmt})
    cpu0, t0 = time.process_time(), time.perf_counter()
    model = simulate(params, seed)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    timings = {p: float(model.timings.get(p, 0.0)) for p in PHASES}
    in_step = sum(timings.values())
    summary = model.recorder.summary()
    digest = hashlib.sha1(json.dumps(sorted((k, repr(v)) for k, v in summary.items())).encode())
    try:  # and every recorded hourly figure
        import pandas as pd
        digest.update(pd.util.hash_pandas_object(model.recorder.hourly_frame(), index=True).values.tobytes())
    except Exception:  # noqa: BLE001 - the summary alone still identifies the run
        pass
    fingerprint = digest.hexdigest()[:10]
    hours = int(model.calendar.n_hours)
    return {
        "consumers": n, "format": fmt, "seed": seed, "hours": hours, "wall_s": wall, "cpu_s": cpu,
        "consumer_hours": n * hours, "consumer_hours_per_s": n * hours / wall,
        "peak_rss_mib": peak_kib / 1024.0, "phase_s": timings, "step_s": in_step, "outside_s": wall - in_step,
        "phase_share": {p: (t / in_step if in_step else 0.0) for p, t in timings.items()},
        "gmv_total": float(summary.get("gmv_total", float("nan"))),
        "orders_total": float(summary.get("orders_total", float("nan"))), "fingerprint": fingerprint,
    }


def run_size_subprocess(n: int, fmt: str, seed: int) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_child", str(n), "--format", fmt, "--seed", str(seed)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"{n:,} consumers: the benchmark child failed (exit {proc.returncode}):\n{tail}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def size_table(rows: list[dict[str, Any]]) -> str:
    head = ["consumers", "hours", "wall s", "cpu s", "consumer-h/s", "peak MiB",
            *[p for p in PHASES], "outside s", "fingerprint"]
    body = []
    for r in rows:
        share = r["phase_share"]
        body.append([f"{r['consumers']:,}", f"{r['hours']}", f"{r['wall_s']:.2f}", f"{r['cpu_s']:.2f}",
                     f"{r['consumer_hours_per_s'] / 1e6:.1f} M", f"{r['peak_rss_mib']:.0f}",
                     *[f"{100 * share[p]:.1f}%" for p in PHASES], f"{r['outside_s']:.2f}", r["fingerprint"]])
    return _table(head, body, right=range(len(head) - 1))


def size_checks(rows: list[dict[str, Any]]) -> list[str]:
    by_n = {r["consumers"]: r for r in rows}
    out = []
    if 1_000_000 in by_n:
        r = by_n[1_000_000]
        out.append(_check("1M consumers wall", r["wall_s"], TARGETS["wall_1m_s"], "s", r["format"])
                   + f"; cpu {r['cpu_s']:.2f} s")
        out.append(_check("1M consumers peak memory", r["peak_rss_mib"] / 1024, TARGETS["peak_1m_gib"], "GiB", r["format"]))
        if 10_000 in by_n:
            small = by_n[10_000]
            ratio = r["wall_s"] / small["wall_s"]
            out.append(_check("cost of 1M / cost of 10k (wall)", ratio, TARGETS["scale_1m_over_10k"], "x")
                       + f"; cpu {r['cpu_s'] / small['cpu_s']:.1f} x")
    load = os.getloadavg()[0]
    if load > (os.cpu_count() or 1):
        out.append(f"  note: load average {load:.1f} on {os.cpu_count()} cores while measuring: other processes shared "
                   "the CPU, so wall > cpu; cpu s estimates the wall time on an idle machine")
    return out


def _check(label: str, value: float, limit: float, unit: str, note: str = "", at_least: bool = False) -> str:
    ok = value >= limit if at_least else value <= limit
    sign = ">=" if at_least else "<="
    extra = f" ({note})" if note else ""
    return f"  {'PASS' if ok else 'FAIL'}  {label}{extra}: {value:.2f} {unit} (target {sign} {limit:g} {unit})"


def _table(head: list[str], body: list[list[str]], right=()) -> str:
    right = set(right)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    fmt = lambda cells: "  ".join(c.rjust(w) if i in right else c.ljust(w)  # noqa: E731
                                  for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join(line.rstrip() for line in [fmt(head), "  ".join("-" * w for w in widths), *map(fmt, body)])


# --- vectorized vs per-agent --------------------------------------------------------------
def vs_reference(n: int, days: int, seed: int) -> dict[str, Any]:
    from benchmarks.reference_per_agent import compare
    return compare(n=n, days=days, seed=seed)


def reference_report(res: dict[str, Any]) -> str:
    lines = [f"Consumer decisions (activity + choice + commitments), {res['consumers']:,} consumers, "
             f"{res['hours']} hours from {res['first_day']} (hour {res['first_hour']}); same offers, same start state"]
    head = ["implementation", "wall s", "cpu s", "consumer-hours", "consumer-h/s", "us per consumer-h"]
    body = []
    for key, label in (("vectorized", "vectorized ConsumerPopulation"), ("reference", "per-agent Mesa (shuffle_do)")):
        s = res[f"{key}_s"]
        body.append([label, f"{s:.3f}", f"{res[f'{key}_cpu_s']:.3f}", f"{res['consumer_hours']:,}",
                     f"{res[f'{key}_chps'] / 1e6:.2f} M", f"{1e6 * s / res['consumer_hours']:.3f}"])
    lines.append(_table(head, body, right=range(1, 6)))
    lines.append(_check("speedup per consumer-hour (wall)", res["speedup"], TARGETS["speedup_reference"], "x", at_least=True))
    lines.append(f"        (on CPU time: {res['speedup_cpu']:.1f} x)")
    lines.append("Same rule, same workload (per 1,000 consumer-hours; different random streams):")
    keys = ("sessions", "online", "presale", "purchases", "units", "spend", "turned_away")
    head = ["", *keys]
    body = [[label, *[f"{1000 * res[f'{key}_per_ch'][k]:.2f}" for k in keys]]
            for key, label in (("vectorized", "vectorized"), ("reference", "per-agent"))]
    lines.append(_table(head, body, right=range(1, len(head))))
    return "\n".join(lines)


# --- sweep throughput ---------------------------------------------------------------------
class SweepUnavailable(RuntimeError):
    pass


def sweep_throughput(workers: list[int], sweep_file: str, reps: int | None,
                     chunk_size: int | None = None) -> list[dict[str, Any]]:
    """Wall clock of ``python run.py sweep FILE --workers N`` and the rows of its runs.csv."""
    run_py, spec = ROOT / "run.py", ROOT / sweep_file
    if not run_py.is_file():
        raise SweepUnavailable(f"{run_py} not found")
    if not spec.is_file():
        raise SweepUnavailable(f"sweep file {sweep_file} not found (the grid sweep has not been shipped yet?)")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    probe = subprocess.run([sys.executable, str(run_py), "sweep", "--help"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=120)
    if probe.returncode != 0:
        msg = (probe.stderr.strip() or probe.stdout.strip()).splitlines()
        raise SweepUnavailable("`python run.py sweep` is not available yet: " + (msg[-1] if msg else f"exit {probe.returncode}"))
    results = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    try:
        for w in workers:
            out = tmp / f"workers-{w}"
            cmd = [sys.executable, str(run_py), "sweep", sweep_file, "--workers", str(w), "--out", str(out), "--no-progress"]
            if reps:
                cmd += ["--reps", str(reps)]
            if chunk_size:
                cmd += ["--chunk-size", str(chunk_size)]
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if proc.returncode != 0:
                msg = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
                raise SweepUnavailable(f"`{' '.join(cmd[1:])}` failed (exit {proc.returncode}): " + (msg[-1] if msg else ""))
            runs_csv = out / "runs.csv"
            if not runs_csv.is_file():
                raise SweepUnavailable(f"`{' '.join(cmd[1:])}` wrote no runs.csv in {out}")
            with runs_csv.open(newline="") as f:
                rows = list(csv.DictReader(f))
            failed = sum(1 for r in rows if (r.get("error") or "").strip())
            runner_s = None
            try:
                runner_s = json.loads((out / "manifest.json").read_text()).get("wall_seconds")
            except (OSError, ValueError):
                pass
            results.append({"workers": w, "wall_s": wall, "runs": len(rows), "failed": failed,
                            "load_avg_1m_end": round(os.getloadavg()[0], 2),
                            "runs_per_minute": 60 * len(rows) / wall, "runner_wall_s": runner_s,
                            "runner_runs_per_minute": (60 * len(rows) / runner_s) if runner_s else None})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return results


def sweep_report(results: list[dict[str, Any]], sweep_file: str) -> str:
    head = ["workers", "runs", "failed", "wall s", "runs/min", "runner s", "runs/min (runner)", "load after"]
    body = [[str(r["workers"]), str(r["runs"]), str(r["failed"]), f"{r['wall_s']:.1f}", f"{r['runs_per_minute']:.1f}",
             f"{r['runner_wall_s']:.1f}" if r["runner_wall_s"] else "-",
             f"{r['runner_runs_per_minute']:.1f}" if r["runner_runs_per_minute"] else "-",
             f"{r['load_avg_1m_end']:.1f}"] for r in results]
    lines = [f"Sweep {sweep_file} (a run = one row of runs.csv = festival + counterfactual; wall = whole command "
             "incl. start-up and report; runner = execution only, from manifest.json)",
             _table(head, body, right=range(len(head)))]
    by_w = {r["workers"]: r for r in results}
    if 1 in by_w and 2 in by_w:
        lines.append(_check("sweep speedup 2 workers / 1 worker (wall)",
                            by_w[2]["runs_per_minute"] / by_w[1]["runs_per_minute"], TARGETS["sweep_2_over_1"], "x",
                            at_least=True))
    return "\n".join(lines)


# --- command line ---------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--consumers", type=int, action="append", metavar="N",
                   help="model size(s) to run (repeatable; default 10k, 100k, 1M); with --vs-reference, its size")
    p.add_argument("--format", default="single_day", help="festival format (default single_day)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--vs-reference", action="store_true", help="vectorized consumers vs the per-agent Mesa reference")
    p.add_argument("--reference-days", type=int, default=3, help="simulated days for --vs-reference (default 3)")
    p.add_argument("--sweep", action="store_true", help="runs/minute of the grid sweep at 1 and 2 workers")
    p.add_argument("--sweep-file", default=SWEEP_FILE)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts for --sweep (default 1 2)")
    p.add_argument("--reps", type=int, help="replications for --sweep (default: the file's)")
    p.add_argument("--chunk-size", type=int, help="runs per chunk for --sweep (default: the sweep runner's)")
    p.add_argument("--all", action="store_true", help="sizes, --vs-reference and --sweep")
    p.add_argument("--json", action="store_true", help="also print all results as one JSON document at the end")
    p.add_argument("--_child", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args._child is not None:
        print(json.dumps(run_size(args._child, args.format, args.seed)))
        return 0

    run_sizes = args.all or not (args.vs_reference or args.sweep) or (args.consumers and not args.vs_reference)
    info = machine()
    print(f"# {info['date']}  {info['cpu']}  {info['cores']} cores  {info['ram']} RAM  python {info['python']}  "
          f"numpy {info['numpy']}  mesa {info['mesa']}  commit {info['commit']}  load {info['load_avg_1m']}", flush=True)
    report: dict[str, Any] = {"machine": info}
    status = 0

    if run_sizes:
        sizes = args.consumers or list(DEFAULT_SIZES)
        rows = []
        for n in sizes:
            try:
                rows.append(run_size_subprocess(n, args.format, args.seed))
            except RuntimeError as exc:
                print(f"error: {exc}", file=sys.stderr)
                status = 1
        if rows:
            print(f"\nModel runs: default season, format {args.format}, seed {args.seed}, no counterfactual "
                  f"(one fresh process per size; phases as % of step time)")
            print(size_table(rows))
            for line in size_checks(rows):
                print(line)
        report["sizes"] = rows

    if args.vs_reference or args.all:
        n = (args.consumers or [20_000])[0] if args.vs_reference and not args.all else 20_000
        res = vs_reference(n, args.reference_days, args.seed)
        print()
        print(reference_report(res))
        report["vs_reference"] = res

    if args.sweep or args.all:
        print(f"\nSweep: running {args.sweep_file} at workers {args.workers} ...", flush=True)
        try:
            sw = sweep_throughput(args.workers, args.sweep_file, args.reps, args.chunk_size)
            print(sweep_report(sw, args.sweep_file))
            report["sweep"] = sw
        except SweepUnavailable as exc:
            print(f"sweep benchmark skipped: {exc}", flush=True)
            report["sweep"] = {"error": str(exc)}
            status = status or 3

    report["machine"]["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    return status


if __name__ == "__main__":
    sys.exit(main())
