"""Evidence retention: the files of claims closed longer than the retention period are deleted
(row marked, file removed, ``evidence.deleted`` audited by the job's system actor); open claims,
recent decisions and drafts keep theirs; decisions, facts and their audit entries stay."""

from __future__ import annotations

import datetime as dt

import pytest

from jifen.audit.chain import verify_chain
from jifen.audit.models import AuditEntry
from jifen.claims import services
from jifen.claims.models import Claim, ClaimItem
from jifen.evidence import storage
from jifen.evidence.errors import EvidenceUnavailable
from jifen.evidence.models import Evidence
from jifen.evidence.services import open_evidence
from jifen.jobs.registry import get_handler, periodic_kinds
from jifen.operations.retention import JOB_KIND, apply_retention, due_for_deletion
from tests.claims.conftest import NOW

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


@pytest.fixture
def decided_claim(submit, upload, town_reviewer):
    """A claim with one evidence file, accepted and approved at NOW."""
    evidence = upload()
    claim = submit(evidence=[evidence])
    task = claim.tasks.get()
    services.accept(task, user=town_reviewer, now=NOW)
    services.decide(
        task,
        user=town_reviewer,
        decisions=[services.ItemDecision(task.items.get(), "approved")],
        now=NOW,
    )
    claim.refresh_from_db()
    assert claim.closed_at == NOW
    return claim, evidence


def test_evidence_of_a_decided_claim_is_deleted_after_the_period_and_the_decision_stays(
    decided_claim, resident_user
):
    claim, evidence = decided_claim
    path = storage.path_of(evidence.storage_name)
    assert path.exists()

    assert apply_retention(now=NOW + 364 * DAY).deleted == 0
    assert path.exists()

    later = NOW + 366 * DAY
    report = apply_retention(now=later)
    assert report.deleted == 1
    evidence.refresh_from_db()
    assert evidence.deleted_at == later
    assert not path.exists()
    entry = AuditEntry.objects.get(action="evidence.deleted")
    assert (entry.actor_kind, entry.actor_id) == ("system", "job:evidence_retention")
    assert entry.object_id == str(evidence.pk)
    assert entry.data["retention_days"] == 365
    # The decision, its fact and its audit entries stay; the row records that the file existed.
    item = ClaimItem.objects.get(claim=claim)
    assert item.outcome == "approved" and item.fact_id is not None
    assert AuditEntry.objects.filter(action="claim.decided").exists()
    assert Evidence.objects.filter(pk=evidence.pk, sha256=evidence.sha256).exists()
    assert claim.evidence.count() == 1
    assert verify_chain().ok
    with pytest.raises(EvidenceUnavailable):
        open_evidence(evidence, user=resident_user, request=None, now=later)
    # A second run finds nothing more.
    assert apply_retention(now=later + DAY).deleted == 0
    assert AuditEntry.objects.filter(action="evidence.deleted").count() == 1


def test_the_period_is_a_setting(decided_claim, settings):
    settings.JIFEN_EVIDENCE_RETENTION_DAYS = 30
    decided_claim  # noqa: B018
    assert apply_retention(now=NOW + 29 * DAY).deleted == 0
    assert apply_retention(now=NOW + 31 * DAY).deleted == 1


def test_evidence_of_an_open_claim_is_kept_however_old(submit, upload):
    evidence = upload()
    submit(evidence=[evidence])
    assert apply_retention(now=NOW + 3000 * DAY).deleted == 0
    evidence.refresh_from_db()
    assert evidence.deleted_at is None
    assert storage.path_of(evidence.storage_name).exists()


def test_a_file_shared_with_a_later_claim_waits_for_that_claim(decided_claim, submit):
    _, evidence = decided_claim
    later = NOW + 200 * DAY
    from jifen.claims.services import ClaimItemInput

    submit(
        ClaimItemInput(rule="charity.volunteer_hours", quantity=120, date=dt.date(2025, 9, 1)),
        evidence=[evidence],
        now=later,
    )
    assert not due_for_deletion(NOW + 400 * DAY).filter(pk=evidence.pk).exists()


def test_an_abandoned_upload_goes_but_one_listed_by_a_draft_stays(upload, resident, resident_user):
    listed, abandoned = upload("listed.png"), upload("abandoned.png")
    services.save_draft(
        resident=resident,
        user=resident_user,
        data={"evidence": [{"id": str(listed.pk), "rule": "honours.commendation"}]},
        claim=None,
        now=NOW,
    )
    assert Claim.objects.filter(status="draft").count() == 1
    assert apply_retention(now=NOW + 366 * DAY).deleted == 1
    listed.refresh_from_db()
    abandoned.refresh_from_db()
    assert listed.deleted_at is None and abandoned.deleted_at is not None
    entry = AuditEntry.objects.get(action="evidence.deleted")
    assert entry.data["reason"] == "retention.unattached"


def test_the_job_runs_daily_through_the_worker_registry():
    assert periodic_kinds()[JOB_KIND].every == DAY
    assert get_handler(JOB_KIND).__module__ == "jifen.operations.handlers"


def test_evidence_of_a_reexamination_waits_for_its_decision_and_the_period():
    from jifen.reexaminations.services import accept, decide
    from tests.factories import make_user
    from tests.reexaminations.test_reexaminations_filing import file
    from tests.reexaminations.world import build_world

    world = build_world()
    reexamination = file(world)
    evidence = reexamination.evidence.get()
    decided = dt.datetime(2025, 10, 13, 10, 0, tzinfo=NOW.tzinfo)
    # Open: kept however old.
    assert apply_retention(now=decided + 3000 * DAY).deleted == 0
    hrss = make_user("reviewer", department="zj_hrss")
    accept(reexamination, user=hrss, now=decided)
    decide(reexamination, user=hrss, outcome="dismissed", reason="Paid elsewhere.", now=decided)
    assert apply_retention(now=decided + 364 * DAY).deleted == 0
    assert apply_retention(now=decided + 366 * DAY).deleted == 1
    evidence.refresh_from_db()
    assert evidence.deleted_at is not None
    reexamination.refresh_from_db()
    assert reexamination.state == "dismissed" and reexamination.decision_reason
