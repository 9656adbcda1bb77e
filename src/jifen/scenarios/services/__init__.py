"""Scenario services: definition (center), enrollment (residents and window clerks),
blockers, evaluation on the opening date, and the rankable set.

Every service takes ``now`` and audits inside its transaction; notifications are written in
the same transaction (delivered after commit by the outbox)."""

from jifen.scenarios.services.blockers import blockers_for, refresh_blockers
from jifen.scenarios.services.definition import (
    create_scenario,
    define_scenario,
    draft_version,
    publish_version,
    withdraw_version,
)
from jifen.scenarios.services.enrollment import (
    check_open,
    enroll,
    published_version,
    withdraw_enrollment,
)
from jifen.scenarios.services.evaluation import (
    EvaluationOutcome,
    counted_points,
    evaluate_enrollments,
    rankable,
)

__all__ = [
    "EvaluationOutcome",
    "blockers_for",
    "check_open",
    "counted_points",
    "create_scenario",
    "define_scenario",
    "draft_version",
    "enroll",
    "evaluate_enrollments",
    "publish_version",
    "published_version",
    "rankable",
    "refresh_blockers",
    "withdraw_enrollment",
    "withdraw_version",
]
