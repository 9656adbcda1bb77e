"""Demo claims and corrections, so the portal, the review queue and the dashboard open on work.

Everything goes through the real claim and review services (with their audit entries and
notifications). The demo resident claims a town commendation (no feed carries it), which the
center approves: their points rise. The window clerk files corrections of facts the
human-resources bureau sent about residents of their town, which the bureau's reviewer
leaves in the states a queue shows: waiting for acceptance, accepted with a deadline,
waiting for materials.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model

from jifen.claims import services
from jifen.claims.models import Claim
from jifen.facts.models import Fact
from jifen.scores.services import china_date

#: The rule the demo resident claims (a town commendation; no department feed carries it).
CLAIMED_RULE = "honours.commendation"
#: How many facts of the reviewer's department the clerk's corrections dispute.
CORRECTIONS = 3


@dataclass(frozen=True)
class DemoClaims:
    claims: list[Claim]


def seed_demo_claims(*, now: dt.datetime) -> DemoClaims:
    """File the demo claims and take the corrections through review (demo accounts needed)."""
    users = get_user_model().objects
    resident_user = users.get(username="resident")
    clerk = users.get(username="clerk")
    reviewer = users.get(username="reviewer")
    center = users.get(username="center")
    today = china_date(now)

    claims = [
        services.submit_claim(
            resident=resident_user.resident,
            user=resident_user,
            items=[
                services.ClaimItemInput(
                    rule=CLAIMED_RULE,
                    level="county",
                    date=today - dt.timedelta(days=200),
                    statement="县级优秀新市民表彰（演示数据）",
                )
            ],
            now=now,
        )
    ]

    disputed = (
        Fact.objects.current()
        .filter(department=reviewer.department, resident__town=clerk.town)
        .select_related("resident")
        .order_by("resident__created_at", "code", "pk")[:CORRECTIONS]
    )
    for fact in disputed:
        proposed = None
        if fact.quantity is not None:
            proposed = services.ClaimItemInput(rule=fact.code, quantity=int(fact.quantity) + 6)
        claims.append(
            services.file_correction(
                resident=fact.resident,
                user=clerk,
                fact=fact,
                statement="部门数据未包含最近的记录，申请更正（演示数据）",
                proposed=proposed,
                now=now,
            )
        )

    # The reviewer's queue: the first waits for acceptance, the second is accepted, the
    # third waits for materials.
    tasks = [claim.tasks.get() for claim in claims[1:]]
    if len(tasks) > 1:
        services.accept(tasks[1], user=reviewer, now=now)
    if len(tasks) > 2:
        services.request_materials(
            tasks[2],
            user=reviewer,
            items=["劳动合同或参保缴费凭证原件", "用人单位出具的在岗证明"],
            now=now,
        )
    # The center reviews for the towns' shared unit in the demo and approves the commendation.
    task = services.accept(claims[0].tasks.get(), user=center, now=now)
    services.decide(
        task,
        user=center,
        decisions=[
            services.ItemDecision(item=item, outcome="approved") for item in task.items.all()
        ],
        now=now,
    )
    return DemoClaims(claims=claims)
