"""Partner pages: home, trainings, sessions and attendance, enrolment, portfolio, a person.

Every page calls the use case the API calls, so the same scope policy, guard and journal apply:
a page shows nothing the JSON API would not return to the same session.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import RedirectResponse

from rempart.kernel import errors as e
from rempart.kernel.actors import OrgKind, Role
from rempart.people.scope import declarable_purposes, reaches_people
from rempart.people.service import consult, trainings
from rempart.people.service import portfolio as follow_ups
from rempart.web.deps import container, portal
from rempart.web.ui.routing import HtmlRoute
from rempart.web.ui.templating import render
from rempart.web.ui.visitor import Agent, form_field

router = APIRouter(route_class=HtmlRoute, include_in_schema=False)

Id = Annotated[int, Path(ge=1, le=2**62)]
PAGE_SIZE = 25
MARK_PREFIX = "presence_"


@router.get("/accueil")
def home(request: Request, visitor: Agent) -> Response:
    """What this agent can do here, by role."""
    agent = visitor.ctx.agent
    return render(
        request,
        "portal/home.html",
        {
            "title": "Accueil",
            "trains": visitor.ctx.org.kind is OrgKind.TRAINING_BODY
            and agent.has(Role.TRAINING_MANAGER),
            "follows": reaches_people(agent),
            "manages": agent.has(Role.ACCOUNT_MANAGER),
            "reviews": bool(
                agent.roles & {Role.ACCOUNT_MANAGER, Role.DPO, Role.SECURITY_OFFICER, Role.ADMIN}
            ),
            "purposes": declarable_purposes(agent),
        },
    )


@router.get("/formations")
def training_list(request: Request, visitor: Agent) -> Response:
    """The training body's trainings."""
    items = trainings.list_trainings(portal(request), visitor.ctx)
    return render(request, "portal/trainings.html", {"title": "Mes formations", "items": items})


@router.get("/formations/{training_id}")
def training_page(request: Request, visitor: Agent, training_id: Id) -> Response:
    """One training: its sessions, its trainees, and the enrolment form."""
    detail = trainings.training_detail(portal(request), visitor.ctx, training_id)
    ended = dt.date.fromisoformat(detail["end_date"]) < visitor.ctx.today
    return render(
        request,
        "portal/training.html",
        {"title": detail["title"], "training": detail, "ended": ended},
    )


@router.post("/formations/{training_id}/inscriptions")
def enrol(
    request: Request,
    visitor: Agent,
    training_id: Id,
    ft_id: Annotated[str, Form(max_length=16)],
    birth_date: Annotated[dt.date, Form()],
) -> Response:
    """Enrol a person who gave both their identifier and birth date (exact lookup only)."""
    back = f"/formations/{training_id}"
    try:
        trainings.enrol_person(
            portal(request), visitor.ctx, training_id, ft_id.strip().upper(), birth_date
        )
    except e.NotFound:
        # Unknown, wrong birth date, or a person nobody may enrol: one answer for all.
        return RedirectResponse(f"{back}?ok=introuvable#inscription", status_code=303)
    return RedirectResponse(f"{back}?ok=inscrit", status_code=303)


@router.get("/seances/{session_id}")
def attendance_page(request: Request, visitor: Agent, session_id: Id) -> Response:
    """A session's roster with the marks recorded so far, as a form."""
    roster = trainings.session_attendance(portal(request), visitor.ctx, session_id)
    return render(
        request,
        "portal/attendance.html",
        {
            "title": f"Présences du {roster['session']['day']}",
            "roster": roster,
            "prefix": MARK_PREFIX,
        },
    )


@router.post("/seances/{session_id}/presences")
async def record_attendance(request: Request, visitor: Agent, session_id: Id) -> Response:
    """Record the marks of the form (one radio group per trainee)."""
    form = await request.form()
    marks = {
        key.removeprefix(MARK_PREFIX): value
        for key, value in form.multi_items()
        if key.startswith(MARK_PREFIX) and isinstance(value, str) and value
    }
    deps = portal(request)
    trainings.record_attendance(deps, visitor.ctx, session_id, marks)
    return RedirectResponse(f"/seances/{session_id}?ok=presences", status_code=303)


