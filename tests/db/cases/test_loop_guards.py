"""The database itself holds the closed loop (migration 0006): an insider with a workstation's
connection types SQL past the steps and is refused, on both engines.

Each attack is what ``psql``/``sqlite3`` with the workstation's credentials would allow before
0006: close an open case by UPDATE, move it along a real transition without a history row, put
it back to an older version whose history row exists, rewrite or delete its timeline.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from db.cases import guards
from db.cases import workflow as wf
from db.cases.workflow import State, Step
from db.models import Case, CaseHistory
from db.models.cases import CASE_STATES
from tests.helpers import case_in_state, owner_database, report, take


def _case(env, case_id: int) -> tuple[str, int]:
    with env.database.read() as s:
        row = s.execute(select(Case.state, Case.version).where(Case.id == case_id)).one()
    return row.state, row.version


def _history_count(env, case_id: int) -> int:
    with env.database.read() as s:
        return s.scalar(select(func.count()).select_from(CaseHistory)
                        .where(CaseHistory.case_id == case_id))


def _sql(env, *statements: str, **params) -> None:
    """One transaction of raw SQL, as a workstation's connection would send it."""
    with env.database.write() as s:
        for sql in statements:
            s.execute(text(sql), params)


def _history_row(case_id: int, version: int, step: str, from_state: str, to_state: str) -> str:
    return ("INSERT INTO case_history (case_id, step, from_state, to_state, actor_name, at, "
            f"opinion, data_json, version) VALUES ({case_id}, '{step}', '{from_state}', "
            f"'{to_state}', 'x', CURRENT_TIMESTAMP, '', '{{}}', {version})")


def test_the_transition_table_in_the_database_is_the_workflows(env):
    with env.database.read() as s:
        stored = guards.stored_transitions(s)
    assert stored == sorted((t.step.value, t.source.value, t.target.value)
                            for t in wf.TRANSITIONS)
    assert len(stored) == 20  # the table in db/cases/workflow.py, counted by hand
    assert ("fix_on_spot", "pending_accept", "closed") in stored
    assert ("close", "handling", "closed") not in stored
    # The models' list of states (for the CHECKs) is the workflow's.
    assert CASE_STATES == guards.STATES == tuple(s.value for s in State)


def test_closing_an_open_case_by_update_is_refused(env):
    r = case_in_state(env, State.HANDLING)
    with pytest.raises(DBAPIError, match=guards.TRANSITION_REFUSED):
        _sql(env, "UPDATE \"case\" SET state = 'closed', version = version + 1 WHERE id = :i",
             i=r.case_id)
    with pytest.raises(DBAPIError, match=guards.TRANSITION_REFUSED):  # even with a history row
        _sql(env, "UPDATE \"case\" SET state = 'closed', version = version + 1 WHERE id = :i",
             _history_row(r.case_id, r.version + 1, "close", "handling", "closed"), i=r.case_id)
    assert _case(env, r.case_id) == ("handling", r.version)


def test_a_state_that_does_not_exist_is_refused(env):
    r = case_in_state(env, State.PENDING_ACCEPT)
    with pytest.raises(DBAPIError):
        _sql(env, "UPDATE \"case\" SET state = 'done', version = version + 1 WHERE id = :i",
             i=r.case_id)
    with pytest.raises(DBAPIError):
        _sql(env, _history_row(r.case_id, r.version + 1, "accept", "pending_accept", "done"))
    assert _case(env, r.case_id) == ("pending_accept", 1)


def test_a_transition_in_the_table_without_its_history_row_is_refused_at_commit(env):
    r = case_in_state(env, State.HANDLING)
    before = _history_count(env, r.case_id)
    # handling -> pending_check is a real step (feedback): the statement passes, the commit not.
    with pytest.raises(DBAPIError, match="case_history|FOREIGN KEY"):
        _sql(env, "UPDATE \"case\" SET state = 'pending_check', version = version + 1 "
                  "WHERE id = :i", i=r.case_id)
    # A history row of the wrong state does not count either.
    with pytest.raises(DBAPIError, match="case_history|FOREIGN KEY"):
        _sql(env, "UPDATE \"case\" SET state = 'pending_check', version = version + 1 "
                  "WHERE id = :i",
             _history_row(r.case_id, r.version + 1, "park", "handling", "parked"), i=r.case_id)
    # A version bump alone (no state change) needs its row as well.
    with pytest.raises(DBAPIError, match="case_history|FOREIGN KEY"):
        _sql(env, "UPDATE \"case\" SET version = version + 1 WHERE id = :i", i=r.case_id)
    assert _case(env, r.case_id) == ("handling", r.version)
    assert _history_count(env, r.case_id) == before
    # With the row the database accepts it: the minimum a step must write.
    _sql(env, "UPDATE \"case\" SET state = 'pending_check', version = version + 1 WHERE id = :i",
         _history_row(r.case_id, r.version + 1, "feedback", "handling", "pending_check"),
         i=r.case_id)
    assert _case(env, r.case_id) == ("pending_check", r.version + 1)


