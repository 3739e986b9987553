"""Demo mode is the owner's to give (migration 0012). Attacked as an insider would, with a
workstation's credentials (the application role, PostgreSQL): writing the demo marker, making
every account a demo account, adding a demo account, deleting the real accounts of a former
demo. Each is refused by the database itself, so no account signs in without a password and no
caller dates an event. The owner still builds demos, and the application role runs them.
SQLite has no roles (README, "What the database itself enforces")."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from db.admin.roles import refuse_privileged_workstation
from db.auth.accounts import authenticate, demo_account, demo_info
from db.auth.roles import Role
from db.auth.security import hash_password
from db.core.dbclock import CallerTimeRefused
from db.core.errors import PrivilegedConnection
from db.demo.accounts import DEMO_PASSWORD
from db.demo.build import DEMO_MARK_REFUSED, DEMO_SETTING, DemoNeedsOwner, build_demo, demo_marker
from db.demo.simulate import NotADemoDatabase, simulate
from db.models import AppSetting, Case, UserAccount
from db.worktime.calendar_data import OFFICE_HOURS_SETTING
from tests.conftest import TEST_APP, TEST_OWNER
from tests.db.demo.test_simulate import fake_clock
from tests.helpers import owner_database, production, report

pytestmark = pytest.mark.postgres
NOW = dt.datetime(2026, 3, 18, 2, 30, tzinfo=dt.UTC)


def _refused(database, statement, **params) -> DBAPIError:
    """Run ``statement`` as ``database``'s role in its own transaction; return the refusal."""
    with pytest.raises(DBAPIError, match=DEMO_MARK_REFUSED) as refused, database.write() as s:
        s.execute(statement, params)
    assert refused.value.orig.sqlstate == "42501"  # insufficient_privilege
    return refused.value


def test_the_application_role_cannot_turn_a_control_room_into_a_demo(pg_env):
    production(pg_env)  # no test mark: only a demo database would take a caller's time now
    app = pg_env.database
    # (1) the marker, by every way of writing a row
    _refused(app, text("INSERT INTO app_setting (key, value_json, updated_at) "
                       "VALUES ('demo', '{}', CURRENT_TIMESTAMP)"))
    _refused(app, text("UPDATE app_setting SET key = 'demo' WHERE key = :k"), k=OFFICE_HOURS_SETTING)
    # (2) every account a demo account
    _refused(app, update(UserAccount).values(demo=True))
    # (3) a new account that is born one (named like the demo's duty officer)
    _refused(app, text("INSERT INTO user_account (username, display_name, role, password_hash, "
                       "active, created_at, must_change_password, demo) VALUES ('duty1', '值班员', "
                       "'duty_officer', :h, true, CURRENT_TIMESTAMP, false, true)"),
             h=hash_password(DEMO_PASSWORD))
    # Nothing of it stayed: no marker, no demo account, the office hours where they were.
    with app.read() as s:
        assert s.get(AppSetting, DEMO_SETTING) is None
        assert s.get(AppSetting, OFFICE_HOURS_SETTING) is not None
        assert s.scalar(select(func.count()).select_from(UserAccount).where(UserAccount.demo)) == 0
        assert demo_marker(s) is None
    # So: passwords for everyone, …
    assert demo_info(app) is None
    for name in ("duty1", "t_admin", "t_duty_officer"):
        assert demo_account(app, name) is None
    # … the database's clock for every event …
    with pytest.raises(CallerTimeRefused):
        report(pg_env, now=NOW)
    with app.read() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0
    # … and a workstation connected as the owner is still refused.
    with owner_database(pg_env) as owner, pytest.raises(PrivilegedConnection):
        refuse_privileged_workstation(owner)


def test_building_a_demo_as_the_application_role_is_refused_before_anything_changes(pg_env):
    with pytest.raises(DemoNeedsOwner) as refused:
        build_demo(pg_env.database, cases=10, days=2, now=NOW)
    assert refused.value.code == "demo_needs_owner"
    assert refused.value.params == {"role": TEST_APP, "owner": TEST_OWNER}
    with pg_env.database.read() as s:
        assert s.get(AppSetting, DEMO_SETTING) is None
        assert s.scalar(select(func.count()).select_from(UserAccount)) == len(Role) + 1  # t_*, admin


def test_the_owner_builds_the_demo_the_application_role_runs_it(app_demo):
    """``app_demo`` was built by the owner and is connected as the application role."""
    assert demo_info(app_demo) is not None
    assert demo_account(app_demo).username == "duty1"  # no password: a demo
    built = dt.datetime.fromisoformat(demo_info(app_demo)["now"])
    stats = simulate(app_demo, seed=4, rate=5, duration=30, clock=fake_clock(start=built))
    assert stats.events > 0
    refuse_privileged_workstation(app_demo)  # the application role is always welcome

    # The application role may end the demo (a real account, or a demo account made real) …
    with app_demo.write() as s:
        real = UserAccount(username="zhang.wei", display_name="张伟", role=Role.DUTY_OFFICER.value,
                           password_hash=hash_password("station-42!"))
        s.add(real)
        s.flush()
        real_id = real.id
    assert demo_info(app_demo) is None and demo_account(app_demo) is None
    with pytest.raises(NotADemoDatabase):
        simulate(app_demo, duration=1)
    with app_demo.write() as s:  # true → false is allowed: it unlocks nothing
        s.execute(update(UserAccount).where(UserAccount.username == "duty2").values(demo=False))
    # … but not bring it back: the real account stays, and stays real.
    _refused(app_demo, text("DELETE FROM user_account WHERE id = :i"), i=real_id)
    _refused(app_demo, update(UserAccount).where(UserAccount.id == real_id).values(demo=True))
    _refused(app_demo, text("DELETE FROM app_setting WHERE key = 'demo'"))
    assert demo_info(app_demo) is None and demo_account(app_demo) is None
    # Every account signs in with its password, the demo's included.
    assert authenticate(app_demo, "duty1", DEMO_PASSWORD).username == "duty1"

