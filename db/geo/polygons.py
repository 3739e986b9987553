"""Plain-Python geometry: point-in-polygon, distances, and finding the grid of a point.

The city has a few thousand grids at most, so a bounding-box pre-check and a ray cast are
fast enough and need no GIS extension on either engine.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.core import validate
from db.core.errors import OutsideCity

Ring = list[tuple[float, float]]  # (lon, lat) pairs, as GeoJSON orders them


def rings_of(geometry: dict) -> list[list[Ring]]:
    """Polygons of a GeoJSON Polygon/MultiPolygon geometry as lists of rings."""
    kind, coords = geometry["type"], geometry["coordinates"]
    if kind == "Polygon":
        polygons = [coords]
    elif kind == "MultiPolygon":
        polygons = coords
    else:
        raise ValueError(f"not a polygon geometry: {kind}")
    return [[[(float(x), float(y)) for x, y, *_ in ring] for ring in poly] for poly in polygons]


def in_ring(lon: float, lat: float, ring: Ring) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def in_polygons(lon: float, lat: float, polygons: list[list[Ring]]) -> bool:
    for outer, *holes in polygons:
        if in_ring(lon, lat, outer) and not any(in_ring(lon, lat, h) for h in holes):
            return True
    return False



def check_coordinates(lat: float, lon: float) -> tuple[float, float]:
    """The one rule for a point (:func:`db.core.validate.coordinates`)."""
    return validate.coordinates(lat, lon)


@dataclass(frozen=True)
class Location:
    town_id: int | None
    village_id: int | None
    grid_id: int | None


@dataclass
class _GridShape:
    id: int
    town_id: int
    village_id: int | None
    bbox: tuple[float, float, float, float]
    polygons: list[list[Ring]]
    center: tuple[float, float]  # lat, lon


class CityGeo:
    """The outline and grids of the cities in a database, for locating reported points."""

    def __init__(self, outlines: dict[int, list[list[Ring]]], grids: list[_GridShape]) -> None:
        self.outlines = outlines
        self.grids = grids

    @classmethod
    def load(cls, session: Session) -> CityGeo:
        from db.models import City, Grid

        outlines = {
            cid: rings_of(json.loads(text))
            for cid, text in session.execute(select(City.id, City.outline_geojson))
            if text
        }
        grids = []
        for gid, town_id, village_id, text, clat, clon in session.execute(
            select(Grid.id, Grid.town_id, Grid.village_id, Grid.polygon_geojson,
                   Grid.center_lat, Grid.center_lon)
        ):
            polys = rings_of(json.loads(text))
            xs = [x for poly in polys for x, _ in poly[0]]
            ys = [y for poly in polys for _, y in poly[0]]
            grids.append(_GridShape(gid, town_id, village_id, (min(xs), min(ys), max(xs), max(ys)),
                                    polys, (clat, clon)))
        return cls(outlines, grids)

    def inside_city(self, city_id: int, lat: float, lon: float) -> bool:
        outline = self.outlines.get(city_id)
        return outline is None or in_polygons(lon, lat, outline)

    def locate(self, city_id: int, lat: float, lon: float) -> Location:
        """Town, village and grid of a point; raises :class:`OutsideCity` outside the outline."""
        lat, lon = check_coordinates(lat, lon)
        if not self.inside_city(city_id, lat, lon):
            raise OutsideCity(f"坐标 ({lat:.5f}, {lon:.5f}) 不在本市范围内", lat=f"{lat:.5f}",
                              lon=f"{lon:.5f}")
        for g in self.grids:
            x0, y0, x1, y1 = g.bbox
            if x0 <= lon <= x1 and y0 <= lat <= y1 and in_polygons(lon, lat, g.polygons):
                return Location(g.town_id, g.village_id, g.id)
        # Grids do not tile every field and river: fall back to the nearest grid's area.
        if self.grids:
            g = min(self.grids, key=lambda g: (g.center[0] - lat) ** 2 + (g.center[1] - lon) ** 2)
            return Location(g.town_id, g.village_id, None)
        return Location(None, None, None)


def city_geo(database, session) -> CityGeo:
    """The city's polygons, loaded once per database and kept in its cache (grids change
    rarely; a change on the feed empties the cache)."""
    geo = database.cache.get("geo")
    if geo is None:
        geo = database.cache["geo"] = CityGeo.load(session)
    return geo