def test_the_application_role_cannot_change_the_transition_table(pg_env):
    """Were ``case_transition`` writable, one INSERT would let a handling case close."""
    for attack in ("INSERT INTO case_transition VALUES ('close', 'handling', 'closed')",
                   "UPDATE case_transition SET to_state = 'closed'",
                   "DELETE FROM case_transition",
                   "ALTER TABLE \"case\" DISABLE TRIGGER case_state_guard",
                   "ALTER TABLE \"case\" DROP CONSTRAINT ck_case_state",
                   "DROP TRIGGER case_history_required_update ON \"case\""):
        with pytest.raises(DBAPIError, match="owner|permission denied"):
            _sql(pg_env, attack)
    with pg_env.database.read() as s:
        assert guards.stored_transitions(s) == sorted(guards.transition_rows())


def test_going_back_to_an_older_version_is_refused(env):
    """Back to v3 (待派遣), whose history row exists: the version must go up by one."""
    r = case_in_state(env, State.HANDLING)
    assert r.version == 4
    with pytest.raises(DBAPIError, match=guards.VERSION_REFUSED):
        _sql(env, "UPDATE \"case\" SET state = 'pending_dispatch', version = 3 WHERE id = :i",
             i=r.case_id)
    with pytest.raises(DBAPIError, match=guards.VERSION_REFUSED):  # nor jump ahead
        _sql(env, "UPDATE \"case\" SET version = version + 2 WHERE id = :i", i=r.case_id)
    assert _case(env, r.case_id) == ("handling", 4)


def test_case_history_is_append_only(env):
    r = case_in_state(env, State.CLOSED)
    with env.database.read() as s:
        rows = s.execute(text("SELECT id, step, opinion FROM case_history WHERE case_id = :i "
                              "ORDER BY id"), {"i": r.case_id}).all()
    statements = ["UPDATE case_history SET opinion = '改写' WHERE case_id = :i",
                  "UPDATE case_history SET to_state = 'void' WHERE case_id = :i",
                  "DELETE FROM case_history WHERE case_id = :i"]
    if env.engine_name == "postgresql":
        statements.append("TRUNCATE case_history CASCADE")
    for sql in statements:  # PostgreSQL: the application role has not even the right
        with pytest.raises(DBAPIError, match="append-only|permission denied"):
            _sql(env, sql, i=r.case_id)
    with owner_database(env) as owner:  # and the owner, who has, meets the trigger
        for sql in statements:
            with pytest.raises(DBAPIError, match="append-only"), owner.write() as s:
                s.execute(text(sql), {"i": r.case_id})
    with env.database.read() as s:
        assert s.execute(text("SELECT id, step, opinion FROM case_history WHERE case_id = :i "
                              "ORDER BY id"), {"i": r.case_id}).all() == rows
    assert len(rows) == 7


def test_two_history_rows_for_one_version_are_refused(env):
    r = case_in_state(env, State.PENDING_OPEN)
    with pytest.raises(DBAPIError):
        _sql(env, _history_row(r.case_id, 2, "accept", "pending_accept", "pending_open"))
    assert _history_count(env, r.case_id) == 2


def test_the_normal_workflow_passes_every_step(env):
    """Every transition of the table taken once through the steps, each leaving its row."""
    for t in wf.TRANSITIONS:
        r = case_in_state(env, t.source)  # closed through dispatch: rework has a department
        done = take(env, r, t.step)
        assert done.state == t.target
        with env.database.read() as s:
            assert wf.check_invariants(s, r.case_id) == []
            last = s.execute(select(CaseHistory.version, CaseHistory.to_state)
                             .where(CaseHistory.case_id == r.case_id)
                             .order_by(CaseHistory.id.desc()).limit(1)).one()
        assert (last.version, last.to_state) == (done.version, t.target.value)


