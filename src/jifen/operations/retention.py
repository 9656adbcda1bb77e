"""Retention of evidence files (security.md "Data": evidence deleted after the re-examination
window closes, decisions kept as archives).

An evidence file is deleted once everything it supports has been closed for longer than
``JIFEN_EVIDENCE_RETENTION_DAYS`` (default 365 days):

- every claim it is attached to is closed (decided or withdrawn: ``Claim.closed_at``), and
- every re-examination it is attached to is decided or withdrawn (``decided_at`` /
  ``withdrawn_at``),

each at least the retention period before ``now``. The period starts after the decision, so it
must cover the windows in which the decision can still be challenged (the re-examination of the
published list, administrative reconsideration and litigation); 365 days does.

Never deleted by this job: evidence of a fraud case (it is the basis of a sanction), evidence
of an open claim or re-examination, and an upload not attached to anything that a draft of its
resident still lists. An upload attached to nothing and listed by no draft (an abandoned upload)
goes once it is older than the period.

Deleting removes the file and sets ``Evidence.deleted_at``; the row stays as the record that the
file existed (type, size, SHA-256), and so do claims, items, decisions, facts and the audit log.
Each deletion is audited ``evidence.deleted`` by the named system actor
``job:evidence_retention``, in the transaction that marks the row; the file is removed after
that transaction commits (a file whose removal failed is removed again on the next run).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce

from jifen.audit.actors import Actor
from jifen.audit.services import record
from jifen.evidence import storage
from jifen.evidence.models import Evidence

logger = logging.getLogger(__name__)

JOB_KIND = "evidence.retention"
ACTOR = Actor.system("job:evidence_retention")
DEFAULT_RETENTION_DAYS = 365
#: How far back deleted rows are checked for a file whose removal failed.
RESWEEP = dt.timedelta(days=30)


def retention_days() -> int:
    return int(getattr(settings, "JIFEN_EVIDENCE_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


@dataclass(frozen=True)
class RetentionReport:
    deleted: int
    cutoff: dt.datetime

    def as_dict(self) -> dict:
        return {"deleted": self.deleted, "cutoff": self.cutoff.isoformat()}


def due_for_deletion(now: dt.datetime) -> QuerySet[Evidence]:
    """The evidence files whose retention period has ended at ``now`` (see module doc)."""
    from jifen.claims.models import ClaimEvidence
    from jifen.reexaminations.models import OPEN_STATES, Reexamination

    cutoff = now - dt.timedelta(days=retention_days())
    claim_links = ClaimEvidence.objects.filter(evidence=OuterRef("pk"))
    reexaminations = Reexamination.objects.filter(evidence=OuterRef("pk"))
    recent_reexaminations = reexaminations.annotate(
        closed_on=Coalesce("decided_at", "withdrawn_at")
    ).filter(Q(state__in=OPEN_STATES) | Q(closed_on__isnull=True) | Q(closed_on__gt=cutoff))
    return (
        Evidence.objects.filter(deleted_at__isnull=True, uploaded_at__lte=cutoff)
        .exclude(fraud_cases__isnull=False)
        .exclude(
            Exists(
                claim_links.filter(
                    Q(claim__closed_at__isnull=True) | Q(claim__closed_at__gt=cutoff)
                )
            )
        )
        .exclude(Exists(recent_reexaminations))
        .annotate(attached=Exists(claim_links) | Exists(reexaminations))
        .order_by("uploaded_at", "pk")
    )


def _listed_by_a_draft(evidence: Evidence) -> bool:
    from jifen.claims.models import Claim, ClaimStatus

    wanted = str(evidence.pk)
    drafts = Claim.objects.filter(resident_id=evidence.resident_id, status=ClaimStatus.DRAFT)
    return any(wanted in json.dumps(draft) for draft in drafts.values_list("draft", flat=True))


def apply_retention(*, now: dt.datetime) -> RetentionReport:
    """Delete every evidence file due at ``now``; one transaction (and audit entry) per file."""
    days = retention_days()
    cutoff = now - dt.timedelta(days=days)
    deleted = 0
    for candidate in list(due_for_deletion(now)):
        if not candidate.attached and _listed_by_a_draft(candidate):
            continue
        with transaction.atomic():
            # Lock and check again: it may have been attached to something new meanwhile.
            evidence = (
                due_for_deletion(now).select_for_update(of=("self",)).filter(pk=candidate.pk)
            ).first()
            if evidence is None:
                continue
            evidence.deleted_at = now
            evidence.save(update_fields=["deleted_at"])
            record(
                "evidence.deleted",
                actor=ACTOR,
                occurred_at=now,
                obj=evidence,
                data={
                    "reason": "retention" if evidence.attached else "retention.unattached",
                    "retention_days": days,
                    "cutoff": cutoff.isoformat(),
                },
            )
            name = evidence.storage_name
            transaction.on_commit(lambda name=name: storage.remove(name))
        deleted += 1
    _remove_leftover_files(now)
    if deleted:
        logger.info("evidence retention: %s files deleted (closed before %s)", deleted, cutoff)
    return RetentionReport(deleted=deleted, cutoff=cutoff)


def _remove_leftover_files(now: dt.datetime) -> None:
    """Files of rows marked deleted recently whose removal after commit did not happen."""
    recent = Evidence.objects.filter(deleted_at__gte=now - RESWEEP).values_list(
        "storage_name", flat=True
    )
    for name in recent.iterator():
        try:
            storage.remove(name)
        except OSError:
            logger.warning("evidence retention: could not remove the file of %s", name)
