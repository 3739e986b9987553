"""Reporters' phone numbers, sealed: the one place that encrypts, decrypts and hashes them.

A case stores its reporter's phone as ``reporter_phone_enc`` (AES-256-GCM, a fresh 96-bit nonce
per number, ``"1:" + base64url(nonce + ciphertext)``) and ``reporter_phone_hash``
(HMAC-SHA256 of the number's digits only, hex): the search finds a number typed with or without
spaces and dashes by its hash, and no column holds the digits. Both keys are derived from one
32-byte key per database (HMAC-SHA256 with a label each), so the search hash is of no use for
decrypting and the ciphertext none for guessing.

The key lives in a file outside the database (:func:`key_path`): ``$CITYOPS_KEY_FILE`` when set,
else ``<user config dir>/cityops/keys/<key id>.key``. Naming the file after the key id the
database records (and not after a URL, a host name or a file path) means a restored copy, a
PostgreSQL clone or the benchmark's copied city finds its key wherever it is opened. The
database holds only ``app_setting['phone_key']``: the key id and a check value (an HMAC of a
fixed label), never the key: a workstation whose file holds another key is told so
(:class:`~db.core.errors.PhoneKeyProblem`, ``phone_key_mismatch``), never handed garbage. A key
file that others may read is refused (``phone_key_unsafe``): ``chmod 600``.

``cityops db make-key`` (:func:`make_key`) makes the key; the demo builder and the tests use
:func:`ensure_key`, which also adopts an existing ``$CITYOPS_KEY_FILE``.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import text

from db.core.errors import PhoneKeyProblem, ValidationError
from db.core.text import clean_text

KEY_FILE_ENV = "CITYOPS_KEY_FILE"
SETTING = "phone_key"  # app_setting key: {"id": ..., "check": ...}, never the key itself
FILE_FORMAT = "cityops-phone-key/1"
SEALED_PREFIX = "1:"
_AAD = b"cityops case.reporter_phone v1"
_ENC_LABEL = b"cityops phone encryption v1"
_HASH_LABEL = b"cityops phone search v1"
_CHECK_LABEL = b"cityops phone key check v1"
#: What a phone number may be typed with: digits, spaces, dashes, brackets, a leading +.
_PHONE_CHARS = re.compile(r"\+?[0-9\s\-()（）]+")
MIN_DIGITS, MAX_DIGITS, MAX_LENGTH = 3, 20, 30


def digits(phone: str) -> str:
    """The number's digits only: what the search hash is taken of."""
    return re.sub(r"\D", "", phone)


def clean_phone(value: Any, field: str = "联系电话") -> str | None:
    """``value`` checked as a phone number (text of digits, spaces, dashes, brackets, a leading
    +; 3 to 20 digits), or None when empty. Anything else is a declared ``ValidationError``."""
    value = clean_text(value, field, limit=MAX_LENGTH).strip()
    if not value:
        return None
    n = len(digits(value))
    if not _PHONE_CHARS.fullmatch(value) or not MIN_DIGITS <= n <= MAX_DIGITS:
        raise ValidationError(f"{field} 不是电话号码：只能含数字、空格、短横线和括号，{MIN_DIGITS}–"
                              f"{MAX_DIGITS} 位数字", code="phone_invalid", field=field)
    return value


# -- the key -----------------------------------------------------------------------------------

def key_dir() -> Path:
    return Path(platformdirs.user_config_dir("cityops", appauthor=False)) / "keys"


def key_path(key_id: str | None) -> Path | None:
    """Where this workstation keeps the key ``key_id``: ``$CITYOPS_KEY_FILE`` if set, else the
    file named after the id in the user's config dir (None: no id and no variable)."""
    env = os.environ.get(KEY_FILE_ENV)
    if env:
        return Path(env).expanduser()
    return key_dir() / f"{key_id}.key" if key_id else None


