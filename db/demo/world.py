"""The in-memory city every demo phase works on, and the small helpers they share.

:class:`_World` holds what later phases need (towns with their villages, grids, staff and
devices, the case classes, the city departments, the calendar, the next id of each table) and is
loaded by :func:`_load_world` inside the build transaction. The helpers give each phase its own
seeded generator (:func:`_rng`), convert to and from Dongguan local time, apportion and pick by
weight, place a point some kilometres away, and insert rows in chunks. :class:`_Outline` answers
"is this point inside the city?" fast enough for the hundred thousand points the demo places.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from db.auth.roles import Role
from db.demo.vocabulary import DETAILS, GIVEN, MOBILE_PREFIXES, SURNAMES
from db.geo.distance import offset
from db.geo.polygons import Ring, rings_of
from db.models import CaseClass, City, Department, Town, UserAccount, Village
from db.reference.city import DONGGUAN
from db.worktime.calendar_data import load_calendar
from db.worktime.clock import WorkCalendar

if TYPE_CHECKING:
    from db.demo.accounts import _Cast


CHUNK = 5_000  # rows per executemany

UTC = dt.UTC
# Asia/Shanghai has had no daylight saving since 1991: a fixed +8 h is exact for these dates and
# far cheaper than a zoneinfo conversion per timestamp.
CST = dt.timedelta(hours=8)
TAU = 2 * math.pi


# -- the city -------------------------------------------------------------------------------

#: Dongguan's waterlogging-prone river and delta towns.
LOW_LYING_TOWNS = ("麻涌镇", "中堂镇", "望牛墩镇", "洪梅镇", "道滘镇", "沙田镇", "高埗镇", "石碣镇",
                   "万江街道", "东莞港", "东莞滨海湾新区")
#: Relative size (population, commerce) of each town; others count 1.0.
TOWN_WEIGHTS = {
    "长安镇": 3.0, "虎门镇": 2.9, "东城街道": 2.6, "南城街道": 2.4, "塘厦镇": 2.3, "常平镇": 2.3,
    "厚街镇": 2.2, "凤岗镇": 2.0, "大朗镇": 2.0, "寮步镇": 1.9, "清溪镇": 1.7, "大岭山镇": 1.6,
    "万江街道": 1.5, "莞城街道": 1.4, "黄江镇": 1.3, "樟木头镇": 1.2, "石碣镇": 1.2, "石龙镇": 1.1,
    "松山湖": 0.8, "东莞滨海湾新区": 0.5, "东莞生态园": 0.3, "东莞港": 0.3,
}


def _rng(seed: int, phase: str) -> random.Random:
    """One generator per phase; string seeds hash the same way in every process."""
    return random.Random(f"cityops-demo/{seed}/{phase}")


def _local(at: dt.datetime) -> dt.datetime:
    return at + CST  # still tagged UTC: only its wall-clock fields are used


def _from_local(day: dt.date, seconds: int) -> dt.datetime:
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=UTC)
    return midnight + dt.timedelta(seconds=seconds) - CST


def _cum(weights: Sequence[float]) -> list[float]:
    return list(accumulate(weights))


def _apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder, ties by position)."""
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _offset(lat: float, lon: float, km: float, angle: float) -> tuple[float, float]:
    """The point ``km`` away in direction ``angle`` (radians anticlockwise from east, as the
    phases draw them), to six decimals (~0.1 m)."""
    lat2, lon2 = offset(lat, lon, km, 90.0 - math.degrees(angle))
    return round(lat2, 6), round(lon2, 6)


def _name(rng: random.Random) -> str:
    surname = rng.choices(_SURNAMES, cum_weights=_SURNAME_CUM)[0]
    size = 1 if rng.random() < 0.3 else 2
    return surname + "".join(rng.choice(GIVEN) for _ in range(size))


_SURNAMES = [s for s, _ in SURNAMES]
_SURNAME_CUM = _cum([w for _, w in SURNAMES])


def _mobile(rng: random.Random) -> str:
    return f"1{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10 ** 8):08d}"


