"""Rempart: a partner portal that opens personal data to partners without leaking it."""

__version__ = "0.1.0"
