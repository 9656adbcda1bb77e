"""Accounts and roles. Staff belong to exactly one department or town; residents to themselves.

Administration is split (security.md): the system administrator manages configuration, the
security administrator manages accounts, the auditor reads the audit log — none of them reads
residents' personal data by default.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jifen.org.models import Department, Town
from jifen.residents.models import Resident


class Role(models.TextChoices):
    RESIDENT = "resident", _("resident")
    CLERK = "clerk", _("window clerk")
    REVIEWER = "reviewer", _("department reviewer")
    CENTER = "center", _("center administrator")
    BUREAU = "bureau", _("Development and Reform Bureau")
    AUDITOR = "auditor", _("auditor")
    SYSTEM_ADMIN = "system_admin", _("system administrator")
    SECURITY_ADMIN = "security_admin", _("security administrator")


class UserManager(BaseUserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        # Django's superuser is the system administrator: configuration, not personal data.
        extra_fields.setdefault("role", Role.SYSTEM_ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    town = models.ForeignKey(
        Town, on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    resident = models.OneToOneField(
        Resident, on_delete=models.PROTECT, null=True, blank=True, related_name="account"
    )
    failed_logins = models.PositiveIntegerField(_("consecutive failed logins"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    # The hourly ceiling on failures (security.md): failures counted in a fixed one-hour window
    # that starts at the first failure after the previous window ended.
    failure_window_started_at = models.DateTimeField(
        _("failure window started at"), null=True, blank=True
    )
    failures_in_window = models.PositiveIntegerField(_("failures in the window"), default=0)

    objects = UserManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="accounts_unit_matches_role",
                condition=(
                    Q(
                        role="resident",
                        resident__isnull=False,
                        department__isnull=True,
                        town__isnull=True,
                    )
                    | Q(
                        role="clerk",
                        town__isnull=False,
                        department__isnull=True,
                        resident__isnull=True,
                    )
                    | Q(
                        role="reviewer",
                        department__isnull=False,
                        town__isnull=True,
                        resident__isnull=True,
                    )
                    | Q(
                        role__in=["center", "bureau", "auditor", "system_admin", "security_admin"],
                        department__isnull=True,
                        town__isnull=True,
                        resident__isnull=True,
                    )
                ),
            )
        ]

    @property
    def is_staff_member(self) -> bool:
        """A clerk, reviewer or center administrator (the workbench users)."""
        return self.role in {Role.CLERK, Role.REVIEWER, Role.CENTER}

    @property
    def unit_code(self) -> str:
        """The department or town code, for audit entries."""
        if self.department_id:
            return self.department.code
        if self.town_id:
            return self.town.code
        return ""


class UserSession(models.Model):
    """A session a user signed in with (its key), so that logging out or disabling the account
    ends every session of the user, not only the browser that asked (security.md)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="signed_in_sessions")
    session_key = models.CharField(_("session key"), max_length=40, unique=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("signed-in session")
        verbose_name_plural = _("signed-in sessions")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.created_at:%Y-%m-%d %H:%M}"
