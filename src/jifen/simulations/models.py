"""A stored impact simulation: what was compared, by whom, and the figures (JSON)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SimulationStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class Simulation(models.Model):
    """One run of a draft against the versions in force, over the current population.

    The draft is a policy version of ``jifen.policies`` (any state: a draft, or an approved
    version before it is published); its id and content hash are kept as simulated, since a
    draft may be edited afterwards.
    """

    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=8, choices=SimulationStatus.choices, default=SimulationStatus.QUEUED
    )
    draft = models.ForeignKey(
        "policies.PolicyVersion",
        on_delete=models.PROTECT,
        related_name="simulations",
        verbose_name=_("draft policy version"),
    )
    #: The draft's policy id and content hash when simulated.
    draft_policy = models.CharField(_("draft policy"), max_length=100, blank=True)
    draft_hash = models.CharField(_("draft content hash"), max_length=64, blank=True)
    scenario_version = models.ForeignKey(
        "scenarios.ScenarioVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("scenario"),
    )
    on = models.DateField(_("evaluation date"))
    job = models.ForeignKey(
        "jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    seconds = models.FloatField(_("seconds"), null=True, blank=True)
    residents = models.PositiveIntegerField(_("residents"), null=True, blank=True)
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("impact simulation")
        verbose_name_plural = _("impact simulations")

    def __str__(self) -> str:
        return f"simulation #{self.pk} ({self.draft_policy})"
