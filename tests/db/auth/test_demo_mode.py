"""Demo mode (nobody needs a password) only on a database marked demo that holds no real
account; a database that gains a real account stops being a demo, for good. Attacked as an
insider would: writing the demo marker into a real database, asking for a real account by
name on a demo database, deactivating the real account again."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from db.auth.accounts import authenticate, demo_account, demo_info
from db.auth.roles import Role
from db.auth.security import hash_password
from db.core.engine import open_database
from db.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from db.demo.build import DEMO_SETTING, build_demo
from db.demo.simulate import NotADemoDatabase, simulate
from db.models import AppSetting, UserAccount
from db.reference.city import ensure_reference_data
from tests.helpers import owner_database

NOW = dt.datetime(2026, 3, 18, 2, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    database = open_database(f"sqlite:///{path}")
    build_demo(database, cases=20, days=3, now=NOW)
    with database.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return path


@pytest.fixture
def demo_db(demo_template, tmp_path):
    target = tmp_path / "demo.sqlite3"
    target.write_bytes(demo_template.read_bytes())
    database = open_database(f"sqlite:///{target}")
    yield database
    database.dispose()


def _add_real_account(database, username: str = "zhang.wei") -> int:
    with database.write() as s:
        user = UserAccount(username=username, display_name="张伟", role=Role.DUTY_OFFICER.value,
                           password_hash=hash_password("station-42!"))
        s.add(user)
        s.flush()
        return user.id


def test_a_built_demo_signs_in_by_itself_and_every_account_in_it_is_a_demo_account(demo_db):
    with demo_db.read() as s:
        flags = dict(s.execute(select(UserAccount.username, UserAccount.demo)).all())
    assert set(flags) == set(DEMO_ACCOUNTS) | {"admin"} and all(flags.values())
    assert demo_info(demo_db) is not None
    assert demo_account(demo_db).username == "duty1"
    assert demo_account(demo_db, "admin").role == Role.ADMIN  # its password is "demo" anyway


def test_a_demo_database_that_gains_a_real_account_stops_being_a_demo_for_good(demo_db):
    real = _add_real_account(demo_db)
    assert demo_info(demo_db) is None
    assert demo_account(demo_db) is None
    assert demo_account(demo_db, "zhang.wei") is None
    with pytest.raises(NotADemoDatabase):  # no made-up cases among real ones
        simulate(demo_db, duration=1)
    with demo_db.write() as s:  # switched off again: it may have entered real work
        s.get(UserAccount, real).active = False
    assert demo_account(demo_db) is None
    # The demo accounts still sign in, with their published password, like anyone else.
    assert authenticate(demo_db, "duty1", DEMO_PASSWORD).username == "duty1"


def test_the_demo_marker_written_into_a_real_database_signs_nobody_in(env):
    # Written by whoever may (on PostgreSQL only the owner: test_demo_marker_owner_only.py).
    with owner_database(env) as owner, owner.write() as s:
        s.add(AppSetting(key=DEMO_SETTING, value_json="{}"))
    with env.database.write() as s:
        # Even an account named like a demo one is real unless the demo builder made it.
        s.add(UserAccount(username="duty1", display_name="值班员", role=Role.DUTY_OFFICER.value,
                          password_hash=hash_password("not-demo-1")))
    assert demo_info(env.database) is None
    for name in ("duty1", "admin", "t_shift_leader"):
        assert demo_account(env.database, name) is None


def test_a_forced_demo_over_a_real_database_keeps_asking_for_passwords(tmp_path):
    database = open_database(f"sqlite:///{tmp_path / 'real.sqlite3'}")
    try:
        ensure_reference_data(database)  # a real administrator, with a one-time password
        build_demo(database, cases=10, days=2, now=NOW, force=True)
        with database.read() as s:
            admin = s.scalar(select(UserAccount).where(UserAccount.username == "admin"))
            assert admin.demo is False and s.get(AppSetting, DEMO_SETTING) is not None
        assert demo_info(database) is None and demo_account(database) is None
    finally:
        database.dispose()
