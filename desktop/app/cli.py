"""The ``cityops`` command.

``cityops`` opens the command-center window; ``cityops demo`` builds demo data; ``cityops
migrate`` upgrades a database; ``cityops bench`` measures. Qt is imported only for the window, so
the data commands run on machines without a display or without PySide6.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time

from db.core.config import ENV_VAR, resolve_url


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="URL",
                        help=f"SQLAlchemy database URL (default: ${ENV_VAR}, else a SQLite file "
                             "in the user data directory)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cityops", description="CityOps 智慧城管指挥中心")
    _add_db(parser)
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
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command")

    demo = sub.add_parser("demo", help="build deterministic Dongguan demo data")
    _add_db(demo)
    demo.add_argument("--cases", type=int, default=100_000)
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--days", type=int, default=90)
    demo.add_argument("--force", action="store_true", help="overwrite a database that holds real work")
    demo.add_argument("--if-missing", action="store_true", help="do nothing when the database already has cases")

    sim = sub.add_parser("simulate", help="drive the database like a living city (demo data only)")
    _add_db(sim)
    sim.add_argument("--scenario", choices=["normal", "typhoon", "gas-leak"], default="normal")
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--rate", type=float, default=1.0, help="multiplies every kind of traffic")
    sim.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this long")

    mig = sub.add_parser("migrate", help="upgrade the database schema to the newest version")
    _add_db(mig)

    bench = sub.add_parser("bench", help="measure what the control room feels, each figure "
                           "beside a baseline measured in the same run (see README)")
    _add_db(bench)
    bench.add_argument("--quick", action="store_true", help="small sizes, under two minutes")
    bench.add_argument("--json", metavar="FILE", help="write every figure as JSON")
    bench.add_argument("--only", metavar="SECTIONS", help="comma-separated: workflow, screen, "
                       "queue, map, startup, shift, ingest (default: all)")
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
    url = resolve_url(args.db)
    if args.command == "demo":
        return _demo(url, args)
    if args.command == "simulate":
        return _simulate(url, args)
    if args.command == "migrate":
        from db.core.engine import open_database
        from db.reference.city import ensure_reference_data

        database = open_database(url)
        ensure_reference_data(database, on_admin_created=lambda pw: print(
            f"administrator account created: admin, one-time password {pw} (shown once)"))
        database.dispose()
        print(f"schema up to date: {url}")
        return 0
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


def _simulate(url: str, args) -> int:
    """Run until --duration, Ctrl+C or SIGTERM; each write is its own transaction, so stopping
    at any moment leaves every case valid."""
    import signal
    import threading

    from db.core.engine import open_database
    from db.demo.simulate import NotADemoDatabase, simulate

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    database = open_database(url)
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

    from db.demo.build import DemoRefused, build_demo
    from db.core.engine import open_database
    from db.models import Case

    database = open_database(url)
    try:
        if args.if_missing:
            with database.read() as session:
                if session.scalar(select(func.count()).select_from(Case)):
                    print(f"demo data already present: {url}")
                    return 0
        start = time.perf_counter()
        try:
            stats = build_demo(database, cases=args.cases, seed=args.seed, days=args.days,
                               force=args.force, progress=lambda msg: print(msg, flush=True))
        except DemoRefused as exc:
            print(f"cityops demo: {exc}", file=sys.stderr)
            return 2
        print(f"demo built in {time.perf_counter() - start:.1f} s: {stats.cases} cases, "
              f"{stats.history_rows} history rows, {stats.staff} staff, {stats.grids} grids, "
              f"{stats.cameras} cameras, {stats.sensors} sensors → {url}")
        return 0
    finally:
        database.dispose()


if __name__ == "__main__":
    sys.exit(main())
