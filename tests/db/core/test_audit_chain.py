"""The audit log as a hash chain (migration 0007): a record that shows tampering.

The attacks are an owner's (or a superuser's): lift the append-only trigger, change a row,
remove rows, even re-chain everything after an edit. The walk in Python finds the row; the
head hash kept outside the database finds a removed or re-chained tail.
"""
from __future__ import annotations

import hashlib
import json
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db.cases.workflow import State
from db.core import audit_chain
from db.core.audit_chain import GENESIS
from db.core.migrate import alembic_config
from tests.helpers import case_in_state, owner_database, report
from tests.test_cli import cityops


def _rows(env) -> list:
    with env.database.read() as s:
        return s.execute(text("SELECT id, at, actor_id, actor_name, action, entity, entity_id, "
                              "detail_json, prev_hash, row_hash FROM audit_log ORDER BY id")).all()


def _as_owner(env, *statements: str, **params) -> None:
    """Statements run with the append-only guard lifted, as the table's owner could."""
    with owner_database(env) as owner, owner.write() as s:
        if env.engine_name == "postgresql":
            s.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"))
        else:
            s.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
            s.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
        for sql in statements:
            s.execute(text(sql), params)
        if env.engine_name == "postgresql":
            s.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change"))
        # (SQLite: the test's database is thrown away; the guard stays off.)


def test_every_row_is_chained_to_the_one_before(env):
    case_in_state(env, State.CLOSED)  # report + six steps: seven audit rows, plus set-up rows
    rows = _rows(env)
    assert len(rows) >= 8
    prev = GENESIS
    for row in rows:  # recomputed here, by hand, with hashlib
        at = audit_chain.at_text(row.at)
        fields = [str(row.id), at, row.actor_id, row.actor_name, row.action, row.entity,
                  row.entity_id, row.detail_json]
        canon = "|".join("~" if v is None else f"{len(str(v))}:{v}" for v in fields)
        assert row.prev_hash == prev
        assert row.row_hash == hashlib.sha256(f"{prev}\n{canon}".encode()).hexdigest()
        prev = row.row_hash
    assert [r.id for r in rows] == sorted(r.id for r in rows)
    report_ = audit_chain.verify(env.database)
    assert report_.ok and report_.rows == len(rows) and report_.head_hash == rows[-1].row_hash


def test_hashes_sent_by_the_inserter_are_never_kept(env):
    """An insider adding a row with a forged chain: PostgreSQL overwrites the hashes with the
    database's own, SQLite refuses the row; either way the chain holds."""
    insert = ("INSERT INTO audit_log (at, actor_name, action, entity, detail_json, prev_hash, "
              "row_hash) VALUES (CURRENT_TIMESTAMP, 'x', 'forged', 'case', '{}', :f, :f)")
    if env.engine_name == "sqlite":
        with pytest.raises(DBAPIError, match="set by the database"), env.database.write() as s:
            s.execute(text(insert), {"f": "f" * 64})
        assert _rows(env)[-1].action != "forged"
    else:
        with env.database.write() as s:
            s.execute(text(insert), {"f": "f" * 64})
        last = _rows(env)[-1]
        assert last.action == "forged"
        assert last.row_hash != "f" * 64 and last.prev_hash != "f" * 64
    assert audit_chain.verify(env.database).ok


