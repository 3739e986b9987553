"""The audit log: one append-only row per change (the database refuses UPDATE and DELETE)."""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy.orm import Session

from db.core.dbclock import server_now
from db.models import AuditLog, UserAccount


def audit(session: Session, actor: UserAccount | None, action: str, entity: str,
          entity_id: int | None, detail: dict | None = None, at: dt.datetime | None = None) -> None:
    """Append who did ``action`` to which record, in the caller's transaction, at ``at`` (by
    default the database's clock, :mod:`db.core.dbclock`)."""
    session.add(AuditLog(
        at=at or server_now(session), actor_id=actor.id if actor else None,
        actor_name=actor.display_name if actor else "system", action=action, entity=str(entity),
        entity_id=entity_id,
        detail_json=json.dumps(detail or {}, ensure_ascii=False, default=str),
    ))
