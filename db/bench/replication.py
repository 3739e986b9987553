"""Failover drills on local clusters: the ``replication`` section of ``cityops bench`` and the
failover test (tests/db/core/test_failover.py) run the same code.

A :class:`ClusterChain` is a primary and its streaming standby on 127.0.0.1, each made by
``scripts/pg-cluster.sh`` (``start``, ``standby``, ``sync``, ``stop --immediate``, ``promote``)
in a folder of its own; after a failover the promoted standby is the primary and the next
standby is made from it, so one ``initdb`` and one migration serve several drills.
:func:`prepare` sets the chain's database up as a control room's (roles, migration by the
owner, a small demo for the simulator); everything after that connects as the application
role through the multi-host URL (:func:`multi_host_url`), as a workstation would.

:func:`drill` is one failover under load: a writer (reports and closed-loop steps, each write
counted once it is acknowledged as done) and a :class:`~db.core.feed.ChangeFollower` run while
the primary is stopped at once (``pg_ctl stop -m immediate``: a crash, no checkpoint) and the
standby promoted. It reports how long the writer was without a database, how many acknowledged
writes the new primary lacks, and whether the follower's changes equal the new primary's
change log (none missed, none twice, none the new primary does not have).
"""
from __future__ import annotations

import glob
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, func, select, text, tuple_

from db.admin.roles import setup_roles
from db.auth.roles import Role
from db.bench.workflow import LOOP, _accounts
from db.cases import workflow as wf
from db.core.engine import Database, open_database
from db.core.feed import RELOAD, Change, ChangeFollower
from db.models import CaseClass, CaseHistory, ChangeLog, Department, UserAccount
from db.reference.city import ensure_reference_data

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "pg-cluster.sh"
HOST = "127.0.0.1"
SUPERUSER = "cityops_admin"  # the script's
OWNER = "cityops_fo_owner"
APP = "cityops_fo_app"
DATABASE = "cityops"
WHO = {wf.Step.ACCEPT: Role.DUTY_OFFICER, wf.Step.OPEN: Role.DUTY_OFFICER,
       wf.Step.DISPATCH: Role.DISPATCHER, wf.Step.FEEDBACK: Role.DEPARTMENT_HANDLER,
       wf.Step.VERIFY: Role.INSPECTOR, wf.Step.CLOSE: Role.SHIFT_LEADER}

#: On a demo database the writer acts as these demo accounts (db.demo.accounts).
DEMO_WRITERS = {Role.DUTY_OFFICER: "duty1", Role.DISPATCHER: "dispatch1",
                Role.DEPARTMENT_HANDLER: "dept_enforcement", Role.INSPECTOR: "inspector1",
                Role.SHIFT_LEADER: "shift1"}


def missing_binaries() -> str | None:
    """Why no drill can run here (no PostgreSQL server programs), else None."""
    found = [shutil.which("pg_basebackup"), *glob.glob("/usr/lib/postgresql/*/bin/pg_basebackup")]
    if not any(found):
        return "PostgreSQL's server programs (initdb, pg_basebackup) are not installed"
    return None


def multi_host_url(user: str, ports: Sequence[int], database: str = DATABASE, *,
                   passfile: Path | None = None) -> str:
    """``postgresql://user@/db?host=127.0.0.1:P1&host=127.0.0.1:P2&target_session_attrs=
    read-write``: libpq tries the hosts in turn and keeps the one that accepts writes. No
    password: libpq reads it from ``passfile`` (a path, named here so that a child process
    finds it too) or from PGPASSFILE."""
    query = [f"host={HOST}:{p}" for p in ports] + ["target_session_attrs=read-write"]
    if passfile is not None:
        query.append(f"passfile={passfile}")
    return f"postgresql://{user}@/{database}?" + "&".join(query)


