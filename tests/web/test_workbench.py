"""The staff workbench: search (exact identity or permit number, or a name inside the scope),
masked results, the resident page (facts, score history, permits), identity reveal, feed
imports — and the audit entries of each view of personal data."""

from __future__ import annotations

import pytest

from jifen.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def search(client, **params):
    response = client.get("/workbench/", params)
    assert response.status_code == 200
    return response


def test_search_by_identity_number_finds_within_scope_and_masks(client, world):
    client.force_login(world.clerk_wutong)
    response = search(client, by="identity_number", q=world.identity["alice"])
    page = response.content.decode()
    assert [r.pk for r in response.context["results"]] == [world.alice.pk]
    assert world.identity["alice"] not in page.split('id="results"')[1]
    assert world.alice.masked_identity_number in page
    assert world.alice.masked_name in page
    entry = AuditEntry.objects.get(action="resident.searched")
    assert entry.actor_id == str(world.clerk_wutong.pk)
    assert entry.data == {
        "channel": "web",
        "by": "identity_number",
        "results": 1,
        "resident_ids": [str(world.alice.pk)],
    }
    assert world.identity["alice"] not in str(entry.data)


def test_search_outside_the_scope_finds_nothing(client, world):
    client.force_login(world.clerk_puyuan)
    response = search(client, by="identity_number", q=world.identity["alice"])
    assert response.context["results"] == []
    assert 'id="no-results"' in response.content.decode()
    client.force_login(world.reviewer_court)
    assert (
        search(client, by="permit_number", q=world.permit_numbers["alice"]).context["results"] == []
    )


def test_search_by_permit_number_and_by_name(client, world):
    client.force_login(world.center)
    found = search(client, by="permit_number", q=world.permit_numbers["bob"]).context["results"]
    assert found == [world.bob]
    assert search(client, by="name", q="小丽").context["results"] == [world.alice]
    client.force_login(world.clerk_puyuan)
    assert search(client, by="name", q="小丽").context["results"] == []
    assert search(client, by="name", q="李").context["results"] == []  # too short


def test_the_kind_of_search_is_guessed_from_the_term(client, world):
    client.force_login(world.center)
    assert search(client, q=world.identity["carol"]).context["results"] == [world.carol]
    assert search(client, q=world.permit_numbers["carol"]).context["results"] == [world.carol]
    assert search(client, q="赵晓燕").context["results"] == [world.carol]


def test_htmx_search_returns_only_the_results(client, world):
    client.force_login(world.center)
    response = client.get("/workbench/", {"q": "赵晓燕"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert "<html" not in page and world.carol.masked_name in page


def test_resident_page_shows_facts_scores_and_permits_and_is_audited(client, world):
    client.force_login(world.center)
    response = client.get(f"/workbench/residents/{world.alice.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "王小丽" in page
    assert world.identity["alice"] not in page
    assert 'id="facts"' in page and "charity.blood_donation" in page
    assert "administrative_detention" in page  # the center sees deductions
    assert 'id="score-history"' in page and str(world.scores["alice"].total) in page
    assert world.alice.current_permit.masked_number in page
    assert world.permit_numbers["alice"] not in page
    entry = AuditEntry.objects.get(action="resident.viewed")
    assert entry.object_type == "residents.resident" and entry.object_id == str(world.alice.pk)
    assert entry.actor_id == str(world.center.pk)
    assert entry.data == {"channel": "web", "view": "page"}


def test_the_clerk_sees_no_deduction_details(client, world):
    client.force_login(world.clerk_wutong)
    page = client.get(f"/workbench/residents/{world.alice.pk}/").content.decode()
    assert "administrative_detention" not in page
    assert "行政拘留" not in page
    assert "扣分明细" in page  # the withheld line says why
    assert "charity.blood_donation" in page


def test_a_reviewer_sees_only_their_department_facts(client, world):
    client.force_login(world.reviewer_health)
    page = client.get(f"/workbench/residents/{world.alice.pk}/").content.decode()
    facts = page.split('id="facts"')[1].split("</table>")[0]
    assert "charity.blood_donation" in facts
    assert "residence.registered_years" not in facts and "education" not in facts
    assert "行政拘留" not in page
    client.force_login(world.reviewer_psb)
    page = client.get(f"/workbench/residents/{world.alice.pk}/").content.decode()
    assert "行政拘留" in page  # public security's own deduction


def test_superseded_facts_are_listed_as_history(client, world):
    from jifen.facts.models import FactKind
    from tests.accounts.world import fact

    fact(
        world.alice,
        world.departments["zj_education"],
        kind=FactKind.PROVINCIAL,
        code="education",
        key="education",
        level="master",
    )
    client.force_login(world.center)
    page = client.get(f"/workbench/residents/{world.alice.pk}/").content.decode()
    assert 'id="superseded-facts"' in page


def test_identity_reveal_is_audited(client, world):
    client.force_login(world.clerk_wutong)
    url = f"/workbench/residents/{world.alice.pk}/reveal"
    response = client.post(url)
    assert response.status_code == 200
    assert world.identity["alice"] in response.content.decode()
    entry = AuditEntry.objects.get(action="resident.identity_revealed")
    assert entry.object_id == str(world.alice.pk) and entry.actor_id == str(world.clerk_wutong.pk)
    assert world.identity["alice"] not in str(entry.data)
    fragment = client.post(url, HTTP_HX_REQUEST="true").content.decode()
    assert world.identity["alice"] in fragment and "<html" not in fragment
    assert client.get(url).status_code == 405


def test_identity_reveal_refused_to_reviewers_and_other_towns(client, world):
    url = f"/workbench/residents/{world.alice.pk}/reveal"
    client.force_login(world.reviewer_psb)
    assert client.post(url).status_code == 403
    client.force_login(world.clerk_puyuan)
    assert client.post(url).status_code == 404
    assert not AuditEntry.objects.filter(action="resident.identity_revealed").exists()
    assert AuditEntry.objects.filter(action="access.denied").count() == 2


def test_feed_imports_list_and_report_for_the_center(client, world):
    client.force_login(world.center)
    page = client.get("/workbench/feeds/").content.decode()
    for batch in world.batches.values():
        assert batch.feed in page
    response = client.get(f"/workbench/feeds/{world.batches['court'].pk}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="report"' in page and "not a date" in page and "rejected" in page


def test_a_reviewer_sees_only_their_department_imports(client, world):
    client.force_login(world.reviewer_court)
    page = client.get("/workbench/feeds/").content.decode()
    assert "court_judgments" in page and "health_blood_donation" not in page
    assert client.get(f"/workbench/feeds/{world.batches['health'].pk}/").status_code == 404
