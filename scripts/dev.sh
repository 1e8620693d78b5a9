#!/usr/bin/env bash
# The two set-up commands of the README:  scripts/dev.sh demo  |  scripts/dev.sh test
# Creates .venv (if missing), installs gha-fix with its test extras, then runs the job.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${GHA_FIX_VENV:-.venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
# (this machine's pip config names local mirrors that may be absent: hide only those warnings)
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]' 2>&1 \
  | { grep -v '^WARNING: Location .* is ignored' || true; } >&2
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "installing gha-fix failed" >&2; exit 1; }
case "${1:-}" in
  demo)
    # the main job on the bundled example repository, as a reviewable diff (writes nothing)
    exec "$venv/bin/gha-fix" apply --dry-run examples/demo
    ;;
  test)
    "$venv/bin/ruff" check .
    set +e
    "$venv/bin/python" -m pytest -q "${@:2}"
    code=$?
    set -e
    if [ "$code" -eq 5 ]; then
      echo "pytest collected no tests: failing on purpose" >&2
      exit 1
    fi
    exit "$code"
    ;;
  *)
    echo "usage: scripts/dev.sh demo|test [pytest args]" >&2
    exit 2
    ;;
esac
