"""A published school-place list in the autumn of 2025, built through the real services, for
the re-examination and sanctions tests.

Publication starts on Tuesday 2025-09-30, the day before the National Day holiday
(10-01 … 10-08; Saturday 10-11 is an adjusted working day): the filing window is
09-30, 10-09, 10-10.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from jifen.audit.models import AuditEntry
from jifen.facts.models import FactSource
from jifen.facts.services import apply_fact
from jifen.org.models import Department
from tests.factories import CHINA_TZ, make_resident, make_user

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40

DEFINED = dt.datetime(2025, 8, 1, 10, 0, tzinfo=CHINA_TZ)
OPEN = dt.datetime(2025, 9, 1, 9, 0, tzinfo=CHINA_TZ)
UNTIL = dt.datetime(2025, 9, 12, 17, 0, tzinfo=CHINA_TZ)
ENROLLED = dt.datetime(2025, 9, 2, 10, 0, tzinfo=CHINA_TZ)
EVALUATED = dt.datetime(2025, 9, 22, 10, 0, tzinfo=CHINA_TZ)
FROZEN = dt.datetime(2025, 9, 25, 10, 0, tzinfo=CHINA_TZ)
PUBLISHED = dt.datetime(2025, 9, 29, 10, 0, tzinfo=CHINA_TZ)
STARTS_ON = dt.date(2025, 9, 30)
ENDS_ON = dt.date(2025, 10, 14)
#: The first day of publication, and the last day to file (the 3rd working day).
FIRST_DAY = dt.datetime(2025, 9, 30, 9, 0, tzinfo=CHINA_TZ)
LAST_DAY = dt.date(2025, 10, 10)

CONTENT: dict[str, Any] = {
    "rules_text": "桐乡市新市民子女义务教育阶段积分入学实施细则（测试）",
    "rules_url": "https://www.tx.gov.cn/jyj/2025/xsmzn.html",
    "open_from": OPEN.isoformat(),
    "open_until": UNTIL.isoformat(),
    "review_date": "2025-09-20",
    "eligibility": {"min_total": 0, "permit_valid": True},
    "score_basis": {"kind": "total"},
    "tie_breaks": ["provincial_total", "applied_at"],
    "quotas": [
        {"key": "school:wutong-1", "label": "梧桐街道第一小学", "places": 2, "town": "wutong"},
    ],
    "preferences": None,
}


def give(resident, kind: str, code: str, key: str, *, department: str, now=DEFINED, **values):
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


def scored_resident(social_months: int, **kwargs):
    """Born 1990 (age 20 points), a bachelor (provincial 10), ``social_months`` of social
    insurance (provincial: half a point a month, at most 30) from the HRSS feed."""
    resident = make_resident(birth_date=dt.date(1990, 4, 1), **kwargs)
    give(resident, "provincial", "education", "education", level="bachelor",
         department="zj_education")  # fmt: skip
    give(resident, "provincial", "social_insurance_months", "social_insurance_months",
         quantity=social_months, department="zj_hrss")  # fmt: skip
    return resident


@dataclass
class World:
    center: Any
    center2: Any
    version: Any
    ranking: Any
    publication: Any
    residents: dict[str, Any]
    users: dict[str, Any]
    enrollments: dict[str, Any]

    def entry(self, name: str, publication=None):
        from jifen.rankings.models import RankingEntry

        publication = publication or self.publication
        return RankingEntry.objects.get(
            ranking_id=publication.ranking_id, enrollment=self.enrollments[name]
        )


def build_world() -> World:
    """Three applicants for two places: ``a`` (60 months), ``b`` (40), ``c`` (20 — waitlisted)."""
    from jifen.rankings.services import freeze_ranking, publish
    from jifen.scenarios import services as scenarios

    center = make_user("center")
    center2 = make_user("center")
    version = scenarios.define_scenario(
        code="school-2025",
        name="2025年新市民子女义务教育入学",
        department=Department.objects.get(code="education_bureau"),
        content=CONTENT,
        user=center,
        now=DEFINED,
        publish=True,
    )
    residents, users, enrollments = {}, {}, {}
    for index, (name, months) in enumerate((("a", 60), ("b", 40), ("c", 20))):
        residents[name] = scored_resident(months)
        users[name] = make_user("resident", resident=residents[name])
        enrollments[name] = scenarios.enroll(
            scenario=version.scenario,
            resident=residents[name],
            user=users[name],
            details={},
            preferences=[],
            now=ENROLLED + dt.timedelta(minutes=index),
        )
    scenarios.evaluate_enrollments(version, now=EVALUATED, user=center)
    ranking = freeze_ranking(version=version, user=center, now=FROZEN)
    publication = publish(
        ranking=ranking, starts_on=STARTS_ON, ends_on=ENDS_ON, user=center, now=PUBLISHED
    )
    for enrollment in enrollments.values():
        enrollment.refresh_from_db()
    return World(center, center2, version, ranking, publication, residents, users, enrollments)


def upload(resident, user, now=FIRST_DAY):
    from jifen.evidence.services import store_upload

    return store_upload(
        SimpleUploadedFile("proof.png", PNG, content_type="image/png"),
        resident=resident,
        user=user,
        now=now,
    )


def actions(obj=None, prefix: str = "") -> list[str]:
    entries = AuditEntry.objects.order_by("sequence")
    if obj is not None:
        entries = entries.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
    return [e.action for e in entries if e.action.startswith(prefix)]
