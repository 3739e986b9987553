"""Sort keys order exactly as the queue's query does, and leave out what a filter does not match."""
from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select, update

from db.auth.scope import SYSTEM
from db.cases import queries
from db.cases.queries import QueueFilter, QueueSort
from db.cases.workflow import State, Step
from db.models import Case, Town
from tests.helpers import case_in_state, report, take

UTC = dt.UTC


def test_sort_keys_compare_as_the_database_orders(env):
    rng = random.Random(4)
    now = dt.datetime.now(UTC)
    with env.database.read() as s:
        towns = list(s.scalars(select(Town.id).order_by(Town.id).limit(3)))
    for _ in range(30):
        state = rng.choice([State.PENDING_ACCEPT, State.HANDLING, State.HANDLING, State.PARKED,
                            State.PENDING_CHECK])
        r = case_in_state(env, State.PENDING_DISPATCH if state != State.PENDING_ACCEPT else state)
        if state != State.PENDING_ACCEPT:
            r = take(env, r, Step.DISPATCH, now=now - dt.timedelta(hours=rng.randint(0, 99)))
            if state == State.PARKED:
                r = take(env, r, Step.PARK)
            elif state == State.PENDING_CHECK:
                r = take(env, r, Step.FEEDBACK)
        if rng.random() < 0.6:  # some have no town (NULLs), the others one of three
            with env.database.write() as s:
                s.execute(update(Case).where(Case.id == r.case_id)
                          .values(town_id=rng.choice(towns)))
    flt = QueueFilter(states=frozenset())
    import functools

    for column in sorted(queries.PLACEABLE_SORTS):
        for descending in (False, True):
            sort = QueueSort(column, descending)
            with env.database.read() as s:
                expected = queries.queue_ids(s, flt, sort, actor=SYSTEM)
                keys = queries.sort_keys(s, sort, expected, flt=flt, actor=SYSTEM)
            order = functools.cmp_to_key(
                lambda a, b: -1 if queries.key_before(a, b, descending) else 1)
            assert [k[3] for k in sorted(keys.values(), key=order)] == expected, sort


def test_sort_keys_with_a_filter_leave_out_what_it_does_not_match(env):
    waiting = report(env).case_id
    handling = case_in_state(env, State.HANDLING).case_id
    with env.database.read() as s:
        keys = queries.sort_keys(s, QueueSort(), [waiting, handling],
                                 flt=QueueFilter(states=frozenset({State.HANDLING.value})), actor=SYSTEM)
    assert list(keys) == [handling]
