"""Translations: Simplified Chinese by default, English as the second language.

The UI's source strings are English; ``resources/i18n/cityops_zh_CN.ts`` holds the Chinese.
``.qm`` files are built from the ``.ts`` by Qt's ``lrelease`` (``scripts/bootstrap.sh`` does it;
:func:`ensure_compiled` does it again when a ``.ts`` is newer, so a checkout never runs stale).
"""
from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

log = logging.getLogger(__name__)
I18N_DIR = Path(__file__).resolve().parents[2] / "resources" / "i18n"
LANGUAGES = {"zh_CN": "简体中文", "en": "English"}
DEFAULT_LANGUAGE = "zh_CN"
_installed: list[QTranslator] = []


def lrelease_command() -> list[str]:
    import PySide6

    exe = Path(PySide6.__file__).parent / ("lrelease.exe" if sys.platform == "win32" else "lrelease")
    if exe.exists():
        return [str(exe)]
    return ["pyside6-lrelease"]


def ensure_compiled(directory: Path = I18N_DIR) -> list[Path]:
    """Compile every ``.ts`` whose ``.qm`` is missing or older; return the ``.qm`` paths."""
    out = []
    for ts in sorted(directory.glob("*.ts")):
        qm = ts.with_suffix(".qm")
        if not qm.exists() or qm.stat().st_mtime < ts.stat().st_mtime:
            subprocess.run([*lrelease_command(), "-silent", str(ts), "-qm", str(qm)], check=True)
        out.append(qm)
    return out


def install(app: QCoreApplication, language: str = DEFAULT_LANGUAGE) -> bool:
    """Load the translation for ``language``; returns True when a translator was installed."""
    for old in _installed:
        app.removeTranslator(old)
    _installed.clear()
    if language == "en":
        QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
        return False
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    try:
        ensure_compiled()
    except (OSError, subprocess.CalledProcessError) as exc:
        log.warning("could not compile translations: %s", exc)
    ours = QTranslator(app)
    if not ours.load(str(I18N_DIR / f"cityops_{language}.qm")):
        log.warning("no translation for %s in %s", language, I18N_DIR)
        return False
    app.installTranslator(ours)
    _installed.append(ours)
    qt = QTranslator(app)  # Qt's own strings: OK/Cancel buttons, context menus
    if qt.load(f"qtbase_{language}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt)
        _installed.append(qt)
    return True
