"""Passwords: at least 12 characters, 3 of 4 character classes, not a common password."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from jifen.accounts.password_validation import CharacterClassesValidator, character_classes


def codes(password: str) -> set[str]:
    try:
        validate_password(password)
    except ValidationError as exc:
        return {e.code for e in exc.error_list}
    return set()


@pytest.mark.parametrize(
    "password",
    ["Wutong-Window-2025!", "Correct7Horse7Battery", "lower-case-and-9-digits", "ALLCAPS-123-456"],
)
def test_good_passwords_pass(password):
    assert codes(password) == set()


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Short-1a", "password_too_short"),
        ("alllowercaseletters", "password_too_few_character_classes"),
        ("lowercaseand12345", "password_too_few_character_classes"),
        ("12345678901234", "password_entirely_numeric"),
        ("Password1234", "password_too_common"),
        ("qwertyuiop123", "password_too_common"),
    ],
)
def test_weak_passwords_are_refused(password, code):
    assert code in codes(password)


def test_character_classes():
    assert character_classes("aB3!") == {"lower", "upper", "digit", "other"}
    assert character_classes("桐乡abc") == {"other", "lower"}
    validator = CharacterClassesValidator(min_classes=4)
    with pytest.raises(ValidationError):
        validator.validate("Abcdefgh1234")
    validator.validate("Abcdefgh123!")
    assert "4" in validator.get_help_text()


def test_the_validators_are_configured(settings):
    names = [v["NAME"] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert "django.contrib.auth.password_validation.CommonPasswordValidator" in names
    assert "jifen.accounts.password_validation.CharacterClassesValidator" in names
    length = next(v for v in settings.AUTH_PASSWORD_VALIDATORS if "MinimumLength" in v["NAME"])
    assert length["OPTIONS"]["min_length"] == 12
