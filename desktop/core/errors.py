"""Errors from ``db/`` worded for the officer, through Qt Linguist.

``db/`` raises errors with a ``code`` (one per kind of message) and parameters; this module is
the one place that turns them into words in the user's language. A code it does not know falls
back to the Chinese message ``db/`` wrote, so nothing is ever shown empty.
"""
from __future__ import annotations

import datetime as dt
import enum
import logging

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from db.core.errors import (
    CityOpsError,
    ConflictError,
    OutcomeUnknown,
    is_connection_lost,
    is_database_busy,
)
from db.worktime.clock import SHANGHAI
from desktop.core import labels

log = logging.getLogger(__name__)


class Outcome(enum.StrEnum):
    """How an operation ended, as the UI reports it."""

    DONE = "done"
    OFFLINE = "offline"  # the database could not be reached: nothing was changed, try again
    CONFLICT = "conflict"  # someone changed the record first: it is shown afresh
    REFUSED = "refused"  # the data layer said no (role, state, data): nothing was changed
    FAILED = "failed"  # an unexpected error: logged
    BUSY = "busy"  # another operation of the same widget is still running
    DB_BUSY = "database_busy"  # the database stayed locked past its timeout: nothing changed
    UNKNOWN = "unknown"  # the link dropped during the write and the database could not be asked


