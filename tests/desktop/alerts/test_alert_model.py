"""The alert model keeps its rows in :func:`sort_key` order through any mix of inserts,
repeats, escalations, acknowledgements and clears (checked against a plain sort)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import random

from db.alerts.lifecycle import SEVERITIES, AlertRow
from desktop.alerts.model import AlertModel, sort_key

T0 = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)


def make(alert_id: int, rng: random.Random) -> AlertRow:
    at = T0 + dt.timedelta(seconds=rng.randrange(3600))
    return AlertRow(id=alert_id, source="110", type="transfer", severity=rng.choice(SEVERITIES),
                    state="active", title=f"a{alert_id}", detail="", lat=None, lon=None,
                    town_name=None, sensor_id=None, camera_id=None, value=None, first_at=at,
                    last_at=at, repeat_count=1, acknowledged_by=None, acknowledged_at=None,
                    cleared_by=None, cleared_at=None, case_id=None, case_no=None, version=1)


def test_random_changes_keep_the_order_of_a_plain_sort(qapp):
    rng = random.Random(7)
    model = AlertModel()
    live: dict[int, AlertRow] = {}
    for step in range(3000):
        roll = rng.random()
        if roll < 0.3 or not live:
            row = make(step + 1, rng)
        else:
            old = live[rng.choice(sorted(live))]
            change = rng.choice(("repeat", "escalate", "acknowledge", "clear"))
            if change == "repeat":
                row = dataclasses.replace(old, repeat_count=old.repeat_count + 1,
                                          last_at=old.last_at + dt.timedelta(seconds=10))
            elif change == "escalate":
                row = dataclasses.replace(old, severity=rng.choice(SEVERITIES),
                                          state="active", version=old.version + 1)
            elif change == "acknowledge":
                row = dataclasses.replace(old, state="acknowledged", version=old.version + 1)
            else:
                row = dataclasses.replace(old, state="cleared", version=old.version + 1)
        model.merge([row])
        if row.state == "cleared":
            live.pop(row.id, None)
        else:
            live[row.id] = row
        if step % 100 == 0 or step == 2999:
            assert model.alerts == sorted(live.values(), key=sort_key)
            assert all(model.row_of(r.id) == i for i, r in enumerate(model.alerts))
    stale = dataclasses.replace(model.alerts[0], version=0, title="old read")
    model.merge([stale])  # an older read than what is held is ignored
    assert model.alerts[0].title != "old read"
