"""Reporters' phone numbers are stored sealed (db.core.pii), attacked as an insider would: with
the workstation's database credentials, reading rows and files, or with the wrong key (both
engines)."""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from db.auth.roles import Role
from db.auth.scope import SYSTEM
from db.cases import contact
from db.cases.queries import QueueFilter, case_detail, find_by_number_or_phone, queue_ids
from db.core import pii
from db.core.errors import PhoneKeyProblem, ValidationError
from db.core.migrate import alembic_config, upgrade_to_head
from db.models import AuditLog
from tests.helpers import owner_database, report

PHONE = "13957802461"
TAIL = "57802461"  # the last eight digits: not stored anywhere either


def reveal_count(env, case_id: int) -> int:
    with env.database.read() as s:
        return s.query(AuditLog).filter(AuditLog.action == contact.REVEAL_ACTION,
                                        AuditLog.entity_id == case_id).count()


def _all_rows_as_text(env) -> str:
    """Every row of every table, as the owner reads it (PostgreSQL) or as the file holds it."""
    with owner_database(env) as db, db.engine.connect() as conn:
        names = inspect(conn).get_table_names()
        if env.engine_name == "postgresql":
            return "\n".join(str(row[0]) for name in names
                             for row in conn.execute(text(f'SELECT t::text FROM "{name}" t')))
        return "\n".join(repr(tuple(row)) for name in names
                         for row in conn.execute(text(f'SELECT * FROM "{name}"')))


def test_no_row_and_no_byte_of_the_database_holds_the_number(env):
    r = report(env, reporter_name="张三", reporter_phone="139 5780 2461")
    with env.database.read() as s:
        row = s.execute(text('SELECT * FROM "case" WHERE id = :i'), {"i": r.case_id}).mappings().one()
    assert "reporter_phone" not in row  # the plain column is gone
    assert row["reporter_phone_enc"].startswith("1:") and len(row["reporter_phone_hash"]) == 64
    for value in row.values():
        assert TAIL not in str(value) and "5780" not in str(value).replace(str(r.case_id), "")
    everything = _all_rows_as_text(env)
    assert TAIL not in everything and "5780 2461" not in everything
    if env.engine_name == "sqlite":  # the file itself, after folding the WAL into it
        with env.database.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        path = Path(env.database.engine.url.database)
        raw = path.read_bytes() + (Path(f"{path}-wal").read_bytes()
                                   if Path(f"{path}-wal").exists() else b"")
        for needle in (TAIL, "5780 2461", "57802461"):
            assert needle.encode() not in raw and needle.encode("utf-16-le") not in raw
        assert b"reporter_phone_enc" in raw  # the right file was read


def test_the_same_number_seals_differently_each_time_but_hashes_the_same(env):
    first = report(env, reporter_phone=PHONE)
    second = report(env, reporter_phone="139-5780-2461")
    with env.database.read() as s:
        rows = s.execute(text('SELECT reporter_phone_enc, reporter_phone_hash FROM "case" '
                              'WHERE id IN (:a, :b) ORDER BY id'),
                         {"a": first.case_id, "b": second.case_id}).all()
    assert rows[0][0] != rows[1][0]  # a fresh nonce per number: equal numbers do not show
    assert rows[0][1] == rows[1][1]  # the search hash is of the digits only


def test_search_by_the_full_number_finds_the_case_and_a_part_does_not(env):
    r = report(env, reporter_phone="139-5780 2461")
    other = report(env, reporter_phone="13800000000")
    with env.database.read() as s:
        for typed in (PHONE, "139 5780 2461", "(139)5780-2461"):
            assert [m.id for m in find_by_number_or_phone(s, typed, actor=SYSTEM)] == [r.case_id]
        assert find_by_number_or_phone(s, "1395780246", actor=SYSTEM) == []
        assert find_by_number_or_phone(s, TAIL, actor=SYSTEM) == []
        # The queue's free-text filter finds it by the number too.
        assert queue_ids(s, QueueFilter(text="139 5780 2461"), actor=SYSTEM) == [r.case_id]
        assert other.case_id not in queue_ids(s, QueueFilter(text=PHONE), actor=SYSTEM)


