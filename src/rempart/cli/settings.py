"""The settings of a command run against a portal database: ``serve``, ``jobs run``."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from rempart.db.engine import make_engine
from rempart.db.migrate import is_initialised, read_meta
from rempart.settings import Settings


def load_settings(
    db: str, journal: str | None, trusted_proxy: list[str], insecure_http: bool, config: Path | None
) -> Settings:
    """Settings from the environment, a config file of ``KEY=value`` lines, then the options."""
    values: dict[str, object] = {}
    if config is not None:
        for n, raw in enumerate(config.read_text(encoding="utf-8").splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if "=" not in line:
                raise typer.BadParameter(f"{config}:{n}: expected KEY=value")
            key, value = (p.strip() for p in line.split("=", 1))
            os.environ.setdefault(f"REMPART_{key.upper()}", value)
    values["db_url"] = db
    if journal:
        values["journal_url"] = journal
    if trusted_proxy:
        values["trusted_proxies"] = trusted_proxy
    if insecure_http:
        values["insecure_http"] = True
    engine = make_engine(db)
    try:
        if not is_initialised(engine):
            raise typer.BadParameter(
                f"{db} is not a Rempart database: "
                f"run `rempart db upgrade --db {db}` or `rempart seed`"
            )
        if read_meta(engine, "demo") == "true" and "REMPART_DEMO" not in os.environ:
            values["demo"] = True
    finally:
        engine.dispose()
    return Settings(**values)  # type: ignore[arg-type]
