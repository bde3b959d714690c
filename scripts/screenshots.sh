#!/usr/bin/env bash
# Regenerate the README's screenshots: run the browser tests (they save every page they visit
# to test-artifacts/screenshots/), then copy the chosen ones into docs/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
rm -rf test-artifacts/screenshots
"$VENV/bin/python" -m pytest -q tests/browser
mkdir -p docs/screenshots
for name in portail-personne console-alerte console-flux citoyen-acces; do
  cp "test-artifacts/screenshots/$name.png" "docs/screenshots/$name.png"
done
echo "docs/screenshots/ updated from this test run"
