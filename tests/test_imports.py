"""The package's imports point one way: no module reaches back, not even from inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import vae_report

PACKAGE = Path(vae_report.__file__).resolve().parent
ROOT = PACKAGE.name


def _modules(package: Path) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package's __init__)."""
    out = {}
    for path in package.rglob("*.py"):
        parts = [package.name, *path.relative_to(package).with_suffix("").parts]
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


def _targets(node: ast.Import | ast.ImportFrom, name: str, is_package: bool, modules: dict) -> list[str]:
    """The package modules an import statement loads: the module named and, for ``from X import y``, ``X.y`` where
    that is a module."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = name.split(".") if is_package else name.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        module = ".".join(base + ([node.module] if node.module else []))
    else:
        module = node.module or ""
    submodules = [f"{module}.{alias.name}" for alias in node.names if f"{module}.{alias.name}" in modules]
    attributes = [alias for alias in node.names if f"{module}.{alias.name}" not in modules]
    return submodules + ([module] if attributes or not submodules else [])


def import_graph(package: Path = PACKAGE) -> dict[str, dict[str, int]]:
    """Every import in the package, at module level or inside a function: module -> {imported module: line}.
    Importing ``a.b.c`` also runs the package ``a.b`` (its ``__init__``), unless the importer sits inside it."""
    modules = _modules(package)
    graph: dict[str, dict[str, int]] = {name: {} for name in modules}
    for name, (path, is_package) in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for target in _targets(node, name, is_package, modules):
                parts = target.split(".")
                for i in range(1, len(parts) + 1):
                    reached = ".".join(parts[:i])
                    own_ancestor = name == reached or name.startswith(reached + ".")
                    if reached in modules and not (own_ancestor and reached != target):
                        if reached != name:
                            graph[name].setdefault(reached, node.lineno)
    return graph


def find_cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    """One import circle as a path that ends where it starts, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_package_imports_form_no_circle():
    graph = import_graph()
    assert len(graph) > 30 and sum(map(len, graph.values())) > 60  # the walk saw the package, not an empty tree
    cycle = find_cycle(graph)
    where = [f"{a} (line {graph[a][b]}) -> {b}" for a, b in zip(cycle, cycle[1:], strict=False)] if cycle else []
    assert cycle is None, "import circle: " + "; ".join(where)


@pytest.mark.parametrize("source, expected", [
    ({"a": {"b": 1}, "b": {"c": 1}, "c": {}}, None),
    ({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 3}}, ["a", "b", "c", "a"]),
])
def test_the_circle_finder_finds_circles(source, expected):
    assert find_cycle(source) == expected


def test_a_function_level_import_counts(tmp_path):
    """The walk reads imports inside functions, relative ones, and the package __init__ an import runs."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from . import low\n")
    (package / "sub" / "low.py").write_text("def f():\n    from ..top import g\n    return g\n")
    (package / "top.py").write_text("from .sub.low import f\n")
    graph = import_graph(package)
    assert graph["pkg.sub.low"] == {"pkg.top": 2}  # its own package is no edge
    assert graph["pkg.top"] == {"pkg.sub.low": 1, "pkg.sub": 1}  # importing sub.low runs sub/__init__
    assert find_cycle(graph) == ["pkg.sub", "pkg.sub.low", "pkg.top", "pkg.sub"]
