"""Smoke tests of the benchmark scripts (tiny sizes; the real figures are in benchmarks/README.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_one_size_json():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--consumers", "1000", "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "consumer-h/s" in proc.stdout
    report = json.loads(proc.stdout[proc.stdout.index("\n{") + 1:])
    (row,) = report["sizes"]
    assert row["consumers"] == 1000 and row["hours"] > 0 and row["peak_rss_mib"] > 0
    assert abs(sum(row["phase_share"].values()) - 1.0) < 1e-9


def test_reference_matches_vectorized_in_distribution():
    from benchmarks.reference_per_agent import compare

    res = compare(n=3000, days=1)
    vec, ref = res["vectorized_per_ch"], res["reference_per_ch"]
    assert vec["sessions"] > 0 and ref["sessions"] > 0
    # Same rule and workload, different random streams: rates agree within sampling noise.
    for key in ("sessions", "purchases"):
        assert abs(vec[key] - ref[key]) < 0.25 * vec[key], (key, vec[key], ref[key])
    assert res["vectorized_s"] > 0 and res["reference_s"] > 0
