"""The alert panel: list, dialogs, chime and sensor trend."""
