"""The login form: Django's, with one refusal for every failed login.

A wrong password, an unknown user name and a locked account get the same message, which states
the lock-out rule: answering "locked" only for accounts that exist would tell anyone who tries
five passwords which user names are real (OWASP ASVS V2/V3, account enumeration). Why a login
failed is in the audit log (``auth.login_failed`` with its reason, ``auth.locked``).
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from jifen.accounts import lockout


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "The user name or password is not correct, or the account is locked: after "
            "%(attempts)s failed logins in a row an account is locked for %(minutes)s minutes."
        ),
    }

    username = forms.CharField(
        label=_("User name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def get_invalid_login_error(self) -> ValidationError:
        policy = lockout.LockPolicy.from_settings()
        return ValidationError(
            self.error_messages["invalid_login"],
            code="invalid_login",
            params={
                "attempts": policy.max_consecutive,
                "minutes": int(policy.lock_for.total_seconds() // 60),
            },
        )
