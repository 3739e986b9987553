"""The ``cityops`` command.

``cityops`` opens the command-center window; ``cityops demo`` builds demo data; ``cityops db
migrate`` upgrades a database (``cityops migrate`` is the same; on PostgreSQL as the owner
role, ``--owner-url``); ``cityops db setup-roles`` makes the owner and application roles on
PostgreSQL; ``cityops db verify-audit`` checks the audit log's hash chain; ``cityops db make-key`` makes
the key that seals reporters' phone numbers (db.core.pii); ``cityops db backup`` and ``cityops db
restore`` write and read a backup file (db.admin.backup); ``cityops
jobs`` lists and runs the scheduled jobs; ``cityops accounts`` lists and
lifts sign-in locks; ``cityops bench`` measures. Qt is imported only for the window, so the
data commands run on machines without a display or without PySide6.

The options every command shares (``--db``, ``-v``) mean the same before or after the
subcommand: the subcommands' copies default to ``SUPPRESS``, so one left out never overwrites
the value given before it. The URL is resolved once, after parsing: ``--db`` beats
``CITYOPS_DB`` beats the default file.

No URL may carry a password (``user:secret@host``, ``?password=``): a command line is visible to
every user of the machine and is copied into child processes' arguments. Such a URL is refused
with how to do it instead: libpq's password file (``PGPASSFILE``) or ``PGPASSWORD``.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time

from db.core.config import ENV_VAR, resolve_url


def _common() -> argparse.ArgumentParser:
    """The options every (sub)command takes, defaulting to SUPPRESS (see the module doc)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="URL", default=argparse.SUPPRESS,
                        help=f"SQLAlchemy database URL (default: ${ENV_VAR}, else a SQLite file "
                             "in the user data directory); before or after the subcommand")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="log what happens")
    return common


