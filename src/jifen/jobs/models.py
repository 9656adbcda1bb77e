"""The job queue: rows claimed atomically by workers, every run recorded."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class Job(models.Model):
    """One unit of background work (``kind`` names a registered handler)."""

    kind = models.CharField(_("kind"), max_length=60)
    args = models.JSONField(_("arguments"), default=dict)
    status = models.CharField(
        _("status"), max_length=8, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    run_after = models.DateTimeField(_("run after"))
    created_at = models.DateTimeField(_("created at"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("heartbeat"), null=True, blank=True)
    worker = models.CharField(_("worker"), max_length=80, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveIntegerField(_("max attempts"), default=3)
    progress_done = models.PositiveIntegerField(_("done"), default=0)
    progress_total = models.PositiveIntegerField(_("total"), default=0)
    checkpoint = models.JSONField(_("checkpoint"), default=dict, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["run_after", "id"]
        indexes = [models.Index(fields=["status", "run_after"], name="jobs_ready")]
        verbose_name = _("job")
        verbose_name_plural = _("jobs")

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"


class RunOutcome(models.TextChoices):
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")
    INTERRUPTED = "interrupted", _("interrupted")
    LOST = "lost", _("worker lost (no heartbeat)")


class JobRun(models.Model):
    """One attempt at a job: who ran it, when, and how it ended (the job keeps the latest)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="runs")
    attempt = models.PositiveIntegerField(_("attempt"))
    worker = models.CharField(_("worker"), max_length=80)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=RunOutcome.choices, default=RunOutcome.RUNNING
    )
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["job", "attempt"]
        constraints = [
            models.UniqueConstraint(fields=["job", "attempt"], name="jobs_one_run_per_attempt")
        ]
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")

    def __str__(self) -> str:
        return f"{self.job_id} attempt {self.attempt} ({self.outcome})"


class PeriodicSlot(models.Model):
    """A periodic kind's slot that has been enqueued: the unique key makes it once per slot,
    whichever of several workers gets there first."""

    kind = models.CharField(_("kind"), max_length=60)
    slot = models.DateTimeField(_("slot"))
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["-slot", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "slot"], name="jobs_one_job_per_periodic_slot")
        ]
        verbose_name = _("periodic slot")
        verbose_name_plural = _("periodic slots")

    def __str__(self) -> str:
        return f"{self.kind} @ {self.slot.isoformat()}"
