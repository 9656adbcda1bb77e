"""The shared factories build objects the database accepts."""

from __future__ import annotations

import pytest

from jifen.accounts.models import Role
from jifen.residents.models import PermitStatus
from tests.factories import make_department, make_permit, make_resident, make_town, make_user

pytestmark = pytest.mark.django_db


def test_make_resident_has_a_valid_permit_and_phone():
    resident = make_resident()
    permit = resident.current_permit
    assert permit is not None and permit.status == PermitStatus.VALID
    assert permit.issuing_town == resident.town == make_town("wutong")
    assert len(resident.phone) == 11
    assert permit.history.count() == 1


def test_make_resident_without_permit_or_phone():
    resident = make_resident(permit=False, phone="", town="puyuan")
    assert resident.current_permit is None
    assert resident.phone == ""
    assert resident.town.code == "puyuan"


def test_make_permit_becomes_current():
    resident = make_resident()
    newer = make_permit(resident)
    assert resident.current_permit == newer


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_make_user_satisfies_the_role_unit_constraint(role):
    user = make_user(role)
    user.refresh_from_db()
    assert user.role == role
    assert user.check_password("Wutong-Window-2025!")


def test_make_user_with_explicit_units():
    assert make_user("clerk", town="fengming").town.code == "fengming"
    assert make_user("reviewer", department=make_department("tax_bureau")).department.code == (
        "tax_bureau"
    )
    with pytest.raises(ValueError, match="cannot have"):
        make_user("center", town="wutong")