def _check_value(master: bytes) -> str:
    return hmac.new(master, _CHECK_LABEL, hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class PhoneKey:
    key_id: str
    master: bytes

    @property
    def check(self) -> str:
        return _check_value(self.master)


class PhoneCipher:
    """Seals, opens and hashes phone numbers with one database's key."""

    def __init__(self, key: PhoneKey) -> None:
        self.key_id = key.key_id
        self._aes = AESGCM(hmac.new(key.master, _ENC_LABEL, hashlib.sha256).digest())
        self._hash_key = hmac.new(key.master, _HASH_LABEL, hashlib.sha256).digest()

    def search_hash(self, phone_or_digits: str) -> str:
        return hmac.new(self._hash_key, digits(phone_or_digits).encode(), hashlib.sha256).hexdigest()

    def seal(self, phone: str | None) -> tuple[str | None, str | None]:
        """(ciphertext, search hash) of ``phone`` as typed, or (None, None) for no number."""
        if not phone:
            return None, None
        nonce = os.urandom(12)
        sealed = self._aes.encrypt(nonce, phone.encode(), _AAD)
        return (SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii"),
                self.search_hash(phone))

    def open(self, sealed: str | None) -> str:
        """The number as typed ("" for none). A value that does not open with this key (altered,
        or sealed with another) is ``phone_sealed_broken``, never garbage."""
        if not sealed:
            return ""
        try:
            if not sealed.startswith(SEALED_PREFIX):
                raise ValueError(sealed[:2])
            raw = base64.urlsafe_b64decode(sealed[len(SEALED_PREFIX):].encode("ascii"))
            return self._aes.decrypt(raw[:12], raw[12:], _AAD).decode()
        except (InvalidTag, ValueError, UnicodeError) as exc:
            raise PhoneKeyProblem("反映人电话无法用本数据库的密钥解开（已被改动或不是本库的密文）",
                                  code="phone_sealed_broken", key_id=self.key_id) from exc


def read_key_file(path: Path) -> PhoneKey:
    """The key in ``path``, refused if others may read the file or it is not a key file."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise PhoneKeyProblem(f"本工作站没有电话号码密钥文件 {path}", code="phone_key_missing",
                              path=str(path), key_id="") from None
    except OSError as exc:
        raise PhoneKeyProblem(f"无法读取密钥文件 {path}: {exc}", code="phone_key_bad_file",
                              path=str(path)) from exc
    if os.name == "posix" and (st.st_mode & 0o077 or st.st_uid != os.getuid()):
        raise PhoneKeyProblem(f"密钥文件 {path} 其他用户可读（权限 {stat.filemode(st.st_mode)}），"
                              f"已拒绝使用：请运行 chmod 600 {path}", code="phone_key_unsafe",
                              path=str(path), mode=stat.filemode(st.st_mode))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FILE_FORMAT:
            raise ValueError("format")
        master = base64.b64decode(data["key"], validate=True)
        if len(master) != 32 or not re.fullmatch(r"[0-9a-f]{16}", data["id"]):
            raise ValueError("length")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PhoneKeyProblem(f"{path} 不是 CityOps 电话号码密钥文件", code="phone_key_bad_file",
                              path=str(path)) from exc
    return PhoneKey(data["id"], master)


def write_key_file(path: Path, key: PhoneKey) -> None:
    """Write ``key`` to a new file readable by this user only (never overwrites one)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    body = json.dumps({"format": FILE_FORMAT, "id": key.key_id,
                       "key": base64.b64encode(key.master).decode("ascii")}) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(body)
    os.chmod(path, 0o600)  # whatever the umask said


def new_key() -> PhoneKey:
    return PhoneKey(secrets.token_hex(8), secrets.token_bytes(32))


# -- what the database records ------------------------------------------------------------------

def recorded(conn) -> dict | None:
    """The key id and check value the database records (``conn``: a Session or Connection)."""
    row = conn.execute(text("SELECT value_json FROM app_setting WHERE key = :k"),
                       {"k": SETTING}).first()
    return json.loads(row[0]) if row else None


def record(conn, key: PhoneKey, at: dt.datetime | None = None) -> None:
    conn.execute(text("INSERT INTO app_setting (key, value_json, updated_at) VALUES (:k, :v, :at)"),
                 {"k": SETTING, "v": json.dumps({"id": key.key_id, "check": key.check}),
                  "at": at or dt.datetime.now(dt.UTC)})


def _verified(key: PhoneKey, want: dict, path: Path) -> PhoneKey:
    if key.key_id != want.get("id") or not hmac.compare_digest(key.check, want.get("check", "")):
        raise PhoneKeyProblem(
            f"密钥文件 {path} 不是本数据库的电话号码密钥（文件 {key.key_id}，数据库 {want.get('id')}）",
            code="phone_key_mismatch", path=str(path), key_id=want.get("id"), file_id=key.key_id)
    return key


_cache: dict[tuple, PhoneCipher] = {}
_cache_lock = threading.Lock()


def cipher(conn) -> PhoneCipher:
    """This database's cipher, its key read from this workstation's key file and checked
    against what the database records; a declared ``PhoneKeyProblem`` otherwise."""
    want = recorded(conn)
    if want is None:
        raise PhoneKeyProblem("本数据库还没有电话号码密钥：请管理员运行 cityops db make-key",
                              code="phone_key_none")
    path = key_path(want["id"])
    try:
        st = path.stat()
        stamp = (str(path), st.st_mtime_ns, st.st_size, st.st_mode, want["id"], want["check"])
    except OSError:
        stamp = None
    if stamp is not None:
        with _cache_lock:
            hit = _cache.get(stamp)
        if hit is not None:
            return hit
    try:
        key = _verified(read_key_file(path), want, path)
    except PhoneKeyProblem as exc:
        if exc.code == "phone_key_missing":
            exc.params["key_id"] = want["id"]
        raise
    made = PhoneCipher(key)
    if stamp is not None:
        with _cache_lock:
            _cache[stamp] = made
    return made


def cipher_if_keyed(conn) -> PhoneCipher | None:
    """:func:`cipher`, or None when the database has no key yet (so it holds no numbers)."""
    return cipher(conn) if recorded(conn) is not None else None


def make_key(conn, path: Path | None = None) -> tuple[PhoneKey, Path]:
    """A new key for the database behind ``conn``: written to ``path`` (default
    :func:`key_path`), recorded in the database. Refused when the database has one already or
    the file exists. The caller commits."""
    have = recorded(conn)
    if have is not None:
        raise PhoneKeyProblem(f"本数据库已有电话号码密钥 {have['id']}", code="phone_key_exists",
                              key_id=have["id"], path=str(path or key_path(have["id"])))
    key = new_key()
    path = path or key_path(key.key_id)
    if path.exists():
        raise PhoneKeyProblem(f"密钥文件 {path} 已存在，未覆盖", code="phone_key_exists",
                              key_id="", path=str(path))
    write_key_file(path, key)
    record(conn, key)
    return key, path


def ensure_key(conn, path: Path | None = None) -> PhoneCipher:
    """The database's cipher, making its key first if it has none: adopting the key file at
    ``path`` (default ``$CITYOPS_KEY_FILE``) when there is one, else writing a new one. For the
    demo builder and the tests; a control room runs ``cityops db make-key``."""
    if recorded(conn) is None:
        path = path or key_path(None)
        if path is not None and path.exists():
            record(conn, read_key_file(path))
        else:
            make_key(conn, path)
    return cipher(conn)


__all__ = [
    "KEY_FILE_ENV", "SETTING", "PhoneCipher", "PhoneKey", "cipher", "cipher_if_keyed",
    "clean_phone", "digits", "ensure_key", "key_dir", "key_path", "make_key", "read_key_file",
    "record", "recorded", "write_key_file",
]
