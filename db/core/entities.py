"""The names of what changes: one enum for the change feed, the audit log and conflicts.

A writer publishes ``Entity.CASE``; a window subscribes a handler to ``Entity.CASE``. A name
nobody publishes cannot be subscribed to by mistake, and a new record (an incident, a
supervision notice) is one member here plus one subscription where it is shown.
"""
from __future__ import annotations

import enum


class Entity(enum.StrEnum):
    CASE = "case"
    ALERT = "alert"
    SENSOR = "sensor"  # new readings of a sensor (its trend), not the sensor row
    STAFF_POSITION = "staff_position"
    CALENDAR = "calendar"  # official days or office hours changed
    JOB_RUN = "job_run"  # a scheduled job ran (its outcome)
    SETTING = "setting"  # a shared setting changed (db.settings)
    ALL = "*"  # reload everything (the log was pruned past a follower, a demo rebuilt)

    @property
    def label(self) -> str:
        """The word for the record in a Chinese message (the UI words it through Linguist)."""
        return ENTITY_LABELS.get(self, self.value)


ENTITY_LABELS = {Entity.CASE: "案件", Entity.ALERT: "告警", Entity.SENSOR: "传感器",
                 Entity.JOB_RUN: "定时任务", Entity.SETTING: "系统设置"}
