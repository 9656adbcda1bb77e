"""Defining scenarios: strict validation naming the field, canonical content and hash,
publication (center only, audited with the hash), immutability of published versions."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from jifen.scenarios import services
from jifen.scenarios.content import content_hash, validate_content
from jifen.scenarios.errors import (
    InvalidScenario,
    NotAllowed,
    TransitionNotAllowed,
    VersionImmutable,
)
from jifen.scenarios.models import Quota, ScenarioVersion, VersionStatus
from tests.factories import make_user
from tests.scenarios.conftest import BEFORE, SCHOOL, actions, last_entry

pytestmark = pytest.mark.django_db


def changed(**changes):
    content = copy.deepcopy(SCHOOL)
    for path, value in changes.items():
        target = content
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        last = keys[-1]
        if value is KeyError:
            del target[last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return content


BAD = [
    ("open_until", changed(open_until="2026-07-01T09:00:00+08:00"), "content.open_until"),
    ("open_until", changed(open_until="2026-06-30T09:00:00+08:00"), "content.open_until"),
    ("naive", changed(open_from="2026-07-01T09:00:00"), "content.open_from"),
    ("fraction", changed(open_from="2026-07-01T09:00:00.5+08:00"), "content.open_from"),
    ("no date", changed(open_from="soon"), "content.open_from"),
    ("missing", changed(open_until=KeyError), "content.open_until"),
    ("review", changed(review_date="2026-06-30"), "content.review_date"),
    ("unknown key", changed(colour="red"), "content.colour"),
    ("rules", changed(rules_text="  "), "content.rules_text"),
    ("url", changed(rules_url="ftp://x"), "content.rules_url"),
    (
        "tie vocab",
        changed(tie_breaks=["provincial_total", "age", "applied_at"]),
        "content.tie_breaks[1]",
    ),
    (
        "tie item",
        changed(
            tie_breaks=[
                "provincial_total",
                "city_bonus_total",
                "item:provincial.charm",
                "applied_at",
            ]
        ),
        "content.tie_breaks[2]",
    ),
    ("tie section", changed(tie_breaks=["item:county.age", "applied_at"]), "content.tie_breaks[0]"),
    ("tie last", changed(tie_breaks=["applied_at", "provincial_total"]), "content.tie_breaks[0]"),
    ("tie absent", changed(tie_breaks=["provincial_total"]), "content.tie_breaks"),
    (
        "tie twice",
        changed(tie_breaks=["provincial_total", "provincial_total", "applied_at"]),
        "content.tie_breaks[1]",
    ),
    ("basis kind", changed(score_basis={"kind": "some"}), "content.score_basis.kind"),
    (
        "basis item",
        changed(score_basis={"kind": "items", "items": ["provincial.age", "city.x"]}),
        "content.score_basis.items[1]",
    ),
    (
        "basis empty",
        changed(score_basis={"kind": "items", "items": []}),
        "content.score_basis.items",
    ),
    ("quotas empty", changed(quotas=[]), "content.quotas"),
    ("places", changed(quotas__1__places=0), "content.quotas[1].places"),
    ("places bool", changed(quotas__1__places=True), "content.quotas[1].places"),
    ("key twice", changed(quotas__2__key="school:wutong-1"), "content.quotas[2].key"),
    ("bad key", changed(quotas__0__key="School A"), "content.quotas[0].key"),
    ("town", changed(quotas__0__town="atlantis"), "content.quotas[0].town"),
    ("label", changed(quotas__0__label=""), "content.quotas[0].label"),
    ("prefs max", changed(preferences={"max": 4}), "content.preferences.max"),
    ("prefs zero", changed(preferences={"max": 0}), "content.preferences.max"),
    ("prefs none", changed(preferences=None), "content.preferences"),
    ("min_total", changed(eligibility__min_total="60.555"), "content.eligibility.min_total"),
    ("min_total neg", changed(eligibility__min_total=-1), "content.eligibility.min_total"),
    (
        "birth half",
        changed(eligibility__child_birth_to=KeyError),
        "content.eligibility.child_birth_to",
    ),
    (
        "birth order",
        changed(eligibility__child_birth_to="2018-01-01"),
        "content.eligibility.child_birth_to",
    ),
    (
        "months",
        changed(eligibility__min_residence_months=-3),
        "content.eligibility.min_residence_months",
    ),
    ("eligibility key", changed(eligibility__max_age=3), "content.eligibility.max_age"),
    (
        "no policy",
        changed(
            open_from="2020-07-01T09:00:00+08:00",
            open_until="2020-07-02T09:00:00+08:00",
            review_date=KeyError,
        ),
        "content.evaluation_date",
    ),
]


@pytest.mark.parametrize(("case", "content", "field"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_definition_is_refused_naming_the_field(case, content, field):
    with pytest.raises(InvalidScenario) as caught:
        validate_content(content)
    assert caught.value.field == field, caught.value.message
    assert caught.value.as_dict()["message"]


def test_evaluation_date_defaults_to_the_opening_date_in_china_time():
    # 23:30 UTC on 30 June is 07:30 on 1 July in Tongxiang.
    content = changed(
        open_from="2026-06-30T23:30:00+00:00", review_date=KeyError, preferences={"max": 2}
    )
    canonical = validate_content(content)
    assert canonical["open_from"] == "2026-07-01T07:30:00+08:00"
    assert canonical["evaluation_date"] == "2026-07-01"
    assert canonical["review_date"] == "2026-07-01"  # default: the evaluation date
    assert canonical["preferences"] == {"max": 2}


def test_an_explicit_evaluation_date_is_kept():
    canonical = validate_content(changed(evaluation_date="2026-06-30"))
    assert canonical["evaluation_date"] == "2026-06-30"


def test_the_hash_ignores_key_order_and_spelling_of_equal_values():
    a = validate_content(SCHOOL)
    reordered = dict(reversed(list(copy.deepcopy(SCHOOL).items())))
    reordered["eligibility"]["min_total"] = "60.00"
    reordered["open_from"] = "2026-07-01T01:00:00+00:00"
    b = validate_content(reordered)
    assert a == b and content_hash(a) == content_hash(b)
    assert content_hash(validate_content(changed(quotas__0__places=3))) != content_hash(a)


def test_only_the_center_defines_and_publishes(education, content):
    reviewer = make_user("reviewer", department=education)
    with pytest.raises(NotAllowed) as caught:
        services.create_scenario(
            code="school", name="入学", department=education, user=reviewer, now=BEFORE
        )
    assert caught.value.code == "scenarios.not_allowed"


def test_publication_is_audited_with_the_hash_and_stores_the_quotas(version, center):
    assert version.status == VersionStatus.PUBLISHED
    assert version.content_hash == content_hash(version.content)
    entry = last_entry("scenario.published")
    assert entry.data["content_hash"] == version.content_hash
    assert entry.data["scenario"] == "school-2026" and entry.data["places"] == 4
    assert actions(version) == ["scenario.version_drafted", "scenario.published"]
    assert list(
        Quota.objects.filter(version=version).values_list("key", "places", "town__code")
    ) == [
        ("school:wutong-1", 2, "wutong"),
        ("school:puyuan-1", 1, "puyuan"),
        ("school:wuzhen-1", 1, "wuzhen"),
    ]
    assert version.evaluation_date == dt.date(2026, 7, 1)
    assert version.review_date == dt.date(2026, 7, 20)


def test_a_published_version_is_immutable(version, center, content):
    version.content = {**version.content, "rules_text": "changed"}
    with pytest.raises(VersionImmutable) as caught:
        version.save()
    assert caught.value.code == "scenarios.version_immutable" and caught.value.field == "content"
    version.refresh_from_db()
    with pytest.raises(TransitionNotAllowed):
        services.draft_version(
            scenario=version.scenario, content=content, user=center, now=BEFORE, version=version
        )
    with pytest.raises(TransitionNotAllowed):
        services.publish_version(version, user=center, now=BEFORE)
    version.refresh_from_db()
    assert version.content["rules_text"] == SCHOOL["rules_text"]


def test_a_draft_can_be_changed_and_a_new_version_supersedes_the_published(version, center):
    draft = services.draft_version(
        scenario=version.scenario, content=changed(quotas__0__places=5), user=center, now=BEFORE
    )
    assert draft.number == 2 and draft.status == VersionStatus.DRAFT
    draft = services.draft_version(
        scenario=version.scenario,
        content=changed(quotas__0__places=6),
        user=center,
        now=BEFORE,
        version=draft,
    )
    assert draft.content["quotas"][0]["places"] == 6
    services.publish_version(draft, user=center, now=BEFORE)
    version.refresh_from_db()
    assert version.status == VersionStatus.WITHDRAWN
    assert version.content["quotas"][0]["places"] == 2  # unchanged
    assert (
        ScenarioVersion.objects.filter(
            scenario=version.scenario, status=VersionStatus.PUBLISHED
        ).get()
        == draft
    )


def test_a_period_already_over_cannot_be_published(center, education, content):
    with pytest.raises(InvalidScenario) as caught:
        services.define_scenario(
            code="late",
            name="迟到",
            department=education,
            content=content,
            user=center,
            now=dt.datetime(2026, 7, 15, 17, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
            publish=True,
        )
    assert caught.value.field == "content.open_until"
    assert "2026-07-15 17:00:00" in caught.value.message


def test_a_duplicate_code_is_refused_naming_the_code(version, center, education):
    with pytest.raises(InvalidScenario) as caught:
        services.create_scenario(
            code="school-2026", name="again", department=education, user=center, now=BEFORE
        )
    assert caught.value.field == "code"
