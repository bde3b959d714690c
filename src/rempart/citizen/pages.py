"""« Qui a consulté mon dossier ? » — the person concerned, not an agent.

The person proves who they are with their identifier, birth date and a code mailed to the
address on file (``services/citizen.py``, the same use cases as ``/api/v1/citizen``); a short
session then lists every access to their file and lets them flag one they do not recognise.

Cookies, both HttpOnly, SameSite=Strict, limited to ``/citoyen``: the session token, and the
session's CSRF token, which the pages copy into their forms (the server keeps only its hash).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request, Response
from fastapi.responses import RedirectResponse

from rempart.citizen import service as citizen
from rempart.citizen.model import CitizenSession
from rempart.citizen.service import CitizenDeps
from rempart.db.uow import settle
from rempart.kernel import errors as e
from rempart.messages.model import CHANNEL_LABELS, OfficialMessage
from rempart.web.deps import client_info, container, settings_of
from rempart.web.ui.labels import wait_fr
from rempart.web.ui.routing import HtmlRoute
from rempart.web.ui.templating import render
from rempart.web.ui.visitor import (
    CSRF_FIELD,
    check_presession,
    form_field,
    keep_presession,
    presession_token,
)

router = APIRouter(route_class=HtmlRoute, include_in_schema=False)

COOKIE = "rempart_citizen"
CSRF_COOKIE = "rempart_citizen_csrf"
PATH = "/citoyen"


def citizen_deps(request: Request) -> CitizenDeps:
    """The citizen use cases' dependencies."""
    return container(request).citizen


class SignInFirst(e.Unauthenticated):
    """No live citizen session: back to the first form."""

    sign_in_at = PATH


async def person(request: Request) -> CitizenSession:
    """The person's live session; forms must carry its CSRF token."""
    try:
        return citizen.resume(
            citizen_deps(request),
            request.cookies.get(COOKIE),
            request.method,
            await form_field(request, CSRF_FIELD),
            client=client_info(request),
        )
    except e.CsrfRejected:
        raise
    except e.Unauthenticated as exc:
        raise SignInFirst(exc.detail) from None
    finally:
        settle()  # what resuming wrote is committed before the route runs in its thread


Person = Annotated[CitizenSession, Depends(person)]


def _start_page(
    request: Request, *, status: int = 200, error: str = "", wait: str = ""
) -> Response:
    token, fresh = presession_token(request)
    response = render(
        request,
        "citizen/start.html",
        {
            "title": "Qui a consulté mon dossier ?",
            "form_token": token,
            "error": error,
            "wait": wait,
        },
        status=status,
    )
    keep_presession(request, response, fresh)
    return response


def _code_page(
    request: Request, challenge_id: str, *, status: int = 200, error: str = ""
) -> Response:
    token, fresh = presession_token(request)
    response = render(
        request,
        "citizen/code.html",
        {
            "title": "Saisissez votre code",
            "form_token": token,
            "challenge_id": challenge_id,
            "error": error,
        },
        status=status,
    )
    keep_presession(request, response, fresh)
    return response


@router.get(PATH)
def start(request: Request) -> Response:
    """Identifier and birth date."""
    if request.cookies.get(COOKIE):
        try:
            citizen.resume(
                citizen_deps(request),
                request.cookies.get(COOKIE),
                "GET",
                None,
                client=client_info(request),
            )
        except e.Unauthenticated:
            pass
        else:
            return RedirectResponse(f"{PATH}/acces", status_code=303)
    return _start_page(request)


