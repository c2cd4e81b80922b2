"""The consumers' columns live in one record per consumer; results are those of separate columns."""

import copy

import numpy as np
from conftest import run_digest

import sim.model.agents.consumers as consumers
from sim.model.agents.consumer_records import CACHE_LINE, RECORD
from sim.model.double11 import Double11Model
from sim.model.params import build_params


def _digest() -> str:
    return run_digest({"festival.format": "two_waves"}, seed=2)


def test_records_give_the_results_of_separate_columns(monkeypatch):
    interleaved = _digest()
    monkeypatch.setattr(consumers, "interleave", lambda columns: {k: np.ascontiguousarray(v) for k, v in columns.items()})
    assert _digest() == interleaved


def test_every_column_is_a_view_of_one_cache_aligned_record_per_consumer_also_in_a_copy():
    model = Double11Model(build_params({"consumers.n": 500}), seed=0)
    for _ in range(30):
        model.step()
    copied = copy.deepcopy(model).consumers
    for pop in (model.consumers, copied):
        base = pop.wallet.base
        assert getattr(pop, RECORD.names[0]).ctypes.data % CACHE_LINE == 0  # the field at offset 0
        for name in RECORD.names:
            column = getattr(pop, name)
            assert column.base is base and column.strides[0] == RECORD.itemsize, name
    assert all(np.array_equal(getattr(copied, n), getattr(model.consumers, n)) for n in RECORD.names)
    assert copied.wallet.base is not model.consumers.wallet.base