def test_masked_on_screen_and_revealed_in_full_with_an_audit_row(env):
    r = report(env, reporter_phone="139-5780-2461")
    with env.database.read() as s:
        d = case_detail(s, r.case_id, actor=SYSTEM)
    assert d.reporter_phone_masked == "139******2461" and d.reporter_phone_problem is None
    assert contact.reveal_reporter_phone(env.database, env.users[Role.DUTY_OFFICER],
                                         r.case_id) == "139-5780-2461"
    assert reveal_count(env, r.case_id) == 1


def _install(monkeypatch, path: Path) -> None:
    monkeypatch.setenv(pii.KEY_FILE_ENV, str(path))


def test_a_workstation_with_another_databases_key_is_told_so_and_sees_no_garbage(env, tmp_path,
                                                                                   monkeypatch):
    r = report(env, reporter_phone=PHONE)
    other = tmp_path / "other.key"
    pii.write_key_file(other, pii.new_key())
    _install(monkeypatch, other)
    with env.database.read() as s:
        d = case_detail(s, r.case_id, actor=env.users[Role.DUTY_OFFICER])
        assert d.reporter_phone_masked == ""
        assert d.reporter_phone_problem.code == "phone_key_mismatch"
        with pytest.raises(PhoneKeyProblem) as found:
            find_by_number_or_phone(s, PHONE, actor=SYSTEM)
        assert found.value.code == "phone_key_mismatch"
        # The free-text filter still filters by the other columns.
        assert queue_ids(s, QueueFilter(text=PHONE), actor=SYSTEM) == []
    with pytest.raises(PhoneKeyProblem) as revealed:
        contact.reveal_reporter_phone(env.database, env.users[Role.DUTY_OFFICER], r.case_id)
    assert revealed.value.code == "phone_key_mismatch" and PHONE not in revealed.value.message
    assert reveal_count(env, r.case_id) == 0  # nothing was seen, nothing is recorded as seen
    with pytest.raises(PhoneKeyProblem) as reported:  # nor sealed with the wrong key
        report(env, reporter_phone="13800000000")
    assert reported.value.code == "phone_key_mismatch"


def test_a_workstation_without_the_key_or_with_a_key_others_can_read_is_refused(env, tmp_path,
                                                                                 monkeypatch):
    r = report(env, reporter_phone=PHONE)
    right = Path(os.environ[pii.KEY_FILE_ENV])
    _install(monkeypatch, tmp_path / "absent.key")
    with pytest.raises(PhoneKeyProblem) as missing:
        contact.reveal_reporter_phone(env.database, env.users[Role.DUTY_OFFICER], r.case_id)
    assert missing.value.code == "phone_key_missing"
    # The right key, but in a file every user of the machine may read: refused.
    leaked = tmp_path / "leaked.key"
    leaked.write_bytes(right.read_bytes())
    leaked.chmod(0o644)
    _install(monkeypatch, leaked)
    with pytest.raises(PhoneKeyProblem) as unsafe:
        contact.reveal_reporter_phone(env.database, env.users[Role.DUTY_OFFICER], r.case_id)
    assert unsafe.value.code == "phone_key_unsafe"
    leaked.chmod(0o600)
    assert contact.reveal_reporter_phone(env.database, env.users[Role.DUTY_OFFICER],
                                         r.case_id) == PHONE


def test_a_ciphertext_altered_with_the_workstations_credentials_is_caught(env):
    r = report(env, reporter_phone=PHONE)
    with env.database.write() as s:  # the application role may write case rows
        enc = s.execute(text('SELECT reporter_phone_enc FROM "case" WHERE id = :i'),
                        {"i": r.case_id}).scalar()
        flipped = enc[:-3] + ("A" if enc[-3] != "A" else "B") + enc[-2:]
        s.execute(text('UPDATE "case" SET reporter_phone_enc = :e WHERE id = :i'),
                  {"e": flipped, "i": r.case_id})
    with pytest.raises(PhoneKeyProblem) as broken:
        contact.reveal_reporter_phone(env.database, env.users[Role.DUTY_OFFICER], r.case_id)
    assert broken.value.code == "phone_sealed_broken"
    with env.database.read() as s:
        assert case_detail(s, r.case_id, actor=SYSTEM).reporter_phone_problem.code == \
            "phone_sealed_broken"


