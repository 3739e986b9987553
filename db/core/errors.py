"""Errors a workflow step can raise. Each carries a code and a plain Chinese message the UI
shows as is (or translates by ``code``)."""
from __future__ import annotations

import datetime as dt


class CityOpsError(Exception):
    code = "error"

    def __init__(self, message: str, **params) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


class NotFound(CityOpsError):
    code = "not_found"


class PermissionDenied(CityOpsError):
    code = "permission_denied"


class InvalidTransition(CityOpsError):
    code = "invalid_transition"


class ValidationError(CityOpsError):
    code = "invalid_data"


class OutsideCity(ValidationError):
    code = "outside_city"


class DatabaseUnavailable(CityOpsError):
    code = "database_unavailable"


class ConflictError(CityOpsError):
    """Someone else changed the case after this actor looked at it."""

    code = "conflict"

    def __init__(self, case_id: int, seen_version: int, current_version: int,
                 changed_by: str, changed_at: dt.datetime | None) -> None:
        when = changed_at.astimezone(_shanghai()).strftime("%H:%M:%S") if changed_at else "?"
        super().__init__(
            f"案件已被 {changed_by} 于 {when} 修改，请刷新后再操作",
            case_id=case_id, seen_version=seen_version, current_version=current_version,
            changed_by=changed_by, changed_at=changed_at,
        )
        self.case_id = case_id
        self.seen_version = seen_version
        self.current_version = current_version
        self.changed_by = changed_by
        self.changed_at = changed_at


def _shanghai():
    from db.worktime.clock import SHANGHAI

    return SHANGHAI
