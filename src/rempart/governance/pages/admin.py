"""Account managers' pages: accounts, four-eyes requests and their approval queue, reviews.

Requesting and approving need a fresh second factor: the step-up form appears, then the
interrupted form is replayed. The services decide who may do what; the pages only offer the
buttons the services will accept (``may_approve``), and show the refusals in French.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import RedirectResponse

from rempart.governance.model import grantable_roles
from rempart.governance.service import accounts, reviews
from rempart.governance.web import governance
from rempart.web.ui.routing import HtmlRoute
from rempart.web.ui.templating import render
from rempart.web.ui.visitor import Agent

router = APIRouter(route_class=HtmlRoute, include_in_schema=False)

RequestId = Annotated[str, Path(min_length=1, max_length=32)]
Id = Annotated[int, Path(ge=1, le=2**62)]
Status = Literal["pending_approval", "approved", "denied", "cancelled", "expired", "all"]


@router.get("/comptes")
def accounts_page(request: Request, visitor: Agent) -> Response:
    """The organisation's accounts and the form to request a new one."""
    gov = governance(request)
    return render(
        request,
        "governance/accounts.html",
        {
            "title": "Comptes de mon organisation",
            "accounts": accounts.list_accounts(gov, visitor.ctx),
            "grantable": sorted(
                str(r) for r in grantable_roles(visitor.ctx.agent, visitor.ctx.org.kind)
            ),
        },
    )


@router.post("/comptes/demandes")
def request_account(
    request: Request,
    visitor: Agent,
    login_name: Annotated[str, Form(alias="login", max_length=64)],
    email: Annotated[str, Form(max_length=254)],
    roles: Annotated[list[str], Form(max_length=6)],
) -> Response:
    """Ask for a new account; another authorised person approves it."""
    accounts.request_account(
        governance(request), visitor.ctx, login_name.strip(), email.strip(), roles
    )
    return RedirectResponse("/demandes?ok=demande", status_code=303)


@router.get("/demandes")
def queue(
    request: Request, visitor: Agent, statut: Annotated[Status, Query()] = "pending_approval"
) -> Response:
    """Requests the agent may see, with approve and deny buttons where the rules allow."""
    items = accounts.list_requests(
        governance(request), visitor.ctx, None if statut == "all" else statut
    )
    return render(
        request,
        "governance/requests.html",
        {"title": "Demandes de comptes", "items": items, "status": statut},
    )


@router.post("/demandes/{request_id}/approuver")
def approve(request: Request, visitor: Agent, request_id: RequestId) -> Response:
    """Approve (never one's own request)."""
    accounts.approve(governance(request), visitor.ctx, request_id)
    return RedirectResponse("/demandes?ok=approuvee", status_code=303)


@router.post("/demandes/{request_id}/refuser")
def deny(
    request: Request,
    visitor: Agent,
    request_id: RequestId,
    motif: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Turn a request down."""
    accounts.deny(governance(request), visitor.ctx, request_id, motif)
    return RedirectResponse("/demandes?ok=refusee", status_code=303)


@router.post("/demandes/{request_id}/annuler")
def cancel(request: Request, visitor: Agent, request_id: RequestId) -> Response:
    """Withdraw one's own pending request."""
    accounts.cancel(governance(request), visitor.ctx, request_id)
    return RedirectResponse("/demandes?ok=annulee", status_code=303)


@router.get("/revues")
def campaigns(request: Request, visitor: Agent) -> Response:
    """Access-review campaigns the agent may see."""
    items = reviews.list_campaigns(governance(request), visitor.ctx)
    return render(request, "governance/reviews.html", {"title": "Revues d'accès", "items": items})


@router.post("/revues")
def open_campaign(request: Request, visitor: Agent) -> Response:
    """Open a campaign for the agent's organisation now."""
    opened = reviews.open_campaign(governance(request), visitor.ctx)
    return RedirectResponse(f"/revues/{opened['id']}?ok=campagne", status_code=303)


@router.get("/revues/{campaign_id}")
def campaign(request: Request, visitor: Agent, campaign_id: Id) -> Response:
    """A campaign and its items, with keep and remove buttons while it is open."""
    detail = reviews.campaign_detail(governance(request), visitor.ctx, campaign_id)
    return render(
        request,
        "governance/review.html",
        {"title": f"Revue d'accès n° {detail['id']}", "campaign": detail},
    )


@router.post("/revues/{campaign_id}/lignes/{item_id}")
def decide(
    request: Request,
    visitor: Agent,
    campaign_id: Id,
    item_id: Id,
    decision: Annotated[Literal["keep", "remove"], Form()],
) -> Response:
    """Keep or remove one account or role."""
    reviews.decide(governance(request), visitor.ctx, campaign_id, item_id, decision)
    return RedirectResponse(f"/revues/{campaign_id}?ok=decision", status_code=303)
