"""A small world for access tests: two towns, three departments, residents with facts from
those departments, stored scores, feed batches, and one user of every role.

Import with ``from tests.accounts.world import build_world``. Residents and users come from
``tests.factories``; facts go through ``jifen.facts.services.apply_fact``; scores are stored
rows computed by the engine from the residents' facts (the same profile the scoring service
builds), so pages and API read what the platform would have stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from jifen.accounts.models import Role, User
from jifen.engine import evaluate
from jifen.facts.models import Fact, FactKind, FactSource
from jifen.facts.profile import build_profile
from jifen.facts.services import apply_fact
from jifen.feeds.models import BatchStatus, FeedBatch
from jifen.org.models import Department
from jifen.residents.models import Resident
from jifen.scores.models import Score, ScoreStatus
from jifen.scores.policies import current_policies
from tests.factories import CHINA_TZ, NOW, PASSWORD, make_resident, make_user

ON = NOW.astimezone(CHINA_TZ).date()


def make_batch(department: Department, feed: str, *, received_at: dt.datetime = NOW) -> FeedBatch:
    return FeedBatch.objects.create(
        feed=feed,
        department=department,
        file_name=f"{feed}-2025-06.csv",
        checksum=f"{abs(hash((feed, received_at))):064d}"[:64],
        encoding="utf-8",
        status=BatchStatus.APPLIED,
        received_at=received_at,
        actor=f"feed:{department.code}",
        rows=2,
        accepted=1,
        rejected=1,
        report=[
            {"row": 1, "outcome": "accepted", "key": f"{feed}:1"},
            {"row": 2, "outcome": "rejected", "field": "date", "reason": "not a date"},
        ],
    )


def fact(resident: Resident, department: Department, batch: FeedBatch | None = None, **kw) -> str:
    return apply_fact(
        resident,
        department=department,
        source=FactSource.FEED if batch else FactSource.STAFF,
        batch=batch,
        now=NOW,
        **kw,
    )


def make_score(
    resident: Resident,
    *,
    on: dt.date = ON,
    computed_at: dt.datetime = NOW,
    status: str = ScoreStatus.VALID,
    lapse_reason: str = "",
    lapsed_since: dt.date | None = None,
) -> Score:
    """Score ``resident`` from their current facts and store it as the current score."""
    facts = list(Fact.objects.filter(resident=resident))
    profile, used = build_profile(resident, facts)
    result = evaluate(profile, on, on, current_policies())
    data = result.as_dict()
    Score.objects.filter(resident=resident, is_current=True).update(is_current=False)
    return Score.objects.create(
        resident=resident,
        evaluation_date=on,
        review_date=on,
        computed_at=computed_at,
        status=status,
        lapse_reason=lapse_reason,
        lapsed_since=lapsed_since,
        total=Decimal(data["total"]),
        provincial_total=Decimal(data["provincial"]["total"]),
        city_bonus_total=Decimal(data["city"]["bonus_total"]),
        deductions_total=Decimal(data["deductions"]["total"]),
        result=data,
        provincial_policy=data["policy"]["provincial"],
        provincial_hash=data["policy"]["provincial_hash"],
        city_policy=data["policy"]["city"],
        city_hash=data["policy"]["city_hash"],
        reference_values=data["policy"]["reference_values"],
        fact_ids=used,
        is_current=True,
    )


@dataclass
class World:
    residents: dict[str, Resident] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    batches: dict[str, FeedBatch] = field(default_factory=dict)
    scores: dict[str, Score] = field(default_factory=dict)
    identity: dict[str, str] = field(default_factory=dict)
    permit_numbers: dict[str, str] = field(default_factory=dict)
    password: str = PASSWORD

    def user(self, name: str) -> User:
        return self.users[name]

    def __getattr__(self, name: str) -> Any:  # world.alice, world.clerk_wutong ...
        for table in ("residents", "users"):
            values = self.__dict__.get(table, {})
            if name in values:
                return values[name]
        raise AttributeError(name)


def build_world() -> World:
    """alice (wutong): education, residence years and a detention from public security, a
    blood donation from the health commission; bob (puyuan): education, a conviction from the
    court; carol (wutong): nothing, no score."""
    w = World()
    for code in ("zj_education", "public_security_bureau", "health_commission", "court"):
        w.departments[code] = Department.objects.get(code=code)
    d = w.departments
    w.batches["health"] = make_batch(d["health_commission"], "health_blood_donation")
    w.batches["court"] = make_batch(d["court"], "court_judgments")
    w.batches["psb"] = make_batch(d["public_security_bureau"], "public_security_residence")

    alice = make_resident(name="王小丽", town="wutong", birth_date=dt.date(1990, 5, 1))
    bob = make_resident(name="李大山", town="puyuan", birth_date=dt.date(1985, 3, 3))
    carol = make_resident(name="赵晓燕", town="wutong")
    w.residents.update(alice=alice, bob=bob, carol=carol)
    for name, resident in w.residents.items():
        w.identity[name] = resident.identity_number
        w.permit_numbers[name] = resident.current_permit.number

    fact(
        alice,
        d["zj_education"],
        kind=FactKind.PROVINCIAL,
        code="education",
        key="education",
        level="bachelor",
    )
    fact(
        alice,
        d["public_security_bureau"],
        w.batches["psb"],
        kind=FactKind.CITY,
        code="residence.registered_years",
        key="psb:registered_years",
        quantity=5,
    )
    fact(
        alice,
        d["health_commission"],
        w.batches["health"],
        kind=FactKind.CITY,
        code="charity.blood_donation",
        key="health:blood:2024-05-01",
        date=dt.date(2024, 5, 1),
    )
    fact(
        alice,
        d["public_security_bureau"],
        w.batches["psb"],
        kind=FactKind.DEDUCTION,
        code="administrative_detention",
        key="psb:detention:A1",
        act="A1",
        date=dt.date(2023, 3, 1),
    )
    fact(
        bob,
        d["zj_education"],
        kind=FactKind.PROVINCIAL,
        code="education",
        key="education",
        level="master",
    )
    fact(
        bob,
        d["court"],
        w.batches["court"],
        kind=FactKind.DEDUCTION,
        code="crime_other",
        key="court:2022-17",
        act="C1",
        date=dt.date(2022, 1, 10),
    )

    w.scores["alice"] = make_score(alice)
    w.scores["bob"] = make_score(bob)

    w.users.update(
        alice_user=make_user(Role.RESIDENT, resident=alice, username="alice"),
        bob_user=make_user(Role.RESIDENT, resident=bob, username="bob"),
        carol_user=make_user(Role.RESIDENT, resident=carol, username="carol"),
        clerk_wutong=make_user(Role.CLERK, town="wutong", username="clerk_wutong"),
        clerk_puyuan=make_user(Role.CLERK, town="puyuan", username="clerk_puyuan"),
        reviewer_psb=make_user(
            Role.REVIEWER, department="public_security_bureau", username="reviewer_psb"
        ),
        reviewer_health=make_user(
            Role.REVIEWER, department="health_commission", username="reviewer_health"
        ),
        reviewer_court=make_user(Role.REVIEWER, department="court", username="reviewer_court"),
        center=make_user(Role.CENTER, username="center"),
        auditor=make_user(Role.AUDITOR, username="auditor"),
        system_admin=make_user(Role.SYSTEM_ADMIN, username="system_admin", is_staff=True),
        security_admin=make_user(Role.SECURITY_ADMIN, username="security_admin"),
    )
    return w
