"""Filing (and withdrawing) a re-examination."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from jifen.accounts.models import User
from jifen.evidence.models import Evidence
from jifen.reexaminations import routing
from jifen.reexaminations.errors import (
    DuplicateOpen,
    InvalidReexamination,
    MaterialsIncomplete,
    WindowClosed,
    WindowNotOpen,
)
from jifen.reexaminations.models import OPEN_STATES, Reexamination
from jifen.reexaminations.services._common import (
    audit,
    channel_for,
    clean_evidence,
    clean_text,
    data_of,
    department_reviewers,
    lock,
    next_number,
    notify_applicant,
    notify_users,
    require_filer,
    run_transition,
)
from jifen.reexaminations.windows import answer_deadline
from jifen.scores.services import china_date


def file_reexamination(
    *,
    publication,
    enrollment,
    user: User,
    item: str,
    statement: str,
    evidence: Sequence[Evidence] = (),
    now: dt.datetime,
) -> Reexamination:
    """File a re-examination of ``item`` of ``enrollment``'s points on ``publication``.

    Checked in this order (the first failure is raised, naming its field):

    - the filer: the resident, or a clerk of their town (``reexaminations.not_allowed``);
    - the enrollment is on the published list (``enrollment``), and the list has not been
      replaced by a corrected one (``publication``: file against the corrected list, whose
      own first day starts a new window);
    - the window (China date of ``now``): not before the first day of publication
      (``reexaminations.window_not_open``) and not after the publication's last filing day
      (``reexaminations.window_closed``, the message names the date missed);
    - the item is one of the entry's breakdown (``item``);
    - complete materials: a statement (``statement``) and at least one evidence file of the
      resident (``evidence``) — ``reexaminations.materials_incomplete``;
    - no open re-examination of the same enrollment and item
      (``reexaminations.duplicate_open``, ``.existing``).

    Routed to the department behind the item (:mod:`jifen.reexaminations.routing`), due 7
    working days after the filing day. Audited ``reexamination.filed``; the department's
    reviewers and the applicant are told.
    """
    from jifen.rankings.models import Publication, RankingEntry

    publication = Publication.objects.get(pk=publication.pk)  # its stored state, not a copy
    resident = enrollment.resident
    require_filer(user, resident)
    entry = RankingEntry.objects.filter(
        ranking_id=publication.ranking_id, enrollment_id=enrollment.pk
    ).first()
    if entry is None:
        raise InvalidReexamination(
            _("This application is not on the published list."), field="enrollment"
        )
    if publication.taken_down_at is not None and publication.taken_down_reason == "corrected":
        raise InvalidReexamination(
            _("This list was replaced by a corrected list; file against the corrected list."),
            field="publication",
        )
    today = china_date(now)
    if today < publication.starts_on:
        raise WindowNotOpen(
            _("Re-examination requests open on the first day of publication, %(date)s.")
            % {"date": publication.starts_on.isoformat()},
            field="publication",
        )
    last_day = publication.filing_until
    if today > last_day:
        raise WindowClosed(
            _(
                "Re-examination requests had to be filed within 3 working days from the first "
                "day of publication, by %(date)s. Late requests are not accepted."
            )
            % {"date": last_day.isoformat()},
            field="publication",
            deadline=last_day,
        )
    item = (item or "").strip() if isinstance(item, str) else ""
    if not item or item not in (entry.breakdown or {}):
        raise InvalidReexamination(
            _("Choose one of the items of your published points."), field="item"
        )
    statement = clean_text(statement, field="statement", required=True, error=MaterialsIncomplete)
    files = clean_evidence(evidence, resident)
    if not files:
        raise MaterialsIncomplete(
            _("Complete materials are required: attach at least one evidence file."),
            field="evidence",
        )
    existing = _open_one(enrollment, item)
    if existing is not None:
        raise _duplicate(existing)
    department = routing.responsible_department(
        resident.pk, item, on=enrollment.version.evaluation_date
    )
    due = answer_deadline(today, now=now)
    try:
        with transaction.atomic():
            reexamination = Reexamination.objects.create(
                number=next_number(now),
                publication=publication,
                enrollment=enrollment,
                resident=resident,
                item=item,
                statement=statement,
                department=department,
                channel=channel_for(user),
                filed_at=now,
                filed_by=user,
                filing_deadline=last_day,
                due_on=due.due_on,
                calendar_version=due.calendar_version,
            )
            reexamination.evidence.set(files)
            notify_users(
                department_reviewers(reexamination),
                reexamination,
                kind="reexamination.filed",
                subject=_("New re-examination %(number)s") % {"number": reexamination.number},
                body=_(
                    "Re-examination %(number)s of %(item)s (application %(enrollment)s) was "
                    "routed to your department; answer by %(due)s."
                )
                % {
                    "number": reexamination.number,
                    "item": item,
                    "enrollment": enrollment.number,
                    "due": due.due_on.isoformat(),
                },
                now=now,
            )
            notify_applicant(
                reexamination,
                kind="reexamination.filed",
                subject=_("Your re-examination request %(number)s was received")
                % {"number": reexamination.number},
                body=_(
                    "%(department)s will answer your re-examination request %(number)s of "
                    "%(item)s by %(due)s."
                )
                % {
                    "department": department.name,
                    "number": reexamination.number,
                    "item": item,
                    "due": due.due_on.isoformat(),
                },
                now=now,
            )
            audit(
                "reexamination.filed",
                user=user,
                obj=reexamination,
                now=now,
                data=data_of(
                    reexamination,
                    None,
                    files=len(files),
                    channel=reexamination.channel,
                    filing_deadline=last_day.isoformat(),
                    due_on=due.due_on.isoformat(),
                    calendar_version=due.calendar_version,
                ),
            )
    except IntegrityError as exc:
        if "reexaminations_one_open_per_enrollment_item" in str(exc) or "item" in str(exc):
            existing = _open_one(enrollment, item)
            raise _duplicate(existing) from exc
        raise
    return reexamination


def _open_one(enrollment, item: str) -> Reexamination | None:
    return Reexamination.objects.filter(
        enrollment_id=enrollment.pk, item=item, state__in=OPEN_STATES
    ).first()


def _duplicate(existing: Reexamination | None) -> DuplicateOpen:
    error = DuplicateOpen(
        _("A re-examination of this item is already open (%(number)s).")
        % {"number": existing.number if existing else "—"},
        field="item",
    )
    error.existing = existing
    return error


def withdraw(
    reexamination: Reexamination, *, user: User, reason: str = "", now: dt.datetime
) -> Reexamination:
    """The applicant (or their town's clerk) withdraws an open re-examination. Audited
    ``reexamination.withdrawn``; the department is told."""
    reason = clean_text(reason, field="reason", required=False)
    with transaction.atomic():
        reexamination = lock(reexamination)
        require_filer(user, reexamination.resident)
        before = run_transition(reexamination, "withdraw")
        reexamination.withdrawn_at = now
        reexamination.withdraw_reason = reason
        reexamination.save()
        notify_users(
            department_reviewers(reexamination),
            reexamination,
            kind="reexamination.withdrawn",
            subject=_("Re-examination %(number)s was withdrawn") % {"number": reexamination.number},
            body=_("The applicant withdrew re-examination %(number)s.")
            % {"number": reexamination.number},
            now=now,
        )
        audit(
            "reexamination.withdrawn",
            user=user,
            obj=reexamination,
            now=now,
            data=data_of(reexamination, before),
        )
    return reexamination