class ClusterChain:
    """A primary and its standby, made by ``scripts/pg-cluster.sh`` under ``root`` (one
    folder per port), on ports taken in turn from ``ports``; :meth:`close` stops them all."""

    def __init__(self, root: Path, ports: Sequence[int], say: Callable[[str], None] | None = None):
        self.root = Path(root)
        self.free = list(ports)
        self.say = say or (lambda _m: None)
        self.primary: int | None = None
        self.standby: int | None = None
        self.made: list[int] = []
        #: libpq's password file for every cluster of the chain (they share their roles).
        self.pgpass = self.root / "pgpass"

    def folder(self, port: int) -> Path:
        return self.root / f"pg-{port}"

    def _script(self, *args: str) -> str:
        done = subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True,
                              timeout=180)
        if done.returncode != 0:
            raise RuntimeError(f"pg-cluster.sh {' '.join(args)}: {done.stderr.strip()[-2000:]}")
        return done.stdout

    def _take_port(self) -> int:
        if not self.free:
            raise RuntimeError("the cluster chain has no port left")
        port = self.free.pop(0)
        folder = self.folder(port)
        if folder.exists():  # a chain left behind by a killed run: stop it, start afresh
            self._script("stop", "--immediate", "--port", str(port), "--dir", str(folder))
            shutil.rmtree(folder)
        self.made.append(port)
        return port

    def start_primary(self) -> int:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)  # the postgres user (script run as root) must reach its folder
        port = self._take_port()
        self._script("start", "--port", str(port), "--dir", str(self.folder(port)))
        # The superuser's line for any port: standbys are copies with the same password.
        line = next(x for x in (self.folder(port) / "pgpass").read_text().splitlines()
                    if x.split(":")[3] == SUPERUSER)
        secret = line.split(":", 4)[4]
        self.pgpass.write_text(f"{HOST}:*:*:{SUPERUSER}:{secret}\n")
        self.pgpass.chmod(0o600)
        self.primary = port
        self.say(f"primary on {HOST}:{port}")
        return port

    def add_standby(self, *, sync: bool) -> int:
        """A streaming standby of the primary; ``sync``: the primary waits for it at COMMIT."""
        assert self.primary is not None and self.standby is None
        port = self._take_port()
        self._script("standby", "--primary-port", str(self.primary), "--primary-dir",
                     str(self.folder(self.primary)), "--port", str(port), "--dir",
                     str(self.folder(port)), *(["--sync"] if sync else []))
        self.standby = port
        self.say(f"standby on {HOST}:{port} ({'synchronous' if sync else 'asynchronous'})")
        return port

    def set_sync(self, on: bool) -> None:
        assert self.primary is not None
        self._script("sync", "on" if on else "off", "--port", str(self.primary), "--dir",
                     str(self.folder(self.primary)))

    def stop_primary(self) -> None:
        """The primary goes away at once (``-m immediate``: no checkpoint, clients cut off)."""
        assert self.primary is not None
        self._script("stop", "--immediate", "--port", str(self.primary), "--dir",
                     str(self.folder(self.primary)))

    def promote(self) -> None:
        """The manual failover: the standby becomes the primary."""
        assert self.standby is not None
        self._script("promote", "--port", str(self.standby), "--dir",
                     str(self.folder(self.standby)))
        self.primary, self.standby = self.standby, None

    def url(self, user: str = APP, database: str = DATABASE) -> str:
        """The multi-host URL over the primary and the standby."""
        ports = [p for p in (self.primary, self.standby) if p is not None]
        return multi_host_url(user, ports, database, passfile=self.pgpass)

    def primary_url(self, user: str = SUPERUSER, database: str = DATABASE) -> str:
        assert self.primary is not None
        return (f"postgresql+psycopg://{user}@{HOST}:{self.primary}/{database}"
                f"?passfile={self.pgpass}")

    def close(self) -> None:
        for port in self.made:
            try:
                self._script("stop", "--immediate", "--port", str(port), "--dir",
                             str(self.folder(port)))
            except Exception:  # noqa: BLE001 - stop what can be stopped
                pass
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Actors:
    """The writer's accounts and what its steps need, made once per chain."""

    users: dict[Role, int]
    city_id: int
    data: dict


