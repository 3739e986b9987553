"""Every entry point checks the types it is handed (db.core.validate): a wrong type, NaN or
infinity is a declared ValidationError and nothing is written. Never a TypeError, a driver's
DataError or IntegrityError, never a NaN stored, never a string split into attachments.

The attacks are what an insider with a workstation's credentials could hand the data layer by
calling it directly: a str for an int id, NaN or infinity for a coordinate or a reading, an
attachment list that is a string, None where a value is required, a dict where text is due.
Each runs against one prepared world per engine (:func:`world`); the database's footprint
(:func:`_footprint`) must be the same after the refusal as before it.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from db.alerts import ingest
from db.alerts import lifecycle as alerts
from db.alerts.sensors import STANDARD_THRESHOLDS, SensorSite, reading_alarm
from db.auth.roles import Role
from db.cases import workflow as wf
from db.cases.workflow import State
from db.core import validate
from db.core.errors import ValidationError
from db.devices import positions
from db.models import (
    Alert,
    AuditLog,
    Case,
    CaseHistory,
    ChangeLog,
    Sensor,
    SensorReading,
    Staff,
    StaffPosition,
    StaffTrack,
)
from tests.conftest import drop_pg, make_pg_env, make_sqlite_env
from tests.helpers import CENTRE, any_class_id, any_department_id, case_in_state, report

NAN, INF = float("nan"), float("inf")
NOW = dt.datetime(2026, 3, 9, 2, 0, tzinfo=dt.UTC)


@dataclass
class World:
    env: object
    handling: wf.StepResult  # dispatched to the test department (and field officer)
    pending: wf.StepResult  # waiting for dispatch
    waiting: wf.StepResult  # just reported
    alert: int
    sensor: int
    staff: int

    @property
    def db(self):
        return self.env.database

    def user(self, role: Role = Role.DUTY_OFFICER) -> int:
        return self.env.users[role]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    if request.param == "sqlite":
        env, name = make_sqlite_env(request.getfixturevalue("sqlite_template"),
                                    tmp_path_factory.mktemp("validate")), None
    else:
        env, name = make_pg_env(request.getfixturevalue("pg_template"))
    with env.database.write() as s:
        sensor = Sensor(code="WL-V", name="验证水位计", kind="water_level", unit="m",
                        lat=CENTRE[0], lon=CENTRE[1], town_id=1,
                        thresholds_json=json.dumps(STANDARD_THRESHOLDS["water_level"]))
        staff = Staff(code="S-V", name="老王", title="协管员")
        s.add_all([sensor, staff])
        s.flush()
        sensor_id, staff_id = sensor.id, staff.id
    alert = alerts.raise_alert(env.database, source="110", type="transfer", severity="major",
                               dedup_key="110:V1", title="110转办：占道", lat=CENTRE[0],
                               lon=CENTRE[1])
    yield World(env, case_in_state(env, State.HANDLING), case_in_state(env, State.PENDING_DISPATCH),
                report(env), alert, sensor_id, staff_id)
    env.database.dispose()
    if name is not None:
        drop_pg(name)


def _footprint(env) -> tuple:
    """Rows and versions of everything an entry point could write."""
    with env.database.read() as s:
        counts = tuple(s.scalar(select(func.count()).select_from(m)) for m in (
            Case, CaseHistory, AuditLog, ChangeLog, Alert, SensorReading, StaffTrack,
            StaffPosition))
        return counts + (s.scalar(select(func.sum(Case.version))),
                         s.scalar(select(func.sum(Alert.version))),
                         s.scalar(select(func.count()).select_from(Sensor)
                                  .where(Sensor.last_value.is_not(None))))


def _report(w: World, **kw):
    return report(w.env, **kw)


def _step(w: World, fn, case: wf.StepResult | None = None, role: Role = Role.DUTY_OFFICER,
          **kw):
    case = case or w.handling
    args = {"actor_id": w.user(role), "case_id": case.case_id, "seen_version": case.version}
    args.update({k: kw.pop(k) for k in list(kw) if k in args})
    return fn(w.db, args["actor_id"], args["case_id"], args["seen_version"], **kw)


def _accept(w: World, **kw):
    kw.setdefault("class_id", any_class_id(w.env))
    return _step(w, wf.accept, w.waiting, **kw)


def _dispatch(w: World, **kw):
    kw.setdefault("department_id", any_department_id(w.env))
    return _step(w, wf.dispatch, w.pending, Role.DISPATCHER, **kw)


def _feedback(w: World, **kw):
    kw.setdefault("opinion", "已处理")
    return _step(w, wf.feedback, w.handling, Role.DEPARTMENT_HANDLER, **kw)


def _extension(w: World, **kw):
    args = {"amount": 2, "unit": "work_hours", "opinion": "需协调"}
    args.update(kw)
    return _step(w, wf.request_extension, w.handling, Role.DEPARTMENT_HANDLER, **args)


def _alert_step(w: World, fn, **kw):
    args = {"alert_id": w.alert, "seen_version": 1}
    args.update({k: kw.pop(k) for k in list(kw) if k in args})
    return fn(w.db, w.user(), args["alert_id"], args["seen_version"], **kw)


def _raise(w: World, **kw):
    alarm = {"source": "sensor", "type": "water_level", "severity": "major", "title": "积水",
             "lat": CENTRE[0], "lon": CENTRE[1], "sensor_id": w.sensor, "value": 0.6}
    alarm.update(kw)
    return alerts.raise_alert(w.db, now=NOW, **alarm)


def _raise_many(w: World, alarms):
    with w.db.write() as s:
        return alerts.raise_alerts(s, alarms, NOW)


def _readings(w: World, readings):
    with w.db.write() as s:
        return ingest.record_readings(s, readings, NOW)


def _fixes(w: World, **kw):
    fix = {"staff_id": w.staff, "lat": CENTRE[0], "lon": CENTRE[1], "at": NOW}
    fix.update(kw)
    with w.db.write() as s:
        return positions.record_positions(s, [fix])


def _site(w: World) -> SensorSite:
    return SensorSite(w.sensor, "water_level", "验证水位计", CENTRE[0], CENTRE[1],
                      json.dumps(STANDARD_THRESHOLDS["water_level"]))


ATTACKS = {
    # -- reporting a case
    "report: latitude as text": lambda w: _report(w, lat="23.02"),
    "report: latitude NaN": lambda w: _report(w, lat=NAN),
    "report: longitude infinite": lambda w: _report(w, lon=INF),
    "report: latitude None": lambda w: _report(w, lat=None),
    "report: attachments as a string": lambda w: _report(w, media="photo.jpg"),
    "report: an attachment that is a dict": lambda w: _report(w, media=[{"url": "a.jpg"}]),
    "report: description a dict": lambda w: _report(w, description={"text": "垃圾"}),
    "report: description None": lambda w: _report(w, description=None),
    "report: city id as text": lambda w: _report(w, city_id="1"),
    "report: class id a float": lambda w: _report(w, class_id=1.0),
    "report: channel None": lambda w: _report(w, source=None),
    "report: urgency a dict": lambda w: _report(w, urgency={"level": "urgent"}),
    "report: actor id as text": lambda w: wf.report_case(
        w.db, str(w.user()), source="hotline_12345", lat=CENTRE[0], lon=CENTRE[1],
        description="垃圾"),
    # -- the steps
    "accept: class id as text": lambda w: _accept(w, class_id="1"),
    "accept: class id None": lambda w: _accept(w, class_id=None),
    "accept: urgency a list": lambda w: _accept(w, urgency=["normal"]),
    "accept: case id as text": lambda w: _accept(w, case_id=str(w.waiting.case_id)),
    "accept: version as text": lambda w: _accept(w, seen_version="1"),
    "accept: version None": lambda w: _accept(w, seen_version=None),
    "accept: version NaN": lambda w: _accept(w, seen_version=NAN),
    "accept: actor None": lambda w: _accept(w, actor_id=None),
    "dispatch: department as text": lambda w: _dispatch(w, department_id="1"),
    "dispatch: department None": lambda w: _dispatch(w, department_id=None),
    "dispatch: staff NaN": lambda w: _dispatch(w, staff_id=NAN),
    "dispatch: account True": lambda w: _dispatch(w, user_id=True),
    "dispatch: account beyond BIGINT": lambda w: _dispatch(w, user_id=2**70),
    "feedback: attachments as a string": lambda w: _feedback(w, media="after.jpg"),
    "feedback: an attachment that is a number": lambda w: _feedback(w, media=[1]),
    "feedback: opinion a dict": lambda w: _feedback(w, opinion={"text": "已处理"}),
    "feedback: case id a float": lambda w: _feedback(w, case_id=1.5),
    "extension: amount as text": lambda w: _extension(w, amount="2"),
    "extension: amount NaN": lambda w: _extension(w, amount=NAN),
    "extension: amount infinite": lambda w: _extension(w, amount=INF),
    "extension: unit a dict": lambda w: _extension(w, unit={"unit": "work_hours"}),
    "extension: unit None": lambda w: _extension(w, unit=None),
    "park: opinion None": lambda w: _step(w, wf.park, role=Role.SHIFT_LEADER, opinion=None),
    "fix on spot: class id as text": lambda w: _step(w, wf.fix_on_spot, w.waiting,
                                                     opinion="已清理", class_id="1"),
    "void: case id a list": lambda w: _step(w, wf.void, w.waiting, opinion="重复",
                                            case_id=[w.waiting.case_id]),
    "close: version a bool": lambda w: _step(w, wf.close, role=Role.SHIFT_LEADER,
                                             seen_version=True),
    # -- the alert actions
    "acknowledge: alert id as text": lambda w: _alert_step(w, alerts.acknowledge,
                                                           alert_id=str(w.alert)),
    "acknowledge: version None": lambda w: _alert_step(w, alerts.acknowledge, seen_version=None),
    "acknowledge many: a string": lambda w: alerts.acknowledge_many(w.db, w.user(), "12"),
    "acknowledge many: a dict": lambda w: alerts.acknowledge_many(w.db, w.user(), {w.alert: 1}),
    "acknowledge many: a pair of one": lambda w: alerts.acknowledge_many(w.db, w.user(),
                                                                         [(w.alert,)]),
    "acknowledge many: id as text": lambda w: alerts.acknowledge_many(w.db, w.user(),
                                                                      [(str(w.alert), 1)]),
    "clear: note a dict": lambda w: _alert_step(w, alerts.clear, note={"why": "误报"}),
    "link: case ref a float": lambda w: _alert_step(w, alerts.link_case, case_ref=1.5),
    "link: case ref None": lambda w: _alert_step(w, alerts.link_case, case_ref=None),
    "to case: urgency a number": lambda w: _alert_step(w, alerts.to_case, urgency=5),
    "to case: description a dict": lambda w: _alert_step(w, alerts.to_case,
                                                         description={"a": 1}),
    "to case: class id as text": lambda w: _alert_step(w, alerts.to_case, class_id="1"),
    # -- alarms from the feeds
    "alarm: latitude NaN": lambda w: _raise(w, lat=NAN),
    "alarm: longitude infinite": lambda w: _raise(w, lon=INF),
    "alarm: value NaN": lambda w: _raise(w, value=NAN),
    "alarm: value as text": lambda w: _raise(w, value="high"),
    "alarm: sensor id as text": lambda w: _raise(w, sensor_id=str(w.sensor)),
    "alarm: town id a float": lambda w: _raise(w, town_id=1.5),
    "alarm: title a dict": lambda w: _raise(w, title={"zh": "积水"}),
    "alarm: an unknown sensor": lambda w: _raise(w, sensor_id=999_999),
    "alarms: a string, not a list": lambda w: _raise_many(w, "alarm"),
    "alarms: an alarm that is a string": lambda w: _raise_many(w, ["alarm"]),
    # -- the sensor ingest
    "reading: NaN": lambda w: _readings(w, [(w.sensor, NAN)]),
    "reading: infinite": lambda w: _readings(w, [(w.sensor, -INF)]),
    "reading: value as text": lambda w: _readings(w, [(w.sensor, "0.5")]),
    "reading: value None": lambda w: _readings(w, [(w.sensor, None)]),
    "reading: sensor id as text": lambda w: _readings(w, [(str(w.sensor), 0.5)]),
    "reading: an unknown sensor": lambda w: _readings(w, [(999_999, 0.5)]),
    "reading: a pair of one": lambda w: _readings(w, [(w.sensor,)]),
    "readings: a string, not a list": lambda w: _readings(w, "0.5"),
    "reading alarm: NaN": lambda w: reading_alarm(_site(w), NAN),
    "reading alarm: infinite": lambda w: reading_alarm(_site(w), INF),
    # -- position fixes
    "fix: latitude NaN": lambda w: _fixes(w, lat=NAN),
    "fix: longitude infinite": lambda w: _fixes(w, lon=INF),
    "fix: latitude None": lambda w: _fixes(w, lat=None),
    "fix: staff id as text": lambda w: _fixes(w, staff_id=str(w.staff)),
    "fix: an unknown person": lambda w: _fixes(w, staff_id=999_999),
    "fix: a time without its zone": lambda w: _fixes(w, at=NOW.replace(tzinfo=None)),
    "fixes: a string, not a list": lambda w: positions.record_positions(None, "fix"),
}


@pytest.mark.parametrize("attack", list(ATTACKS.values()), ids=list(ATTACKS))
def test_a_wrong_type_nan_or_infinity_is_refused_and_nothing_is_written(world, attack):
    before = _footprint(world.env)
    with pytest.raises(ValidationError) as refused:
        attack(world)
    assert refused.value.code != "invalid_data"  # a declared code, which the window words
    assert _footprint(world.env) == before


def test_the_world_takes_the_same_calls_with_good_values(world):
    """The attacks fail for their bad value, not for the world: with good values they pass."""
    w = world
    before = _footprint(w.env)
    assert _readings(w, [(w.sensor, 0.6)])  # orange: an alarm
    assert _fixes(w) == 1
    assert reading_alarm(_site(w), 0.6)["severity"] == "major"
    r = _report(w, media=["photo.jpg"])
    with w.db.read() as s:
        assert json.loads(s.get(Case, r.case_id).media_json) == ["photo.jpg"]
    assert _footprint(w.env) != before


@pytest.mark.parametrize(("call", "code"), [
    (lambda: validate.whole_number("7", "版本号"), "value_not_integer"),
    (lambda: validate.whole_number(True, "版本号"), "value_not_integer"),
    (lambda: validate.whole_number(7.0, "版本号"), "value_not_integer"),
    (lambda: validate.whole_number(None, "版本号"), "value_required"),
    (lambda: validate.record_id(0, "案件"), "value_out_of_range"),
    (lambda: validate.finite_number(math.nan, "读数"), "value_not_number"),
    (lambda: validate.finite_number(10**400, "读数"), "value_not_number"),
    (lambda: validate.finite_number("1", "读数"), "value_not_number"),
    (lambda: validate.finite_number(5, "读数", maximum=1), "value_out_of_range"),
    (lambda: validate.coordinates(91, 113.75), "coordinates_invalid"),
    (lambda: validate.coordinates(23.0, -INF), "coordinates_invalid"),
    (lambda: validate.text_list("abc", "附件", limit=10), "value_not_list"),
    (lambda: validate.text_list({"a": 1}, "附件", limit=10), "value_not_list"),
    (lambda: validate.text_list(["x" * 11], "附件", limit=10), "text_too_long"),
    (lambda: validate.one_of(3, State, "状态"), "value_unknown"),
    (lambda: validate.one_of("nope", State, "状态"), "value_unknown"),
])
def test_the_checks_and_their_codes(call, code):
    with pytest.raises(ValidationError) as refused:
        call()
    assert refused.value.code == code


def test_the_checks_pass_good_values_through():
    assert validate.whole_number(7, "版本号") == 7
    assert validate.record_id(None, "人员", required=False) is None
    assert validate.finite_number(3, "读数") == 3.0
    assert validate.coordinates(23, 113.75) == (23.0, 113.75)
    assert validate.text_list(("a", "b"), "附件", limit=10) == ["a", "b"]
    assert validate.text_list(None, "附件", limit=10) == []
    assert validate.one_of("closed", State, "状态") == State.CLOSED
