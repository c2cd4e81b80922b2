"""The mechanism registry (sim/model/mechanisms.py) covers every switch, names only parameters,
code and tests that exist, and is what run.py params, --explain and docs/mechanisms.md show;
each switch is read in one place, the first code entry of its mechanism."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from sim.app.cli import main
from sim.app.docs import MECHANISMS_MD, mechanisms_markdown
from sim.experiments.ablations import ABLATIONS
from sim.model.mechanisms import BY_SWITCH, MECHANISMS
from sim.model.params import Mechanisms, known_keys

ROOT = Path(__file__).resolve().parents[1]


def _resolve(ref: str):
    module, _, name = ref.partition(":")
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _switch_reads(switch: str) -> list[tuple[str, str]]:
    """(file, enclosing function) of each read of ``mechanisms.<switch>`` (or ``mech.<switch>``) in the model."""
    reads = []
    for path in sorted((ROOT / "sim" / "model").rglob("*.py")):
        if path.name in ("params.py", "mechanisms.py"):
            continue
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if (isinstance(node, ast.Attribute) and node.attr == switch
                        and (getattr(node.value, "id", None) == "mech" or getattr(node.value, "attr", None) == "mechanisms")):
                    reads.append((str(path.relative_to(ROOT)), fn.name))
    return sorted(set(reads))


def test_every_switch_has_exactly_one_entry():
    assert [m.switch for m in MECHANISMS] == list(Mechanisms.model_fields)
    assert len(BY_SWITCH) == len(MECHANISMS)


def test_a_switch_without_an_entry_is_caught(monkeypatch):
    monkeypatch.setattr(Mechanisms, "model_fields", {**Mechanisms.model_fields, "new_mechanism": None})
    with pytest.raises(AssertionError):
        test_every_switch_has_exactly_one_entry()


@pytest.mark.parametrize("mechanism", MECHANISMS, ids=lambda m: m.switch)
def test_an_entry_names_what_exists(mechanism):
    keys = set(known_keys())
    assert mechanism.parameters and not set(mechanism.parameters) - keys
    for ref in mechanism.code:
        assert callable(_resolve(ref)), ref
    for ref in mechanism.tests:
        file, _, name = ref.partition("::")
        assert f"def {name}(" in (ROOT / file).read_text(), ref
    if mechanism.ablation is not None:
        ablation = next(a for a in ABLATIONS if a.fact == mechanism.ablation)
        assert mechanism.switch in ablation.cause


@pytest.mark.parametrize("mechanism", MECHANISMS, ids=lambda m: m.switch)
def test_each_switch_is_read_once_where_the_registry_says(mechanism):
    reads = _switch_reads(mechanism.switch)
    module, _, name = mechanism.code[0].partition(":")
    assert reads == [(module.replace(".", "/") + ".py", name.split(".")[-1])]


def test_every_ablated_switch_has_its_ablation_in_the_registry():
    for ablation in ABLATIONS:
        for switch in ablation.cause:
            assert BY_SWITCH[switch].ablation is not None, switch


def test_the_shipped_mechanisms_page_is_generated_from_the_registry():
    assert MECHANISMS_MD.read_text() == mechanisms_markdown(), "run: python -m sim.app.docs"


def test_params_and_explain_help_list_every_mechanism(capsys):
    assert main(["params"]) == 0
    out = capsys.readouterr().out
    for m in MECHANISMS:
        assert f"mechanisms.{m.switch}  " in out and m.code[0].split(":")[1] in out
    with pytest.raises(SystemExit):
        main(["-h"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"all {len(MECHANISMS)} mechanisms" in help_text
