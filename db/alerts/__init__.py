"""Alarms from sensors, cameras and 110/119 transfers, and their lifecycle."""
