"""The feed registry, the routing table it relies on, and the generated docs/feeds/ pages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from jifen import PROJECT_ROOT
from jifen.audit.actors import Actor
from jifen.audit.models import AuditEntry
from jifen.engine.policy import PROFILE_FIELDS
from jifen.feeds import docgen
from jifen.feeds.formats import FEEDS, feeds_of_department
from jifen.org.models import Department, RuleRoute
from jifen.org.routing import routes_from_policies, rules_of_departments, sync_routes_from_policies
from jifen.scores.policies import current_policies

DOCS = Path(PROJECT_ROOT) / "docs" / "feeds"
pytestmark = pytest.mark.django_db


def test_every_feed_department_exists_and_sends_one_feed():
    codes = set(Department.objects.values_list("code", flat=True))
    for feed in FEEDS.values():
        assert set(feed.departments) <= codes, feed.code
        assert feed.departments[0] == feed.department
    senders = [f.department for f in FEEDS.values()]
    assert len(senders) == len(set(senders))
    assert [f.code for f in feeds_of_department("court")] == ["court"]


def test_the_routing_table_is_seeded_from_the_policies():
    wanted = set(routes_from_policies(current_policies()))
    stored = set(RuleRoute.objects.values_list("rule", "department__code"))
    assert wanted == stored
    assert ("charity.donation", "red_cross") in stored
    assert ("charity.donation", "charity_federation") in stored
    assert ("education", "zj_education") in stored and ("education", "education_bureau") in stored
    assert ("residence_registered_on", "zj_public_security") in stored


def test_each_feed_documents_exactly_the_rules_its_departments_are_routed():
    policies = current_policies()
    selection = docgen.documented_selection(policies)
    scored = set(PROFILE_FIELDS) | set(selection.city.deductions_by_code)
    scored |= {ref for ref, rule in selection.city.rules.items() if rule.field is None}
    for feed in FEEDS.values():
        routed = set(rules_of_departments(feed.departments)) & scored
        assert set(feed.rules) == routed, feed.code


def test_every_rule_with_a_data_department_is_covered_by_some_feed():
    covered = {rule for feed in FEEDS.values() for rule in feed.rules}
    selection = docgen.documented_selection(current_policies())
    for ref, rule in selection.city.rules.items():
        if rule.field is None and rule.departments != ("town",):
            assert ref in covered, ref
    assert set(selection.city.deductions_by_code) <= covered
    assert set(PROFILE_FIELDS) <= covered


def test_a_removed_route_stops_a_department_from_sending_the_rule(run_import, resident_factory):
    RuleRoute.objects.filter(rule="honours.skill_contest").delete()
    resident = resident_factory()
    batch = run_import(
        "hrss",
        f"identity_number,record_id,rule,level,date\n"
        f"{resident.identity_number},C-1,honours.skill_contest,city,2024-05-01\n",
    )
    assert batch.report[0]["code"] == "not_this_department"


def test_sync_adds_missing_routes_audits_and_keeps_center_edits():
    now = dt.datetime(2025, 6, 2, 1, 0, tzinfo=dt.UTC)
    RuleRoute.objects.filter(rule="usury").delete()
    extra = RuleRoute.objects.create(
        rule="usury", department=Department.objects.get(code="tax_bureau")
    )
    report = sync_routes_from_policies(current_policies(), now=now, actor=Actor.system("test:sync"))
    assert report.created == (("usury", "court"),)
    assert report.removed == () and RuleRoute.objects.filter(pk=extra.pk).exists()
    entry = AuditEntry.objects.get(action="org.routes_synced")
    assert entry.data["created"] == ["usury→court"] and entry.actor_id == "test:sync"

    again = sync_routes_from_policies(current_policies(), now=now)
    assert not again.changed
    assert AuditEntry.objects.filter(action="org.routes_synced").count() == 1

    pruned = sync_routes_from_policies(current_policies(), now=now, prune=True)
    assert pruned.removed == (("usury", "tax_bureau"),)
    assert not RuleRoute.objects.filter(pk=extra.pk).exists()


def test_the_docs_pages_are_generated_from_the_registry_and_up_to_date():
    assert docgen.stale_pages(DOCS, current_policies()) == [], (
        "run: jifen feeds docs --write docs/feeds"
    )
    readme = (DOCS / "README.md").read_text(encoding="utf-8")
    for code in FEEDS:
        assert f"({code}.md)" in readme, code
