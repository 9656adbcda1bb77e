"""The demo's published list: a third scenario whose open period is over.

职业技能培训补贴名额 — places on the city's subsidised skills-training courses (the human
resources and social security bureau) — is defined, enrolled, evaluated, frozen and published
through the real services at the dates they would have happened (time is an argument): the
open period ran from 25 to 12 days before ``now``; the list was frozen six days ago and is
published from today for the minimum five working days, so the public list (公示) is up, the
re-examination window open and the demo resident on the list. The window clerk enrolled
applicants of their town; the demo resident enrolled themselves. Calling it again changes
nothing (the scenario is found by its code).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model

from jifen.org.models import Department
from jifen.rankings.models import Publication
from jifen.rankings.services import freeze_ranking, minimum_end, publish
from jifen.scenarios import services as scenarios
from jifen.scenarios.errors import ScenarioError
from jifen.scenarios.models import Scenario

CHINA = ZoneInfo("Asia/Shanghai")
PLACES = 12


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), CHINA)


def training_content(now: dt.datetime) -> dict:
    today = now.astimezone(CHINA).date()
    open_from = _at(today - dt.timedelta(days=25), 9)
    open_until = _at(today - dt.timedelta(days=12), 17)
    return {
        "rules_text": (
            "桐乡市新市民职业技能培训补贴名额积分分配办法（演示）：持有效居住证、积分不低于30分的"
            "新市民可申请；按积分总分从高到低分配名额，积分相同时依次比较省级积分、申请时间。"
        ),
        "rules_url": "https://www.tx.gov.cn/rsj/jnpx-bt.html",
        "open_from": open_from.isoformat(),
        "open_until": open_until.isoformat(),
        "review_date": (open_until.date() + dt.timedelta(days=5)).isoformat(),
        "eligibility": {"min_total": 30, "permit_valid": True},
        "score_basis": {"kind": "total"},
        "tie_breaks": ["provincial_total", "applied_at"],
        "quotas": [
            {"key": "training:batch-1", "label": "技能培训第一期", "places": PLACES, "town": None}
        ],
        "preferences": None,
    }


def seed_demo_publication(*, now: dt.datetime, applicants: int = 30) -> Publication | None:
    """Run the training scenario from definition to a publication starting today; None when
    it exists already."""
    from jifen.residents.models import Resident

    year = now.astimezone(CHINA).year
    code = f"skills-training-{year}"
    if Scenario.objects.filter(code=code).exists():
        return None
    users = get_user_model().objects
    center, clerk, resident = (users.get(username=u) for u in ("center", "clerk", "resident"))
    content = training_content(now)
    open_from = dt.datetime.fromisoformat(content["open_from"])
    open_until = dt.datetime.fromisoformat(content["open_until"])
    version = scenarios.define_scenario(
        code=code,
        name=f"{year}年新市民职业技能培训补贴名额",
        department=Department.objects.get(code="hrss_bureau"),
        content=content,
        user=center,
        now=open_from - dt.timedelta(days=2),
        publish=True,
    )
    scenario = version.scenario
    town_residents = (
        Resident.objects.filter(town=clerk.town)
        .exclude(pk=resident.resident_id)
        .order_by("created_at", "pk")[:applicants]
    )
    filings = [(r, clerk) for r in town_residents]
    filings.insert(len(filings) // 3, (resident.resident, resident))
    for index, (applicant, user) in enumerate(filings):
        try:
            scenarios.enroll(
                scenario=scenario,
                resident=applicant,
                user=user,
                now=open_from + dt.timedelta(hours=1, minutes=7 * index),
            )
        except ScenarioError:
            continue  # e.g. the permit lapsed in the demo population
    frozen_at = _at(open_until.date() + dt.timedelta(days=6), 10)
    scenarios.evaluate_enrollments(version, now=frozen_at - dt.timedelta(hours=2), user=center)
    ranking = freeze_ranking(version=version, user=center, now=frozen_at)
    today = now.astimezone(CHINA).date()
    return publish(
        ranking=ranking,
        starts_on=today,
        ends_on=minimum_end(today, now=now),
        user=center,
        now=now,
    )
