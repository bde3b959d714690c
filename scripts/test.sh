#!/usr/bin/env bash
# The whole suite. PostgreSQL (127.0.0.1:5432), Redis (127.0.0.1:6379) and Chromium tests run
# whenever those answer (tests/conftest.py probes them; REMPART_TEST_*_URL point elsewhere);
# the last lines say what was skipped and why. With CI=true they are started and must run.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

if [ "${CI:-}" = "true" ]; then
  bash scripts/services.sh
  export REMPART_TEST_POSTGRES_URL=${REMPART_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test}
  export REMPART_TEST_REDIS_URL=${REMPART_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}
  export REMPART_REQUIRE_SERVICES=1
fi
exec "$VENV/bin/python" -m pytest -n 2 --dist loadgroup "$@"
