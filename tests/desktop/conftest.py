"""Every test under tests/desktop needs Qt: mark them so the data-layer phase skips them."""
import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/desktop/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.qt)
