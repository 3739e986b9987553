"""The database side of ``cityops bench``."""
