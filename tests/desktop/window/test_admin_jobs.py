"""A scheduled job that failed on any workstation is shown to an administrator, not lost; a duty
officer's window does not carry it."""
from __future__ import annotations

import datetime as dt

from db.auth.roles import Role
from db.core import feed
from db.core.entities import Entity
from db.models import JobState
from tests.desktop.window.test_main_window import close, open_window


def _fail_a_job(env) -> None:
    """What another workstation's job runner leaves after a failed run: the row and the notice."""
    now = dt.datetime.now(dt.UTC)
    with env.database.write() as s:
        row = JobState(name="reports.weekly", last_started_at=now, last_finished_at=now,
                       last_outcome="failed", last_error="disk full\nTraceback …", run_count=3)
        s.add(row)
        s.flush()
        feed.publish(s, Entity.JOB_RUN, [row.id])


def test_an_administrator_sees_a_failed_job(qtbot, sqlite_env, tmp_path):
    admin = open_window(qtbot, sqlite_env, tmp_path / "admin", Role.ADMIN)
    officer = open_window(qtbot, sqlite_env, tmp_path / "officer", Role.DUTY_OFFICER)
    try:
        assert admin.job_label.isHidden()
        _fail_a_job(sqlite_env)
        qtbot.waitUntil(lambda: admin.job_label.isVisible(), timeout=5000)
        assert admin.job_label.text() == "Scheduled job reports.weekly failed: disk full"
        assert "Traceback" not in admin.job_label.text()  # the first line; the rest in the tooltip
        qtbot.wait(500)  # the officer's window heard the same notice
        assert officer.job_label.isHidden()
    finally:
        close(admin)
        close(officer)
