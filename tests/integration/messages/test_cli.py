"""``rempart messages verify`` and ``revoke``: a message sent in error stops verifying, and says
"not from us" exactly as an unknown one does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rempart.bootstrap import build_container
from rempart.cli.main import app
from rempart.db.migrate import upgrade
from rempart.messages.model import Channel
from rempart.settings import Settings
from tests.factories import standard_world


def test_a_revoked_message_no_longer_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/rempart.db"
    upgrade(url)
    monkeypatch.setenv("REMPART_DEMO", "true")
    box = build_container(Settings(demo=True, db_url=url))
    try:
        world = standard_world(box.engine)
        reference = box.messages.send_official_message(
            world.persons["trainee"].ft_id, Channel.LETTER, "Courrier envoyé par erreur", "Bonjour."
        )
    finally:
        box.close()
    run = CliRunner()
    genuine = run.invoke(app, ["messages", "verify", reference, "--db", url])
    assert genuine.exit_code == 0, genuine.output
    answer = json.loads(genuine.stdout)
    assert (answer["genuine"], answer["channel"]) == (True, "letter")
    assert run.invoke(app, ["messages", "revoke", reference.lower(), "--db", url]).exit_code == 0
    assert run.invoke(app, ["messages", "revoke", reference, "--db", url]).exit_code == 1
    revoked = run.invoke(app, ["messages", "verify", reference, "--db", url])
    unknown = run.invoke(app, ["messages", "verify", "ZZZZ-ZZZZ-ZZZZ", "--db", url])
    assert (
        (revoked.exit_code, revoked.stdout)
        == (unknown.exit_code, unknown.stdout)
        == (
            1,
            '{"genuine": false}\n',
        )
    )
    assert run.invoke(app, ["messages", "revoke", "pas-une-ref", "--db", url]).exit_code == 2
