"""record(): the entry it writes, the chain it extends, and every way it refuses."""

from __future__ import annotations

import datetime as dt
import itertools
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.test import RequestFactory

from jifen.audit import chain, services
from jifen.audit.actors import Actor
from jifen.audit.choices import ActorKind, Result
from jifen.audit.errors import AuditWriteError, InvalidAuditEntry, MissingActor
from jifen.audit.hashing import GENESIS_HASH, compute_entry_hash
from jifen.audit.models import AuditEntry
from jifen.audit.services import record

User = get_user_model()

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 3, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
FEED = Actor.system("feed:public_security")


def test_record_writes_an_entry_with_every_field():
    clerk = SimpleNamespace(pk=42, is_authenticated=True, unit_code="wutong")
    request = RequestFactory().post(
        "/claims/9001/request-materials",
        REMOTE_ADDR="2001:DB8:0:0:0:0:0:1",
        HTTP_X_REQUEST_ID="req-7f3a",
    )
    shanghai = dt.datetime(2025, 3, 1, 10, 3, 4, 5, tzinfo=ZoneInfo("Asia/Shanghai"))

    entry = record(
        "claim.materials_requested",
        actor=Actor.for_user(clerk),
        object_type="claims.claim",
        object_id=9001,
        result=Result.SUCCESS,
        data={"missing": ["labour_contract"], "deadline_working_days": 5},
        occurred_at=shanghai,
        request=request,
    )

    stored = AuditEntry.objects.get()
    assert stored.pk == entry.pk
    assert stored.sequence == 1
    assert stored.occurred_at == T0
    assert stored.occurred_at.utcoffset() == dt.timedelta(0)
    assert stored.occurred_at_local().isoformat() == "2025-03-01T10:03:04.000005+08:00"
    assert stored.action == "claim.materials_requested"
    assert (stored.actor_kind, stored.actor_id, stored.actor_unit) == ("user", "42", "wutong")
    assert (stored.object_type, stored.object_id) == ("claims.claim", "9001")
    assert stored.result == "success"
    assert stored.source_address == "2001:db8::1"
    assert stored.request_id == "req-7f3a"
    assert stored.data == {"missing": ["labour_contract"], "deadline_working_days": 5}
    assert stored.previous_hash == GENESIS_HASH
    assert stored.entry_hash == compute_entry_hash(stored) == entry.entry_hash
    assert len(stored.entry_hash) == 64


def test_entries_are_chained_with_gap_free_sequences(write_entries):
    entries = write_entries(5)
    stored = list(AuditEntry.objects.order_by("sequence"))
    assert [e.sequence for e in stored] == [1, 2, 3, 4, 5]
    assert stored[0].previous_hash == GENESIS_HASH
    for before, after in itertools.pairwise(stored):
        assert after.previous_hash == before.entry_hash
    assert [e.entry_hash for e in entries] == [e.entry_hash for e in stored]
    assert chain.chain_head() == (5, stored[-1].entry_hash)


def test_a_model_instance_is_referenced_by_label_and_primary_key():
    user = User.objects.create_user(username="clerk-wutong", role="center")
    entry = record("account.created", actor=FEED, obj=user, occurred_at=T0)
    assert (entry.object_type, entry.object_id) == ("accounts.user", str(user.pk))


def test_an_ipv4_mapped_address_is_stored_as_ipv4_and_still_verifies():
    entry = record("auth.login", actor=FEED, occurred_at=T0, source_address="::ffff:10.1.2.3")
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.source_address == "10.1.2.3"
    assert compute_entry_hash(stored) == stored.entry_hash


def test_a_malformed_request_id_header_is_dropped():
    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="evil\nheader", REMOTE_ADDR="10.0.0.9")
    entry = record("resident.viewed", actor=FEED, occurred_at=T0, request=request)
    assert (entry.request_id, entry.source_address) == ("", "10.0.0.9")


def test_a_request_id_set_by_middleware_wins_over_the_header():
    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="from-proxy")
    request.request_id = "from-middleware"
    entry = record("resident.viewed", actor=FEED, occurred_at=T0, request=request)
    assert entry.request_id == "from-middleware"


# --- actors --------------------------------------------------------------------------------


def test_system_actors_are_named():
    actor = Actor.system("job:recompute")
    assert (actor.kind, actor.id, actor.unit) == (ActorKind.SYSTEM, "job:recompute", "")


def test_a_user_without_a_unit_has_an_empty_unit():
    assert Actor.for_user(SimpleNamespace(pk=7)).unit == ""


