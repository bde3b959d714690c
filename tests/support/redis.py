"""Redis for the tests that need one: REMPART_TEST_REDIS_URL, or a skip (a failure in CI)."""

from __future__ import annotations

import os

import pytest

from tests.conftest import REQUIRE_SERVICES

REDIS_URL = os.environ.get("REMPART_TEST_REDIS_URL", "")


def redis_or_skip() -> str:
    """The Redis URL for tests; in CI a missing server fails instead of skipping."""
    if not REDIS_URL:
        if REQUIRE_SERVICES:
            pytest.fail("REMPART_TEST_REDIS_URL must be set in CI")
        pytest.skip("Redis tests need REMPART_TEST_REDIS_URL")
    return REDIS_URL
