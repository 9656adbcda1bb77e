"""Registering residents, issuing residence permits and changing a permit's status.

Every state change follows the house shape: validate → transaction (+ row lock) → change →
save → audit entry → side effects after commit. Identity, phone and permit numbers are
encrypted before they reach the database and found again through their blind indexes; none
of them appears in an audit entry or an error message.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from jifen.audit.actors import Actor
from jifen.audit.choices import ActorKind
from jifen.audit.services import record
from jifen.identity import (
    IdentityNumber,
    InvalidIdentityNumber,
    Reason,
    normalise_identity_number,
    validate_identity_number,
)
from jifen.org.models import Town
from jifen.residents.errors import (
    DuplicatePermit,
    DuplicateResident,
    InvalidResidentData,
    PermitEffectiveDateRefused,
    PermitStatusUnchanged,
    PermitTransitionRefused,
)
from jifen.residents.models import (
    PermitChangeSource,
    PermitStatus,
    PermitStatusChange,
    ResidencePermit,
    Resident,
)
from jifen.residents.pii import field_cipher, identity_index, permit_index, phone_index

__all__ = [
    "PERMIT_TRANSITIONS",
    "PermitStatusOn",
    "change_permit_status",
    "current_permit",
    "find_resident",
    "issue_permit",
    "normalise_permit_number",
    "normalise_phone",
    "permit_status_on",
    "register_resident",
    "today_in_china",
]

CHINA_TZ = ZoneInfo("Asia/Shanghai")
NAME_MAX_LENGTH = 50
REASON_MAX_LENGTH = 200
SOURCE_REF_MAX_LENGTH = 120

_S = PermitStatus
#: The permit's state machine: current status → the statuses it may change to. Returning to
#: valid from suspended or cancelled is a restoration (``PermitStatusChange.restored``).
PERMIT_TRANSITIONS: dict[str, frozenset[str]] = {
    _S.VALID: frozenset({_S.AWAITING_ENDORSEMENT, _S.SUSPENDED, _S.CANCELLED}),
    _S.AWAITING_ENDORSEMENT: frozenset({_S.VALID, _S.SUSPENDED, _S.CANCELLED}),
    _S.SUSPENDED: frozenset({_S.CANCELLED, _S.VALID}),
    _S.CANCELLED: frozenset({_S.VALID}),
}

_PERMIT_NUMBER = re.compile(r"[A-Z0-9]{6,30}")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_PHONE_SEPARATORS = re.compile(r"[\s\-()]+")
_CN_PREFIX = re.compile(r"^(?:\+86|0086|86)(?=[0-9]{11}$)")


def today_in_china(now: dt.datetime) -> dt.date:
    """The Asia/Shanghai date of an aware ``now`` ("today" for the platform)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    return now.astimezone(CHINA_TZ).date()


# --- Normalising and validating input ------------------------------------------------------


def _clean_name(name: str) -> str:
    text = unicodedata.normalize("NFC", name or "").strip()
    if not text:
        raise InvalidResidentData("name", "required", _("A name is required."))
    if len(text) > NAME_MAX_LENGTH:
        raise InvalidResidentData("name", "too_long", _("The name may have at most 50 characters."))
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in text):
        raise InvalidResidentData(
            "name", "format", _("The name contains control or invisible characters.")
        )
    return text


def normalise_phone(phone: str) -> str:
    """An 11-digit mainland mobile number, from input with separators or a +86 prefix.

    Returns ``""`` for blank input; raises :class:`InvalidResidentData` (field ``phone``)
    for anything that is not a mainland mobile number.
    """
    text = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", phone or ""))
    if not text:
        return ""
    text = _CN_PREFIX.sub("", text)
    if not _MOBILE.fullmatch(text):
        raise InvalidResidentData(
            "phone",
            "format",
            _("The phone number must be an 11-digit mainland mobile number."),
        )
    return text


def normalise_permit_number(number: str) -> str:
    """The canonical (upper-case ASCII) form of a permit number; refuses other shapes."""
    text = unicodedata.normalize("NFKC", number or "").strip().upper()
    if not text:
        raise InvalidResidentData(
            "permit_number", "required", _("A residence permit number is required.")
        )
    if not _PERMIT_NUMBER.fullmatch(text):
        raise InvalidResidentData(
            "permit_number",
            "format",
            _("A residence permit number has 6 to 30 letters and digits."),
        )
    return text


