"""The kernels on several threads (the choice, the daily fading of remembered discounts) give exactly
the serial results, and worker processes stay serial."""

import multiprocessing

import pytest
from conftest import SHORT_SEASON, run_digest

from sim.model.kernels import shop, threads
from sim.model.runs import run_model


def _run_digest(fmt: str) -> str:
    return run_digest({"festival.format": fmt}, seed=4)


@pytest.mark.parametrize("fmt", ["single_day", "two_waves"])
def test_parallel_kernels_are_bit_identical_to_serial(monkeypatch, fmt):
    monkeypatch.setattr(threads, "kernel_threads", lambda: 1)  # every kernel serial
    serial = _run_digest(fmt)
    # every hour (empty ones too) on the parallel compilation, even on one core (then with one thread)
    monkeypatch.setattr(shop, "PARALLEL_MIN_SESSIONS", 0)
    monkeypatch.setattr(threads, "kernel_threads", lambda: 2)
    assert _run_digest(fmt) == serial


def _threads_in_child(queue) -> None:
    queue.put(threads.kernel_threads())


def test_worker_processes_run_the_kernels_serially():
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_threads_in_child, args=(queue,))
    child.start()
    child.join(120)
    assert queue.get(timeout=5) == 1


def test_kernels_run_serially_while_other_processes_keep_the_cores_busy(monkeypatch):
    clock = {"wall": 100.0, "system": 0.0, "own": 0.0}
    monkeypatch.setattr(threads.time, "monotonic", lambda: clock["wall"])
    monkeypatch.setattr(threads.time, "process_time", lambda: clock["own"])
    monkeypatch.setattr(threads._OtherLoad, "_system_busy_s", staticmethod(lambda: clock["system"]))
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 2)
    load = threads._OtherLoad()
    assert load.busy(2)  # not measured yet

    def second(own: float, others: float) -> bool:
        clock["wall"] += 1.0
        clock["own"] += own
        clock["system"] += own + others
        return load.busy(2)

    assert not second(own=1.8, others=0.1)   # this process alone
    assert second(own=1.0, others=1.0)       # another process on a core
    assert not second(own=1.0, others=0.3)
    clock["system"] += 5.0                   # within the interval: the last answer
    assert not load.busy(2)


def test_the_load_is_measured_from_the_first_hour_so_the_first_large_hour_can_use_the_threads(monkeypatch):
    """The guard answers "busy" until it has measured once; a run's small hours must take those
    measurements, or a run whose first large hour is its festival starts it on one thread."""
    asked = []
    monkeypatch.setattr(threads, "kernel_threads", lambda: asked.append(1) or 1)
    run_model(SHORT_SEASON, seed=4, counterfactual=False)
    assert len(asked) >= 24 * 7  # every hour asked, though none reaches PARALLEL_MIN_SESSIONS at 3,000 consumers
