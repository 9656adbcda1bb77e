"""The login form: Django's, with a clear message for a locked account."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from jifen.accounts import clock, lockout


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The user name or password is not correct."),
        "locked": _(
            "This account is locked after repeated failed logins. "
            "Try again after %(time)s (Beijing time)."
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
        username = self.cleaned_data.get("username")
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is not None and lockout.is_locked(user, clock.now()):
            until = user.locked_until.astimezone(clock.CHINA)
            return ValidationError(
                self.error_messages["locked"],
                code="locked",
                params={"time": until.strftime("%Y-%m-%d %H:%M")},
            )
        return super().get_invalid_login_error()
