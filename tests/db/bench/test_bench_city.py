"""The benchmark city: grown to size in SQL, cached (a SQLite file, a PostgreSQL template) and
only ever copied, never written into."""
from __future__ import annotations

from sqlalchemy import func, select, update

from db.bench.city import CitySpec, bench_city, city_key, grow_cases
from db.cases import queries
from db.cases.workflow import State
from db.core.engine import open_database
from db.models import Case
from tests.helpers import case_in_state, report


def test_grow_cases_copies_to_the_wanted_size_in_sql(env):
    report(env)  # one finished and one open case to copy
    case_in_state(env, State.CLOSED)
    # Building the benchmark city moves the id sequences (setval): the owner's work.
    builder = open_database(env.owner_url, migrate=False) if env.owner_url else env.database
    try:
        grow_cases(builder, total=57, open_cases=13)
    finally:
        if builder is not env.database:
            builder.dispose()
    with env.database.read() as s:
        total = s.scalar(select(func.count()).select_from(Case))
        open_ = s.scalar(select(func.count()).select_from(Case)
                         .where(Case.state.in_([st.value for st in queries.OPEN_STATES])))
        numbers = s.scalar(select(func.count(func.distinct(Case.number))))
    assert (total, open_, numbers) == (57, 13, 57)
    fresh = report(env)  # the id sequence continues after the copies
    with env.database.read() as s:
        assert fresh.case_id == s.scalar(select(func.max(Case.id)))


def test_the_benchmark_city_is_cached_and_only_ever_copied(tmp_path):
    spec = CitySpec(cases=900, open_cases=150, demo_cases=300)
    url = f"sqlite:///{tmp_path / 'pointed-at.sqlite3'}"
    (tmp_path / "cache").mkdir()
    older = tmp_path / "cache" / "city-900-150-0123456789ab.sqlite3"  # from older sources
    other = tmp_path / "cache" / "city-20000-2000-0123456789ab.sqlite3"  # another size
    older.write_bytes(b"")
    other.write_bytes(b"")
    with bench_city(url, spec, cache_dir=tmp_path / "cache") as city:
        with city.read() as s:
            assert s.scalar(select(func.count()).select_from(Case)) == 900
        with city.write() as s:  # the benchmark writes into its copy… (cases with a history
            # cannot be deleted: migration 0006)
            s.execute(update(Case).where(Case.number.like("B%")).values(address="改写"))
    cached = tmp_path / "cache" / f"city-{spec.size_tag}-{city_key(spec)}.sqlite3"
    stamp = cached.stat().st_mtime_ns
    with bench_city(url, spec, cache_dir=tmp_path / "cache") as city:
        with city.read() as s:  # …never into the cache: the next copy is whole again
            assert s.scalar(select(func.count()).select_from(Case)) == 900
            assert s.scalar(select(func.count()).where(Case.number.like("B%"))) == 600
            assert s.scalar(select(func.count()).where(Case.address == "改写")) == 0
    assert cached.stat().st_mtime_ns == stamp
    assert not older.exists() and other.exists()  # replaced, not piled up
    assert not (tmp_path / "pointed-at.sqlite3").exists()  # the named database is never opened
    assert city_key(CitySpec(cases=901, open_cases=150, demo_cases=300)) != city_key(spec)


def test_the_postgres_city_is_a_template_cloned_for_each_run(pg_env):
    from sqlalchemy import create_engine, text

    from db.bench.city import CACHE_DB_PREFIX
    from tests.conftest import PG_ADMIN_URL, pg_url

    spec = CitySpec(cases=700, open_cases=120, demo_cases=250)
    older = f"{CACHE_DB_PREFIX}700_120_0123456789ab"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def databases() -> set[str]:
        with admin.connect() as conn:
            return set(conn.execute(text("SELECT datname FROM pg_database")).scalars())

    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{older}"'))
    cached = f"{CACHE_DB_PREFIX}700_120_{city_key(spec)}"
    try:
        for _ in range(2):  # built once, then cloned from the cache
            # The benchmark makes databases on the server it is pointed at: a superuser's work.
            with bench_city(pg_url(pg_env.database.engine.url.database), spec) as city:
                assert city.url.rsplit("/", 1)[1].startswith("cityops_scratch_")
                with city.read() as s:
                    assert s.scalar(select(func.count()).select_from(Case)) == 700
                with city.write() as s:
                    s.execute(update(Case).where(Case.number.like("B%")).values(address="x"))
        names = databases()
        assert cached in names and older not in names
        assert not any(n.startswith("cityops_scratch_") and n == city.url.rsplit("/", 1)[1]
                       for n in names)  # the clone is dropped
    finally:
        with admin.connect() as conn:
            for name in (older, cached):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
