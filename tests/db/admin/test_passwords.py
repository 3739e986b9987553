"""Passwords stay out of URLs; the password file is written as libpq reads it."""
from __future__ import annotations

import stat

import pytest

from db.admin.passwords import (
    PasswordInUrl,
    pgpass_lookup,
    refuse_password_in_url,
    shown_url,
    url_password,
    write_pgpass,
)


@pytest.mark.parametrize("url", [
    "postgresql://cityops_app:s3cret@db.example:5432/cityops",
    "postgresql+psycopg://cityops_app:s3cret@127.0.0.1/cityops",
    "postgresql://cityops_app@127.0.0.1/cityops?password=s3cret",
    "postgresql://cityops_app@127.0.0.1/cityops?sslmode=require&password=s3cret",
])
def test_a_url_holding_a_password_is_refused_and_never_echoed(url):
    assert url_password(url) == "s3cret"
    with pytest.raises(PasswordInUrl) as caught:
        refuse_password_in_url(url, "--db")
    err = caught.value
    assert err.code == "password_in_url" and err.params["option"] == "--db"
    assert "s3cret" not in err.message and "s3cret" not in err.params["url"]
    assert "PGPASSFILE" in err.message
    assert "s3cret" not in shown_url(url)


@pytest.mark.parametrize("url", [
    "postgresql://cityops_app@127.0.0.1:5432/cityops",
    "postgresql://127.0.0.1/cityops",
    "sqlite:///tmp/x.sqlite3",
    "sqlite://",
])
def test_a_url_without_password_passes(url):
    assert url_password(url) is None
    refuse_password_in_url(url)


def test_the_password_file_is_private_replaces_a_users_line_and_escapes(tmp_path):
    path = tmp_path / "sub" / "pgpass"
    write_pgpass(path, "cityops_app", "first", hosts=["127.0.0.1", "localhost"], port=5432)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    write_pgpass(path, "cityops_owner", "own:er\\pw", hosts=["127.0.0.1"], port=5432)
    write_pgpass(path, "cityops_app", "second", hosts=["127.0.0.1", "localhost"], port=5432)
    lines = path.read_text().splitlines()
    # One line per host for the app (the old password gone), the owner's escaped by libpq's rule.
    assert lines.count("127.0.0.1:5432:*:cityops_app:second") == 1
    assert not any("first" in line for line in lines)
    assert "127.0.0.1:5432:*:cityops_owner:own\\:er\\\\pw" in lines
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert pgpass_lookup(path, "127.0.0.1", 5432, "cityops_owner") == "own:er\\pw"
    assert pgpass_lookup(path, "localhost", 5432, "cityops_app") == "second"
    assert pgpass_lookup(path, "127.0.0.1", 5433, "cityops_app") is None
    write_pgpass(path, "t_app", "any", hosts=["127.0.0.1"], port="*")
    assert pgpass_lookup(path, "127.0.0.1", 40001, "t_app") == "any"  # a proxy's port