_IDENTITY_MESSAGES = {
    Reason.LENGTH: _("The identity number must have 18 characters."),
    Reason.CHARACTERS: _("The identity number must be 17 digits followed by a digit or X."),
    Reason.REGION: _("The identity number does not start with a valid province code."),
    Reason.BIRTH_DATE: _("The birth date in the identity number is not a possible date."),
    Reason.FUTURE_BIRTH_DATE: _("The birth date in the identity number is in the future."),
    Reason.CHECK_DIGIT: _("The check digit of the identity number does not match."),
}


def _validated_identity(identity_number: str, today: dt.date) -> IdentityNumber:
    try:
        return validate_identity_number(identity_number or "", today=today)
    except InvalidIdentityNumber as exc:
        raise InvalidResidentData(
            "identity_number", exc.reason.value, _IDENTITY_MESSAGES[exc.reason]
        ) from None


def _permit_source(actor: Actor) -> str:
    """Where a permit record came from: the public-security feed, or a staff action."""
    if actor.kind == ActorKind.SYSTEM and actor.id.startswith("feed:"):
        return PermitChangeSource.FEED
    return PermitChangeSource.STAFF


# --- Registering ----------------------------------------------------------------------------


def register_resident(
    *,
    identity_number: str,
    name: str,
    town: Town,
    now: dt.datetime,
    actor: Actor,
    phone: str = "",
    permit_number: str | None = None,
    permit_issued_on: dt.date | None = None,
    permit_issuing_town: Town | None = None,
    birth_date: dt.date | None = None,
) -> Resident:
    """Register a new resident (and, optionally, their residence permit) in one transaction.

    The identity number is validated (GB 11643; a birth date after today, the Asia/Shanghai
    date of ``now``, is refused); birth date and sex are taken from it, and a ``birth_date``
    given by the caller must agree. The identity and phone numbers are stored encrypted with
    their blind indexes; a second resident with the same identity number is refused
    (:class:`DuplicateResident`). A permit is issued by ``permit_issuing_town`` (default:
    ``town``) on ``permit_issued_on`` (default: today) and is valid from that day.
    Audit: ``resident.registered`` (and nothing personal in its data).
    """
    today = today_in_china(now)
    identity = _validated_identity(identity_number, today)
    if birth_date is not None and birth_date != identity.birth_date:
        raise InvalidResidentData(
            "birth_date",
            "mismatch",
            _("The birth date does not agree with the identity number."),
        )
    clean_name = _clean_name(name)
    clean_phone = normalise_phone(phone)
    permit_args = None
    if permit_number is not None:
        permit_args = _validated_permit(
            permit_number,
            issued_on=permit_issued_on or today,
            today=today,
            birth_date=identity.birth_date,
        )
    elif permit_issued_on is not None or permit_issuing_town is not None:
        raise InvalidResidentData(
            "permit_number",
            "required",
            _("A residence permit number is required when the permit is described."),
        )

    index = identity_index(identity.number)
    if Resident.objects.filter(identity_number_index=index).exists():
        raise DuplicateResident()

    with transaction.atomic():
        resident = Resident(
            id=uuid.uuid4(),
            identity_number_index=index,
            name=clean_name,
            birth_date=identity.birth_date,
            sex=identity.sex.value,
            phone_index=phone_index(clean_phone) if clean_phone else "",
            town=town,
            created_at=now,
        )
        resident.identity_number_token = resident._encrypt(identity.number, "identity_number")
        resident.phone_token = resident._encrypt(clean_phone, "phone") if clean_phone else ""
        try:
            # A savepoint, so the race loser gets a domain error and not a broken transaction.
            with transaction.atomic():
                resident.save(force_insert=True)
        except IntegrityError:
            if Resident.objects.filter(identity_number_index=index).exists():
                raise DuplicateResident() from None
            raise
        permit = None
        if permit_args is not None:
            number, issued_on = permit_args
            permit = _create_permit(
                resident,
                number=number,
                issued_on=issued_on,
                issuing_town=permit_issuing_town or town,
                now=now,
                actor=actor,
            )
        record(
            "resident.registered",
            actor=actor,
            occurred_at=now,
            obj=resident,
            data={
                "town": town.code,
                "permit": str(permit.pk) if permit else None,
                "phone_given": bool(clean_phone),
            },
        )
    return resident


