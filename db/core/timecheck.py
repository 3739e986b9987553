"""Event times handed in by a caller: aware UTC or refused."""
from __future__ import annotations

import datetime as dt

from db.core.errors import ValidationError
from db.models import utcnow


def check_time(now: dt.datetime | None) -> dt.datetime:
    """``now`` when given (it must carry a time zone), else the current UTC time."""
    if now is None:
        return utcnow()
    if not isinstance(now, dt.datetime) or now.tzinfo is None:
        raise ValidationError("时间必须带时区（UTC）", code="time_not_aware", field="now")
    return now
