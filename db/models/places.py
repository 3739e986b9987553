"""Administrative places (city → town/sub-district → village/community) and responsibility grids."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import Base

if TYPE_CHECKING:
    from db.models.people import Staff


class City(Base):
    """One city of a "1+N" platform; several can share a database."""

    __tablename__ = "city"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)  # GB/T 2260 code, e.g. 441900
    name: Mapped[str] = mapped_column(String(40))
    center_lat: Mapped[float] = mapped_column(Float)
    center_lon: Mapped[float] = mapped_column(Float)
    # City outline as GeoJSON geometry text: used to reject coordinates outside the city.
    outline_geojson: Mapped[str | None] = mapped_column(Text)

    towns: Mapped[list[Town]] = relationship(back_populates="city")


class Town(Base):
    """Town, sub-district or park (镇/街道/园区): the level that executes."""

    __tablename__ = "town"

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id"), index=True)
    code: Mapped[str] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(8))  # 街道 / 镇 / 园区
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    low_lying: Mapped[bool] = mapped_column(default=False)  # waterlogging-prone (typhoon drills)

    city: Mapped[City] = relationship(back_populates="towns")
    villages: Mapped[list[Village]] = relationship(back_populates="town")


class Village(Base):
    """Village or community (村/社区) with its 12-digit code."""

    __tablename__ = "village"

    id: Mapped[int] = mapped_column(primary_key=True)
    town_id: Mapped[int] = mapped_column(ForeignKey("town.id"), index=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(8))  # 社区 / 村
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)

    town: Mapped[Town] = relationship(back_populates="villages")


class Grid(Base):
    """A responsibility grid: a polygon with a grid leader and 5-8 members."""

    __tablename__ = "grid"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    town_id: Mapped[int] = mapped_column(ForeignKey("town.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id"), index=True)
    polygon_geojson: Mapped[str] = mapped_column(Text)  # GeoJSON Polygon geometry
    center_lat: Mapped[float] = mapped_column(Float)
    center_lon: Mapped[float] = mapped_column(Float)
    # Staff and grids refer to each other; use_alter breaks the cycle for CREATE TABLE.
    leader_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", use_alter=True, name="fk_grid_leader_id_staff")
    )

    members: Mapped[list[GridMember]] = relationship(back_populates="grid")


class GridMember(Base):
    __tablename__ = "grid_member"

    grid_id: Mapped[int] = mapped_column(ForeignKey("grid.id"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True, index=True)
    duty: Mapped[str] = mapped_column(String(20), default="网格员")  # 网格长 / 网格员 / 路长 …
    sort: Mapped[int] = mapped_column(Integer, default=0)

    grid: Mapped[Grid] = relationship(back_populates="members")
    staff: Mapped[Staff] = relationship()
