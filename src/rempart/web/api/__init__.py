"""The JSON API, ``/api/v1`` (contract in shared/API.md)."""
