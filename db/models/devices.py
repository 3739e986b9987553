"""Cameras, sensors with their readings, and alerts."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, BigId, UTCDateTime, utcnow


class Camera(Base):
    __tablename__ = "camera"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    town_id: Mapped[int | None] = mapped_column(ForeignKey("town.id"), index=True)
    stream_url: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(20), default="fixed")  # fixed / ptz / dome
    analytics: Mapped[bool] = mapped_column(default=False)  # runs video detection
    active: Mapped[bool] = mapped_column(default=True)


class Sensor(Base):
    """An IoT sensor: water level (m) or combustible gas (%LEL)."""

    __tablename__ = "sensor"
    __table_args__ = (CheckConstraint("kind IN ('water_level','gas')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str] = mapped_column(String(8))  # m / %LEL
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    town_id: Mapped[int | None] = mapped_column(ForeignKey("town.id"), index=True)
    # Thresholds as JSON: water {"blue":0.15,"yellow":0.3,"orange":0.5,"red":0.8};
    # gas {"alarm":20,"cutoff":35}.
    thresholds_json: Mapped[str] = mapped_column(Text)
    last_value: Mapped[float | None] = mapped_column(Float)
    last_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(default=True)


class SensorReading(Base):
    __tablename__ = "sensor_reading"
    __table_args__ = (Index("ix_sensor_reading_sensor_at", "sensor_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensor.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    value: Mapped[float] = mapped_column(Float)


class Alert(Base):
    """An alarm: active → acknowledged → cleared, de-duplicated by ``dedup_key``.

    At most one *uncleared* alert exists per key (a partial unique index); a repeat raises
    ``repeat_count`` instead of adding a row, and a re-alarm soon after clearing reopens the
    cleared row (``reopen_count``). The rules live in :mod:`db.alerts.lifecycle`.
    """

    __tablename__ = "alert"
    __table_args__ = (
        CheckConstraint("state IN ('active','acknowledged','cleared')", name="state"),
        CheckConstraint("severity IN ('critical','major','minor','warning')", name="severity"),
        Index(
            "uq_alert_open_dedup_key",
            "dedup_key",
            unique=True,
            sqlite_where=text("state <> 'cleared'"),
            postgresql_where=text("state <> 'cleared'"),
        ),
        Index("ix_alert_state_severity", "state", "severity", "last_at"),
        # A re-alarm looks for the key's latest cleared row (flapping damping in db.alerts.lifecycle).
        Index("ix_alert_dedup_key_cleared_at", "dedup_key", "cleared_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(16))  # sensor / camera / 110 / 119
    type: Mapped[str] = mapped_column(String(40))  # water_level / gas / video:<label> / transfer
    severity: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(14), default="active")
    dedup_key: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(120))
    detail: Mapped[str] = mapped_column(Text, default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    town_id: Mapped[int | None] = mapped_column(ForeignKey("town.id"))
    sensor_id: Mapped[int | None] = mapped_column(ForeignKey("sensor.id"), index=True)
    camera_id: Mapped[int | None] = mapped_column(ForeignKey("camera.id"))
    value: Mapped[float | None] = mapped_column(Float)
    first_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    repeat_count: Mapped[int] = mapped_column(Integer, default=1)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cleared_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    clear_note: Mapped[str | None] = mapped_column(Text)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    @property
    def last_event_at(self) -> dt.datetime | None:
        """The latest of its event times: the floor of its next one (db.core.dbclock, "never
        backwards"), as ``updated_at`` is a case's."""
        return max((t for t in (self.last_at, self.acknowledged_at, self.cleared_at) if t),
                   default=None)
