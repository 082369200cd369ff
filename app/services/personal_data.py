"""Personal data (PIPL): validation and masking of mobile numbers and resident ID numbers."""
from __future__ import annotations

import datetime
import re

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
RESIDENT_ID_RE = re.compile(r"^\d{17}[\dX]$")
# an office's number: a mobile or a landline (0392-3312345), as CONTACT_PHONE_CHECK in the model
CONTACT_PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"

# What the log redactor looks for: a mobile or an 18-character ID inside any text.
_MOBILE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_ID_IN_TEXT = re.compile(r"(?<![\dA-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![\dA-Za-z])")


def normalise_mobile(value: str | None) -> str | None:
    if value is None:
        return None
    return re.sub(r"[\s-]", "", value)


def is_valid_mobile(value: str | None) -> bool:
    return bool(value) and bool(MOBILE_RE.match(value))


def normalise_contact_phone(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip().replace(" ", "") or None


def is_valid_contact_phone(value: str | None) -> bool:
    return bool(value) and bool(CONTACT_PHONE_RE.match(value))


def resident_id_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS))
    return ID_CHECK_CHARS[total % 11]


def normalise_resident_id(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().upper()
    return value or None


def is_valid_resident_id(value: str | None) -> bool:
    """18 characters, a real birth date and the GB 11643 check digit."""
    if not value or not RESIDENT_ID_RE.match(value):
        return False
    try:
        birth = datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    if birth.year < 1900 or birth > datetime.date.today():
        return False
    return resident_id_check_char(value[:17]) == value[17]


def mask_mobile(value: str | None) -> str:
    """138****5678"""
    if not value:
        return ""
    if len(value) != 11:
        return "*" * len(value)
    return f"{value[:3]}****{value[-4:]}"


def mask_resident_id(value: str | None) -> str:
    """410602********1234"""
    if not value:
        return ""
    if len(value) != 18:
        return "*" * len(value)
    return f"{value[:6]}********{value[-4:]}"


def mask_address(value: str | None) -> str:
    """Keep the first six characters (district, street) and hide the rest."""
    if not value:
        return ""
    keep = min(6, max(len(value) // 2, 1))
    return value[:keep] + "*" * min(len(value) - keep, 8)


def redact_text(text: str) -> str:
    """Mask every mobile and resident ID number found in free text (used on log records)."""
    text = _ID_IN_TEXT.sub(lambda m: f"{m.group(1)}********{m.group(3)[-4:]}", text)
    return _MOBILE_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