_CONTEXT = "errors"
# {name} placeholders are filled from the error's parameters (after wording enum values).
MESSAGES: dict[str, str] = {
    "conflict": QT_TRANSLATE_NOOP("errors", "This {entity} was changed by {changed_by} at {when}. "
                                  "It has been refreshed; please check it and try again."),
    "database_unavailable": QT_TRANSLATE_NOOP(
        "errors", "The database is unreachable; nothing was changed. "
        "Try again when the connection is back."),
    "database_busy": QT_TRANSLATE_NOOP(
        "errors", "The database is busy; nothing was changed. Try again in a moment."),
    "not_found": QT_TRANSLATE_NOOP("errors", "{entity} {id} does not exist."),
    "case_ref_not_found": QT_TRANSLATE_NOOP("errors", "No case has the number {ref}."),
    "case_ref_invalid": QT_TRANSLATE_NOOP("errors", "{ref} is not a case number."),
    "account_inactive": QT_TRANSLATE_NOOP("errors", "This account does not exist or is disabled."),
    "bad_credentials": QT_TRANSLATE_NOOP("errors", "Wrong account name or password."),
    "wrong_password": QT_TRANSLATE_NOOP("errors", "The current password is wrong."),
    "sign_in_wait": QT_TRANSLATE_NOOP("errors", "Too many failed sign-ins. Wait {seconds} s, "
                                      "then try again."),
    "account_locked": QT_TRANSLATE_NOOP(
        "errors", "This account is locked after too many failed sign-ins. A shift leader or an "
        "administrator can unlock it."),
    "role_cannot_unlock": QT_TRANSLATE_NOOP("errors",
                                            "Only a shift leader or an administrator may unlock accounts."),
    "account_not_locked": QT_TRANSLATE_NOOP("errors", "The account {username} is not locked."),
    "handover_same_account": QT_TRANSLATE_NOOP(
        "errors", "The incoming officer must sign in with another account than the outgoing one."),
    "password_too_short": QT_TRANSLATE_NOOP("errors",
                                            "The new password needs at least {minimum} characters."),
    "password_unchanged": QT_TRANSLATE_NOOP("errors",
                                            "The new password must differ from the current one."),
    "outcome_unknown": QT_TRANSLATE_NOOP(
        "errors", "The connection dropped while saving and the database cannot be asked yet "
        "whether it was saved. It is checked as soon as the connection is back; trying again is "
        "safe and never does it twice."),
    "request_id_reused": QT_TRANSLATE_NOOP(
        "errors", "This request was already used for another action; nothing was done."),
    "request_id_invalid": QT_TRANSLATE_NOOP("errors", "The request id is not valid; nothing was done."),
    "role_cannot_step": QT_TRANSLATE_NOOP("errors",
                                          "A {role} may not {step} a case that is “{state}”."),
    "role_cannot_report": QT_TRANSLATE_NOOP("errors", "A {role} may not register cases."),
    "role_cannot_handle_alert": QT_TRANSLATE_NOOP("errors", "A {role} may not act on alerts."),
    "case_out_of_scope": QT_TRANSLATE_NOOP(
        "errors", "This case is not yours to act on: a {role} works only on the cases assigned "
        "to them, to their grid or to their department."),
    "assignee_inactive": QT_TRANSLATE_NOOP(
        "errors", "{name} has been deactivated: the case cannot be dispatched to them."),
    "step_not_allowed": QT_TRANSLATE_NOOP("errors", "The case is “{state}”; it cannot {step}."),
    "alert_cleared": QT_TRANSLATE_NOOP("errors", "The alert has been cleared already."),
    "clear_reason_required": QT_TRANSLATE_NOOP(
        "errors", "This critical alarm is still live (not acknowledged, or its sensor still "
        "reads at that level): say why you clear it."),
    "phone_invalid": QT_TRANSLATE_NOOP(
        "errors", "The phone number is not valid: digits, spaces, dashes and brackets only, 3 to "
        "20 digits."),
    "phone_key_none": QT_TRANSLATE_NOOP(
        "errors", "This database has no key for reporters' phone numbers yet. An administrator "
        "runs “cityops db make-key” and installs the key file on every workstation."),
    "phone_key_missing": QT_TRANSLATE_NOOP(
        "errors", "Phone number key {key_id} is not installed on this workstation (looked for "
        "{path}). Ask an administrator for the key file."),
    "phone_key_mismatch": QT_TRANSLATE_NOOP(
        "errors", "The key file {path} belongs to another database (key {file_id}, this "
        "database uses {key_id}). Ask an administrator for this database's key file."),
    "phone_key_unsafe": QT_TRANSLATE_NOOP(
        "errors", "The phone number key file {path} may be read by other users ({mode}) and is "
        "not used. Make it readable by you only: chmod 600 {path}"),
    "phone_key_bad_file": QT_TRANSLATE_NOOP(
        "errors", "{path} is not a CityOps phone number key file."),
    "phone_key_exists": QT_TRANSLATE_NOOP(
        "errors", "This database already has a phone number key ({key_id}); nothing was changed."),
    "phone_sealed_broken": QT_TRANSLATE_NOOP(
        "errors", "The stored phone number does not open with this database's key: it was "
        "altered, or sealed with another key."),
    "role_cannot_reveal_phone": QT_TRANSLATE_NOOP(
        "errors", "A {role} may not see the reporter's full phone number."),
    "setting_invalid": QT_TRANSLATE_NOOP("errors", "The setting {field} is not valid: {value}"),
    "setting_unknown": QT_TRANSLATE_NOOP("errors", "There is no setting called {field}."),
    "role_cannot_change_settings": QT_TRANSLATE_NOOP("errors", "A {role} may not change the city settings."),
    "alert_already_linked": QT_TRANSLATE_NOOP("errors",
                                              "The alert is already linked to case {number}."),
    "alert_no_location": QT_TRANSLATE_NOOP(
        "errors", "The alert has no location: link it to a case or register the case by hand."),
    "version_invalid": QT_TRANSLATE_NOOP("errors", "Version {seen} is not valid (now {current})."),
    "time_not_aware": QT_TRANSLATE_NOOP("errors", "A time must carry its time zone (UTC)."),
    "caller_time_refused": QT_TRANSLATE_NOOP(
        "errors", "Event times come from the database server's clock; a time given by the caller "
        "is not accepted."),
    "text_not_text": QT_TRANSLATE_NOOP("errors", "{field} must be text."),
    "text_bad_encoding": QT_TRANSLATE_NOOP("errors", "{field} contains invalid characters."),
    "text_control_char": QT_TRANSLATE_NOOP("errors",
                                           "{field} contains a control character ({char})."),
    "text_too_long": QT_TRANSLATE_NOOP("errors",
                                       "{field} is too long: {length} characters, at most {limit}."),
    "text_required": QT_TRANSLATE_NOOP("errors", "Please fill in {field}."),
    "unclassified": QT_TRANSLATE_NOOP("errors",
                                      "The case has no class yet, so its time limit is unknown."),
    "source_or_urgency_invalid": QT_TRANSLATE_NOOP("errors", "Unknown channel or urgency: {reason}"),
    "no_city_data": QT_TRANSLATE_NOOP("errors", "The database holds no city yet."),
    "unknown_class": QT_TRANSLATE_NOOP("errors", "Case class {id} does not exist."),
    "unknown_department": QT_TRANSLATE_NOOP("errors", "Department {id} does not exist."),
    "unknown_staff": QT_TRANSLATE_NOOP("errors", "Staff member {id} does not exist."),
    "unknown_account": QT_TRANSLATE_NOOP("errors", "Account {id} does not exist."),
    "extension_invalid": QT_TRANSLATE_NOOP("errors",
                                           "Extension of {amount} {unit} is not valid (at most {limit})."),
    "no_pending_extension": QT_TRANSLATE_NOOP("errors", "There is no extension request to approve."),
    "rework_undispatched": QT_TRANSLATE_NOOP(
        "errors", "This case was fixed on the spot, never dispatched: it cannot be reworked. "
        "Register it again."),
    "deadline_incomputable": QT_TRANSLATE_NOOP("errors", "The deadline cannot be computed: {reason}"),
    "coordinates_invalid": QT_TRANSLATE_NOOP("errors", "Invalid coordinates: {value}"),
    "value_required": QT_TRANSLATE_NOOP("errors", "{field} is missing."),
    "value_not_integer": QT_TRANSLATE_NOOP("errors",
                                           "{field} must be a whole number (got {value})."),
    "value_not_number": QT_TRANSLATE_NOOP("errors",
                                          "{field} must be a finite number (got {value})."),
    "value_out_of_range": QT_TRANSLATE_NOOP(
        "errors", "{field} must be between {minimum} and {maximum} (got {value})."),
    "value_not_list": QT_TRANSLATE_NOOP("errors", "{field} must be a list (got {value})."),
    "value_unknown": QT_TRANSLATE_NOOP("errors", "{field} is not a known value: {value}"),
    "extension_unit_invalid": QT_TRANSLATE_NOOP("errors",
                                                "Unknown unit of time for an extension: {unit}"),
    "unknown_reference": QT_TRANSLATE_NOOP("errors", "{field} {id} does not exist."),
    "alarm_invalid": QT_TRANSLATE_NOOP(
        "errors", "An alarm must be a record of named fields (got {value})."),
    "outside_city": QT_TRANSLATE_NOOP("errors", "The point ({lat}, {lon}) is outside the city."),
    "demo_needs_owner": QT_TRANSLATE_NOOP(
        "errors", "The database account {role} does not own the schema: only its owner or a "
        "superuser may build demo data (demo mode signs accounts in without a password). Run "
        "“cityops demo --db URL” with the owner's URL."),
    "privileged_connection": QT_TRANSLATE_NOOP(
        "errors", "The database account {role} is a {kind}: a workstation may connect only as "
        "the application role, which cannot change the database's rules. An administrator sets "
        "the roles up once with “cityops db setup-roles --superuser-url URL”, then starts "
        "CityOps with the application role's URL (its password in the PGPASSFILE file)."),
    "schema_not_current": QT_TRANSLATE_NOOP(
        "errors", "The database schema is at version {current}, not the current {head}, and "
        "the application role may not change it. An administrator runs "
        "“cityops db migrate --owner-url URL” first."),
    "password_in_url": QT_TRANSLATE_NOOP(
        "errors", "The database URL of {option} contains a password: refused. Give the URL "
        "without it and put the password in libpq's password file (PGPASSFILE, readable only "
        "by you) or in PGPASSWORD."),
}