def prepare(chain: ClusterChain, *, demo_cases: int = 0) -> Actors:
    """The chain's database set up as a control room's: roles (``setup_roles``, as ``cityops
    db setup-roles`` does), the schema migrated by the owner, a demo of ``demo_cases`` cases
    for the simulator (0: none) and the writer's accounts, made by the application role."""
    admin = create_engine(chain.primary_url(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    setup_roles(chain.primary_url(), owner=OWNER, app=APP, pgpass=chain.pgpass, pgpass_port="*")
    owner = open_database(chain.primary_url(OWNER))  # the owner migrates
    try:
        if demo_cases:
            from db.demo.build import build_demo

            build_demo(owner, cases=demo_cases, days=10)
    finally:
        owner.dispose()
    database = open_database(chain.primary_url(APP), migrate=False)
    try:
        city_id = ensure_reference_data(database)
        with database.read() as s:
            class_id = s.scalar(select(CaseClass.id).where(CaseClass.limit_unit == "work_hours")
                                .limit(1))
            if demo_cases:  # the demo's own accounts: another account would end the demo
                ids = dict(s.execute(select(UserAccount.username, UserAccount.id).where(
                    UserAccount.username.in_(list(DEMO_WRITERS.values())))).all())
                users = {role: ids[name] for role, name in DEMO_WRITERS.items()}
                dept = s.scalar(select(UserAccount.department_id).where(
                    UserAccount.id == users[Role.DEPARTMENT_HANDLER]))
            else:
                dept = s.scalar(select(func.min(Department.id)))
        if not demo_cases:
            users = _accounts(database)
            with database.write() as s:  # the handler acts on its own department's cases only
                s.get(UserAccount, users[Role.DEPARTMENT_HANDLER]).department_id = dept
    finally:
        database.dispose()
    data = {wf.Step.ACCEPT: {"class_id": class_id}, wf.Step.DISPATCH: {"department_id": dept},
            wf.Step.FEEDBACK: {"opinion": "已处置"}}
    return Actors(users, city_id, data)


class Writer(threading.Thread):
    """Reports cases and takes each round the closed loop, one transaction per write, as fast
    as the database lets it. A write counts (:attr:`acked`) only once its function returned:
    acknowledged as done. A write that raised (the database went away, before or after its
    COMMIT) is not counted and its case is left; the next write starts a new case."""

    def __init__(self, database: Database, actors: Actors) -> None:
        super().__init__(name="failover-writer", daemon=True)
        self.database = database
        self.actors = actors
        self.stop = threading.Event()
        self.acked: list[tuple[float, int, int]] = []  # (monotonic time, case id, version)
        self.errors = 0
        self.last_error: str | None = None

    def run(self) -> None:
        users, n, case, step_no = self.actors.users, 0, None, 0
        while not self.stop.is_set():
            try:
                if case is None:
                    n += 1
                    case = wf.report_case(self.database, users[Role.DUTY_OFFICER],
                                          source="hotline_12345", lat=23.02 + (n % 50) * 1e-4,
                                          lon=113.75, city_id=self.actors.city_id,
                                          description=f"切换演练 {n}")
                    step_no = 0
                else:
                    step = LOOP[step_no]
                    case = wf.STEP_FUNCTIONS[step](self.database, users[WHO[step]], case.case_id,
                                                   case.version, **self.actors.data.get(step, {}))
                    step_no += 1
                self.acked.append((time.monotonic(), case.case_id, case.version))
                if step_no == len(LOOP):
                    case = None
            except Exception as exc:  # noqa: BLE001 - any failure: not acknowledged
                self.errors += 1
                self.last_error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
                case = None
                self.stop.wait(0.02)

    def first_after(self, moment: float) -> float | None:
        return next((t for t, *_ in self.acked if t > moment), None)

    def halt(self) -> None:
        self.stop.set()
        self.join(30)


class Follower(threading.Thread):
    """A :class:`ChangeFollower` in a thread of its own, keeping every change it returns."""

    def __init__(self, database: Database, since: int) -> None:
        super().__init__(name="failover-follower", daemon=True)
        self.follower = ChangeFollower(database, since=since)
        self.seen: list[Change] = []
        self.was_down = False
        self.reconnected = False  # lost the database, then had it again
        self.back_at: float | None = None  # when it had it again (monotonic)
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.seen.extend(self.follower.wait(0.3))
            if not self.follower.connected:
                self.was_down = True
            elif self.was_down and not self.reconnected:
                self.reconnected, self.back_at = True, time.monotonic()
        self.follower.close()

    def halt(self) -> None:
        self.stop.set()
        self.join(30)


@dataclass
class DrillResult:
    synchronous: bool
    acked: int  # writes acknowledged as done, before and after the failover
    acked_before: int  # of them, before the primary went away
    lost: int  # acknowledged, but not on the new primary
    seconds_to_first_write: float | None  # primary down → first write acknowledged again
    follower_back_s: float | None  # primary down → the follower connected to the new primary
    promote_seconds: float  # pg_ctl promote, until the standby accepted writes
    writes_per_s_before: float
    write_ms_before: float | None  # median time between two writes before the failure
    changes_seen: int
    missed: int  # in the new primary's change log, never returned by the follower
    doubled: int  # returned twice
    phantom: int  # returned, but not in the new primary's change log (lost with the old one)
    reloads: int  # "reload everything" the follower was told
    follower_reconnected: bool
    writer_errors: int
    promoted_seq: int  # the new primary's newest change when it was promoted
    last_error: str | None = None
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


def newest_seq(database: Database) -> int:
    with database.read() as s:
        return s.scalar(select(func.coalesce(func.max(ChangeLog.seq), 0))) or 0


def drill(chain: ClusterChain, actors: Actors, *, before_s: float = 3.0, after_s: float = 2.0,
          quiet: Callable[[], None] | None = None, say: Callable[[str], None] | None = None
          ) -> DrillResult:
    """One failover under load: writer and follower through the multi-host URL for
    ``before_s``, the primary stopped at once, the standby promoted, ``after_s`` more once the
    writer is back; then ``quiet()`` (the caller stops its own traffic, the simulator) and the
    follower's catch-up is compared with the new primary's change log."""
    say = say or (lambda _m: None)
    synchronous = _is_synchronous(chain)
    database = open_database(chain.url(), migrate=False)
    writer = follower = None
    try:
        since = newest_seq(database)
        follower = Follower(database, since)
        writer = Writer(database, actors)
        follower.start()
        writer.start()
        started = time.monotonic()
        time.sleep(before_s)
        chain.stop_primary()
        down = time.monotonic()
        acked_before = len(writer.acked)
        rate = acked_before / (down - started)
        gaps = [b[0] - a[0] for a, b in zip(writer.acked[:acked_before],
                                            writer.acked[1:acked_before])]
        gap_ms = round(sorted(gaps)[len(gaps) // 2] * 1000, 1) if gaps else None
        chain.promote()
        promoted = time.monotonic()
        promoted_seq = newest_seq_on_primary(chain)
        deadline = time.monotonic() + 30
        while writer.first_after(down) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        first = writer.first_after(down)
        time.sleep(after_s)
        writer.halt()
        if quiet is not None:
            quiet()
        newest = newest_seq(database)
        deadline = time.monotonic() + 30
        while follower.follower.last_seq < newest and time.monotonic() < deadline:
            time.sleep(0.1)
        follower.halt()
        result = _compare(database, writer, follower, since)
        say(f"{'synchronous' if synchronous else 'asynchronous'}: {len(writer.acked)} writes "
            f"acknowledged, {result['lost']} lost; follower missed {result['missed']}, "
            f"doubled {result['doubled']}")
        return DrillResult(
            synchronous=synchronous, acked=len(writer.acked), acked_before=acked_before,
            lost=result["lost"],
            seconds_to_first_write=None if first is None else round(first - down, 3),
            follower_back_s=None if follower.back_at is None
            else round(max(0.0, follower.back_at - down), 3),
            promote_seconds=round(promoted - down, 3), writes_per_s_before=round(rate, 1),
            write_ms_before=gap_ms,
            changes_seen=result["seen"], missed=result["missed"], doubled=result["doubled"],
            phantom=result["phantom"], reloads=result["reloads"],
            follower_reconnected=follower.reconnected,
            writer_errors=writer.errors, promoted_seq=promoted_seq,
            last_error=writer.last_error,
            extra={"missed_sample": result["missed_sample"], "follower_last_seq": result["last_seq"],
                   "since": since})
    finally:  # a drill that failed half-way leaves no thread writing or following
        for thread in (writer, follower):
            if thread is not None and thread.is_alive():
                thread.halt()
        database.dispose()


def newest_seq_on_primary(chain: ClusterChain) -> int:
    engine = create_engine(chain.primary_url())
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT coalesce(max(seq), 0) FROM change_log")).scalar() or 0
    finally:
        engine.dispose()


def _is_synchronous(chain: ClusterChain) -> bool:
    engine = create_engine(chain.primary_url(database="postgres"))
    try:
        with engine.connect() as conn:
            return bool(conn.execute(text("SHOW synchronous_standby_names")).scalar())
    finally:
        engine.dispose()


def _compare(database: Database, writer: Writer, follower: Follower, since: int) -> dict:
    """The new primary against what the writer was told and what the follower returned.

    Changes are compared whole (seq, entity, id, op), not by seq alone: after an asynchronous
    failover the new primary may hand out again a seq the old one had used for another change.
    """
    acked = {(case_id, version) for _t, case_id, version in writer.acked}
    kept: set[tuple[int, int]] = set()
    with database.read() as s:
        pairs = sorted(acked)
        for i in range(0, len(pairs), 500):
            chunk = pairs[i:i + 500]
            kept.update(tuple(r) for r in s.execute(
                select(CaseHistory.case_id, CaseHistory.version).where(
                    tuple_(CaseHistory.case_id, CaseHistory.version).in_(chunk))))
        log = {tuple(r) for r in s.execute(
            select(ChangeLog.seq, ChangeLog.entity, ChangeLog.entity_id, ChangeLog.op)
            .where(ChangeLog.seq > since))}
    changes = [c for c in follower.seen if c.op != RELOAD]
    seen = [(c.seq, c.entity, c.entity_id, c.op) for c in changes]
    seqs = [c.seq for c in changes]
    missed = sorted(log - set(seen))
    return {"missed_sample": missed[:5], "last_seq": follower.follower.last_seq,
            "lost": len(acked - kept), "seen": len(seen), "missed": len(missed),
            "doubled": len(seqs) - len(set(seqs)), "phantom": len(set(seen) - log),
            "reloads": len(follower.seen) - len(changes)}


def throughput(chain: ClusterChain, actors: Actors, *, seconds: float, rounds: int) -> dict:
    """Writes acknowledged per second with the standby synchronous and asynchronous, in
    alternating rounds of ``seconds`` each on the same primary, so that a load coming and going
    on the machine falls on both alike."""
    totals = {True: [0, 0.0], False: [0, 0.0]}
    database = open_database(chain.url(), migrate=False)
    try:
        for _ in range(rounds):
            for sync in (True, False):
                chain.set_sync(sync)
                writer = Writer(database, actors)
                t0 = time.monotonic()
                writer.start()
                time.sleep(seconds)
                writer.halt()
                totals[sync][0] += len(writer.acked)
                totals[sync][1] += time.monotonic() - t0
    finally:
        database.dispose()
    return {"synchronous_per_s": round(totals[True][0] / totals[True][1], 1),
            "asynchronous_per_s": round(totals[False][0] / totals[False][1], 1),
            "rounds": rounds, "seconds_per_round": seconds}


def free_ports(n: int) -> list[int]:
    """``n`` TCP ports nothing listens on at 127.0.0.1 right now (the bench's clusters must not
    meet the test clusters' fixed ports)."""
    import socket

    socks, ports = [], []
    try:
        for _ in range(n):
            sock = socket.socket()
            sock.bind((HOST, 0))
            socks.append(sock)
            ports.append(sock.getsockname()[1])
    finally:
        for sock in socks:
            sock.close()
    return ports


def measure(*, seconds: float = 4.0, rounds: int = 3,
            progress: Callable[[str], None] | None = None) -> dict:
    """The ``replication`` section: clusters of its own (never the database named), then the
    writer's rate with the standby synchronous and asynchronous, then one failover on each."""
    import tempfile

    say = progress or (lambda _m: None)
    root = Path(tempfile.mkdtemp(prefix="cityops-bench-replication-"))
    chain = ClusterChain(root, free_ports(3), say=say)
    try:
        chain.start_primary()
        actors = prepare(chain)
        chain.add_standby(sync=True)
        rates = throughput(chain, actors, seconds=seconds, rounds=rounds)
        say(f"writes per s: {rates['synchronous_per_s']} synchronous, "
            f"{rates['asynchronous_per_s']} asynchronous")
        chain.set_sync(True)
        sync = drill(chain, actors, before_s=seconds, after_s=2.0, say=say)
        chain.add_standby(sync=False)
        unsync = drill(chain, actors, before_s=seconds, after_s=2.0, say=say)
    finally:
        chain.close()
    return {"throughput": rates, "synchronous": sync.as_dict(), "asynchronous": unsync.as_dict(),
            "note": "one machine, both clusters on 127.0.0.1; promotion started the moment the "
                    "primary was down (a person or Patroni decides later than that)"}
