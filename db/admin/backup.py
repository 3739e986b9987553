"""Backups that restore (``cityops db backup`` / ``cityops db restore``, the ``db.backup`` job).

A backup file is one file that says what it is. Its first line is a header::

    CITYOPS-BACKUP/1 {"engine": "sqlite", "revision": "0009", "created_at": "…", …}\\n

(JSON: engine, schema revision, time, the tool that made it, the phone key's id, the payload's
size and SHA-256), then the payload: for SQLite a copy of the database file made with SQLite's
online backup API (a consistent snapshot; in WAL mode writers go on meanwhile), for PostgreSQL
the output of ``pg_dump -Fc``. A restore reads and checks the whole file (size, checksum,
engine, a revision this code knows) before it touches the target, so a truncated or damaged
file is refused with the target as it was; PostgreSQL's part is then restored in one
transaction (``pg_restore --single-transaction --exit-on-error``), SQLite's checked with
``PRAGMA integrity_check`` in a scratch copy and copied in with the backup API.

A restore goes into an empty database only (:class:`BackupRefused` ``backup_target_not_empty``)
unless forced: a restore over a working database by a slip of the URL would lose that
database's work.

PostgreSQL and the two roles (:mod:`db.admin.roles`): the owner owns the schema, the application
role may touch rows only. ``pg_dump`` runs as whoever backs up (the application role can: it may
read every table and sequence). The restore is made **as the owner**: the target database is
made and set up first (``createdb``; ``cityops db setup-roles``), then ``--db`` names the owner
(or a superuser; it then ``SET ROLE``\\ s to the owner, ``pg_restore --role``). ``pg_restore
--no-owner --no-privileges`` makes every object the owner's, whatever role names the dumped
cluster had, and :func:`db.admin.roles.apply_grants` then grants the application roles of *this*
database their rights, as after a migration. The application role may not restore (refused).
"""
from __future__ import annotations

import datetime as dt
import glob
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from db.admin.passwords import shown_url
from db.core.config import normalise_url
from db.core.errors import CityOpsError

FORMAT = "CITYOPS-BACKUP/1"
SUFFIX = ".cityops-backup"
HEADER_LIMIT = 64 * 1024  # a header line longer than this is not one
_CHUNK = 1 << 20
PG_TOOL_TIMEOUT_S = 6 * 3600


class BackupRefused(CityOpsError):
    """A backup or restore that was not done, and why (``code``): ``backup_corrupt`` (not a
    backup file, truncated or damaged), ``backup_incompatible`` (another engine, or a schema
    revision this version does not know), ``backup_target_not_empty``, ``backup_needs_owner``
    (PostgreSQL: the application role may not restore), ``backup_tool_missing`` (no
    pg_dump/pg_restore), ``backup_failed`` (the tool or the database said no)."""

    code = "backup_failed"


@dataclass(frozen=True)
class BackupInfo:
    """What the header of a backup file says."""

    engine: str  # sqlite | postgresql
    revision: str  # the schema's alembic revision(s), comma-separated
    created_at: str  # ISO 8601, UTC
    tool: str  # what made the payload: "sqlite 3.40.1 backup API", "pg_dump (PostgreSQL) 17.2"
    database: str  # where it came from, without password
    phone_key_id: str | None  # the key a restore needs to open sealed phone numbers
    payload_bytes: int
    payload_sha256: str
    format: str = FORMAT

    def header(self) -> bytes:
        return f"{FORMAT} {json.dumps(asdict(self), ensure_ascii=False)}\n".encode()


@dataclass
class RestoreResult:
    info: BackupInfo
    target: str
    #: Schema revision of this code: a backup behind it needs ``cityops db migrate`` after.
    head: str
    notes: list[str] = field(default_factory=list)

    @property
    def behind_head(self) -> bool:
        return self.info.revision != self.head


# -- the file ------------------------------------------------------------------------------------

def read_info(path: Path) -> tuple[BackupInfo, int]:
    """The header of the backup file at ``path`` and where its payload starts, after checking
    the payload's size and SHA-256 against it (the whole file is read)."""
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise BackupRefused(f"无法读取备份文件 {path}：{exc.strerror}", code="backup_corrupt",
                            path=str(path)) from exc
    with f:
        line = f.readline(HEADER_LIMIT)
        info = _parse_header(line, path)
        offset = len(line)
        digest = hashlib.sha256()
        size = 0
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    if size != info.payload_bytes:
        raise BackupRefused(
            f"备份文件 {path} 不完整：应有 {info.payload_bytes} 字节数据，实有 {size} 字节（被截断？）",
            code="backup_corrupt", path=str(path), expected=info.payload_bytes, found=size)
    if digest.hexdigest() != info.payload_sha256:
        raise BackupRefused(f"备份文件 {path} 已损坏：校验和不符", code="backup_corrupt",
                            path=str(path))
    return info, offset


