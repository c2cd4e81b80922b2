"""When the kernels may use several threads, and the parallel compilation of a kernel.

A kernel with ``prange`` loops is compiled twice from the same source: serially (``prange`` is
``range``) and with those loops on numba's threads. Its loops write each item to its own slot,
so both give bit-identical results; the caller picks one per call with ``kernel_threads``.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import types

import numba
from numba import njit


def parallel_jit(fn):
    """``fn`` compiled with its ``prange`` loops on numba's threads (nothing else parallelised) and
    ``_PARALLEL`` True. It is a copy of ``fn`` under another name: numba keys its disk cache by
    the function's name, not by its compile options or globals."""
    twin = types.FunctionType(fn.__code__, {**fn.__globals__, "_PARALLEL": True}, fn.__name__ + "_parallel",
                              fn.__defaults__, fn.__closure__)
    twin.__qualname__ = fn.__qualname__ + "_parallel"
    twin.__doc__ = fn.__doc__
    options = dict(prange=True, comprehension=False, reduction=False, inplace_binop=False, setitem=False,
                   numpy=False, stencil=False, fusion=False)
    return njit(cache=True, parallel=options)(twin)


class _OtherLoad:
    """Whether other processes keep the cores busy: their CPU time over about the last second
    (Linux ``/proc/stat``, less this process's own; the hypervisor's steal counts as theirs).

    Threads of a parallel loop wait for each other at its end, so one descheduled thread
    holds up the hour: with another busy process on 2 cores, the parallel kernels made a
    100k-consumer season several times slower than the serial ones (and GNU OpenMP's
    spin-waiting threads slow the other process down too). Until the first measurement: busy.
    """

    INTERVAL_S = 1.0

    def __init__(self) -> None:
        self.last: tuple[float, float, float] | None = None  # wall clock, system busy s, own CPU s
        self.value = True

    @staticmethod
    def _system_busy_s() -> float | None:
        try:
            with open("/proc/stat", "rb") as f:
                ticks = [int(x) for x in f.readline().split()[1:9]]
        except (OSError, ValueError):
            return None
        user, nice, system, _idle, _iowait, irq, softirq, steal = ticks + [0] * (8 - len(ticks))
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")

    def busy(self, threads: int) -> bool:
        now = time.monotonic()
        if self.last is not None and now - self.last[0] < self.INTERVAL_S:
            return self.value
        system, own = self._system_busy_s(), time.process_time()
        if system is None:  # not Linux: no measurement, no guard
            self.value = False
            return False
        if self.last is not None:
            others = (system - self.last[1] - (own - self.last[2])) / (now - self.last[0])
            self.value = others > (os.cpu_count() or 1) - threads + 0.5  # not a core free for each thread
        self.last = (now, system, own)
        return self.value


_OTHER_LOAD = _OtherLoad()


def kernel_threads() -> int:
    """Threads the kernels may use: numba's (``NUMBA_NUM_THREADS``, ``numba.set_num_threads``), but
    one in a worker process (sweeps, scenarios, calibration: multiprocessing children, Dask
    workers), whose sibling workers already use the other cores, one outside the main thread
    (Dask runs tasks in threads; a threading layer may allow one parallel caller only), and
    one while other processes keep the cores busy (``_OtherLoad``). Results never depend on it."""
    if multiprocessing.parent_process() is not None or threading.current_thread() is not threading.main_thread():
        return 1
    threads = numba.get_num_threads()
    if threads > 1 and _OTHER_LOAD.busy(threads):
        return 1
    return threads