def issue_permit(
    resident: Resident,
    *,
    number: str,
    issued_on: dt.date,
    now: dt.datetime,
    actor: Actor,
    issuing_town: Town | None = None,
) -> ResidencePermit:
    """Issue a (new) residence permit to a registered resident; it becomes the current one.

    The permit is valid from ``issued_on`` (not after today, not before the birth date);
    ``issuing_town`` defaults to the resident's town. Audit: ``permit.issued``.
    """
    today = today_in_china(now)
    number, issued_on = _validated_permit(
        number, issued_on=issued_on, today=today, birth_date=resident.birth_date
    )
    with transaction.atomic():
        permit = _create_permit(
            resident,
            number=number,
            issued_on=issued_on,
            issuing_town=issuing_town or resident.town,
            now=now,
            actor=actor,
        )
        record(
            "permit.issued",
            actor=actor,
            occurred_at=now,
            obj=permit,
            data={
                "resident": str(resident.pk),
                "issuing_town": permit.issuing_town.code,
                "issued_on": issued_on.isoformat(),
            },
        )
    return permit


def _validated_permit(
    number: str, *, issued_on: dt.date, today: dt.date, birth_date: dt.date
) -> tuple[str, dt.date]:
    clean = normalise_permit_number(number)
    if issued_on > today:
        raise InvalidResidentData(
            "permit_issued_on", "future", _("The permit cannot be issued after today.")
        )
    if issued_on < birth_date:
        raise InvalidResidentData(
            "permit_issued_on",
            "before_birth",
            _("The permit cannot be issued before the resident's birth date."),
        )
    if ResidencePermit.objects.filter(number_index=permit_index(clean)).exists():
        raise DuplicatePermit()
    return clean, issued_on


def _create_permit(
    resident: Resident,
    *,
    number: str,
    issued_on: dt.date,
    issuing_town: Town,
    now: dt.datetime,
    actor: Actor,
) -> ResidencePermit:
    """Insert a permit (valid since ``issued_on``) and the first line of its history."""
    permit = ResidencePermit(
        id=uuid.uuid4(),
        resident=resident,
        number_index=permit_index(number),
        issuing_town=issuing_town,
        issued_on=issued_on,
        status=PermitStatus.VALID,
        status_since=issued_on,
    )
    permit.number_token = field_cipher().encrypt(
        number, table="residents_residencepermit", row=str(permit.id), field="number"
    )
    try:
        with transaction.atomic():
            permit.save(force_insert=True)
    except IntegrityError:
        if ResidencePermit.objects.filter(number_index=permit.number_index).exists():
            raise DuplicatePermit() from None
        raise
    PermitStatusChange.objects.create(
        permit=permit,
        status=PermitStatus.VALID,
        restored=False,
        effective_on=issued_on,
        source=_permit_source(actor),
        source_ref="",
        reason="issued",
        recorded_at=now,
    )
    return permit


# --- Looking up -----------------------------------------------------------------------------


def find_resident(
    *, identity_number: str | None = None, permit_number: str | None = None
) -> Resident | None:
    """The resident with this identity number or permit number (exact match), or None.

    Matching goes through the blind indexes on the normalised forms (full-width digits and a
    lower-case ``x`` find the same resident). A permit number finds its holder whether or not
    it is their current permit. When both are given, both must name the same resident.
    Callers that show the result to staff apply their access rules to it
    (``jifen.accounts.access``); this function does not know who is asking.
    """
    if identity_number is None and permit_number is None:
        raise TypeError("find_resident needs identity_number or permit_number")
    found: Resident | None = None
    if identity_number is not None:
        normal = normalise_identity_number(identity_number)
        if not normal:
            return None
        found = (
            Resident.objects.select_related("town")
            .filter(identity_number_index=identity_index(normal))
            .first()
        )
        if found is None:
            return None
    if permit_number is not None:
        normal = unicodedata.normalize("NFKC", permit_number).strip().upper()
        if not normal:
            return None
        permit = (
            ResidencePermit.objects.select_related("resident__town")
            .filter(number_index=permit_index(normal))
            .first()
        )
        if permit is None or (found is not None and permit.resident_id != found.pk):
            return None
        found = permit.resident
    return found


def current_permit(resident: Resident) -> ResidencePermit | None:
    """The resident's current permit: the latest issued one (None when they have none)."""
    return resident.current_permit


@dataclass(frozen=True, slots=True)
class PermitStatusOn:
    """A permit's status on some date, and the change that set it."""

    permit: ResidencePermit
    status: str
    since: dt.date
    reason: str
    source: str

    @property
    def points_lapsed(self) -> bool:
        return self.status in PermitStatus.lapsing()