def _parse_header(line: bytes, path: Path) -> BackupInfo:
    prefix = FORMAT.encode() + b" "
    if not line.startswith(prefix) or not line.endswith(b"\n"):
        raise BackupRefused(f"{path} 不是 CityOps 备份文件（缺少文件头 {FORMAT}）",
                            code="backup_corrupt", path=str(path))
    try:
        fields = json.loads(line[len(prefix):].decode())
        return BackupInfo(**fields)
    except (ValueError, TypeError) as exc:
        raise BackupRefused(f"备份文件 {path} 的文件头无法读取", code="backup_corrupt",
                            path=str(path)) from exc


def _write(out: Path, info_without_payload: dict, payload: Path) -> BackupInfo:
    """Header + payload into ``out``, atomically: a backup cut short leaves no file by that name."""
    digest = hashlib.sha256()
    with open(payload, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    info = BackupInfo(**info_without_payload, payload_bytes=payload.stat().st_size,
                      payload_sha256=digest.hexdigest())
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as dst, open(payload, "rb") as src:
            dst.write(info.header())
            shutil.copyfileobj(src, dst, _CHUNK)
            dst.flush()
            os.fsync(dst.fileno())
        os.chmod(tmp, 0o600)  # reporters' names and case texts: the city's, not the machine's
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return info


@contextmanager
def _payload_copy(path: Path, offset: int, where: Path) -> Iterator[Path]:
    """The payload of a checked backup file as a file of its own in ``where``, removed after."""
    fd, tmp = tempfile.mkstemp(prefix=".cityops-restore-", dir=where)
    try:
        with os.fdopen(fd, "wb") as dst, open(path, "rb") as src:
            src.seek(offset)
            shutil.copyfileobj(src, dst, _CHUNK)
        yield Path(tmp)
    finally:
        Path(tmp).unlink(missing_ok=True)


# -- common --------------------------------------------------------------------------------------

def _engine_of(url: str) -> str:
    return make_url(normalise_url(url)).get_backend_name()


def _heads() -> str:
    from db.core.migrate import script_directory

    return ",".join(sorted(script_directory().get_heads()))


def _known_revision(revision: str) -> bool:
    from alembic.util import CommandError

    from db.core.migrate import script_directory

    scripts = script_directory()
    try:
        return all(scripts.get_revision(r) is not None for r in revision.split(",") if r)
    except CommandError:
        return False


def _check_compatible(info: BackupInfo, url: str, path: Path) -> None:
    engine = _engine_of(url)
    if info.engine != engine:
        raise BackupRefused(f"备份 {path} 来自 {info.engine} 数据库，不能恢复到 {engine} 数据库",
                            code="backup_incompatible", backup_engine=info.engine, engine=engine)
    if not info.revision or not _known_revision(info.revision):
        raise BackupRefused(
            f"备份 {path} 的数据库结构版本 {info.revision or '-'} 不是本程序认识的版本（来自更新的"
            "版本？）：请用同一版本或更新版本的 CityOps 恢复", code="backup_incompatible",
            revision=info.revision, head=_heads())


def _not_empty(target: str) -> BackupRefused:
    return BackupRefused(f"目标数据库 {target} 不是空的，已拒绝恢复（会覆盖其中的数据）：请恢复到新建的"
                         "空数据库，或确认后加 --force", code="backup_target_not_empty",
                         target=target)


def _revision_of(conn) -> str:
    from alembic.migration import MigrationContext

    return ",".join(sorted(MigrationContext.configure(conn).get_current_heads()))


def _phone_key_id(conn) -> str | None:
    """The id of the phone key the database records (``conn``: SQLAlchemy or sqlite3)."""
    from db.core import pii

    try:
        if isinstance(conn, sqlite3.Connection):
            row = conn.execute("SELECT value_json FROM app_setting WHERE key = ?",
                               (pii.SETTING,)).fetchone()
            recorded = json.loads(row[0]) if row else None
        else:
            recorded = pii.recorded(conn)
    except Exception:  # a schema before the key (0009): nothing sealed yet
        return None
    return recorded.get("id") if recorded else None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def backup(url: str, out: Path) -> BackupInfo:
    """Back the database at ``url`` up into the file ``out`` (replaced if it exists)."""
    out = Path(out)
    if _engine_of(url) == "sqlite":
        return _backup_sqlite(url, out)
    return _backup_postgres(url, out)


def restore(url: str, path: Path, *, force: bool = False) -> RestoreResult:
    """Restore the backup file at ``path`` into the database at ``url``, which must be empty
    unless ``force``. Everything about the file is checked before the target is touched."""
    path = Path(path)
    info, offset = read_info(path)
    _check_compatible(info, url, path)
    if info.engine == "sqlite":
        result = _restore_sqlite(url, path, info, offset, force)
    else:
        result = _restore_postgres(url, path, info, offset, force)
    if info.phone_key_id:
        result.notes.append(key_note(info.phone_key_id))
    return result


def key_note(key_id: str) -> str:
    """Whether this machine holds the phone key ``key_id`` a restored database needs."""
    from db.core import pii
    from db.core.errors import PhoneKeyProblem

    path = pii.key_path(key_id)
    try:
        key = pii.read_key_file(path)
    except PhoneKeyProblem as exc:
        return (f"打开密封的电话号码需要密钥 {key_id}，本机不可用：{exc.message} / sealed phone "
                f"numbers open with key {key_id} only, not usable here: install that key file "
                "(keys/<id>.key or CITYOPS_KEY_FILE, mode 600) on the workstations")
    if key.key_id != key_id:
        return (f"本机的密钥文件 {path} 是另一把密钥（{key.key_id}），恢复的数据库需要 {key_id} / "
                f"the key file here is another key ({key.key_id}); the restored database needs "
                f"{key_id}")
    return f"本机已有密钥 {key_id}（{path}）/ phone key {key_id} is installed here ({path})"


# -- SQLite --------------------------------------------------------------------------------------

def _sqlite_path(url: str) -> Path:
    parsed = make_url(normalise_url(url))
    name = parsed.database
    if not name or name == ":memory:" or name.startswith("file:"):
        raise BackupRefused(f"只能备份或恢复 SQLite 数据库文件，不是 {url}", code="backup_failed",
                            url=url)
    return Path(name)


def _backup_sqlite(url: str, out: Path) -> BackupInfo:
    source = _sqlite_path(url)
    if not source.exists():
        raise BackupRefused(f"数据库文件不存在：{source}", code="backup_failed", path=str(source))
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".cityops-backup-") as tmp:
        snapshot = Path(tmp) / "snapshot.sqlite3"
        src = sqlite3.connect(source, timeout=10)  # reads only (WAL: read-only needs its -shm)
        try:
            dst = sqlite3.connect(snapshot)
            try:
                src.backup(dst)  # all pages in one step: one read transaction, one snapshot
                # A file of its own: no WAL beside it, readable by any sqlite3.
                dst.execute("PRAGMA journal_mode = DELETE")
                revision = _revision_of_sqlite(dst)
                key_id = _phone_key_id(dst)
            finally:
                dst.close()
        except sqlite3.DatabaseError as exc:
            raise BackupRefused(f"SQLite 备份失败：{exc}", code="backup_failed") from exc
        finally:
            src.close()
        return _write(out, {"engine": "sqlite", "revision": revision, "created_at": _now(),
                            "tool": f"sqlite {sqlite3.sqlite_version} backup API",
                            "database": str(source.resolve()), "phone_key_id": key_id},
                      snapshot)


