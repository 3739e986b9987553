"""Passwords never travel in a URL: they come from libpq's password file or the environment.

A URL on a command line is seen by every user of the machine (``ps``, ``/proc/<pid>/cmdline``),
kept in shell history and copied into child processes' arguments and logs. So a PostgreSQL URL
given to CityOps names the user, host, port and database only; libpq finds the password itself
in ``$PGPASSFILE`` (default ``~/.pgpass``, which it ignores unless only its owner can read it)
or in ``$PGPASSWORD``. :func:`refuse_password_in_url` is the one check; :func:`write_pgpass`
the one writer of the file (``cityops db setup-roles`` and ``scripts/pg-cluster.sh``).
"""
from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

from db.core.errors import PasswordInUrl

#: How to give libpq a password, for messages (the CLI prints it, the window words the code).
PASSWORD_HELP = (
    "put the password in libpq's password file, one line host:port:database:user:password, "
    "readable only by you (chmod 600), and point PGPASSFILE at it (default ~/.pgpass); "
    "or set PGPASSWORD in the environment"
)

__all__ = ["PASSWORD_HELP", "PasswordInUrl", "new_password", "pgpass_lookup", "pgpass_path",
           "refuse_password_in_url", "shown_url", "url_password", "write_pgpass"]


def url_password(url: str) -> str | None:
    """The password a database URL carries (``user:pw@`` or ``?password=``), else None."""
    try:
        parsed = make_url(url)
    except Exception:  # not a URL: it carries nothing we can see; the driver will say why
        return None
    if parsed.password:
        return str(parsed.password)
    query = parsed.query.get("password")
    if isinstance(query, tuple):
        query = query[0] if query else None
    return query or None


def shown_url(url: str) -> str:
    """The URL with any password masked, for messages and logs."""
    try:
        parsed = make_url(url)
    except Exception:
        return url
    if "password" in parsed.query:
        parsed = parsed.difference_update_query(["password"])
    return parsed.render_as_string(hide_password=True)


def refuse_password_in_url(url: str, option: str = "--db") -> None:
    """Raise :class:`PasswordInUrl` when ``url`` holds a password."""
    if url_password(url):
        raise PasswordInUrl(option, shown_url(url))


def new_password() -> str:
    """A random password for a database role: 32 characters from [A-Za-z0-9_-] (no ``:`` or
    ``\\``, which the password file would need escaped)."""
    return secrets.token_urlsafe(24)


def pgpass_path() -> Path:
    """The password file libpq reads: ``$PGPASSFILE``, else ``~/.pgpass``."""
    return Path(os.environ.get("PGPASSFILE") or Path.home() / ".pgpass")


def _escape(field: str) -> str:
    return field.replace("\\", "\\\\").replace(":", "\\:")


def _fields(line: str) -> list[str]:
    out, cur, escaped = [], [], False
    for ch in line:
        if escaped:
            cur.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ":":
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def pgpass_lookup(path: Path, host: str, port: int | str, user: str,
                  database: str = "*") -> str | None:
    """The password ``path`` gives ``user`` at ``host:port`` for ``database`` (libpq's rule:
    the first line that matches, ``*`` matching anything), else None."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    want = [host, str(port), database, user]
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = _fields(line)
        if len(fields) < 5:
            continue
        if all(f == "*" or f == w for f, w in zip(fields[:4], want)):
            return ":".join(fields[4:])
    return None


def write_pgpass(path: Path, user: str, password: str, *, hosts: list[str], port: int | str,
                 database: str = "*") -> None:
    """Put ``user``'s password for ``hosts:port:database`` in ``path``, replacing that user's
    lines for the same host, port and database; the file is (re)written readable by its owner
    only (libpq ignores a file others can read), atomically, so a reader never sees half of it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        old = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        old = []
    keys = {(h, str(port), database, user) for h in hosts}
    kept = [line for line in old
            if tuple(_fields(line)[:4]) not in keys or line.lstrip().startswith("#")]
    new = [":".join(_escape(f) for f in (h, str(port), database, user, password)) for h in hosts]
    # Specific lines first: libpq takes the first match, and a "*" line would shadow them.
    lines = new + kept
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".pgpass.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