def _short_village(name: str) -> str:
    """岗贝社区居民委员会 -> 岗贝社区, 水濂村民委员会 -> 水濂村, 扶涌村村民委员会 -> 扶涌村."""
    for suffix in ("居民委员会", "村民委员会", "委员会"):
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            return base + "村" if suffix == "村民委员会" and not base.endswith("村") else base
    return name


def _insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), CHUNK):
        session.execute(insert(table), rows[i:i + CHUNK])


class _Outline:
    """The city outline with its edges bucketed by latitude band.

    :func:`db.geo.polygons.in_polygons` walks all ~3,200 outline edges per point (~0.5 ms); the demo
    places well over 100,000 points, so each ring's edges are sorted into bands once. The
    crossing test is the same expression as :func:`db.geo.polygons.in_ring` and an edge that can cross a
    latitude is always in that latitude's band, so the answers are identical, only faster.
    """

    BANDS = 512

    def __init__(self, polygons: list[list[Ring]]) -> None:
        self._polygons = [[self._index(ring) for ring in poly] for poly in polygons]

    @classmethod
    def _band(cls, y: float, y0: float, height: float) -> int:
        return min(cls.BANDS - 1, max(0, int((y - y0) / height)))

    @classmethod
    def _index(cls, ring: Ring) -> tuple[float, float, float, list[list[tuple]]]:
        ys = [y for _, y in ring]
        y0, y1 = min(ys), max(ys)
        height = (y1 - y0) / cls.BANDS or 1.0
        bands: list[list[tuple]] = [[] for _ in range(cls.BANDS)]
        j = len(ring) - 1
        for i in range(len(ring)):
            (xi, yi), (xj, yj) = ring[i], ring[j]
            low, high = cls._band(min(yi, yj), y0, height), cls._band(max(yi, yj), y0, height)
            for b in range(low, high + 1):
                bands[b].append((xi, yi, xj, yj))
            j = i
        return y0, y1, height, bands

    @classmethod
    def _in_ring(cls, lon: float, lat: float, index) -> bool:
        y0, y1, height, bands = index
        if not y0 <= lat <= y1:
            return False
        inside = False
        for xi, yi, xj, yj in bands[cls._band(lat, y0, height)]:
            if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
                inside = not inside
        return inside

    def contains(self, lat: float, lon: float) -> bool:
        for outer, *holes in self._polygons:
            if self._in_ring(lon, lat, outer) and \
                    not any(self._in_ring(lon, lat, h) for h in holes):
                return True
        return False


@dataclass(eq=False)
class _Village:
    id: int
    code: str
    name: str
    short: str
    lat: float = 0.0
    lon: float = 0.0


@dataclass(eq=False)
class _Grid:
    id: int
    code: str
    name: str
    place: str  # how a report names the place: village or "{town}中心区"
    town: _Town
    village_id: int | None
    lat: float
    lon: float
    radius_km: float = 1.0
    safe_km: float = 0.5  # a disc of this radius lies inside the hexagon
    polygon: str = ""
    leader: _Person | None = None
    members: list[_Person] = field(default_factory=list)


@dataclass(eq=False)
class _Person:
    id: int
    code: str
    name: str
    phone: str
    title: str
    kind: str  # department kind within the town
    town: _Town
    grids: list[_Grid] = field(default_factory=list)


@dataclass(eq=False)
class _Town:
    id: int
    code: str
    name: str
    lat: float
    lon: float
    index: int
    weight: float
    low_lying: bool
    villages: list[_Village] = field(default_factory=list)
    grids: list[_Grid] = field(default_factory=list)
    grid_cum: list[float] = field(default_factory=list)
    depts: dict[str, int] = field(default_factory=dict)
    staff: list[_Person] = field(default_factory=list)
    dept_staff: dict[str, list[_Person]] = field(default_factory=dict)
    cameras: list[str] = field(default_factory=list)  # names of analytics cameras
    sensors: dict[str, list[str]] = field(default_factory=lambda: {"water_level": [], "gas": []})

    def pick_grid(self, rng: random.Random) -> _Grid:
        return rng.choices(self.grids, cum_weights=self.grid_cum)[0]


