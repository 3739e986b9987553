"""Rebuilding a demo wipes its invented case histories, which the database keeps append-only
(migration 0006): the owner may, the application role is told to use the owner's connection
(it may not build a demo at all on PostgreSQL, migration 0012)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from db.demo.build import DemoNeedsOwner, build_demo
from db.models import Case, CaseHistory
from tests.helpers import owner_database

NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)


def test_the_owner_rebuilds_the_application_role_is_refused_in_words(pg_env):
    with owner_database(pg_env) as owner:
        build_demo(owner, cases=60, days=10, now=NOW)
        with pytest.raises(DemoNeedsOwner, match="owner"):
            build_demo(pg_env.database, cases=60, days=10, now=NOW, seed=2)  # the app role
        with owner.read() as s:  # nothing of the refused rebuild stayed
            assert s.scalar(select(func.count()).select_from(Case)) == 60
        stats = build_demo(owner, cases=80, days=10, now=NOW, seed=3)  # the owner may
        with owner.read() as s:
            assert s.scalar(select(func.count()).select_from(Case)) == 80
            assert s.scalar(select(func.count()).select_from(CaseHistory)) == stats.history_rows
