"""Publication (公示) of a frozen list, its take-down, and corrected lists.

- :func:`publish` — the center puts a frozen list on notice from ``starts_on`` to
  ``ends_on``: at least the city policy's ``publication_min_workdays`` (5) working days counted
  on the database calendar, ``starts_on`` being the first (``rankings.publication_too_short``
  names the earliest allowed end date). Re-examination requests are filed until the
  ``reexamination_request_workdays``-th (3rd) working day counting ``starts_on``
  (``filing_until``) and answered within ``reexamination_answer_workdays`` (7) working days
  after that (``reexamination_until``). Audited ``publication.published``.
- :func:`visible_publication` — the read path of the public list: refuses (``rankings.not_public``)
  before ``starts_on``, after the later of ``ends_on`` and ``reexamination_until``, and once
  taken down.
- :func:`take_down_due` — the periodic job ``rankings.take_down``: marks the publications whose
  windows are over as taken down (audited ``publication.taken_down``); staff keep the list.
- :func:`publish_corrected` — after an upheld re-examination or a fraud case: a new frozen
  list from the current enrollments, superseding the old one, published at once with a
  ``change_note`` listing per application number what changed and why. Audited
  ``ranking.corrected`` (and ``publication.taken_down`` / ``publication.published``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jifen.accounts.models import User
from jifen.audit.actors import Actor
from jifen.rankings.errors import (
    InvalidValue,
    NotPublic,
    PublicationDates,
    PublicationTooShort,
    TransitionNotAllowed,
)
from jifen.rankings.models import Publication, Ranking, RankingEntry, RankingState
from jifen.rankings.services._common import (
    audit,
    china_date,
    count_workdays,
    lock_ranking,
    notify_applicant,
    procedure,
    require_center,
    require_center_or_reviewer,
    workday_deadline,
)
from jifen.rankings.services.ranking import collect, ranking_data, store

TAKE_DOWN_JOB = "rankings.take_down"
TAKE_DOWN_ACTOR = "job:rankings_take_down"
WINDOWS_CLOSED = "windows_closed"
CORRECTED = "corrected"
#: At most this many applicants are notified individually of a correction.
MAX_CHANGE_TEXT = 2000


def publication_link(publication: Publication) -> str:
    return f"/public/publications/{publication.pk}/"


# --- dates ----------------------------------------------------------------------------------


def publication_dates(starts_on: dt.date, ends_on: dt.date, *, now: dt.datetime) -> dict[str, Any]:
    """Check ``starts_on``..``ends_on`` and compute the re-examination windows.

    Returns ``filing_until``, ``reexamination_until``, ``calendar_version`` and
    ``workdays`` (working days of the period, ``starts_on`` included).
    """
    if not isinstance(starts_on, dt.date) or isinstance(starts_on, dt.datetime):
        raise PublicationDates(_("Give the first day of the publication."), field="starts_on")
    if not isinstance(ends_on, dt.date) or isinstance(ends_on, dt.datetime):
        raise PublicationDates(_("Give the last day of the publication."), field="ends_on")
    today = china_date(now)
    if starts_on < today:
        raise PublicationDates(
            _("A publication cannot start in the past (today is %(today)s).")
            % {"today": today.isoformat()},
            field="starts_on",
        )
    if ends_on < starts_on:
        raise PublicationDates(
            _("The publication must end on or after its first day."), field="ends_on"
        )
    windows = procedure(starts_on)
    minimum = windows["publication_min_workdays"]
    before = starts_on - dt.timedelta(days=1)
    workdays = count_workdays(before, ends_on, now)
    if workdays < minimum:
        earliest = workday_deadline(before, minimum, now).due_on
        raise PublicationTooShort(
            _(
                "A publication lasts at least %(n)s working days: %(start)s to %(end)s has "
                "%(count)s. Starting on %(start)s it may end on %(earliest)s at the earliest."
            )
            % {
                "n": minimum,
                "start": starts_on.isoformat(),
                "end": ends_on.isoformat(),
                "count": workdays,
                "earliest": earliest.isoformat(),
            },
            minimum_end=earliest,
        )
    filing = workday_deadline(before, windows["reexamination_request_workdays"], now)
    answers = workday_deadline(filing.due_on, windows["reexamination_answer_workdays"], now)
    return {
        "filing_until": filing.due_on,
        "reexamination_until": answers.due_on,
        "calendar_version": answers.calendar_version,
        "workdays": workdays,
    }


def minimum_end(starts_on: dt.date, *, now: dt.datetime) -> dt.date:
    """The earliest allowed last day of a publication starting on ``starts_on``."""
    minimum = procedure(starts_on)["publication_min_workdays"]
    return workday_deadline(starts_on - dt.timedelta(days=1), minimum, now).due_on


def publication_data(publication: Publication, **extra: Any) -> dict[str, Any]:
    return {
        "publication": publication.pk,
        "ranking": publication.ranking_id,
        "starts_on": publication.starts_on.isoformat(),
        "ends_on": publication.ends_on.isoformat(),
        "filing_until": publication.filing_until.isoformat(),
        "reexamination_until": publication.reexamination_until.isoformat(),
        "calendar_version": publication.calendar_version,
        **extra,
    }


# --- publish ---------------------------------------------------------------------------------


def publish(
    *, ranking: Ranking, starts_on: dt.date, ends_on: dt.date, user: User, now: dt.datetime
) -> Publication:
    """Publish a frozen list (center only); see the module's notes. Refused
    (``rankings.transition_not_allowed``) unless the ranking is frozen."""
    require_center(user)
    dates = publication_dates(starts_on, ends_on, now=now)
    with transaction.atomic():
        ranking = lock_ranking(ranking)
        if ranking.state != RankingState.FROZEN:
            raise TransitionNotAllowed(
                _("Only a frozen list that has not been published can be published."),
                field="ranking",
            )
        publication = _create(ranking, starts_on, ends_on, dates, user=user, now=now)
        audit(
            "publication.published",
            user=user,
            obj=publication,
            now=now,
            data=publication_data(publication, content_hash=ranking.content_hash),
        )
    return publication


def _create(
    ranking: Ranking,
    starts_on: dt.date,
    ends_on: dt.date,
    dates: dict[str, Any],
    *,
    user: User,
    now: dt.datetime,
    corrected_from: Publication | None = None,
    change_note: dict[str, Any] | None = None,
) -> Publication:
    publication = Publication.objects.create(
        ranking=ranking,
        starts_on=starts_on,
        ends_on=ends_on,
        filing_until=dates["filing_until"],
        reexamination_until=dates["reexamination_until"],
        calendar_version=dates["calendar_version"],
        published_at=now,
        published_by=user,
        corrected_from=corrected_from,
        change_note=change_note or {},
    )
    ranking.state = RankingState.PUBLISHED
    ranking.save(update_fields=["state"])
    return publication


# --- the read path and the take-down ---------------------------------------------------------


def visible_publication(publication: Publication | int, *, now: dt.datetime) -> Publication:
    """The publication if its public list is served on ``now``'s China date, else
    ``rankings.not_public`` (not started, windows over, taken down or corrected)."""
    pk = publication.pk if isinstance(publication, Publication) else publication
    found = (
        Publication.objects.select_related("ranking", "ranking__version__scenario")
        .defer("ranking__inputs")
        .filter(pk=pk)
        .first()
    )
    if found is None or not found.is_visible_on(china_date(now)):
        raise NotPublic(_("This list is not public."))
    return found


def current_publications(*, now: dt.datetime):
    """The publications served on ``now``'s China date, newest first."""
    today = china_date(now)
    return (
        Publication.objects.filter(taken_down_at__isnull=True, starts_on__lte=today)
        .exclude(ends_on__lt=today, reexamination_until__lt=today)
        .select_related("ranking__version__scenario")
        .defer("ranking__inputs")
        .order_by("-starts_on", "-pk")
    )


