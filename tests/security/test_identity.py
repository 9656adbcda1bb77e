"""Identity numbers (GB 11643-1999): valid ones accepted, every kind of invalid one refused.

See shared/docs/engineering.md ("Access, audit, privacy"): identity numbers are validated with
the GB 11643 check digit, and error messages never repeat the number (PIPL).
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jifen.identity import (
    CHECK_CHARS,
    IdentityNumber,
    InvalidIdentityNumber,
    Reason,
    Sex,
    check_digit,
    normalise_identity_number,
    validate_identity_number,
)
from jifen.synthetic.identity import (
    ORIGINS,
    PHONE_PREFIXES,
    generate_identity_number,
    generate_name,
    generate_phone,
)

# The example printed in GB 11643-1999 itself (Beijing Chaoyang, 1949-12-31, female).
TEXTBOOK = "11010519491231002X"
TODAY = dt.date(2025, 6, 1)

birth_dates = st.dates(min_value=dt.date(1940, 1, 1), max_value=dt.date(2010, 12, 31))
sexes = st.sampled_from(["male", "female"])
seeds = st.integers(min_value=0, max_value=2**32)


def refused(value: str, today: dt.date | None = TODAY) -> InvalidIdentityNumber:
    """The error raised for ``value``; its message never contains the full number."""
    with pytest.raises(InvalidIdentityNumber) as info:
        validate_identity_number(value, today=today)
    err = info.value
    assert isinstance(err, ValueError)
    assert isinstance(err.reason, Reason)
    message = str(err)
    assert message
    for form in {value, value.strip(), normalise_identity_number(value)}:
        if len(form) >= 6:
            assert form not in message
    return err


def with_check(first17: str) -> str:
    return first17 + check_digit(first17)


# --- valid numbers -------------------------------------------------------------------------


def test_textbook_example_is_valid() -> None:
    parsed = validate_identity_number(TEXTBOOK, today=TODAY)
    assert parsed == IdentityNumber(
        number=TEXTBOOK, birth_date=dt.date(1949, 12, 31), region="110105", sex=Sex.FEMALE
    )
    assert parsed.sex == "female"


def test_lower_case_x_and_surrounding_spaces_are_normalised() -> None:
    parsed = validate_identity_number("  11010519491231002x\n")
    assert parsed.number == TEXTBOOK
    assert normalise_identity_number("11010519491231002x") == TEXTBOOK


def test_full_width_digits_are_normalised() -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in TEXTBOOK)
    assert validate_identity_number(full_width).number == TEXTBOOK


def test_check_digit_of_textbook_example() -> None:
    assert check_digit(TEXTBOOK[:17]) == "X"


@pytest.mark.parametrize("bad", ["", "1" * 16, "1" * 18, "1234567890123456X", "１" * 17])
def test_check_digit_needs_17_ascii_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        check_digit(bad)


def test_every_check_character_occurs() -> None:
    # Over many prefixes all eleven check characters appear, X included.
    rng = random.Random(11643)
    seen = {check_digit("".join(rng.choice("0123456789") for _ in range(17))) for _ in range(2000)}
    assert seen == set(CHECK_CHARS)


@given(seed=seeds, birth=birth_dates, sex=sexes)
def test_generated_numbers_are_valid_and_round_trip(seed: int, birth: dt.date, sex: str) -> None:
    number = generate_identity_number(random.Random(seed), birth, sex=sex)
    parsed = validate_identity_number(number, today=TODAY)
    assert parsed.number == number
    assert parsed.birth_date == birth
    assert parsed.sex == sex
    assert parsed.region == number[:6]
    assert parsed.region[:2] in ORIGINS


@given(seed=seeds, birth=birth_dates)
def test_generator_honours_region_and_random_sex(seed: int, birth: dt.date) -> None:
    rng = random.Random(seed)
    number = generate_identity_number(rng, birth, region="330483")
    parsed = validate_identity_number(number)
    assert parsed.region == "330483"
    assert parsed.sex in (Sex.MALE, Sex.FEMALE)


def test_generator_is_reproducible_and_varied() -> None:
    first = [generate_identity_number(random.Random(7), dt.date(1990, 1, 1)) for _ in range(2)]
    assert first[0] == first[1]
    rng = random.Random(7)
    many = {generate_identity_number(rng, dt.date(1990, 1, 1)) for _ in range(200)}
    assert len(many) > 150
    assert len({n[:2] for n in many}) >= 5  # several provinces of origin


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"region": "99010"}, "6 ASCII digits"),
        ({"region": "990101"}, "province"),
        ({"sex": "other"}, "other"),
    ],
)
def test_generator_refuses_bad_arguments(kwargs: dict[str, str], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        generate_identity_number(random.Random(1), dt.date(1990, 1, 1), **kwargs)


def test_generator_refuses_birth_before_1900() -> None:
    with pytest.raises(ValueError):
        generate_identity_number(random.Random(1), dt.date(1899, 12, 31))


# --- each reason for refusal ---------------------------------------------------------------


@pytest.mark.parametrize("value", [TEXTBOOK[:17], TEXTBOOK + "1", "", "   ", "1" * 19])
def test_wrong_length_is_refused(value: str) -> None:
    assert refused(value).reason is Reason.LENGTH


def test_fifteen_digit_first_generation_numbers_are_refused() -> None:
    assert refused("110105491231002").reason is Reason.LENGTH


@pytest.mark.parametrize(
    "value",
    [
        "11010519491231A02X",  # a letter inside
        "1101051949123100X2",  # X not last
        "11010519491231-02X",
        "11010519491231002Y",
        "11010519491231 002",  # inner space, still 18 characters
    ],
)
def test_non_digits_are_refused(value: str) -> None:
    assert refused(value).reason is Reason.CHARACTERS


def test_non_ascii_digits_are_refused() -> None:
    # Arabic-Indic digits are str.isdigit() but not identity-number digits.
    value = "١" + TEXTBOOK[1:]
    assert refused(value).reason is Reason.CHARACTERS


@pytest.mark.parametrize("birth", ["19900230", "19901301", "19900000", "18991231", "19490431"])
def test_impossible_birth_date_is_refused(birth: str) -> None:
    assert refused(with_check(f"110105{birth}002")).reason is Reason.BIRTH_DATE


def test_future_birth_date_is_refused_only_when_today_is_given() -> None:
    value = with_check("110105" + "20250602" + "002")
    assert refused(value, today=TODAY).reason is Reason.FUTURE_BIRTH_DATE
    assert validate_identity_number(value).birth_date == dt.date(2025, 6, 2)
    # Born today is fine.
    assert validate_identity_number(with_check("110105" + "20250601" + "002"), today=TODAY)


# Written out from GB/T 2260 independently of the implementation's table.
PROVINCES = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
PROVINCES |= {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82}


@pytest.mark.parametrize("province", range(100))
def test_exactly_the_province_codes_are_accepted(province: int) -> None:
    value = with_check(f"{province:02d}0105" + "19491231002")
    if province in PROVINCES:
        assert validate_identity_number(value).region == f"{province:02d}0105"
    else:
        assert refused(value).reason is Reason.REGION


def test_wrong_check_digit_is_refused() -> None:
    err = refused(TEXTBOOK[:17] + "1")
    assert err.reason is Reason.CHECK_DIGIT
    assert str(err) == "check digit does not match"


def test_every_single_character_corruption_of_the_textbook_example_is_refused() -> None:
    for position in range(18):
        alphabet = "0123456789X" if position == 17 else "0123456789"
        for char in alphabet:
            if char != TEXTBOOK[position]:
                refused(TEXTBOOK[:position] + char + TEXTBOOK[position + 1 :], today=None)


@given(
    seed=seeds,
    birth=birth_dates,
    position=st.integers(min_value=0, max_value=17),
    data=st.data(),
)
def test_every_single_digit_corruption_is_refused(
    seed: int, birth: dt.date, position: int, data: st.DataObject
) -> None:
    number = generate_identity_number(random.Random(seed), birth)
    alphabet = "0123456789X" if position == 17 else "0123456789"
    char = data.draw(st.sampled_from([c for c in alphabet if c != number[position]]))
    refused(number[:position] + char + number[position + 1 :], today=None)


def test_non_str_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        validate_identity_number(11010519491231002)  # type: ignore[arg-type]


def test_repr_and_str_of_a_parsed_number_are_masked() -> None:
    parsed = validate_identity_number(TEXTBOOK)
    assert TEXTBOOK not in repr(parsed)
    assert TEXTBOOK not in str(parsed)
    assert "19491231" not in repr(parsed)


# --- other synthetic data ------------------------------------------------------------------


@given(seed=seeds)
def test_generated_phones_are_mainland_mobiles(seed: int) -> None:
    phone = generate_phone(random.Random(seed))
    assert len(phone) == 11
    assert phone.isascii() and phone.isdigit()
    assert phone[:2] in {"13", "15", "17", "18", "19"}
    assert phone[:3] in PHONE_PREFIXES


@given(seed=seeds, sex=st.one_of(st.none(), sexes))
def test_generated_names_are_two_or_three_han_characters(seed: int, sex: str | None) -> None:
    name = generate_name(random.Random(seed), sex=sex)
    assert 2 <= len(name) <= 3
    assert all("\u4e00" <= c <= "\u9fff" for c in name)
