"""Reference data every database needs: the city and its divisions, departments, the case-class
catalogue, the official calendar, office hours and an administrator. Idempotent."""
from __future__ import annotations

import csv
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.auth.roles import Role
from db.auth.security import hash_password
from db.core import feed
from db.core.audit import audit
from db.core.engine import Database
from db.core.entities import Entity
from db.models import AppSetting, CaseClass, ChangeLog, City, Department, Town, UserAccount, Village
from db.reference.catalogue import CATALOGUE, DEPARTMENTS
from db.worktime.calendar_data import office_hours_json, seed_calendar
from db.worktime.clock import OFFICE_HOURS_SETTING

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
ADMIN_USERNAME = "admin"


@dataclass(frozen=True)
class CitySource:
    code: str
    name: str
    prefix: str  # short prefix for generated codes (DG)
    folder: Path


DONGGUAN = CitySource("441900", "东莞市", "DG", RESOURCES / "data" / "dongguan")


def _kind_of_town(name: str) -> str:
    return "街道" if name.endswith("街道") else "镇" if name.endswith("镇") else "园区"


def _kind_of_village(name: str) -> str:
    return "村" if "村民委员会" in name or name.endswith("村委会") else "社区"


def load_city(session: Session, source: CitySource = DONGGUAN) -> City:
    """Insert the city, its towns and villages unless present; return the city."""
    city = session.scalar(select(City).where(City.code == source.code))
    if city is not None:
        return city
    outline = json.loads((source.folder / "outline.geojson").read_text(encoding="utf-8"))
    feature = outline["features"][0]
    lon, lat = feature["properties"]["center"]
    city = City(code=source.code, name=source.name, center_lat=lat, center_lon=lon,
                outline_geojson=json.dumps(feature["geometry"]))
    session.add(city)
    session.flush()
    seats = {r["name"]: (float(r["lat"]), float(r["lon"]))
             for r in _csv(source.folder / "town_seats.csv")}
    town_ids: dict[str, int] = {}
    for row in _csv(source.folder / "towns.csv"):
        lat_lon = seats.get(row["name"], (None, None))
        town = Town(city_id=city.id, code=row["code"], name=row["name"],
                    kind=_kind_of_town(row["name"]), lat=lat_lon[0], lon=lat_lon[1])
        session.add(town)
        session.flush()
        town_ids[row["code"]] = town.id
    session.execute(Village.__table__.insert(), [
        {"town_id": town_ids[r["town_code"]], "code": r["code"], "name": r["name"],
         "kind": _kind_of_village(r["name"]), "lat": None, "lon": None}
        for r in _csv(source.folder / "villages.csv")
    ])
    return city


def load_catalogue(session: Session, city: City) -> None:
    """City-level departments and the case-class catalogue."""
    have = set(session.scalars(select(Department.code)))
    for key, name in DEPARTMENTS.items():
        code = f"{city.code}-{key}"
        if code not in have:
            session.add(Department(code=code, name=name, kind=key, city_id=city.id))
    session.flush()
    dept = {d.kind: d.id for d in session.scalars(
        select(Department).where(Department.city_id == city.id, Department.town_id.is_(None)))}
    known = set(session.scalars(select(CaseClass.code)))
    for c in CATALOGUE:
        if c.code in known:
            continue
        session.add(CaseClass(
            code=c.code, kind=c.kind, major_code=c.major_code, major_name=c.major_name,
            minor_code=c.minor_code, minor_name=c.minor_name,
            opening_standard=c.opening_standard, closing_standard=c.closing_standard,
            limit_amount=c.limit_amount, limit_unit=c.limit_unit,
            department_id=dept.get(c.department), weight=c.weight,
        ))


def ensure_admin(session: Session, password: str | None = None) -> tuple[UserAccount, str | None]:
    """The administrator account; created on first use with ``password`` or, when none is
    given, a random one-time password that is returned (and shown once) — never a fixed one.
    A one-time password is only that: the account must change it at its first sign-in."""
    admin = session.scalar(select(UserAccount).where(UserAccount.username == ADMIN_USERNAME))
    if admin is not None:
        return admin, None
    one_time = not password
    password = password or secrets.token_urlsafe(9)
    admin = UserAccount(username=ADMIN_USERNAME, display_name="系统管理员",
                        role=Role.ADMIN.value, password_hash=hash_password(password),
                        must_change_password=one_time)
    session.add(admin)
    session.flush()
    return admin, password


def ensure_reference_data(database: Database, source: CitySource = DONGGUAN, *,
                          admin_password: str | None = None,
                          on_admin_created: Callable[[str], None] | None = None,
                          with_admin: bool = True) -> int:
    """Load everything a fresh database needs in one transaction; return the city id.

    ``on_admin_created(password)`` is called when this created the administrator with a
    one-time password, so the caller can show it (once: it is stored only as a hash). With
    ``with_admin`` false no administrator is created: a caller that cannot show the password
    (``cityops db migrate``, a headless screenshot) leaves that to the window's first start.
    """
    with database.write() as session:
        city = load_city(session, source)
        load_catalogue(session, city)
        seed_calendar(session)
        if session.get(AppSetting, OFFICE_HOURS_SETTING) is None:
            session.add(AppSetting(key=OFFICE_HOURS_SETTING, value_json=office_hours_json()))
        admin, created_password = (ensure_admin(session, admin_password) if with_admin
                                   else (None, None))
        if session.scalar(select(func.count()).select_from(Town)) and not session.scalar(
            select(func.count()).select_from(ChangeLog)
        ):
            audit(session, admin, "reference.load", "city", city.id, {"code": source.code})
            feed.publish(session, Entity.ALL, [None], op=feed.RELOAD)
        city_id = city.id
    database.invalidate()
    if created_password and on_admin_created:
        on_admin_created(created_password)
    return city_id


def has_admin(session: Session) -> bool:
    """Whether the administrator account exists (``ensure_admin`` has run)."""
    return session.scalar(select(UserAccount.id).where(UserAccount.username == ADMIN_USERNAME)) \
        is not None


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
