"""Shared test factories: towns, departments, residents (through the real service), users.

Import with ``from tests.factories import make_resident, make_user`` (pytest-django puts the
project directory on ``sys.path``). Everything goes through the service functions or the
seeded organisation data, so a factory object is one the platform could have made itself.

Numbers are synthetic (``jifen.synthetic.identity``) and unique within a test database: a
generated identity or permit number that is already taken is drawn again.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from zoneinfo import ZoneInfo

from jifen.audit.actors import Actor
from jifen.org.models import Department, Town
from jifen.residents.models import ResidencePermit, Resident
from jifen.residents.pii import identity_index, permit_index
from jifen.synthetic.identity import generate_identity_number, generate_name, generate_phone

__all__ = [
    "CHINA_TZ",
    "FACTORY_ACTOR",
    "NOW",
    "PASSWORD",
    "make_department",
    "make_permit",
    "make_resident",
    "make_town",
    "make_user",
    "new_identity_number",
    "new_permit_number",
]

CHINA_TZ = ZoneInfo("Asia/Shanghai")
#: The default "now" of the factories: a Monday morning in Tongxiang.
NOW = dt.datetime(2025, 6, 2, 9, 30, tzinfo=CHINA_TZ)
#: A staff-grade password (12+ characters, not a common one).
PASSWORD = "Wutong-Window-2025!"
#: The actor of factory-made records (a named system actor, so audit entries stay valid).
FACTORY_ACTOR = Actor.system("test:factories")

_rng = random.Random(20250602)
_counter = itertools.count(1)


def make_town(code: str = "wutong") -> Town:
    """A town seeded by migration org/0002 (``wutong``, ``fengming``, ``puyuan`` ...)."""
    return Town.objects.get(code=code)


def make_department(code: str = "public_security_bureau") -> Department:
    """A department seeded by migration org/0002 (codes of the policy files' departments)."""
    return Department.objects.get(code=code)


def new_identity_number(
    *, birth_date: dt.date | None = None, sex: str | None = None, region: str | None = None
) -> str:
    """A valid synthetic identity number that no resident in the database has yet."""
    while True:
        born = birth_date or dt.date(1970, 1, 1) + dt.timedelta(days=_rng.randrange(30 * 365))
        number = generate_identity_number(_rng, born, sex=sex, region=region)
        if not Resident.objects.filter(identity_number_index=identity_index(number)).exists():
            return number


def new_permit_number() -> str:
    """A permit number (``ZJ`` + 12 digits) that no permit in the database has yet."""
    while True:
        number = f"ZJ{next(_counter):04d}{_rng.randrange(10**8):08d}"
        if not ResidencePermit.objects.filter(number_index=permit_index(number)).exists():
            return number


def _town(town: Town | str) -> Town:
    return make_town(town) if isinstance(town, str) else town


def make_resident(
    *,
    identity_number: str | None = None,
    name: str | None = None,
    town: Town | str = "wutong",
    phone: str | None = None,
    birth_date: dt.date | None = None,
    sex: str | None = None,
    permit: bool = True,
    permit_number: str | None = None,
    permit_issued_on: dt.date | None = None,
    permit_issuing_town: Town | str | None = None,
    now: dt.datetime = NOW,
    actor: Actor = FACTORY_ACTOR,
) -> Resident:
    """A resident registered through ``register_resident``, with a valid permit by default.

    Unset values are generated: an identity number (with ``birth_date``/``sex`` if given), a
    name, a phone (pass ``phone=""`` for none), a permit number issued a year before ``now``
    (or on the birth date if later). ``permit=False`` registers without a permit.
    """
    from jifen.residents.services import register_resident

    if identity_number is None:
        identity_number = new_identity_number(birth_date=birth_date, sex=sex)
    if name is None:
        name = generate_name(_rng, sex)
    if phone is None:
        phone = generate_phone(_rng)
    home = _town(town)
    kwargs: dict = {}
    if permit:
        if permit_issued_on is None:
            from jifen.identity import validate_identity_number

            born = validate_identity_number(identity_number).birth_date
            permit_issued_on = max(now.astimezone(CHINA_TZ).date() - dt.timedelta(days=365), born)
        kwargs = {
            "permit_number": permit_number or new_permit_number(),
            "permit_issued_on": permit_issued_on,
            "permit_issuing_town": _town(permit_issuing_town) if permit_issuing_town else None,
        }
    return register_resident(
        identity_number=identity_number,
        name=name,
        town=home,
        now=now,
        actor=actor,
        phone=phone,
        birth_date=birth_date,
        **kwargs,
    )


def make_permit(
    resident: Resident,
    *,
    number: str | None = None,
    issued_on: dt.date | None = None,
    issuing_town: Town | str | None = None,
    now: dt.datetime = NOW,
    actor: Actor = FACTORY_ACTOR,
) -> ResidencePermit:
    """A new (current) permit for an existing resident, through ``issue_permit``."""
    from jifen.residents.services import issue_permit

    return issue_permit(
        resident,
        number=number or new_permit_number(),
        issued_on=issued_on or now.astimezone(CHINA_TZ).date(),
        issuing_town=_town(issuing_town) if issuing_town else None,
        now=now,
        actor=actor,
    )


def make_user(
    role: str,
    *,
    town: Town | str | None = None,
    department: Department | str | None = None,
    resident: Resident | None = None,
    password: str = PASSWORD,
    username: str | None = None,
    **extra,
):
    """An ``accounts.User`` of ``role`` that satisfies the role/unit constraint.

    A clerk gets ``town`` (default ``wutong``), a reviewer ``department`` (default
    ``public_security_bureau``), a resident account ``resident`` (default: a new resident);
    the other roles have no unit. Giving a unit the role does not have is an error here, so a
    test cannot build a user the database would refuse.
    """
    from jifen.accounts.models import Role, User

    role = Role(role)
    if role == Role.CLERK:
        town = _town(town or "wutong")
    elif role == Role.REVIEWER:
        department = (
            make_department(department or "public_security_bureau")
            if department is None or isinstance(department, str)
            else department
        )
    elif role == Role.RESIDENT:
        resident = resident or make_resident()
    units = {"town": town, "department": department, "resident": resident}
    allowed = {Role.CLERK: "town", Role.REVIEWER: "department", Role.RESIDENT: "resident"}
    extra_units = [k for k, v in units.items() if v is not None and k != allowed.get(role)]
    if extra_units:
        raise ValueError(f"a {role.value} user cannot have {', '.join(extra_units)}")
    if isinstance(town, str):
        town = make_town(town)
    return User.objects.create_user(
        username=username or f"{role.value}{next(_counter)}",
        password=password,
        role=role,
        town=town,
        department=department,
        resident=resident,
        **extra,
    )
