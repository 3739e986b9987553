"""Places on the ground: city outline and grid polygons, distances, the map's points."""
