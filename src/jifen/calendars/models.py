"""The working-day calendar as database rows: immutable versions, the latest is current.

A version is a complete snapshot: the years it covers (``CalendarYear``) and the explicit
exceptions to Monday–Friday in them (``CalendarDay``: statutory days off and adjusted working
days). Editing the calendar — a new State Council notice, an emergency change — creates a new
version; old versions stay as they were, so every deadline can name the version it used.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarVersion(models.Model):
    """One snapshot of the calendar; the primary key is the version number (1, 2, 3 ...)."""

    number = models.PositiveIntegerField(_("version"), primary_key=True)
    #: Distinguishes two rows that had the same number (a rolled-back version, a flushed test
    #: database): the in-process cache is keyed on it, never on the number alone.
    key = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    note = models.TextField(_("note"), blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        ordering = ["-number"]
        verbose_name = _("calendar version")
        verbose_name_plural = _("calendar versions")

    def __str__(self) -> str:
        return f"calendar v{self.number}"


class CalendarYear(models.Model):
    """A year the version covers: its working days are known (a notice is loaded)."""

    version = models.ForeignKey(CalendarVersion, on_delete=models.CASCADE, related_name="years")
    year = models.PositiveSmallIntegerField(_("year"))
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        ordering = ["version", "year"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "year"], name="calendars_one_year_per_version"
            )
        ]
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")

    def __str__(self) -> str:
        return f"{self.year} (v{self.version_id})"


class CalendarDay(models.Model):
    """An explicit day of a covered year: a day off or an adjusted working day (调休上班)."""

    version = models.ForeignKey(CalendarVersion, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    is_workday = models.BooleanField(_("working day"))
    name = models.CharField(_("name"), max_length=100, blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        ordering = ["version", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "date"], name="calendars_one_day_per_version"
            )
        ]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")

    def __str__(self) -> str:
        return f"{self.date} {'work' if self.is_workday else 'off'} (v{self.version_id})"


class CalendarProblem(models.Model):
    """A year someone needed (a deadline, a reminder) that the current calendar does not cover.

    Shown to the center until a version covering the year is saved (``resolved_at``).
    """

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))
    occurrences = models.PositiveIntegerField(_("occurrences"), default=1)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by_version = models.PositiveIntegerField(
        _("resolved by version"), null=True, blank=True
    )

    class Meta:
        ordering = ["year"]
        verbose_name = _("calendar problem")
        verbose_name_plural = _("calendar problems")

    def __str__(self) -> str:
        return f"calendar does not cover {self.year}"