def _revision_of_sqlite(conn: sqlite3.Connection) -> str:
    try:
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError:
        return ""
    return ",".join(sorted(r[0] for r in rows))


def _sqlite_is_empty(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return True
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] == 0
    finally:
        conn.close()


def _restore_sqlite(url: str, path: Path, info: BackupInfo, offset: int,
                    force: bool) -> RestoreResult:
    target = _sqlite_path(url)
    if not force and not _sqlite_is_empty(target):
        raise _not_empty(str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    with _payload_copy(path, offset, target.parent) as copy:
        src = sqlite3.connect(copy)
        try:
            try:
                check = src.execute("PRAGMA integrity_check").fetchall()
                revision = _revision_of_sqlite(src)
            except sqlite3.DatabaseError as exc:
                raise BackupRefused(f"备份文件 {path} 中的数据库已损坏：{exc}",
                                    code="backup_corrupt", path=str(path)) from exc
            if check != [("ok",)]:
                said = " ".join(" ".join(row[0] for row in check[:3]).split())
                raise BackupRefused(f"备份文件 {path} 中的数据库已损坏：{said[:300]}",
                                    code="backup_corrupt", path=str(path))
            if revision != info.revision:
                raise BackupRefused(f"备份文件 {path} 的内容与文件头不符（结构版本 {revision}）",
                                    code="backup_corrupt", path=str(path))
            dst = sqlite3.connect(target, timeout=10)
            try:
                src.backup(dst)  # page by page into the target, under its write lock
                dst.execute("PRAGMA journal_mode = WAL")
            finally:
                dst.close()
        finally:
            src.close()
    return RestoreResult(info, str(target), _heads())


# -- PostgreSQL ----------------------------------------------------------------------------------

def pg_bindir() -> Path | None:
    """Where PostgreSQL's client programs are, found as ``scripts/pg-cluster.sh`` finds them:
    ``pg_config --bindir``, else the newest ``/usr/lib/postgresql/*/bin`` (Debian keeps them
    there), else the ``PATH``. The newest, since ``pg_dump`` refuses a newer server."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                   timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            found = ""
        if found and (Path(found) / "pg_dump").exists():
            return Path(found)

    def version(p: str) -> tuple:
        return tuple(int(x) if x.isdigit() else 0 for x in Path(p).parent.name.split("."))

    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if (Path(candidate) / "pg_dump").exists():
            return Path(candidate)
    found = shutil.which("pg_dump")
    return Path(found).parent if found else None


def _tool(name: str) -> str:
    bindir = pg_bindir()
    if bindir is None or not (bindir / name).exists():
        raise BackupRefused(f"找不到 PostgreSQL 程序 {name}（Debian：apt-get install "
                            "postgresql-client）", code="backup_tool_missing", tool=name)
    return str(bindir / name)


def libpq_conninfo(url: str) -> str:
    """The libpq connection string for a SQLAlchemy URL: user, host, port, database and the
    URL's own parameters; never a password (libpq reads PGPASSFILE or PGPASSWORD itself)."""
    parsed: URL = make_url(normalise_url(url))
    parts = {"host": parsed.host, "port": parsed.port, "user": parsed.username,
             "dbname": parsed.database}
    for key, value in parsed.query.items():
        if key != "password":
            parts[key] = ",".join(value) if isinstance(value, tuple) else value
    # A multi-host URL (``?host=a:5432&host=b:5433``, primary and standby): libpq wants the
    # hosts and the ports as two lists.
    hosts = parsed.query.get("host")
    if hosts and not parsed.host:
        hosts = hosts if isinstance(hosts, tuple) else tuple(hosts.split(","))
        if any(":" in h for h in hosts):
            pairs = [h.rsplit(":", 1) if ":" in h else (h, "") for h in hosts]
            parts["host"] = ",".join(h for h, _ in pairs)
            parts["port"] = ",".join(p for _, p in pairs)

    def quoted(value) -> str:
        return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"

    return " ".join(f"{k}={quoted(v)}" for k, v in parts.items() if v not in (None, ""))


def _run(cmd: list[str], what: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PGCONNECT_TIMEOUT": os.environ.get("PGCONNECT_TIMEOUT", "10")}
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=PG_TOOL_TIMEOUT_S,
                              env=env)
    except subprocess.TimeoutExpired as exc:
        raise BackupRefused(f"{what} 超时", code="backup_failed") from exc
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise BackupRefused(f"{what} 失败：{'; '.join(lines[:3]) or done.returncode}",
                            code="backup_failed", stderr=done.stderr[-4000:])
    return done


@contextmanager
def _pg_engine(url: str):
    engine = create_engine(normalise_url(url))
    try:
        yield engine
    finally:
        engine.dispose()


def _backup_postgres(url: str, out: Path) -> BackupInfo:
    with _pg_engine(url) as engine, engine.connect() as conn:
        revision = _revision_of(conn)
        key_id = _phone_key_id(conn)
    pg_dump = _tool("pg_dump")
    version = _run([pg_dump, "--version"], "pg_dump --version").stdout.strip()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".cityops-backup-") as tmp:
        dump = Path(tmp) / "dump"
        _run([pg_dump, "--format=custom", "--no-password", f"--file={dump}",
              f"--dbname={libpq_conninfo(url)}"], "pg_dump")
        return _write(out, {"engine": "postgresql", "revision": revision, "created_at": _now(),
                            "tool": version, "database": shown_url(url),
                            "phone_key_id": key_id}, dump)


