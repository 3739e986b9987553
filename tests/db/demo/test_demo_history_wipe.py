"""Rebuilding a demo wipes its invented case histories, which the database keeps append-only
(migration 0006): the owner may, an application role is told to use the owner's connection."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from db.core.engine import open_database
from db.demo.build import DemoRefused, build_demo
from db.models import Case, CaseHistory

NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)


def test_the_owner_rebuilds_an_application_role_is_refused_in_words(pg_env):
    owner = pg_env.database
    build_demo(owner, cases=60, days=10, now=NOW)
    role = f"cityops_t_app_{uuid.uuid4().hex[:8]}"
    with owner.engine.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public '
                          f'TO "{role}"'))
        conn.execute(text(f'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public '
                          f'TO "{role}"'))
    app = open_database(make_url(owner.url).set(username=role)
                        .render_as_string(hide_password=False), migrate=False)
    try:
        with pytest.raises(DemoRefused, match="owner"):
            build_demo(app, cases=60, days=10, now=NOW, seed=2)
        with owner.read() as s:  # nothing of the refused rebuild stayed
            assert s.scalar(select(func.count()).select_from(Case)) == 60
        stats = build_demo(owner, cases=80, days=10, now=NOW, seed=3)  # the owner may
        with owner.read() as s:
            assert s.scalar(select(func.count()).select_from(Case)) == 80
            assert s.scalar(select(func.count()).select_from(CaseHistory)) == stats.history_rows
    finally:
        app.dispose()
        with owner.engine.begin() as conn:
            conn.execute(text(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"'))
            conn.execute(text(f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))
