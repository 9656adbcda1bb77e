"""Defining scenarios: the scenario, draft versions of its definition, publication and
withdrawal. The center does all of it (with the providing department, outside the system);
a published version is immutable and every step is audited."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from jifen.accounts.models import User
from jifen.audit.actors import Actor
from jifen.org.models import Department, Town
from jifen.scenarios.content import content_hash, parse_datetime, validate_content
from jifen.scenarios.errors import InvalidScenario, TransitionNotAllowed
from jifen.scenarios.models import Quota, Scenario, ScenarioVersion, VersionStatus
from jifen.scenarios.services._common import audit, require_center, shown

_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,59}$")


def _version_data(version: ScenarioVersion, **extra: Any) -> dict[str, Any]:
    return {
        "scenario": version.scenario.code,
        "version": version.number,
        "content_hash": version.content_hash,
        **extra,
    }


def create_scenario(
    *, code: str, name: str, department: Department, user: User, now: dt.datetime
) -> Scenario:
    """A new scenario (no version yet); audited ``scenario.created``."""
    require_center(user)
    code = (code or "").strip()
    if not _CODE.match(code):
        raise InvalidScenario(
            _("A code of 2–60 lower-case letters, digits and hyphens is expected."), field="code"
        )
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidScenario(_("Give the scenario's name (at most 200 characters)."), field="name")
    if not isinstance(department, Department):
        raise InvalidScenario(_("Choose the providing department."), field="department")
    try:
        with transaction.atomic():
            scenario = Scenario.objects.create(
                code=code, name=name, department=department, created_by=user, created_at=now
            )
            audit(
                "scenario.created",
                actor=Actor.for_user(user),
                obj=scenario,
                now=now,
                data={"code": code, "department": department.code},
            )
    except IntegrityError:
        raise InvalidScenario(
            _("A scenario with the code %(code)s exists already.") % {"code": code}, field="code"
        ) from None
    return scenario


def draft_version(
    *,
    scenario: Scenario,
    content: dict[str, Any],
    user: User,
    now: dt.datetime,
    version: ScenarioVersion | None = None,
) -> ScenarioVersion:
    """Validate ``content`` and store it as a new draft version of ``scenario`` (or replace the
    content of the draft ``version``). Audited ``scenario.version_drafted`` with the hash."""
    require_center(user)
    canonical = validate_content(content)
    digest = content_hash(canonical)
    fields = _dated(canonical)
    with transaction.atomic():
        Scenario.objects.select_for_update().get(pk=scenario.pk)
        if version is None:
            last = scenario.versions.aggregate(n=Max("number"))["n"] or 0
            version = ScenarioVersion.objects.create(
                scenario=scenario,
                number=last + 1,
                content=canonical,
                content_hash=digest,
                created_at=now,
                created_by=user,
                **fields,
            )
        else:
            version = ScenarioVersion.objects.select_for_update().get(pk=version.pk)
            if version.scenario_id != scenario.pk:
                raise InvalidScenario(
                    _("This version belongs to another scenario."), field="version"
                )
            _require_draft(version)
            version.content = canonical
            version.content_hash = digest
            for name, value in fields.items():
                setattr(version, name, value)
            version.save()
        audit(
            "scenario.version_drafted",
            actor=Actor.for_user(user),
            obj=version,
            now=now,
            data=_version_data(version),
        )
    return version


def _dated(canonical: dict[str, Any]) -> dict[str, Any]:
    return {
        "open_from": parse_datetime(canonical["open_from"]),
        "open_until": parse_datetime(canonical["open_until"]),
        "evaluation_date": dt.date.fromisoformat(canonical["evaluation_date"]),
        "review_date": dt.date.fromisoformat(canonical["review_date"]),
    }


def _require_draft(version: ScenarioVersion) -> None:
    if version.status != VersionStatus.DRAFT:
        raise TransitionNotAllowed(
            _("Version %(n)s is %(status)s: only a draft can be changed or published.")
            % {"n": version.number, "status": VersionStatus(version.status).label},
            field="version",
        )


def publish_version(version: ScenarioVersion, *, user: User, now: dt.datetime) -> ScenarioVersion:
    """Publish the draft ``version``: its content is checked again (the policies in force on
    its evaluation date may have changed), its hash fixed, its quotas stored as rows, and the
    version published before it (if any) withdrawn as superseded — enrollments already made
    keep the version they were made under. A version whose open period is already over is
    refused. Audited ``scenario.published`` with the content hash."""
    require_center(user)
    with transaction.atomic():
        version = (
            ScenarioVersion.objects.select_for_update()
            .select_related("scenario")
            .get(pk=version.pk)
        )
        _require_draft(version)
        canonical = validate_content(version.content)
        if content_hash(canonical) != version.content_hash or canonical != version.content:
            raise InvalidScenario(
                _("The stored definition no longer validates to the same content; draft it again."),
                field="content",
            )
        if now >= version.open_until:
            raise InvalidScenario(
                _("The open period ended at %(until)s; it cannot be published.")
                % {"until": shown(version.open_until)},
                field="content.open_until",
            )
        superseded = list(
            ScenarioVersion.objects.select_for_update().filter(
                scenario_id=version.scenario_id, status=VersionStatus.PUBLISHED
            )
        )
        for old in superseded:
            old.status = VersionStatus.WITHDRAWN
            old.withdrawn_at = now
            old.withdrawn_by = user
            old.withdraw_reason = f"superseded by version {version.number}"
            old.save(update_fields=["status", "withdrawn_at", "withdrawn_by", "withdraw_reason"])
            audit(
                "scenario.withdrawn",
                actor=Actor.for_user(user),
                obj=old,
                now=now,
                data=_version_data(old, superseded_by=version.number),
            )
        towns = {t.code: t for t in Town.objects.all()}
        Quota.objects.bulk_create(
            [
                Quota(
                    version=version,
                    position=position,
                    key=quota["key"],
                    label=quota["label"],
                    places=quota["places"],
                    town=towns.get(quota["town"]) if quota["town"] else None,
                )
                for position, quota in enumerate(canonical["quotas"])
            ]
        )
        version.status = VersionStatus.PUBLISHED
        version.published_at = now
        version.published_by = user
        version.save(update_fields=["status", "published_at", "published_by"])
        audit(
            "scenario.published",
            actor=Actor.for_user(user),
            obj=version,
            now=now,
            data=_version_data(
                version,
                open_from=canonical["open_from"],
                open_until=canonical["open_until"],
                evaluation_date=canonical["evaluation_date"],
                review_date=canonical["review_date"],
                places=sum(q["places"] for q in canonical["quotas"]),
            ),
        )
    return version


def withdraw_version(
    version: ScenarioVersion, *, user: User, reason: str, now: dt.datetime
) -> ScenarioVersion:
    """Withdraw a published version (no more enrollments under it); the content stays."""
    require_center(user)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidScenario(_("Please give a reason."), field="reason")
    with transaction.atomic():
        version = (
            ScenarioVersion.objects.select_for_update()
            .select_related("scenario")
            .get(pk=version.pk)
        )
        if version.status != VersionStatus.PUBLISHED:
            raise TransitionNotAllowed(
                _("Only a published version can be withdrawn."), field="version"
            )
        version.status = VersionStatus.WITHDRAWN
        version.withdrawn_at = now
        version.withdrawn_by = user
        version.withdraw_reason = reason[:2000]
        version.save(update_fields=["status", "withdrawn_at", "withdrawn_by", "withdraw_reason"])
        audit(
            "scenario.withdrawn",
            actor=Actor.for_user(user),
            obj=version,
            now=now,
            data=_version_data(version),
        )
    return version


def define_scenario(
    *,
    code: str,
    name: str,
    department: Department,
    content: dict[str, Any],
    user: User,
    now: dt.datetime,
    publish: bool = False,
) -> ScenarioVersion:
    """Create a scenario with its first version (published when ``publish``), atomically."""
    with transaction.atomic():
        scenario = create_scenario(code=code, name=name, department=department, user=user, now=now)
        version = draft_version(scenario=scenario, content=content, user=user, now=now)
        if publish:
            version = publish_version(version, user=user, now=now)
    return version
