"""The review transition table, walked: every step from every state, allowed or refused."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from jifen.claims import services
from jifen.claims.errors import (
    AlreadyExtended,
    InvalidClaim,
    MaterialsAlreadyRequested,
    TransitionNotAllowed,
)
from jifen.claims.models import MaterialsNotice, ReviewState, ReviewTask
from tests.claims.conftest import NOW, actions, last_entry

S = ReviewState
#: state → {step: resulting state}; every step not listed is refused.
TABLE = {
    S.SUBMITTED: {
        "accept": S.ACCEPTED,
        "request_materials": S.MATERIALS_REQUESTED,
        "refuse": S.REJECTED,
        "withdraw": S.WITHDRAWN,
    },
    S.ACCEPTED: {
        "request_materials": S.MATERIALS_REQUESTED,
        "extend": S.ACCEPTED,
        "decide": S.APPROVED,
        "withdraw": S.WITHDRAWN,
    },
    S.MATERIALS_REQUESTED: {"supplement": S.SUBMITTED, "withdraw": S.WITHDRAWN},
    S.APPROVED: {},
    S.REJECTED: {},
    S.WITHDRAWN: {},
}
STEPS = ["accept", "request_materials", "supplement", "extend", "decide", "refuse", "withdraw"]
AUDIT = {
    "accept": "claim.accepted",
    "request_materials": "claim.materials_requested",
    "supplement": "claim.supplemented",
    "extend": "claim.extended",
    "decide": "claim.decided",
    "refuse": "claim.refused",
    "withdraw": "claim.withdrawn",
}


def run(step, task, reviewer, resident_user):
    task = ReviewTask.objects.get(pk=task.pk)
    if step == "accept":
        services.accept(task, user=reviewer, now=NOW)
    elif step == "request_materials":
        services.request_materials(task, user=reviewer, items=["ID copy", "award"], now=NOW)
    elif step == "supplement":
        services.supplement(task, user=resident_user, note="added the copy", now=NOW)
    elif step == "extend":
        services.extend(task, user=reviewer, reason="waiting for the city's records", now=NOW)
    elif step == "decide":
        item = task.items.get()
        services.decide(
            task, user=reviewer, decisions=[services.ItemDecision(item, "approved")], now=NOW
        )
    elif step == "refuse":
        services.refuse(task, user=reviewer, reason="not in our remit", now=NOW)
    elif step == "withdraw":
        services.withdraw(task.claim, user=resident_user, reason="no longer needed", now=NOW)


CASES = [(state, step) for state in TABLE for step in STEPS]


@pytest.mark.django_db
@pytest.mark.parametrize(("state", "step"), CASES, ids=[f"{s}-{t}" for s, t in CASES])
def test_every_step_from_every_state(state, step, task_in, town_reviewer, resident_user):
    task = task_in(state)
    assert ReviewTask.objects.get(pk=task.pk).state == state
    expected = TABLE[state].get(step)
    if expected is None:
        count = len(actions())
        with pytest.raises(TransitionNotAllowed) as caught:
            run(step, task, town_reviewer, resident_user)
        assert caught.value.code.startswith("claims.")
        assert ReviewTask.objects.get(pk=task.pk).state == state
        assert len(actions()) == count  # nothing audited
    else:
        run(step, task, town_reviewer, resident_user)
        task = ReviewTask.objects.get(pk=task.pk)
        assert task.state == expected
        entry = last_entry(AUDIT[step])
        assert entry is not None
        if step != "withdraw":
            assert entry.object_id == str(task.pk)
            assert entry.data["before"] == state
            assert entry.data["after"] == expected
            assert entry.data["department"] == "town"
        else:
            assert entry.data["after"] == "withdrawn"


@pytest.mark.django_db
def test_second_materials_notice_refused(task_in, town_reviewer, resident_user):
    task = task_in(S.MATERIALS_REQUESTED)
    with pytest.raises(MaterialsAlreadyRequested) as caught:
        services.request_materials(task, user=town_reviewer, items=["more"], now=NOW)
    assert caught.value.code == "claims.materials_already_requested"
    # supplemented and back for acceptance: still only one notice, ever
    services.supplement(task, user=resident_user, note="here", now=NOW)
    services.accept(task, user=town_reviewer, now=NOW)
    with pytest.raises(MaterialsAlreadyRequested):
        services.request_materials(task, user=town_reviewer, items=["more"], now=NOW)
    assert MaterialsNotice.objects.filter(task=task).count() == 1
    assert actions(task).count("claim.materials_requested") == 1


@pytest.mark.django_db
def test_the_database_refuses_a_second_notice(task_in, town_reviewer):
    task = task_in(S.MATERIALS_REQUESTED)
    with pytest.raises(IntegrityError), transaction.atomic():
        MaterialsNotice.objects.create(
            task=task, items=["x"], issued_by=town_reviewer, issued_at=NOW
        )


@pytest.mark.django_db
def test_materials_notice_needs_items(task_in, town_reviewer):
    task = task_in(S.ACCEPTED)
    for items in ([], ["", "  "], "a string"):
        with pytest.raises(InvalidClaim) as caught:
            services.request_materials(task, user=town_reviewer, items=items, now=NOW)
        assert caught.value.field == "items"
    assert ReviewTask.objects.get(pk=task.pk).state == S.ACCEPTED


@pytest.mark.django_db
def test_extension_once_with_a_reason(task_in, town_reviewer):
    task = task_in(S.ACCEPTED)
    with pytest.raises(InvalidClaim) as caught:
        services.extend(task, user=town_reviewer, reason="  ", now=NOW)
    assert caught.value.field == "reason"
    services.extend(task, user=town_reviewer, reason="records pending", now=NOW)
    with pytest.raises(AlreadyExtended) as caught:
        services.extend(task, user=town_reviewer, reason="again", now=NOW)
    assert caught.value.code == "claims.already_extended"
    assert actions(task).count("claim.extended") == 1


@pytest.mark.django_db
def test_state_cannot_be_assigned_directly(task_in):
    task = task_in(S.SUBMITTED)
    with pytest.raises(AttributeError):
        task.state = S.APPROVED


@pytest.mark.django_db
def test_only_the_department_or_center_reviews(task_in, social_reviewer, center, resident_user):
    from jifen.claims.errors import NotAllowed

    task = task_in(S.SUBMITTED)
    for user in (social_reviewer, resident_user):
        with pytest.raises(NotAllowed):
            services.accept(task, user=user, now=NOW)
    services.accept(task, user=center, now=NOW)
    assert ReviewTask.objects.get(pk=task.pk).state == S.ACCEPTED
