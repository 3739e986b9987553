"""The ``sqlite`` section of ``cityops bench``: what ``synchronous=FULL`` costs a workstation.

SQLite in WAL mode with ``synchronous=NORMAL`` syncs the WAL only at checkpoints: a commit
that returned may be lost by a power cut. ``FULL`` (:data:`db.core.engine.SQLITE_SYNCHRONOUS`)
syncs the WAL at every commit, so a step reported done is on disk. Two scratch SQLite files in
one folder, one opened as shipped (FULL), one switched to NORMAL; the same closed loop as the
``workflow`` and ``trust`` sections (:class:`db.bench.trust._Loop`, full steps through
:mod:`db.cases.workflow`) runs on both in alternating rounds, so a load that comes and goes
falls on both alike. Figure: closed-loop steps per second with FULL, baseline NORMAL.

The folder is the one of the SQLite file ``--db`` names, else the default database's: a commit's
sync costs what that disk costs (a RAM disk such as a tmpfs ``/tmp`` would show nothing).
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url

from db.bench.trust import _Loop
from db.bench.workflow import LOOP
from db.core.config import default_sqlite_path
from db.core.engine import SQLITE_SYNCHRONOUS, Database, open_database

MODES = ("FULL", "NORMAL")


def bench_folder(url: str) -> Path:
    """Where the scratch files go: beside the SQLite database named, else the default one's."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database \
            and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
        return Path(parsed.database).resolve().parent
    return default_sqlite_path().parent


def open_with_synchronous(path: Path, mode: str) -> Database:
    """A SQLite database as the app opens it, but with ``PRAGMA synchronous = mode`` on every
    connection (a listener after the engine's own, so it wins)."""
    database = open_database(f"sqlite:///{path}")
    if mode != SQLITE_SYNCHRONOUS:
        event.listen(database.engine, "connect",
                     lambda conn, _record: conn.execute(f"PRAGMA synchronous = {mode}"))
        database.engine.dispose()  # the pooled connections were made before the listener
    return database


def synchronous_of(database: Database) -> str:
    with database.engine.connect() as conn:
        value = conn.exec_driver_sql("PRAGMA synchronous").scalar()
    return {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(value, str(value))


def measure(url: str, cases: int, rounds: int = 4,
            progress: Callable[[str], None] | None = None) -> dict:
    """Run ``cases`` cases through the loop on each mode, in ``rounds`` alternating rounds."""
    folder = bench_folder(url)
    folder.mkdir(parents=True, exist_ok=True)
    per_round = max(1, cases // rounds)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".cityops-bench-sqlite-") as tmp:
        databases = {mode: open_with_synchronous(Path(tmp) / f"{mode.lower()}.sqlite3", mode)
                     for mode in MODES}
        try:
            seen = {mode: synchronous_of(d) for mode, d in databases.items()}
            assert seen == {m: m for m in MODES}, seen
            loops = {mode: _Loop(d) for mode, d in databases.items()}
            for i in range(rounds):
                order = MODES if i % 2 == 0 else MODES[::-1]
                for mode in order:
                    loops[mode].run(per_round)
                if progress:
                    progress(f"round {i + 1}/{rounds}: " + ", ".join(
                        f"{m} {loops[m].per_s:.0f}/s" for m in MODES))
            fs = _filesystem(Path(tmp))
        finally:
            for database in databases.values():
                database.dispose()
    rates = {mode: round(loop.per_s, 1) for mode, loop in loops.items()}
    return {
        "folder": str(folder),
        "filesystem": fs,
        "cases_per_mode": per_round * rounds,
        "steps_per_mode": per_round * rounds * len(LOOP),
        "rounds": rounds,
        "rounds_steps_per_s": {mode: loop.rounds for mode, loop in loops.items()},
        "steps_per_s": rates,
        "full_cost_percent": round(100 * (1 - rates["FULL"] / rates["NORMAL"]), 1)
        if rates["NORMAL"] else None,
    }


def _filesystem(path: Path) -> str | None:
    """The file system type of ``path`` (Linux), for the report: tmpfs would make the figure
    meaningless."""
    try:
        best, kind = "", None
        with open("/proc/mounts", encoding="utf-8") as mounts:
            for line in mounts:
                fields = line.split()
                if len(fields) > 2 and str(path).startswith(fields[1]) and len(fields[1]) > len(best):
                    best, kind = fields[1], fields[2]
        return kind
    except OSError:  # not Linux
        return None


__all__ = ["MODES", "bench_folder", "measure", "open_with_synchronous", "synchronous_of"]
