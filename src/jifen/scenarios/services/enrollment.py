"""Enrollment (积分应用申请): a resident applies to a scenario inside its open period.

The open period is ``[open_from, open_until)``, to the second: at ``open_from`` exactly the
application is accepted, at ``open_until`` exactly it is refused (``scenarios.closed``); both
refusals give the two datetimes in China time. One enrollment per resident and scenario: the
database constraint ``scenarios_one_enrollment_per_resident`` decides between concurrent
submissions; the loser (and any later re-submission) gets ``scenarios.already_enrolled`` with
the existing enrollment (``error.enrollment``), so an idempotent caller can answer with it.
A withdrawn enrollment may be submitted again inside the open period (the same row: a new
time of application and new details).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from jifen.accounts.models import User
from jifen.audit.actors import Actor
from jifen.residents.models import Resident
from jifen.scenarios.errors import (
    AlreadyEnrolled,
    Closed,
    InvalidEnrollment,
    NotOpenYet,
    NotPublished,
    TransitionNotAllowed,
)
from jifen.scenarios.models import (
    Enrollment,
    EnrollmentStatus,
    Scenario,
    ScenarioVersion,
    VersionStatus,
)
from jifen.scenarios.services._common import (
    audit,
    channel_for,
    next_number,
    notify_resident,
    require_enroller,
    shown,
)
from jifen.scenarios.services.blockers import apply_blockers, blockers_for

#: Applicant details an enrollment may carry (everything else is refused, naming the key).
DETAIL_KEYS = ("child_name", "child_birth_date", "household_size")


def published_version(scenario: Scenario) -> ScenarioVersion:
    version = (
        ScenarioVersion.objects.filter(scenario=scenario, status=VersionStatus.PUBLISHED)
        .select_related("scenario")
        .first()
    )
    if version is None:
        raise NotPublished(
            _("%(scenario)s is not open for applications.") % {"scenario": scenario.name},
            field="scenario",
        )
    return version


def check_open(version: ScenarioVersion, now: dt.datetime) -> None:
    """Refuse outside ``[open_from, open_until)`` with both datetimes in the message."""
    period = {"start": shown(version.open_from), "end": shown(version.open_until)}
    if now < version.open_from:
        raise NotOpenYet(
            _(
                "Applications open at %(start)s and close at %(end)s (China time); "
                "this scenario is not open yet."
            )
            % period,
            field="scenario",
        )
    if now >= version.open_until:
        raise Closed(
            _(
                "Applications were accepted from %(start)s until %(end)s (China time); the "
                "open period is over and applications are no longer accepted."
            )
            % period,
            field="scenario",
        )


def clean_details(version: ScenarioVersion, details: Any) -> dict[str, Any]:
    """The applicant details the version's eligibility needs, checked (``details.<key>``)."""
    if details is None:
        details = {}
    if not isinstance(details, dict):
        raise InvalidEnrollment(_("An object is expected."), field="details")
    for key in details:
        if key not in DETAIL_KEYS:
            raise InvalidEnrollment(
                _("Unknown detail %(key)s.") % {"key": key}, field=f"details.{key}"
            )
    out: dict[str, Any] = {}
    eligibility = version.eligibility
    born_from, born_to = eligibility.get("child_birth_from"), eligibility.get("child_birth_to")
    birth = details.get("child_birth_date")
    if born_from:
        if birth in (None, ""):
            raise InvalidEnrollment(
                _("Give the child's date of birth."), field="details.child_birth_date"
            )
        if isinstance(birth, str):
            try:
                birth = dt.date.fromisoformat(birth)
            except ValueError:
                birth = None
        if isinstance(birth, dt.datetime) or not isinstance(birth, dt.date):
            raise InvalidEnrollment(
                _("A date is expected, written YYYY-MM-DD."), field="details.child_birth_date"
            )
        if not born_from <= birth.isoformat() <= born_to:
            raise InvalidEnrollment(
                _(
                    "Only children born from %(start)s to %(end)s (inclusive) may apply; "
                    "the date given is %(date)s."
                )
                % {"start": born_from, "end": born_to, "date": birth.isoformat()},
                field="details.child_birth_date",
            )
        out["child_birth_date"] = birth.isoformat()
        name = details.get("child_name", "")
        if not isinstance(name, str) or len(name.strip()) > 50:
            raise InvalidEnrollment(
                _("The child's name is text of at most 50 characters."),
                field="details.child_name",
            )
        if name.strip():
            out["child_name"] = name.strip()
    else:
        for key in ("child_birth_date", "child_name"):
            if details.get(key) not in (None, ""):
                raise InvalidEnrollment(
                    _("This scenario asks for no child's details."), field=f"details.{key}"
                )
    size = details.get("household_size")
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 20:
            raise InvalidEnrollment(
                _("The household size is a whole number from 1 to 20."),
                field="details.household_size",
            )
        out["household_size"] = size
    return out


