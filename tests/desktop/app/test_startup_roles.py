"""The window refuses a superuser or owner connection on PostgreSQL outside demo mode, and says
in the user's language how to set the roles up."""
from __future__ import annotations

import pytest

from desktop.app.startup import StartupError, start
from desktop.core.errors import word
from tests.conftest import TEST_OWNER


def test_the_window_refuses_an_owner_connection_and_says_how_to_set_up(pg_env, qapp):
    with pytest.raises(StartupError) as caught:
        start(pg_env.owner_url, interactive=False, cameras=False)
    err = caught.value.error
    assert err is not None and err.code == "privileged_connection"
    shown = word(err)
    assert shown.startswith(f"The database account {TEST_OWNER} is a schema owner:")
    assert "cityops db setup-roles --superuser-url URL" in shown and "PGPASSFILE" in shown
    # The application role passes this gate: what stops it here is only that a real database
    # needs someone to sign in (no dialog in a non-interactive start).
    with pytest.raises(StartupError) as caught:
        start(pg_env.database.url, interactive=False, cameras=False)
    assert caught.value.error is None and "not a demo database" in str(caught.value)


def test_no_password_reaches_a_child_process_arguments(monkeypatch):
    """The demo window's simulator is a child process: its command line would show a password
    to every user of the machine, so a URL holding one never gets that far."""
    import subprocess

    from db.core.errors import PasswordInUrl
    from desktop.app.supervisor import start_simulator

    spawned = []
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: spawned.append(a))
    with pytest.raises(PasswordInUrl):
        start_simulator("postgresql+psycopg://cityops_app:hunter2@127.0.0.1:5432/cityops")
    assert spawned == []
