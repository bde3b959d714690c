"""A migrated, empty portal database for contract tests that also run on a memory twin."""

from __future__ import annotations

from pathlib import Path

import pytest

from rempart.db.engine import make_engine
from rempart.db.migrate import upgrade
from rempart.db.uow import Database

BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def portal_database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    """The portal database a ``sqlite`` or ``postgres`` parameter names, migrated."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/rempart.db"
    else:
        url = str(request.getfixturevalue("fresh_postgres_url"))
    upgrade(url)
    return Database(make_engine(url))
