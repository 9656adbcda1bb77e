"""apply_facts: the same outcomes and rows as apply_fact, one fact at a time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jifen.facts import services
from jifen.facts.errors import InvalidFact
from jifen.facts.models import Fact, FactKind, FactSource
from jifen.facts.services import NewFact, apply_fact, apply_facts
from jifen.org.models import Department

CHINA = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2025, 6, 2, 9, 0, tzinfo=CHINA)
KEYS = ["hrss:A", "hrss:B", "hrss:C"]


@pytest.fixture
def two_residents(db):
    from tests.factories import make_resident

    return [make_resident(), make_resident()]


def snapshot() -> list[tuple]:
    """The fact store without ids: (resident, key, value, recorded, superseded, successor)."""
    by_pk = {f.pk: f for f in Fact.objects.all()}
    return sorted(
        (
            str(f.resident_id),
            f.key,
            f.quantity,
            f.recorded_at,
            f.superseded_at,
            None if f.superseded_by_id is None else by_pk[f.superseded_by_id].quantity,
        )
        for f in by_pk.values()
    )


# Rounds of (resident index, key index, quantity) writes; within a round keys are distinct.
rounds = st.lists(
    st.dictionaries(st.tuples(st.integers(0, 1), st.integers(0, 2)), st.integers(0, 3), min_size=1),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rounds=rounds)
def test_bulk_gives_the_outcomes_and_history_of_one_by_one(two_residents, rounds):
    hrss = Department.objects.get(code="hrss_bureau")
    results = {}
    for mode in ("single", "bulk"):
        # Each mode in a savepoint rolled back afterwards: facts cannot be deleted (PROTECT).
        with transaction.atomic():
            outcomes = []
            for i, writes in enumerate(rounds):
                now = T0 + dt.timedelta(days=i)
                facts = [
                    NewFact(
                        resident=two_residents[r],
                        kind=FactKind.CITY,
                        code="pension_insurance.months",
                        key=KEYS[k],
                        department=hrss,
                        source=FactSource.FEED,
                        quantity=q,
                    )
                    for (r, k), q in sorted(writes.items())
                ]
                if mode == "bulk":
                    outcomes += apply_facts(facts, now=now)
                else:
                    outcomes += [
                        apply_fact(
                            f.resident,
                            kind=f.kind,
                            code=f.code,
                            key=f.key,
                            quantity=f.quantity,
                            department=f.department,
                            source=f.source,
                            now=now,
                        )
                        for f in facts
                    ]
            results[mode] = (outcomes, snapshot())
            transaction.set_rollback(True)
    assert results["bulk"] == results["single"]


def new_fact(resident, key="hrss:A", **values):
    return NewFact(
        resident=resident,
        kind=FactKind.CITY,
        code="pension_insurance.months",
        key=key,
        department=Department.objects.get(code="hrss_bureau"),
        source=FactSource.FEED,
        **values,
    )


def test_a_refused_fact_is_named_and_nothing_is_written(two_residents):
    a, b = two_residents
    with pytest.raises(InvalidFact) as refused:
        apply_facts([new_fact(a, quantity=1), new_fact(b, quantity=-1)], now=T0)
    assert (refused.value.index, refused.value.field) == (1, "quantity")
    with pytest.raises(InvalidFact) as twice:
        apply_facts([new_fact(a, quantity=1), new_fact(a, quantity=2)], now=T0)
    assert (twice.value.index, twice.value.field) == (1, "key")
    assert Fact.objects.count() == 0


def test_a_chunk_that_meets_a_concurrent_writer_is_redone_one_by_one(two_residents, monkeypatch):
    a, b = two_residents
    apply_facts([new_fact(a, quantity=1)], now=T0)
    real = services._apply_chunk
    calls = []

    def conflict_once(chunk, batch, now):
        calls.append(len(chunk))
        if len(calls) == 1:
            real(chunk, batch, now)  # written, then the insert "fails": rolled back
            raise IntegrityError("duplicate key value violates unique constraint")
        return real(chunk, batch, now)

    monkeypatch.setattr(services, "_apply_chunk", conflict_once)
    later = T0 + dt.timedelta(days=1)
    outcomes = apply_facts([new_fact(a, quantity=2), new_fact(b, quantity=5)], now=later)
    assert outcomes == ["superseded", "accepted"]
    assert calls == [2]
    assert Fact.objects.count() == 3
    assert Fact.objects.current().get(resident=a).quantity == 2


def test_chunks(two_residents, monkeypatch):
    monkeypatch.setattr(services, "BULK_CHUNK", 1)
    a, b = two_residents
    outcomes = apply_facts(
        [new_fact(a, quantity=1), new_fact(b, quantity=2), new_fact(a, "hrss:B", quantity=3)],
        now=T0,
    )
    assert outcomes == ["accepted"] * 3 and Fact.objects.count() == 3
