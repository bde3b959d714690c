"""``rempart serve``: run the portal with uvicorn."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console

from rempart.db.engine import make_engine
from rempart.db.migrate import is_initialised, read_meta
from rempart.kernel.errors import PolicyError
from rempart.settings import Settings
from rempart.web.app import create_app

console = Console(stderr=True)


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


def serve(
    db: str = typer.Option("sqlite:///rempart.db", "--db", help="Portal database URL."),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    journal: str | None = typer.Option(None, "--journal", help="Journal database URL."),
    trusted_proxy: list[str] = typer.Option(
        [], "--trusted-proxy", help="CIDR of a reverse proxy whose X-Forwarded-For is believed."
    ),
    insecure_http: bool = typer.Option(
        False, "--insecure-http", help="Local use only: session cookie without Secure."
    ),
    config: Path | None = typer.Option(None, "--config", help="File of KEY=value settings."),
) -> None:
    """Serve the portal."""
    try:
        settings = load_settings(db, journal, trusted_proxy, insecure_http, config)
        app = create_app(settings)
    except (PolicyError, ValidationError) as exc:
        # A wrong policy file or setting stops the start, saying which line or field.
        detail = exc.detail if isinstance(exc, PolicyError) else str(exc)
        console.print(f"[red]refusing to start:[/] {detail}", soft_wrap=True)
        raise typer.Exit(2) from None
    console.print(f"Rempart on http://{host}:{port} ({'demo' if settings.demo else 'production'})")
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=False,
        server_header=False,
        access_log=False,  # the journal records every data request; no second, weaker log
        http="httptools",
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
    )
