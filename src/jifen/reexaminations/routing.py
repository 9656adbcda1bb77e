"""Who answers a re-examination: the department behind the disputed item.

The disputed item is a key of the enrollment's breakdown: ``provincial.<item>``,
``city.<item>`` or ``deductions``. Its *fact codes* come from the policies in force on the
scenario's evaluation date: a rule's profile field (``social_insurance_months``) and, for a
city rule, its reference (``charity.blood_donation``); for ``deductions`` every deduction
code. The department is then, deterministically:

1. the department that recorded the resident's current fact for one of those codes — the most
   recently recorded one (then the highest fact id): it scored the item and explains it (四:
   "each department scores only its own indicators and explains its scores"), as claims'
   corrections go to the department that recorded the disputed fact;
2. without such a fact (the item scored nothing), the routing table
   (:class:`jifen.org.models.RuleRoute`, the center's data) for those codes, in the order of
   :mod:`jifen.claims.routing`: a department other than the towns' shared unit first, then the
   order the policy lists the rule's departments, then the department code.

No department at all is a configuration problem (``reexaminations.no_responsible_department``).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jifen.claims.routing import TOWN_HELPER_CODE
from jifen.engine import PolicySelection
from jifen.facts.models import Fact
from jifen.org.models import Department, RuleRoute
from jifen.reexaminations.errors import InvalidReexamination, NoResponsibleDepartment

DEDUCTIONS = "deductions"


def item_codes(item: str, selection: PolicySelection, *, field: str = "item") -> list[str]:
    """The fact codes behind ``item``, with the departments the policy names, in order."""
    return [code for code, _departments in _codes(item, selection, field=field)]


def _codes(item: str, selection: PolicySelection, *, field: str) -> list[tuple[str, tuple]]:
    if item == DEDUCTIONS:
        return [(d.code, tuple(d.departments)) for d in selection.city.deductions] + [
            (d.code, tuple(d.departments)) for d in selection.provincial.deductions
        ]
    section, _sep, code = item.partition(".")
    policy = {"provincial": selection.provincial, "city": selection.city}.get(section)
    found = None
    if policy is not None:
        found = next((i for i in policy.items if i.code == code), None)
    if found is None:
        raise InvalidReexamination(
            _("%(item)s is not an item of the points.") % {"item": item}, field=field
        )
    codes: list[tuple[str, tuple]] = []
    for rule in found.rules:
        names = []
        if rule.field is not None:
            names.append(rule.field)
            if rule.months_since_field is not None:
                names.append(rule.months_since_field)
        if rule.field is None or section == "city":
            names.append(rule.ref)
        codes.extend((name, tuple(rule.departments)) for name in names)
    return codes


def responsible_department(
    resident_id, item: str, *, on: dt.date, field: str = "item"
) -> Department:
    """The department that answers a re-examination of ``item`` (see the module)."""
    from jifen.scores.services import select_policies

    codes = _codes(item, select_policies(on), field=field)
    names = [code for code, _departments in codes]
    fact = (
        Fact.objects.current()
        .filter(resident_id=resident_id, code__in=names, department__active=True)
        .select_related("department")
        .order_by("-recorded_at", "-pk")
        .first()
    )
    if fact is not None:
        return fact.department
    order: dict[str, int] = {}
    for _code, departments in codes:
        for department in departments:
            order.setdefault(department, len(order))
    routes = list(
        RuleRoute.objects.filter(Q(rule__in=names), department__active=True).select_related(
            "department"
        )
    )
    departments = list({route.department.pk: route.department for route in routes}.values())
    if not departments:
        raise NoResponsibleDepartment(
            _(
                "No department is responsible for %(item)s; the center must complete the "
                "routing table."
            )
            % {"item": item},
            field=field,
        )
    departments.sort(
        key=lambda d: (d.code == TOWN_HELPER_CODE, order.get(d.code, len(order)), d.code)
    )
    return departments[0]
