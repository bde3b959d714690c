"""``rempart serve``: run the portal with uvicorn."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console

from rempart.cli.readiness import production_problems
from rempart.cli.settings import load_settings
from rempart.kernel.errors import PolicyError
from rempart.web.app import create_app

console = Console(stderr=True)
TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL:!SHA1"


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
    tls_cert: Path | None = typer.Option(
        None, "--tls-cert", help="PEM certificate chain: serve HTTPS itself (TLS 1.2 and 1.3)."
    ),
    tls_key: Path | None = typer.Option(None, "--tls-key", help="PEM private key of --tls-cert."),
) -> None:
    """Serve the portal."""
    try:
        settings = load_settings(db, journal, trusted_proxy, insecure_http, config)
        missing = production_problems(settings)
        if missing:
            for problem in missing:
                console.print(f"[red]refusing to start in production, missing:[/] {problem}")
            raise typer.Exit(2)
        app = create_app(settings)
    except (PolicyError, ValidationError) as exc:
        # A wrong policy file or setting stops the start, saying which line or field.
        detail = exc.detail if isinstance(exc, PolicyError) else str(exc)
        console.print(f"[red]refusing to start:[/] {detail}", soft_wrap=True)
        raise typer.Exit(2) from None
    if (tls_cert is None) != (tls_key is None):
        console.print("[red]refusing to start:[/] --tls-cert and --tls-key go together")
        raise typer.Exit(2)
    scheme = "https" if tls_cert else "http"
    mode = "demo" if settings.demo else "production"
    console.print(f"Rempart on {scheme}://{host}:{port} ({mode})")
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
        # Python's server context already refuses anything older than TLS 1.2; TLS 1.2 is
        # further limited to forward-secret AEAD suites (TLS 1.3's are all of that kind).
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        ssl_ciphers=TLS12_CIPHERS,
    )