def clean_preferences(version: ScenarioVersion, preferences: Any) -> list[str]:
    """Quota keys in order of preference, checked against the version (``preferences[i]``)."""
    most = version.preferences_max
    preferences = list(preferences or [])
    if not most:
        if preferences:
            raise InvalidEnrollment(_("This scenario takes no preferences."), field="preferences")
        return []
    if not preferences:
        raise InvalidEnrollment(
            _("Choose at least one preference (at most %(n)s).") % {"n": most},
            field="preferences",
        )
    if len(preferences) > most:
        raise InvalidEnrollment(
            _("Choose at most %(n)s preferences.") % {"n": most}, field=f"preferences[{most}]"
        )
    keys = [q["key"] for q in version.content["quotas"]]
    seen: list[str] = []
    for index, key in enumerate(preferences):
        if key not in keys:
            raise InvalidEnrollment(
                _("%(key)s is not one of this scenario's places.") % {"key": key},
                field=f"preferences[{index}]",
            )
        if key in seen:
            raise InvalidEnrollment(
                _("%(key)s is chosen twice.") % {"key": key}, field=f"preferences[{index}]"
            )
        seen.append(key)
    return seen


def _existing(scenario: Scenario, resident: Resident) -> Enrollment | None:
    return (
        Enrollment.objects.filter(scenario=scenario, resident=resident)
        .select_related("version", "scenario")
        .first()
    )


def _already(existing: Enrollment) -> AlreadyEnrolled:
    return AlreadyEnrolled(
        _("You have applied to this scenario already (application %(number)s).")
        % {"number": existing.number},
        enrollment=existing,
    )


def enroll(
    *,
    scenario: Scenario,
    resident: Resident,
    user: User,
    details: dict[str, Any] | None = None,
    preferences: Sequence[str] | None = None,
    now: dt.datetime,
    version: ScenarioVersion | None = None,
) -> Enrollment:
    """Apply ``resident`` to ``scenario`` under its published version (see the module);
    ``version`` is that version when the caller has read it already.

    Refusals: ``scenarios.not_allowed`` (neither the resident nor a clerk of their town),
    ``scenarios.not_published``, ``scenarios.already_enrolled`` (with ``.enrollment``; it
    comes first whatever else is wrong), ``scenarios.not_open_yet`` / ``scenarios.closed``,
    ``scenarios.invalid`` naming ``details.*`` or ``preferences[i]``. Audited
    ``enrollment.submitted`` (and ``enrollment.blocked`` with the reasons if something blocks
    it); the resident is told.

    The first minutes of a popular open period are the platform's peak, so the common case
    costs few statements: the row is inserted straight away with the blockers found before
    the transaction, and the constraint one-per-resident finds an existing enrollment
    (``_existing`` is read only after a conflict or a refusal).
    """
    require_enroller(user, resident)
    if version is None:
        version = published_version(scenario)
    elif version.scenario_id != scenario.pk or version.status != VersionStatus.PUBLISHED:
        raise ValueError("version must be the scenario's published version")
    try:
        check_open(version, now)
        details = clean_details(version, details)
        preferences = clean_preferences(version, preferences)
    except (NotOpenYet, Closed, InvalidEnrollment):
        existing = _existing(scenario, resident)
        if existing is not None and existing.status != EnrollmentStatus.WITHDRAWN:
            raise _already(existing) from None
        raise
    actor = Actor.for_user(user)
    # Read-only checks before the transaction: every enrollment of an open period queues on
    # the number counter and the audit chain, so the locked part holds only the writes.
    reasons = blockers_for([resident], now=now)[resident.pk]
    with transaction.atomic():
        enrollment = _insert(scenario, version, resident, user, details, preferences, now)
        new = enrollment is not None
        if not new:
            existing = _existing(scenario, resident)
            if existing is None:  # pragma: no cover — the constraint named it a moment ago
                raise RuntimeError("enrollment conflict without an enrollment")
            if existing.status != EnrollmentStatus.WITHDRAWN:
                raise _already(existing)
            enrollment = _resubmit(existing, version, user, details, preferences, now, actor)
        _after_submission(enrollment, reasons, actor=actor, now=now, new=new)
    return enrollment


def _insert(
    scenario: Scenario,
    version: ScenarioVersion,
    resident: Resident,
    user: User,
    details: dict[str, Any],
    preferences: list[str],
    now: dt.datetime,
) -> Enrollment | None:
    """The new enrollment, or None when the resident has one (the constraint says so)."""
    enrollment = Enrollment(
        scenario=scenario,
        version=version,
        resident=resident,
        submitted_by=user,
        channel=channel_for(user),
        details=details,
        preferences=preferences,
        applied_at=now,
        status=EnrollmentStatus.SUBMITTED,
        blockers_checked_at=now,  # by ``enroll`` just before; a blocker found sets the status
        updated_at=now,
    )
    try:
        with transaction.atomic():  # a savepoint: the number goes back with a conflict
            enrollment.number = next_number(now)
            enrollment.save(force_insert=True)
    except IntegrityError as exc:
        if "scenarios_one_enrollment_per_resident" in str(exc) or "scenario_id" in str(exc):
            return None
        raise
    return enrollment


