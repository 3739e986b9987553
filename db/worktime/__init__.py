"""Official working time: the calendar and the deadline clock."""
