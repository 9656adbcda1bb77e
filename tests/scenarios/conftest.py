"""Fixtures of the scenario tests: the center, a school-place scenario published through the
services, residents with facts, and helpers to enroll and read the audit log."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from jifen.audit.models import AuditEntry
from jifen.facts.models import FactSource
from jifen.facts.services import apply_fact
from jifen.org.models import Department
from jifen.scenarios import services
from tests.factories import CHINA_TZ, make_resident, make_user

#: The open period of the test scenario: [OPEN, UNTIL).
OPEN = dt.datetime(2026, 7, 1, 9, 0, tzinfo=CHINA_TZ)
UNTIL = dt.datetime(2026, 7, 15, 17, 0, tzinfo=CHINA_TZ)
#: When the center defines and publishes it.
BEFORE = dt.datetime(2026, 6, 1, 10, 0, tzinfo=CHINA_TZ)
DURING = dt.datetime(2026, 7, 2, 10, 0, tzinfo=CHINA_TZ)
AFTER = dt.datetime(2026, 7, 20, 10, 0, tzinfo=CHINA_TZ)

SCHOOL: dict[str, Any] = {
    "rules_text": "桐乡市新市民子女义务教育阶段积分入学实施细则（测试）",
    "rules_url": "https://www.tx.gov.cn/jyj/2026/xsmzn.html",
    "open_from": OPEN.isoformat(),
    "open_until": UNTIL.isoformat(),
    "review_date": "2026-07-20",
    "eligibility": {
        "min_total": 60,
        "permit_valid": True,
        "child_birth_from": "2019-09-01",
        "child_birth_to": "2020-08-31",
    },
    "score_basis": {"kind": "total"},
    "tie_breaks": ["provincial_total", "item:provincial.social_insurance", "applied_at"],
    "quotas": [
        {"key": "school:wutong-1", "label": "梧桐街道第一小学", "places": 2, "town": "wutong"},
        {"key": "school:puyuan-1", "label": "濮院镇中心小学", "places": 1, "town": "puyuan"},
        {"key": "school:wuzhen-1", "label": "乌镇镇中心小学", "places": 1, "town": "wuzhen"},
    ],
    "preferences": {"max": 3},
}
CHILD = {"child_name": "小明", "child_birth_date": "2019-12-01"}
PREFS = ["school:wutong-1", "school:puyuan-1"]


@pytest.fixture(autouse=True)
def _fast(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.JIFEN_EVIDENCE_ROOT = tmp_path / "evidence"


@pytest.fixture
def content() -> dict[str, Any]:
    return copy.deepcopy(SCHOOL)


@pytest.fixture
def center(db):
    return make_user("center")


@pytest.fixture
def education(db):
    return Department.objects.get(code="education_bureau")


@pytest.fixture
def version(center, education, content):
    """The school-place scenario, published a month before it opens."""
    return services.define_scenario(
        code="school-2026",
        name="2026年新市民子女义务教育入学",
        department=education,
        content=content,
        user=center,
        now=BEFORE,
        publish=True,
    )


@pytest.fixture
def scenario(version):
    return version.scenario


def give(resident, kind: str, code: str, key: str, *, department: str, now=BEFORE, **values):
    apply_fact(
        resident,
        kind=kind,
        code=code,
        key=key,
        department=Department.objects.get(code=department),
        source=FactSource.FEED,
        now=now,
        **values,
    )


def scored_resident(*, social_months: int = 60, education: str = "bachelor", **kwargs):
    """A resident (born 1990, valid permit since 2024-06-02) with provincial facts:
    age 20 + education 10 + social insurance min(months/2, 30) + the city degree 10 …"""
    resident = make_resident(birth_date=dt.date(1990, 4, 1), **kwargs)
    give(
        resident, "provincial", "education", "education", level=education, department="zj_education"
    )
    give(
        resident,
        "provincial",
        "social_insurance_months",
        "social_insurance_months",
        quantity=social_months,
        department="zj_hrss",
    )
    return resident


@pytest.fixture
def resident(db):
    return scored_resident()


@pytest.fixture
def resident_user(resident):
    return make_user("resident", resident=resident)


@pytest.fixture
def enroll(scenario):
    def run(resident, *, user=None, now=DURING, details=None, preferences=None):
        user = user or resident_account(resident)
        return services.enroll(
            scenario=scenario,
            resident=resident,
            user=user,
            details=CHILD if details is None else details,
            preferences=PREFS if preferences is None else preferences,
            now=now,
        )

    return run


def resident_account(resident):
    from jifen.accounts.models import User

    return User.objects.filter(resident=resident).first() or make_user(
        "resident", resident=resident
    )


def actions(obj=None, prefix: str = "") -> list[str]:
    entries = AuditEntry.objects.order_by("sequence")
    if obj is not None:
        entries = entries.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
    return [e.action for e in entries if e.action.startswith(prefix)]


def last_entry(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).order_by("-sequence").first()
