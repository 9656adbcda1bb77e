"""The rankings services: freeze and re-run (``ranking``), publication, take-down and
corrected lists (``publication``), final list, outcomes and cancelled places (``outcomes``).
The public list and its exports are in :mod:`jifen.rankings.exports`."""

from jifen.rankings.services.outcomes import cancel_place, finalise, reallocate, record_outcome
from jifen.rankings.services.publication import (
    current_publications,
    minimum_end,
    publish,
    publish_corrected,
    take_down_due,
    visible_publication,
)
from jifen.rankings.services.ranking import freeze_ranking, rerun, verify

__all__ = [
    "cancel_place",
    "current_publications",
    "finalise",
    "freeze_ranking",
    "minimum_end",
    "publish",
    "publish_corrected",
    "reallocate",
    "record_outcome",
    "rerun",
    "take_down_due",
    "verify",
    "visible_publication",
]
