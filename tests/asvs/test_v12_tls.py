"""ASVS 5.0 chapter V12, secure communication: ``rempart serve`` speaks TLS 1.2 and 1.3 only,
with forward-secret AEAD suites, and the clients Rempart uses refuse untrusted certificates."""

from __future__ import annotations

import datetime as dt
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from rempart.db.migrate import upgrade
from rempart.kernel.errors import Unauthenticated
from rempart.mail.adapters.smtp import SmtpMailer
from rempart.signin.adapters.oidc import AuthlibFederation
from tests.support.served import free_port


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, as an internal CA would issue one."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rempart.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def https_server(tmp_path: Path, certificate: tuple[Path, Path]) -> Iterator[int]:
    """``rempart serve`` with its own TLS, on a free loopback port."""
    cert, key = certificate
    db = f"sqlite:///{tmp_path}/rempart.db"
    upgrade(db)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REMPART_")}
    env["REMPART_DEMO"] = "true"
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "rempart"),
            "serve",
            "--db",
            db,
            "--port",
            str(port),
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read() if proc.stderr else b"server exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _handshake(port: int, cert: Path, **versions: ssl.TLSVersion) -> tuple[str, str]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cert)
    context.set_ciphers("ALL:@SECLEVEL=0")  # the client offers everything; the server picks
    for attr, version in versions.items():
        setattr(context, attr, version)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        version = tls.version() or ""
        cipher = tls.cipher()[0] if tls.cipher() else ""
        tls.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert tls.recv(12).startswith(b"HTTP/1.1 200")
        return version, cipher


def test_serve_speaks_only_tls_1_2_and_above(
    https_server: int, certificate: tuple[Path, Path]
) -> None:
    """TLS 1.3 is preferred, TLS 1.2 gets only ECDHE with AES-GCM or ChaCha20, and a client
    limited to TLS 1.1 or to a static-RSA or CBC suite gets no connection (ASVS V12.1.1,
    V12.1.2, V12.2.1)."""
    cert, _ = certificate
    assert _handshake(https_server, cert)[0] == "TLSv1.3"
    version, cipher = _handshake(https_server, cert, maximum_version=ssl.TLSVersion.TLSv1_2)
    assert version == "TLSv1.2"
    assert cipher.startswith("ECDHE-"), cipher
    assert "GCM" in cipher or "CHACHA20" in cipher, cipher
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        _handshake(https_server, cert, maximum_version=ssl.TLSVersion.TLSv1_1)
    weak = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    weak.load_verify_locations(cert)
    weak.maximum_version = ssl.TLSVersion.TLSv1_2
    weak.set_ciphers("AES128-SHA:AES256-SHA:AES128-GCM-SHA256")  # no forward secrecy
    with (
        pytest.raises((ssl.SSLError, ConnectionResetError)),
        socket.create_connection(("127.0.0.1", https_server), timeout=5) as raw,
    ):
        weak.wrap_socket(raw, server_hostname="127.0.0.1").close()


def test_outbound_clients_validate_certificates(certificate: tuple[Path, Path]) -> None:
    """The mailer's STARTTLS and the federation's HTTPS refuse a certificate no trusted
    authority signed: nothing sends a mail or believes a provider over an unverified channel
    (ASVS V12.3.1, V12.3.2, V12.3.3)."""
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)

    class Sink:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
            return "250 OK"

    smtp_port = free_port()
    controller = Controller(
        Sink(),
        hostname="127.0.0.1",
        port=smtp_port,
        tls_context=server_context,
        require_starttls=True,
    )
    controller.start()
    try:
        with pytest.raises(Exception) as caught:  # noqa: PT011 - aiosmtplib's own error types
            SmtpMailer("127.0.0.1", smtp_port, "rempart@example.fr").send(
                "person@example.fr", "Objet", "Corps"
            )
        assert "certificate" in repr(caught.value).lower() or "ssl" in repr(caught.value).lower()
    finally:
        controller.stop()

    import http.server
    import threading

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    httpd.socket = server_context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        federation = AuthlibFederation(
            f"https://127.0.0.1:{httpd.server_address[1]}", "client", "secret", ("eidas2",)
        )
        with pytest.raises(Unauthenticated, match="not available"):
            federation._load()
    finally:
        httpd.shutdown()
