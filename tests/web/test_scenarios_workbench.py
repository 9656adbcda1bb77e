"""The scenario workbench over HTTP, per role: the center defines (errors named by field),
publishes, evaluates, freezes and publishes the list (≥ 5 working days), corrects it; the
reviewer of the routed department accepts and decides re-examinations; fraud cases need two
people; 403 for a wrong role and 404 out of scope, both audited."""

from __future__ import annotations

import datetime as dt

import pytest

from jifen.audit.models import AuditEntry
from jifen.rankings.models import Publication, Ranking, RankingState
from jifen.reexaminations.models import ReexaminationState
from jifen.sanctions.models import FraudState
from jifen.scenarios.models import Scenario, VersionStatus
from tests.factories import CHINA_TZ, make_user
from tests.scenarios import conftest as sc
from tests.web import test_scenarios_support as support
from tests.web.test_scenarios_support import DECIDED, denied, file_by_service, png

clock, pw = support.clock, support.pw

pytestmark = pytest.mark.django_db


def form(content: dict) -> dict:
    """The draft form's fields for ``content`` (the test scenario's definition)."""
    eligibility = content["eligibility"]
    return {
        "rules_text": content["rules_text"],
        "rules_url": content["rules_url"],
        "open_from": "2026-07-01T09:00",
        "open_until": "2026-07-15T17:00",
        "review_date": content["review_date"],
        "min_total": str(eligibility["min_total"]),
        "permit_valid": "on",
        "child_birth_from": eligibility["child_birth_from"],
        "child_birth_to": eligibility["child_birth_to"],
        "score_basis_kind": "total",
        "tie_breaks": "\n".join(content["tie_breaks"]),
        "quotas": "\n".join(
            f"{q['key']} | {q['label']} | {q['places']} | {q['town']}" for q in content["quotas"]
        ),
        "preferences_max": "3",
    }


