"""Policy version services: draft, edit, import, approve, publish, export, diff.

Shape (docs/engineering.md): check the user and state → ``transaction.atomic`` and
``select_for_update`` → change → save → audit (``policy.drafted``, ``policy.edited``,
``policy.approved``, ``policy.published``) in the same transaction. Time is an argument.

Validation is the policy files' own: every content goes through
:func:`jifen.policies.content.parse_text` (the files' YAML loader and
:func:`jifen.engine.policy.parse_policy`), and a version must also fit beside the versions in
force (:func:`jifen.policies.content.merge`: no duplicate id, a start after its predecessor's).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from jifen.accounts.models import Role, User
from jifen.audit.actors import Actor
from jifen.audit.services import record
from jifen.engine import Policy, PolicyError, PolicySet
from jifen.policies.content import (
    Change,
    canonical_text,
    deep_copy,
    diff,
    file_name,
    load_text,
    merge,
    parse_text,
)
from jifen.policies.errors import (
    DuplicateVersion,
    InvalidPolicy,
    NotAllowed,
    SamePerson,
    TransitionNotAllowed,
)
from jifen.policies.models import PolicyState, PolicyVersion
from jifen.scores.policies import current_policies, file_policies
from jifen.scores.services import china_date

__all__ = [
    "approve",
    "base_in_force",
    "draft_from_in_force",
    "draft_policy",
    "draft_policy_set",
    "export_text",
    "import_draft",
    "policy_mapping",
    "publish",
    "save_draft",
    "version_diff",
]


# --- who, and reading versions ---------------------------------------------------------------


def require_center(user: User | None) -> None:
    if not (user is not None and user.is_authenticated and user.is_active):
        raise NotAllowed(_("Only the center may do this."))
    if user.role != Role.CENTER:
        raise NotAllowed(_("Only the center may do this."))


def _invalid(exc: PolicyError) -> InvalidPolicy:
    return InvalidPolicy(exc.reason, field=exc.path or None)


def policy_mapping(policy_id: str) -> dict[str, Any]:
    """The content mapping of a version known to the platform: a platform version by id, else
    the file of ``settings.JIFEN_POLICY_DIR`` (as written, before any end date the platform
    adds when a later version is published)."""
    row = PolicyVersion.objects.filter(policy_id=policy_id).values_list("text", flat=True).first()
    if row is not None:
        return load_text(row, file_name(policy_id))
    policy = file_policies().get(policy_id)
    path = Path(settings.JIFEN_POLICY_DIR) / policy.file
    return load_text(path.read_text(encoding="utf-8"), policy.file)


def _validate(data: Mapping[str, Any], policy_id: str) -> tuple[str, Policy]:
    """The canonical text and parsed policy of ``data``, or :class:`InvalidPolicy`."""
    text = canonical_text(data)
    try:
        return text, parse_text(text, file_name(policy_id))
    except PolicyError as exc:
        raise _invalid(exc) from None


def draft_policy(version: PolicyVersion) -> Policy:
    """The draft's content as a :class:`Policy` (``InvalidPolicy`` naming the field)."""
    try:
        return parse_text(version.text, file_name(version.policy_id))
    except PolicyError as exc:
        raise _invalid(exc) from None


def base_in_force(version: PolicyVersion, policies: PolicySet | None = None) -> Policy | None:
    """The version the draft replaces: of its scope, in force on the day before its effective
    date (else its recorded base)."""
    policies = policies or current_policies()
    day = version.effective_from - dt.timedelta(days=1)
    found = [p for p in policies.in_force(day) if p.scope == version.scope]
    if found:
        return found[0]
    if version.base_policy in policies.by_id:
        return policies.by_id[version.base_policy]
    return None


def draft_policy_set(version: PolicyVersion) -> PolicySet:
    """The policies in force with the draft replacing its base from its effective date.

    For the impact simulation: select with ``.select(day, pinned=[version.policy_id])`` or on
    a day from the draft's ``effective_from``. Raises ``InvalidPolicy`` for an invalid draft.
    """
    policy = draft_policy(version)
    policies = current_policies()
    if policy.id in policies.by_id:  # the version itself once published
        return policies
    files = [p for p in policies.policies]
    try:
        return merge(files, [policy])
    except PolicyError as exc:
        raise _invalid(exc) from None


def version_diff(version: PolicyVersion) -> tuple[Policy | None, list[Change]]:
    """The version it replaces and the readable differences from it."""
    base = base_in_force(version)
    if base is None:
        return None, []
    return base, diff(policy_mapping(base.id), load_text(version.text, version.policy_id))


def export_text(policy_id: str) -> str:
    """The canonical YAML text of a version (platform or file), for ``policies/<id>.yaml``."""
    return canonical_text(policy_mapping(policy_id))


# --- steps -----------------------------------------------------------------------------------