@dataclass(frozen=True, eq=False)
class _Class:
    id: int
    minor_name: str
    amount: int
    unit: str
    dept_kind: str
    weight: float
    details: tuple[str, ...]

    @property
    def emergency(self) -> bool:
        return self.unit == "minutes"


@dataclass(frozen=True)
class _Actor:
    id: int
    name: str
    staff_id: int | None = None


@dataclass
class _World:
    """Everything later phases need, loaded or built inside the build transaction."""

    now: dt.datetime
    days: int
    seed: int
    city_id: int
    outline: _Outline
    calendar: WorkCalendar
    towns: list[_Town]
    classes: list[_Class]
    city_depts: dict[str, int]  # kind -> city-level department id
    admin: UserAccount
    grids: list[_Grid] = field(default_factory=list)
    people: list[_Person] = field(default_factory=list)
    cast: _Cast | None = None
    ids: dict[str, int] = field(default_factory=dict)  # table -> last id used

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def point_in(self, rng: random.Random, grid: _Grid) -> tuple[float, float]:
        """A point inside ``grid`` and inside the city; the grid centre if none is found."""
        for _ in range(8):
            lat, lon = _offset(grid.lat, grid.lon, grid.safe_km * math.sqrt(rng.random()),
                               rng.random() * TAU)
            if self.outline.contains(lat, lon):
                return lat, lon
        return grid.lat, grid.lon


def _load_world(session: Session, *, now: dt.datetime, days: int, seed: int,
                high_water: dict[str, int]) -> _World:
    city = session.scalar(select(City).where(City.code == DONGGUAN.code))
    outline = _Outline(rings_of(json.loads(city.outline_geojson)))
    towns: list[_Town] = []
    by_id: dict[int, _Town] = {}
    for i, row in enumerate(session.execute(
            select(Town.id, Town.code, Town.name, Town.lat, Town.lon)
            .where(Town.city_id == city.id).order_by(Town.id))):
        town = _Town(row.id, row.code, row.name, row.lat, row.lon, i,
                     TOWN_WEIGHTS.get(row.name, 1.0), row.name in LOW_LYING_TOWNS)
        towns.append(town)
        by_id[town.id] = town
    for row in session.execute(select(Village.id, Village.town_id, Village.code, Village.name)
                               .where(Village.town_id.in_(list(by_id))).order_by(Village.id)):
        by_id[row.town_id].villages.append(
            _Village(row.id, row.code, row.name, _short_village(row.name)))
    city_depts = dict(session.execute(
        select(Department.kind, Department.id)
        .where(Department.city_id == city.id, Department.town_id.is_(None))
        .order_by(Department.id)).all())
    kind_of = {dept_id: kind for kind, dept_id in city_depts.items()}
    classes = [
        _Class(c.id, c.minor_name, c.limit_amount, c.limit_unit,
               kind_of.get(c.department_id, "enforcement"), c.weight,
               DETAILS.get(c.minor_name) or _details_from_standard(c.opening_standard))
        for c in session.scalars(select(CaseClass).where(CaseClass.active.is_(True))
                                 .order_by(CaseClass.id))
    ]
    admin = session.scalar(select(UserAccount).where(UserAccount.role == Role.ADMIN.value)
                           .order_by(UserAccount.id).limit(1))
    towns_table = Town.__table__
    session.execute(update(towns_table).where(towns_table.c.city_id == city.id)
                    .values(low_lying=towns_table.c.name.in_(LOW_LYING_TOWNS)))
    return _World(now=now, days=days, seed=seed, city_id=city.id, outline=outline,
                  calendar=load_calendar(session), towns=towns, classes=classes,
                  city_depts=city_depts, admin=admin, ids=dict(high_water))


def _details_from_standard(standard: str) -> tuple[str, ...]:
    """Fragments of an opening standard ("路灯夜间不亮、白天常亮…") to describe a problem."""
    clause = standard.split("，")[0].split("。")[0]
    parts = tuple(p for p in clause.replace("或", "、").split("、") if len(p) >= 2)
    return parts or (clause,)