@pytest.mark.parametrize(
    "make_actor",
    [
        lambda: Actor.for_user(AnonymousUser()),
        lambda: Actor.for_user(None),
        lambda: Actor.for_user(SimpleNamespace(pk=None, is_authenticated=True)),
        lambda: Actor.system("nobody"),
        lambda: Actor.system("recompute"),  # not namespaced: which job?
        lambda: Actor.system(""),
        lambda: Actor(ActorKind.USER, "  "),
        lambda: Actor(ActorKind.USER, "nobody"),
        lambda: Actor("robot", "job:x"),
    ],
    ids=[
        "anonymous",
        "none-user",
        "unsaved-user",
        "nobody",
        "unnamespaced",
        "empty",
        "blank-user",
        "nobody-user",
        "bad-kind",
    ],
)
def test_an_actor_must_name_someone(make_actor):
    with pytest.raises(MissingActor):
        make_actor()


def test_recording_without_an_actor_is_refused():
    with pytest.raises(MissingActor):
        record("auth.login", actor=None, occurred_at=T0)
    with pytest.raises(MissingActor):
        record("auth.login", actor=User(pk=1), occurred_at=T0)  # a user is not an Actor
    assert not AuditEntry.objects.exists()


# --- invalid entries -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "action",
    [
        "login",
        "Claim.approved",
        "claim.",
        ".claim",
        "claim..x",
        "claim.approved\n",
        "claim-x.y",
        "",
    ],
)
def test_an_invalid_action_code_is_refused_and_nothing_is_written(action):
    with pytest.raises(InvalidAuditEntry) as raised:
        record(action, actor=FEED, occurred_at=T0)
    assert "action" in raised.value.errors
    assert raised.value.code == "audit.invalid_entry"
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"occurred_at": dt.datetime(2025, 3, 1, 10, 0)}, "occurred_at"),
        ({"occurred_at": dt.date(2025, 3, 1)}, "occurred_at"),
        ({"data": {"points": 1.5}}, "data"),
        ({"data": {"when": dt.date(2025, 3, 1)}}, "data"),
        ({"result": "maybe"}, "result"),
        ({"source_address": "300.1.1.1"}, "source_address"),
        ({"object_id": "x" * 101}, "object_id"),
        ({"object_type": "a\x00b"}, "object_type"),
    ],
    ids=lambda value: value if isinstance(value, str) else next(iter(value)),
)
def test_an_invalid_field_is_refused_and_nothing_is_written(kwargs, field):
    arguments = {"actor": FEED, "occurred_at": T0, **kwargs}
    with pytest.raises(InvalidAuditEntry) as raised:
        record("claim.approved", **arguments)
    assert field in raised.value.errors
    assert not AuditEntry.objects.exists()


def test_obj_and_an_explicit_object_reference_are_exclusive():
    user = User.objects.create_user(username="u1", role="center")
    with pytest.raises(InvalidAuditEntry, match="not both"):
        record("account.created", actor=FEED, obj=user, object_id="1", occurred_at=T0)
    with pytest.raises(InvalidAuditEntry, match="saved"):
        record(
            "account.created", actor=FEED, obj=User(username="u2", role="center"), occurred_at=T0
        )


# --- failure fails the caller --------------------------------------------------------------


def test_an_invalid_entry_rolls_back_the_callers_change():
    with pytest.raises(InvalidAuditEntry), transaction.atomic():
        User.objects.create_user(username="clerk", role="center")
        record("not a code", actor=FEED, occurred_at=T0)
    assert not User.objects.filter(username="clerk").exists()
    assert not AuditEntry.objects.exists()


def test_a_database_failure_of_the_audit_write_rolls_back_the_callers_change(
    write_entries, monkeypatch
):
    write_entries(2)
    # A stale head makes the insert collide with entry #1 (unique sequence).
    monkeypatch.setattr(chain, "chain_head", lambda using: (0, GENESIS_HASH))
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(username="clerk", role="center")
        record("account.created", actor=FEED, occurred_at=T0)
    assert not User.objects.filter(username="clerk").exists()
    assert AuditEntry.objects.count() == 2


def test_an_entry_that_does_not_verify_after_storing_is_not_kept(monkeypatch):
    real = services.compute_entry_hash
    calls = iter([real, lambda entry: "0" * 64])  # seal correctly, then "read back" wrong
    monkeypatch.setattr(services, "compute_entry_hash", lambda entry: next(calls)(entry))
    with pytest.raises(AuditWriteError), transaction.atomic():
        User.objects.create_user(username="clerk", role="center")
        record("account.created", actor=FEED, occurred_at=T0)
    assert not User.objects.filter(username="clerk").exists()
    assert not AuditEntry.objects.exists()
