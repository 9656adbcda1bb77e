"""The one masking module: names, phone numbers and identity numbers for every channel.

security.md ("Publication"): published lists show the surname and one ``*`` per other
character, and never a digit of an identity number or a phone.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jifen.identity import mask_identity_number, mask_name, mask_phone
from jifen.synthetic.identity import generate_identity_number, generate_name, generate_phone

TEXTBOOK = "11010519491231002X"
seeds = st.integers(min_value=0, max_value=2**32)


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三丰", "张**"),
        ("张三", "张*"),
        ("张", "张"),
        ("欧阳娜娜", "欧***"),  # compound surnames are not special-cased
        ("司马相如", "司***"),
        ("  李四 ", "李*"),
        ("张 三", "张*"),
        ("阿依古丽·买买提", "阿******"),  # the middle dot is a separator, not a character
        ("John Smith", "J********"),
        ("Anna", "A***"),
        ("Nguyễn Văn An", "N**********"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@given(seed=seeds)
def test_masked_name_keeps_only_the_surname(seed: int) -> None:
    name = generate_name(random.Random(seed))
    masked = mask_name(name)
    assert masked[0] == name[0]
    assert masked[1:] == "*" * (len(name) - 1)


@given(name=st.text(min_size=1, max_size=20))
def test_masked_name_shows_at_most_one_character(name: str) -> None:
    masked = mask_name(name)
    assert len(masked.replace("*", "")) <= 1


# --- phones --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+8613812345678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("0086-138-1234-5678", "138****5678"),
        ("8613812345678", "138****5678"),
        ("１３８１２３４５６７８", "138****5678"),  # full-width digits
        (" 138-1234-5678 ", "138****5678"),
        ("0573-88123456", "057*****3456"),  # a Tongxiang landline with area code
        ("88123456", "******56"),  # a landline without area code
        ("+44 20 7946 0958", "442*****0958"),
        ("12345", "*****"),
        ("", ""),
    ],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@given(seed=seeds)
def test_masked_mobile_hides_the_middle_four(seed: int) -> None:
    phone = generate_phone(random.Random(seed))
    masked = mask_phone(phone)
    assert masked == phone[:3] + "****" + phone[-4:]
    assert mask_phone("+86" + phone) == masked


@given(phone=st.text(alphabet="0123456789+- ", max_size=20))
def test_masked_phone_always_hides_at_least_four_digits(phone: str) -> None:
    masked = mask_phone(phone)
    digits = sum(c.isdigit() for c in phone)
    shown = sum(c.isdigit() for c in masked)
    assert shown <= max(digits - 4, 0)


# --- identity numbers ----------------------------------------------------------------------


def test_mask_identity_number() -> None:
    assert mask_identity_number(TEXTBOOK) == "110*************2X"
    assert mask_identity_number("11010519491231002x") == "110*************2X"
    assert mask_identity_number(" 330483199001011234 ") == "330*************34"


@given(seed=seeds, birth=st.dates(min_value=dt.date(1940, 1, 1), max_value=dt.date(2010, 1, 1)))
def test_identity_mask_shows_no_more_than_five_characters(seed: int, birth: dt.date) -> None:
    number = generate_identity_number(random.Random(seed), birth)
    masked = mask_identity_number(number)
    assert len(masked) == 18
    visible = [c for c in masked if c != "*"]
    assert len(visible) <= 5
    assert sum(c.isdigit() for c in masked) <= 5
    assert f"{birth:%Y%m%d}" not in masked
    assert masked[3:16] == "*" * 13  # county, birth date and most of the sequence hidden


@pytest.mark.parametrize("value", ["", "123", "110105491231002", TEXTBOOK + "00"])
def test_malformed_identity_numbers_are_masked_completely(value: str) -> None:
    masked = mask_identity_number(value)
    assert set(masked) <= {"*"}
    assert len(masked) == len(value)
