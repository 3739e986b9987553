"""Traffic for ``cityops bench``, written by a process of its own (another workstation, the
field): ``python -m db.bench.traffic MODE --db URL …``. Each line it prints says what it has
just committed, with ``time.monotonic_ns()`` (one clock for every process of the machine), so
the process watching the screen can tell how long the change took to show.

Modes
-----
``report --count N --rate R``
    N new cases through :func:`db.cases.workflow.report_case` (the demo duty officer), R a second;
    after each commit: ``case <id> <ns>``.
``staff --hz F --seconds S``
    Every member of staff moves a few metres F times a second for S seconds; each tick is one
    transaction (``staff_position`` + the change feed), then ``tick <n> <ns> <count>``.
``shift --hours H --step S --rate X``
    A compressed shift: :func:`db.demo.simulate.simulate` with a clock that moves S simulated
    seconds per tick, back to back, until H simulated hours have passed; after each tick
    ``sim <simulated seconds> <events> <ns>``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time

from sqlalchemy import bindparam, select, update

from db.core.engine import Database, open_database
from db.core.entities import Entity
from db.geo.distance import offset

CENTRE = (23.02, 113.75)


def say(*parts) -> None:
    print(*parts, flush=True)


def report_cases(database: Database, count: int, rate: float, seed: int = 6) -> None:
    from db.auth.accounts import DEMO_DUTY_OFFICER
    from db.cases.workflow import report_case
    from db.models import Town, UserAccount

    rng = random.Random(seed)
    with database.read() as s:
        actor = s.scalar(select(UserAccount.id).where(UserAccount.username == DEMO_DUTY_OFFICER))
        towns = s.execute(select(Town.lat, Town.lon).where(Town.lat.is_not(None))
                          .order_by(Town.id)).all()
    if actor is None:
        raise SystemExit("bench_traffic report: not a demo database (no demo duty officer)")
    period = 1.0 / rate
    start = time.monotonic()
    for i in range(count):
        _sleep_until(start + i * period)
        lat, lon = rng.choice(towns)
        result = report_case(database, actor, source="hotline_12345",
                             lat=lat + rng.uniform(-0.004, 0.004),
                             lon=lon + rng.uniform(-0.004, 0.004),
                             description=f"基准测试：市民来电反映路面垃圾 {i}")
        say("case", result.case_id, time.monotonic_ns())


def _sleep_until(due: float) -> None:
    """Keep a fixed pace: wait for ``due`` (a ``time.monotonic`` value) unless already late."""
    wait = due - time.monotonic()
    if wait > 0:
        time.sleep(wait)


def move_staff(database: Database, hz: float, seconds: float, seed: int = 7) -> None:
    from db.core import feed
    from db.models import StaffPosition

    rng = random.Random(seed)
    with database.read() as s:
        where = {sid: [lat, lon] for sid, lat, lon in s.execute(
            select(StaffPosition.staff_id, StaffPosition.lat, StaffPosition.lon)
            .order_by(StaffPosition.staff_id))}
    table = StaffPosition.__table__
    stmt = (update(table).where(table.c.staff_id == bindparam("sid"))
            .values(lat=bindparam("lat"), lon=bindparam("lon"), at=bindparam("at")))
    period = 1.0 / hz
    ticks = max(1, round(seconds * hz))
    start = time.monotonic()
    for n in range(ticks):
        _sleep_until(start + n * period)
        now = dt.datetime.now(dt.UTC)
        rows = []
        for sid, pos in where.items():
            heading, metres = rng.uniform(0, 360.0), rng.uniform(5, 30)
            pos[0], pos[1] = offset(pos[0], pos[1], metres / 1000, heading)
            rows.append({"sid": sid, "lat": pos[0], "lon": pos[1], "at": now})
        with database.write() as session:
            session.connection().execute(stmt, rows)
            feed.publish(session, Entity.STAFF_POSITION, list(where))
        say("tick", n, time.monotonic_ns(), len(rows))


def shift(database: Database, hours: float, step: float, rate: float, seed: int = 1,
          scenario: str = "typhoon") -> None:
    from db.demo.simulate import simulate

    origin = dt.datetime.now(dt.UTC)
    ticks = [0]
    events = [0]

    def clock() -> dt.datetime:
        if ticks[0]:
            say("sim", round(ticks[0] * step), events[0], time.monotonic_ns())
        ticks[0] += 1
        return origin + dt.timedelta(seconds=ticks[0] * step)

    def on_event(kind: str, count: int) -> None:
        if kind != "conflicts":
            events[0] += count

    simulate(database, scenario=scenario, seed=seed, rate=rate, duration=hours * 3600,
             clock=clock, on_event=on_event)
    say("done", round(ticks[0] * step), events[0], time.monotonic_ns())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m db.bench.traffic")
    parser.add_argument("mode", choices=["report", "staff", "shift"])
    parser.add_argument("--db", required=True)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--hz", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--step", type=float, default=60.0)
    parser.add_argument("--scenario", default="typhoon")
    args = parser.parse_args(argv)
    database = open_database(args.db, migrate=False)
    try:
        if args.mode == "report":
            report_cases(database, args.count, args.rate)
        elif args.mode == "staff":
            move_staff(database, args.hz, args.seconds)
        else:
            shift(database, args.hours, args.step, args.rate, scenario=args.scenario)
    except KeyboardInterrupt:
        return 130
    finally:
        database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
