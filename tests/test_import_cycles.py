"""No import cycles inside ``peerhub``, counting the imports inside functions too.

The graph has an edge A → B when module A imports B (or a name from B) anywhere: at
the top, inside a function, or inside ``try``. Only an import under
``if TYPE_CHECKING:`` is left out, because it never runs. ``from peerhub.x import y``
counts as importing ``peerhub.x.y`` when that is a module and ``peerhub.x`` otherwise;
importing ``peerhub.x.y`` runs ``peerhub/x/__init__.py`` first, so it counts as
importing ``peerhub.x`` too. A cycle is a strongly connected component of more than
one module (or a module importing itself), found with Tarjan's algorithm. Nothing is
imported: the source is only parsed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "peerhub"


def module_names(root: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package by dotted name (a package is its ``__init__.py``)."""
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement under ``node``, but those under ``if TYPE_CHECKING:``
    (their ``else:`` branch still counts)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _imports_in(other)
        else:
            yield from _imports(child)


def _imports_in(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    else:
        yield from _imports(node)


def _packages_above(name: str, modules: dict[str, Path]) -> set[str]:
    """The packages inside peerhub that hold ``name`` (``peerhub`` itself left out)."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(2, len(parts))} & modules.keys()


def import_graph(modules: dict[str, Path] | None = None) -> dict[str, set[str]]:
    """Module → the peerhub modules it imports. Importing ``peerhub.x.y`` from outside
    ``peerhub.x`` also imports ``peerhub.x`` (its ``__init__.py`` runs first); from
    inside, ``peerhub.x`` is already importing, so only a name taken from
    ``peerhub.x`` itself makes an edge to it."""
    modules = module_names() if modules is None else modules
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        package = name if is_package else name.rpartition(".")[0]
        running = _packages_above(name, modules) | {name}
        targets: set[str] = set()
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                wanted = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                wanted = []
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    wanted.append(sub if sub in modules else base)
            for target in wanted:
                if target in modules and target != "peerhub":
                    targets.add(target)
                    targets |= _packages_above(target, modules) - running
        graph[name] = targets - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module, each sorted,
    largest first (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found, key=lambda c: (-len(c), c))


def a_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One shortest closed path through a component, to name in a message:
    [A, B, ..., A]."""
    members = set(component)
    start = component[0]
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"{component} is not a cycle")


def test_the_cycle_finder_finds_a_cycle_and_nothing_else() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"d"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert a_cycle(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_counts_imports_in_functions_but_not_type_checking_ones(
    tmp_path: Path,
) -> None:
    root = tmp_path / "peerhub"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "sub" / "__init__.py").write_text("from . import leaf\n")
    (root / "sub" / "leaf.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from peerhub import top\n"
        "def later():\n"
        "    from ..top import thing\n"
    )
    (root / "top.py").write_text("import peerhub.sub.leaf\n")
    (root / "typed.py").write_text(
        "import typing\nif typing.TYPE_CHECKING:\n    import peerhub.top\n"
    )
    graph = import_graph(module_names(root))
    assert graph["peerhub.sub.leaf"] == {"peerhub.top"}
    assert graph["peerhub.top"] == {"peerhub.sub", "peerhub.sub.leaf"}
    assert graph["peerhub.sub"] == {"peerhub.sub.leaf"}
    assert graph["peerhub.typed"] == set()
    assert cycles(graph) == [["peerhub.sub", "peerhub.sub.leaf", "peerhub.top"]]


def test_peerhub_has_no_import_cycles() -> None:
    graph = import_graph()
    assert len(graph) > 100  # the whole package was read
    found = cycles(graph)
    if found:
        lines = [" → ".join(a_cycle(graph, c)) + f"  ({len(c)} modules)" for c in found]
        pytest.fail("import cycles in peerhub:\n" + "\n".join(lines))


def test_the_schema_imports_every_models_module() -> None:
    """peerhub/schema.py is where every table is gathered (models.py imports no package's
    models any more): a models module left out of it would be missing from Alembic's
    comparison and from the data export's walk."""
    from peerhub import schema

    wanted = {
        name
        for name, path in module_names().items()
        if path.stem.startswith("models") and name != "peerhub.models"
    }
    assert {m.__name__ for m in schema.MODEL_MODULES} == wanted
    assert wanted <= import_graph()["peerhub.schema"]