@router.post(f"{PATH}/code")
def ask_code(
    request: Request,
    csrf_token: Annotated[str, Form(max_length=128)],
    ft_id: Annotated[str, Form(max_length=16)],
    birth_date: Annotated[dt.date, Form()],
) -> Response:
    """Mail a code if the details match; the answer is the same either way."""
    check_presession(request, csrf_token)
    try:
        issued = citizen.request_code(
            citizen_deps(request), ft_id.strip().upper(), birth_date, client_info(request)
        )
    except e.InvalidRequest:
        return _start_page(
            request,
            status=400,
            error="L'identifiant France Travail compte 7 chiffres suivis d'une lettre majuscule.",
        )
    except e.Throttled as exc:
        response = _start_page(
            request,
            status=429,
            error="Trop de codes ont été demandés.",
            wait=wait_fr(exc.retry_after),
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    return _code_page(request, issued.challenge_id)


@router.post(f"{PATH}/verification")
def verify(
    request: Request,
    csrf_token: Annotated[str, Form(max_length=128)],
    challenge_id: Annotated[str, Form(max_length=64)],
    code: Annotated[str, Form(max_length=16)],
) -> Response:
    """Exchange the code for a short session."""
    check_presession(request, csrf_token)
    try:
        opened = citizen.verify_code(
            citizen_deps(request), challenge_id, code.strip(), client_info(request)
        )
    except e.Unauthenticated:
        return _code_page(
            request,
            challenge_id,
            status=401,
            error="Ce code est incorrect, déjà utilisé ou expiré. Vérifiez-le, ou demandez-en "
            "un nouveau.",
        )
    seconds = int((opened.session.expires_at - opened.session.created_at).total_seconds())
    response = RedirectResponse(f"{PATH}/acces", status_code=303)
    secure = not settings_of(request).insecure_http
    for name, value in ((COOKIE, opened.token), (CSRF_COOKIE, opened.csrf_token)):
        response.set_cookie(
            name, value, max_age=seconds, path=PATH, secure=secure, httponly=True, samesite="strict"
        )
    return response


@router.get(f"{PATH}/acces")
def accesses(
    request: Request,
    session: Person,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Every access to the person's file by a partner organisation, newest first."""
    found = citizen.accesses(citizen_deps(request), session, client_info(request), page)
    return render(
        request,
        "citizen/accesses.html",
        {
            "title": "Les accès à votre dossier",
            "items": found["items"],
            "page": page,
            "next": found["next_page"],
            "nothing_on_file": found["nothing_on_file"],
            "citizen_csrf": request.cookies.get(CSRF_COOKIE, ""),
            "expires_at": session.expires_at,
        },
    )


@router.post(f"{PATH}/acces/{{seq}}/signaler")
def flag(
    request: Request,
    session: Person,
    seq: Annotated[int, Path(ge=1, le=2**62)],
    commentaire: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """« Je ne reconnais pas cet accès » : an alert for the security team."""
    citizen.flag_access(citizen_deps(request), session, seq, commentaire, client_info(request))
    return RedirectResponse(f"{PATH}/acces?ok=signale", status_code=303)


@router.post(f"{PATH}/deconnexion")
def sign_out(request: Request, session: Person) -> Response:
    """End the person's session."""
    citizen.end_session(citizen_deps(request), session)
    response = RedirectResponse(f"{PATH}?ok=deconnecte", status_code=303)
    secure = not settings_of(request).insecure_http
    for name in (COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path=PATH, secure=secure, httponly=True, samesite="strict")
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


# --- Official messages: "did this come from you?", my messages, advice after an incident ---


def _message_view(m: OfficialMessage, *, with_content: bool) -> dict[str, object]:
    return {
        "reference": m.display_reference,
        "sent_at": m.sent_at or m.registered_at,
        "channel": CHANNEL_LABELS[m.channel],
        "subject": m.subject,
        "content": m.body if with_content else "",
    }


@router.post(f"{PATH}/verifier-un-message")
def check_message(
    request: Request,
    csrf_token: Annotated[str, Form(max_length=128)],
    reference: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """« Ce message vient-il vraiment de nous ? » : genuine (when, how, about what; the full
    content when it is the signed-in person's own), or one and the same "no" for anything else."""
    # Signed in, the form carries the session's CSRF token; otherwise the pre-session's.
    try:
        session: CitizenSession | None = citizen.resume(
            citizen_deps(request),
            request.cookies.get(COOKIE),
            "POST",
            csrf_token,
            client=client_info(request),
        )
    except e.RempartError:
        check_presession(request, csrf_token)
        session = None
    token, fresh = presession_token(request)
    if session is not None:
        token, fresh = request.cookies.get(CSRF_COOKIE, ""), None
    context: dict[str, object] = {
        "title": "Ce message vient-il vraiment de nous ?",
        "form_token": token,
        "contact": settings_of(request).official_contact,
        "throttled": False,
        "genuine": False,
        "message": None,
        "wait": "",
    }
    retry_after = 0
    try:
        verdict = citizen_deps(request).messages.verify(reference, client_info(request))
    except e.Throttled as exc:
        retry_after = exc.retry_after
        context |= {"throttled": True, "wait": wait_fr(retry_after)}
        verdict = None
    if verdict is not None and verdict.message is not None:
        mine = session is not None and session.ft_id == verdict.message.ft_id
        context |= {"genuine": True, "message": _message_view(verdict.message, with_content=mine)}
    response = render(
        request, "citizen/message_check.html", context, status=429 if retry_after else 200
    )
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    keep_presession(request, response, fresh)
    return response


@router.get(f"{PATH}/messages")
def my_messages(request: Request, session: Person) -> Response:
    """« Mes messages officiels » : every message sent to the person, with its content."""
    found = citizen_deps(request).messages.messages_of(session.ft_id)
    return render(
        request,
        "citizen/messages.html",
        {
            "title": "Mes messages officiels",
            "items": [_message_view(m, with_content=True) for m in found],
            "citizen_csrf": request.cookies.get(CSRF_COOKIE, ""),
            "form_token": request.cookies.get(CSRF_COOKIE, ""),
            "expires_at": session.expires_at,
        },
    )


@router.get(f"{PATH}/apres-un-incident")
def after_an_incident(request: Request) -> Response:
    """Plain-language advice after an incident (the same as in the incident letters)."""
    token, fresh = presession_token(request)
    response = render(
        request,
        "citizen/after_incident.html",
        {
            "title": "Après une fuite de données : comment vous protéger",
            "form_token": token,
            "contact": settings_of(request).official_contact,
        },
    )
    keep_presession(request, response, fresh)
    return response
