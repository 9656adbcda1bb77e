"""The audit administrator searches the audit log and verifies its chain; nobody else may."""

import pytest
from django.urls import reverse

from jifen.accounts.models import Role
from jifen.audit.models import AuditEntry
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor_client(client):
    client.force_login(make_user(Role.AUDITOR, username="auditor1"))
    return client


def test_the_auditor_searches_by_action_and_the_search_is_audited(auditor_client):
    # Something to find: a reviewer refused the page.
    auditor_client.force_login(make_user(Role.REVIEWER, username="rev1"))
    assert auditor_client.get(reverse("audit:log")).status_code == 403
    auditor = make_user(Role.AUDITOR, username="auditor2")
    auditor_client.force_login(auditor)

    response = auditor_client.get(reverse("audit:log"), {"action": "access."})
    assert response.status_code == 200
    entries = list(response.context["page"])
    assert entries and all(e.action.startswith("access.") for e in entries)
    assert "access.denied" in response.content.decode()
    searched = AuditEntry.objects.filter(action="audit.searched").latest("sequence")
    assert searched.actor_id == str(auditor.pk)
    assert searched.data["filters"] == {"action": "access."}


def test_a_bad_date_is_named_and_finds_nothing(auditor_client):
    response = auditor_client.get(reverse("audit:log"), {"since": "2026-13-01"})
    assert response.status_code == 400
    assert "since" in response.context["errors"]
    assert list(response.context["page"]) == []


def test_the_dates_are_china_dates(auditor_client):
    entry = AuditEntry.objects.order_by("-sequence").first()
    day = entry.occurred_at_local().date().isoformat()
    response = auditor_client.get(reverse("audit:log"), {"since": day, "until": day})
    assert entry.sequence in [e.sequence for e in response.context["page"]]


def test_verifying_the_chain_reports_the_head_and_is_audited(auditor_client):
    response = auditor_client.post(reverse("audit:verify"))
    assert response.status_code == 200
    assert response.context["report"].ok
    verified = AuditEntry.objects.filter(action="audit.verified").latest("sequence")
    assert verified.data["ok"] is True


@pytest.mark.parametrize(
    "role", [Role.RESIDENT, Role.CLERK, Role.REVIEWER, Role.CENTER, Role.SYSTEM_ADMIN]
)
def test_no_other_role_reads_the_log(client, role):
    user = make_user(role)
    client.force_login(user)
    assert client.get(reverse("audit:log")).status_code == 403
    assert client.post(reverse("audit:verify")).status_code == 403
    denied = AuditEntry.objects.filter(action="access.denied").latest("sequence")
    assert denied.actor_id == str(user.pk)
