"""The package's three layers: the model imports nothing from the experiments or the application,
the experiments nothing from the application, and no module imports itself back through others
(no import circles, late imports inside functions included)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "sim"
LAYERS = ("sim.model", "sim.experiments", "sim.app")  # each may import the ones before it only


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The sim modules a file imports anywhere in it (``from a.b import c`` counts a.b.c if it is a module)."""
    found = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in modules}
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import (the package uses absolute imports)")
    return {m for m in found if m in modules}


def _runtime_nodes(tree: ast.AST):
    """Every node but those under ``if TYPE_CHECKING:`` (annotations only, never imported at run time)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            yield from (n for child in node.orelse for n in [child, *_runtime_nodes(child)])
            continue
        yield node
        yield from _runtime_nodes(node)


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in ROOT.rglob("*.py")}
    modules = set(files)
    graph = {}
    for name, path in files.items():
        graph[name] = _imports(path, modules) - {name}
    return graph


def _layer(module: str) -> int | None:
    return next((i for i, layer in enumerate(LAYERS) if module == layer or module.startswith(layer + ".")), None)


def test_layers_import_inwards_only():
    wrong = [f"{m} imports {d}" for m, deps in _graph().items() for d in deps
             if _layer(m) is not None and _layer(d) is not None and _layer(d) > _layer(m)]
    assert not wrong, "\n".join(sorted(wrong))


def test_every_module_lives_in_a_layer():
    assert sorted(m for m in _graph() if _layer(m) is None) == ["sim"]


def test_no_import_circles():
    graph, state, stack, circles = _graph(), {}, [], []

    def visit(m: str) -> None:
        state[m] = "open"
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if state.get(d) == "open":
                circles.append(" -> ".join(stack[stack.index(d):] + [d]))
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not circles, "\n".join(circles)


def test_the_check_sees_a_violation(tmp_path, monkeypatch):
    """The layer check is not vacuous: a model module that imports the application is caught."""
    graph = _graph()
    graph["sim.model.params"] = graph["sim.model.params"] | {"sim.app.cli"}
    monkeypatch.setattr(__import__(__name__), "_graph", lambda: graph, raising=False)
    with pytest.raises(AssertionError, match="sim.model.params imports sim.app.cli"):
        test_layers_import_inwards_only()
