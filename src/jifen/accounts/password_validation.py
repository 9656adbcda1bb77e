"""Password rules (security.md): at least 12 characters (Django's MinimumLengthValidator), a
common-password list (Django's CommonPasswordValidator) and 3 of the 4 character classes."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def character_classes(password: str) -> set[str]:
    """Which of upper case, lower case, digits and other characters ``password`` uses."""
    found: set[str] = set()
    for ch in password:
        if ch.isupper():
            found.add("upper")
        elif ch.islower():
            found.add("lower")
        elif ch.isdigit():
            found.add("digit")
        else:
            found.add("other")
    return found


class CharacterClassesValidator:
    """Require ``min_classes`` of: upper-case letters, lower-case letters, digits, symbols."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        if len(character_classes(password)) < self.min_classes:
            raise ValidationError(
                _(
                    "The password must use at least %(n)d of these: upper-case letters, "
                    "lower-case letters, digits, symbols."
                ),
                code="password_too_few_character_classes",
                params={"n": self.min_classes},
            )

    def get_help_text(self) -> str:
        return _(
            "Your password must use at least %(n)d of these: upper-case letters, "
            "lower-case letters, digits, symbols."
        ) % {"n": self.min_classes}
