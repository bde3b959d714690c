"""Sign-in adapters: argon2id, TOTP, WebAuthn, OpenID Connect, offline GeoIP."""