@router.get("/portefeuille")
def portfolio(
    request: Request,
    visitor: Agent,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The people the agent works with, one page at a time."""
    found = consult.portfolio_page(portal(request), visitor.ctx, page, PAGE_SIZE)
    return render(
        request,
        "portal/portfolio.html",
        {"title": "Mon portefeuille", "items": found.items, "page": page, "next": found.next_page},
    )


@router.get("/personnes/{ft_id}")
def person(
    request: Request,
    visitor: Agent,
    ft_id: Annotated[str, Path(max_length=16)],
    finalite: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    """A person's record: only the fields the role and the declared purpose allow."""
    record = consult.consult_person(portal(request), visitor.ctx, ft_id, finalite or None)
    return render(
        request,
        "portal/person.html",
        {
            "title": f"{record.get('first_name', '')} {record.get('last_name', '')}".strip(),
            "record": record,
            "purposes": declarable_purposes(visitor.ctx.agent),
        },
    )


@router.post("/personnes/{ft_id}/notes")
async def write_note(
    request: Request,
    visitor: Agent,
    ft_id: Annotated[str, Path(max_length=16)],
) -> Response:
    """An assigned adviser adds a follow-up note."""
    text = await form_field(request, "texte") or ""
    trainings.add_follow_up_note(portal(request), visitor.ctx, ft_id, text)
    return RedirectResponse(f"/personnes/{ft_id}#notes", status_code=303)


# --- Advisers' portfolios (Missions Locales, Cap emploi, agency) ------------------------------


@router.post("/personnes/{ft_id}/cloture")
def close_follow_up(
    request: Request, visitor: Agent, ft_id: Annotated[str, Path(max_length=16)]
) -> Response:
    """The adviser closes one of their own follow-ups."""
    follow_ups.close(container(request).portfolio, visitor.ctx, ft_id)
    return RedirectResponse("/portefeuille?ok=suivi_clos", status_code=303)


@router.post("/portefeuille/prise-en-charge")
def ask_take_on(
    request: Request,
    visitor: Agent,
    ft_id: Annotated[str, Form(max_length=16)],
    birth_date: Annotated[dt.date, Form()],
) -> Response:
    """Ask the person's consent: a code goes to them; the adviser enters it on the next page."""
    asked = follow_ups.request_take_on(
        container(request).portfolio, visitor.ctx, ft_id.strip().upper(), birth_date
    )
    return RedirectResponse(
        f"/portefeuille/prise-en-charge/{asked['confirmation_id']}", status_code=303
    )


@router.get("/portefeuille/prise-en-charge/{confirmation_id}")
def take_on_page(
    request: Request, visitor: Agent, confirmation_id: Annotated[str, Path(max_length=64)]
) -> Response:
    """Where the adviser types the code the person received."""
    return render(
        request,
        "portal/take_on.html",
        {"title": "Accord de la personne", "confirmation_id": confirmation_id},
    )


@router.post("/portefeuille/prise-en-charge/{confirmation_id}")
def confirm_take_on(
    request: Request,
    visitor: Agent,
    confirmation_id: Annotated[str, Path(max_length=64)],
    code: Annotated[str, Form(max_length=16)],
) -> Response:
    """The code the person gave: the follow-up starts now, or the code is refused."""
    try:
        done = follow_ups.confirm_take_on(
            container(request).portfolio, visitor.ctx, confirmation_id, code
        )
    except e.InvalidRequest:
        back = f"/portefeuille/prise-en-charge/{confirmation_id}?ok=code_refuse"
        return RedirectResponse(back, status_code=303)
    return RedirectResponse(f"/personnes/{done['ft_id']}?ok=pris_en_charge", status_code=303)


@router.get("/structure/suivis")
def hand_over_page(request: Request, visitor: Agent) -> Response:
    """The structure's manager hands follow-ups from one adviser to a colleague."""
    if not visitor.ctx.agent.has(Role.ACCOUNT_MANAGER):
        raise e.Forbidden("only a follow-up structure's manager hands follow-ups over")
    return render(request, "portal/hand_over.html", {"title": "Transférer des suivis"})


@router.post("/structure/suivis")
def hand_over(
    request: Request,
    visitor: Agent,
    from_login: Annotated[str, Form(max_length=64)],
    to_login: Annotated[str, Form(max_length=64)],
    ft_ids: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    """Hand the listed follow-ups (or, none listed, all of them) over."""
    wanted = [f.strip().upper() for f in ft_ids.replace(",", " ").split() if f.strip()]
    follow_ups.hand_over(
        container(request).portfolio,
        visitor.ctx,
        from_login.strip(),
        to_login.strip(),
        wanted or None,
    )
    return RedirectResponse("/structure/suivis?ok=transferes", status_code=303)
