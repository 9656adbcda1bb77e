"""Exact search by identity and permit number, the current permit, and masked values."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jifen.identity import check_digit
from jifen.residents.models import Resident
from jifen.residents.services import current_permit, find_resident, permit_status_on
from tests.factories import NOW, make_permit, make_resident, new_identity_number

pytestmark = pytest.mark.django_db


NUMBER = "34010219900307123" + check_digit("34010219900307123")


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def test_find_by_identity_number_exact_match():
    number = new_identity_number()
    resident = make_resident(identity_number=number)
    make_resident()
    assert find_resident(identity_number=number) == resident
    assert find_resident(identity_number=f" {number.lower()} ") == resident
    assert find_resident(identity_number=full_width(number)) == resident
    # Exact means exact: a prefix, another number or an empty string finds nobody.
    assert find_resident(identity_number=number[:17]) is None
    assert find_resident(identity_number=new_identity_number()) is None
    assert find_resident(identity_number="") is None
    assert find_resident(identity_number="not a number") is None


def test_find_by_permit_number_exact_match_including_old_permits():
    resident = make_resident(permit_number="ZJ330483000111")
    newer = make_permit(resident, number="ZJ330483000222")
    make_resident()
    assert find_resident(permit_number="ZJ330483000111") == resident
    assert find_resident(permit_number=" zj330483000222 ") == resident
    assert find_resident(permit_number=full_width("ZJ330483000222")) == resident
    assert find_resident(permit_number="ZJ33048300022") is None
    assert find_resident(permit_number="") is None
    assert current_permit(resident) == newer


def test_find_by_both_numbers_must_agree():
    number = new_identity_number()
    resident = make_resident(identity_number=number, permit_number="ZJ330483000111")
    make_resident(permit_number="ZJ330483000999")
    assert find_resident(identity_number=number, permit_number="ZJ330483000111") == resident
    assert find_resident(identity_number=number, permit_number="ZJ330483000999") is None
    with pytest.raises(TypeError):
        find_resident()


def test_find_is_one_indexed_query():
    number = new_identity_number()
    make_resident(identity_number=number)
    with CaptureQueriesContext(connection) as queries:
        found = find_resident(identity_number=number)
        assert found.town.code == "wutong"
    assert len(queries) == 1
    assert "identity_number_index" in queries[0]["sql"]


def test_current_permit_is_the_latest_issued():
    resident = make_resident(permit=False)
    assert current_permit(resident) is None
    old = make_permit(resident, issued_on=dt.date(2022, 1, 5))
    new = make_permit(resident, issued_on=dt.date(2024, 1, 5))
    make_permit(make_resident(), issued_on=dt.date(2025, 1, 5))
    assert current_permit(resident) == new
    prefetched = Resident.objects.prefetch_related("permits").get(pk=resident.pk)
    with CaptureQueriesContext(connection) as queries:
        assert prefetched.current_permit == new
    assert len(queries) == 0
    assert old != new


def test_masked_values():
    resident = make_resident(
        identity_number=NUMBER,
        name="欧阳娜娜",
        phone="13812345678",
        permit_number="ZJ330483000111",
    )
    assert resident.masked_identity_number == "340*************" + NUMBER[-2:]
    assert resident.masked_phone == "138****5678"
    assert resident.masked_name == "欧***"
    assert resident.current_permit.masked_number == "ZJ**********11"
    shown = str(resident) + str(resident.current_permit)
    assert "34010219900307" not in shown and "娜娜" not in shown
    assert "330483000" not in shown
    assert str(resident) == f"欧*** (340{'*' * 13}{NUMBER[-2:]})"
    assert make_resident(phone="").masked_phone == ""


def test_permit_status_on_a_date():
    from jifen.residents.models import PermitChangeSource, PermitStatus
    from jifen.residents.services import change_permit_status
    from tests.factories import FACTORY_ACTOR

    resident = make_resident(permit_issued_on=dt.date(2024, 6, 1))
    permit = resident.current_permit
    assert permit_status_on(resident, dt.date(2024, 5, 31)) is None
    on_issue = permit_status_on(resident, dt.date(2024, 6, 1))
    assert (on_issue.status, on_issue.since, on_issue.points_lapsed) == (
        "valid",
        dt.date(2024, 6, 1),
        False,
    )
    change_permit_status(
        permit,
        status=PermitStatus.SUSPENDED,
        effective_on=dt.date(2025, 3, 1),
        source=PermitChangeSource.FEED,
        source_ref="batch-1/row-7",
        reason="missed endorsement",
        now=NOW,
        actor=FACTORY_ACTOR,
    )
    before = permit_status_on(resident, dt.date(2025, 2, 28))
    after = permit_status_on(resident, dt.date(2025, 3, 1))
    assert (before.status, before.points_lapsed) == ("valid", False)
    assert (after.status, after.since, after.reason, after.source) == (
        "suspended",
        dt.date(2025, 3, 1),
        "missed endorsement",
        "feed",
    )
    assert after.points_lapsed and resident.points_lapsed