@pytest.mark.parametrize("phone, code", [
    (13957802461, "text_not_text"), (1.5, "text_not_text"), (math.nan, "text_not_text"),
    (["139", "5780"], "text_not_text"), ("call me", "phone_invalid"), ("12", "phone_invalid"),
    ("1" * 21, "phone_invalid"), ("139;DROP", "phone_invalid"),
])
def test_a_wrong_typed_phone_is_a_declared_validation_error(env, phone, code):
    with pytest.raises(ValidationError) as err:
        report(env, reporter_phone=phone)
    assert err.value.code == code


def test_a_database_without_a_key_refuses_a_number_in_words(env):
    with env.database.write() as s:
        s.execute(text("DELETE FROM app_setting WHERE key = :k"), {"k": pii.SETTING})
    report(env)  # no number, no key needed
    with pytest.raises(PhoneKeyProblem) as err:
        report(env, reporter_phone=PHONE)
    assert err.value.code == "phone_key_none"


# -- migration 0009 ------------------------------------------------------------------------------

def _phones(conn) -> dict[int, str | None]:
    return dict(conn.execute(text('SELECT id, reporter_phone FROM "case" ORDER BY id')).all())


def _file_node(conn):
    """Where the table lives: PostgreSQL's file node of "case"; SQLite's page count and
    free-list (a VACUUM rebuilds the file, leaving no free page)."""
    if conn.dialect.name == "postgresql":
        return conn.execute(text("SELECT relfilenode FROM pg_class WHERE relname = 'case'")).scalar()
    return ("sqlite", conn.exec_driver_sql("PRAGMA freelist_count").scalar(),
            conn.exec_driver_sql("PRAGMA page_count").scalar())


def test_0009_seals_stored_numbers_with_the_key_and_refuses_without_one(env):
    first = report(env, reporter_phone="139-5780 2461")
    none = report(env)
    with owner_database(env) as db:
        cfg = alembic_config(db.engine)
        command.downgrade(cfg, "0008")  # back to plain numbers (opened with the key)
        with db.engine.connect() as conn:
            assert _phones(conn)[first.case_id] == "139-5780 2461"
            assert _phones(conn)[none.case_id] is None
            setting = conn.execute(text("SELECT value_json FROM app_setting WHERE key = :k"),
                                   {"k": pii.SETTING}).scalar()
        # A database with plain numbers and no key: the migration refuses and says what to do.
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM app_setting WHERE key = :k"), {"k": pii.SETTING})
        with pytest.raises(RuntimeError, match="cityops db make-key"):
            command.upgrade(cfg, "head")
        with db.engine.connect() as conn:  # nothing changed: still 0008, still one plain column
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0008"
            columns = {c["name"] for c in inspect(conn).get_columns("case")}
            assert "reporter_phone" in columns and "reporter_phone_enc" not in columns
        with db.engine.begin() as conn:  # the key made (as make-key would record it) …
            conn.execute(text("INSERT INTO app_setting (key, value_json, updated_at) "
                              "VALUES (:k, :v, CURRENT_TIMESTAMP)"), {"k": pii.SETTING, "v": setting})
        with db.engine.connect() as conn:
            node = _file_node(conn)
        upgrade_to_head(db.engine)  # … the migration seals, as `cityops db migrate` runs it
        with db.engine.connect() as conn:
            # and the file is rewritten: the plain numbers do not linger in free space.
            assert _file_node(conn) != node
        if env.engine_name == "sqlite":
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            raw = Path(db.engine.url.database).read_bytes()
            assert TAIL.encode() not in raw and b"5780 2461" not in raw
        with db.engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("case")}
            assert "reporter_phone" not in columns
            assert "ix_case_reporter_phone_hash" in {i["name"] for i in inspect(conn).get_indexes("case")}
            enc = conn.execute(text('SELECT reporter_phone_enc FROM "case" WHERE id = :i'),
                               {"i": first.case_id}).scalar()
            assert TAIL not in enc
    assert contact.reveal_reporter_phone(env.database, env.users[Role.DUTY_OFFICER],
                                         first.case_id) == "139-5780 2461"
    with env.database.read() as s:
        assert [m.id for m in find_by_number_or_phone(s, PHONE, actor=SYSTEM)] == [first.case_id]


