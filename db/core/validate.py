"""Values handed in at an entry point, checked for their type before anything touches the
database: the one set of checks every entry point uses (the case steps, the alert actions, the
sensor ingest, the position fixes).

Python is happy to compare ``"7" == 7`` (False), to store ``float("nan")``, and to iterate a
string as its characters; the databases then answer with a ``DataError`` (PostgreSQL: "invalid
input syntax for type integer"), an ``IntegrityError``, or worse, with nothing at all (SQLite
stores the text "7" in an integer column, and NaN in a float one). Each function here returns
the value as the database will store it or raises a declared
:class:`~db.core.errors.ValidationError` with a code the window words
(``desktop.core.errors``):

* ``value_required``: ``None`` (or nothing) where a value is needed;
* ``value_not_integer``: not a whole number (a ``bool`` is not one either, though Python says
  ``True == 1``; a float such as ``2.0`` is not one: an id is never a float);
* ``value_not_number``: not a finite number (a string, NaN, ±infinity);
* ``value_out_of_range``: a number outside its bounds;
* ``value_not_list``: a list was expected (a string is not a list of its characters, a dict is
  not a list of its keys);
* ``coordinates_invalid``: a latitude or longitude that is not a finite number in range.

``field`` is the Chinese name of the value, as :func:`db.core.text.clean_text` takes it; the
window words it through ``desktop.core.errors.FIELDS``.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

from db.core.errors import ValidationError
from db.core.text import clean_text

T = TypeVar("T")

#: Ids are BIGINT at most; a larger Python int would overflow the column (a DataError).
MAX_ID = 2**63 - 1
#: Versions are INTEGER.
MAX_INT = 2**31 - 1


def _required(field: str) -> ValidationError:
    return ValidationError(f"缺少{field}", code="value_required", field=field)


def whole_number(value: Any, field: str, *, minimum: int | None = None,
                 maximum: int | None = MAX_INT, required: bool = True) -> int | None:
    """``value`` as an int: a real ``int`` (never a bool, a float or a numeric string) within
    ``minimum``..``maximum``; ``None`` is refused when ``required``, else passed through."""
    if value is None:
        if required:
            raise _required(field)
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{field}必须是整数：{value!r}", code="value_not_integer",
                              field=field, value=_shown(value))
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValidationError(f"{field}超出范围：{value}", code="value_out_of_range", field=field,
                              value=str(value), minimum=_bound(minimum), maximum=_bound(maximum))
    return int(value)


def record_id(value: Any, field: str, *, required: bool = True) -> int | None:
    """An id of a row: a positive whole number (:func:`whole_number`)."""
    return whole_number(value, field, minimum=1, maximum=MAX_ID, required=required)


def finite_number(value: Any, field: str, *, minimum: float | None = None,
                  maximum: float | None = None, required: bool = True) -> float | None:
    """``value`` as a float: an int or a float (never a bool or a string), neither NaN nor
    infinite, within ``minimum``..``maximum``."""
    if value is None:
        if required:
            raise _required(field)
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{field}必须是数值：{value!r}", code="value_not_number", field=field,
                              value=_shown(value))
    try:
        number = float(value)
    except OverflowError:  # an int beyond any float
        number = math.inf
    if not math.isfinite(number):
        raise ValidationError(f"{field}必须是有限的数值：{value!r}", code="value_not_number",
                              field=field, value=_shown(value))
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ValidationError(f"{field}超出范围：{value}", code="value_out_of_range", field=field,
                              value=str(value), minimum=_bound(minimum), maximum=_bound(maximum))
    return number


def coordinates(lat: Any, lon: Any) -> tuple[float, float]:
    """A point: latitude -90..90 and longitude -180..180, finite numbers (code
    ``coordinates_invalid`` naming ``lat`` or ``lon``)."""
    out = []
    for name, value, low, high in (("纬度", lat, -90.0, 90.0), ("经度", lon, -180.0, 180.0)):
        try:
            out.append(finite_number(value, name, minimum=low, maximum=high))
        except ValidationError:
            raise ValidationError(f"{name}无效：{value!r}", code="coordinates_invalid",
                                  field="lat" if name == "纬度" else "lon",
                                  value=_shown(value)) from None
    return out[0], out[1]


def text_list(value: Any, field: str, *, limit: int) -> list[str]:
    """A list (or tuple) of texts, each checked by :func:`~db.core.text.clean_text`; ``None``
    is the empty list. A string is refused, not split into its characters."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise ValidationError(f"{field}必须是列表：{_shown(value)}", code="value_not_list",
                              field=field, value=_shown(value))
    return [clean_text(item, field, limit=limit) for item in value]


def one_of(value: Any, kind: Callable[[Any], T], field: str, *, code: str = "value_unknown",
           required: bool = True) -> T | None:
    """``kind(value)`` (an enum, usually) for a string among its values; anything else (another
    type, an unknown word) is refused with ``code``."""
    if value is None:
        if required:
            raise _required(field)
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{field}无效：{_shown(value)}", code=code, field=field,
                              value=_shown(value), reason=_shown(value))
    try:
        return kind(value)
    except ValueError:
        raise ValidationError(f"{field}无效：{value!r}", code=code, field=field,
                              value=_shown(value), reason=repr(value)) from None


def _bound(value: float | None) -> str:
    if value is None:
        return "∞"
    return str(int(value)) if float(value).is_integer() else str(value)


def _shown(value: Any) -> str:
    """The value in a message: its repr, cut short (a caller may hand in anything)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


__all__ = ["MAX_ID", "MAX_INT", "coordinates", "finite_number", "one_of", "record_id",
           "text_list", "whole_number"]
