"""The benchmark's city: a demo Dongguan grown to a million cases in seconds, cached safely.

:func:`build_city` runs the demo generator (:func:`db.demo.build_demo`) for a base of cases with
their full history, then grows the case table with plain ``INSERT … SELECT`` statements that
copy the base cases under new ids and numbers (``B<round>-<number>``), nudged a few metres so
copies do not sit exactly on their originals. Copies of open cases are made until the wanted
number of open cases is reached, copies of finished ones for the rest. No workflow runs and no
Python object is made per case, so a million cases take about a minute on either engine. Each
copy gets one history row, its original's last (the database wants the row of a case's version
at commit, migration 0006); the earlier rows are not copied: nothing the benchmark measures
reads them.

Caching (:func:`bench_city`): a built city is kept and only ever *copied*; the benchmark works
on the copy and the cached original is never opened for writing.

* SQLite: the file ``<user cache dir>/cityops/bench/city-<cases>-<open>-<key>.sqlite3`` (built
  under a temporary name, then renamed into place, so a half-built file is never used); each
  run copies it to a scratch file.
* PostgreSQL: the database ``cityops_benchcache_<cases>_<open>_<key>`` on the same server (built
  under a temporary name and renamed when complete); each run clones it with ``CREATE DATABASE
  … TEMPLATE`` and drops the clone afterwards.

``<key>`` hashes the schema's Alembic head, the sources that shape the data (this module, the
demo generator, the models, the reference data) and the city's spec, so a change to any of them
builds a new city instead of reusing a stale one; the cache of the same size it replaces is
deleted then. A cache older than :data:`MAX_CACHE_AGE_DAYS` is rebuilt (the demo's deadlines
are relative to the day it was built). Delete the file or drop the database to reclaim the
space (~0.8 GB at a million cases); nothing else refers to it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from db.core.engine import Database, open_database
from db.models import AppSetting, Case, CaseHistory, StaffPosition

BENCH_CITY_VERSION = 1
MAX_CACHE_AGE_DAYS = 7
CACHE_DB_PREFIX = "cityops_benchcache_"
OPEN_STATE_VALUES = ("pending_accept", "pending_open", "pending_dispatch", "handling",
                     "extension_pending", "parked", "pending_check", "pending_close")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class CitySpec:
    """How big the benchmark's city is."""

    cases: int  # all cases
    open_cases: int  # of which open (on the map, in the default queue)
    demo_cases: int  # made by the demo generator with their history; the rest are copies
    seed: int = 1

    def label(self) -> str:
        return f"{self.cases:,} cases ({self.open_cases:,} open)"

    @property
    def size_tag(self) -> str:
        return f"{self.cases}-{self.open_cases}"


QUICK_CITY = CitySpec(cases=20_000, open_cases=2_000, demo_cases=4_000)
FULL_CITY = CitySpec(cases=1_000_000, open_cases=20_000, demo_cases=50_000)


# -- building ------------------------------------------------------------------------------

def build_city(database: Database, spec: CitySpec, progress: Progress | None = None) -> dict:
    """Fill an empty ``database`` with the city of ``spec``; return what it took."""
    from db.demo.build import build_demo

    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    build_demo(database, cases=spec.demo_cases, seed=spec.seed, days=90, force=True)
    t_demo = time.perf_counter() - t0
    say(f"  demo base of {spec.demo_cases:,} cases in {t_demo:.1f} s")
    t1 = time.perf_counter()
    grow_cases(database, spec.cases, spec.open_cases)
    _ensure_every_staff_has_a_position(database)
    _analyze(database)
    t_grow = time.perf_counter() - t1
    say(f"  grown to {spec.cases:,} cases in {t_grow:.1f} s")
    return {"demo_s": round(t_demo, 1), "grow_s": round(t_grow, 1)}


