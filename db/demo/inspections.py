"""Inspections and black spots ("一必检、三随机"): every week each town gets one mandatory inspection
of its centre and three random village grids, scored on five counts; the first weeks' visits
found the city's 94 black spots (most removed since), and each visit records findings, some of
them also reported as cases by the inspector that day.
"""
from __future__ import annotations

import datetime as dt
import random

from sqlalchemy.orm import Session

from db.demo.vocabulary import ROADS
from db.demo.world import _cum, _from_local, _Grid, _insert, _local, _rng, _Town, _World
from db.models import BlackSpot, Inspection, InspectionFinding

BLACK_SPOTS, BLACK_SPOTS_REMOVED = 94, 86


FINDING_PROBLEMS = ("路面散落垃圾", "垃圾桶满溢", "店外经营占道", "违规悬挂横幅", "绿化带枯死缺株",
                    "井盖破损", "燃气瓶违规存放", "沿街晾挂", "乱堆杂物", "非法小广告", "公厕保洁不到位",
                    "车辆乱停放")
SPOT_CATEGORIES = (("village", 35), ("road", 25), ("market", 15), ("park", 10), ("toilet", 15))
SPOT_PROBLEMS = ("垃圾堆积、污水横流，群众反映强烈", "乱摆卖、乱堆放问题反复出现", "卫生死角长期无人清理",
                 "占道经营、乱停放问题突出", "设施破损、环境脏乱")


def _build_spots_and_inspections(session: Session, w: _World,
                                 links: dict[tuple[int, dt.date], list]) -> tuple[int, int, int]:
    rng = _rng(w.seed, "inspections")
    cal = w.calendar
    first = _local(w.now - dt.timedelta(days=w.days)).date()
    today = _local(w.now).date()
    inspectors = [a.staff_id for a in w.cast.inspectors if a.staff_id is not None] or \
        [p.id for p in w.people[:20]]
    quality = {t.id: rng.uniform(74, 92) for t in w.towns}  # how well kept each town is

    inspections: list[dict] = []
    visits: list[tuple[dict, _Grid]] = []
    monday = first - dt.timedelta(days=first.weekday())
    while monday <= today:
        week = [monday + dt.timedelta(days=k) for k in range(5)]
        for town in w.towns:
            open_days = [d for d in week if first <= d <= today and cal.is_workday(d)[0]]
            if not open_days:
                continue
            day = rng.choice(open_days)
            centre = town.grids[0]
            picks = rng.sample(town.grids[1:], min(3, len(town.grids) - 1))
            for kind, grid in [("mandatory", centre)] + [("random", g) for g in picks]:
                scores = {}
                for key, bias in (("score_cleanliness", 0), ("score_six_disorders", -3),
                                  ("score_landscaping", 1), ("score_facilities", 0),
                                  ("score_gas_safety", 4)):
                    score = rng.gauss(quality[town.id] + bias, 6)
                    scores[key] = round(min(100.0, max(60.0, score)), 1)
                row = {"id": w.next_id("inspection"), "kind": kind, "town_id": town.id,
                       "village_id": grid.village_id, "inspected_on": day,
                       "inspector_id": rng.choice(inspectors),
                       "notes": ("一必检：" if kind == "mandatory" else "三随机：") + grid.place,
                       **scores}
                inspections.append(row)
                visits.append((row, grid))
        monday += dt.timedelta(days=7)
    _insert(session, Inspection.__table__, inspections)

    # The first batch of black spots comes from the first weeks' inspections.
    early_end = first + dt.timedelta(days=max(7, min(21, w.days // 3)))
    early = [v for v in visits if v[0]["inspected_on"] <= early_end] or visits
    spots, findings = [], []
    removed = set(rng.sample(range(BLACK_SPOTS), BLACK_SPOTS_REMOVED))  # membership only
    category_cum = _cum([weight for _, weight in SPOT_CATEGORIES])
    for n in range(BLACK_SPOTS if early else 0):
        visit, grid = rng.choice(early)
        town = grid.town
        category = rng.choices([c for c, _ in SPOT_CATEGORIES], cum_weights=category_cum)[0]
        name = _spot_name(rng, category, town, grid)
        found = min(_from_local(visit["inspected_on"], rng.randrange(9 * 3600, 17 * 3600)),
                    w.now - dt.timedelta(hours=2))
        lat, lon = w.point_in(rng, grid)
        gone = None
        if n in removed:
            gone = min(found + dt.timedelta(seconds=rng.randrange(6 * 86400, 33 * 86400)),
                       w.now - dt.timedelta(hours=1))
            gone = gone if gone > found else None
        spot_id = w.next_id("black_spot")
        spots.append({
            "id": spot_id, "code": f"DG-HD-{_local(found):%Y%m}-{n + 1:03d}", "name": name,
            "category": category, "town_id": town.id, "village_id": grid.village_id,
            "lat": lat, "lon": lon, "description": rng.choice(SPOT_PROBLEMS),
            "status": "removed" if gone else "active", "found_at": found, "removed_at": gone,
            "last_recheck_at": gone,
            "failed_rechecks": 0 if gone or rng.random() < 0.6 else 1})
        findings.append({"id": w.next_id("inspection_finding"), "inspection_id": visit["id"],
                         "black_spot_id": spot_id, "case_id": None,
                         "description": f"黑点：{name}，{spots[-1]['description']}",
                         "lat": lat, "lon": lon})
    _insert(session, BlackSpot.__table__, spots)

    for visit, grid in visits:
        candidates = links.get((grid.town.id, visit["inspected_on"]), [])
        for _ in range(rng.choices((0, 1, 2, 3), cum_weights=(35, 70, 90, 100))[0]):
            if candidates and rng.random() < 0.5:  # the finding was also reported as a case
                case_id, lat, lon, what = candidates.pop()
                description = what
            else:
                case_id, (lat, lon) = None, w.point_in(rng, grid)
                description = f"{grid.place}{rng.choice(FINDING_PROBLEMS)}"
            findings.append({"id": w.next_id("inspection_finding"), "inspection_id": visit["id"],
                             "black_spot_id": None, "case_id": case_id,
                             "description": description, "lat": lat, "lon": lon})
    _insert(session, InspectionFinding.__table__, findings)
    return len(spots), len(inspections), len(findings)


def _spot_name(rng: random.Random, category: str, town: _Town, grid: _Grid) -> str:
    place = grid.place if grid.village_id else f"{town.name}中心区"
    if category == "village":
        return f"{place}{rng.choice(('背街小巷', '出租屋聚集区', '垃圾收集点周边', '城中村巷道'))}"
    if category == "road":
        a, b = rng.sample(ROADS, 2)
        return f"{town.name}{a}（{b}路口段）"
    if category == "market":
        return f"{town.name}{place.removeprefix(town.name)}农贸市场"
    if category == "park":
        return f"{town.name}{rng.choice(('文化广场', '体育公园', '滨河公园', '中心公园'))}"
    return f"{place}{rng.choice(('公厕', '垃圾转运站'))}"
