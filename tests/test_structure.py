"""The package's shape: no module of noobwire is part of an import circle at module level, and the edges
(ZeroMQ, noob, the command line) depend on the core, never the other way round."""

from __future__ import annotations

import ast
from pathlib import Path

import noobwire

PACKAGE = Path(noobwire.__file__).parent
EDGES = {
    "noobwire.zmq",
    "noobwire.noob",
    "noobwire.noob_compat",
    "noobwire.noob_runner",
    "noobwire.cli",
    "noobwire.__main__",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(path: Path, modules: set[str]) -> set[str]:
    """The noobwire modules ``path`` imports when it is imported (not in functions, not for typing).

    ``from noobwire import wire`` imports the module ``noobwire.wire``; a name that is not a module is
    taken from the module it is imported from. (Every module's package runs first anyway: the package
    ``noobwire`` is not counted as a dependency.)
    """
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for inner in ast.walk(node) if not isinstance(node, ast.FunctionDef | ast.ClassDef) else ():
            if isinstance(inner, ast.Import):
                found.update(alias.name for alias in inner.names)
            elif isinstance(inner, ast.ImportFrom) and inner.module and inner.level == 0:
                for alias in inner.names:
                    submodule = f"{inner.module}.{alias.name}"
                    found.add(submodule if submodule in modules else inner.module)
    return {name for name in found if name in modules and name != "noobwire"}


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {
        name: {imported for imported in _top_level_imports(path, set(modules)) if imported != name}
        for name, path in modules.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles of ``graph`` (each found once, from its first module in sorted order)."""
    found = []
    for start in sorted(graph):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for following in graph[node]:
                if following == start:
                    found.append(path)
                elif following not in path and following > start:
                    stack.append((following, [*path, following]))
    return found


def test_the_graph_is_read() -> None:
    graph = _graph()
    assert "noobwire.codec" in graph["noobwire.multipart"]
    assert "noobwire.layout" in graph["noobwire.generations"]
    assert len(graph) > 25


def test_no_module_is_part_of_an_import_circle() -> None:
    assert _cycles(_graph()) == []


def test_a_circle_would_be_found() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_core_does_not_depend_on_the_edges() -> None:
    graph = _graph()
    core = {
        name
        for name in graph
        if name not in EDGES and not name.startswith(("noobwire.cli", "noobwire.bench"))
    }
    for name in sorted(core - {"noobwire"}):
        assert not graph[name] & EDGES, f"{name} imports an edge module: {sorted(graph[name] & EDGES)}"


def test_the_mirror_knows_no_codec() -> None:
    assert _graph()["noobwire.messages"] <= {"noobwire.errors", "noobwire.options"}
