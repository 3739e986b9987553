#!/usr/bin/env bash
# One command: install everything, make sure PostgreSQL runs, run every test.
#   the import-linter contracts (db never imports Qt; desktop writes no SQL; feature packages
#   meet only in desktop/core) and ruff;
#   phase 1: the data layer (db/) with PySide6 blocked from import, on SQLite and PostgreSQL;
#   phase 2: the Qt tests, offscreen.
# Extra arguments go to both pytest runs (e.g. -x, -k name).
set -euo pipefail
cd "$(dirname "$0")/.."
CITYOPS_WITH_POSTGRES=1 bash scripts/bootstrap.sh
bash scripts/ensure-postgres.sh

export QT_QPA_PLATFORM=offscreen
export CITYOPS_TEST_PG_URL=${CITYOPS_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/test}
PYTEST=(.venv/bin/python -m pytest -q -p no:cacheprovider)

echo "== the house: layering contracts (import-linter) and style (ruff) =="
.venv/bin/lint-imports --no-cache
.venv/bin/ruff check .

echo "== phase 1: data layer, PySide6 blocked =="
CITYOPS_BLOCK_QT=1 "${PYTEST[@]}" -p no:pytest-qt -W ignore::pytest.PytestConfigWarning -m "not qt" "$@"
echo "== phase 2: desktop (Qt offscreen) =="
"${PYTEST[@]}" -m qt "$@"
