"""The case queue: the lazy model and its panel with filters."""