def _audit(action: str, version: PolicyVersion, user: User, now: dt.datetime, **data) -> None:
    record(
        action,
        actor=Actor.for_user(user),
        occurred_at=now,
        obj=version,
        data={"policy_id": version.policy_id, "scope": version.scope, **data},
    )


def _check_unique(policy_id: str, *, exclude: int | None = None) -> None:
    rows = PolicyVersion.objects.filter(policy_id=policy_id)
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    if rows.exists() or policy_id in file_policies().by_id:
        raise DuplicateVersion(
            _("A policy version with the id %(id)s exists already.") % {"id": policy_id},
            field="id",
        )


def _create(
    data: dict[str, Any], *, base: str, user: User, now: dt.datetime, origin: str
) -> PolicyVersion:
    policy_id = str(data.get("id") or "")
    text, policy = _validate(data, policy_id)
    _check_unique(policy.id)
    try:
        with transaction.atomic():
            version = PolicyVersion.objects.create(
                policy_id=policy.id,
                scope=policy.scope,
                tier=policy.tier,
                base_policy=base,
                text=text,
                content_hash=policy.hash,
                effective_from=policy.effective_from,
                proposed_by=user,
                created_at=now,
                updated_at=now,
            )
            _audit("policy.drafted", version, user, now, base=base, origin=origin)
    except IntegrityError:
        raise DuplicateVersion(
            _("A policy version with the id %(id)s exists already.") % {"id": policy.id},
            field="id",
        ) from None
    return version


def _free_id(wanted: str) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3`` … when another version has it."""
    taken = set(
        PolicyVersion.objects.filter(policy_id__startswith=wanted).values_list(
            "policy_id", flat=True
        )
    ) | set(file_policies().by_id)
    found, n = wanted, 1
    while found in taken:
        n += 1
        found = f"{wanted}-{n}"
    return found


def draft_from_in_force(
    *, scope: str, user: User, now: dt.datetime, effective_from: dt.date | None = None
) -> PolicyVersion:
    """A new draft of ``scope`` copied from the version in force today.

    Its id is ``<scope>-<effective date>`` (default effective date: tomorrow); the approver
    sets the final date.
    """
    require_center(user)
    today = china_date(now)
    found = [p for p in current_policies().in_force(today) if p.scope == scope]
    if not found:
        raise InvalidPolicy(
            _("No version of %(scope)s is in force today.") % {"scope": scope}, field="scope"
        )
    base = found[0]
    start = effective_from or today + dt.timedelta(days=1)
    data = policy_mapping(base.id)
    data["id"] = _free_id(f"{scope}-{start.isoformat()}")
    data["effective_from"] = start
    data["effective_until"] = None
    return _create(data, base=base.id, user=user, now=now, origin="in_force")


def import_draft(text: str, *, user: User, now: dt.datetime, name: str = "") -> PolicyVersion:
    """A draft from the text of a policy file (validated exactly as a file is)."""
    require_center(user)
    try:
        data = load_text(text, name or "import.yaml")
    except PolicyError as exc:
        raise _invalid(exc) from None
    _validate(data, str(data.get("id") or ""))
    scope = data.get("scope")
    base = [p for p in current_policies().in_force(china_date(now)) if p.scope == scope]
    return _create(data, base=base[0].id if base else "", user=user, now=now, origin="import")


def _lock(version: PolicyVersion | int) -> PolicyVersion:
    pk = version.pk if isinstance(version, PolicyVersion) else version
    return PolicyVersion.objects.select_for_update().get(pk=pk)


def save_draft(
    version: PolicyVersion | int,
    data: Mapping[str, Any],
    *,
    user: User,
    now: dt.datetime,
) -> PolicyVersion:
    """Replace the draft's content with ``data`` (refused, naming the field, unless valid)."""
    require_center(user)
    data = deep_copy(data)
    text, policy = _validate(data, str(data.get("id") or ""))
    with transaction.atomic():
        version = _lock(version)
        if version.state != PolicyState.DRAFT:
            raise TransitionNotAllowed(_("Only a draft can be edited."))
        if policy.scope != version.scope or policy.tier != version.tier:
            raise InvalidPolicy(_("A draft keeps its scope and tier."), field="scope")
        _check_unique(policy.id, exclude=version.pk)
        before = load_text(version.text, version.policy_id)
        changes = diff(before, data)
        version.policy_id = policy.id
        version.text = text
        version.content_hash = policy.hash
        version.effective_from = policy.effective_from
        version.updated_at = now
        version.save()
        _audit("policy.edited", version, user, now, changes=len(changes))
    return version


