"""The routing table (department → the rules it is responsible for), seeded from the policies.

A route's ``rule`` is written the way facts are: a provincial profile field (``education``,
``birth_date``), a city rule (``charity.blood_donation``) or a deduction code (``usury``).
The policy files name each rule's departments; :func:`routes_from_policies` turns that into
route pairs and :func:`sync_routes_from_policies` adds the missing ones to the table. The table
stays data the center edits: syncing never removes a route unless asked to (``prune``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from jifen.audit.actors import Actor
from jifen.audit.services import record
from jifen.engine import Policy, PolicySet
from jifen.org.models import Department, RuleRoute

#: The system actor that syncs routes when the caller names none (a command, a migration).
SYNC_ACTOR = "policy:routes"


def route_rules(policy: Policy) -> list[tuple[str, str]]:
    """``(rule, department code)`` pairs of one policy version, in file order.

    A rule that reads a profile field is routed under the field (and its ``months_since``
    date field): that is what a feed or claim carries. City rules are also routed under their
    own code, so a claim for ``education.degree`` finds its reviewer.
    """
    pairs: list[tuple[str, str]] = []
    for item in policy.items:
        for rule in item.rules:
            names: list[str] = []
            if rule.field is not None:
                names.append(rule.field)
                if rule.months_since_field is not None:
                    names.append(rule.months_since_field)
                if policy.tier == "city":
                    names.append(rule.ref)
            else:
                names.append(rule.ref)
            pairs.extend((name, dept) for name in names for dept in rule.departments)
    for deduction in policy.deductions:
        pairs.extend((deduction.code, dept) for dept in deduction.departments)
    return pairs


def routes_from_policies(policies: PolicySet | Iterable[Policy]) -> list[tuple[str, str]]:
    """The route pairs of every loaded version, without duplicates, sorted."""
    versions = policies.policies if isinstance(policies, PolicySet) else policies
    return sorted({pair for policy in versions for pair in route_rules(policy)})


@dataclass(frozen=True)
class SyncReport:
    created: tuple[tuple[str, str], ...]
    removed: tuple[tuple[str, str], ...]
    unknown_departments: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.created or self.removed)


def sync_routes_from_policies(
    policies: PolicySet | Iterable[Policy],
    *,
    now: dt.datetime | None = None,
    actor: Actor | None = None,
    prune: bool = False,
) -> SyncReport:
    """Add the routes the policies name and the table lacks; with ``prune``, also remove
    routes no policy names. Departments unknown to the database are reported, not created.

    A change is audited as ``org.routes_synced`` (``actor`` defaults to the system actor
    ``policy:routes``, ``now`` to the current time).
    """
    wanted = routes_from_policies(policies)
    departments = {d.code: d for d in Department.objects.all()}
    unknown = sorted({dept for _, dept in wanted if dept not in departments})
    wanted_known = {(rule, dept) for rule, dept in wanted if dept in departments}
    with transaction.atomic():
        existing = set(RuleRoute.objects.values_list("rule", "department__code"))
        missing = sorted(wanted_known - existing)
        RuleRoute.objects.bulk_create(
            [RuleRoute(rule=rule, department=departments[dept]) for rule, dept in missing]
        )
        removed: list[tuple[str, str]] = []
        if prune:
            removed = sorted(existing - wanted_known)
            for rule, dept in removed:
                RuleRoute.objects.filter(rule=rule, department__code=dept).delete()
        report = SyncReport(tuple(missing), tuple(removed), tuple(unknown))
        if report.changed:
            record(
                "org.routes_synced",
                actor=actor or Actor.system(SYNC_ACTOR),
                occurred_at=now or timezone.now(),
                object_type="org.ruleroute",
                data={
                    "created": [f"{rule}→{dept}" for rule, dept in missing],
                    "removed": [f"{rule}→{dept}" for rule, dept in removed],
                },
            )
    return report


def rules_of_departments(department_codes: Iterable[str]) -> dict[str, list[str]]:
    """``rule → [department codes]`` for the given departments, from the routing table."""
    routes: dict[str, list[str]] = {}
    codes = list(department_codes)
    query = RuleRoute.objects.filter(department__code__in=codes).values_list(
        "rule", "department__code"
    )
    for rule, dept in query:
        routes.setdefault(rule, []).append(dept)
    order = {code: i for i, code in enumerate(codes)}
    for depts in routes.values():
        depts.sort(key=order.__getitem__)
    return routes
