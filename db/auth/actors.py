"""Who is acting: the account behind an actor id, read inside the caller's transaction."""
from __future__ import annotations

from sqlalchemy.orm import Session

from db.core import validate
from db.core.errors import PermissionDenied
from db.models import UserAccount


def load_actor(session: Session, actor_id: int) -> UserAccount:
    """The active account ``actor_id``; its role is what the checks use, never the caller's.
    An id that is not a whole number is refused (:mod:`db.core.validate`) before any query."""
    actor_id = validate.record_id(actor_id, "账号")
    actor = session.get(UserAccount, actor_id)
    if actor is None or not actor.active:
        raise PermissionDenied("账号不存在或已停用", code="account_inactive", actor_id=actor_id)
    return actor
