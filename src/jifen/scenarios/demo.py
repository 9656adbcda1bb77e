"""The demo's two application scenarios, defined and published through the real services.

* 义务教育阶段新市民子女入学 — compulsory-education school places for new citizens'
  children (education bureau): places per school in five towns, up to three preferences,
  the birth-date range of this year's primary-school entry, a minimum of 60 points,
  tie-breaks provincial total, then social insurance, then the time of application.
* 公共租赁住房 — public rental housing (housing and urban-rural development bureau): one
  quota, the total score, at least 12 months of residence, tie-breaks provincial total,
  fewer deductions, then the time of application.

Both open periods run around ``now`` (opened three days ago at 09:00, close in eleven days at
17:00, China time), so residents can enroll in the demo. The window clerk enrolls a few
residents of their town in the school scenario (``enrollments``); the demo resident is left
to enroll themselves. Calling it again changes nothing (scenarios found by code).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model

from jifen.org.models import Department
from jifen.scenarios import services
from jifen.scenarios.errors import ScenarioError
from jifen.scenarios.models import Enrollment, Scenario, ScenarioVersion

CHINA = ZoneInfo("Asia/Shanghai")
SCHOOLS = (
    ("wutong-shiyan", "梧桐街道实验小学", "wutong", 40),
    ("fengming-zhongxin", "凤鸣街道中心小学", "fengming", 35),
    ("puyuan-diyi", "濮院镇第一小学", "puyuan", 30),
    ("wuzhen-zhongxin", "乌镇镇中心小学", "wuzhen", 25),
    ("chongfu-zhongxin", "崇福镇中心小学", "chongfu", 30),
)
#: The providing department of public rental housing (not in the measures' scoring list).
HOUSING_DEPARTMENT = (
    "housing_bureau",
    "住房和城乡建设局",
    "Housing and Urban-Rural Development Bureau",
)


@dataclass
class DemoScenarios:
    versions: list[ScenarioVersion] = field(default_factory=list)
    enrollments: list[Enrollment] = field(default_factory=list)


def _period(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    today = now.astimezone(CHINA).date()
    open_from = dt.datetime.combine(today - dt.timedelta(days=3), dt.time(9, 0), CHINA)
    open_until = dt.datetime.combine(today + dt.timedelta(days=11), dt.time(17, 0), CHINA)
    return open_from, open_until


def school_content(now: dt.datetime) -> dict:
    open_from, open_until = _period(now)
    opening = open_from.date()
    entry_year = opening.year if opening.month <= 8 else opening.year + 1
    return {
        "rules_text": (
            "桐乡市新市民子女义务教育阶段积分入学实施细则（演示）：持有效居住证、积分不低于60分的"
            "新市民，可为当年9月1日满6周岁的适龄子女申请小学一年级积分入学，最多填报三所学校志愿；"
            "按积分从高到低排序，积分相同时依次比较省级积分、缴纳社保积分、申请时间。"
        ),
        "rules_url": "https://www.tx.gov.cn/jyj/xsmzn-rx.html",
        "open_from": open_from.isoformat(),
        "open_until": open_until.isoformat(),
        "review_date": (open_until.date() + dt.timedelta(days=5)).isoformat(),
        "eligibility": {
            "min_total": 60,
            "permit_valid": True,
            "child_birth_from": f"{entry_year - 7}-09-01",
            "child_birth_to": f"{entry_year - 6}-08-31",
        },
        "score_basis": {"kind": "total"},
        "tie_breaks": ["provincial_total", "item:provincial.social_insurance", "applied_at"],
        "quotas": [
            {"key": f"school:{key}", "label": label, "places": places, "town": town}
            for key, label, town, places in SCHOOLS
        ],
        "preferences": {"max": 3},
    }


def housing_content(now: dt.datetime) -> dict:
    open_from, open_until = _period(now)
    return {
        "rules_text": (
            "桐乡市新市民公共租赁住房积分配租办法（演示）：持有效居住证、在桐居住满12个月的新市民"
            "可申请；按积分总分从高到低配租，积分相同时依次比较省级积分、扣分较少者、申请时间。"
        ),
        "rules_url": "https://www.tx.gov.cn/zjj/gzf-pz.html",
        "open_from": open_from.isoformat(),
        "open_until": open_until.isoformat(),
        "eligibility": {"min_total": 30, "permit_valid": True, "min_residence_months": 12},
        "score_basis": {"kind": "total"},
        "tie_breaks": ["provincial_total", "deductions_total", "applied_at"],
        "quotas": [
            {"key": "flats:batch-1", "label": "公共租赁住房第一批", "places": 120, "town": None}
        ],
        "preferences": None,
    }


def seed_demo_scenarios(*, now: dt.datetime, enrollments: int = 20) -> DemoScenarios:
    """Define and publish the two demo scenarios (the ``center`` demo account) and have the
    ``clerk`` enroll up to ``enrollments`` residents of their town in the school scenario."""
    users = get_user_model().objects
    center = users.get(username="center")
    year = now.astimezone(CHINA).year
    code, name, en = HOUSING_DEPARTMENT
    housing, _created = Department.objects.get_or_create(
        code=code, defaults={"name": name, "name_en": en}
    )
    wanted = [
        (
            f"school-places-{year}",
            f"{year}年义务教育阶段新市民子女积分入学",
            Department.objects.get(code="education_bureau"),
            school_content(now),
        ),
        (f"public-rental-{year}", f"{year}年公共租赁住房积分配租", housing, housing_content(now)),
    ]
    out = DemoScenarios()
    for scenario_code, scenario_name, department, content in wanted:
        existing = Scenario.objects.filter(code=scenario_code).first()
        if existing is not None:
            version = existing.published_version()
            if version is not None:
                out.versions.append(version)
            continue
        out.versions.append(
            services.define_scenario(
                code=scenario_code,
                name=scenario_name,
                department=department,
                content=content,
                user=center,
                now=now,
                publish=True,
            )
        )
    if enrollments and out.versions:
        out.enrollments = _enroll_some(out.versions[0], count=enrollments, now=now)
    return out


def _enroll_some(version: ScenarioVersion, *, count: int, now: dt.datetime) -> list[Enrollment]:
    from jifen.residents.models import Resident

    users = get_user_model().objects
    clerk = users.get(username="clerk")
    demo_resident = users.get(username="resident").resident_id
    eligibility = version.eligibility
    born_from = dt.date.fromisoformat(eligibility["child_birth_from"])
    keys = [q["key"] for q in version.content["quotas"]]
    residents = (
        Resident.objects.filter(town=clerk.town)
        .exclude(pk=demo_resident)
        .exclude(enrollments__scenario=version.scenario)
        .order_by("created_at", "pk")[:count]
    )
    made: list[Enrollment] = []
    for index, resident in enumerate(residents):
        try:
            made.append(
                services.enroll(
                    scenario=version.scenario,
                    resident=resident,
                    user=clerk,
                    details={
                        "child_birth_date": (born_from + dt.timedelta(days=17 * index)).isoformat()
                    },
                    preferences=[keys[(index + k) % len(keys)] for k in range(3)],
                    now=now - dt.timedelta(minutes=count - index),
                )
            )
        except ScenarioError:
            continue  # e.g. already enrolled: the demo runs again
    return made
