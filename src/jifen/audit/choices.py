"""Enumerations of the audit log, importable without the app registry."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ActorKind(models.TextChoices):
    """Who acted: a signed-in person, or a named system actor (a feed, a job, a command)."""

    USER = "user", _("User")
    SYSTEM = "system", _("System")


class Result(models.TextChoices):
    """How the action ended. ``denied`` is an access refusal, ``failure`` anything else."""

    SUCCESS = "success", _("Success")
    FAILURE = "failure", _("Failure")
    DENIED = "denied", _("Denied")
