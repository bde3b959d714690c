"""Pages answer errors with French pages, never problem+json or a stack trace (ASVS V16.5.1).

``HtmlRoute`` wraps every page's handler: a domain error becomes the page of its kind with the
same status code the API uses (401, 403, 404, 429 ...); a missing session sends the browser to
the sign-in page; a step-up shows a form to prove the second factor again, which then replays
the interrupted form (HTTP 307 keeps the method and the body).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rempart.kernel import errors as e
from rempart.signin.service import factors
from rempart.signin.web import auth_deps, clear_session_cookie
from rempart.web.deps import settings_of
from rempart.web.errors import status_of
from rempart.web.routing import SettledRoute
from rempart.web.ui import labels
from rempart.web.ui.templating import render
from rempart.web.ui.visitor import CSRF_FIELD, UNSAFE, EnrolFirst

log = logging.getLogger("rempart.web.ui")

# Form fields of the step-up page itself; everything else is the interrupted form, replayed.
STEP_UP_FIELDS = frozenset({CSRF_FIELD, "stepup_code", "stepup_next", "stepup_method"})
API_PREFIXES = ("/api/", "/openapi.json", "/metrics")

_TITLES = {
    400: "Demande incorrecte",
    401: "Connexion nécessaire",
    403: "Accès refusé",
    404: "Page ou dossier introuvable",
    405: "Action non permise",
    409: "Action impossible en l'état",
    429: "Trop de demandes",
    500: "Erreur inattendue",
    503: "Service momentanément indisponible",
}

_EXPLANATIONS = {
    "invalid_request": "Les informations envoyées ne sont pas valides. Vérifiez-les et réessayez.",
    "not_found": (
        "Ce que vous cherchez n'existe pas, ou n'entre pas dans le périmètre des personnes que "
        "vous accompagnez pour la finalité déclarée. Les deux cas reçoivent volontairement la "
        "même réponse."
    ),
    "csrf": (
        "Le formulaire a expiré ou ne vient pas de cette page. Rechargez la page, puis recommencez."
    ),
    "forbidden": "Votre rôle ne permet pas d'utiliser cette page ou cette action.",
    "account_locked": (
        "Ce compte est verrouillé. Votre responsable gestion de compte (RGC) peut le "
        "déverrouiller ; s'il s'agit d'une mesure de sécurité, l'équipe sécurité vous contactera."
    ),
    "access_suspended": (
        "L'accès aux données est suspendu pour ce compte, son organisation ou son application "
        "(formation obligatoire à renouveler, suspension décidée par l'administration, revue "
        "des accès). Rapprochez-vous de votre responsable gestion de compte."
    ),
    "conflict": "Cette action n'est plus possible dans l'état actuel.",
    "throttled": "Trop de tentatives en peu de temps.",
    "guard_unavailable": (
        "Le service de protection des données est momentanément injoignable : par précaution, "
        "l'accès aux dossiers est suspendu. Réessayez dans quelques instants."
    ),
}


def is_page(path: str) -> bool:
    """True for the pages' paths (not the JSON API)."""
    return not path.startswith(API_PREFIXES)


def safe_next(target: str, default: str = "/accueil") -> str:
    """A local path to go back to; anything else (another site, ``//host``) is ignored."""
    if (
        not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 33 for c in target)
        or not is_page(target)
    ):
        return default
    return target


def error_page(request: Request, exc: e.RempartError) -> Response:
    """The French page for a domain error, with the API's status code."""
    status = status_of(exc)
    if isinstance(exc, e.StepUpRequired):
        return _step_up_page(request, exc)
    if isinstance(exc, e.Unauthenticated):
        return _signed_out(request, exc)
    headers: dict[str, str] = {}
    wait = ""
    if isinstance(exc, e.BudgetExhausted | e.Throttled):
        headers["Retry-After"] = str(exc.retry_after)
        wait = labels.wait_fr(exc.retry_after)
    template = {
        "budget_exhausted": "errors/budget.html",
        "access_suspended": "errors/suspended.html",
    }.get(exc.code, "errors/error.html")
    return render(
        request,
        template,
        {
            "title": _TITLES.get(status, "Erreur"),
            "status": status,
            "code": exc.code,
            "explanation": _EXPLANATIONS.get(exc.code, ""),
            "detail": "" if isinstance(exc, e.NotFound) else labels.detail_fr(exc.detail),
            "technical": "" if isinstance(exc, e.NotFound) else exc.detail,
            "wait": wait,
        },
        status=status,
        headers=headers,
    )


