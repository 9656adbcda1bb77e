"""Summary tables of the oversight figures, refreshed by the periodic job ``oversight.refresh``
(:mod:`jifen.oversight.summaries`), and the feeds' expected cadence.

The summaries hold counts only (no personal data). A live query over 1,000,000 residents would
be too slow for a dashboard; these tables are small (a few thousand rows per day).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from jifen.org.models import Department, Town


class DailyScoreSummary(models.Model):
    """Current scores on ``day`` counted by town, status, lapse reason and whole points
    (``points`` = the total rounded down to a whole point); ``total_hundredths`` is the exact sum
    of the totals in hundredths of a point."""

    day = models.DateField(_("day"))
    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=8)
    lapse_reason = models.CharField(_("lapse reason"), max_length=200, blank=True)
    points = models.IntegerField(_("whole points"))
    residents = models.PositiveIntegerField(_("residents"))
    total_hundredths = models.BigIntegerField(_("sum of totals in hundredths"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "town", "status", "lapse_reason", "points"],
                name="oversight_daily_score_row",
            )
        ]
        indexes = [models.Index(fields=["day"], name="oversight_score_day")]
        verbose_name = _("daily score summary")
        verbose_name_plural = _("daily score summaries")

    def __str__(self) -> str:
        return f"{self.day} {self.town_id} {self.status} {self.points}: {self.residents}"


class DailyItemSummary(models.Model):
    """Valid current scores on ``day`` by town and score item: how many residents score on the
    item (points > 0) and the sum of their points in hundredths."""

    day = models.DateField(_("day"))
    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="+")
    section = models.CharField(_("section"), max_length=12)  # "provincial" | "city"
    item = models.CharField(_("item"), max_length=60)
    residents = models.PositiveIntegerField(_("residents"))
    points_hundredths = models.BigIntegerField(_("sum of points in hundredths"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "town", "section", "item"], name="oversight_daily_item_row"
            )
        ]
        verbose_name = _("daily item summary")
        verbose_name_plural = _("daily item summaries")

    def __str__(self) -> str:
        return f"{self.day} {self.town_id} {self.item}: {self.residents}"


class PermitMonthSummary(models.Model):
    """Residence permits per month (first day) and town: issued, lapsed (a change to suspended
    or cancelled effective that month) and restored (a return to valid after a lapse)."""

    month = models.DateField(_("month"))
    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="+")
    new_permits = models.PositiveIntegerField(_("new permits"), default=0)
    lapses = models.PositiveIntegerField(_("lapses"), default=0)
    restored = models.PositiveIntegerField(_("restored"), default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["month", "town"], name="oversight_permit_month_row")
        ]
        verbose_name = _("permit month summary")
        verbose_name_plural = _("permit month summaries")

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.town_id}"


class ReviewSummary(models.Model):
    """One closed review task (decided, refused or withdrawn): when it closed and how many
    working days it took. Written once per task by the refresh job; the figures read these rows
    plus the few tasks closed since (the live delta)."""

    task = models.OneToOneField(
        "claims.ReviewTask", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=20)
    closed_on = models.DateField(_("closed on"))
    #: Working days from acceptance (or, refused unaccepted, from submission) to the decision;
    #: null for a withdrawn task or where the calendar does not cover the dates.
    workdays = models.IntegerField(_("working days to decision"), null=True)

    class Meta:
        indexes = [
            models.Index(fields=["closed_on", "department"], name="oversight_review_closed"),
        ]
        verbose_name = _("review summary")
        verbose_name_plural = _("review summaries")

    def __str__(self) -> str:
        return f"{self.task_id} {self.state} {self.closed_on}"


class FeedReasonSummary(models.Model):
    """Rejected rows of one feed batch counted by reason (from the batch's row report)."""

    batch = models.ForeignKey("feeds.FeedBatch", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=200)
    rows = models.PositiveIntegerField(_("rows"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "reason"], name="oversight_feed_reason_row")
        ]
        verbose_name = _("feed rejection summary")
        verbose_name_plural = _("feed rejection summaries")

    def __str__(self) -> str:
        return f"{self.batch_id} {self.reason}: {self.rows}"


class FeedSchedule(models.Model):
    """How often a department's data is expected. Departments without a row are expected every
    ``settings.JIFEN_FEED_EXPECTED_EVERY_DAYS`` days (default 31) if they have a feed format."""

    department = models.OneToOneField(
        Department, on_delete=models.CASCADE, related_name="feed_schedule"
    )
    every_days = models.PositiveIntegerField(_("expected every (days)"))
    grace_days = models.PositiveIntegerField(_("grace (days)"), default=0)
    expected = models.BooleanField(_("expected"), default=True)

    class Meta:
        verbose_name = _("feed schedule")
        verbose_name_plural = _("feed schedules")

    def __str__(self) -> str:
        return f"{self.department_id}: every {self.every_days} days"


class SummaryRefresh(models.Model):
    """When each summary was last refreshed (one row per summary name)."""

    name = models.CharField(_("summary"), max_length=40, unique=True)
    refreshed_at = models.DateTimeField(_("refreshed at"))
    took_ms = models.PositiveIntegerField(_("took (ms)"), default=0)
    rows = models.PositiveIntegerField(_("rows"), default=0)

    class Meta:
        verbose_name = _("summary refresh")
        verbose_name_plural = _("summary refreshes")

    def __str__(self) -> str:
        return f"{self.name} {self.refreshed_at}"
