"""change_permit_status: the transition table walked in full, history, audit, recompute."""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
import sys
import types

import pytest
from django.db import transaction

from jifen.audit.actors import Actor
from jifen.audit.models import AuditEntry
from jifen.residents.errors import (
    InvalidResidentData,
    PermitEffectiveDateRefused,
    PermitStatusUnchanged,
    PermitTransitionRefused,
)
from jifen.residents.models import (
    PermitChangeSource,
    PermitStatus,
    PermitStatusChange,
    ResidencePermit,
)
from jifen.residents.services import PERMIT_TRANSITIONS, change_permit_status
from tests.factories import NOW, make_resident, make_user

pytestmark = pytest.mark.django_db

V, A, S, C = (
    PermitStatus.VALID,
    PermitStatus.AWAITING_ENDORSEMENT,
    PermitStatus.SUSPENDED,
    PermitStatus.CANCELLED,
)
#: The specification (issue 3 / the brief), written out independently of the code's table.
ALLOWED = {(V, A), (A, V), (V, S), (A, S), (V, C), (A, C), (S, C), (S, V), (C, V)}
RESTORING = {(S, V), (C, V)}
ISSUED = dt.date(2024, 6, 1)
FIRST = dt.date(2025, 1, 10)
SECOND = dt.date(2025, 3, 1)
FEED = Actor.system("feed:public_security_bureau")


@pytest.fixture
def recompute_calls(monkeypatch):
    """Replace jifen.scores.services.request_recompute by a recorder (works before the real
    module exists too)."""
    calls = []

    def fake(resident_ids, *, reason, now):
        calls.append((list(resident_ids), reason, now))

    try:
        module = importlib.import_module("jifen.scores.services")
    except ImportError:
        module = types.ModuleType("jifen.scores.services")
        monkeypatch.setitem(sys.modules, "jifen.scores.services", module)
    monkeypatch.setattr(module, "request_recompute", fake, raising=False)
    return calls


def change(permit, status, effective_on=SECOND, **overrides):
    args = {
        "status": status,
        "effective_on": effective_on,
        "source": PermitChangeSource.FEED,
        "source_ref": "batch-42/row-3",
        "reason": "endorsement overdue",
        "now": NOW,
        "actor": FEED,
    }
    args.update(overrides)
    return change_permit_status(permit, **args)


def permit_in(status):
    """A permit issued on ISSUED and, unless valid, moved to ``status`` on FIRST."""
    permit = make_resident(permit_issued_on=ISSUED).current_permit
    if status != V:
        change(permit, status, FIRST)
    permit.refresh_from_db()
    assert permit.status == status
    return permit


def test_the_table_in_the_code_is_the_specification():
    in_code = {(b, a) for b, targets in PERMIT_TRANSITIONS.items() for a in targets}
    assert in_code == ALLOWED
    assert set(PERMIT_TRANSITIONS) == set(PermitStatus)


@pytest.mark.parametrize(
    ("before", "after"),
    sorted(ALLOWED),
    ids=lambda s: str(s.value) if hasattr(s, "value") else str(s),
)
def test_allowed_transition(before, after, django_capture_on_commit_callbacks, recompute_calls):
    permit = permit_in(before)
    history_before = permit.history.count()
    with django_capture_on_commit_callbacks(execute=True):
        row = change(permit, after)
        assert recompute_calls == []  # not before the commit
    assert recompute_calls == [([permit.resident_id], "permit_status", NOW)]

    # The caller's instance and the row agree.
    assert (permit.status, permit.status_since) == (after, SECOND)
    permit.refresh_from_db()
    assert (permit.status, permit.status_since) == (after, SECOND)

    # One new history row, with everything said.
    assert permit.history.count() == history_before + 1
    assert permit.history.last() == row
    row.refresh_from_db()
    assert (row.status, row.effective_on, row.restored) == (
        after,
        SECOND,
        (before, after) in RESTORING,
    )
    assert (row.source, row.source_ref, row.reason, row.recorded_at) == (
        "feed",
        "batch-42/row-3",
        "endorsement overdue",
        NOW,
    )

    entry = AuditEntry.objects.filter(action="permit.status_changed").latest("sequence")
    assert (entry.object_type, entry.object_id) == ("residents.residencepermit", str(permit.pk))
    assert (entry.actor_kind, entry.actor_id) == ("system", "feed:public_security_bureau")
    assert entry.occurred_at == NOW
    assert entry.data == {
        "resident": str(permit.resident_id),
        "before": before.value,
        "after": after.value,
        "restored": (before, after) in RESTORING,
        "effective_on": "2025-03-01",
        "source": "feed",
        "change": row.pk,
    }
    assert permit.points_lapsed == (after in {S, C})
    assert permit.resident.points_lapsed == (after in {S, C})


FORBIDDEN = sorted(set(itertools.product(PermitStatus, repeat=2)) - ALLOWED)


