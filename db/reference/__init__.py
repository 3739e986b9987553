"""The city's reference data: towns, villages, grids, departments and the national case-class catalogue."""
