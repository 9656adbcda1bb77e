"""Errors of rankings and publications: each carries a stable ``code``, the ``field`` at fault
(or ``None``) and a translated message; views and the API answer with ``status`` (400/403/404/
409/422) naming the field, never a 500.

Codes:

====================================  ====  =======================================================
``rankings.not_allowed``              403   the user's role or unit may not do this
``rankings.invalid``                  400   a value is refused (``field`` names it)
``rankings.not_published_version``    409   freezing a version that is not published
``rankings.already_published``        409   the version's list is published: correct it instead
                                            (``publish_corrected``)
``rankings.nothing_to_rank``          422   no rankable enrollment
``rankings.transition_not_allowed``   409   the ranking's state does not allow the step
``rankings.publication_too_short``    422   fewer than the policy's minimum working days (5);
                                            the message names the earliest allowed end date
``rankings.publication_dates``        400   end before start, or a start in the past
``rankings.not_public``               404   the list is not (or no longer) public
``rankings.hash_mismatch``            409   re-running the stored inputs gave another hash
``rankings.calendar_unavailable``     422   the working-day calendar does not cover a year
====================================  ====  =======================================================
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from jifen.errors import DomainError


class RankingError(DomainError):
    code = "rankings.error"
    status = 400
    default_message = _("The request cannot be processed.")


class NotAllowed(RankingError):
    code = "rankings.not_allowed"
    status = 403


class InvalidValue(RankingError):
    code = "rankings.invalid"
    status = 400


class NotPublishedVersion(RankingError):
    code = "rankings.not_published_version"
    status = 409


class AlreadyPublished(RankingError):
    code = "rankings.already_published"
    status = 409


class NothingToRank(RankingError):
    code = "rankings.nothing_to_rank"
    status = 422


class TransitionNotAllowed(RankingError):
    code = "rankings.transition_not_allowed"
    status = 409


class PublicationTooShort(RankingError):
    code = "rankings.publication_too_short"
    status = 422

    def __init__(self, message: Any = None, *, minimum_end: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("field", "ends_on")
        self.minimum_end = minimum_end
        super().__init__(message, **kwargs)


class PublicationDates(RankingError):
    code = "rankings.publication_dates"
    status = 400


class NotPublic(RankingError):
    code = "rankings.not_public"
    status = 404


class HashMismatch(RankingError):
    code = "rankings.hash_mismatch"
    status = 409


class CalendarUnavailable(RankingError):
    code = "rankings.calendar_unavailable"
    status = 422
