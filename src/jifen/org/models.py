"""Organisational units: towns (each runs a points window) and departments (each reviews its
own indicators). Both are data the center maintains; the routing table says which department
is responsible for which rule."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Town(models.Model):
    """A town or subdistrict (镇/街道) of Tongxiang; each runs a points service window."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=40, unique=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("town")
        verbose_name_plural = _("towns")

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """A municipal or provincial department (职能部门) that sends feeds and reviews items."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class RuleRoute(models.Model):
    """One line of the routing table: ``department`` is responsible for ``rule``.

    ``rule`` is a provincial field (``education``), a city rule (``charity.blood_donation``)
    or a deduction code (``usury``). Several departments may share one rule (front-line posts).
    """

    rule = models.CharField(_("rule"), max_length=60, db_index=True)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="routes", verbose_name=_("department")
    )

    class Meta:
        ordering = ["rule", "department__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "department"], name="org_route_unique_rule_department"
            )
        ]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing table")

    def __str__(self) -> str:
        return f"{self.rule} → {self.department.code}"
