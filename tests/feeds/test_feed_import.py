"""Importing feed batches: outcomes, idempotency, superseding, interruption, the report."""

from __future__ import annotations

import json

import pytest
from django.db.models import Q

from jifen.audit.models import AuditEntry
from jifen.facts import services as fact_services
from jifen.facts.models import Fact, FactKind, FactSource
from jifen.feeds import applying
from jifen.feeds.errors import FeedNotOwned, UnknownFeed
from jifen.feeds.importer import import_feed
from jifen.feeds.models import BatchStatus, FeedBatch
from jifen.org.models import Department
from jifen.residents.models import Resident

HEADER = "identity_number,record_id,rule,level,quantity,date"


@pytest.fixture
def people(resident_factory):
    return [resident_factory() for _ in range(3)]


def hrss_file(people, csv_text, months: int = 24) -> str:
    a, b, c = (p.identity_number for p in people)
    return csv_text(
        HEADER,
        [a, "PEN-1", "pension_insurance.months", "", str(months), ""],
        [a, "SK-1", "skills", "vocational_level_3", "", "2021-06-30"],
        [b, "SI-1", "social_insurance_months", "", "48", ""],
        [b, "TC-1", "talent.talent_code", "B", "", ""],
        [c, "CT-1", "honours.skill_contest", "city", "", "2024-05-01"],
    )


def test_good_rows_become_facts_with_their_source(run_import, people, csv_text, now):
    batch = run_import("hrss", hrss_file(people, csv_text), file_name="hrss-2025-06.csv")

    assert batch.status == BatchStatus.APPLIED
    assert (batch.rows, batch.accepted, batch.unchanged, batch.superseded, batch.rejected) == (
        5, 5, 0, 0, 0,
    )  # fmt: skip
    assert batch.encoding == "utf-8" and batch.format == "csv"
    assert batch.department.code == "hrss_bureau"
    assert batch.actor == "feed:hrss"
    facts = {f.key: f for f in Fact.objects.filter(resident=people[0])}
    pension = facts["hrss:PEN-1"]
    assert (pension.kind, pension.code, pension.quantity) == (
        FactKind.CITY, "pension_insurance.months", 24,
    )  # fmt: skip
    assert pension.source == FactSource.FEED and pension.batch == batch
    assert pension.source_ref == "hrss:PEN-1" and pension.recorded_at == now
    assert pension.department.code == "hrss_bureau"
    skill = facts["skills:vocational_level_3"]
    assert (skill.kind, skill.code, skill.level) == (
        FactKind.PROVINCIAL,
        "skills",
        "vocational_level_3",
    )
    # The provincial field is the provincial department's (routing table: skills → zj_hrss
    # only); the municipal bureau forwards it.
    assert skill.department.code == "zj_hrss"
    insurance = Fact.objects.get(resident=people[1], key="social_insurance_months")
    assert insurance.quantity == 48 and insurance.code == "social_insurance_months"
    assert [e["outcome"] for e in batch.report] == ["accepted"] * 5
    assert [e["row"] for e in batch.report] == [1, 2, 3, 4, 5]


def test_same_file_twice_changes_nothing_and_returns_the_same_batch(
    run_import, people, csv_text, recompute_calls, django_capture_on_commit_callbacks
):
    content = hrss_file(people, csv_text)
    with django_capture_on_commit_callbacks(execute=True):
        first = run_import("hrss", content)
    facts_before = list(Fact.objects.order_by("pk").values())
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = run_import("hrss", content, file_name="renamed.csv")

    assert second.pk == first.pk
    assert second.file_name == "batch.csv"
    assert FeedBatch.objects.count() == 1
    assert list(Fact.objects.order_by("pk").values()) == facts_before
    assert AuditEntry.objects.filter(action="feed.batch_imported").count() == 1
    assert callbacks == [] and len(recompute_calls) == 1


def test_replay_is_reported_as_such(run_import, people, csv_text, now):
    content = hrss_file(people, csv_text).encode()
    from jifen.audit.actors import Actor

    kwargs = {"file_name": "a.csv", "now": now, "actor": Actor.system("feed:hrss")}
    assert import_feed("hrss", content, **kwargs).replayed is False
    assert import_feed("hrss", content, **kwargs).replayed is True


