"""The README's run command loads the demo: residents through the real feeds, scores, accounts."""

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from jifen.accounts.models import Role, User
from jifen.audit.models import AuditEntry
from jifen.claims.models import Claim, ReviewTask
from jifen.demo.loader import DEMO_ACCOUNTS, DEMO_PASSWORD
from jifen.facts.models import Fact
from jifen.feeds.models import FeedBatch
from jifen.rankings.services import current_publications
from jifen.residents.models import Resident
from jifen.scenarios.models import Enrollment, ScenarioVersion
from jifen.scores.models import Score


@pytest.mark.django_db
def test_demo_load_sends_a_population_through_the_feeds_and_scores_it(
    django_capture_on_commit_callbacks,
):
    # Each import commits in production, queueing its score recomputation before the demo
    # runs the worker. Here the test's transaction stays open: the after-commit work runs at
    # the end of the block, so the worker is run once more afterwards.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo", "load", "--residents", "60", "--seed", "7")
    call_command("worker", "--once")
    assert Resident.objects.count() == 60
    batches = FeedBatch.objects.all()
    assert batches.filter(feed="public_security").exists()
    assert all(b.status == "applied" and b.rejected == 0 for b in batches)
    # Every resident has a current score, computed by the queued jobs.
    assert Score.objects.filter(is_current=True).count() == 60
    # One account per role, with the published demo password.
    for username, role, _ in DEMO_ACCOUNTS:
        user = User.objects.get(username=username)
        assert user.role == role
        assert user.check_password(DEMO_PASSWORD)
    assert User.objects.get(username="resident").resident is not None
    assert AuditEntry.objects.filter(action="feed.batch_imported").count() == batches.count()
    # Claims through the real services: the reviewer's queue shows every state.
    states = set(ReviewTask.objects.values_list("state", flat=True))
    assert {"submitted", "accepted", "materials_requested", "approved"} <= states
    assert Claim.objects.filter(kind="claim", resident__account__username="resident").exists()
    assert AuditEntry.objects.filter(action="claim.decided").exists()
    # Two published scenarios open now, the clerk has enrolled residents of their town; a
    # third, closed, has its ranking published from today with the demo resident on the list.
    assert ScenarioVersion.objects.filter(status="published").count() == 3
    assert Enrollment.objects.filter(resident__town__code="wutong").exists()
    [publication] = current_publications(now=timezone.now())
    assert publication.ranking.entries.filter(
        enrollment__resident__account__username="resident"
    ).exists()
    # The approved commendation is a fact of the demo resident, counted in their current score.
    commendation = Fact.objects.get(source="claim", code="honours.commendation")
    score = Score.objects.get(resident=commendation.resident, is_current=True)
    assert commendation.pk in score.fact_ids
    assert score.result["city"]["items"]["honours"] == "5.00"
    # A second load into a populated database does nothing with --if-empty, refuses without.
    call_command("demo", "load", "--if-empty")
    assert Resident.objects.count() == 60
    with pytest.raises(CommandError, match="already has residents"):
        call_command("demo", "load")


@pytest.mark.django_db
def test_the_demo_is_never_loaded_in_production():
    refused = pytest.raises(CommandError, match="never loaded")
    with override_settings(JIFEN_DEMO_ALLOWED=False), refused:
        call_command("demo", "load")
    assert not User.objects.filter(role=Role.RESIDENT).exists()
