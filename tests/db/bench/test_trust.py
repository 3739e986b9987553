"""The ``trust`` bench's configurations really are what they say: the baseline without the
guards lets through what the shipped database refuses, and the bare-SQL step it times is one
the shipped database accepts."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db.bench.trust import drop_chain, drop_loop_guards
from db.bench.workflow import bare_steps
from db.cases.workflow import State
from db.core import audit_chain
from tests.helpers import case_in_state, owner_database, report

CLOSE_BY_HAND = "UPDATE \"case\" SET state = 'closed', version = version + 1 WHERE id = :i"


def test_the_bare_baseline_is_a_step_the_guards_accept(env):
    r = report(env)
    bare_steps(env.database, r.case_id)
    with env.database.read() as s:
        assert s.execute(text('SELECT state, version FROM "case" WHERE id = :i'),
                         {"i": r.case_id}).one() == ("closed", 7)
        assert s.scalar(text("SELECT count(*) FROM case_history WHERE case_id = :i"),
                        {"i": r.case_id}) == 7


def test_without_the_guards_the_database_lets_anything_through(env):
    r = case_in_state(env, State.HANDLING)
    with pytest.raises(DBAPIError):
        with env.database.write() as s:
            s.execute(text(CLOSE_BY_HAND), {"i": r.case_id})
    with owner_database(env) as owner:  # the bench drops them in its scratch copy as owner
        drop_loop_guards(owner)
        drop_chain(owner)
    with env.database.write() as s:
        s.execute(text(CLOSE_BY_HAND), {"i": r.case_id})
    report(env)  # an audit row written with the chain's trigger gone has no hash
    found = audit_chain.verify(env.database)
    assert found.first_break is not None and found.first_break.kind == "unstamped"