def test_a_new_value_for_a_record_supersedes_the_old_fact_and_history_stays(
    run_import, people, csv_text, now
):
    first = run_import("hrss", hrss_file(people, csv_text, months=24))
    later = now.replace(day=3)
    second = run_import("hrss", hrss_file(people, csv_text, months=30), now=later)

    assert (second.accepted, second.unchanged, second.superseded, second.rejected) == (0, 4, 1, 0)
    history = list(
        Fact.objects.filter(resident=people[0], key="hrss:PEN-1").order_by("recorded_at")
    )
    assert [h.quantity for h in history] == [24, 30]
    old, new = history
    assert old.superseded_at == later and old.superseded_by == new and old.batch == first
    assert new.superseded_at is None and new.batch == second
    assert list(Fact.objects.current().filter(resident=people[0], key="hrss:PEN-1")) == [new]
    assert list(new.supersedes.all()) == [old]
    outcome = {e["record_id"]: e["outcome"] for e in second.report}
    assert outcome == {
        "PEN-1": "superseded",
        "SK-1": "unchanged",
        "SI-1": "unchanged",
        "TC-1": "unchanged",
        "CT-1": "unchanged",
    }


def test_recompute_is_requested_after_commit_for_changed_residents_only(
    run_import, people, csv_text, recompute_calls, django_capture_on_commit_callbacks, now
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run_import("hrss", hrss_file(people, csv_text))
    assert recompute_calls == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert recompute_calls == [(sorted((p.pk for p in people), key=str), now)]

    recompute_calls.clear()
    with django_capture_on_commit_callbacks(execute=True):
        run_import("hrss", hrss_file(people, csv_text, months=30))
    assert recompute_calls == [([people[0].pk], now)]


def test_an_interrupted_import_leaves_nothing_behind(
    run_import, people, csv_text, monkeypatch, recompute_calls, django_capture_on_commit_callbacks
):
    """Rows are written two at a time here; writing row 3 fails after rows 1-2 were written."""
    monkeypatch.setattr(applying, "FACT_CHUNK", 2)
    real = fact_services.apply_facts
    written = []

    def fail_at_row_three(facts, **kwargs):
        if written and len(written) + len(facts) >= 3:
            raise RuntimeError("disk full")
        outcomes = real(facts, **kwargs)
        written.extend(f.key for f in facts)
        return outcomes

    monkeypatch.setattr(fact_services, "apply_facts", fail_at_row_three)
    content = hrss_file(people, csv_text)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        run_import("hrss", content)

    assert written == ["hrss:PEN-1", "skills:vocational_level_3"]  # rows 1-2 were written ...
    assert Fact.objects.count() == 0  # ... and rolled back with the rest
    assert FeedBatch.objects.count() == 0
    assert not AuditEntry.objects.filter(action__startswith="feed.").exists()
    assert recompute_calls == []

    monkeypatch.setattr(fact_services, "apply_facts", real)
    batch = run_import("hrss", content)
    assert batch.accepted == 5 and Fact.objects.count() == 5


def test_an_interrupted_registration_leaves_nothing_behind(run_import, monkeypatch):
    """A fault while registering (not a refusal) aborts the batch, registrations included."""
    from jifen.residents import services as resident_services
    from tests.factories import new_identity_number

    numbers = [new_identity_number() for _ in range(3)]
    real = resident_services.register_resident
    calls = []

    def fail_on_third(**kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise ConnectionError("database went away")
        return real(**kwargs)

    monkeypatch.setattr(resident_services, "register_resident", fail_on_third)
    content = "identity_number,record_id,rule,date,name,town\n" + "".join(
        f"{n},R-{i},residence_registered_on,2019-03-15,王伟,wutong\n" for i, n in enumerate(numbers)
    )
    with pytest.raises(ConnectionError):
        run_import("public_security", content)
    assert len(calls) == 3
    assert Resident.objects.count() == 0 and Fact.objects.count() == 0
    assert not AuditEntry.objects.filter(action="resident.registered").exists()


def test_the_batch_is_audited_by_the_feed_actor(run_import, people, csv_text, now):
    batch = run_import("hrss", hrss_file(people, csv_text), file_name="hrss.csv")
    entry = AuditEntry.objects.get(action="feed.batch_imported")
    assert (entry.actor_kind, entry.actor_id, entry.actor_unit) == (
        "system",
        "feed:hrss",
        "hrss_bureau",
    )
    assert (entry.object_type, entry.object_id) == ("feeds.feedbatch", str(batch.pk))
    assert entry.occurred_at == now
    assert entry.data["accepted"] == 5 and entry.data["rejected"] == 0
    assert entry.data["checksum"] == batch.checksum and entry.data["file_name"] == "hrss.csv"


def test_no_identity_number_in_clear_in_report_or_audit(run_import, people, csv_text):
    content = hrss_file(people, csv_text) + "110101199003074514,X-1,nonsense.rule,,,\n"
    batch = run_import("hrss", content)
    stored = json.dumps(batch.report, ensure_ascii=False) + json.dumps(
        [e.data for e in AuditEntry.objects.all()], ensure_ascii=False
    )
    for number in [p.identity_number for p in people] + ["110101199003074514"]:
        assert number not in stored
        assert number[6:14] not in stored  # not even the birth date part
    assert (
        batch.report[0]["identity"]
        == people[0].identity_number[:3] + "*" * 13 + (people[0].identity_number[-2:])
    )


def test_csv_and_json_of_the_same_rows_give_the_same_facts(run_import, people, csv_text):
    a, b, c = (p.identity_number for p in people)
    csv_batch = run_import("hrss", hrss_file(people, csv_text))
    facts = list(
        Fact.objects.order_by("pk").values("resident", "key", "code", "level", "quantity", "date")
    )

    def row(identity: str, record: str, rule: str, **values) -> dict:
        return {"identity_number": identity, "record_id": record, "rule": rule, **values}

    rows = [
        row(a, "PEN-1", "pension_insurance.months", quantity=24),
        row(a, "SK-1", "skills", level="vocational_level_3", date="2021-06-30"),
        row(b, "SI-1", "social_insurance_months", quantity="48"),
        row(b, "TC-1", "talent.talent_code", level="B", quantity=None),
        row(c, "CT-1", "honours.skill_contest", level="city", date="2024-05-01"),
    ]
    json_batch = run_import("hrss", json.dumps(rows), file_name="hrss.json")

    assert json_batch.pk != csv_batch.pk and json_batch.format == "json"
    assert (json_batch.accepted, json_batch.unchanged, json_batch.superseded) == (0, 5, 0)
    assert (
        list(
            Fact.objects.order_by("pk").values(
                "resident", "key", "code", "level", "quantity", "date"
            )
        )
        == facts
    )


def test_the_sending_department_must_be_the_feeds(run_import, people, csv_text):
    court = Department.objects.get(code="court")
    with pytest.raises(FeedNotOwned):
        run_import("hrss", hrss_file(people, csv_text), department=court)
    assert FeedBatch.objects.count() == 0
    batch = run_import(
        "hrss", hrss_file(people, csv_text), department=Department.objects.get(code="hrss_bureau")
    )
    assert batch.accepted == 5


def test_unknown_feed(run_import):
    with pytest.raises(UnknownFeed):
        run_import("weather", "identity_number,record_id,rule\n")


def test_deductions_keep_act_and_until(run_import, people, csv_text):
    a, b, _ = (p.identity_number for p in people)
    batch = run_import(
        "court",
        csv_text(
            "identity_number,record_id,rule,date,until,act",
            [a, "J-1", "dishonest_debtor", "2024-01-10", "2025-01-09", ""],
            [b, "J-2", "crime_other", "2023-03-01", "", "CASE-7"],
            [b, "J-3", "usury", "2023-03-01", "", "CASE-7"],
        ),
    )
    assert batch.accepted == 3
    listing = Fact.objects.get(key="court:J-1")
    assert (listing.kind, listing.code, str(listing.date), str(listing.until)) == (
        FactKind.DEDUCTION, "dishonest_debtor", "2024-01-10", "2025-01-09",
    )  # fmt: skip
    assert set(
        Fact.objects.filter(Q(key="court:J-2") | Q(key="court:J-3")).values_list("act", flat=True)
    ) == {"CASE-7"}
