"""Black spots (黑点赋码) and inspections (一必检、三随机). Tables now; rules come later."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import Base, UTCDateTime


class BlackSpot(Base):
    """A chronic problem place, coded and tracked until removed (销号)."""

    __tablename__ = "black_spot"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # village / road / market / park / toilet (the five exposure categories)
    category: Mapped[str] = mapped_column(String(12))
    town_id: Mapped[int] = mapped_column(ForeignKey("town.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id"))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="active")  # active / removed
    found_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_recheck_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    failed_rechecks: Mapped[int] = mapped_column(Integer, default=0)


class Inspection(Base):
    """One inspection visit to a town centre (mandatory) or a random village."""

    __tablename__ = "inspection"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # mandatory / random / recheck
    town_id: Mapped[int] = mapped_column(ForeignKey("town.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id"))
    inspected_on: Mapped[dt.date] = mapped_column(Date, index=True)
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    # The five indicators, 0-100 each.
    score_cleanliness: Mapped[float | None] = mapped_column(Float)
    score_six_disorders: Mapped[float | None] = mapped_column(Float)
    score_landscaping: Mapped[float | None] = mapped_column(Float)
    score_facilities: Mapped[float | None] = mapped_column(Float)
    score_gas_safety: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[str] = mapped_column(Text, default="")

    findings: Mapped[list[InspectionFinding]] = relationship(back_populates="inspection")


class InspectionFinding(Base):
    """A problem found on an inspection; may become a case and/or a black spot."""

    __tablename__ = "inspection_finding"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    black_spot_id: Mapped[int | None] = mapped_column(ForeignKey("black_spot.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)

    inspection: Mapped[Inspection] = relationship(back_populates="findings")
