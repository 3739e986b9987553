#!/usr/bin/env bash
# Installs what CityOps needs on a fresh Debian machine that has Python 3.11 and pip:
# Debian packages (CJK fonts for the Chinese UI, the X libraries Qt's xcb platform plugin loads
# on a real display, Xvfb, ffmpeg and a font for the sample camera clips), a virtual environment
# in .venv and the project with its test extras, and the sample clips in var/media. Safe to run
# again: it only installs or makes what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS=(fonts-noto-cjk xvfb x11-utils ffmpeg fonts-dejavu-core)
# What Qt 6's xcb platform plugin (a real X display) loads; offscreen needs none of them, so a
# machine set up only for the tests would otherwise fail on a desk with "could not load the Qt
# platform plugin xcb" (tests/desktop/app/test_real_display.py runs the app under Xvfb on xcb).
DEBS+=(libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
       libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxcb-xfixes0
       libxcb-sync1 libxcb-shm0 libxcb-util1 libx11-xcb1 libxkbcommon-x11-0 libxkbcommon0
       libegl1 libgl1 libfontconfig1 libdbus-1-3)
if [ "${CITYOPS_WITH_POSTGRES:-0}" = 1 ]; then  # the test set-up (scripts/test.sh)
  DEBS+=(postgresql)
  # An RTSP camera for the video tests: GStreamer's RTSP server, driven by Debian's Python.
  DEBS+=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-bad)
fi

missing=()
for pkg in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "bootstrap: installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: please install ${missing[*]} (no apt-get here)" >&2
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  "$PY" -m venv .venv
fi
# Reinstall only when the dependency list changed.
stamp=.venv/.cityops-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "bootstrap: installing Python packages (first run takes a few minutes)"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
  echo "$want" > "$stamp"
fi
# Qt Linguist: build the .qm translations from the .ts sources (the app also rebuilds a stale one).
.venv/bin/pyside6-lrelease -silent resources/i18n/*.ts
# The sample camera clips that the demo's camera server and the video tests stream (a few s).
bash scripts/make-sample-media.sh || echo "bootstrap: could not make the sample clips; the" \
  "video wall will show 'signal lost' and the video tests will say why" >&2
