"""apply_fact: accepted / unchanged / superseded, history, refused values, concurrent writers."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from jifen.facts.errors import InvalidFact
from jifen.facts.models import Fact, FactKind, FactSource
from jifen.facts.services import ACCEPTED, SUPERSEDED, UNCHANGED, apply_fact
from jifen.org.models import Department

CHINA = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2025, 6, 2, 9, 0, tzinfo=CHINA)


@pytest.fixture
def resident(db):
    from tests.factories import make_resident

    return make_resident()


@pytest.fixture
def hrss(db):
    return Department.objects.get(code="hrss_bureau")


def months(resident, department, quantity, now, **extra):
    return apply_fact(
        resident,
        kind=FactKind.CITY,
        code="pension_insurance.months",
        key="hrss:P-1",
        quantity=quantity,
        department=department,
        source=FactSource.FEED,
        now=now,
        **extra,
    )


def test_first_fact_is_accepted_same_value_unchanged_new_value_supersedes(resident, hrss):
    assert months(resident, hrss, 24, T0, source_ref="hrss:P-1") == ACCEPTED
    assert months(resident, hrss, Decimal("24.00"), T0 + dt.timedelta(hours=1)) == UNCHANGED
    t2 = T0 + dt.timedelta(days=1)
    assert months(resident, hrss, 30, t2) == SUPERSEDED

    history = list(Fact.objects.filter(resident=resident, key="hrss:P-1").order_by("recorded_at"))
    assert [f.quantity for f in history] == [24, 30]
    old, new = history
    assert (old.superseded_at, old.superseded_by_id) == (t2, new.pk)
    assert old.recorded_at == T0 and old.source_ref == "hrss:P-1"
    assert new.superseded_at is None and new.recorded_at == t2
    assert Fact.objects.current().filter(resident=resident).count() == 1


def test_a_chain_of_corrections_stays_queryable(resident, hrss):
    for i, value in enumerate([10, 11, 12, 11]):
        months(resident, hrss, value, T0 + dt.timedelta(days=i))
    facts = list(Fact.objects.filter(key="hrss:P-1").order_by("recorded_at"))
    assert [f.quantity for f in facts] == [10, 11, 12, 11]
    for earlier, later in itertools.pairwise(facts):
        assert earlier.superseded_by_id == later.pk
        assert earlier.superseded_at == later.recorded_at
    assert [f.pk for f in Fact.objects.current()] == [facts[-1].pk]


def test_provenance_is_not_value(resident, hrss):
    months(resident, hrss, 24, T0)
    other = Department.objects.get(code="zj_hrss")
    assert months(resident, other, 24, T0, source_ref="elsewhere") == UNCHANGED
    assert Fact.objects.get().department == hrss


@pytest.mark.parametrize(
    ("changes", "outcome"),
    [
        ({}, UNCHANGED),
        ({"date": dt.date(2024, 5, 2)}, SUPERSEDED),
        ({"level": "city"}, SUPERSEDED),
        ({"act": "A-2"}, SUPERSEDED),
        ({"until": dt.date(2025, 1, 1)}, SUPERSEDED),
        ({"code": "honours.skill_contest"}, SUPERSEDED),
    ],
)
def test_every_value_field_counts(resident, hrss, changes, outcome):
    base = {
        "kind": FactKind.DEDUCTION,
        "code": "dishonest_debtor",
        "key": "court:J-1",
        "level": "county",
        "date": dt.date(2024, 5, 1),
        "act": "A-1",
        "department": hrss,
        "source": FactSource.FEED,
    }
    assert apply_fact(resident, **base, now=T0) == ACCEPTED
    assert apply_fact(resident, **{**base, **changes}, now=T0 + dt.timedelta(1)) == outcome


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"quantity": -1}, "quantity"),
        ({"quantity": Decimal("1.005")}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"quantity": 1.5}, "quantity"),
        ({"quantity": Decimal("1e13")}, "quantity"),
        ({"date": dt.date(2025, 1, 2), "until": dt.date(2025, 1, 1)}, "until"),
        ({"kind": "rumour"}, "kind"),
        ({"source": "gossip"}, "source"),
        ({"key": ""}, "key"),
        ({"key": "x" * 121}, "key"),
        ({"now": dt.datetime(2025, 6, 2, 9, 0)}, "now"),
    ],
)
def test_refused_values_write_nothing(resident, hrss, kwargs, field):
    args = {
        "kind": FactKind.CITY,
        "code": "pension_insurance.months",
        "key": "hrss:P-1",
        "quantity": 24,
        "department": hrss,
        "source": FactSource.FEED,
        "now": T0,
        **kwargs,
    }
    with pytest.raises(InvalidFact) as refused:
        apply_fact(resident, **args)
    assert refused.value.field == field and refused.value.code == "invalid_fact"
    assert Fact.objects.count() == 0


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="threads need separate connections; the SQLite test database is in memory",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_one_key_leave_one_current_fact_and_a_clean_chain():
    from jifen.org.models import Town
    from tests.factories import make_resident

    # An earlier transactional test may have flushed the seeded organisation data.
    Town.objects.get_or_create(code="wutong", defaults={"name": "梧桐街道"})
    hrss, _ = Department.objects.get_or_create(code="hrss_bureau", defaults={"name": "人力社保局"})
    resident = make_resident(town="wutong")
    writers = 6
    start = threading.Barrier(writers)
    errors: list[BaseException] = []
    outcomes: list[str] = []

    def work(n: int) -> None:
        try:
            start.wait(timeout=30)
            outcomes.append(months(resident, hrss, 10 + n, T0 + dt.timedelta(seconds=n)))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(outcomes).count(ACCEPTED) == 1
    assert outcomes.count(SUPERSEDED) == writers - 1
    facts = list(Fact.objects.filter(key="hrss:P-1"))
    current = [f for f in facts if f.superseded_at is None]
    assert len(facts) == writers and len(current) == 1
    # Every superseded fact points at another fact of the key; following the links from the
    # first reaches the current one through all of them.
    by_pk = {f.pk: f for f in facts}
    first = next(f for f in facts if not f.supersedes.exists())
    seen = [first.pk]
    while by_pk[seen[-1]].superseded_by_id is not None:
        seen.append(by_pk[seen[-1]].superseded_by_id)
    assert len(seen) == writers and seen[-1] == current[0].pk
