"""« Le journal des accès, publié » — the latest signed checkpoint and who cosigned it.

A public page: anyone (a person, a journalist, the CNIL) sees the size and root of the journal
as its key signed it, the witnesses that checked it grew honestly, and where to fetch the
machine-readable forms (``/api/v1/journal/*``).
"""

from __future__ import annotations

import base64
import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from rempart.journal.service import publication
from rempart.web.deps import container
from rempart.web.ui.routing import HtmlRoute
from rempart.web.ui.templating import render

router = APIRouter(route_class=HtmlRoute, include_in_schema=False)


@router.get("/journal")
def published_journal(request: Request) -> HTMLResponse:
    """The latest published checkpoint, its key and its cosignatures."""
    log = container(request).publication.log
    found = publication.latest_cosigned(log) if log is not None else None
    context: dict[str, object] = {"title": "Le journal des accès, publié", "checkpoint": None}
    if log is not None and found is not None:
        cp, cosignatures = found
        context |= {
            "checkpoint": {
                "origin": cp.origin,
                "size": cp.tree_size,
                "root": base64.b64encode(cp.root).decode(),
                "at": cp.at,
            },
            "key": publication.log_verifier_key(log),
            "cosignatures": [
                {"witness": c.witness, "at": dt.datetime.fromtimestamp(c.timestamp, dt.UTC)}
                for c in cosignatures
            ],
        }
    return render(request, "journal/published.html", context)
