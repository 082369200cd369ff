import logging

import pytest

from app.logging import RedactPersonalData
from app.services.personal_data import (
    is_valid_mobile,
    is_valid_resident_id,
    mask_mobile,
    mask_resident_id,
    redact_text,
    resident_id_check_char,
)

VALID_ID = "11010519491231002X"  # the GB 11643 example


@pytest.mark.parametrize("phone", ["13812345678", "19912345678", "15000000000"])
def test_valid_mobiles(phone):
    assert is_valid_mobile(phone)


@pytest.mark.parametrize("phone", ["12812345678", "1381234567", "138123456789", "1381234567a", "", None, "23812345678"])
def test_invalid_mobiles(phone):
    assert not is_valid_mobile(phone)


def test_resident_id_check_digit():
    assert resident_id_check_char(VALID_ID[:17]) == "X"
    assert is_valid_resident_id(VALID_ID)
    assert not is_valid_resident_id(VALID_ID[:17] + "1")  # wrong check digit
    assert not is_valid_resident_id("110105194902300021")  # 30 February
    assert not is_valid_resident_id("11010519491231002")  # 17 characters
    assert not is_valid_resident_id("11010519491231002x")  # lower-case x is normalised by callers, not here


def test_masking():
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_resident_id(VALID_ID) == "110105********002X"
    assert mask_mobile(None) == ""


def test_log_records_are_redacted():
    assert redact_text("call 13812345678 or id 11010519491231002X") == "call 138****5678 or id 110105********002X"
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "phone=%s", ("13812345678",), None)
    RedactPersonalData().filter(record)
    assert record.getMessage() == "phone=138****5678"
