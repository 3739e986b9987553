#!/usr/bin/env bash
# One command: install everything, start the project's PostgreSQL test cluster, run every test.
#   the import-linter contracts (db never imports Qt; desktop writes no SQL; feature packages
#   meet only in desktop/core) and ruff;
#   phase 1: the data layer (db/) with PySide6 blocked from import, on SQLite and PostgreSQL;
#   phase 2: the Qt tests, offscreen.
# Extra arguments go to both pytest runs (e.g. -x, -k name).
set -euo pipefail
cd "$(dirname "$0")/.."
CITYOPS_WITH_POSTGRES=1 bash scripts/bootstrap.sh
# The tests' PostgreSQL: a cluster of the project's own on 127.0.0.1:55432 with password (SCRAM)
# authentication only, so that the roles' rights are what is tested, not a trust rule; made
# on first use, started when stopped (tests/conftest.py does the same). It lives in one folder
# per user and machine, shared by every checkout (worktrees testing at once share the port);
# its superuser's password is in <folder>/pgpass, and the tests' roles' passwords go there too.
# CITYOPS_TEST_PG_URL (a superuser's URL without password, PGPASSFILE set) uses another server.
if [ -z "${CITYOPS_TEST_PG_URL:-}" ]; then
  export CITYOPS_TEST_PG_DIR=${CITYOPS_TEST_PG_DIR:-/var/tmp/cityops-test-pg-$(id -u)-55432}
  bash scripts/pg-cluster.sh start --fast --port 55432 --dir "$CITYOPS_TEST_PG_DIR" >/dev/null
  export PGPASSFILE=$CITYOPS_TEST_PG_DIR/pgpass
fi

export QT_QPA_PLATFORM=offscreen
PYTEST=(.venv/bin/python -m pytest -q -p no:cacheprovider)

echo "== the house: layering contracts (import-linter) and style (ruff) =="
.venv/bin/lint-imports --no-cache
.venv/bin/ruff check .

echo "== phase 1: data layer, PySide6 blocked =="
CITYOPS_BLOCK_QT=1 "${PYTEST[@]}" -p no:pytest-qt -W ignore::pytest.PytestConfigWarning -m "not qt" "$@"
echo "== phase 2: desktop (Qt offscreen) =="
"${PYTEST[@]}" -m qt "$@"