def test_an_owner_editing_a_row_is_named_by_the_verifier(env):
    case_in_state(env, State.PENDING_DISPATCH)
    rows = _rows(env)
    victim = rows[len(rows) // 2]
    _as_owner(env, "UPDATE audit_log SET detail_json = :d WHERE id = :i",
              d='{"note": "改过"}', i=victim.id)
    found = audit_chain.verify(env.database)
    assert not found.ok
    assert (found.first_break.id, found.first_break.kind, found.breaks) == (victim.id, "content", 1)
    assert found.rows == len(rows)
    out = cityops("db", "verify-audit", "--db", env.database.url)
    assert out.returncode == 1
    assert f"BROKEN at row {victim.id} (content)" in out.stdout


def test_an_owner_rechaining_after_an_edit_is_caught_by_the_kept_head(env):
    """The owner edits a row and recomputes every hash after it: the chain is whole again, but
    the head written down before no longer appears in it."""
    case_in_state(env, State.PENDING_DISPATCH)
    kept = audit_chain.verify(env.database).head_hash
    rows = _rows(env)
    victim = rows[1]
    _as_owner(env, "UPDATE audit_log SET actor_name = '别人' WHERE id = :i", i=victim.id)
    prev = rows[0].row_hash
    for row in _rows(env)[1:]:
        h = audit_chain.row_hash(prev, row)
        _as_owner(env, "UPDATE audit_log SET prev_hash = :p, row_hash = :h WHERE id = :i",
                  p=prev, h=h, i=row.id)
        prev = h
    assert audit_chain.verify(env.database).ok  # a perfect forgery, on its own
    found = audit_chain.verify(env.database, expect_head=kept)
    assert not found.ok and found.expected_head_found is False


def test_a_row_removed_from_the_middle_breaks_the_next_link(env):
    case_in_state(env, State.PENDING_OPEN)
    rows = _rows(env)
    gone, after = rows[-2], rows[-1]
    _as_owner(env, "DELETE FROM audit_log WHERE id = :i", i=gone.id)
    found = audit_chain.verify(env.database)
    assert (found.first_break.id, found.first_break.kind) == (after.id, "link")
    assert f"row {rows[-3].id}" in found.first_break.detail


def test_a_truncated_tail_is_caught_with_the_kept_head(env):
    case_in_state(env, State.PENDING_DISPATCH)
    out = cityops("db", "verify-audit", "--db", env.database.url, "--json")
    assert out.returncode == 0, out.stderr
    kept = json.loads(out.stdout)
    rows = _rows(env)
    assert kept["ok"] and kept["rows"] == len(rows) and kept["head_hash"] == rows[-1].row_hash
    # New work after the head was written down: the kept head is still in the chain.
    report(env)
    later = cityops("db", "verify-audit", "--db", env.database.url, "--expect-head",
                    kept["head_hash"])
    assert later.returncode == 0, later.stdout + later.stderr
    assert "1 row(s) after it" in later.stdout
    # The owner removes the last three rows: what is left is a valid chain, but shorter.
    _as_owner(env, "DELETE FROM audit_log WHERE id >= :i", i=rows[-2].id)
    assert audit_chain.verify(env.database).ok
    cut = cityops("db", "verify-audit", "--db", env.database.url, "--expect-head",
                  kept["head_hash"])
    assert cut.returncode == 1
    assert "no longer in the chain" in cut.stderr


def test_concurrent_writers_keep_one_chain(pg_env):
    """Two connections add audit rows at the same moment, many times: one chain, no fork."""
    env = pg_env
    engine = env.database.engine
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(tag: str) -> None:
        try:
            with engine.connect() as conn:
                for i in range(40):
                    barrier.wait(timeout=30)
                    with conn.begin():
                        for j in range(3):
                            conn.execute(text(
                                "INSERT INTO audit_log (at, actor_name, action, entity, "
                                "detail_json) VALUES (now(), :w, 'test.race', 'case', :d)"),
                                {"w": tag, "d": json.dumps({"i": i, "j": j})})
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=writer, args=(t,)) for t in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    found = audit_chain.verify(env.database)
    assert found.ok, found.first_break
    rows = _rows(env)
    assert sum(r.action == "test.race" for r in rows) == 2 * 40 * 3
    # Every prev_hash is used once: nobody chained to the same predecessor.
    assert len({r.prev_hash for r in rows}) == len(rows)


def test_the_chain_refuses_repeatable_read(pg_env):
    """In REPEATABLE READ the trigger could not see the row committed just before it."""
    with pg_env.database.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with pytest.raises(DBAPIError, match="READ COMMITTED"), conn.begin():
            conn.execute(text("INSERT INTO audit_log (at, actor_name, action, entity, "
                              "detail_json) VALUES (now(), 'x', 'x', 'case', '{}')"))


def test_rows_written_before_0007_are_chained_by_the_migration(env):
    from alembic import command

    report(env)
    with owner_database(env) as owner:  # migrations are the owner's
        engine = owner.engine
        command.downgrade(alembic_config(engine), "0006")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO audit_log (at, actor_name, action, entity, "
                              "detail_json) VALUES (CURRENT_TIMESTAMP, '旧', 'old.row', "
                              "'case', '{}')"))
        command.upgrade(alembic_config(engine), "head")
    found = audit_chain.verify(env.database)
    assert found.ok and found.rows == len(_rows(env))
    assert _rows(env)[-1].action == "old.row"
    with env.database.write() as s:  # and the trigger chains on from the back-filled head
        s.execute(text("INSERT INTO audit_log (at, actor_name, action, entity, detail_json) "
                       "VALUES (CURRENT_TIMESTAMP, '新', 'new.row', 'case', '{}')"))
    assert audit_chain.verify(env.database).ok


def test_the_application_role_cannot_touch_the_chain(pg_env):
    """The workstations' role (the tests' own connection on PostgreSQL) may add rows and gets
    correct hashes; it can neither lift, drop or replace the chain's trigger nor edit a row."""
    with pg_env.database.write() as s:
        s.execute(text("INSERT INTO audit_log (at, actor_name, action, entity, detail_json, "
                       "row_hash) VALUES (now(), 'x', 'by.app', 'case', '{}', :f)"),
                  {"f": "f" * 64})
    for attack in ("ALTER TABLE audit_log DISABLE TRIGGER audit_log_chain",
                   "ALTER TABLE audit_log DISABLE TRIGGER USER",
                   "DROP TRIGGER audit_log_chain ON audit_log",
                   "CREATE OR REPLACE FUNCTION audit_log_chain() RETURNS trigger "
                   "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
                   "UPDATE audit_log SET detail_json = '{}'",
                   "SET session_replication_role = replica"):
        with pytest.raises(DBAPIError, match="owner|permission denied"):
            with pg_env.database.write() as s:
                s.execute(text(attack))
    found = audit_chain.verify(pg_env.database)
    assert found.ok and _rows(pg_env)[-1].action == "by.app"
