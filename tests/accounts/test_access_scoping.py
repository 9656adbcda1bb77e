"""jifen.accounts.access: the one place where personal data is scoped, role by role."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser

from jifen.accounts import access
from jifen.facts.models import FactKind
from tests.accounts.world import fact

pytestmark = pytest.mark.django_db


def names(qs) -> set[str]:
    return {r.name for r in qs}


def test_residents_for_each_role(world):
    w = world
    assert names(access.residents_for(w.alice_user)) == {"王小丽"}
    assert names(access.residents_for(w.bob_user)) == {"李大山"}
    assert names(access.residents_for(w.clerk_wutong)) == {"王小丽", "赵晓燕"}
    assert names(access.residents_for(w.clerk_puyuan)) == {"李大山"}
    # Reviewers: residents their department holds a fact about.
    assert names(access.residents_for(w.reviewer_psb)) == {"王小丽"}
    assert names(access.residents_for(w.reviewer_health)) == {"王小丽"}
    assert names(access.residents_for(w.reviewer_court)) == {"李大山"}
    assert names(access.residents_for(w.center)) == {"王小丽", "李大山", "赵晓燕"}
    for user in (w.auditor, w.system_admin, w.security_admin, AnonymousUser()):
        assert not access.residents_for(user).exists()


def test_search_scope_is_the_view_scope(world):
    for user in world.users.values():
        assert set(access.residents_for(user, "search")) == set(access.residents_for(user))
    with pytest.raises(ValueError, match="unknown action"):
        access.residents_for(world.center, "export")


def test_a_disabled_user_sees_nothing(world):
    world.center.is_active = False
    assert not access.residents_for(world.center).exists()


def test_superseded_facts_keep_a_reviewer_in_scope(world):
    carol = world.carol
    health = world.departments["health_commission"]
    fact(
        carol,
        health,
        kind=FactKind.CITY,
        code="charity.blood_donation",
        key="h:1",
        date=dt.date(2024, 1, 1),
    )
    fact(
        carol,
        world.departments["zj_education"],
        kind=FactKind.CITY,
        code="charity.blood_donation",
        key="h:1",
        date=dt.date(2024, 2, 1),
    )
    # carol's only health fact is now superseded (by an education-department fact): still in.
    assert carol in access.residents_for(world.reviewer_health)


def test_facts_for_is_field_level(world):
    w = world
    kinds = lambda user: {(f.kind, f.department.code) for f in access.facts_for(user, w.alice)}  # noqa: E731
    assert kinds(w.alice_user) == kinds(w.center)
    assert (FactKind.DEDUCTION, "public_security_bureau") in kinds(w.center)
    # The clerk sees no deduction (criminal and credit details).
    assert all(kind != FactKind.DEDUCTION for kind, _ in kinds(w.clerk_wutong))
    assert len(kinds(w.clerk_wutong)) == 3
    # A reviewer sees only the facts of their department (its deductions included).
    assert {d for _, d in kinds(w.reviewer_psb)} == {"public_security_bureau"}
    assert (FactKind.DEDUCTION, "public_security_bureau") in kinds(w.reviewer_psb)
    assert {d for _, d in kinds(w.reviewer_health)} == {"health_commission"}
    assert kinds(w.reviewer_court) == set()
    assert kinds(w.clerk_puyuan) == set()
    assert kinds(w.bob_user) == set()
    assert kinds(w.auditor) == set()


def test_scores_and_permits_follow_the_resident_scope(world):
    w = world
    assert set(access.scores_for(w.alice_user)) == {w.scores["alice"]}
    assert set(access.scores_for(w.clerk_puyuan)) == {w.scores["bob"]}
    assert set(access.scores_for(w.center)) == set(w.scores.values())
    assert not access.scores_for(w.auditor).exists()
    assert {p.resident_id for p in access.permits_for(w.clerk_wutong)} == {
        w.alice.pk,
        w.carol.pk,
    }
    assert not access.permits_for(w.security_admin).exists()


def test_batches_for(world):
    w = world
    assert set(access.batches_for(w.center)) == set(w.batches.values())
    assert set(access.batches_for(w.reviewer_court)) == {w.batches["court"]}
    for user in (w.clerk_wutong, w.alice_user, w.auditor, w.system_admin):
        assert not access.batches_for(user).exists()


def test_identity_reveal_rule(world):
    w = world
    assert access.can_reveal_identity(w.clerk_wutong, w.alice)
    assert not access.can_reveal_identity(w.clerk_puyuan, w.alice)
    assert access.can_reveal_identity(w.center, w.alice)
    assert not access.can_reveal_identity(w.reviewer_psb, w.alice)
    assert not access.can_reveal_identity(w.alice_user, w.alice)


def deduction_reasons(result) -> list[str]:
    return [line["reason_zh"] for line in result["explanation"] if line["section"] == "deduction"]


def test_deduction_details_are_withheld_from_who_may_not_read_them(world):
    w = world
    score = w.scores["alice"]
    full = deduction_reasons(access.visible_result(w.center, score))
    assert any("行政拘留" in r for r in full)
    assert deduction_reasons(access.visible_result(w.alice_user, score)) == full
    assert deduction_reasons(access.visible_result(w.reviewer_psb, score)) == full
    for user in (w.clerk_wutong, w.reviewer_health):
        result = access.visible_result(user, score)
        reasons = deduction_reasons(result)
        assert not any("行政拘留" in r for r in reasons)
        assert "扣分明细" in reasons[-1]
        assert result["deductions"]["acts"] == []
        assert result["deductions"]["total"] == "20.00"  # the total is part of the score
    # The stored score itself is untouched.
    assert any("行政拘留" in r for r in deduction_reasons(score.result))