def _submitted_data(enrollment: Enrollment, version: ScenarioVersion) -> dict[str, Any]:
    return {
        "number": enrollment.number,
        "scenario": version.scenario.code,
        "version": version.number,
        "content_hash": version.content_hash,
        "resident": str(enrollment.resident_id),
        "channel": enrollment.channel,
        "preferences": list(enrollment.preferences),
        "applied_at": enrollment.applied_at.isoformat(),
    }


def _resubmit(
    existing: Enrollment,
    version: ScenarioVersion,
    user: User,
    details: dict[str, Any],
    preferences: list[str],
    now: dt.datetime,
    actor: Actor,
) -> Enrollment:
    enrollment = Enrollment.objects.select_for_update(of=("self",)).get(pk=existing.pk)
    if enrollment.status != EnrollmentStatus.WITHDRAWN:
        raise _already(enrollment)
    enrollment.version = version
    enrollment.submitted_by = user
    enrollment.channel = channel_for(user)
    enrollment.details = details
    enrollment.preferences = preferences
    enrollment.applied_at = now
    enrollment.status = EnrollmentStatus.SUBMITTED
    enrollment.block_reasons = []
    enrollment.score = None
    enrollment.points = None
    enrollment.breakdown = {}
    enrollment.tie_values = {}
    enrollment.eligibility_reasons = []
    enrollment.evaluated_at = None
    enrollment.blockers_checked_at = now
    enrollment.withdrawn_at = None
    enrollment.withdraw_reason = ""
    enrollment.updated_at = now
    enrollment.save()
    audit(
        "enrollment.resubmitted",
        actor=actor,
        obj=enrollment,
        now=now,
        data=_submitted_data(enrollment, version),
    )
    return enrollment


def _after_submission(
    enrollment: Enrollment, reasons: list, *, actor: Actor, now: dt.datetime, new: bool
) -> None:
    """Tell the resident, audit the submission, apply the blockers found before: the audit
    entry comes late because it holds the audit chain lock until the commit."""
    notify_resident(
        enrollment,
        kind="enrollment.submitted",
        subject=_("Application %(number)s received") % {"number": enrollment.number},
        body=_(
            "Your application %(number)s to %(scenario)s was received at %(at)s. Your points "
            "are evaluated on %(date)s."
        )
        % {
            "number": enrollment.number,
            "scenario": enrollment.scenario.name,
            "at": shown(enrollment.applied_at),
            "date": enrollment.version.evaluation_date.isoformat(),
        },
        now=now,
    )
    if new:
        audit(
            "enrollment.submitted",
            actor=actor,
            obj=enrollment,
            now=now,
            data=_submitted_data(enrollment, enrollment.version),
        )
    if reasons:
        apply_blockers(enrollment, reasons, actor=actor, now=now)
        enrollment.save(
            update_fields=["status", "block_reasons", "blockers_checked_at", "updated_at"]
        )


def withdraw_enrollment(
    enrollment: Enrollment, *, user: User, reason: str = "", now: dt.datetime
) -> Enrollment:
    """Withdraw an enrollment, by the resident or a clerk of their town, while the open period
    lasts (afterwards the providing department records a declined place). Audited
    ``enrollment.withdrawn``."""
    require_enroller(user, enrollment.resident)
    reason = (reason or "").strip()
    if len(reason) > 2000:
        raise InvalidEnrollment(_("At most 2000 characters."), field="reason")
    with transaction.atomic():
        enrollment = (
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("version", "scenario", "resident")
            .get(pk=enrollment.pk)
        )
        if enrollment.status == EnrollmentStatus.WITHDRAWN:
            raise TransitionNotAllowed(
                _("Application %(number)s is withdrawn already.") % {"number": enrollment.number},
                field="enrollment",
            )
        check_open(enrollment.version, now)
        before = enrollment.status
        enrollment.status = EnrollmentStatus.WITHDRAWN
        enrollment.withdrawn_at = now
        enrollment.withdraw_reason = reason
        enrollment.updated_at = now
        enrollment.save(update_fields=["status", "withdrawn_at", "withdraw_reason", "updated_at"])
        audit(
            "enrollment.withdrawn",
            actor=Actor.for_user(user),
            obj=enrollment,
            now=now,
            data={"number": enrollment.number, "before": before},
        )
        notify_resident(
            enrollment,
            kind="enrollment.withdrawn",
            subject=_("Application %(number)s withdrawn") % {"number": enrollment.number},
            body=_("Your application %(number)s to %(scenario)s has been withdrawn.")
            % {"number": enrollment.number, "scenario": enrollment.scenario.name},
            now=now,
        )
    return enrollment