@pytest.fixture
def center(client, db, clock, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    clock.set(sc.BEFORE)
    user = make_user("center")
    client.force_login(user)
    return user


def test_the_center_creates_drafts_with_named_errors_and_publishes(client, center):
    response = client.post(
        "/workbench/scenarios/",
        {"code": "school-2026", "name": "2026年入学", "department": "education_bureau"},
    )
    scenario = Scenario.objects.get(code="school-2026")
    assert response["Location"] == f"/workbench/scenarios/{scenario.pk}/draft/"
    bad = form(sc.SCHOOL) | {"tie_breaks": "applied_at\nprovincial_total"}
    response = client.post(f"/workbench/scenarios/{scenario.pk}/draft/", bad)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="errors-tie_breaks"' in page and "tie_breaks[0]" in page
    bad = form(sc.SCHOOL) | {"quotas": "school:a | A | many | wutong"}
    page = client.post(f"/workbench/scenarios/{scenario.pk}/draft/", bad).content.decode()
    assert 'id="errors-quotas"' in page and "quotas[0].places" in page
    bad = form(sc.SCHOOL) | {"min_total": "abc"}
    page = client.post(f"/workbench/scenarios/{scenario.pk}/draft/", bad).content.decode()
    assert 'id="errors-eligibility_min_total"' in page
    assert not scenario.versions.exists()

    response = client.post(f"/workbench/scenarios/{scenario.pk}/draft/", form(sc.SCHOOL))
    assert response.status_code == 302
    version = scenario.versions.get()
    assert version.content["open_from"] == "2026-07-01T09:00:00+08:00"
    assert version.content["quotas"] == sc.SCHOOL["quotas"]
    # The edit form shows the stored values back; saving it again keeps the hash.
    page = client.get(f"/workbench/scenarios/{scenario.pk}/versions/1/").content.decode()
    assert "school:wutong-1 | 梧桐街道第一小学 | 2 | wutong" in page
    client.post(f"/workbench/scenarios/{scenario.pk}/versions/1/", form(sc.SCHOOL))
    before = version.content_hash
    version.refresh_from_db()
    assert version.content_hash == before
    client.post(f"/workbench/scenarios/{scenario.pk}/versions/1/publish")
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED
    actions = [e.action for e in AuditEntry.objects.order_by("sequence")]
    assert {"scenario.created", "scenario.version_drafted", "scenario.published"} <= set(actions)


def test_a_reviewer_may_not_define_and_another_department_is_not_found(client, pw):
    client.force_login(pw.hrss)
    scenario = pw.version.scenario
    assert client.get(f"/workbench/scenarios/{scenario.pk}/draft/").status_code == 403
    assert client.post(f"/workbench/scenarios/{scenario.pk}/freeze").status_code == 403
    assert len(denied("role")) == 2
    # Education provides the scenario: hrss does not see it; education does.
    assert client.get(f"/workbench/scenarios/{scenario.pk}/").status_code == 404
    assert denied("out_of_scope")[0].object_type == "scenarios.scenario"
    assert client.get(f"/workbench/rankings/{pw.ranking.pk}/").status_code == 404
    client.force_login(pw.edu)
    page = client.get(f"/workbench/scenarios/{scenario.pk}/enrollments/").content.decode()
    assert pw.enrollments["a"].number in page and pw.residents["a"].name not in page
    assert client.get(f"/workbench/rankings/{pw.ranking.pk}/").status_code == 200


def test_residents_and_clerks_may_not_use_the_workbench_pages(client, pw):
    for user in (pw.users["a"], make_user("clerk", town="wutong")):
        client.force_login(user)
        for path in ("/workbench/scenarios/", "/workbench/reexaminations/", "/workbench/fraud/"):
            assert client.get(path).status_code == 403
    assert len(denied("role")) == 6


def test_evaluate_freeze_and_publish_with_the_five_working_day_minimum(client, pw, clock):
    clock.set(dt.datetime(2025, 9, 23, 10, 0, tzinfo=CHINA_TZ))
    client.force_login(pw.center)
    scenario = pw.version.scenario
    # A fresh freeze of the (not yet published) version: supersede the world's ranking.
    Publication.objects.filter(pk=pw.publication.pk).delete()
    Ranking.objects.filter(pk=pw.ranking.pk).update(state=RankingState.FROZEN)
    response = client.post(f"/workbench/scenarios/{scenario.pk}/evaluate")
    assert response.status_code == 302
    response = client.post(f"/workbench/scenarios/{scenario.pk}/freeze")
    ranking = Ranking.objects.exclude(state=RankingState.SUPERSEDED).get()
    assert response["Location"] == f"/workbench/rankings/{ranking.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert ranking.content_hash in page and 'id="cutoff"' in page
    # Wed 09-24 .. Sat 09-27: three working days; .. Sun 09-28 (an adjusted working day)
    # .. Mon 09-29 is five.
    short = client.post(
        f"/workbench/rankings/{ranking.pk}/publish",
        {"starts_on": "2025-09-24", "ends_on": "2025-09-27"},
    )
    assert short.status_code == 422
    assert 'id="errors-ends_on"' in short.content.decode()
    assert not Publication.objects.filter(ranking=ranking).exists()
    ok = client.post(
        f"/workbench/rankings/{ranking.pk}/publish",
        {"starts_on": "2025-09-24", "ends_on": "2025-09-29"},
    )
    assert ok.status_code == 302
    assert Publication.objects.get(ranking=ranking).ends_on == dt.date(2025, 9, 29)
    assert AuditEntry.objects.filter(action="publication.published").exists()
    assert AuditEntry.objects.filter(action="ranking.frozen").exists()


def test_the_center_publishes_a_corrected_list(client, pw):
    client.force_login(pw.center)
    response = client.post(
        f"/workbench/rankings/{pw.ranking.pk}/correct",
        {"reason": "", "changes": ""},
    )
    assert response.status_code == 400 and 'id="errors-reason"' in response.content.decode()
    response = client.post(
        f"/workbench/rankings/{pw.ranking.pk}/correct",
        {"reason": "复核更正", "changes": f"{pw.enrollments['c'].number} | 材料更正"},
    )
    corrected = Publication.objects.get(corrected_from=pw.publication)
    assert response["Location"] == f"/workbench/rankings/{corrected.ranking_id}/"
    assert AuditEntry.objects.filter(action="ranking.corrected").exists()


def test_the_routed_reviewer_accepts_and_upholds_and_the_corrected_list_is_public(
    client, pw, clock
):
    reexamination = file_by_service(pw)
    client.force_login(pw.edu)  # not the routed department
    assert client.get(f"/workbench/reexaminations/{reexamination.pk}/").status_code == 404
    assert client.post(f"/workbench/reexaminations/{reexamination.pk}/accept").status_code == 404
    assert reexamination.number not in client.get("/workbench/reexaminations/").content.decode()
    clock.set(DECIDED)
    client.force_login(pw.hrss)
    queue = client.get("/workbench/reexaminations/").content.decode()
    assert f'id="reexamination-row-{reexamination.number}"' in queue
    client.post(f"/workbench/reexaminations/{reexamination.pk}/accept")
    missing = client.post(
        f"/workbench/reexaminations/{reexamination.pk}/decide",
        {"outcome": "upheld", "reason": "社保月数漏报", "code": ""},
    )
    assert missing.status_code == 400 and 'id="errors-changes"' in missing.content.decode()
    response = client.post(
        f"/workbench/reexaminations/{reexamination.pk}/decide",
        {
            "outcome": "upheld",
            "reason": "社保月数漏报",
            "code": "social_insurance_months",
            "quantity": "90",
        },
    )
    assert response.status_code == 302
    reexamination.refresh_from_db()
    assert reexamination.state == ReexaminationState.UPHELD
    corrected = reexamination.corrected_publication
    public = client.get(f"/public/publications/{corrected.pk}/").content.decode()
    assert 'id="correction"' in public and pw.enrollments["c"].number in public
    old = client.get(f"/public/publications/{pw.publication.pk}/")
    assert old.status_code == 410 and f"/public/publications/{corrected.pk}/" in (
        old.content.decode()
    )
    assert [
        e.action
        for e in AuditEntry.objects.filter(
            object_id=str(reexamination.pk), action__startswith="reexamination."
        ).order_by("sequence")
    ][:3] == ["reexamination.filed", "reexamination.accepted", "reexamination.decided"]


def test_dismissal_needs_a_reason(client, pw, clock):
    reexamination = file_by_service(pw)
    clock.set(DECIDED)
    client.force_login(pw.hrss)
    client.post(f"/workbench/reexaminations/{reexamination.pk}/accept")
    response = client.post(
        f"/workbench/reexaminations/{reexamination.pk}/decide", {"outcome": "dismissed"}
    )
    assert response.status_code == 400 and 'id="errors-reason"' in response.content.decode()
    client.post(
        f"/workbench/reexaminations/{reexamination.pk}/decide",
        {"outcome": "dismissed", "reason": "数据无误"},
    )
    reexamination.refresh_from_db()
    assert reexamination.state == ReexaminationState.DISMISSED
    client.force_login(pw.users["c"])
    page = client.get(f"/me/reexaminations/{reexamination.pk}/").content.decode()
    assert 'id="answer"' in page and "数据无误" in page


def test_fraud_needs_a_proposer_and_another_center_member(client, pw, clock):
    clock.set(DECIDED)
    client.force_login(pw.center)
    response = client.post(
        "/workbench/fraud/",
        {"resident": str(pw.residents["a"].pk), "grounds": "伪造社保证明", "evidence": [png()]},
    )
    from jifen.sanctions.models import FraudCase

    case = FraudCase.objects.get()
    assert response["Location"] == f"/workbench/fraud/{case.pk}/"
    same = client.post(f"/workbench/fraud/{case.pk}/", {"decision": "confirm"})
    assert same.status_code == 403 and 'id="errors"' in same.content.decode()
    case.refresh_from_db()
    assert case.state == FraudState.PROPOSED
    client.force_login(pw.hrss)  # a reviewer may not confirm
    assert client.post(f"/workbench/fraud/{case.pk}/", {"decision": "confirm"}).status_code in (
        403,
        404,
    )
    client.force_login(pw.center2)
    client.post(f"/workbench/fraud/{case.pk}/", {"decision": "confirm", "reason": "核实"})
    case.refresh_from_db()
    assert case.state == FraudState.CONFIRMED and case.confirmed_by == pw.center2
    assert {"fraud.proposed", "fraud.confirmed"} <= set(
        AuditEntry.objects.values_list("action", flat=True)
    )