def build_parser() -> argparse.ArgumentParser:
    # Parents share their action objects with every parser built from them, and set_defaults
    # changes an action's default in place: the top level gets a copy of its own.
    parser = argparse.ArgumentParser(prog="cityops", description="CityOps 智慧城管指挥中心",
                                     parents=[_common()])
    parser.set_defaults(db=None, verbose=False)
    common = _common()
    parser.add_argument("--screenshot", metavar="FILE", help="render the window offscreen to a PNG and exit")
    parser.add_argument("--after", type=float, default=2.0, metavar="SECONDS",
                        help="settling time before the screenshot (default 2)")
    parser.add_argument("--size", default="1920x1080", metavar="WxH", help="window size for --screenshot")
    parser.add_argument("--lang", choices=["zh_CN", "en"], help="interface language (default: the "
                        "last one chosen, else Simplified Chinese)")
    parser.add_argument("--user", metavar="ACCOUNT", help="account to sign in as (prefilled; on a "
                        "demo database any demo account signs in directly)")
    parser.add_argument("--no-simulator", action="store_true",
                        help="on a demo database, do not start the city simulator")
    sub = parser.add_subparsers(dest="command")

    demo = sub.add_parser("demo", parents=[common], help="build deterministic Dongguan demo data")
    demo.add_argument("--cases", type=int, default=100_000)
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--days", type=int, default=90)
    demo.add_argument("--force", action="store_true", help="overwrite a database that holds real work")
    demo.add_argument("--if-missing", action="store_true", help="do nothing when the database already has cases")

    sim = sub.add_parser("simulate", parents=[common],
                         help="drive the database like a living city (demo data only)")
    sim.add_argument("--scenario", choices=["normal", "typhoon", "gas-leak"], default="normal")
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--rate", type=float, default=1.0, help="multiplies every kind of traffic")
    sim.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this long")

    dbp = sub.add_parser("db", parents=[common], help="database administration")
    db_sub = dbp.add_subparsers(dest="db_command", metavar="{migrate,setup-roles,verify-audit,make-key,backup,restore}",
                                required=True)
    mig = db_sub.add_parser("migrate", parents=[common],
                            help="upgrade the database schema to the newest version")
    mig.add_argument("--owner-url", metavar="URL",
                     help="PostgreSQL: connect as the owner role (made by setup-roles), whose "
                          "password libpq finds in PGPASSFILE or PGPASSWORD; replaces --db")
    roles = db_sub.add_parser(
        "setup-roles", parents=[common],
        help="PostgreSQL: make the owner role (schema, migrations, triggers) and the "
             "application role (rows only) for the database the URL names")
    roles.add_argument("--superuser-url", metavar="URL", required=True,
                       help="a superuser's URL without password (libpq reads it from "
                            "PGPASSFILE or PGPASSWORD), naming the control room's database")
    roles.add_argument("--owner", default="cityops_owner", metavar="ROLE",
                       help="the owner role's name (default cityops_owner)")
    roles.add_argument("--app", default="cityops_app", metavar="ROLE",
                       help="the application role's name (default cityops_app)")
    roles.add_argument("--pgpass", metavar="FILE",
                       help="password file to write the new roles' passwords to (default: "
                            "$PGPASSFILE, else ~/.pgpass; made readable by you only)")
    roles.add_argument("--show-passwords", action="store_true",
                       help="print the new passwords once instead of writing a file (only on a "
                            "terminal)")
    roles.add_argument("--reset-passwords", action="store_true",
                       help="give both roles new passwords even if the file has them")
    verify = db_sub.add_parser(
        "verify-audit", parents=[common],
        help="walk the audit log's hash chain: name the first broken row, print the head hash")
    verify.add_argument("--expect-head", metavar="HASH",
                        help="a head hash kept earlier: it must still be in the chain (a "
                             "removed or rewritten tail is caught this way)")
    verify.add_argument("--json", action="store_true", help="print JSON on standard output")
    make_key = db_sub.add_parser(
        "make-key", parents=[common],
        help="make the database's key for reporters' phone numbers: a file readable by you only, "
             "to install on every workstation (see README); the database keeps only its id")
    make_key.add_argument("--key-file", metavar="FILE",
                          help="where to write it (default: $CITYOPS_KEY_FILE, else "
                               "<config dir>/cityops/keys/<key id>.key)")
    backup = db_sub.add_parser(
        "backup", parents=[common],
        help="write the database to one backup file (SQLite: the online backup API; "
             "PostgreSQL: pg_dump -Fc) that records engine, schema revision and time")
    backup.add_argument("--out", metavar="FILE", required=True, help="the backup file to write")
    backup.add_argument("--json", action="store_true", help="print the header as JSON")
    restore = db_sub.add_parser(
        "restore", parents=[common],
        help="restore a backup file into an empty database (PostgreSQL: as the owner role, "
             "after setup-roles); the file is checked whole before the target is touched")
    restore.add_argument("--from", dest="source", metavar="FILE", required=True,
                         help="the backup file (made by `cityops db backup` or the db.backup job)")
    restore.add_argument("--force", action="store_true",
                         help="restore over a database that is not empty (its data is lost)")
    sub.add_parser("migrate", parents=[common], help="the same as `cityops db migrate`")

    jobs = sub.add_parser("jobs", parents=[common], help="the scheduled jobs (change-log pruning, "
                          "…): list them with their last run, or run one now")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", metavar="{list,run}", required=True)
    jobs_list = jobs_sub.add_parser("list", parents=[common],
                                    help="each job: schedule, last run, outcome, error")
    jobs_list.add_argument("--json", action="store_true", help="print JSON on standard output")
    jobs_run = jobs_sub.add_parser("run", parents=[common],
                                   help="run one job now (exit code 1 if it failed)")
    jobs_run.add_argument("name", metavar="NAME", help="the job, e.g. feed.prune")
    jobs_run.add_argument("--json", action="store_true", help="print the run as JSON on "
                          "standard output")

    accounts = sub.add_parser("accounts", parents=[common],
                              help="accounts locked by failed sign-ins: list them, or lift a lock "
                              "(the way back when every shift leader and administrator is locked)")
    accounts_sub = accounts.add_subparsers(dest="accounts_command", metavar="{locked,unlock}",
                                           required=True)
    accounts_sub.add_parser("locked", parents=[common], help="the locked accounts")
    unlock = accounts_sub.add_parser("unlock", parents=[common], help="lift one account's lock "
                                     "(audited, with your operating-system user)")
    unlock.add_argument("username", metavar="ACCOUNT")

    bench = sub.add_parser("bench", parents=[common],
                           help="measure what the control room feels, each figure "
                           "beside a baseline measured in the same run (see README)")
    bench.add_argument("--quick", action="store_true", help="small sizes, under two minutes")
    bench.add_argument("--json", metavar="FILE", help="write every figure as JSON")
    bench.add_argument("--only", metavar="SECTIONS", help="comma-separated: workflow, trust, "
                       "sqlite, screen, queue, map, startup, shift, ingest, replication "
                       "(default: all)")
    bench.add_argument("--no-cache", action="store_true",
                       help="build the benchmark city afresh instead of copying the cached one")

    cams = sub.add_parser("cameras", help="serve the sample clips as live camera streams "
                          "(the demo cameras' http://127.0.0.1:8890/cam/<code>.ts)")
    cams.add_argument("--port", type=int, default=8890, help="TCP port (default 8890)")
    cams.add_argument("--host", default="127.0.0.1", help="address to listen on")
    cams.add_argument("--media", metavar="DIR", help="folder of sample clips (default: "
                      "$CITYOPS_MEDIA_DIR, else var/media; made by scripts/make-sample-media.sh)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "db" and args.db_command == "setup-roles":
        return _setup_roles(args)
    if args.command == "db" and args.db_command == "migrate" and args.owner_url:
        url, option = resolve_url(args.owner_url), "--owner-url"
    else:
        url = resolve_url(args.db)
        option = "--db" if args.db else "CITYOPS_DB"
    if args.command != "cameras" and _password_refused(url, option):
        return 2
    if args.command == "demo":
        return _demo(url, args)
    if args.command == "simulate":
        return _simulate(url, args)
    if args.command == "migrate" or (args.command == "db" and args.db_command == "migrate"):
        return _migrate(url)
    if args.command == "db" and args.db_command == "verify-audit":
        return _verify_audit(url, args)
    if args.command == "db" and args.db_command == "make-key":
        return _make_key(url, args)
    if args.command == "db" and args.db_command in ("backup", "restore"):
        return _backup_or_restore(url, args)
    if args.command == "jobs":
        return _jobs(url, args)
    if args.command == "accounts":
        return _accounts(url, args)
    if args.command == "cameras":
        from desktop.demo.stream_server import run

        return run(args.port, args.media, args.host)
    if args.command == "bench":
        from desktop.bench.runner import SECTIONS, run_bench

        only = [x.strip() for x in args.only.split(",") if x.strip()] if args.only else None
        if only and set(only) - set(SECTIONS):
            print(f"cityops bench: unknown section(s) {', '.join(sorted(set(only) - set(SECTIONS)))}"
                  f"; choose from {', '.join(SECTIONS)}", file=sys.stderr)
            return 2
        return run_bench(url, quick=args.quick, json_path=args.json, only=only,
                         cache=not args.no_cache)
    from desktop.app.run import run_app

    return run_app(url, screenshot=args.screenshot, after=args.after, size=args.size,
                   language=args.lang, username=args.user,
                   simulator=not (args.no_simulator or args.screenshot))


def _accounts(url: str, args) -> int:
    import getpass

    from db.auth.signin import console_locked_accounts, console_unlock
    from db.core.engine import open_database
    from db.core.errors import CityOpsError

    database = open_database(url)
    try:
        if args.accounts_command == "locked":
            for a in console_locked_accounts(database):
                when = a.locked_at.isoformat(timespec="seconds") if a.locked_at else "-"
                print(f"{a.username}\t{a.display_name}\t{a.role.value}\t{a.failures}\t{when}\t"
                      f"{a.workstation or '-'}")
            return 0
        try:
            console_unlock(database, args.username, getpass.getuser())
        except CityOpsError as exc:
            print(f"cityops accounts unlock: {exc}", file=sys.stderr)
            return 1
        print(f"unlocked: {args.username}")
        return 0
    finally:
        database.dispose()


def _password_refused(url: str, option: str) -> bool:
    """Say so and return True when ``url`` carries a password (see the module doc)."""
    from db.admin.passwords import PASSWORD_HELP, PasswordInUrl, refuse_password_in_url

    try:
        refuse_password_in_url(url, option)
    except PasswordInUrl as exc:
        print(f"cityops: {exc.message}\n  {option}: the URL holds a password: refused. Give it "
              f"without one and {PASSWORD_HELP}.", file=sys.stderr)
        return True
    return False


def _setup_roles(args) -> int:
    """``cityops db setup-roles``: exit 0 done, 2 a refused URL or a connection that is not a
    superuser's, 1 the database said no."""
    import os
    from pathlib import Path

    from sqlalchemy.exc import SQLAlchemyError

    from db.admin.passwords import pgpass_path
    from db.admin.roles import NotSuperuser, setup_roles

    prog = "cityops db setup-roles"
    url = args.superuser_url
    if _password_refused(url, "--superuser-url"):
        return 2
    if not url.startswith(("postgresql", "postgres:")):
        print(f"{prog}: roles exist on PostgreSQL only (SQLite has none): {_shown(url)}",
              file=sys.stderr)
        return 2
    if args.show_passwords and not sys.stdout.isatty():
        print(f"{prog}: --show-passwords prints only on a terminal (logs and pipes keep what "
              "they are given); write them to a password file instead (--pgpass)", file=sys.stderr)
        return 2
    pgpass = None if args.show_passwords else Path(args.pgpass) if args.pgpass else pgpass_path()
    try:
        done = setup_roles(url, owner=args.owner, app=args.app, pgpass=pgpass,
                           reset_passwords=args.reset_passwords)
    except NotSuperuser as exc:
        print(f"{prog}: {exc.message} / {exc.params['role']} is not a superuser", file=sys.stderr)
        return 2
    except (SQLAlchemyError, ValueError) as exc:
        print(f"{prog}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    from sqlalchemy.engine import make_url

    from db.core.config import url_servers

    where = make_url(url).set(drivername="postgresql")
    servers = ",".join(f"{host or 'localhost'}:{port}" for host, port in url_servers(url))
    print(f"roles ready on {servers}/{done.database}: owner {done.owner} (schema, "
          f"migrations, triggers), application {done.app} (rows only)")
    if done.created:
        print(f"created: {', '.join(done.created)}")
    for role, password in done.passwords.items():
        print(f"password of {role} (shown once, stored nowhere): {password}")
    if done.new_password_for and pgpass is not None:
        print(f"new passwords for {', '.join(done.new_password_for)} written to {pgpass} "
              "(mode 600)")
    elif pgpass is not None:
        print(f"passwords unchanged: {pgpass} already has them")
    env = "" if pgpass is None or os.environ.get("PGPASSFILE") == str(pgpass) \
        else f"PGPASSFILE={pgpass} "
    print("next:")
    # The same server(s) as the URL given (a multi-host URL stays one), as the other roles.
    print(f"  {env}cityops db migrate --owner-url "
          f"{where.set(username=done.owner).render_as_string(hide_password=False)}")
    print(f"  {env}cityops --db {where.set(username=done.app).render_as_string(hide_password=False)}"
          "   (each workstation: the application role, its password in that user's PGPASSFILE)")
    return 0


def _migrate(url: str) -> int:
    from db.core.engine import open_database
    from db.core.errors import SchemaNotCurrent
    from db.reference.city import ensure_reference_data, has_admin

    try:
        database = open_database(url)
    except SchemaNotCurrent as exc:
        print(f"cityops db migrate: {exc.message} / this role may not change the schema "
              f"({exc.params['current']} → {exc.params['head']}): run `cityops db migrate "
              "--owner-url URL` with the owner role", file=sys.stderr)
        return 2
    # No administrator here: its one-time password is shown once, by the window's first start,
    # and never on standard output (logs, terminals and CI keep what is printed).
    ensure_reference_data(database, with_admin=False)
    with database.read() as session:
        admin = has_admin(session)
    database.dispose()
    print(f"schema up to date: {_shown(url)}")
    if not admin:
        print("no administrator yet: the first start of the window (cityops) creates it and "
              "shows its one-time password once")
    return 0


def _verify_audit(url: str, args) -> int:
    """``cityops db verify-audit``. Exit codes: 0 the chain holds (and holds the kept head),
    1 it is broken or the kept head is gone, 2 no database or a schema not up to date."""
    from db.core import audit_chain

    prog = "cityops db verify-audit"
    database = _open_at_head(url, prog)  # a check never changes what it checks
    if database is None:
        return 2
    try:
        report = audit_chain.verify(database, args.expect_head)
    finally:
        database.dispose()
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
        return 0 if report.ok else 1
    brk = report.first_break
    if brk is None:
        print(f"审计日志哈希链完整 / audit chain intact: {report.rows} rows")
    else:
        print(f"审计日志哈希链断裂，第一处在第 {brk.id} 行 / audit chain BROKEN at row {brk.id} "
              f"({brk.kind}): {brk.detail}; {report.breaks} broken row(s) in {report.rows}")
    if report.head_hash:
        print(f"链头 / head: {report.head_hash} (row {report.head_id})")
        print("请在数据库之外保存链头，下次用 --expect-head 核对 / keep the head outside the "
              "database and check it next time with --expect-head")
    else:
        print("审计日志为空 / the audit log is empty")
    if report.expected_head is not None:
        if report.expected_head_found:
            print(f"保存的链头仍在链中（第 {report.expected_head_id} 行，其后 "
                  f"{report.rows_after_expected} 行）/ the kept head is in the chain at row "
                  f"{report.expected_head_id}, {report.rows_after_expected} row(s) after it")
        else:
            print(f"保存的链头 {report.expected_head[:16]}… 已不在链中：链尾被删除或改写 / the kept "
                  "head is no longer in the chain: the tail was removed or rewritten",
                  file=sys.stderr)
    return 0 if report.ok else 1


def _make_key(url: str, args) -> int:
    """``cityops db make-key``. Exit codes: 0 made, 1 the database has a key already (where this
    workstation looks for it is printed), 2 no database or it cannot be reached."""
    from pathlib import Path

    from sqlalchemy.exc import SQLAlchemyError

    from db.core import pii
    from db.core.engine import open_database
    from db.core.errors import DatabaseBusy, PhoneKeyProblem

    prog = "cityops db make-key"
    missing = _missing_sqlite_file(url)
    if missing:
        print(f"{prog}: 数据库文件不存在 / no database file at {missing}", file=sys.stderr)
        return 2
    # Any schema version: a database whose plain numbers migration 0009 is to seal needs its
    # key before that migration runs.
    database = open_database(url, migrate=False)
    try:
        with database.write() as session:
            key, path = pii.make_key(session, Path(args.key_file).expanduser() if args.key_file
                                     else None)
    except PhoneKeyProblem as exc:
        print(f"{prog}: {exc.message} / the database has a phone key already or the file "
              f"exists ({exc.params.get('path')}); nothing was changed", file=sys.stderr)
        return 1
    except (SQLAlchemyError, DatabaseBusy) as exc:
        print(f"{prog}: 无法写入数据库 / cannot write to the database {_shown(url)}: "
              f"{str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    finally:
        database.dispose()
    print(f"电话号码密钥 {key.key_id} 已写入 {path}（仅本用户可读）/ phone key {key.key_id} written "
          f"to {path} (readable by you only)")
    print("每台工作站：把此文件复制到应用用户的 ~/.config/cityops/keys/ 下（或用 CITYOPS_KEY_FILE 指向），"
          "权限 600；备份恢复时需要同一把密钥 / on every workstation: copy this file to the app "
          f"user's config dir as keys/{key.key_id}.key (or point CITYOPS_KEY_FILE at it), mode "
          "600; keep a copy apart from the database backups: a restore needs the same key")
    return 0


def _backup_or_restore(url: str, args) -> int:
    """``cityops db backup|restore``. Exit codes: 0 done, 1 refused or failed (why is printed:
    a damaged file, a target that is not empty, …), 2 no database to back up."""
    from pathlib import Path

    from sqlalchemy.exc import SQLAlchemyError

    from db.admin import backup

    prog = f"cityops db {args.db_command}"
    try:
        if args.db_command == "backup":
            missing = _missing_sqlite_file(url)
            if missing:
                print(f"{prog}: 数据库文件不存在 / no database file at {missing}", file=sys.stderr)
                return 2
            info = backup.backup(url, Path(args.out))
            if args.json:
                print(json.dumps(info.__dict__, ensure_ascii=False, indent=2))
            else:
                print(f"备份完成 / backed up to {args.out}: {info.engine}, schema {info.revision}, "
                      f"{info.payload_bytes:,} bytes, {info.created_at}")
                if info.phone_key_id:
                    print(f"恢复时需要电话号码密钥 {info.phone_key_id}（不要与备份放在一起）/ a restore "
                          f"needs phone key {info.phone_key_id}: keep it apart from the backups")
            return 0
        result = backup.restore(url, Path(args.source), force=args.force)
    except backup.BackupRefused as exc:
        print(f"{prog}: {exc.message} ({exc.code})", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"{prog}: 无法连接数据库 / cannot reach the database {_shown(url)}: "
              f"{str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    info = result.info
    print(f"恢复完成 / restored {args.source} ({info.engine}, schema {info.revision}, made "
          f"{info.created_at}) into {result.target}")
    for note in result.notes:
        print(note)
    if result.behind_head:
        print(f"备份的结构版本 {info.revision} 旧于本程序的 {result.head}：请运行 cityops db migrate / "
              "the backup's schema is older than this version's: run `cityops db migrate`")
    return 0


def _shown(url: str) -> str:
    """The URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy understands: it will say so itself
        return url


def _as_role(url: str, role: str) -> str:
    """The same database as ``role`` (its password from PGPASSFILE, never in the URL)."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(username=role, password=None).render_as_string(hide_password=False)


def _jobs(url: str, args) -> int:
    """``cityops jobs list|run``. Exit codes: 0 done, 1 the job failed, 2 unknown job or a
    database not ready, 3 the job is running on another workstation right now, or the database
    stayed busy (SQLite's write lock) past its timeout: not run, try again."""
    from db.core import jobs
    from db.core.errors import DatabaseBusy

    prog = f"cityops jobs {args.jobs_command}"
    database = _open_at_head(url, prog)  # a look at the jobs never changes the schema
    if database is None:
        return 2
    try:
        if args.jobs_command == "list":
            return _jobs_list(database, args)
        try:
            run = jobs.run(database, args.name)
        except jobs.UnknownJob as exc:
            print(f"{prog}: {exc.message} / unknown job", file=sys.stderr)
            return 2
        except DatabaseBusy as exc:
            print(f"{prog}: {exc.message} / the database stayed busy (locked by another "
                  "writer): not run, try again", file=sys.stderr)
            return 3
        if args.json:
            print(json.dumps(_run_json(run), ensure_ascii=False, indent=2))
        if run.outcome == jobs.BUSY:
            print(f"{prog}: 任务 {run.name} 正在另一工作站运行，本次未运行 / the job is running on "
                  "another workstation; not run here", file=sys.stderr)
            return 3
        if run.outcome == jobs.FAILED:
            print(f"{prog}: 任务 {run.name} 运行失败 / the job failed: "
                  f"{run.error.splitlines()[0]} (详情 / details: cityops jobs list)",
                  file=sys.stderr)
            return 1
        if not args.json:
            seconds = (run.finished_at - run.started_at).total_seconds()
            print(f"任务 {run.name} 完成 / done in {seconds:.1f} s: {run.result}")
        return 0
    finally:
        database.dispose()


def _open_at_head(url: str, prog: str):
    """The database at ``url``, opened without migrating, when it exists, answers and is at
    the newest schema; else ``None``, having said why on standard error (exit code 2)."""
    from sqlalchemy.exc import SQLAlchemyError

    from db.core.engine import open_database
    from db.core.migrate import is_at_head

    missing = _missing_sqlite_file(url)
    if missing:
        print(f"{prog}: 数据库文件不存在 / no database file at {missing}; "
              "create it with `cityops db migrate`", file=sys.stderr)
        return None
    database = open_database(url, migrate=False)
    try:
        ready = is_at_head(database.engine)
    except SQLAlchemyError as exc:
        print(f"{prog}: 无法连接数据库 / cannot reach the database {_shown(url)}: "
              f"{str(exc).splitlines()[0]}", file=sys.stderr)
        database.dispose()
        return None
    if not ready:
        owner = " --owner-url URL" if database.is_postgres else ""
        print(f"{prog}: 数据库结构不是最新版本，请先运行 cityops db migrate{owner} / the schema "
              f"is not up to date: run `cityops db migrate{owner}` first ({_shown(url)})",
              file=sys.stderr)
        database.dispose()
        return None
    return database


def _missing_sqlite_file(url: str) -> str | None:
    """The path of a SQLite file URL whose file does not exist (opening it would create it)."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:
        return None
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or not path or path == ":memory:" \
            or path.startswith("file:"):
        return None
    return None if Path(path).exists() else path


def _jobs_list(database, args) -> int:
    from db.core import jobs

    rows = jobs.status(database)
    if args.json:
        print(json.dumps({"jobs": [r.as_json() for r in rows]}, ensure_ascii=False, indent=2))
        return 0
    from db.worktime.clock import SHANGHAI

    def when(t) -> str:
        return t.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if t else "-"

    table = [("name", "schedule", "last run (北京时间)", "outcome", "runs", "error")]
    for r in rows:
        outcome = "running" if r.running else (r.outcome or "never run")
        error = r.error.splitlines()[0] if r.error else "-"
        table.append((r.name, r.schedule or "(not registered)", when(r.last_started_at),
                      outcome, str(r.run_count), error))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]) - 1)]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1])
    return 0


def _run_json(run) -> dict:
    iso = lambda t: t.isoformat() if t else None  # noqa: E731
    return {"name": run.name, "outcome": run.outcome, "started_at": iso(run.started_at),
            "finished_at": iso(run.finished_at), "error": run.error,
            "result": None if run.result is None else str(run.result)}


def _simulate(url: str, args) -> int:
    """Run until --duration, Ctrl+C or SIGTERM; each write is its own transaction, so stopping
    at any moment leaves every case valid. A database that goes away during the run is waited
    for (db.demo.simulate); one that is not there at the start ends it with exit code 3 (the
    demo window's supervisor starts it again later)."""
    import signal
    import threading

    from db.admin.roles import refuse_privileged_workstation
    from db.core.engine import open_database
    from db.core.errors import PrivilegedConnection, SchemaNotCurrent, unavailable_or
    from db.core.migrate import upgrade_to_head
    from db.demo.simulate import NotADemoDatabase, simulate

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # Its outages and reconnections are news whatever -v says: one line each, on stderr.
    logging.getLogger("db.demo.simulate").setLevel(logging.INFO)
    database = open_database(url, migrate=False)
    try:
        refuse_privileged_workstation(database)  # a demo database may use any connection
        upgrade_to_head(database.engine)
    except (PrivilegedConnection, SchemaNotCurrent) as exc:
        database.dispose()
        print(f"cityops simulate: {exc.message}", file=sys.stderr)
        return 2
    except Exception as exc:
        database.dispose()
        mapped = unavailable_or(exc)
        reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
        if mapped is exc:
            from sqlalchemy.exc import DBAPIError

            if not isinstance(exc, DBAPIError):
                raise
            # The server answered and said no (a wrong or missing password): waiting won't help.
            print(f"cityops simulate: 数据库拒绝了连接：{reason}", file=sys.stderr)
            return 2
        print(f"cityops simulate: {mapped.message}: {reason}", file=sys.stderr)
        return 3
    try:
        stats = simulate(database, scenario=args.scenario, seed=args.seed, rate=args.rate,
                         duration=args.duration, stop=stop)
    except NotADemoDatabase as exc:
        print(f"cityops simulate: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("simulator stopped", file=sys.stderr)
        return 130
    finally:
        database.dispose()
    rate = stats.events / stats.seconds if stats.seconds else 0.0
    print(f"simulated {stats.seconds:.1f} s: {stats.events:,} events ({rate:,.0f}/s), "
          f"{stats.cases_reported:,} cases reported, {stats.steps:,} steps, "
          f"{stats.positions:,} position fixes, {stats.readings:,} readings, "
          f"{stats.alerts:,} alerts, {stats.conflicts:,} conflicts with people")
    return 0


def _demo(url: str, args) -> int:
    from sqlalchemy import func, select

    from db.core.engine import open_database
    from db.demo.build import DemoNeedsOwner, DemoRefused, build_demo
    from db.models import Case

    database = open_database(url)
    try:
        if args.if_missing:
            with database.read() as session:
                if session.scalar(select(func.count()).select_from(Case)):
                    print(f"demo data already present: {_shown(url)}")
                    return 0
        start = time.perf_counter()
        try:
            stats = build_demo(database, cases=args.cases, seed=args.seed, days=args.days,
                               force=args.force, progress=lambda msg: print(msg, flush=True))
        except DemoNeedsOwner as exc:  # PostgreSQL's application role: say whose URL to use
            print(f"cityops demo: {exc.message}", file=sys.stderr)
            if exc.params["owner"]:
                print(f"  cityops demo --db {_as_role(url, exc.params['owner'])}", file=sys.stderr)
            return 2
        except DemoRefused as exc:
            print(f"cityops demo: {exc}", file=sys.stderr)
            return 2
        print(f"demo built in {time.perf_counter() - start:.1f} s: {stats.cases} cases, "
              f"{stats.history_rows} history rows, {stats.staff} staff, {stats.grids} grids, "
              f"{stats.cameras} cameras, {stats.sensors} sensors → {_shown(url)}")
        return 0
    finally:
        database.dispose()


if __name__ == "__main__":
    sys.exit(main())
