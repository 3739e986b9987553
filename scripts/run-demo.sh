#!/usr/bin/env bash
# One command: install, build the Dongguan demo database (SQLite, user data dir) once, open
# the window. On a machine without a display it renders the window to var/demo.png instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/cityops demo --if-missing "$@"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec .venv/bin/cityops
fi
mkdir -p var
echo "run-demo: no display here; rendering the window offscreen instead"
.venv/bin/cityops --screenshot var/demo.png --after 3
