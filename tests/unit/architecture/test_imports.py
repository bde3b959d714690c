"""The house's structure, checked from the code's own imports (grimp, import-linter's engine).

import-linter (``make check``) holds the layer rules; these tests hold what a layer contract
cannot say: no import circle anywhere, and no function-local import used to dodge one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

SRC = Path(__file__).resolve().parents[3] / "src"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    # No cache: a graph kept from an earlier tree would hide (or invent) a circle.
    return grimp.build_graph(
        "rempart", "rempart_bench", include_external_packages=False, cache_dir=None
    )


def _circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_import_circle_anywhere(graph: grimp.ImportGraph) -> None:
    """Modules import each other one way only (a package's ``__init__`` counts as a module)."""
    assert _circles(graph) == []


def _local_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(func):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rempart"):
                found.append(f"{path.relative_to(SRC)}:{node.lineno} {node.module}")
    return found


def test_no_function_local_import_between_rempart_modules() -> None:
    """A local import of our own code is how a circle hides; imports stand at the top."""
    local = [hit for p in sorted(SRC.rglob("*.py")) for hit in _local_imports(p)]
    assert local == []
