"""db/ never imports Qt or desktop/: checked in the source and by importing it with Qt blocked."""
from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import db

FORBIDDEN = {"PySide6", "shiboken6", "pyqtgraph", "desktop", "PyQt5", "PyQt6"}
DB_DIR = Path(db.__file__).parent


def test_no_db_module_names_qt_in_an_import():
    offenders = []
    for path in DB_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_every_db_module_imports_with_qt_blocked():
    modules = sorted(m.name for m in pkgutil.walk_packages([str(DB_DIR)], "db."))
    assert "db.cases.workflow" in modules and "db.core.feed" in modules
    code = f"""
import importlib, importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {sorted(FORBIDDEN)!r}:
            raise ImportError('blocked ' + name)
sys.meta_path.insert(0, Block())
for m in {modules!r}:
    importlib.import_module(m)
assert not any(k.split('.')[0] in {sorted(FORBIDDEN)!r} for k in sys.modules)
print('ok')
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
