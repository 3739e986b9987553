"""``cityops bench``: what the control room feels, each figure beside a baseline measured in
the same run.

:mod:`desktop.bench.runner` orchestrates (it imports no Qt, so the command runs without a
display); the sections that need the window run in a process of their own, offscreen
(``python -m desktop.bench SECTION …``, see :mod:`desktop.bench.__main__`); the database-only
parts live in ``db/bench*.py``.
"""
