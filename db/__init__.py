"""CityOps data and domain layer: models, migrations, the case workflow, the deadline clock,
the change feed and demo data.

Plain Python and SQLAlchemy only: nothing here may import Qt (``tests/test_layering.py``
checks it by importing every module with PySide6 blocked).
"""