def test_0009_makes_the_key_itself_on_a_demo_database(env, tmp_path, monkeypatch):
    r = report(env, reporter_phone=PHONE)
    with owner_database(env) as db:
        cfg = alembic_config(db.engine)
        command.downgrade(cfg, "0008")
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM app_setting WHERE key = :k"), {"k": pii.SETTING})
            conn.execute(text("INSERT INTO app_setting (key, value_json, updated_at) "
                              "VALUES ('demo', '{}', CURRENT_TIMESTAMP)"))
        fresh = tmp_path / "demo.key"
        _install(monkeypatch, fresh)
        command.upgrade(cfg, "head")
    assert fresh.exists() and fresh.stat().st_mode & 0o777 == 0o600
    recorded = json.loads(fresh.read_text())["id"]
    with env.database.read() as s:
        assert pii.recorded(s)["id"] == recorded
    assert contact.reveal_reporter_phone(env.database, env.users[Role.DUTY_OFFICER],
                                         r.case_id) == PHONE


def test_the_key_file_is_the_users_alone_and_the_database_keeps_only_its_id(tmp_path, monkeypatch):
    monkeypatch.delenv(pii.KEY_FILE_ENV)
    monkeypatch.setattr(pii, "key_dir", lambda: tmp_path / "cfg" / "keys")
    engine = create_engine(f"sqlite:///{tmp_path / 'k.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE app_setting (key VARCHAR(60) PRIMARY KEY, "
                          "value_json TEXT, updated_at TIMESTAMP, updated_by_id INTEGER)"))
        key, path = pii.make_key(conn)
    assert path == tmp_path / "cfg" / "keys" / f"{key.key_id}.key"
    assert path.stat().st_mode & 0o777 == 0o600
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT value_json FROM app_setting")).scalar()
        assert json.loads(stored) == {"id": key.key_id, "check": key.check}
        assert json.loads(path.read_text())["key"] not in stored
        with pytest.raises(PhoneKeyProblem) as again:  # one key per database
            pii.make_key(conn)
        assert again.value.code == "phone_key_exists"
        assert pii.cipher(conn).open(pii.cipher(conn).seal(PHONE)[0]) == PHONE
    engine.dispose()


def test_cityops_db_make_key_writes_a_private_file_and_records_only_its_id(env, tmp_path):
    from tests.test_cli import cityops

    with env.database.write() as s:  # a database set up before phone keys existed
        s.execute(text("DELETE FROM app_setting WHERE key = :k"), {"k": pii.SETTING})
    target = tmp_path / "keys" / "city.key"
    done = cityops("db", "make-key", "--db", env.database.url, "--key-file", str(target))
    assert done.returncode == 0, done.stderr
    assert str(target) in done.stdout and "600" in done.stdout
    assert target.stat().st_mode & 0o777 == 0o600
    body = json.loads(target.read_text())
    with env.database.read() as s:
        assert pii.recorded(s) == {"id": body["id"], "check": pii.read_key_file(target).check}
    assert body["key"] not in _all_rows_as_text(env)  # the key itself is nowhere in the database
    again = cityops("db", "make-key", "--db", env.database.url, "--key-file",
                    str(tmp_path / "second.key"))
    assert again.returncode == 1 and body["id"] in again.stderr
    assert not (tmp_path / "second.key").exists()
