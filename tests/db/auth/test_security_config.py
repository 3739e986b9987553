"""Password hashes, masking of reporters' data, and where the database URL comes from."""
from __future__ import annotations

from db.auth.security import hash_password, mask_name, mask_phone, verify_password
from db.core import config


def test_passwords_are_argon2_hashes_that_verify():
    hashed = hash_password("s3cret-口令")
    assert hashed.startswith("$argon2id$") and "s3cret" not in hashed
    assert verify_password(hashed, "s3cret-口令")
    assert not verify_password(hashed, "s3cret")
    assert not verify_password("not-a-hash", "s3cret")


def test_reporter_contact_is_masked_for_display():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0769-22221234") == "076******1234"
    assert mask_phone("110") == "***"
    assert mask_phone(None) == ""
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"


def test_database_url_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv(config.ENV_VAR, "postgres://u@h/db")
    assert config.resolve_url("sqlite:///x.db") == "sqlite:///x.db"
    assert config.resolve_url() == "postgresql+psycopg://u@h/db"
    monkeypatch.delenv(config.ENV_VAR)
    monkeypatch.setattr(config, "default_sqlite_path", lambda: tmp_path / "d" / "c.sqlite3")
    assert config.resolve_url() == f"sqlite:///{tmp_path / 'd' / 'c.sqlite3'}"
    assert (tmp_path / "d").is_dir()
