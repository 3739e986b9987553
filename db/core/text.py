"""Free text from people and feeds: refused (never silently cut) when it cannot be stored or
would read differently on a screen from what was stored."""
from __future__ import annotations

import re
from typing import Any

from db.core.errors import ValidationError

MAX_TEXT = 5000  # a description or opinion longer than this is refused, not cut
MAX_SHORT_TEXT = 200

# C0 controls other than tab/newline/CR, DEL, and the bidi overrides that can make text on a
# screen read differently from what was stored (U+202A-202E, U+2066-2069).
FORBIDDEN_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value: Any, field: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    """``value`` checked: text, valid, no disguising characters, at most ``limit`` long,
    and not blank when ``required``. ``field`` is the Chinese name shown in the message."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"{field} 必须是文本", code="text_not_text", field=field)
    if SURROGATE.search(value):
        raise ValidationError(f"{field} 含有无效的字符编码", code="text_bad_encoding", field=field)
    bad = FORBIDDEN_CHARS.search(value)
    if bad:
        raise ValidationError(f"{field} 含有不允许的控制字符 U+{ord(bad.group()):04X}",
                              code="text_control_char", field=field,
                              char=f"U+{ord(bad.group()):04X}")
    if len(value) > limit:
        raise ValidationError(f"{field} 过长：{len(value)} 字，最多 {limit} 字",
                              code="text_too_long", field=field, length=len(value), limit=limit)
    if required and not value.strip():
        raise ValidationError(f"请填写{field}", code="text_required", field=field)
    return value


def safe_text(value: Any, limit: int) -> str:
    """Text from a machine (an alarm feed): disguising characters replaced, cut to ``limit``;
    a feed's wording is kept rather than refused."""
    text = "" if value is None else str(value)
    text = SURROGATE.sub("\ufffd", text)
    text = FORBIDDEN_CHARS.sub("\ufffd", text)
    return text[:limit]
