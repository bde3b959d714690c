"""ASVS 5.0 chapters V6 and V7, what the sign-in tests leave unnamed: password fields that
welcome managers, passwords checked exactly and never expired, no default account, and a way
out on every signed-in page."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import func, select

from rempart.db.engine import make_engine
from rempart.db.migrate import upgrade
from rempart.db.schema.core import AgentRow
from rempart.kernel.clock import ManualClock
from tests.factories import World
from tests.support.signin import LOGIN, client_for, give_credentials, sign_in

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "rempart" / "web" / "ui" / "templates"


def test_password_fields_welcome_password_managers(app: FastAPI) -> None:
    """Every password field is masked, says which password it wants so that managers fill
    it, and nothing blocks pasting (ASVS V6.2.6, V6.2.7)."""
    field = re.compile(r"<input[^>]*type=\"password\"[^>]*>")
    seen = 0
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"on(paste|copy|cut|drop)\s*=", text), template
        for tag in field.findall(text):
            seen += 1
            assert re.search(r'autocomplete="(current|new)-password"', tag), (template, tag)
    assert seen >= 1
    page = client_for(app).get("/")
    assert 'type="password" autocomplete="current-password"' in page.text


def test_the_password_is_checked_exactly_as_typed(
    app: FastAPI, world: World, clock: ManualClock
) -> None:
    """No trimming, case folding or truncation: only the exact password opens the second
    step (ASVS V6.2.8)."""
    account = give_credentials(world.engine, "tm.dupont")
    client = client_for(app)
    p = account.password
    for variant in (p.upper(), p.lower(), f" {p}", f"{p} ", p[:-1], p[:8]):
        r = client.post(LOGIN, json={"login": account.login, "password": variant})
        assert r.status_code == 401, variant
        clock.advance(3600)  # past the growing delay between failures
    assert client.post(LOGIN, json={"login": account.login, "password": p}).status_code == 200


def test_passwords_do_not_expire(app: FastAPI, world: World, clock: ManualClock) -> None:
    """A password set long ago still signs in: no periodic rotation is asked (ASVS V6.2.10)."""
    account = give_credentials(world.engine, "tm.dupont")
    clock.advance(400 * 86400)
    with world.engine.begin() as c:  # the account was in use meanwhile (not an idle account)
        c.execute(
            AgentRow.__table__.update()
            .where(AgentRow.login == "tm.dupont")
            .values(last_used_at=clock.now() - dt.timedelta(days=1))
        )
    sign_in(client_for(app), account, clock)


def test_a_new_database_has_no_default_account(tmp_path: Path, app: FastAPI) -> None:
    """A migrated database holds no account at all, so no root/admin with a known password
    exists; such logins fail like any unknown one (ASVS V6.3.2)."""
    url = f"sqlite:///{tmp_path}/fresh.db"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(AgentRow)).scalar_one() == 0
    engine.dispose()
    client = client_for(app)
    for login, password in (("admin", "admin"), ("root", "root"), ("sa", "")):
        r = client.post(LOGIN, json={"login": login, "password": password or "x"})
        assert r.status_code in (400, 401)


def test_every_signed_in_page_offers_sign_out(
    app: FastAPI, world: World, clock: ManualClock
) -> None:
    """Each page a signed-in agent reaches carries the sign-out form (ASVS V7.4.4)."""
    client = client_for(app)
    sign_in(client, give_credentials(world.engine, "tm.dupont"), clock)
    for path in ("/accueil", "/formations", "/portefeuille", "/compte/securite"):
        page = client.get(path)
        assert page.status_code == 200, (path, page.status_code)
        assert 'action="/deconnexion"' in page.text, path