# Objects the restore would collide with: anything in the schema but the schema itself.
_SCHEMA_CONTENT = text(
    "SELECT (SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid) "
    "     + (SELECT count(*) FROM pg_proc p WHERE p.pronamespace = n.oid) "
    "     + (SELECT count(*) FROM pg_type t WHERE t.typnamespace = n.oid AND t.typtype IN ('e', 'd')) "
    "FROM pg_namespace n WHERE n.nspname = 'public'")


def _clear_schema(conn) -> None:
    """``--force``: drop what the schema holds (tables with their indexes, triggers and
    sequences; functions; types), as its owner. The schema and its grants stay."""
    for (name,) in conn.execute(text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')")).all():
        conn.execute(text(f'DROP TABLE IF EXISTS public."{name}" CASCADE'))
    for (name, kind) in conn.execute(text(
            "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('v', 'm', 'S')")).all():
        word = {"v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}[kind]
        conn.execute(text(f'DROP {word} IF EXISTS public."{name}" CASCADE'))
    for (signature,) in conn.execute(text(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n "
            "ON n.oid = p.pronamespace WHERE n.nspname = 'public'")).all():
        conn.execute(text(f"DROP ROUTINE IF EXISTS {signature} CASCADE"))
    for (name,) in conn.execute(text(
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd')")).all():
        conn.execute(text(f'DROP TYPE IF EXISTS public."{name}" CASCADE'))


def _restore_postgres(url: str, path: Path, info: BackupInfo, offset: int,
                      force: bool) -> RestoreResult:
    from db.admin.roles import ConnectionKind, apply_grants, connection_kind, current_role, schema_owner

    target = shown_url(url)
    pg_restore = _tool("pg_restore")
    with _pg_engine(url) as engine, engine.connect() as conn:
        kind = connection_kind(conn)
        me = current_role(conn)
        owner = schema_owner(conn)
        if kind is ConnectionKind.APPLICATION:
            raise BackupRefused(
                f"{me} 是应用角色，不能恢复数据库：请用表结构所有者的地址（cityops_owner）或超级用户恢复",
                code="backup_needs_owner", role=me)
        as_role = owner if (kind is ConnectionKind.SUPERUSER and owner) else None
        if conn.execute(_SCHEMA_CONTENT).scalar():
            if not force:
                raise _not_empty(target)
            with _as(conn, as_role):
                _clear_schema(conn)
                conn.commit()  # one transaction: all of it gone, or nothing
    notes = []
    with tempfile.TemporaryDirectory(prefix="cityops-restore-") as tmp, \
            _payload_copy(path, offset, Path(tmp)) as dump:
        # The archive's table of contents read first: a payload pg_restore cannot read is
        # refused before any connection to the target.
        try:
            _run([pg_restore, "--list", str(dump)], "pg_restore --list")
        except BackupRefused as exc:
            raise BackupRefused(f"备份文件 {path} 中的 PostgreSQL 归档无法读取：{exc.message}",
                                code="backup_corrupt", path=str(path)) from exc
        cmd = [pg_restore, "--no-owner", "--no-privileges", "--single-transaction",
               "--exit-on-error", "--no-password", f"--dbname={libpq_conninfo(url)}"]
        if as_role:
            cmd.append(f"--role={as_role}")
        _run([*cmd, str(dump)], "pg_restore")
    with _pg_engine(url) as engine, engine.connect() as conn, _as(conn, as_role):
        apps = apply_grants(conn)
        conn.commit()
    if owner is None:
        notes.append("目标数据库没有设置角色：请运行 cityops db setup-roles --superuser-url URL / no "
                     "roles set up on the target: run `cityops db setup-roles`")
    elif apps:
        notes.append(f"已重新授权应用角色 {', '.join(apps)}（只能读写数据行），表归 {owner} 所有 / "
                     f"rights granted again to {', '.join(apps)} (rows only); the tables are "
                     f"{owner}'s")
    return RestoreResult(info, target, _heads(), notes)


@contextmanager
def _as(conn, role: str | None):
    """``SET ROLE role`` for the block (a superuser acting as the schema's owner)."""
    if role is None:
        yield
        return
    conn.execute(text('SET ROLE "{}"'.format(role.replace('"', '""'))))
    try:
        yield
    finally:
        conn.execute(text("RESET ROLE"))


__all__ = ["FORMAT", "SUFFIX", "BackupInfo", "BackupRefused", "RestoreResult", "backup",
           "key_note", "libpq_conninfo", "pg_bindir", "read_info", "restore"]
