"""The center's policy pages: draft from the version in force, edit with field-named errors,
the readable diff, approval by another center user, publication, export; center only."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.urls import reverse

from jifen.audit.models import AuditEntry
from jifen.policies.content import load_text
from jifen.policies.models import PolicyState, PolicyVersion
from jifen.scores.policies import current_policies
from tests.factories import PASSWORD, make_user
from tests.policies.conftest import CITY, NOW, actions

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock():
    with mock.patch("jifen.accounts.clock.now", return_value=NOW):
        yield


def client_for(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def home_owner_path(version):
    data = load_text(version.text, "x")
    i = next(i for i, x in enumerate(data["items"]) if x["code"] == "residence")
    j = next(j for j, r in enumerate(data["items"][i]["rules"]) if r["code"] == "home_owner")
    return f"items[{i}].rules[{j}].points"


def test_only_the_center_sees_the_policy_pages(client, db):
    for role in ("reviewer", "clerk", "auditor"):
        client_for(client, make_user(role))
        assert client.get(reverse("policies:list")).status_code == 403
        assert client.post(reverse("policies:list"), {"scope": "tongxiang"}).status_code == 403
    assert PolicyVersion.objects.count() == 0
    assert AuditEntry.objects.filter(action="access.denied").exists()


def test_the_center_drafts_edits_sees_the_diff_and_another_approves_and_publishes(
    client, center, approver
):
    c = client_for(client, center)
    page = c.get(reverse("policies:list"))
    assert page.status_code == 200 and CITY in page.content.decode()
    answer = c.post(reverse("policies:list"), {"scope": "tongxiang"})
    version = PolicyVersion.objects.get()
    assert answer.status_code == 302 and answer["Location"] == reverse(
        "policies:detail", args=[version.pk]
    )
    field = home_owner_path(version)

    # An invalid value: refused, the error next to the input the loader names.
    bad = c.post(
        reverse("policies:edit", args=[version.pk]), {field: "abc", "reference_values": "on"}
    )
    assert bad.status_code == 422
    html = bad.content.decode()
    assert f'data-field="{field}"' in html and "must be a number" in html
    version.refresh_from_db()
    assert "abc" not in version.text

    ok = c.post(
        reverse("policies:edit", args=[version.pk]), {field: "25", "reference_values": "on"}
    )
    assert ok.status_code == 302
    page = c.get(reverse("policies:detail", args=[version.pk])).content.decode()
    assert 'data-path="items.residence.rules.home_owner.points"' in page
    assert "residence › rule home_owner › points" in page

    # The proposer has no approve form, and cannot approve by posting.
    assert 'id="approve-form"' not in page
    refused = c.post(
        reverse("policies:approve", args=[version.pk]),
        {"document_number": "X", "document_date": "2025-06-01", "effective_from": "2025-07-01"},
    )
    assert refused.status_code == 403
    c.logout()

    a = client_for(client, approver)
    assert (
        'id="approve-form"' in a.get(reverse("policies:detail", args=[version.pk])).content.decode()
    )
    wrong = a.post(
        reverse("policies:approve", args=[version.pk]),
        {
            "document_number": "桐政发〔2025〕8号",
            "document_date": "2025-06-01",
            "effective_from": "bad",
        },
    )
    assert wrong.status_code == 422 and 'data-field="effective_from"' in wrong.content.decode()
    done = a.post(
        reverse("policies:approve", args=[version.pk]),
        {
            "document_number": "桐政发〔2025〕8号",
            "document_date": "2025-06-01",
            "effective_from": "2025-07-01",
        },
    )
    assert done.status_code == 302
    version.refresh_from_db()
    assert version.state == PolicyState.APPROVED and version.policy_id == "tongxiang-2025-07-01"
    assert version.policy_id not in current_policies().by_id
    assert a.post(reverse("policies:publish", args=[version.pk])).status_code == 302
    version.refresh_from_db()
    assert version.state == PolicyState.PUBLISHED
    assert current_policies().select(dt.date(2025, 7, 1)).city.id == "tongxiang-2025-07-01"
    assert actions() == ["policy.drafted", "policy.edited", "policy.approved", "policy.published"]

    export = a.get(reverse("policies:export", args=[version.pk]))
    assert export["Content-Disposition"] == 'attachment; filename="tongxiang-2025-07-01.yaml"'
    assert export.content.decode() == version.text


def test_items_and_rules_are_added_and_removed(client, center):
    c = client_for(client, center)
    c.post(reverse("policies:list"), {"scope": "tongxiang"})
    version = PolicyVersion.objects.get()
    edit = reverse("policies:edit", args=[version.pk])
    missing = c.post(
        edit,
        {
            "action": "add_item",
            "code": "digital",
            "name_zh": "数字技能",
            "name_en": "digital skills",
            "cap": "5",
            "rule_code": "cert",
            "kind": "flag",
            "rule_zh": "证书",
            "rule_en": "certificate",
        },
    )
    assert missing.status_code == 422
    assert 'data-field="items[' in missing.content.decode() or "points" in missing.content.decode()
    assert (
        c.post(
            edit,
            {
                "action": "add_item",
                "code": "digital",
                "name_zh": "数字技能",
                "name_en": "digital skills",
                "cap": "5",
                "rule_code": "cert",
                "kind": "flag",
                "rule_zh": "证书",
                "rule_en": "certificate",
                "points": "5",
                "window_years": "3",
            },
        ).status_code
        == 302
    )
    assert c.post(edit, {"action": "remove", "path": "items[0]"}).status_code == 302
    page = c.get(reverse("policies:detail", args=[version.pk])).content.decode()
    assert 'data-path="items.digital"' in page and 'data-path="items.education"' in page
    assert page.count('class="removed"') == 1 and page.count('class="added"') == 1


def test_an_invalid_yaml_text_is_kept_but_cannot_be_approved(client, center, approver):
    c = client_for(client, center)
    c.post(reverse("policies:list"), {"scope": "tongxiang"})
    version = PolicyVersion.objects.get()
    text = version.text.replace("cap: 200\n", "cap: 200.005\n", 1)
    assert c.post(reverse("policies:text", args=[version.pk]), {"text": text}).status_code == 302
    page = c.get(reverse("policies:detail", args=[version.pk])).content.decode()
    assert 'id="problem"' in page and "two decimal places" in page
    c.logout()
    a = client_for(client, approver)
    refused = a.post(
        reverse("policies:approve", args=[version.pk]),
        {"document_number": "X", "document_date": "2025-06-01", "effective_from": "2025-07-01"},
    )
    assert refused.status_code == 422 and 'data-field="cap"' in refused.content.decode()
    version.refresh_from_db()
    assert version.state == PolicyState.DRAFT
