"""Property-based: random sequences of steps by random roles keep the closed loop's invariants.

For every action the table alone predicts the outcome (refused as an invalid transition, refused
for the role, or done with the table's target state), and after every action:
history is complete, a deadline exists exactly when the case is dispatched, and a closed case
stays closed unless an allowed role reworked it.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from db.auth.roles import Role
from db.cases import workflow as wf
from db.cases.workflow import State, Step
from db.core.errors import ConflictError, InvalidTransition, PermissionDenied, ValidationError
from tests.helpers import report, step_args


def draw_action(data, state: State) -> tuple[Step, Role, bool]:
    """Mostly an allowed (step, role) so that runs go deep; otherwise anything at all."""
    allowed = [(t.step, r) for t in wf.TRANSITIONS if t.source == state for r in sorted(t.roles)]
    onward = [(t.step, r) for t in wf.TRANSITIONS if t.source == state
               and t.target not in wf.FINAL_STATES for r in sorted(t.roles)]
    pick = data.draw(st.integers(0, 9), label="pick")
    if onward and pick < 5:  # keep the case alive most of the time, to reach deep paths
        step, role = data.draw(st.sampled_from(onward), label="onward")
    elif allowed and pick < 8:
        step, role = data.draw(st.sampled_from(allowed), label="allowed")
    else:
        step = data.draw(st.sampled_from(list(Step)), label="step")
        role = data.draw(st.sampled_from(list(Role)), label="role")
    stale = data.draw(st.integers(0, 9), label="stale") == 9  # 0 is what shrinking favours
    return step, role, stale


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), length=st.integers(5, 30))
def test_random_action_sequences_keep_the_invariants(env, data, length):
    case = report(env)
    stale_version = case.version
    done = 0
    for _ in range(length):
        step, role, use_stale = draw_action(data, case.state)
        use_stale = use_stale and stale_version != case.version
        version = stale_version if use_stale else case.version
        transition = wf.find_transition(step, case.state)
        was_closed = case.state == State.CLOSED
        try:
            result = wf.STEP_FUNCTIONS[step](env.database, env.users[role], case.case_id,
                                             version, **step_args(env, step))
        except ConflictError:
            assert use_stale
            outcome = "conflict"
        except InvalidTransition:
            assert not use_stale and transition is None
            outcome = "invalid"
        except PermissionDenied as exc:
            assert not use_stale and transition is not None
            # The role may not, or (db.auth.scope) the test field officer, who works in no
            # grid, on a case not yet dispatched to them.
            assert role not in transition.roles or (
                exc.code == "case_out_of_scope" and role == Role.FIELD_OFFICER
                and case.state in (State.PENDING_ACCEPT, State.PENDING_OPEN)), (step, role)
            outcome = "denied"
        except ValidationError:
            # The only data a valid step can lack here: rework of a case never dispatched.
            assert step == Step.REWORK and not use_stale
            outcome = "invalid data"
        else:
            assert not use_stale and transition is not None and role in transition.roles
            assert result.state == transition.target and result.version == case.version + 1
            stale_version, case = case.version, result
            outcome = "done"
            done += 1
        if was_closed and case.state != State.CLOSED:
            assert outcome == "done" and step == Step.REWORK and role in (Role.SHIFT_LEADER, Role.LEADER)
        with env.database.read() as session:
            assert wf.check_invariants(session, case.case_id) == [], (step, role, outcome)
    event(f"steps done: {'0-2' if done < 3 else '3-7' if done < 8 else '8+'}")


@pytest.mark.parametrize("state", list(State))
def test_every_state_is_reachable_and_final_states_are_final(state):
    reachable = {State.PENDING_ACCEPT}
    frontier = [State.PENDING_ACCEPT]
    while frontier:
        s = frontier.pop()
        for t in wf.TRANSITIONS:
            if t.source == s and t.target not in reachable:
                reachable.add(t.target)
                frontier.append(t.target)
    assert state in reachable
    if state == State.VOID:
        assert not [t for t in wf.TRANSITIONS if t.source == State.VOID]
    if state == State.CLOSED:
        leaving = {(t.step, r) for t in wf.TRANSITIONS if t.source == State.CLOSED for r in t.roles}
        assert leaving == {(Step.REWORK, Role.SHIFT_LEADER), (Step.REWORK, Role.LEADER)}
