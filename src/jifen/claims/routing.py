"""What may be claimed, and who reviews it.

**Claimable rules.** A claim names a *city rule* of the city policy version in force on the
filing day (China date), other than the rules scored from a provincial profile field
(``education.degree`` reads ``education``). A rule that a *connected* department feed
supplies is not claimable: those points come without application (无感赋分); a resident who
disagrees files a correction instead (``claims.rule_supplied_by_feed``).

A feed (:data:`jifen.feeds.formats.FEEDS`) is *connected* when its sending department holds a
department API token that is not revoked, or when a batch of that feed has been applied. The
formats registry says what a feed *may* carry; whether the department's data actually
arrives is data the center controls by issuing or revoking tokens. (Until a department is
connected its items are reviewed on claims, as the measures' 三(二) says.)

**Routing.** Each claimed rule goes to its responsible department from the routing table
(:class:`jifen.org.models.RuleRoute`, data the center edits). When several departments share a
rule the choice is deterministic:

1. the department the filer named for the item, if it is one of the rule's routes
   (front-line posts: a bus driver names the transport investment group);
2. otherwise a department other than the towns' shared unit (``town``: towns *help* review
   residence, awards and employment, the responsible department leads);
3. then in the order the city policy lists the rule's departments, then by department code.

A rule without any active route is a configuration problem
(``claims.no_responsible_department``). Corrections go to the department that recorded the
disputed fact.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jifen.claims.errors import NoResponsibleDepartment, RuleNotClaimable, RuleSuppliedByFeed
from jifen.engine.policy import Policy, Rule
from jifen.feeds.formats import FEEDS, FeedFormat
from jifen.org.models import Department, RuleRoute

#: The routing table's shared unit for the towns and subdistricts (they help review).
TOWN_HELPER_CODE = "town"


def city_policy(on: dt.date) -> Policy:
    """The city policy version in force on ``on`` (raises ``NoPolicyForDate``)."""
    from jifen.scores.services import select_policies

    return select_policies(on).city


def claimable_rule(policy: Policy, code: str, *, field: str) -> Rule:
    """The city rule ``code`` if a claim may name it; else :class:`RuleNotClaimable`."""
    rule = policy.rules.get(code)
    if rule is None:
        raise RuleNotClaimable(
            _("%(rule)s is not a city rule of the policy in force.") % {"rule": code},
            field=field,
        )
    if rule.field is not None:
        raise RuleNotClaimable(
            _("%(rule)s is scored from the provincial %(field)s data; it cannot be claimed.")
            % {"rule": code, "field": rule.field},
            field=field,
        )
    return rule


def connected_feeds() -> list[FeedFormat]:
    """The feeds whose data arrives: an unrevoked department token, or an applied batch."""
    from jifen.feeds.models import BatchStatus, DepartmentToken, FeedBatch

    with_token = set(
        DepartmentToken.objects.filter(revoked_at__isnull=True).values_list(
            "department__code", flat=True
        )
    )
    with_batch = set(
        FeedBatch.objects.filter(status=BatchStatus.APPLIED).values_list("feed", flat=True)
    )
    return [f for f in FEEDS.values() if f.department in with_token or f.code in with_batch]


def supplying_feed(rule: str) -> FeedFormat | None:
    """The connected feed that supplies ``rule``, if any."""
    for feed in connected_feeds():
        if rule in feed.rules:
            return feed
    return None


def check_not_supplied_by_feed(rule: str, *, field: str) -> None:
    feed = supplying_feed(rule)
    if feed is not None:
        raise RuleSuppliedByFeed(
            _(
                "%(rule)s is scored automatically from the data of %(department)s. "
                "If those points are wrong or your circumstances changed, file a correction "
                "from “my points” instead."
            )
            % {"rule": rule, "department": feed.zh},
            field=field,
        )


def responsible_department(rule: Rule, *, preferred: str = "", field: str) -> Department:
    """The department that reviews claims of ``rule`` (see the module's routing order)."""
    routes = list(
        RuleRoute.objects.filter(Q(rule=rule.ref), department__active=True)
        .select_related("department")
        .order_by("department__code")
    )
    departments = [route.department for route in routes]
    if not departments:
        raise NoResponsibleDepartment(
            _("No department is responsible for %(rule)s; the center must complete the routing "
              "table.") % {"rule": rule.ref},
            field=field,
        )  # fmt: skip
    if preferred:
        for department in departments:
            if department.code == preferred:
                return department
    leading = [d for d in departments if d.code != TOWN_HELPER_CODE] or departments
    order = {code: i for i, code in enumerate(rule.departments)}
    leading.sort(key=lambda d: (order.get(d.code, len(order)), d.code))
    return leading[0]