# What kind of connection a refused account is (db.admin.roles.ConnectionKind).
CONNECTION_KINDS = {
    "superuser": QT_TRANSLATE_NOOP("errors", "superuser"),
    "owner": QT_TRANSLATE_NOOP("errors", "schema owner"),
}

# The names db/ gives its fields in Chinese messages, worded here per language.
FIELDS = {
    "意见": QT_TRANSLATE_NOOP("errors", "the opinion"),
    "问题描述": QT_TRANSLATE_NOOP("errors", "the description"),
    "地址": QT_TRANSLATE_NOOP("errors", "the address"),
    "标题": QT_TRANSLATE_NOOP("errors", "the title"),
    "反映人": QT_TRANSLATE_NOOP("errors", "the reporter"),
    "联系电话": QT_TRANSLATE_NOOP("errors", "the phone number"),
    "附件": QT_TRANSLATE_NOOP("errors", "an attachment"),
    "工单号": QT_TRANSLATE_NOOP("errors", "the work-order number"),
    "备注": QT_TRANSLATE_NOOP("errors", "the note"),
    "案件编号": QT_TRANSLATE_NOOP("errors", "the case number"),
    "账号": QT_TRANSLATE_NOOP("errors", "the account"),
    "版本号": QT_TRANSLATE_NOOP("errors", "the version"),
    "案件": QT_TRANSLATE_NOOP("errors", "the case"),
    "告警": QT_TRANSLATE_NOOP("errors", "the alert"),
    "部门": QT_TRANSLATE_NOOP("errors", "the department"),
    "人员": QT_TRANSLATE_NOOP("errors", "the staff member"),
    "案件类别": QT_TRANSLATE_NOOP("errors", "the case class"),
    "城市": QT_TRANSLATE_NOOP("errors", "the city"),
    "来源": QT_TRANSLATE_NOOP("errors", "the channel"),
    "紧急程度": QT_TRANSLATE_NOOP("errors", "the urgency"),
    "延期时长": QT_TRANSLATE_NOOP("errors", "the extension"),
    "纬度": QT_TRANSLATE_NOOP("errors", "the latitude"),
    "经度": QT_TRANSLATE_NOOP("errors", "the longitude"),
    "读数": QT_TRANSLATE_NOOP("errors", "the reading"),
    "传感器": QT_TRANSLATE_NOOP("errors", "the sensor"),
    "摄像头": QT_TRANSLATE_NOOP("errors", "the camera"),
    "镇街": QT_TRANSLATE_NOOP("errors", "the town"),
    "位置": QT_TRANSLATE_NOOP("errors", "the position fixes"),
}
UNITS = {
    "work_hours": QT_TRANSLATE_NOOP("errors", "working hours"),
    "work_days": QT_TRANSLATE_NOOP("errors", "working days"),
    "minutes": QT_TRANSLATE_NOOP("errors", "minutes"),
}
ENTITIES = {
    "case": QT_TRANSLATE_NOOP("errors", "case"),
    "alert": QT_TRANSLATE_NOOP("errors", "alert"),
    "sensor": QT_TRANSLATE_NOOP("errors", "sensor"),
    "job_run": QT_TRANSLATE_NOOP("errors", "scheduled job"),
}


