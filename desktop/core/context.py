"""What every widget of a signed-in window shares: the database, the user, the calendar, the
background runners, and whether the database is reachable right now."""
from __future__ import annotations

from dataclasses import dataclass, field

from db.worktime.clock import WorkCalendar
from db.core.engine import Database
from db.auth.roles import Role

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
