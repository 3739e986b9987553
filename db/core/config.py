"""Where the database is: ``--db`` beats ``CITYOPS_DB`` beats a SQLite file in the user data dir."""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_VAR = "CITYOPS_DB"


def default_sqlite_path() -> Path:
    return Path(platformdirs.user_data_dir("cityops", appauthor=False)) / "cityops.sqlite3"


def resolve_url(cli_value: str | None = None) -> str:
    """Return the SQLAlchemy URL to use, normalised for the drivers CityOps ships with."""
    url = cli_value or os.environ.get(ENV_VAR) or ""
    if not url:
        path = default_sqlite_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
    return normalise_url(url)


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` / ``postgres://`` and route it through psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
