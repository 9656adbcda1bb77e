"""Fixtures of the rankings tests: a published scenario version (through the scenarios
services) and eligible enrollments written straight into the tables with their score, so the
ranking sees exactly the points, tie-break values, preferences and towns a test gives.

Dates: the open period is 1–15 September 2025; the list is frozen on 20 September and
published from Monday 29 September, across the 2025 National Day holiday (1–8 October off,
Saturday 11 October worked).
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from jifen.audit.models import AuditEntry
from tests.factories import CHINA_TZ, make_department, make_resident, make_user

DEFINED = dt.datetime(2025, 8, 1, 9, 0, tzinfo=CHINA_TZ)
OPEN_FROM = dt.datetime(2025, 9, 1, 9, 0, tzinfo=CHINA_TZ)
OPEN_UNTIL = dt.datetime(2025, 9, 15, 17, 0, tzinfo=CHINA_TZ)
FROZEN = dt.datetime(2025, 9, 20, 10, 0, tzinfo=CHINA_TZ)
PUBLISHED = dt.datetime(2025, 9, 25, 10, 0, tzinfo=CHINA_TZ)
STARTS = dt.date(2025, 9, 29)  # a Monday
ENDS = dt.date(2025, 10, 11)  # the 5th working day (Saturday 11 October is worked)

_numbers = itertools.count(1)
_codes = itertools.count(1)


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def center(db):
    return make_user("center")


@pytest.fixture
def provider(db):
    """A reviewer of the scenarios' providing department (education)."""
    return make_user("reviewer", department="education_bureau")


def content(**changes):
    base = {
        "rules_text": "义务教育阶段新市民子女积分入学实施细则",
        "rules_url": "https://www.tx.gov.cn/rules",
        "open_from": OPEN_FROM.isoformat(),
        "open_until": OPEN_UNTIL.isoformat(),
        "eligibility": {"min_total": "0"},
        "score_basis": {"kind": "total"},
        "tie_breaks": ["provincial_total", "city_bonus_total", "applied_at"],
        "quotas": [{"key": "school:wutong-1", "label": "梧桐一小", "places": 2, "town": None}],
        "preferences": None,
    }
    base.update(changes)
    return base


@pytest.fixture
def define(center):
    from jifen.scenarios.services import define_scenario

    def make(**changes):
        return define_scenario(
            code=f"school-{next(_codes)}",
            name="义务教育积分入学",
            department=make_department("education_bureau"),
            content=content(**changes),
            user=center,
            now=DEFINED,
            publish=True,
        )

    return make


@pytest.fixture
def enrol(center):
    """``enrol(version, points, …)``: an eligible enrollment with its own stored score."""
    from jifen.scenarios.models import Enrollment, EnrollmentStatus
    from jifen.scores.models import Score

    def make(
        version,
        points,
        *,
        provincial=None,
        city=None,
        deductions="0",
        name=None,
        town="wutong",
        preferences=(),
        minute=0,
        items=None,
        phone=None,
    ):
        resident = make_resident(name=name, town=town, phone=phone, now=DEFINED)
        points = Decimal(str(points))
        provincial = Decimal(str(provincial if provincial is not None else points))
        city = Decimal(str(city if city is not None else points - provincial))
        deductions = Decimal(str(deductions))
        item_points = items or {"age": f"{provincial:.2f}"}
        result = {
            "provincial": {"total": str(provincial), "items": item_points},
            "city": {"bonus_total": str(city), "items": {}},
            "deductions": {
                "total": str(deductions),
                "acts": [{"act": "交通违法记录", "rule": "traffic", "points": str(deductions)}]
                if deductions
                else [],
            },
            "total": str(points),
        }
        score = Score.objects.create(
            resident=resident,
            evaluation_date=version.evaluation_date,
            review_date=version.review_date,
            computed_at=FROZEN,
            status="valid",
            total=points,
            provincial_total=provincial,
            city_bonus_total=city,
            deductions_total=deductions,
            result=result,
            provincial_policy="zhejiang-2023-07-26",
            provincial_hash="0" * 64,
            city_policy="tongxiang-2025-02-01",
            city_hash="0" * 64,
            reference_values=True,
            is_current=False,
        )
        applied = OPEN_FROM + dt.timedelta(minutes=minute)
        breakdown = {f"provincial.{k}": v for k, v in item_points.items()}
        if city:
            breakdown["city.residence"] = f"{city:.2f}"
        breakdown["deductions"] = f"{-deductions:.2f}"
        ties = {
            "provincial_total": f"{provincial:.2f}",
            "city_bonus_total": f"{city:.2f}",
            "deductions_total": f"{deductions:.2f}",
            "applied_at": applied.isoformat(),
        }
        for key in version.content["tie_breaks"]:
            if key.startswith("item:"):
                ref = key.removeprefix("item:").split(".", 1)[1]
                ties[key] = item_points.get(ref, "0.00")
        return Enrollment.objects.create(
            number=f"YY2025{next(_numbers):06d}",
            scenario=version.scenario,
            version=version,
            resident=resident,
            submitted_by=center,
            applied_at=applied,
            status=EnrollmentStatus.ELIGIBLE,
            score=score,
            points=points,
            breakdown=breakdown,
            tie_values={k: v for k, v in ties.items() if k in version.content["tie_breaks"]},
            preferences=list(preferences),
            evaluated_at=FROZEN,
            updated_at=FROZEN,
        )

    return make


def actions(prefix: str = "") -> list[str]:
    return [
        e.action for e in AuditEntry.objects.order_by("sequence") if e.action.startswith(prefix)
    ]


def last_entry(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).order_by("-sequence").first()