def grow_cases(database: Database, total: int, open_cases: int) -> None:
    """Copy existing cases until there are ``total``, ``open_cases`` of them open (at least as
    many as there already are). One ``INSERT … SELECT`` per round of copies."""
    table = Case.__table__
    columns = [c.name for c in table.columns]
    with database.write() as session:
        top = session.scalar(select(func.max(Case.id))) or 0
        have = session.scalar(select(func.count()).select_from(Case)) or 0
        have_open = session.scalar(select(func.count()).select_from(Case)
                                   .where(Case.state.in_(OPEN_STATE_VALUES))) or 0
        base_open = have_open
        base_done = have - have_open
        if not have:
            raise ValueError("grow_cases needs some cases to copy")
        want_open = max(0, open_cases - have_open)
        want_done = max(0, total - have - want_open)
        if want_open and not base_open or want_done and not base_done:
            raise ValueError("no open (or no finished) case to copy")
        span = top  # copy round r gets ids r * span + original id: never a clash
        round_no = 0
        is_pg = database.is_postgres
        quoted = ", ".join(f'"{c}"' for c in columns)
        kept = [c.name for c in CaseHistory.__table__.columns if c.name not in ("id", "case_id")]
        history_columns = ", ".join(["case_id", *kept])
        copied_history = ", ".join(f"h.{c}" for c in kept)
        for want, is_open in ((want_open, True), (want_done, False)):
            while want > 0:
                round_no += 1
                take = want
                select_list = []
                for c in columns:
                    if c == "id":
                        select_list.append(f"c.id + {round_no * span}")
                    elif c == "number":
                        prefix = f"B{round_no}-"
                        select_list.append(f"'{prefix}' || c.number")
                    elif c == "lat":
                        # a few tens of metres, different per copy, inside the city still
                        select_list.append(
                            f"c.lat + ((c.id * 7 + {round_no * 13}) % 41 - 20) * 0.00005")
                    elif c == "lon":
                        select_list.append(
                            f"c.lon + ((c.id * 11 + {round_no * 17}) % 41 - 20) * 0.00005")
                    else:
                        select_list.append(f'c."{c}"')
                states = ", ".join(f"'{s}'" for s in OPEN_STATE_VALUES)
                where = f"c.id <= {top} AND c.state {'IN' if is_open else 'NOT IN'} ({states})"
                session.execute(text(
                    f'INSERT INTO "case" ({quoted}) SELECT {", ".join(select_list)} '
                    f'FROM "case" c WHERE {where} ORDER BY c.id LIMIT {take}'))
                # Each copy gets the history row of its version (the database wants one at
                # commit, migration 0006): the original's last row, under the copy's id.
                session.execute(text(
                    f"INSERT INTO case_history ({history_columns}) "
                    f"SELECT h.case_id + {round_no * span}, {copied_history} "
                    f'FROM "case" c JOIN case_history h '
                    f"ON h.case_id = c.id AND h.version = c.version "
                    f"WHERE {where} ORDER BY c.id LIMIT {take}"))
                want -= min(take, base_open if is_open else base_done)
        if is_pg:
            session.execute(text(
                "SELECT setval(pg_get_serial_sequence('\"case\"', 'id'), "
                "(SELECT max(id) FROM \"case\"))"))


def _ensure_every_staff_has_a_position(database: Database) -> None:
    """Every member of staff on the map (the demo leaves a few without a fix)."""
    from db.models import Staff, Town

    with database.write() as session:
        have = set(session.scalars(select(StaffPosition.staff_id)))
        rows = session.execute(select(Staff.id, Town.lat, Town.lon)
                               .join(Town, Town.id == Staff.town_id)
                               .where(Staff.town_id.is_not(None)).order_by(Staff.id)).all()
        now = dt.datetime.now(dt.UTC)
        missing = [{"staff_id": sid, "lat": lat + (sid % 13 - 6) * 0.001,
                    "lon": lon + (sid % 17 - 8) * 0.001, "at": now}
                   for sid, lat, lon in rows if sid not in have and lat is not None]
        if missing:
            session.execute(StaffPosition.__table__.insert(), missing)


def _analyze(database: Database) -> None:
    with database.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()


def city_key(spec: CitySpec) -> str:
    """A short hash of everything that shapes the city (see the module docstring)."""
    from db.core.migrate import script_directory

    root = Path(__file__).resolve().parents[1]  # db/
    h = hashlib.sha256()
    h.update(repr((BENCH_CITY_VERSION, asdict(spec))).encode())
    h.update(",".join(sorted(script_directory().get_heads())).encode())
    for path in sorted([root / "bench" / "city.py", *(root / "demo").glob("*.py"),
                        root / "alerts" / "sensors.py",  # the demo's thresholds and alarms
                        root / "geo" / "distance.py",  # where the demo puts things
                        *(root / "reference").glob("*.py"), *(root / "models").glob("*.py")]):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


# -- the cache -----------------------------------------------------------------------------

def default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("cityops")) / "bench"


@contextmanager
def bench_city(url: str, spec: CitySpec, *, cache: bool = True, cache_dir: Path | None = None,
               progress: Progress | None = None) -> Iterator[Database]:
    """A scratch copy of the city of ``spec`` on the engine (and server) of ``url``, removed
    afterwards. ``url`` itself is never opened: the copy lives beside it."""
    say = progress or (lambda _m: None)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        with _sqlite_city(spec, cache, cache_dir, say) as database:
            yield database
    else:
        with _pg_city(url, spec, cache, say) as database:
            yield database


