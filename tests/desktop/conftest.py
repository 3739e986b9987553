"""Every test under tests/desktop needs Qt: mark them so the data-layer phase skips them.

``make_ctx`` builds the :class:`~desktop.core.context.AppContext` a signed-in window shares, on any
test database, for any role.
"""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Root in a container: Chromium's sandbox cannot start; there is no GPU either.
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox --disable-gpu")

from db.auth.roles import Role  # noqa: E402
from db.worktime.calendar_data import load_calendar  # noqa: E402
from desktop.core.context import AppContext, SignedInUser  # noqa: E402
from desktop.core.tasks import TaskRunner  # noqa: E402
from desktop.map.scheme import register_scheme  # noqa: E402
from tests.desktop.xvfb import x_display  # noqa: E402,F401 - a fixture for the tests that need a real X display

# The map page's cityops: scheme must be known before pytest-qt's qapp creates the application.
register_scheme()


@pytest.fixture(scope="session", autouse=True)
def isolated_settings(tmp_path_factory):
    """Window layouts and the language choice go to a throwaway folder, not the user's."""
    from PySide6.QtCore import QSettings

    folder = tmp_path_factory.mktemp("qsettings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    return folder


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/desktop/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.qt)


def make_ctx(env, role: Role = Role.DUTY_OFFICER) -> AppContext:
    with env.database.read() as s:
        calendar = load_calendar(s)
    user = SignedInUser(env.users[role], f"t_{role.value}", f"测试{role.label}", role)
    return AppContext(database=env.database, user=user, calendar=calendar, city_id=env.city_id,
                      reads=TaskRunner("reads"), writes=TaskRunner("writes"),
                      settings_scope=f"test-{os.getpid()}")


@pytest.fixture
def ctx_factory(qapp, qtbot):
    """Contexts for tests; their background work is drained before the runners shut down."""
    made: list[AppContext] = []

    def factory(env, role: Role = Role.DUTY_OFFICER) -> AppContext:
        ctx = make_ctx(env, role)
        made.append(ctx)
        return ctx

    yield factory
    for ctx in made:
        qtbot.waitUntil(lambda c=ctx: not any(lane.pending for lane in c.lanes), timeout=15_000)
        for lane in ctx.lanes:
            lane.shutdown()
