"""Test helpers that are not fixtures: software authenticators, OIDC provider, sign-in drivers."""
