"""The city settings screen (administrators)."""
