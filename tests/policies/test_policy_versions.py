"""Policy versions through the services: drafts never affect scores, the two-person rule,
invalid drafts, the effective date boundary, published rankings, diff, round trip, cache."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from jifen.audit.actors import Actor
from jifen.audit.models import AuditEntry
from jifen.engine import PolicyError, load_policy_file
from jifen.policies import services
from jifen.policies.content import canonical_text, load_text
from jifen.policies.errors import (
    DuplicateVersion,
    InvalidPolicy,
    NotAllowed,
    SamePerson,
    TransitionNotAllowed,
)
from jifen.policies.models import PolicyState, PolicyVersion
from jifen.scores.policies import current_policies
from jifen.scores.services import compute_score, recompute_resident, verify_score
from tests.factories import make_resident, make_user
from tests.policies.conftest import CITY, EFFECTIVE, NOW, PROVINCIAL, actions, find

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test:policies")


def raise_home_owner(data, points=25):
    residence = find(data["items"], "residence")
    find(residence["rules"], "home_owner")["points"] = Decimal(points)
    return data


def published(center, approver, edit=raise_home_owner, *, now=NOW, effective=EFFECTIVE):
    draft = services.draft_from_in_force(scope="tongxiang", user=center, now=now)
    data = edit(load_text(draft.text, "x"))
    services.save_draft(draft, data, user=center, now=now)
    services.approve(
        draft,
        user=approver,
        document_number="桐政办发〔2025〕12号",
        document_date=now.date(),
        effective_from=effective,
        now=now,
    )
    return services.publish(draft, user=approver, now=now)


def test_a_draft_copies_the_version_in_force_and_never_affects_scores(center):
    before = current_policies()
    draft = services.draft_from_in_force(scope="tongxiang", user=center, now=NOW)
    assert draft.state == PolicyState.DRAFT and draft.base_policy == CITY
    assert draft.policy_id == "tongxiang-2025-06-03"  # default: from tomorrow
    file_policy = load_policy_file("policies/tongxiang-2025-02-01.yaml")
    assert services.draft_policy(draft).items == file_policy.items
    raise_home_owner(data := load_text(draft.text, "x"))
    services.save_draft(draft, data, user=center, now=NOW)
    after = current_policies()
    assert after is before and draft.policy_id not in after.by_id
    assert after.select(dt.date(2030, 1, 1)).city.id == CITY
    assert actions() == ["policy.drafted", "policy.edited"]
    entry = AuditEntry.objects.get(action="policy.drafted")
    assert entry.data["base"] == CITY and entry.data["origin"] == "in_force"


def test_only_the_center_drafts(db):
    reviewer = make_user("reviewer")
    with pytest.raises(NotAllowed):
        services.draft_from_in_force(scope="tongxiang", user=reviewer, now=NOW)


def test_the_proposer_cannot_approve_their_own_draft(center):
    draft = services.draft_from_in_force(scope="tongxiang", user=center, now=NOW)
    with pytest.raises(SamePerson) as caught:
        services.approve(
            draft,
            user=center,
            document_number="X1",
            document_date=NOW.date(),
            effective_from=EFFECTIVE,
            now=NOW,
        )
    assert caught.value.code == "policies.same_person"
    draft.refresh_from_db()
    assert draft.state == PolicyState.DRAFT and "policy.approved" not in actions()
    # The database refuses it too (check constraint policies_approver_not_proposer).
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersion.objects.filter(pk=draft.pk).update(
            state=PolicyState.APPROVED,
            approved_by=center,
            approved_at=NOW,
            document_number="X1",
            document_date=NOW.date(),
        )


def test_an_edit_is_refused_naming_the_field_as_the_loader_does(center):
    draft = services.draft_from_in_force(scope="tongxiang", user=center, now=NOW)
    data = raise_home_owner(load_text(draft.text, "x"), points="2.555")
    with pytest.raises(InvalidPolicy) as caught:
        services.save_draft(draft, data, user=center, now=NOW)
    index = next(i for i, x in enumerate(data["items"]) if x["code"] == "residence")
    assert caught.value.field == f"items[{index}].rules[1].points"
    assert "two decimal places" in str(caught.value.message)
    draft.refresh_from_db()
    assert "2.555" not in draft.text


def test_an_invalid_draft_cannot_be_approved(center, approver, tmp_path):
    draft = services.draft_from_in_force(scope="tongxiang", user=center, now=NOW)
    text = draft.text.replace("cap: 200\n", "cap: -5\n", 1)
    services.save_draft_text(draft, text, user=center, now=NOW)
    # Exactly what the file loader says about the same text.
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as by_loader:
        load_policy_file(tmp_path / "bad.yaml")
    with pytest.raises(InvalidPolicy) as caught:
        services.approve(
            draft,
            user=approver,
            document_number="X1",
            document_date=NOW.date(),
            effective_from=EFFECTIVE,
            now=NOW,
        )
    assert caught.value.field == by_loader.value.path == "cap"
    assert str(caught.value.message) == by_loader.value.reason
    draft.refresh_from_db()
    assert draft.state == PolicyState.DRAFT


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"document_number": " "}, "document_number"),
        ({"document_date": None}, "document_date"),
        ({"effective_from": NOW.date()}, "effective_from"),
        ({"effective_from": dt.date(2025, 1, 1)}, "effective_from"),
    ],
)
def test_approval_values_are_checked(center, approver, values, field):
    draft = services.draft_from_in_force(scope="tongxiang", user=center, now=NOW)
    given = {
        "document_number": "X1",
        "document_date": NOW.date(),
        "effective_from": EFFECTIVE,
        **values,
    }
    with pytest.raises(InvalidPolicy) as caught:
        services.approve(draft, user=approver, now=NOW, **given)
    assert caught.value.field == field


def test_approval_records_the_document_and_the_effective_date(center, approver):
    version = published(center, approver)
    assert version.state == PolicyState.PUBLISHED
    assert version.policy_id == "tongxiang-2025-07-01"  # renamed to its effective date
    assert version.document_number == "桐政办发〔2025〕12号"
    assert version.document_date == NOW.date() and version.effective_from == EFFECTIVE
    assert version.approved_by == approver and version.published_by == approver
    assert actions() == ["policy.drafted", "policy.edited", "policy.approved", "policy.published"]
    approved = AuditEntry.objects.get(action="policy.approved")
    assert approved.data["effective_from"] == "2025-07-01"
    assert approved.data["document_number"] == "桐政办发〔2025〕12号"
    assert approved.data["content_hash"] == version.content_hash
    with pytest.raises(TransitionNotAllowed):
        services.publish(version, user=approver, now=NOW)
    with pytest.raises(TransitionNotAllowed):
        services.save_draft(version, load_text(version.text, "x"), user=center, now=NOW)


def test_a_published_version_takes_effect_on_its_date(center, approver, give_facts, profile):
    resident = make_resident(birth_date=dt.date(1990, 5, 1), now=NOW - dt.timedelta(days=400))
    give_facts(resident, profile, now=NOW - dt.timedelta(days=1))
    day_before = EFFECTIVE - dt.timedelta(days=1)
    old_before = compute_score(resident, on=day_before, now=NOW)
    old_on = compute_score(resident, on=EFFECTIVE, now=NOW)
    assert old_on.city_policy == CITY

    version = published(center, approver)

    before = compute_score(resident, on=day_before, now=NOW)
    on = compute_score(resident, on=EFFECTIVE, now=NOW)
    # The day before: the previous version, result and explanation unchanged.
    assert (before.city_policy, before.city_hash) == (CITY, old_before.city_hash)
    assert before.result == old_before.result and before.total == old_before.total
    # The day itself: the new version (home owner 10 → 25 points, inside the item cap).
    assert (on.city_policy, on.city_hash) == (version.policy_id, version.content_hash)
    assert on.provincial_policy == PROVINCIAL
    rule = current_policies().select(day_before).city.rules["residence.home_owner"]
    assert on.city_bonus_total - old_on.city_bonus_total == Decimal(25) - rule.points
    stored = recompute_resident(resident, on=EFFECTIVE, now=NOW, actor=ACTOR)
    assert stored.city_policy == version.policy_id and stored.total == on.total
    assert verify_score(stored)
    # A score stored with the previous version still verifies (its hash is unchanged).
    old_stored = recompute_resident(resident, on=day_before, now=NOW, actor=ACTOR)
    assert old_stored.city_policy == CITY and verify_score(old_stored)


def test_an_already_published_ranking_does_not_change(define, enrol, center, approver):
    from jifen.rankings.services import freeze_ranking, publish, verify
    from tests.rankings.conftest import ENDS, FROZEN, PUBLISHED, STARTS

    version = define()
    for points in (50, 60, 70):
        enrol(version, points)
    ranking = freeze_ranking(version=version, user=center, now=FROZEN)
    publish(ranking=ranking, starts_on=STARTS, ends_on=ENDS, user=center, now=PUBLISHED)
    ranking.refresh_from_db()
    stored = (ranking.content_hash, ranking.inputs_hash, ranking.inputs)

    later = PUBLISHED + dt.timedelta(days=1)
    published(center, approver, now=later, effective=dt.date(2025, 10, 15))

    ranking.refresh_from_db()
    assert (ranking.content_hash, ranking.inputs_hash, ranking.inputs) == stored
    assert verify(ranking) == stored[0]


def test_the_diff_against_the_version_in_force_is_readable(center):
    draft = services.draft_from_in_force(scope="tongxiang", user=center, now=NOW)
    data = raise_home_owner(load_text(draft.text, "x"))
    charity = find(data["items"], "charity")
    removed = charity["rules"].pop()
    charity["cap"] = Decimal("35.5")
    data["items"].append(
        {
            "code": "digital_skills",
            "name": {"zh": "数字技能", "en": "digital skills"},
            "cap": 5,
            "rules": [
                {
                    "code": "certificate",
                    "kind": "flag",
                    "name": {"zh": "数字技能证书", "en": "digital skills certificate"},
                    "points": 5,
                    "window_years": 3,
                }
            ],
        }
    )
    draft = services.save_draft(draft, data, user=center, now=NOW)
    base, changes = services.version_diff(draft)
    assert base.id == CITY
    got = {(c.kind, c.path, c.before_text, c.after_text) for c in changes}
    old_points = current_policies().get(CITY).rules["residence.home_owner"].points
    assert ("changed", "items.residence.rules.home_owner.points", str(old_points), "25") in got
    assert any(c.path == "items.charity.cap" and c.after_text == "35.5" for c in changes)
    assert any(
        c.kind == "removed" and c.path == f"items.charity.rules.{removed['code']}" for c in changes
    )
    added = next(c for c in changes if c.path == "items.digital_skills")
    assert added.kind == "added" and "item digital_skills" in added.label
    assert len(changes) == 4


def test_export_and_import_give_an_identical_round_trip(center, tmp_path):
    # A file version: the exported text loads to the same hash, and exports to itself.
    text = services.export_text(CITY)
    (tmp_path / f"{CITY}.yaml").write_text(text, encoding="utf-8")
    assert load_policy_file(tmp_path / f"{CITY}.yaml").hash == current_policies().get(CITY).hash
    assert canonical_text(load_text(text, "x")) == text
    # A platform version: export, forget, import → same text, same hash.
    draft = services.draft_from_in_force(scope="tongxiang", user=center, now=NOW)
    services.save_draft(draft, raise_home_owner(load_text(draft.text, "x")), user=center, now=NOW)
    exported = services.export_text(draft.policy_id)
    draft.refresh_from_db()
    digest = draft.content_hash
    PolicyVersion.objects.filter(pk=draft.pk).delete()
    again = services.import_draft(exported, user=center, now=NOW, name="x.yaml")
    assert (again.text, again.content_hash) == (exported, digest)
    assert services.export_text(again.policy_id) == exported
    with pytest.raises(DuplicateVersion) as caught:
        services.import_draft(exported, user=center, now=NOW)
    assert caught.value.field == "id"
    entry = AuditEntry.objects.filter(action="policy.drafted").order_by("-sequence").first()
    assert entry.data["origin"] == "import"


def test_import_refuses_an_invalid_file_as_the_loader_does(center):
    text = services.export_text(CITY).replace(f"id: {CITY}", "id: tongxiang-2026-01-01", 1)
    with pytest.raises(InvalidPolicy) as caught:
        services.import_draft(text.replace("tier: city", "tier: town", 1), user=center, now=NOW)
    assert caught.value.field == "tier"
    with pytest.raises(InvalidPolicy) as caught:
        services.import_draft("id: [", user=center, now=NOW)
    assert caught.value.field.startswith("line ")


def test_draft_policy_set_replaces_the_base_from_the_draft_date(center):
    draft = services.draft_from_in_force(
        scope="tongxiang", user=center, now=NOW, effective_from=EFFECTIVE
    )
    policies = services.draft_policy_set(draft)
    assert policies.select(EFFECTIVE).city.id == draft.policy_id
    assert policies.select(EFFECTIVE - dt.timedelta(days=1)).city.id == CITY
    assert policies.get(CITY).hash == current_policies().get(CITY).hash
    assert current_policies().select(EFFECTIVE).city.id == CITY


def test_current_policies_sees_a_publication_with_one_query_per_call(
    center, approver, django_assert_num_queries
):
    first = current_policies()
    with django_assert_num_queries(1):
        assert current_policies() is first
    version = published(center, approver)
    merged = current_policies()
    assert merged is not first and version.policy_id in merged.by_id
    assert merged.get(CITY).effective_until == EFFECTIVE - dt.timedelta(days=1)
    with django_assert_num_queries(1):
        assert current_policies() is merged
    # Another process (an empty cache) builds the same set from the database.
    current_policies.cache_clear()
    assert [p.hash for p in current_policies().policies] == [p.hash for p in merged.policies]


def test_a_second_version_must_start_after_the_published_one(center, approver):
    published(center, approver)
    with pytest.raises(InvalidPolicy) as caught:
        published(center, approver, effective=dt.date(2025, 6, 20))
    assert caught.value.field == "effective_from"
    later = published(center, approver, effective=dt.date(2025, 9, 1))
    policies = current_policies()
    assert policies.select(dt.date(2025, 8, 31)).city.id == "tongxiang-2025-07-01"
    assert policies.select(dt.date(2025, 9, 1)).city.id == later.policy_id