def _t(text: str) -> str:
    return QCoreApplication.translate(_CONTEXT, text)


def when_text(at: dt.datetime | None) -> str:
    """A change time as the officer reads it: the time today, the date before that."""
    if at is None:
        return "?"
    local = at.astimezone(SHANGHAI)
    if local.date() == dt.datetime.now(SHANGHAI).date():
        return local.strftime("%H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M")


def _param(name: str, value) -> str:
    try:
        if name == "state":
            return labels.state_name(value)
        if name == "step":
            return labels.step_name(value)
        if name == "role":
            return labels.role_name(value)
        if name == "unit" and value in UNITS:
            return _t(UNITS[value])
    except (KeyError, ValueError):
        pass
    if name == "kind" and value in CONNECTION_KINDS:
        return _t(CONNECTION_KINDS[value])
    if name == "entity":
        return _t(ENTITIES[value]) if value in ENTITIES else str(value)
    if name == "field":
        return _t(FIELDS[value]) if value in FIELDS else str(value)
    if name in ("changed_at", "when"):
        return when_text(value)
    return "" if value is None else str(value)


def word(exc: CityOpsError) -> str:
    """The error in the user's language: its code's message with its parameters filled in."""
    template = MESSAGES.get(exc.code)
    if template is None:
        return exc.message  # a code without words here: db/'s own (Chinese) message
    text = _t(template)
    params = dict(exc.params)
    if isinstance(exc, ConflictError):
        params["when"] = exc.changed_at
    for name, value in params.items():
        text = text.replace("{" + name + "}", _param(name, value))
    if text and text[0].islower():  # "{entity} 12 does not exist" starts with a lower-case word
        text = text[0].upper() + text[1:]
    return text


def classify(exc: BaseException) -> tuple[Outcome, str]:
    """How a failed operation ended and the words for it."""
    if isinstance(exc, ConflictError):
        return Outcome.CONFLICT, word(exc)
    if isinstance(exc, OutcomeUnknown):  # before the lost link it is a kind of
        return Outcome.UNKNOWN, word(exc)
    if is_connection_lost(exc):
        return Outcome.OFFLINE, _t(MESSAGES["database_unavailable"])
    if is_database_busy(exc):
        return Outcome.DB_BUSY, _t(MESSAGES["database_busy"])
    if isinstance(exc, CityOpsError):
        return Outcome.REFUSED, word(exc)
    log.error("operation failed", exc_info=exc)
    return Outcome.FAILED, _t(QT_TRANSLATE_NOOP("errors", "Unexpected error: {error}")) \
        .replace("{error}", str(exc) or type(exc).__name__)


def offline_text() -> str:
    return _t(MESSAGES["database_unavailable"])