def permit_status_on(resident: Resident, on: dt.date) -> PermitStatusOn | None:
    """The status of the resident's permit on ``on``, from the permit history.

    Uses the latest permit issued on or before ``on`` and its latest change effective on or
    before ``on`` (changes recorded later win among those of the same day). None when the
    resident held no permit on that date. A score computed for a past evaluation date asks
    this; "now" is the permit's ``status`` field.
    """
    permit = resident.permits.filter(issued_on__lte=on).order_by("-issued_on", "-pk").first()
    if permit is None:
        return None
    change = (
        permit.history.filter(effective_on__lte=on)
        .order_by("-effective_on", "-recorded_at", "-id")
        .first()
    )
    if change is None:  # a permit without history rows (data from before the history)
        return PermitStatusOn(permit, permit.status, permit.status_since, "", "")
    return PermitStatusOn(permit, change.status, change.effective_on, change.reason, change.source)


# --- Changing a permit's status -------------------------------------------------------------


def change_permit_status(
    permit: ResidencePermit,
    *,
    status: PermitStatus | str,
    effective_on: dt.date,
    source: PermitChangeSource | str,
    source_ref: str,
    reason: str,
    now: dt.datetime,
    actor: Actor,
) -> PermitStatusChange:
    """Change a permit's status as of ``effective_on`` and record why.

    Allowed moves are :data:`PERMIT_TRANSITIONS`; anything else raises
    :class:`PermitTransitionRefused` (:class:`PermitStatusUnchanged` when the permit already
    has ``status``). ``effective_on`` may not be before the current status began nor after
    today (:class:`PermitEffectiveDateRefused`). A return to valid from suspended or
    cancelled is marked ``restored``. Audit: ``permit.status_changed``. After commit the
    resident's score is recomputed (``jifen.scores.services.request_recompute``), which
    makes it lapsed or valid again.
    """
    try:
        new_status = PermitStatus(status)
    except ValueError:
        raise InvalidResidentData(
            "status", "format", _("Unknown residence permit status.")
        ) from None
    try:
        source = PermitChangeSource(source)
    except ValueError:
        raise InvalidResidentData(
            "source", "format", _("Unknown source of a permit status change.")
        ) from None
    source_ref = (source_ref or "").strip()
    reason = (reason or "").strip()
    if len(source_ref) > SOURCE_REF_MAX_LENGTH:
        raise InvalidResidentData(
            "source_ref", "too_long", _("The source reference may have at most 120 characters.")
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidResidentData(
            "reason", "too_long", _("The reason may have at most 200 characters.")
        )
    today = today_in_china(now)
    if effective_on > today:
        raise PermitEffectiveDateRefused(
            "future", _("A permit status change cannot take effect after today.")
        )

    with transaction.atomic():
        # Lock the row and read its status again: two feed rows or a feed row and a clerk
        # may race, and the transition check must see the committed status.
        locked = ResidencePermit.objects.select_for_update().get(pk=permit.pk)
        before = PermitStatus(locked.status)
        if new_status == before:
            raise PermitStatusUnchanged(before, new_status)
        if new_status not in PERMIT_TRANSITIONS[before]:
            raise PermitTransitionRefused(before, new_status)
        if effective_on < locked.status_since:
            raise PermitEffectiveDateRefused(
                "before_status_since",
                _("A permit status change cannot take effect before the current status began."),
            )
        restored = new_status == PermitStatus.VALID and before in PermitStatus.lapsing()
        locked.status = new_status
        locked.status_since = effective_on
        locked.save(update_fields=["status", "status_since"])
        change = PermitStatusChange.objects.create(
            permit=locked,
            status=new_status,
            restored=restored,
            effective_on=effective_on,
            source=source,
            source_ref=source_ref,
            reason=reason,
            recorded_at=now,
        )
        record(
            "permit.status_changed",
            actor=actor,
            occurred_at=now,
            obj=locked,
            data={
                "resident": str(locked.resident_id),
                "before": before.value,
                "after": new_status.value,
                "restored": restored,
                "effective_on": effective_on.isoformat(),
                "source": source.value,
                "change": change.pk,
            },
        )
        resident_id = locked.resident_id
        transaction.on_commit(lambda: _request_recompute(resident_id, now))

    # The caller's instance reflects the change too.
    permit.status = locked.status
    permit.status_since = locked.status_since
    return change


def _request_recompute(resident_id: uuid.UUID, now: dt.datetime) -> None:
    # Imported here: scores depends on residents, not the other way round.
    from jifen.scores.services import request_recompute

    request_recompute([resident_id], reason="permit_status", now=now)
