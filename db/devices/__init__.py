"""Cameras and sensors in the field."""
