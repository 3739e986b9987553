"""The video wall and its tiles."""
