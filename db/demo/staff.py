"""Staff: the city-management workforce (公务员, 事业编, 协管员 in Dongguan's real proportions) shared
out among the towns by their number of grids, each person in one of the town's departments; every
grid gets a leader from the established staff and five to eight members from the assistants,
and everyone out on a grid gets a live position inside it.
"""
from __future__ import annotations

import datetime as dt
import random

from sqlalchemy.orm import Session

from db.demo.places import TOWN_KINDS
from db.demo.world import _apportion, _insert, _mobile, _name, _Person, _rng, _Town, _World
from db.models import Grid, GridMember, Staff, StaffPosition

#: Dongguan's city-management workforce (DOMAIN.md, "Scale").
STAFF_TITLES = (("公务员", 324), ("事业编", 843), ("协管员", 2868))


def _build_people(session: Session, w: _World) -> None:
    rng = _rng(w.seed, "people")
    titles = [title for title, n in STAFF_TITLES for _ in range(n)]
    rng.shuffle(titles)
    # Staff follow the grids (each needs a leader and 5-8 members) plus a town office.
    counts = _apportion(len(titles), [len(t.grids) * 6 + 12 for t in w.towns])
    it = iter(titles)
    for town, n in zip(w.towns, counts):
        town.dept_staff = {kind: [] for kind in TOWN_KINDS}
        for _ in range(n):
            sid = w.next_id("staff")
            kind = rng.choices(TOWN_KINDS, cum_weights=(55, 80, 100))[0]
            person = _Person(sid, f"DG{sid:06d}", _name(rng), _mobile(rng), next(it), kind, town)
            town.staff.append(person)
            town.dept_staff[kind].append(person)
            w.people.append(person)
        _staff_grids(rng, town)

    _insert(session, Staff.__table__, [
        {"id": p.id, "code": p.code, "name": p.name, "phone": p.phone, "title": p.title,
         "department_id": p.town.depts[p.kind], "town_id": p.town.id, "active": True}
        for p in w.people])
    _insert(session, Grid.__table__, [
        {"id": g.id, "code": g.code, "name": g.name, "town_id": g.town.id,
         "village_id": g.village_id, "polygon_geojson": g.polygon, "center_lat": g.lat,
         "center_lon": g.lon, "leader_id": g.leader.id if g.leader else None}
        for g in w.grids])
    members = []
    for g in w.grids:
        if g.leader is not None:
            members.append({"grid_id": g.id, "staff_id": g.leader.id, "duty": "网格长", "sort": 0})
        members += [{"grid_id": g.id, "staff_id": p.id, "duty": "网格员", "sort": k}
                    for k, p in enumerate(g.members, 1)]
    _insert(session, GridMember.__table__, members)

    positions = []
    for p in w.people:
        if not p.grids:
            continue  # office staff: no live position
        lat, lon = w.point_in(rng, p.grids[0])
        positions.append({"staff_id": p.id, "lat": lat, "lon": lon,
                          "at": w.now - dt.timedelta(seconds=rng.randrange(600)),
                          "on_duty": rng.random() < 0.9})
    _insert(session, StaffPosition.__table__, positions)


def _staff_grids(rng: random.Random, town: _Town) -> None:
    """Leaders from the established staff, members from the assistants, in rotation so that
    everyone is used before anyone serves a second grid."""
    leaders = [p for p in town.staff if p.title != "协管员"] or list(town.staff)
    helpers = [p for p in town.staff if p.title == "协管员"]
    if len(helpers) < 9:
        helpers = list(town.staff)
    rng.shuffle(leaders)
    rng.shuffle(helpers)
    cursor = 0
    for k, grid in enumerate(town.grids):
        grid.leader = leaders[k % len(leaders)]
        grid.leader.grids.append(grid)
        wanted = rng.randint(5, 8)
        for _ in range(len(helpers) * 2):
            if len(grid.members) == wanted:
                break
            person = helpers[cursor % len(helpers)]
            cursor += 1
            if person is not grid.leader and person not in grid.members:
                grid.members.append(person)
                person.grids.append(grid)