def take_down_due(*, now: dt.datetime) -> int:
    """Take down every publication whose publication and re-examination windows are over
    (the day after the later of ``ends_on`` and ``reexamination_until``). Returns how many."""
    today = china_date(now)
    due = Publication.objects.filter(
        taken_down_at__isnull=True, ends_on__lt=today, reexamination_until__lt=today
    ).values_list("pk", flat=True)
    count = 0
    for pk in list(due):
        with transaction.atomic():
            publication = Publication.objects.select_for_update().get(pk=pk)
            if publication.taken_down_at is not None:
                continue
            publication.taken_down_at = now
            publication.taken_down_reason = WINDOWS_CLOSED
            publication.save(update_fields=["taken_down_at", "taken_down_reason"])
            audit(
                "publication.taken_down",
                actor=Actor.system(TAKE_DOWN_ACTOR),
                obj=publication,
                now=now,
                data=publication_data(publication, reason=WINDOWS_CLOSED),
            )
            count += 1
    return count


# --- corrected lists -------------------------------------------------------------------------


def _clean_changes(changes: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """``[{"number": "YY2026000001", "why": "…"}]`` → ``{number: why}``."""
    out: dict[str, str] = {}
    for index, change in enumerate(changes or ()):
        field = f"changes[{index}]"
        if not isinstance(change, Mapping):
            raise InvalidValue(_("Each change names an application number and why."), field=field)
        number = change.get("number")
        why = change.get("why")
        if not isinstance(number, str) or not number.strip():
            raise InvalidValue(_("Give the application number."), field=f"{field}.number")
        if not isinstance(why, str) or not why.strip():
            raise InvalidValue(_("Say why it changed."), field=f"{field}.why")
        out[number.strip()] = why.strip()[:MAX_CHANGE_TEXT]
    return out


def _entry_state(ranking: Ranking) -> dict[str, dict[str, Any]]:
    return {
        number: {"rank": rank, "points": str(points), "quota": quota or None, "items": breakdown}
        for number, rank, points, quota, breakdown in RankingEntry.objects.filter(
            ranking=ranking
        ).values_list("number", "rank", "points", "quota_key", "breakdown")
    }


def change_note(
    old: dict[str, dict[str, Any]],
    new: dict[str, dict[str, Any]],
    *,
    reason: str,
    why: Mapping[str, str],
) -> dict[str, Any]:
    """Per application number, what changed between two lists and why (pure)."""
    changes = []
    for number in sorted(set(old) | set(new)):
        before, after = old.get(number), new.get(number)
        change: dict[str, Any] = {"number": number}
        if before is None:
            change["added"] = True
        elif after is None:
            change["removed"] = True
        else:
            for key in ("rank", "points"):
                if before[key] != after[key]:
                    change[key] = [before[key], after[key]]
            if before["quota"] != after["quota"]:
                change["allocation"] = [before["quota"], after["quota"]]
            items = {
                item: [before["items"].get(item), after["items"].get(item)]
                for item in sorted(set(before["items"]) | set(after["items"]))
                if before["items"].get(item) != after["items"].get(item)
            }
            if items:
                change["items"] = items
        if len(change) == 1 and number not in why:
            continue
        change["why"] = why.get(number) or reason
        change["cause"] = "corrected" if number in why else "consequence"
        changes.append(change)
    return {"reason": reason, "changes": changes}


def publish_corrected(
    *,
    ranking: Ranking,
    reason: str,
    changes: Iterable[Mapping[str, Any]] | None,
    user: User,
    now: dt.datetime,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
) -> Publication:
    """Publish the corrected list of a published ``ranking`` (the center, or the reviewing
    department deciding an upheld re-examination).

    The enrollments are read again (their corrected points), frozen into a new ranking that
    supersedes ``ranking``, and published from ``starts_on`` (default: today) to ``ends_on``
    (default: the later of the old end and the minimum period). The old publication is taken
    down. ``changes`` give, per application number, why it changed
    (``[{"number", "why"}]``); every other number whose rank, points or place moved is listed
    as a consequence of ``reason``. Applicants whose points or place changed are notified.
    """
    require_center_or_reviewer(user)
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise InvalidValue(_("Say why the list is corrected."), field="reason")
    why = _clean_changes(changes)
    today = china_date(now)
    starts_on = starts_on or today
    with transaction.atomic():
        old = lock_ranking(ranking)
        if old.state != RankingState.PUBLISHED:
            raise TransitionNotAllowed(
                _("Only a list on public notice can be corrected."), field="ranking"
            )
        old_publication = Publication.objects.select_for_update().get(ranking=old)
        if ends_on is None:
            ends_on = max(old_publication.ends_on, minimum_end(starts_on, now=now))
        dates = publication_dates(starts_on, ends_on, now=now)
        version = old.version
        inputs, extra = collect(version)
        before = _entry_state(old)
        old.state = RankingState.SUPERSEDED
        old.save(update_fields=["state"])
        new, _result = store(
            version,
            inputs,
            extra,
            user=user,
            now=now,
            supersedes=old,
            correction_reason=reason,
        )
        after = _entry_state(new)
        note = change_note(before, after, reason=reason, why=why)
        old_publication.taken_down_at = now
        old_publication.taken_down_reason = CORRECTED
        old_publication.save(update_fields=["taken_down_at", "taken_down_reason"])
        publication = _create(
            new,
            starts_on,
            ends_on,
            dates,
            user=user,
            now=now,
            corrected_from=old_publication,
            change_note=note,
        )
        audit(
            "publication.taken_down",
            user=user,
            obj=old_publication,
            now=now,
            data=publication_data(old_publication, reason=CORRECTED),
        )
        audit(
            "ranking.corrected",
            user=user,
            obj=new,
            now=now,
            data=ranking_data(
                new,
                supersedes=old.pk,
                old_hash=old.content_hash,
                changed=len(note["changes"]),
                corrected=sorted(why),
                reason=reason[:500],
            ),
        )
        audit(
            "publication.published",
            user=user,
            obj=publication,
            now=now,
            data=publication_data(
                publication,
                content_hash=new.content_hash,
                corrected_from=old_publication.pk,
            ),
        )
        _notify_changed(new, publication, note, now=now)
    return publication


def _notify_changed(
    ranking: Ranking, publication: Publication, note: dict[str, Any], *, now: dt.datetime
) -> None:
    numbers = [
        c["number"]
        for c in note["changes"]
        if c["cause"] == "corrected" or "points" in c or "allocation" in c
    ]
    if not numbers:
        return
    scenario = ranking.version.scenario
    entries = RankingEntry.objects.filter(ranking=ranking, number__in=numbers).select_related(
        "enrollment__resident"
    )
    for entry in entries:
        notify_applicant(
            entry.enrollment,
            kind="ranking.corrected",
            subject=_("The list of %(scenario)s has been corrected") % {"scenario": scenario.name},
            body=_(
                "The corrected list of %(scenario)s is published from %(start)s. Your "
                "application %(number)s is now ranked %(rank)s with %(points)s points."
            )
            % {
                "scenario": scenario.name,
                "start": publication.starts_on.isoformat(),
                "number": entry.number,
                "rank": entry.rank,
                "points": entry.points,
            },
            link=publication_link(publication),
            now=now,
        )
