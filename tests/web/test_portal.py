"""The resident portal, "my points": total, subtotals, every item with its explanation and the
source of each fact, the policy version, the reference-values notice, the chart, the permit."""

from __future__ import annotations

import datetime as dt

import pytest

from jifen.audit.models import AuditEntry
from jifen.scores.models import Score, ScoreStatus
from tests.accounts.world import make_score

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_page(client, world):
    client.force_login(world.alice_user)
    response = client.get("/me/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_total_and_subtotals_are_shown(alice_page, world):
    score = world.scores["alice"]
    assert f'id="score-total">{score.total}<' in alice_page
    assert f'id="provincial-total">{score.provincial_total}<' in alice_page
    assert f'id="city-total">{score.city_bonus_total}<' in alice_page
    assert f'id="deductions-total">−{score.deductions_total}<' in alice_page


def test_every_item_shows_its_explanation_lines(alice_page, world):
    result = world.scores["alice"].result
    for line in result["explanation"]:
        if line["section"] != "total" and line["rule"] is not None:
            assert line["reason_zh"] in alice_page
    for item in ("provincial-age", "provincial-education", "city-charity", "city-residence"):
        assert f'id="item-{item}"' in alice_page
    # The resident reads their own deduction with its reason.
    assert "受到行政拘留" in alice_page


def test_the_source_of_each_fact_is_shown(alice_page, world):
    assert "卫生健康局" in alice_page  # the department of the blood donation
    assert "health_blood_donation" in alice_page and "2025-06-02" in alice_page  # feed batch
    assert "公安局" in alice_page
    assert "省教育厅" in alice_page


def test_policy_version_hash_and_reference_values(alice_page, world):
    score = world.scores["alice"]
    assert score.provincial_policy in alice_page and score.city_policy in alice_page
    assert score.provincial_hash[:16] in alice_page and score.city_hash[:16] in alice_page
    assert score.reference_values
    assert 'id="reference-values"' in alice_page


def test_the_chart_is_inline_svg_without_scripts_from_elsewhere(alice_page):
    assert '<svg viewBox="0 0 100 8"' in alice_page
    assert 'class="provincial"' in alice_page and 'class="deduction"' in alice_page
    assert "http://" not in alice_page and "https://" not in alice_page  # no CDN, no fonts


def test_the_permit_status_is_shown_and_numbers_are_masked(alice_page, world):
    assert 'id="permit"' in alice_page
    assert world.permit_numbers["alice"] not in alice_page
    assert world.alice.current_permit.masked_number in alice_page
    assert world.identity["alice"] not in alice_page


def test_lapsed_points_are_shown_as_such(client, world):
    make_score(
        world.alice,
        status=ScoreStatus.LAPSED,
        lapse_reason="居住证使用功能中止",
        lapsed_since=dt.date(2025, 5, 20),
        computed_at=dt.datetime(2025, 6, 2, 10, tzinfo=dt.UTC),
    )
    client.force_login(world.alice_user)
    page = client.get("/me/").content.decode()
    assert 'id="lapsed"' in page
    assert "居住证使用功能中止" in page and "2025-05-20" in page


def test_the_portal_shows_only_the_current_score(client, world):
    old_total = world.scores["alice"].total
    newer = make_score(world.alice, computed_at=dt.datetime(2025, 6, 3, tzinfo=dt.UTC))
    assert Score.objects.filter(resident=world.alice, is_current=True).get() == newer
    client.force_login(world.alice_user)
    page = client.get("/me/").content.decode()
    assert f'id="score-total">{newer.total}<' in page
    assert old_total == newer.total  # same facts, same points


def test_a_resident_without_a_score_gets_one_on_the_first_visit(client, world):
    client.force_login(world.carol_user)
    response = client.get("/me/")
    assert response.status_code == 200
    score = Score.objects.get(resident=world.carol, is_current=True)
    assert f'id="score-total">{score.total}<' in response.content.decode()


def test_a_resident_whose_facts_cannot_be_scored_sees_not_scored_yet(client, world):
    from jifen.facts.models import FactKind
    from tests.accounts.world import fact

    # A city fact with a rule no policy knows: the profile is refused, naming the field.
    fact(
        world.carol,
        world.departments["court"],
        kind=FactKind.CITY,
        code="no.such_rule",
        key="x:1",
        date=dt.date(2024, 1, 1),
    )
    client.force_login(world.carol_user)
    response = client.get("/me/")
    assert response.status_code == 200
    assert 'id="no-score"' in response.content.decode()
    assert not Score.objects.filter(resident=world.carol).exists()


def test_residents_viewing_their_own_points_are_not_audited_as_staff_views(client, world):
    client.force_login(world.alice_user)
    client.get("/me/")
    assert not AuditEntry.objects.filter(action="resident.viewed").exists()


def test_staff_and_administrators_have_no_portal(client, world):
    for name in ("clerk_wutong", "center", "auditor", "system_admin"):
        client.force_login(world.user(name))
        assert client.get("/me/").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/me/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/me/"
