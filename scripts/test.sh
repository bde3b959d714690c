#!/usr/bin/env bash
# The whole suite. With CI=true, PostgreSQL (and Redis) must be up and their tests must run.
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