def save_draft_text(
    version: PolicyVersion | int, text: str, *, user: User, now: dt.datetime
) -> PolicyVersion:
    """Save the draft's whole YAML text as work in progress, even when it is not valid yet
    (approval refuses an invalid draft). Returns the version; check it with
    :func:`draft_policy`."""
    require_center(user)
    with transaction.atomic():
        version = _lock(version)
        if version.state != PolicyState.DRAFT:
            raise TransitionNotAllowed(_("Only a draft can be edited."))
        try:
            data = load_text(text, file_name(version.policy_id))
            policy = parse_policy_quiet(data, version.policy_id)
        except PolicyError:
            data, policy = None, None
        if policy is not None:
            if policy.scope != version.scope or policy.tier != version.tier:
                raise InvalidPolicy(_("A draft keeps its scope and tier."), field="scope")
            _check_unique(policy.id, exclude=version.pk)
            version.policy_id = policy.id
            version.effective_from = policy.effective_from
            version.content_hash = policy.hash
            text = canonical_text(data)
        else:
            version.content_hash = ""
        version.text = text
        version.updated_at = now
        version.save()
        _audit("policy.edited", version, user, now, valid=policy is not None)
    return version


def parse_policy_quiet(data: Mapping[str, Any], policy_id: str) -> Policy:
    from jifen.engine.policy import parse_policy

    return parse_policy(data, file_name(policy_id))


def approve(
    version: PolicyVersion | int,
    *,
    user: User,
    document_number: str,
    document_date: dt.date | None,
    effective_from: dt.date | None,
    now: dt.datetime,
) -> PolicyVersion:
    """Approve a valid draft: the approving document (number, date) and the effective date.

    The approver must be a center user other than the proposer. The effective date must be
    after today and after the start of the version it replaces. A draft whose id follows the
    ``<scope>-<date>`` convention is renamed to the effective date.
    """
    require_center(user)
    number = (document_number or "").strip()
    if not number:
        raise InvalidPolicy(_("Give the approving document's number."), field="document_number")
    if document_date is None:
        raise InvalidPolicy(_("Give the approving document's date."), field="document_date")
    if effective_from is None:
        raise InvalidPolicy(_("Give the effective date."), field="effective_from")
    today = china_date(now)
    if document_date > today:
        raise InvalidPolicy(_("The document date is in the future."), field="document_date")
    if effective_from <= today:
        raise InvalidPolicy(
            _("The effective date must be after today: scores already stored keep their version."),
            field="effective_from",
        )
    with transaction.atomic():
        version = _lock(version)
        if version.state != PolicyState.DRAFT:
            raise TransitionNotAllowed(_("Only a draft can be approved."))
        if version.proposed_by_id == user.pk:
            raise SamePerson(_("The proposer cannot approve their own draft."))
        draft_policy(version)  # an invalid draft is refused, naming the field
        data = load_text(version.text, file_name(version.policy_id))
        if str(data.get("id")).startswith(f"{version.scope}-{version.effective_from.isoformat()}"):
            data["id"] = _free_id(f"{version.scope}-{effective_from.isoformat()}")
        data["effective_from"] = effective_from
        data["effective_until"] = None
        text, policy = _validate(data, str(data["id"]))
        _check_unique(policy.id, exclude=version.pk)
        _check_fits(policy)
        version.policy_id = policy.id
        version.text = text
        version.content_hash = policy.hash
        version.effective_from = effective_from
        version.state = PolicyState.APPROVED
        version.approved_by = user
        version.approved_at = now
        version.document_number = number
        version.document_date = document_date
        version.updated_at = now
        version.save()
        _audit(
            "policy.approved",
            version,
            user,
            now,
            document_number=number,
            document_date=document_date.isoformat(),
            effective_from=effective_from.isoformat(),
            content_hash=policy.hash,
        )
    return version


def _check_fits(policy: Policy) -> None:
    """The version fits beside the versions in force: a start after every version of its
    scope (files and published), no duplicate id."""
    policies = current_policies()
    for other in policies.policies:
        if other.scope == policy.scope and other.effective_from >= policy.effective_from:
            raise InvalidPolicy(
                _("The effective date must be after %(day)s, the start of %(id)s.")
                % {"day": other.effective_from.isoformat(), "id": other.id},
                field="effective_from",
            )
    try:
        merge(policies.policies, [policy])
    except PolicyError as exc:
        raise _invalid(exc) from None


def publish(version: PolicyVersion | int, *, user: User, now: dt.datetime) -> PolicyVersion:
    """Publish an approved version: from now on part of ``current_policies()``, in force from
    its effective date (which must still be after today)."""
    require_center(user)
    with transaction.atomic():
        version = _lock(version)
        if version.state != PolicyState.APPROVED:
            raise TransitionNotAllowed(_("Only an approved version can be published."))
        if version.effective_from <= china_date(now):
            raise InvalidPolicy(
                _("The effective date has passed: approve a new draft with a later date."),
                field="effective_from",
            )
        policy = draft_policy(version)
        _check_fits(policy)
        version.state = PolicyState.PUBLISHED
        version.published_by = user
        version.published_at = now
        version.updated_at = now
        version.save()
        _audit(
            "policy.published",
            version,
            user,
            now,
            effective_from=version.effective_from.isoformat(),
            content_hash=version.content_hash,
            document_number=version.document_number,
        )
    return version
