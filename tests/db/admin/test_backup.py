"""Backups that restore (issue 13, item 5): ``cityops db backup`` of a demo-filled database,
``cityops db restore`` into a new empty one, the same rows in every table and an audit chain
that still verifies; a damaged file is refused with the target left as it was.

Run as an administrator runs them: separate ``cityops`` processes, passwords from PGPASSFILE.
On PostgreSQL the backup is taken as the application role (what the nightly job on a
workstation connects as) and restored as the owner into a database made and set up first.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select, table, text

from db.admin import backup
from db.core.config import normalise_url
from db.core.engine import open_database
from db.demo.build import build_demo
from db.models import AuditLog, Case
from tests.conftest import TEST_APP, TEST_OWNER, empty_pg_database, pg_url
from tests.helpers import owner_database

NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)


def cityops(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "desktop", *args], capture_output=True,
                          text=True, timeout=300,
                          env={**os.environ, "CITYOPS_DB": "", "CITYOPS_BACKUP_DIR": "",
                               **(env or {})})


def row_counts(url: str) -> dict[str, int]:
    """Every table of the schema and its row count."""
    engine = create_engine(normalise_url(url))
    try:
        names = inspect(engine).get_table_names()
        with engine.connect() as conn:
            return {n: conn.scalar(select(func.count()).select_from(table(n))) for n in names}
    finally:
        engine.dispose()


@pytest.fixture
def empty_target(env, tmp_path):
    """A new empty database of the env's engine, and the URL to restore into (PostgreSQL: the
    owner's, after `createdb` and `setup-roles`, as the README says)."""
    if env.engine_name == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}", None
        return
    with empty_pg_database("cityops_t_restore") as name:
        yield pg_url(name, TEST_OWNER), name


def _fill(env) -> None:
    with owner_database(env) as owner:
        build_demo(owner, cases=60, days=10, now=NOW)


def _source_url(env) -> str:
    return env.database.url


def test_backup_of_a_demo_restores_with_the_same_rows_and_a_chain_that_verifies(env, tmp_path,
                                                                               empty_target):
    _fill(env)
    target, target_name = empty_target
    source = _source_url(env)
    with env.database.read() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 60
        assert s.scalar(select(func.count()).select_from(AuditLog)) > 0
    file = tmp_path / "nightly.cityops-backup"

    made = cityops("db", "backup", "--db", source, "--out", str(file), "--json")
    assert made.returncode == 0, made.stderr
    header = json.loads(made.stdout)
    assert header["engine"] == env.engine_name
    assert header["revision"] == backup._heads()  # the schema at head, as built
    assert header["phone_key_id"] == "7e577e577e577e57"  # the tests' key (conftest)
    assert oct(file.stat().st_mode & 0o777) == "0o600"

    done = cityops("db", "restore", "--db", target, "--from", str(file))
    assert done.returncode == 0, done.stderr
    # The key the restored database needs, and that this machine has it (conftest's file).
    assert "phone key 7e577e577e577e57 is installed here" in done.stdout
    want = row_counts(source)
    assert len(want) > 20 and want["case"] == 60
    assert row_counts(target) == want

    verified = cityops("db", "verify-audit", "--db", target, "--json")
    assert verified.returncode == 0, verified.stderr
    report = json.loads(verified.stdout)
    assert report["ok"] is True and report["rows"] == want["audit_log"]
    original = cityops("db", "verify-audit", "--db", source, "--json")
    assert json.loads(original.stdout)["head_hash"] == report["head_hash"]

    if target_name:  # the application role works on the restored database, rows only
        app = open_database(pg_url(target_name, TEST_APP), migrate=False)
        try:
            with app.read() as s:
                assert s.scalar(select(func.count()).select_from(Case)) == 60
                owners = set(s.execute(text(
                    "SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")).scalars())
            assert owners == {TEST_OWNER}
        finally:
            app.dispose()
        refused = cityops("db", "restore", "--db", pg_url(target_name, TEST_APP), "--from",
                          str(file), "--force")
        assert refused.returncode == 1 and "backup_needs_owner" in refused.stderr

    again = cityops("db", "restore", "--db", target, "--from", str(file))
    assert again.returncode == 1 and "backup_target_not_empty" in again.stderr
    assert row_counts(target) == want
    # --force: what the target held is replaced, not added to (the same counts, not twice).
    forced = cityops("db", "restore", "--db", target, "--from", str(file), "--force")
    assert forced.returncode == 0, forced.stderr
    assert row_counts(target) == want


def _tables(url: str) -> list[str]:
    if url.startswith("sqlite") and not Path(url.removeprefix("sqlite:///")).exists():
        return []
    return sorted(row_counts(url))


def _rewrite_payload(file: Path, damage) -> None:
    """Damage the payload and write a header that matches it again (size, checksum): what a
    careful forger or a broken tool would leave. Only the restore's own checks can catch it."""
    info, offset = backup.read_info(file)
    payload = bytearray(file.read_bytes()[offset:])
    damage(payload)
    import hashlib

    fields = {**info.__dict__, "payload_bytes": len(payload),
              "payload_sha256": hashlib.sha256(payload).hexdigest()}
    file.write_bytes(backup.BackupInfo(**fields).header() + bytes(payload))


