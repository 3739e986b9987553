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


def url_servers(url) -> list[tuple[str | None, int]]:
    """The (host, port) pairs a PostgreSQL URL names, in the order libpq tries them: one for
    ``postgresql://user@host:port/db``, one per ``host=`` for a multi-host URL
    (``postgresql://user@/db?host=a:5432&host=b:5433``, a primary and its standby)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(normalise_url(str(url)) if isinstance(url, str) else url)
    default_port = parsed.port or 5432
    hosts = parsed.query.get("host")
    if not hosts:
        return [(parsed.host, default_port)]
    out = []
    for item in (hosts,) if isinstance(hosts, str) else hosts:
        host, _, port = item.rpartition(":") if ":" in item else (item, "", "")
        out.append((host or None, int(port) if port.isdigit() else default_port))
    return out


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` / ``postgres://`` and route it through psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
