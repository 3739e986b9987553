"""Every table of CityOps. Import from here: ``from db.models import Case``."""
from .base import Base, BigId, UTCDateTime, utcnow
from .cases import AuditLog, Case, CaseClass, CaseHistory
from .devices import Alert, Camera, Sensor, SensorReading
from .people import Department, Staff, StaffPosition, StaffTrack, UserAccount
from .places import City, Grid, GridMember, Town, Village
from .spots import BlackSpot, Inspection, InspectionFinding
from .system import AppSetting, CalendarDay, ChangeLog

__all__ = [
    "Alert", "AppSetting", "AuditLog", "Base", "BigId", "BlackSpot", "CalendarDay", "Camera",
    "Case", "CaseClass", "CaseHistory", "ChangeLog", "City", "Department", "Grid", "GridMember",
    "Inspection", "InspectionFinding", "Sensor", "SensorReading", "Staff", "StaffPosition",
    "StaffTrack", "Town", "UTCDateTime", "UserAccount", "Village", "utcnow",
]
