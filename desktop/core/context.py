"""What every widget of a signed-in window shares: the database, the user, the calendar, the
background lanes, the change router, the operation runner, and whether the database is
reachable right now, and the database server's time (``clock``: every countdown's "now").

Three background lanes, each one thread running its tasks in order: ``reads`` for what the
screen shows now (queue rows, the detail, map points), ``writes`` for operations (never queued
behind a slow read), and ``heavy`` for reads that take seconds (reports, rankings, exports), so
the queue, the detail and the cameras never wait behind them."""
from __future__ import annotations

from dataclasses import dataclass, field

from db.auth.roles import Role
from db.core.engine import Database
from db.worktime.clock import WorkCalendar
from desktop.core.changes import ChangeRouter
from desktop.core.operations import Operations
from desktop.core.servertime import ServerClock
from desktop.core.tasks import TaskRunner


@dataclass(frozen=True)
class SignedInUser:
    id: int
    username: str
    display_name: str
    role: Role
    department_id: int | None = None


@dataclass
class AppContext:
    database: Database
    user: SignedInUser
    calendar: WorkCalendar
    city_id: int
    reads: TaskRunner  # queries, in order, off the GUI thread
    writes: TaskRunner  # workflow steps, in order, never queued behind a slow read
    demo: bool = False
    online: bool = True  # False while the change feed cannot reach the database
    settings_scope: str = "default"  # QSettings group; tests isolate it
    extra: dict = field(default_factory=dict)
    heavy: TaskRunner = field(default_factory=lambda: TaskRunner("heavy"))  # reads of seconds
    changes: ChangeRouter = field(default_factory=ChangeRouter)  # entity -> subscribed handlers
    operations: Operations = field(init=False)  # one way to run a write (see operations.py)
    clock: ServerClock = field(default_factory=ServerClock)  # the database's time: countdowns' now

    def __post_init__(self) -> None:
        self.operations = Operations(self)

    @property
    def lanes(self) -> tuple[TaskRunner, ...]:
        """Every background lane, to drain or shut down together."""
        return (self.reads, self.writes, self.heavy)