@contextmanager
def _sqlite_city(spec: CitySpec, cache: bool, cache_dir: Path | None,
                 say: Progress) -> Iterator[Database]:
    with tempfile.TemporaryDirectory(prefix="cityops-bench-") as tmp:
        scratch = Path(tmp) / "city.sqlite3"
        if cache:
            folder = cache_dir or default_cache_dir()
            folder.mkdir(parents=True, exist_ok=True)
            cached = folder / f"city-{spec.size_tag}-{city_key(spec)}.sqlite3"
            if not _fresh(cached.stat().st_mtime if cached.exists() else None):
                say(f"building the benchmark city ({spec.label()}) for the cache: {cached}")
                building = folder / f".building-{uuid.uuid4().hex[:8]}.sqlite3"
                try:
                    database = open_database(f"sqlite:///{building}")
                    build_city(database, spec, say)
                    with database.engine.connect() as conn:  # one self-contained file
                        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                    database.dispose()
                    os.replace(building, cached)
                    for stale in folder.glob(f"city-{spec.size_tag}-*.sqlite3"):
                        if stale != cached:  # the same city from older sources
                            stale.unlink(missing_ok=True)
                finally:
                    for leftover in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
                        leftover.unlink(missing_ok=True)
            else:
                say(f"benchmark city ({spec.label()}) from the cache: {cached}")
            shutil.copyfile(cached, scratch)
            database = open_database(f"sqlite:///{scratch}")
        else:
            say(f"building the benchmark city ({spec.label()}), no cache")
            database = open_database(f"sqlite:///{scratch}")
            build_city(database, spec, say)
        try:
            yield database
        finally:
            database.dispose()


@contextmanager
def _pg_city(url: str, spec: CitySpec, cache: bool, say: Progress) -> Iterator[Database]:
    parsed = make_url(url)
    admin = create_engine(parsed, isolation_level="AUTOCOMMIT")
    scratch = f"cityops_scratch_{uuid.uuid4().hex[:10]}"

    def url_of(name: str) -> str:
        return parsed.set(database=name).render_as_string(hide_password=False)

    try:
        if cache:
            prefix = f"{CACHE_DB_PREFIX}{spec.size_tag.replace('-', '_')}_"
            cached = f"{prefix}{city_key(spec)}"
            with admin.connect() as conn:
                built_at = _pg_cache_built_at(conn, url_of, cached)
            if not _fresh(built_at):
                say(f"building the benchmark city ({spec.label()}) for the cache: "
                    f"database {cached}")
                building = f"cityops_benchbuild_{uuid.uuid4().hex[:10]}"
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{building}"'))
                try:
                    database = open_database(url_of(building))
                    build_city(database, spec, say)
                    database.dispose()
                    with admin.connect() as conn:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{cached}" WITH (FORCE)'))
                        conn.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{cached}"'))
                        stale = conn.execute(text(
                            "SELECT datname FROM pg_database "
                            "WHERE datname LIKE :p AND datname <> :c"),
                            {"p": prefix.replace("_", r"\_") + "%", "c": cached}).scalars().all()
                        for name in stale:  # the same city from older sources
                            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                except BaseException:
                    with admin.connect() as conn:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)'))
                    raise
            else:
                say(f"benchmark city ({spec.label()}) from the cache: database {cached}")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{scratch}" TEMPLATE "{cached}"'))
            database = open_database(url_of(scratch))
        else:
            say(f"building the benchmark city ({spec.label()}), no cache")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{scratch}"'))
            database = open_database(url_of(scratch))
            build_city(database, spec, say)
        try:
            yield database
        finally:
            database.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()


def _pg_cache_built_at(conn, url_of, name: str) -> float | None:
    """When the cached database was built (its demo marker), or None if it is not there."""
    exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
    if not exists:
        return None
    engine = create_engine(url_of(name))
    try:
        with engine.connect() as c:
            row = c.execute(select(AppSetting.updated_at).where(AppSetting.key == "demo")).first()
    except Exception:  # unreadable: rebuild it
        return None
    finally:
        engine.dispose()
    return row[0].timestamp() if row else None


def _fresh(built_at: float | None) -> bool:
    return built_at is not None and time.time() - built_at < MAX_CACHE_AGE_DAYS * 86400


__all__ = ["CitySpec", "FULL_CITY", "QUICK_CITY", "bench_city", "build_city", "city_key",
           "grow_cases"]
