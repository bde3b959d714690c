"""Every router builds its routes as ``SettledRoute`` (or a subclass), so that a ``def`` endpoint
commits its unit of work in its own worker thread: on SQLite a route that left its write lock
to the event loop could stall every request that writes (``rempart.web.routing``)."""

from __future__ import annotations

import ast
from pathlib import Path

import rempart
from rempart.web.routing import SettledRoute
from rempart.web.ui.routing import HtmlRoute

SRC = Path(rempart.__file__).parent
ROUTE_CLASSES = {"SettledRoute", "HtmlRoute"}


def routers() -> tuple[int, list[str]]:
    """(how many ``APIRouter(...)`` calls there are, those without a settled route class)."""
    seen, found = 0, []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "APIRouter"):
                continue
            seen += 1
            kinds = {
                k.value.id
                for k in node.keywords
                if k.arg == "route_class" and isinstance(k.value, ast.Name)
            }
            if not kinds & ROUTE_CLASSES:
                found.append(f"{path.relative_to(SRC)}:{node.lineno}")
    return seen, found


def test_every_router_settles_its_routes() -> None:
    assert issubclass(HtmlRoute, SettledRoute)
    seen, unsettled = routers()
    assert seen >= 20  # the API's and the pages' routers, found where they are declared
    assert unsettled == []