@pytest.mark.parametrize(
    ("before", "after"), FORBIDDEN, ids=lambda s: s.value if hasattr(s, "value") else str(s)
)
def test_forbidden_transition(before, after, django_capture_on_commit_callbacks, recompute_calls):
    permit = permit_in(before)
    history = list(permit.history.values_list("pk", flat=True))
    audit_count = AuditEntry.objects.count()
    expected = PermitStatusUnchanged if before == after else PermitTransitionRefused
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(expected) as caught,
    ):
        change(permit, after)
    assert caught.value.code == (
        "permits.status_unchanged" if before == after else "permits.transition_refused"
    )
    assert (caught.value.before, caught.value.after) == (before, after)
    assert str(caught.value)  # a readable, translated message
    assert callbacks == [] and recompute_calls == []
    permit.refresh_from_db()
    assert (permit.status, permit.status_since) == (before, FIRST if before != V else ISSUED)
    assert list(permit.history.values_list("pk", flat=True)) == history
    assert AuditEntry.objects.count() == audit_count


def test_the_walk_covers_every_pair():
    assert len(ALLOWED) + len(FORBIDDEN) == len(PermitStatus) ** 2 == 16
    assert len(FORBIDDEN) == 7  # 4 unchanged + awaiting from suspended/cancelled + C→S


def test_lapse_and_restore_sequence_keeps_the_whole_history(recompute_calls):
    clerk = make_user("clerk", town="wutong")
    permit = make_resident(permit_issued_on=ISSUED).current_permit
    change(permit, A, dt.date(2024, 12, 1), reason="endorsement due")
    change(permit, S, dt.date(2025, 1, 2), reason="missed endorsement")
    change(
        permit,
        V,
        dt.date(2025, 2, 3),
        source=PermitChangeSource.STAFF,
        source_ref="window ticket 881",
        reason="endorsed late at the window",
        actor=Actor.for_user(clerk),
    )
    rows = list(permit.history.values_list("status", "effective_on", "restored", "source"))
    assert rows == [
        ("valid", ISSUED, False, "staff"),
        ("awaiting_endorsement", dt.date(2024, 12, 1), False, "feed"),
        ("suspended", dt.date(2025, 1, 2), False, "feed"),
        ("valid", dt.date(2025, 2, 3), True, "staff"),
    ]
    entries = AuditEntry.objects.filter(
        action="permit.status_changed", object_id=str(permit.pk)
    ).order_by("sequence")
    assert [(e.data["before"], e.data["after"]) for e in entries] == [
        ("valid", "awaiting_endorsement"),
        ("awaiting_endorsement", "suspended"),
        ("suspended", "valid"),
    ]
    assert entries.last().actor_id == str(clerk.pk)
    assert entries.last().actor_unit == "wutong"


def test_effective_date_before_the_current_status_is_refused():
    permit = permit_in(S)  # suspended since FIRST
    with pytest.raises(PermitEffectiveDateRefused) as caught:
        change(permit, V, FIRST - dt.timedelta(days=1))
    assert (caught.value.code, caught.value.reason, caught.value.field) == (
        "permits.effective_date_refused",
        "before_status_since",
        "effective_on",
    )
    permit.refresh_from_db()
    assert permit.status == S
    # The same day as the current status is fine (a same-day correction).
    assert change(permit, V, FIRST).restored


def test_effective_date_before_issue_is_refused():
    permit = permit_in(V)
    with pytest.raises(PermitEffectiveDateRefused):
        change(permit, S, ISSUED - dt.timedelta(days=1))


def test_effective_date_after_today_is_refused():
    permit = permit_in(V)
    with pytest.raises(PermitEffectiveDateRefused) as caught:
        change(permit, S, dt.date(2025, 6, 3))
    assert caught.value.reason == "future"
    assert change(permit, S, dt.date(2025, 6, 2)).status == S


def test_the_locked_row_decides_not_a_stale_instance():
    permit = permit_in(V)
    stale = ResidencePermit.objects.get(pk=permit.pk)
    change(permit, S)
    assert stale.status == V
    with pytest.raises(PermitStatusUnchanged):
        change(stale, S)
    assert PermitStatusChange.objects.filter(permit=permit, status=S).count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"source": "rumour"}, "source"),
        ({"reason": "x" * 201}, "reason"),
        ({"source_ref": "x" * 121}, "source_ref"),
    ],
)
def test_bad_arguments_are_refused(overrides, field):
    permit = permit_in(V)
    with pytest.raises(InvalidResidentData) as caught:
        change(permit, overrides.pop("status", S), **overrides)
    assert caught.value.field == field
    assert permit.history.count() == 1


def test_recompute_is_not_requested_when_the_transaction_rolls_back(
    django_capture_on_commit_callbacks, recompute_calls
):
    permit = permit_in(V)

    class Abort(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Abort),
        transaction.atomic(),
    ):
        change(permit, S)
        raise Abort
    assert callbacks == []
    assert recompute_calls == []
    permit.refresh_from_db()
    assert permit.status == V
    assert not AuditEntry.objects.filter(action="permit.status_changed").exists()


def test_recompute_waits_for_the_outer_transaction(
    django_capture_on_commit_callbacks, recompute_calls
):
    permit = permit_in(V)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            change(permit, S)
            assert recompute_calls == []
        assert recompute_calls == []
    assert recompute_calls == [([permit.resident_id], "permit_status", NOW)]
