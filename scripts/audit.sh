#!/usr/bin/env bash
# Audit requirements.lock with pip-audit (PyPI's advisory data). A known vulnerability fails.
# A package that could not be looked up is never counted as clean: the count is printed on
# the last line, and AUDIT_STRICT=1 (set it wherever PyPI's per-release data is reachable)
# turns it into a failure too.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
out=$("$PY" -m pip_audit --requirement requirements.lock --no-deps --disable-pip \
  --progress-spinner off 2>&1)
status=$?
echo "$out" | grep -v "^WARNING:pip_audit" | tail -n 40
total=$(grep -vc '^#' requirements.lock)
unaudited=$(echo "$out" | grep -c "could not be audited" || true)
if [ "$unaudited" -gt 0 ]; then
  echo "audit: $unaudited of $total locked packages could NOT be looked up (PyPI's per-release" \
       "advisory data did not answer): they are unaudited, not clean" >&2
  [ "${AUDIT_STRICT:-0}" = "1" ] && exit 1
else
  echo "audit: $total locked packages looked up"
fi
exit $status