def test_a_damaged_backup_is_refused_and_the_target_left_untouched(env, tmp_path, empty_target):
    target, _name = empty_target
    file = tmp_path / "b.cityops-backup"
    backup.backup(_source_url(env), file)
    good = file.read_bytes()
    assert _tables(target) == []

    # Cut short (a full disk, a copy interrupted): refused before anything is read into the target.
    file.write_bytes(good[: len(good) * 2 // 3])
    with pytest.raises(backup.BackupRefused, match="不完整") as cut:
        backup.restore(target, file)
    assert cut.value.code == "backup_corrupt"
    out = cityops("db", "restore", "--db", target, "--from", str(file))
    assert out.returncode == 1 and "backup_corrupt" in out.stderr and "Traceback" not in out.stderr

    # One byte changed in the middle: the checksum says so.
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0xFF
    file.write_bytes(bytes(flipped))
    with pytest.raises(backup.BackupRefused, match="校验和") as bad:
        backup.restore(target, file)
    assert bad.value.code == "backup_corrupt"

    # Not a backup at all.
    file.write_bytes(b"PGDMP" + good[100:400])
    with pytest.raises(backup.BackupRefused, match="不是 CityOps 备份文件"):
        backup.restore(target, file)

    # A header that matches a payload damaged past its start: the engine's own checks refuse it
    # (SQLite: integrity check of a scratch copy; PostgreSQL: pg_restore in one transaction).
    file.write_bytes(good)

    def garble(payload: bytearray) -> None:
        # SQLite: pages three quarters in; PostgreSQL: the last table's compressed data at the
        # end, past the archive's table of contents, so pg_restore fails half-way through.
        start = len(payload) * 3 // 4 if env.engine_name == "sqlite" else len(payload) - 300
        payload[start:start + 200] = bytes(200)

    _rewrite_payload(file, garble)
    with pytest.raises(backup.BackupRefused) as garbled:
        backup.restore(target, file)
    assert garbled.value.code in ("backup_corrupt", "backup_failed")
    assert _tables(target) == []  # nothing half-restored

    # Another engine's backup, or one from a newer version, is refused by its header.
    file.write_bytes(good)
    other = "postgresql://nobody@127.0.0.1:1/x" if env.engine_name == "sqlite" \
        else f"sqlite:///{tmp_path / 'x.sqlite3'}"
    with pytest.raises(backup.BackupRefused) as engine_mismatch:
        backup.restore(other, file)
    assert engine_mismatch.value.code == "backup_incompatible"
    info, offset = backup.read_info(file)
    newer = backup.BackupInfo(**{**info.__dict__, "revision": "0999"})
    file.write_bytes(newer.header() + good[offset:])
    with pytest.raises(backup.BackupRefused, match="0999") as future:
        backup.restore(target, file)
    assert future.value.code == "backup_incompatible"
    assert _tables(target) == []

    # The good file still restores into the untouched target. A machine without the phone key
    # is told that the sealed numbers stay closed until the key is installed.
    file.write_bytes(good)
    missing = tmp_path / "no-such.key"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CITYOPS_KEY_FILE", str(missing))
        result = backup.restore(target, file)
    assert any("7e577e577e577e57" in n and "not usable here" in n for n in result.notes)
    assert _tables(target) == sorted(row_counts(_source_url(env)))


def test_the_nightly_backup_job_writes_restorable_files_and_keeps_the_newest(env, tmp_path,
                                                                            empty_target):
    """``cityops jobs run db.backup`` three times with CITYOPS_BACKUP_KEEP=2: three files were
    written, the oldest removed, two left; the newest restores with every table's rows."""
    target, _name = empty_target
    source = _source_url(env)
    folder = tmp_path / "backups"
    settings = {"CITYOPS_BACKUP_DIR": str(folder), "CITYOPS_BACKUP_KEEP": "2"}
    names = []
    for _ in range(3):
        out = cityops("jobs", "run", "db.backup", "--db", source, "--json", env=settings)
        assert out.returncode == 0, out.stderr
        run = json.loads(out.stdout)
        assert run["outcome"] == "ok"
        names.append(Path(run["result"].split(" (")[0]).name)
    assert len(set(names)) == 3
    left = sorted(p.name for p in folder.glob("*.cityops-backup"))
    assert left == sorted(names)[1:]  # the two newest
    listed = cityops("jobs", "list", "--db", source, "--json", env=settings)
    [job] = [j for j in json.loads(listed.stdout)["jobs"] if j["name"] == "db.backup"]
    assert job["schedule"] == "every 24 h" and job["run_count"] == 3

    backup.restore(target, folder / left[-1])
    # The file is the database as the third run found it: after it the run only recorded its
    # end (the job_state row, already there since the first run) and published that on the
    # change feed: one change_log row more in the source, nothing else.
    restored, now = row_counts(target), row_counts(source)
    assert now.pop("change_log") == restored.pop("change_log") + 1
    assert restored == now

    # A machine without a backup folder does not take part: it has no such job to run.
    unset = cityops("jobs", "run", "db.backup", "--db", source)
    assert unset.returncode == 2 and "db.backup" in unset.stderr


@pytest.mark.parametrize("url, want", [
    ("postgresql://cityops_app@127.0.0.1:55432/cityops",
     "host='127.0.0.1' port='55432' user='cityops_app' dbname='cityops'"),
    # primary and standby, as the failover set-up writes it: libpq takes two lists
    ("postgresql://cityops_app@/cityops?host=db1:5432&host=db2:5433"
     "&target_session_attrs=read-write",
     "host='db1,db2' port='5432,5433' user='cityops_app' dbname='cityops' "
     "target_session_attrs='read-write'"),
])
def test_pg_dump_is_given_the_url_as_libpq_parameters_without_a_password(url, want):
    assert backup.libpq_conninfo(url) == want
