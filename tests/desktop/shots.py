"""Screenshots of what a test has just driven, for a reviewer's eyes (an issue's closing note).

``shot(widget, name)`` does nothing unless ``CITYOPS_SHOTS_DIR`` is set; then it saves the
widget as ``<dir>/<name>.png``. The pictures come from the very scenarios the tests check, so
a screenshot cannot show something the tests do not hold:

    CITYOPS_SHOTS_DIR=docs/screenshots/desk-at-3am QT_QPA_PLATFORM=offscreen \\
        .venv/bin/python -m pytest -m qt -k "<the tests>" tests/desktop
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QWidget


def shot(widget: QWidget, name: str) -> Path | None:
    folder = os.environ.get("CITYOPS_SHOTS_DIR")
    if not folder:
        return None
    QCoreApplication.processEvents()
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(path))
    return path
