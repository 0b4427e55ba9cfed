"""The package's shape: its wings, and imports that run downward only.

Every import counts, at module level and inside functions alike (an import inside a function still ties
two modules together; only imports under ``if TYPE_CHECKING:`` are left out). The layers, lowest first:

- the *foundation*: the words of the wire format and of the schema, at the package's top (``errors``,
  ``wire``, ``options``, ``layout``, ``generations``), and the words of the environment
  (``_noobwire_environment``, beside the package);
- the *core* both backends share: ``noobwire._core``;
- the *face*: the rest of the package's top (``codec``, ``multipart``, ``messages``, ``zmq``, the
  package itself);
- the *edges*, each a folder: ``noobwire.noob``, ``noobwire.cli``, ``noobwire.bench``, and the start-up
  hook ``_noobwire_install`` and ``__main__``.

A module imports only from its own layer or below, the core never imports the face or an edge, and no
circle closes anywhere.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
"""The source tree (not where noobwire is imported from: CI tests an installed wheel, whose
site-packages holds every other package too, and no .pyx)."""
FOUNDATION = {
    "noobwire.errors",
    "noobwire.wire",
    "noobwire.options",
    "noobwire.layout",
    "noobwire.generations",
    "_noobwire_environment",
}
FACE = {"noobwire", "noobwire.codec", "noobwire.multipart", "noobwire.messages", "noobwire.zmq"}
EDGE_PREFIXES = ("noobwire.noob", "noobwire.cli", "noobwire.bench", "noobwire.__main__", "_noobwire_install")
LAYERS = {"foundation": 0, "core": 1, "face": 2, "edge": 3}
MOST_AT_THE_TOP = 16
"""The package's top holds at most this many modules; the rest are in its wings."""


def layer(module: str) -> str:
    """The layer of a module of the source tree."""
    if module in FOUNDATION:
        return "foundation"
    if module.startswith("noobwire._core"):
        return "core"
    if module.startswith(EDGE_PREFIXES):
        return "edge"
    if module in FACE:
        return "face"
    raise AssertionError(f"{module} belongs to no layer: add it to one")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    found = {_module_name(path): path for path in SRC.rglob("*.py")}
    found.update({_module_name(path): path for path in SRC.rglob("*.pyx")})
    return found


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _resolve(name: str, modules: set[str]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _cython_imports(source: str) -> str:
    """A Cython source's imports and cimports, as Python ``import`` statements (one line each)."""
    lines = []
    for match in re.finditer(r"^(from\s+\S+\s+c?import\s+[^(\n]+|import\s+[^\n]+)$", source, flags=re.M):
        lines.append(match.group(1).replace(" cimport ", " import ").replace(" *", " _"))
    return "\n".join(lines)


def _imports(source: str, here: str, modules: set[str]) -> set[str]:
    """The modules of the tree that ``source`` (the module ``here``) imports, anywhere in it.

    ``from noobwire import wire`` imports ``noobwire.wire``; a name that is not a module is taken from
    the module it is imported from."""
    found: set[str] = set()
    stack: list[ast.AST] = [ast.parse(source)]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if _type_checking(child):
                stack.extend(child.orelse)  # type: ignore[attr-defined]
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                for alias in child.names:
                    submodule = f"{child.module}.{alias.name}"
                    found.add(submodule if submodule in modules else child.module)
            stack.append(child)
    return {resolved for name in found if (resolved := _resolve(name, modules)) and resolved != here}


def graph() -> dict[str, set[str]]:
    """Each module of the source tree and the modules of the tree it imports (a Cython source's
    ``cimport`` and ``import`` lines counted too)."""
    modules = _modules()
    names = set(modules)
    found = {}
    for name, path in modules.items():
        source = path.read_text(encoding="utf-8")
        found[name] = _imports(_cython_imports(source) if path.suffix == ".pyx" else source, name, names)
    return found


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The import circles of ``edges`` (each found once, from its first module in sorted order)."""
    found = []
    for start in sorted(edges):
        stack = [(start, [start])]
        seen: set[str] = set()
        while stack:
            node, path = stack.pop()
            for following in edges[node]:
                if following == start:
                    found.append(path)
                elif following not in path and following > start and following not in seen:
                    seen.add(following)
                    stack.append((following, [*path, following]))
    return found


def test_the_graph_is_read_with_imports_inside_functions() -> None:
    edges = graph()
    assert "noobwire._core.backends" in edges["noobwire.multipart"]
    assert "noobwire.layout" in edges["noobwire.generations"]
    assert "noobwire.noob" in edges["_noobwire_install"]  # (imported inside a function)
    assert "noobwire._core.pure" in edges["noobwire._core.compiled"]  # (read from the .pyx)
    assert len(edges) > 40


def test_no_module_is_part_of_an_import_circle() -> None:
    assert _cycles(graph()) == []


def test_a_circle_would_be_found() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": {"a", "c"}, "c": set()}) == [["a", "b"]]


def test_imports_run_downward_only() -> None:
    for name, imported in sorted(graph().items()):
        for target in sorted(imported):
            assert LAYERS[layer(target)] <= LAYERS[layer(name)], (
                f"{name} ({layer(name)}) imports {target} ({layer(target)}): imports run downward only"
            )


def test_the_rule_would_catch_an_import_upward() -> None:
    assert LAYERS[layer("noobwire.codec")] > LAYERS[layer("noobwire._core.pure")]
    assert LAYERS[layer("noobwire.noob.install")] > LAYERS[layer("noobwire.codec")]
    assert layer("noobwire.errors") == "foundation"


def test_the_core_knows_neither_the_face_nor_the_edges() -> None:
    for name, imported in graph().items():
        if layer(name) == "core":
            assert {layer(target) for target in imported} <= {"foundation", "core"}, name


def test_the_package_s_top_holds_few_modules() -> None:
    top = sorted(path.name for path in (SRC / "noobwire").glob("*.py"))
    assert len(top) <= MOST_AT_THE_TOP, top


def test_the_mirror_knows_no_other_face() -> None:
    assert {layer(target) for target in graph()["noobwire.messages"]} <= {"foundation", "core"}
