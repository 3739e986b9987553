"""``db.backup``: the nightly backup, a job of the job runner (:mod:`db.core.jobs`).

Once every 24 hours whichever workstation gets the job's lock first writes a backup file
(:func:`db.admin.backup.backup`: SQLite's online backup API, PostgreSQL's ``pg_dump``) into the
backup folder and keeps the ``$CITYOPS_BACKUP_KEEP`` newest files of this database there
(default 7), deleting older ones.

The folder is ``$CITYOPS_BACKUP_DIR``: a setting of the machine, not of the city, since it names
a disk of the machine that runs the job. Only a process that has it registers the job, so only
the machines a city chose take part (on PostgreSQL: one or two workstations with a network share,
beside the server's continuous archiving, README), and a workstation without it never claims the
night's run and leaves it undone; nor does a test or a benchmark write backups into a home
directory.

A file is named ``<database>-<UTC time>.cityops-backup``; the time sorts as text, so "newest"
is the name's order, not a file system's modification time.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

from sqlalchemy.engine import make_url

from db.admin import backup
from db.core.engine import Database
from db.core.jobs import REGISTRY, Registry

DIR_ENV = "CITYOPS_BACKUP_DIR"
KEEP_ENV = "CITYOPS_BACKUP_KEEP"
KEEP_DEFAULT = 7
EVERY = dt.timedelta(hours=24)
_STAMP = "%Y%m%dT%H%M%S"


def backup_dir() -> Path | None:
    folder = os.environ.get(DIR_ENV, "").strip()
    return Path(folder).expanduser() if folder else None


def keep_count() -> int:
    try:
        return max(1, int(os.environ.get(KEEP_ENV, KEEP_DEFAULT)))
    except ValueError:
        return KEEP_DEFAULT


def _stem(database: Database) -> str:
    url = make_url(database.url)
    name = Path(url.database).stem if database.is_sqlite else url.database
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name or "cityops")


def file_name(database: Database, now: dt.datetime) -> str:
    at = now.astimezone(dt.UTC)
    return f"{_stem(database)}-{at.strftime(_STAMP)}.{at.microsecond // 1000:03d}Z{backup.SUFFIX}"


def backups_of(database: Database, folder: Path) -> list[Path]:
    """This database's backup files in ``folder``, oldest first."""
    pattern = re.compile(re.escape(_stem(database)) + r"-\d{8}T\d{6}\.\d{3}Z"
                         + re.escape(backup.SUFFIX) + "$")
    return sorted(p for p in folder.glob(f"*{backup.SUFFIX}") if pattern.match(p.name))


def register_backup(reg: Registry, folder: Path, keep: int = KEEP_DEFAULT,
                    every: dt.timedelta = EVERY) -> None:
    """``db.backup`` into ``folder``, keeping the ``keep`` newest files."""
    def nightly_backup(database: Database, now: dt.datetime) -> str:
        out = folder / file_name(database, now)
        info = backup.backup(database.url, out)
        removed = 0
        for old in backups_of(database, folder)[:-keep]:
            old.unlink(missing_ok=True)
            removed += 1
        return f"{out} ({info.payload_bytes:,} bytes, schema {info.revision}); {removed} older removed"

    reg.register("db.backup", every, nightly_backup, replace=True,
                 description=f"back the database up into {folder}, keep the {keep} newest")


if (_folder := backup_dir()) is not None:
    register_backup(REGISTRY, _folder, keep_count())
