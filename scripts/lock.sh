#!/usr/bin/env bash
# Pin requirements.lock to the packages the virtual environment holds (the project excluded).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
{
  echo "# Every package the project, its tests and its bench install, at one exact version."
  echo "# Made by \`make lock\` (scripts/lock.sh) from a virtual environment built by \`make\`;"
  echo "# \`make audit\` checks these versions against PyPI's advisories."
  "$PY" -m pip freeze --exclude-editable --all | grep -viE '^(rempart|pip|setuptools|wheel)==' | sort -f
} > requirements.lock
echo "requirements.lock: $(grep -vc '^#' requirements.lock) packages pinned"