def test_a_case_cannot_be_born_without_its_report_row(env):
    """INSERT of a case with no history row: refused at commit."""
    r = report(env)
    with env.database.read() as s:
        row = s.execute(text('SELECT city_id, lat, lon FROM "case" WHERE id = :i'),
                        {"i": r.case_id}).one()
    insert = ('INSERT INTO "case" (number, city_id, source, state, urgency, lat, lon, address, '
              "title, description, media_json, reported_at, deadline_estimated, extension_count, "
              "rework_count, updated_at, version) VALUES ('X1', :c, 'walk_in', 'closed', "
              "'normal', :lat, :lon, '', '', 'x', '[]', CURRENT_TIMESTAMP, false, 0, 0, "
              "CURRENT_TIMESTAMP, 1)")
    with pytest.raises(DBAPIError, match="case_history|FOREIGN KEY"):
        _sql(env, insert, c=row.city_id, lat=row.lat, lon=row.lon)
    with env.database.read() as s:
        assert s.scalar(text("SELECT count(*) FROM \"case\" WHERE number = 'X1'")) == 0


def test_sqlite_case_check_cannot_be_edited_to_escape(sqlite_env):
    """SQLite's stand-in for the deferred trigger: its mirror rows cannot be moved back or
    deleted to hide a state change without history."""
    env = sqlite_env
    r = case_in_state(env, State.HANDLING)
    move = "UPDATE \"case\" SET state = 'pending_check', version = version + 1 WHERE id = :i"
    for escape in ("UPDATE case_check SET version = version - 1, state = 'handling' "
                   "WHERE case_id = :i", "DELETE FROM case_check WHERE case_id = :i"):
        with pytest.raises(DBAPIError):
            _sql(env, move, escape, i=r.case_id)
    assert _case(env, r.case_id) == ("handling", r.version)


def test_sqlite_triggers_come_back_after_a_batch_copy_of_case(sqlite_env, tmp_path):
    """A later migration that copies ``case`` (SQLite batch mode) drops its triggers with the
    old table; the upgrade creates them again, so the guard survives the migration."""
    import shutil

    from db.core.migrate import MIGRATIONS_DIR, script_directory, upgrade_to_head

    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, scripts)
    head = script_directory().get_current_head()
    (scripts / "versions" / "9998_copy_case.py").write_text(f'''
from alembic import op
import sqlalchemy as sa
revision = "9998"
down_revision = "{head}"
branch_labels = None
depends_on = None
def upgrade():
    with op.batch_alter_table("case", recreate="always") as batch:
        batch.alter_column("title", type_=sa.String(200), existing_type=sa.String(100))
def downgrade():
    pass
''', encoding="utf-8")
    r = case_in_state(sqlite_env, State.HANDLING)
    upgrade_to_head(sqlite_env.database.engine, scripts)
    with sqlite_env.database.read() as s:
        names = {n for (n,) in s.execute(text("SELECT name FROM sqlite_master "
                                              "WHERE type = 'trigger'"))}
    assert {name for name, _ddl in guards.SQLITE_CASE_TRIGGERS} <= names
    with pytest.raises(DBAPIError, match=guards.TRANSITION_REFUSED):
        _sql(sqlite_env, "UPDATE \"case\" SET state = 'closed', version = version + 1 "
                         "WHERE id = :i", i=r.case_id)
    done = take(sqlite_env, r, Step.FEEDBACK)
    assert done.state == State.PENDING_CHECK


def test_cases_from_before_0006_are_guarded_after_the_upgrade(env):
    """A database with work in it upgrades: its cases are held like new ones."""
    from alembic import command

    from db.core.migrate import alembic_config

    tampered = case_in_state(env, State.HANDLING)
    kept = case_in_state(env, State.HANDLING)
    with owner_database(env) as owner:  # migrations are the owner's
        command.downgrade(alembic_config(owner.engine), "0005")
        # No guard at 0005: the attack goes through.
        with owner.write() as s:
            s.execute(text("UPDATE \"case\" SET state = 'closed', version = version + 1 "
                           "WHERE id = :i"), {"i": tampered.case_id})
        command.upgrade(alembic_config(owner.engine), "head")
    assert _case(env, tampered.case_id) == ("closed", tampered.version + 1)  # data kept
    # The case from before: moved without its row, refused at commit; by a step, fine.
    with pytest.raises(DBAPIError, match="case_history|FOREIGN KEY"):
        _sql(env, "UPDATE \"case\" SET state = 'pending_check', version = version + 1 "
                  "WHERE id = :i", i=kept.case_id)
    with pytest.raises(DBAPIError, match=guards.TRANSITION_REFUSED):
        _sql(env, "UPDATE \"case\" SET state = 'closed', version = version + 1 "
                  "WHERE id = :i", i=kept.case_id)
    assert take(env, kept, Step.FEEDBACK).state == State.PENDING_CHECK
