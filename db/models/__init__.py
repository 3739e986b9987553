"""Every table of CityOps. Import from here: ``from db.models import Case``."""
from db.models.base import Base, BigId, UTCDateTime, utcnow
from db.models.cases import AuditLog, Case, CaseClass, CaseHistory, CaseTransition
from db.models.devices import Alert, Camera, Sensor, SensorReading
from db.models.people import Department, SignInFailure, Staff, StaffPosition, StaffTrack, UserAccount
from db.models.places import City, Grid, GridMember, Town, Village
from db.models.spots import BlackSpot, Inspection, InspectionFinding
from db.models.system import (
    AppSetting,
    CalendarDay,
    CallerTimeAllowed,
    ChangeLog,
    JobState,
    RequestLog,
)

__all__ = [
    "Alert", "AppSetting", "AuditLog", "Base", "BigId", "BlackSpot", "CalendarDay",
    "CallerTimeAllowed", "Camera",
    "Case", "CaseClass", "CaseHistory", "CaseTransition", "ChangeLog", "City", "Department", "Grid",
    "GridMember", "Inspection", "InspectionFinding", "JobState", "RequestLog", "Sensor",
    "SensorReading",
    "SignInFailure", "Staff", "StaffPosition",
    "StaffTrack", "Town", "UTCDateTime", "UserAccount", "Village", "utcnow",
]
