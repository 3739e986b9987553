"""The deterministic Dongguan demo and the city simulator that plays it live."""
