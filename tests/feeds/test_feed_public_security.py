"""The public-security feed: registration of new residents and permit status changes."""

from __future__ import annotations

from jifen.audit.models import AuditEntry
from jifen.facts.models import Fact
from jifen.residents.models import PermitChangeSource, PermitStatus, Resident

HEADER = (
    "identity_number,record_id,rule,level,quantity,date,name,town,permit_number,"
    "permit_issued_on,status,reason"
)


def test_a_row_with_name_and_town_registers_an_unknown_resident(run_import):
    from tests.factories import new_identity_number, new_permit_number

    number = new_identity_number()
    permit = new_permit_number()
    batch = run_import(
        "public_security",
        f"{HEADER}\n"
        f"{number},R-1,residence_months,,70,,李芳,puyuan,{permit},2025-03-20,,\n"
        f"{number},R-2,residence_registered_on,,,2019-03-15,,,,,,\n",
    )
    assert (batch.accepted, batch.rejected, batch.registered) == (2, 0, 1)
    assert batch.report[0]["registered"] is True
    resident = Resident.objects.get()
    assert resident.name == "李芳" and resident.town.code == "puyuan"
    assert resident.current_permit.number == permit
    assert set(Fact.objects.filter(resident=resident).values_list("key", flat=True)) == {
        "residence_months",
        "residence_registered_on",
    }
    entry = AuditEntry.objects.get(action="resident.registered")
    assert entry.actor_id == "feed:public_security"


def test_registration_refused_rejects_that_row_and_the_residents_other_rows(
    run_import, resident_factory
):
    from tests.factories import new_identity_number

    holder = resident_factory()
    taken = holder.current_permit.number
    number = new_identity_number()
    batch = run_import(
        "public_security",
        f"{HEADER}\n"
        f"{holder.identity_number},R-0,residence_months,,12,,,,,,,\n"
        f"{number},R-1,residence_months,,70,,李芳,puyuan,{taken},2025-03-20,,\n"
        f"{number},R-2,residence_registered_on,,,2019-03-15,,,,,,\n",
    )
    assert (batch.accepted, batch.rejected, batch.registered) == (1, 2, 0)
    first, second = batch.report[1], batch.report[2]
    assert (first["field"], first["code"]) == ("permit_number", "residents.duplicate_permit_number")
    assert "could not be registered" in first["reason"]
    assert second["code"] == "unknown_resident"
    assert Resident.objects.count() == 1


def test_unknown_town_rejects_the_row(run_import):
    from tests.factories import new_identity_number

    batch = run_import(
        "public_security",
        f"{HEADER}\n{new_identity_number()},R-1,residence_months,,70,,李芳,atlantis,,,,\n",
    )
    assert batch.report[0]["code"] == "unknown_town"
    assert Resident.objects.count() == 0


def test_other_feeds_never_register_residents(run_import):
    from tests.factories import new_identity_number

    batch = run_import(
        "hrss",
        f"identity_number,record_id,rule,level,name\n{new_identity_number()},R-1,skills,title_junior,李芳\n",
    )
    assert batch.status == "refused"
    assert "unknown column 'name'" in batch.refusal_reason
    assert Resident.objects.count() == 0


def test_permit_status_rows_change_the_permit_and_replays_change_nothing(
    run_import, resident_factory, now
):
    resident = resident_factory()
    n = resident.identity_number
    suspend = f"{HEADER}\n{n},P-1,permit.status,,,2025-05-10,,,,,suspended,逾期未签注\n"
    batch = run_import("public_security", suspend)
    assert (batch.accepted, batch.rejected) == (1, 0)
    permit = resident.current_permit
    assert permit.status == PermitStatus.SUSPENDED and str(permit.status_since) == "2025-05-10"
    change = permit.history.get(status=PermitStatus.SUSPENDED)
    assert change.source == PermitChangeSource.FEED
    assert change.source_ref == "public_security:P-1" and change.reason == "逾期未签注"
    assert AuditEntry.objects.filter(action="permit.status_changed").count() == 1

    # The same record inside another file: already applied, nothing changes.
    again = run_import("public_security", suspend + f"{n},R-9,residence_months,,12,,,,,,,\n")
    assert again.report[0]["outcome"] == "unchanged"

    restore = f"{HEADER}\n{n},P-2,permit.status,,,2025-05-20,,,,,valid,补签注\n"
    batch = run_import("public_security", restore)
    assert batch.accepted == 1
    permit.refresh_from_db()
    assert permit.status == PermitStatus.VALID
    assert permit.history.get(source_ref="public_security:P-2").restored is True

    # An old record sent again does not re-suspend a restored permit.
    run_import("public_security", suspend + "\n")
    permit.refresh_from_db()
    assert permit.status == PermitStatus.VALID


def test_permit_status_problems_reject_the_row(run_import, resident_factory):
    with_permit = resident_factory()
    without = resident_factory(permit=False)
    batch = run_import(
        "public_security",
        f"{HEADER}\n"
        f"{with_permit.identity_number},P-1,permit.status,,,2025-05-10,,,,,lost,\n"
        f"{without.identity_number},P-2,permit.status,,,2025-05-10,,,,,suspended,\n"
        f"{with_permit.identity_number},P-3,permit.status,,,2025-05-10,,,ZJ999,,suspended,\n"
        f"{with_permit.identity_number},P-4,permit.status,,,2020-01-01,,,,,suspended,\n"
        f"{with_permit.identity_number},P-5,permit.status,,,2025-05-10,,,,,valid,\n"
        f"{with_permit.identity_number},P-6,permit.status,,,,,,,,cancelled,\n",
    )
    codes = [(e["field"], e["code"], e["outcome"]) for e in batch.report]
    assert codes == [
        ("status", "unknown_status", "rejected"),
        ("permit_number", "unknown_permit", "rejected"),
        ("permit_number", "unknown_permit", "rejected"),
        ("date", "permits.effective_date_refused", "rejected"),
        ("", "", "unchanged"),  # already valid
        ("date", "missing", "rejected"),
    ]
    with_permit.current_permit.refresh_from_db()
    assert with_permit.current_permit.status == PermitStatus.VALID


def test_birth_date_rows_must_agree_with_the_identity_number(run_import, resident_factory):
    resident = resident_factory()
    n = resident.identity_number
    born = f"{n[6:10]}-{n[10:12]}-{n[12:14]}"
    batch = run_import("public_security", f"{HEADER}\n{n},B-1,birth_date,,,{born},,,,,,\n")
    assert batch.accepted == 1
    assert Fact.objects.get(resident=resident, key="birth_date").date == resident.birth_date