def _signed_out(request: Request, exc: e.Unauthenticated) -> Response:
    """No live session: back to the right sign-in page (the agents' or the citizens')."""
    sign_in = getattr(exc, "sign_in_at", "/")
    revoked = isinstance(exc, e.SessionRevoked)
    response: Response
    if request.headers.get("hx-request") == "true":
        # A polled fragment: reload the whole page, which then goes to the sign-in page.
        response = Response(status_code=200, headers={"HX-Refresh": "true"})
    elif request.method not in UNSAFE and not revoked:
        target = f"/?suite={quote(request.url.path, safe='/')}" if sign_in == "/" else sign_in
        response = RedirectResponse(target, status_code=303)
    else:
        response = render(
            request,
            "errors/session.html",
            {"revoked": revoked, "sign_in": sign_in, "title": "Session terminée"},
            status=401,
        )
    if sign_in == "/":
        clear_session_cookie(response, settings_of(request))
    return response


def _step_up_page(request: Request, exc: e.StepUpRequired) -> Response:
    """The form proving the second factor again; it carries the interrupted form to replay."""
    form: list[tuple[str, str]] = []
    cached = getattr(request, "_form", None) if request.method in UNSAFE else None
    if cached is not None:
        form = [
            (k, v)
            for k, v in cached.multi_items()
            if isinstance(v, str) and k not in STEP_UP_FIELDS
        ]
    target = getattr(exc, "target", None)
    method = getattr(exc, "method", None)
    retry = target is not None
    if target is None:
        target = request.url.path
        if request.method not in UNSAFE and request.url.query:
            target += "?" + request.url.query
        method = "post" if request.method in UNSAFE else "get"
    visitor = getattr(request.state, "visitor", None)
    methods: list[str] = []
    if visitor is not None:
        methods = factors.list_factors(auth_deps(request), visitor.ctx)["sign_in_methods"]
    return render(
        request,
        "signin/step_up.html",
        {
            "title": "Confirmez votre identité",
            "next": target,
            "method": method,
            "replay": form,
            "methods": methods,
            "error": (labels.detail_fr(exc.detail) or exc.detail) if retry else "",
        },
        status=401,
    )


class HtmlRoute(SettledRoute):
    """A page's route: errors become French pages (see the module's docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except e.RempartError as exc:
                return error_page(request, exc)
            except EnrolFirst:
                return RedirectResponse("/compte/securite", status_code=303)
            except RequestValidationError:
                return error_page(request, e.InvalidRequest(""))

        return page


def _not_found_page(request: Request, status: int) -> Response:
    return render(
        request,
        "errors/error.html",
        {
            "title": _TITLES.get(status, "Erreur"),
            "status": status,
            "code": "not_found" if status == 404 else "invalid_request",
            "explanation": "Cette adresse ne correspond à aucune page." if status == 404 else "",
            "detail": "",
            "technical": "",
            "wait": "",
        },
        status=status,
    )


def install(app: FastAPI) -> None:
    """Unknown addresses and unexpected errors outside the API get pages too."""
    http_handler: Any = app.exception_handlers[StarletteHTTPException]
    fallback: Any = app.exception_handlers[Exception]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if is_page(request.url.path) and exc.status_code in (404, 405):
            return _not_found_page(request, exc.status_code)
        response: Response = await http_handler(request, exc)
        return response

    async def unexpected(request: Request, exc: Exception) -> Response:
        if not is_page(request.url.path):
            response: Response = await fallback(request, exc)
            return response
        log.exception("unexpected error on a page", exc_info=exc)
        return render(
            request,
            "errors/error.html",
            {
                "title": _TITLES[500],
                "status": 500,
                "code": "internal_error",
                "explanation": "Une erreur inattendue s'est produite. Elle est enregistrée ; "
                "réessayez dans un instant.",
                "detail": "",
                "technical": "",
                "wait": "",
            },
            status=500,
        )

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
