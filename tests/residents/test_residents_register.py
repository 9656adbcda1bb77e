"""register_resident: validation, derivation from the identity number, encryption, audit."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest
from django.db import connection

from jifen.audit.actors import Actor
from jifen.audit.models import AuditEntry
from jifen.crypto import DecryptionError
from jifen.identity import check_digit
from jifen.residents.errors import DuplicatePermit, DuplicateResident, InvalidResidentData
from jifen.residents.models import (
    PermitChangeSource,
    PermitStatus,
    PermitStatusChange,
    ResidencePermit,
    Resident,
)
from jifen.residents.services import register_resident
from jifen.synthetic.identity import generate_identity_number
from tests.factories import (
    FACTORY_ACTOR,
    NOW,
    make_resident,
    make_town,
    make_user,
    new_identity_number,
    new_permit_number,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 6, 2)  # the Asia/Shanghai date of NOW


def with_check(first17: str) -> str:
    return first17 + check_digit(first17)


MALE_1990 = with_check("34010219900307123")  # 17th digit 3: odd, male
FEMALE_1985 = with_check("41010219851224004")  # 17th digit 4: even, female


def register(**overrides) -> Resident:
    args = {
        "identity_number": MALE_1990,
        "name": "王小明",
        "town": make_town("wutong"),
        "now": NOW,
        "actor": FACTORY_ACTOR,
    }
    args.update(overrides)
    return register_resident(**args)


def counts() -> tuple[int, ...]:
    return (
        Resident.objects.count(),
        ResidencePermit.objects.count(),
        PermitStatusChange.objects.count(),
        AuditEntry.objects.count(),
    )


# --- Identity numbers -----------------------------------------------------------------------


def test_valid_number_gives_birth_date_and_sex():
    male = register()
    female = register(identity_number=FEMALE_1985, name="李芳")
    male.refresh_from_db()
    female.refresh_from_db()
    assert (male.birth_date, male.sex) == (dt.date(1990, 3, 7), "male")
    assert (female.birth_date, female.sex) == (dt.date(1985, 12, 24), "female")
    assert male.identity_number == MALE_1990
    assert male.created_at == NOW


def test_number_is_normalised_before_storing():
    rng = random.Random(7)
    number = next(
        n
        for n in (generate_identity_number(rng, dt.date(1992, 5, 1)) for _ in range(200))
        if n.endswith("X")
    )
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number[:-1]) + "x"
    resident = register(identity_number=f"  {full_width} ")
    assert resident.identity_number == number


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("3401021990030712", "length"),
        (MALE_1990 + "1", "length"),
        ("", "length"),
        ("34010219900307123A", "characters"),
        ("3401021990O307123" + "1", "characters"),
        (with_check("99010219900307123"), "region"),
        (with_check("00010219900307123"), "region"),
        (with_check("34010219901307123"), "birth_date"),
        (with_check("34010219900230123"), "birth_date"),
        (with_check("34010218991231123"), "birth_date"),
        (with_check("34010220250603123"), "future_birth_date"),
        (MALE_1990[:-1] + ("0" if MALE_1990[-1] != "0" else "1"), "check_digit"),
    ],
)
def test_invalid_numbers_are_refused_with_field_and_reason(number, reason):
    before = counts()
    with pytest.raises(InvalidResidentData) as caught:
        register(identity_number=number)
    assert caught.value.field == "identity_number"
    assert caught.value.reason == reason
    assert caught.value.code == "residents.invalid"
    if number:
        assert number not in str(caught.value)
    assert counts() == before


def test_birth_date_today_is_accepted_and_tomorrow_is_not():
    today = with_check("34010220250602123")
    assert register(identity_number=today).birth_date == TODAY
    # "Today" is the Asia/Shanghai date: at 23:30 UTC on 1 June it is already 2 June there.
    late_utc = dt.datetime(2025, 6, 1, 23, 30, tzinfo=dt.UTC)
    other = with_check("34010220250602125")
    assert register(identity_number=other, now=late_utc).birth_date == TODAY
    with pytest.raises(InvalidResidentData) as caught:
        register(
            identity_number=with_check("34010220250602127"),
            now=dt.datetime(2025, 6, 1, 15, 59, tzinfo=dt.UTC),
        )
    assert caught.value.reason == "future_birth_date"


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="aware"):
        register(now=dt.datetime(2025, 6, 2, 9, 0))


def test_duplicate_number_is_refused_and_nothing_is_written():
    register(permit_number="ZJ330483000001")
    before = counts()
    with pytest.raises(DuplicateResident) as caught:
        register(name="另一个人", permit_number="ZJ330483000002", phone="13812345678")
    assert caught.value.code == "residents.duplicate_identity_number"
    assert caught.value.field == "identity_number"
    assert counts() == before


def test_duplicate_in_normalised_form_is_refused():
    number = new_identity_number()
    register(identity_number=number)
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c.lower() for c in number)
    with pytest.raises(DuplicateResident):
        register(identity_number=full_width)


def test_birth_date_argument_must_agree():
    assert register(birth_date=dt.date(1990, 3, 7)).birth_date == dt.date(1990, 3, 7)
    before = counts()
    with pytest.raises(InvalidResidentData) as caught:
        register(identity_number=FEMALE_1985, birth_date=dt.date(1985, 12, 25))
    assert (caught.value.field, caught.value.reason) == ("birth_date", "mismatch")
    assert counts() == before


# --- Name and phone -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [("", "required"), ("   ", "required"), ("张" * 51, "too_long"), ("张\x00三", "format")],
)
def test_bad_names_are_refused(name, reason):
    with pytest.raises(InvalidResidentData) as caught:
        register(name=name)
    assert (caught.value.field, caught.value.reason) == ("name", reason)
    assert Resident.objects.count() == 0


def test_name_is_stripped_and_may_have_50_characters():
    assert register(name="  王小明 ").name == "王小明"
    assert register(identity_number=FEMALE_1985, name="李" * 50).name == "李" * 50


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("13812345678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("", ""),
    ],
)
def test_phone_is_normalised(given, stored):
    resident = register(phone=given)
    resident.refresh_from_db()
    assert resident.phone == stored
    assert bool(resident.phone_index) == bool(stored)


@pytest.mark.parametrize(
    "phone", ["1381234567", "138123456789", "12812345678", "0573-88123456", "abcdefghijk"]
)
def test_bad_phones_are_refused(phone):
    with pytest.raises(InvalidResidentData) as caught:
        register(phone=phone)
    assert (caught.value.field, caught.value.reason) == ("phone", "format")
    assert phone not in str(caught.value)
    assert Resident.objects.count() == 0


# --- Permit at registration -----------------------------------------------------------------


def test_permit_defaults_issuing_town_and_date():
    resident = register(permit_number="zj330483000001", town=make_town("puyuan"))
    permit = resident.current_permit
    assert permit.number == "ZJ330483000001"
    assert permit.issuing_town.code == "puyuan"
    assert (permit.issued_on, permit.status, permit.status_since) == (
        TODAY,
        PermitStatus.VALID,
        TODAY,
    )
    (first,) = permit.history.all()
    assert (first.status, first.effective_on, first.restored) == (PermitStatus.VALID, TODAY, False)
    assert first.source == PermitChangeSource.STAFF
    assert first.recorded_at == NOW


def test_permit_with_explicit_town_and_date_from_the_feed():
    resident = register(
        permit_number="ZJ330483000009",
        permit_issued_on=dt.date(2023, 4, 1),
        permit_issuing_town=make_town("wuzhen"),
        actor=Actor.system("feed:public_security_bureau"),
    )
    permit = resident.current_permit
    assert (permit.issuing_town.code, permit.issued_on, permit.status_since) == (
        "wuzhen",
        dt.date(2023, 4, 1),
        dt.date(2023, 4, 1),
    )
    assert permit.history.get().source == PermitChangeSource.FEED


def test_no_permit_when_no_number():
    resident = register()
    assert resident.current_permit is None
    assert not resident.points_lapsed
    with pytest.raises(InvalidResidentData) as caught:
        register(identity_number=FEMALE_1985, permit_issued_on=TODAY)
    assert (caught.value.field, caught.value.reason) == ("permit_number", "required")


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"permit_number": "ZJ12"}, "permit_number", "format"),
        ({"permit_number": "ZJ-1234-5678"}, "permit_number", "format"),
        ({"permit_number": "Z" * 31}, "permit_number", "format"),
        ({"permit_number": "  "}, "permit_number", "required"),
        (
            {"permit_number": "ZJ330483000001", "permit_issued_on": dt.date(2025, 6, 3)},
            "permit_issued_on",
            "future",
        ),
        (
            {"permit_number": "ZJ330483000001", "permit_issued_on": dt.date(1990, 3, 6)},
            "permit_issued_on",
            "before_birth",
        ),
    ],
)
def test_bad_permits_are_refused_and_nothing_is_written(overrides, field, reason):
    with pytest.raises(InvalidResidentData) as caught:
        register(**overrides)
    assert (caught.value.field, caught.value.reason) == (field, reason)
    assert counts() == (0, 0, 0, 0)


def test_permit_number_of_six_and_thirty_characters():
    assert register(permit_number="ab1234").current_permit.number == "AB1234"
    other = register(identity_number=FEMALE_1985, permit_number="A" * 30)
    assert other.current_permit.number == "A" * 30


def test_duplicate_permit_number_refuses_the_whole_registration():
    register(permit_number="ZJ330483000001")
    before = counts()
    with pytest.raises(DuplicatePermit) as caught:
        register(identity_number=FEMALE_1985, permit_number="zj330483000001")
    assert caught.value.code == "residents.duplicate_permit_number"
    assert counts() == before


# --- Audit ----------------------------------------------------------------------------------


def test_registration_is_audited_without_personal_numbers():
    clerk = make_user("clerk", town="wutong")
    before = AuditEntry.objects.count()
    resident = register(
        phone="13812345678",
        permit_number="ZJ330483000001",
        actor=Actor.for_user(clerk),
    )
    entry = AuditEntry.objects.get(action="resident.registered", object_id=str(resident.pk))
    assert AuditEntry.objects.count() == before + 1
    assert entry.object_type == "residents.resident"
    assert (entry.actor_kind, entry.actor_id, entry.actor_unit) == ("user", str(clerk.pk), "wutong")
    assert entry.occurred_at == NOW
    assert entry.data == {
        "town": "wutong",
        "permit": str(resident.current_permit.pk),
        "phone_given": True,
    }
    text = json.dumps(entry.data, ensure_ascii=False)
    for secret in (MALE_1990, MALE_1990[6:14], "13812345678", "ZJ330483000001", "王小明"):
        assert secret not in text


# --- Encryption at rest ---------------------------------------------------------------------


def _dump_all_tables() -> str:
    """Every cell of every table, as a database dump would show it."""
    cells = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            cells.extend(str(value) for row in cursor.fetchall() for value in row)
    return "\n".join(cells)


def test_numbers_never_reach_the_database_in_clear():
    permit_number = new_permit_number()
    resident = make_resident(
        identity_number=MALE_1990, phone="13987654321", permit_number=permit_number
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT identity_number_token, identity_number_index, phone_token, phone_index"
            " FROM residents_resident"
        )
        (row,) = cursor.fetchall()
    for value in row:
        assert MALE_1990 not in value
        assert MALE_1990[-10:] not in value
        assert "13987654321" not in value and "87654321" not in value
    assert row[0].startswith("v1:") and row[2].startswith("v1:")
    dump = _dump_all_tables()
    for secret in (MALE_1990, MALE_1990[10:], "13987654321", permit_number, permit_number[2:]):
        assert secret not in dump
    # ... yet the model reads them back.
    resident = Resident.objects.get()
    assert (resident.identity_number, resident.phone) == (MALE_1990, "13987654321")
    assert resident.current_permit.number == permit_number


def test_tokens_are_bound_to_their_row_and_field():
    first = make_resident()
    second = make_resident()
    Resident.objects.filter(pk=second.pk).update(
        identity_number_token=first.identity_number_token, phone_token=first.phone_token
    )
    second.refresh_from_db()
    with pytest.raises(DecryptionError):
        second.identity_number  # noqa: B018
    with pytest.raises(DecryptionError):
        second.phone  # noqa: B018
    # Swapping the two fields of one row fails too.
    Resident.objects.filter(pk=first.pk).update(phone_token=first.identity_number_token)
    first.refresh_from_db()
    with pytest.raises(DecryptionError):
        first.phone  # noqa: B018
    # And a permit number token moved to another permit.
    one, two = first.current_permit, second.current_permit
    ResidencePermit.objects.filter(pk=two.pk).update(number_token=one.number_token)
    two.refresh_from_db()
    with pytest.raises(DecryptionError):
        two.number  # noqa: B018


def test_equal_numbers_encrypt_differently():
    a = make_resident(phone="13812345678")
    b = make_resident(phone="13812345678")
    assert a.phone_token != b.phone_token
    assert a.phone_index == b.phone_index
