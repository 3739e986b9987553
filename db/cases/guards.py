"""What the database itself enforces of the closed loop (migration 0006), from the same source
as the steps: :data:`db.cases.workflow.TRANSITIONS` and :class:`db.cases.workflow.State`.

The steps check the role, the transition and the data before they write; the database then
refuses, whoever connects and whatever they type:

* a change of ``case.state`` that is not a pair (from, to) of the transition table, kept as
  rows of ``case_transition`` (:func:`transition_rows`; a test compares the table with the
  Python source, so a new transition needs a migration that brings the table along);
* a state that is not one of :data:`STATES` (on ``case`` and on ``case_history``);
* a version that does not go up by exactly one, or a state change that keeps the version;
* a commit that leaves a case at a version without the history row of that version, or with a
  history row whose ``to_state`` is not the case's state (PostgreSQL: a deferred constraint
  trigger; SQLite: a deferred foreign key from ``case_check``, see the migration);
* any UPDATE or DELETE of ``case_history`` (and TRUNCATE on PostgreSQL): the timeline is
  append-only, like ``audit_log``; and two history rows for one (case, version).

Only the table's owner can lift these (PostgreSQL: ``ALTER TABLE … DISABLE TRIGGER``; SQLite
has no owner, see the README). The demo, which wipes its invented cases before a rebuild,
does so through :func:`delete_all_history`.
"""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from db.cases.workflow import TRANSITIONS, State

#: Every state a case may be in, as stored.
STATES: tuple[str, ...] = tuple(s.value for s in State)

#: Messages the database raises (the prefix is what a reader of a log searches for).
TRANSITION_REFUSED = "case_transition_refused"
VERSION_REFUSED = "case_version_refused"
STATE_REFUSED = "case_state_refused"
HISTORY_MISSING = "case_history_missing"
HISTORY_APPEND_ONLY = "case_history is append-only"

#: SQLite's append-only guards on case_history (name, DDL): created by migration 0006, dropped
#: and created again around the demo's wipe (SQLite cannot disable a trigger).
SQLITE_HISTORY_GUARDS: tuple[tuple[str, str], ...] = tuple(
    (f"case_history_no_{verb.lower()}",
     f"CREATE TRIGGER case_history_no_{verb.lower()} BEFORE {verb} ON case_history "
     f"BEGIN SELECT RAISE(ABORT, '{HISTORY_APPEND_ONLY}'); END")
    for verb in ("UPDATE", "DELETE"))


def sql_list(values) -> str:
    """``'a','b'`` for an ``IN (…)`` of fixed, known identifiers (never user data)."""
    return ",".join(f"'{v}'" for v in values)


def _sqlite_case_triggers() -> tuple[tuple[str, str], ...]:
    states = sql_list(STATES)
    changed = "(NEW.state IS NOT OLD.state OR NEW.version IS NOT OLD.version)"
    return (
        ("case_state_value", f"""CREATE TRIGGER IF NOT EXISTS case_state_value
            BEFORE INSERT ON "case" WHEN NEW.state NOT IN ({states})
            BEGIN SELECT RAISE(ABORT, '{STATE_REFUSED}'); END"""),
        ("case_state_transition", f"""CREATE TRIGGER IF NOT EXISTS case_state_transition
            BEFORE UPDATE OF state ON "case"
            WHEN NEW.state IS NOT OLD.state AND NOT EXISTS (
                SELECT 1 FROM case_transition
                WHERE from_state = OLD.state AND to_state = NEW.state)
            BEGIN SELECT RAISE(ABORT, '{TRANSITION_REFUSED}'); END"""),
        ("case_version_step", f"""CREATE TRIGGER IF NOT EXISTS case_version_step
            BEFORE UPDATE OF state, version ON "case"
            WHEN {changed} AND NEW.version IS NOT OLD.version + 1
            BEGIN SELECT RAISE(ABORT, '{VERSION_REFUSED}'); END"""),
        # case_check mirrors the case's head; its deferred key wants the history row.
        ("case_check_on_insert", """CREATE TRIGGER IF NOT EXISTS case_check_on_insert
            AFTER INSERT ON "case"
            BEGIN INSERT INTO case_check (case_id, version, state)
                  VALUES (NEW.id, NEW.version, NEW.state); END"""),
        ("case_check_on_update", f"""CREATE TRIGGER IF NOT EXISTS case_check_on_update
            AFTER UPDATE OF state, version ON "case" WHEN {changed}
            BEGIN INSERT INTO case_check (case_id, version, state)
                  VALUES (NEW.id, NEW.version, NEW.state)
                  ON CONFLICT (case_id) DO UPDATE
                  SET version = excluded.version, state = excluded.state; END"""),
    )


#: SQLite's triggers on ``case`` (name, DDL). A batch migration that copies ``case`` drops
#: them with the old table; :func:`restore_sqlite_case_triggers` puts them back.
SQLITE_CASE_TRIGGERS: tuple[tuple[str, str], ...] = _sqlite_case_triggers()


def restore_sqlite_case_triggers(connection) -> list[str]:
    """Create again any of :data:`SQLITE_CASE_TRIGGERS` that is missing on a SQLite database
    at or after migration 0006 (run after every upgrade); return the names created."""
    present = {r[0] for r in connection.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")}
    if "case_check" not in present:
        return []  # before 0006 (or after its downgrade): nothing to guard
    missing = [(name, ddl) for name, ddl in SQLITE_CASE_TRIGGERS if name not in present]
    for _name, ddl in missing:
        connection.exec_driver_sql(ddl)
    return [name for name, _ddl in missing]


def transition_rows() -> list[tuple[str, str, str]]:
    """The rows of ``case_transition``: (step, from_state, to_state), in table order."""
    return [(t.step.value, t.source.value, t.target.value) for t in TRANSITIONS]


def stored_transitions(session: Session) -> list[tuple[str, str, str]]:
    """What ``case_transition`` holds now, sorted."""
    return sorted(tuple(r) for r in session.execute(text(
        "SELECT step, from_state, to_state FROM case_transition")))


def delete_all_history(session: Session) -> None:
    """Delete every ``case_history`` row, in the caller's transaction (the demo's wipe of its
    own invented cases, nothing else). PostgreSQL: the append-only trigger is disabled for this
    transaction only, which only the table's owner may do: an application role gets
    "must be owner of table case_history". SQLite: the guard triggers are dropped and created
    again in the same transaction."""
    if session.scalar(text("SELECT 1 FROM case_history LIMIT 1")) is None:
        return  # nothing to delete: no trigger fires, no owner needed
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE case_history DISABLE TRIGGER case_history_no_change"))
        session.execute(text("DELETE FROM case_history"))
        session.execute(text("ALTER TABLE case_history ENABLE TRIGGER case_history_no_change"))
        return
    for name, _ddl in SQLITE_HISTORY_GUARDS:
        session.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
    # case_check mirrors each case's head; its rows go with the cases (see migration 0006).
    session.execute(text("DELETE FROM case_history"))
    for _name, ddl in SQLITE_HISTORY_GUARDS:
        session.execute(text(ddl))


__all__ = ["HISTORY_APPEND_ONLY", "HISTORY_MISSING", "SQLITE_CASE_TRIGGERS",
           "SQLITE_HISTORY_GUARDS", "restore_sqlite_case_triggers",
           "STATES", "STATE_REFUSED", "TRANSITION_REFUSED", "VERSION_REFUSED",
           "delete_all_history", "sql_list", "stored_transitions", "transition_rows"]
